//! Where the edges read the time: the system clock in Lambda, a clock the test moves in tests.
//! Every "now" of the pipeline and the health check comes from here, never from `Utc::now()`
//! directly, so leases, silences and timestamps can be tested without waiting.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system's UTC clock.
    pub fn system() -> Self {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that runs with the system's but `offset` ahead of it (a movable test clock: see
    /// [`ManualOffset`]).
    pub fn offset(offset: ManualOffset) -> Self {
        Clock(Arc::new(move || Utc::now() + offset.get()))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// A shared, movable offset from the system time.
#[derive(Clone, Default, Debug)]
pub struct ManualOffset(Arc<Mutex<Duration>>);

impl ManualOffset {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }

    pub fn get(&self) -> Duration {
        *self.0.lock().expect("clock lock")
    }
}
