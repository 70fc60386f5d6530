//! Channels' edge (docs/channels.md): the copy of an alert for each channel its budget names,
//! claimed, posted and marked on its own ([`send`]), with the URLs and keys read from Parameter
//! Store or Secrets Manager ([`secrets`]) over an HTTPS client ([`http`]). The core decides what
//! each service is sent and what its answer means (`billwatch_core::channel`).

pub mod http;
pub mod secrets;
pub mod send;

use crate::store::{BudgetsStore, StoreError};
use billwatch_core::channel::{answer::Backoff, targets, Channel};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the channels and budgets read are used before they are read again.
const BOOK_KEEP: Duration = Duration::from_secs(60);

/// The channels declared and which budget names which: what a copy needs to find its channel.
#[derive(Debug, Clone, Default)]
pub struct Book {
    pub channels: Vec<Channel>,
    pub by_budget: HashMap<String, Vec<String>>,
}

impl Book {
    /// The channels an alert of `budget` (None: of no budget) goes to, and the names its budget
    /// gives that no channel carries.
    pub fn targets(&self, budget: Option<&str>) -> (Vec<&Channel>, Vec<String>) {
        match budget {
            None => targets(None, &self.channels),
            // A budget removed since its alert was owed: its channels are not known any more.
            Some(b) => targets(
                Some(self.by_budget.get(b).map_or(&[][..], Vec::as_slice)),
                &self.channels,
            ),
        }
    }
}

/// Everything channel copies are sent with, kept for a warm function's invocations.
#[derive(Debug)]
pub struct Channels {
    budgets: BudgetsStore,
    pub secrets: secrets::Secrets,
    pub http: http::Http,
    /// How one copy is retried within an invocation.
    pub backoff: Backoff,
    book: tokio::sync::Mutex<Option<(Instant, Book)>>,
    /// Channels that used up a copy's retries in this process recently: later copies to them are
    /// left owed at once, so one dead endpoint cannot use up an invocation's time.
    unwell: Mutex<HashMap<String, Instant>>,
}

/// How long a channel that used up its retries is left alone.
const UNWELL_FOR: Duration = Duration::from_secs(60);

impl Channels {
    pub fn new(
        budgets: BudgetsStore,
        ssm: aws_sdk_ssm::Client,
        secrets: aws_sdk_secretsmanager::Client,
    ) -> Self {
        Self {
            budgets,
            secrets: secrets::Secrets::new(ssm, secrets),
            http: http::Http::new(Duration::from_secs(10)),
            backoff: Backoff::INVOCATION,
            book: tokio::sync::Mutex::new(None),
            unwell: Mutex::new(HashMap::new()),
        }
    }

    /// The channels and the budgets' choices, read at most once per [`BOOK_KEEP`]; none
    /// declared costs one read of the settings.
    pub async fn book(&self) -> Result<Book, StoreError> {
        let mut kept = self.book.lock().await;
        if let Some((at, book)) = kept.as_ref() {
            if at.elapsed() < BOOK_KEEP {
                return Ok(book.clone());
            }
        }
        let channels = self.budgets.channels().await?;
        let by_budget = if channels.is_empty() {
            HashMap::new()
        } else {
            self.budgets
                .list()
                .await?
                .into_iter()
                .filter(|b| !b.channels.is_empty())
                .map(|b| (b.name, b.channels))
                .collect()
        };
        let book = Book {
            channels,
            by_budget,
        };
        *kept = Some((Instant::now(), book.clone()));
        Ok(book)
    }

    /// Forgets what was read (the next copy reads the channels and budgets again).
    pub async fn forget(&self) {
        *self.book.lock().await = None;
        if let Ok(mut u) = self.unwell.lock() {
            u.clear();
        }
    }

    fn is_unwell(&self, name: &str) -> bool {
        self.unwell
            .lock()
            .map(|u| u.get(name).is_some_and(|at| at.elapsed() < UNWELL_FOR))
            .unwrap_or(false)
    }

    fn set_unwell(&self, name: &str) {
        if let Ok(mut u) = self.unwell.lock() {
            u.insert(name.to_string(), Instant::now());
        }
    }
}
