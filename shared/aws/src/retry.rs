//! The one retry policy of the AWS edges (which failures are worth retrying is
//! [`crate::error`]'s to say: [`Classified`]).
//!
//! Every retry of billwatch's own (on top of the SDK's) waits by [`Policy`]: exponential backoff
//! built on backon's [`ExponentialBuilder`], with "full jitter" (a uniformly random wait between
//! 0 and the exponential ceiling, as AWS's architecture guidance recommends, so that many callers
//! throttled together do not come back together). It retries what is transient by its
//! [`Classified::class`]: throttling, server errors, dropped connections.

use crate::error::{Classified, ErrorClass};
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder, Retryable};
use std::future::Future;
use std::time::Duration;

/// How often and how long to retry: up to `retries` retries after the first attempt, the
/// `n`-th (from 0) after a random wait of at most `min(cap, first · 2ⁿ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub retries: usize,
    pub first: Duration,
    pub cap: Duration,
}

impl Policy {
    /// One byte range of a report object (each attempt is one SDK call, which has already
    /// retried itself): 4 retries, ceilings of 200 ms doubling to 5 s.
    pub const S3_RANGE: Policy = Policy {
        retries: 4,
        first: Duration::from_millis(200),
        cap: Duration::from_secs(5),
    };

    /// Marking a published alert: SNS has accepted the message, and an unmarked claim would be
    /// published again once its lease runs out. 4 retries, ceilings of 400 ms doubling to 3.2 s.
    pub const MARK_PUBLISHED: Policy = Policy {
        retries: 4,
        first: Duration::from_millis(400),
        cap: Duration::from_millis(3_200),
    };

    /// Resending a `BatchWriteItem` chunk (unprocessed items, or the chunk throttled as a
    /// whole), as DynamoDB's documentation asks: ceilings of 50 ms doubling to 5 s, without a
    /// count of its own (the batch gives up by its count of attempts without progress).
    pub const BATCH_WRITE: Policy = Policy {
        retries: usize::MAX,
        first: Duration::from_millis(50),
        cap: Duration::from_secs(5),
    };

    /// The waits before each retry, in order (`None` once the retries are spent).
    pub fn waits(self) -> Waits {
        self.build()
    }
}

impl BackoffBuilder for Policy {
    type Backoff = Waits;

    fn build(self) -> Waits {
        Waits {
            ceilings: ExponentialBuilder::new()
                .with_factor(2.0)
                .with_min_delay(self.first)
                .with_max_delay(self.cap)
                .with_max_times(self.retries)
                .build(),
        }
    }
}

/// The waits of a [`Policy`]: backon's exponential ceilings, each drawn down to a uniformly random
/// wait below it.
#[derive(Debug)]
pub struct Waits {
    ceilings: ExponentialBackoff,
}

impl Iterator for Waits {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let ceiling = self.ceilings.next()?;
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        Some(Duration::from_micros(fastrand::u64(0..=micros)))
    }
}

/// How a failed invocation reaches Lambda (and the failure destination): the error type
/// `billwatch.transient` or `billwatch.permanent`, so whoever reads it sees whether a retry can
/// help, and the message.
#[cfg(feature = "lambda")]
pub fn diagnostic(e: impl Classified) -> lambda_runtime::Diagnostic {
    lambda_runtime::Diagnostic {
        error_type: format!("billwatch.{}", e.class().as_str()),
        error_message: e.to_string(),
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `policy`'s retries are spent; every retry
/// is logged as a warning naming `what` failed.
pub async fn retry<T, E, F, Fut>(policy: Policy, what: &str, attempt: F) -> Result<T, E>
where
    E: Classified,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    attempt
        .retry(policy)
        .when(|e: &E| e.class() == ErrorClass::Transient)
        .notify(|e: &E, pause: Duration| {
            tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, "{what} failed; retrying");
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CallError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[cfg(feature = "lambda")]
    #[test]
    fn a_failure_reaches_lambda_with_its_class_as_the_error_type() {
        let error = |class| CallError {
            code: Some("ThrottlingException".into()),
            status: Some(400),
            message: "slow down".into(),
            class,
        };
        let d = diagnostic(error(ErrorClass::Transient));
        assert_eq!(d.error_type, "billwatch.transient");
        assert_eq!(d.error_message, error(ErrorClass::Transient).to_string());
        assert_eq!(
            diagnostic(error(ErrorClass::Permanent)).error_type,
            "billwatch.permanent"
        );
    }

    #[test]
    fn waits_are_random_below_an_exponential_ceiling_and_capped() {
        let policy = Policy::BATCH_WRITE;
        let mut longest = [Duration::ZERO; 12];
        for _ in 0..200 {
            for (retry, (wait, longest)) in policy.waits().zip(longest.iter_mut()).enumerate() {
                assert!(wait <= Duration::from_millis(5_000.min(50 << retry)));
                *longest = (*longest).max(wait);
            }
        }
        // Jittered, yet growing: the longest of 200 draws is near its ceiling.
        assert!(longest[0] <= Duration::from_millis(50));
        assert!(longest[3] > Duration::from_millis(200));
        assert!(longest[11] > Duration::from_millis(2_500));
        assert!(policy.waits().nth(40).unwrap() <= Duration::from_secs(5));
    }

    #[test]
    fn a_policy_stops_after_its_retries() {
        assert_eq!(Policy::S3_RANGE.waits().count(), 4);
        assert_eq!(Policy::MARK_PUBLISHED.waits().count(), 4);
        let ceilings = [400, 800, 1_600, 3_200];
        for (wait, ceiling) in Policy::MARK_PUBLISHED.waits().zip(ceilings) {
            assert!(wait <= Duration::from_millis(ceiling), "{wait:?}");
        }
    }

    fn failure(class: ErrorClass) -> CallError {
        CallError {
            code: None,
            status: None,
            message: "x".into(),
            class,
        }
    }

    const QUICK: Policy = Policy {
        retries: 3,
        first: Duration::from_millis(1),
        cap: Duration::from_millis(2),
    };

    #[tokio::test]
    async fn transient_failures_are_retried_until_the_retries_are_spent() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = retry(QUICK, "a test call", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(failure(ErrorClass::Transient))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "the first attempt and 3 retries"
        );

        let calls = AtomicUsize::new(0);
        let result = retry(QUICK, "a test call", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(failure(ErrorClass::Transient)),
                n => Ok(n),
            }
        })
        .await;
        assert_eq!(result.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_retried() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = retry(QUICK, "a test call", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(failure(ErrorClass::Permanent))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
