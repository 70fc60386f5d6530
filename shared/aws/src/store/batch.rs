//! Many put or delete requests to one table: `BatchWriteItem` in chunks of 25 (its limit), up to
//! [`IN_FLIGHT`] chunks at once. A chunk's unprocessed items, and a chunk throttled as a whole
//! after the SDK's own retries, are sent again after the waits of
//! [`Policy::BATCH_WRITE`](crate::retry::Policy::BATCH_WRITE) (exponential backoff with full
//! jitter, as DynamoDB's documentation asks); a chunk gives up after 10 attempts in a row that
//! wrote nothing ([`Retry::STANDARD`]). The first error stops the rest (chunks in flight are
//! dropped): every request is a put or a delete of a known key, so the caller's retry simply
//! sends them all again.

use super::StoreError;
use crate::retry::Policy;
use aws_sdk_dynamodb::types::WriteRequest;
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::future::Future;

/// `BatchWriteItem`'s limit of requests per call.
pub const CHUNK: usize = 25;
/// Chunks in flight at once. All items of one version share a partition key, whose partition
/// takes at most 1,000 write units a second: two or three calls of 25 sheets (about 17 KB each)
/// already fill it, and more would only be throttled (throttled writes are not charged). Eight
/// keep it full while some calls wait out their backoff, and use the partition's share when
/// DynamoDB splits a hot partition.
pub const IN_FLIGHT: usize = 8;

/// When a chunk is sent again, and when it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in a row that write nothing before a chunk gives up (the invocation then fails
    /// and Lambda retries it).
    pub max_stalls: u32,
    /// The waits between attempts.
    pub waits: Policy,
}

impl Retry {
    pub const STANDARD: Retry = Retry {
        max_stalls: 10,
        waits: Policy::BATCH_WRITE,
    };
}

/// What writing a set of requests took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// `BatchWriteItem` calls made, retries included.
    pub calls: u64,
    /// Requests sent again (unprocessed, or in a throttled call).
    pub resent: u64,
}

impl std::ops::Add for BatchStats {
    type Output = BatchStats;
    fn add(self, other: BatchStats) -> BatchStats {
        BatchStats {
            calls: self.calls + other.calls,
            resent: self.resent + other.resent,
        }
    }
}

/// Writes every request to `table`.
pub async fn write_all(
    client: &Client,
    table: &str,
    requests: Vec<WriteRequest>,
) -> Result<BatchStats, StoreError> {
    drive(requests, IN_FLIGHT, Retry::STANDARD, table, |chunk| {
        send(client, table, chunk)
    })
    .await
}

/// One `BatchWriteItem` call; returns the requests DynamoDB left unprocessed.
async fn send(
    client: &Client,
    table: &str,
    chunk: Vec<WriteRequest>,
) -> Result<Vec<WriteRequest>, StoreError> {
    let out = client
        .batch_write_item()
        .request_items(table, chunk)
        .send()
        .await
        .map_err(|e| StoreError::dynamo("BatchWriteItem", table, e))?;
    Ok(out
        .unprocessed_items()
        .and_then(|m| m.get(table))
        .cloned()
        .unwrap_or_default())
}

/// Sends `requests` in chunks through `send` (which returns what was left unprocessed), at most
/// `in_flight` chunks at a time.
async fn drive<F, Fut>(
    requests: Vec<WriteRequest>,
    in_flight: usize,
    retry: Retry,
    table: &str,
    send: F,
) -> Result<BatchStats, StoreError>
where
    F: Fn(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, StoreError>>,
{
    let mut chunks = Vec::with_capacity(requests.len().div_ceil(CHUNK));
    let mut rest = requests.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(CHUNK).collect::<Vec<_>>());
    }
    let send = &send;
    stream::iter(chunks)
        .map(|chunk| write_chunk(chunk, retry, table, send))
        .buffer_unordered(in_flight.max(1))
        .try_fold(
            BatchStats::default(),
            |sum, one| async move { Ok(sum + one) },
        )
        .await
}

async fn write_chunk<F, Fut>(
    mut pending: Vec<WriteRequest>,
    policy: Retry,
    table: &str,
    send: &F,
) -> Result<BatchStats, StoreError>
where
    F: Fn(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, StoreError>>,
{
    let mut stats = BatchStats::default();
    let mut stalls = 0;
    let mut waits = policy.waits.waits();
    loop {
        stats.calls += 1;
        let sent = pending.len();
        let progress = match send(pending.clone()).await {
            Ok(unprocessed) if unprocessed.is_empty() => return Ok(stats),
            Ok(unprocessed) => {
                let progress = unprocessed.len() < sent;
                pending = unprocessed;
                progress
            }
            Err(e) if e.is_throttling() => false,
            Err(e) => return Err(e),
        };
        stats.resent += pending.len() as u64;
        stalls = if progress { 0 } else { stalls + 1 };
        // A policy with a count of its own may run out first (the standard one has none).
        let wait = (stalls < policy.max_stalls).then(|| waits.next()).flatten();
        let Some(wait) = wait else {
            return Err(StoreError::Incomplete {
                operation: "BatchWriteItem",
                table: table.to_string(),
                message: format!(
                    "{} items still unprocessed after {} attempts, the last {stalls} without progress",
                    pending.len(),
                    stats.calls
                ),
            });
        };
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    fn put(i: usize) -> WriteRequest {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .item("pk", AttributeValue::S(i.to_string()))
                    .build()
                    .unwrap(),
            )
            .build()
    }

    fn key(r: &WriteRequest) -> String {
        r.put_request().unwrap().item()["pk"]
            .as_s()
            .unwrap()
            .clone()
    }

    /// Tiny waits, so that the tests run fast.
    const QUICK: Retry = Retry {
        max_stalls: 3,
        waits: Policy {
            retries: usize::MAX,
            first: std::time::Duration::from_millis(1),
            cap: std::time::Duration::from_millis(2),
        },
    };

    #[tokio::test]
    async fn every_request_is_written_once_in_chunks_of_25_and_unprocessed_ones_are_resent() {
        let written = Mutex::new(Vec::new());
        let calls = AtomicUsize::new(0);
        let stats = drive(
            (0..260).map(put).collect(),
            4,
            QUICK,
            "t",
            |chunk: Vec<WriteRequest>| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                assert!(chunk.len() <= CHUNK);
                // Every third call leaves its last 10 items unprocessed.
                let keep = if n.is_multiple_of(3) && chunk.len() > 10 {
                    chunk.len() - 10
                } else {
                    chunk.len()
                };
                written
                    .lock()
                    .unwrap()
                    .extend(chunk[..keep].iter().map(key));
                let rest = chunk[keep..].to_vec();
                async move { Ok(rest) }
            },
        )
        .await
        .unwrap();
        let mut keys = written.into_inner().unwrap();
        keys.sort_by_key(|k| k.parse::<usize>().unwrap());
        assert_eq!(keys, (0..260).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(stats.calls, calls.load(Ordering::SeqCst) as u64);
        assert!(stats.calls > 11 && stats.resent > 0, "{stats:?}");
    }

    #[tokio::test]
    async fn a_throttled_call_is_resent_and_other_errors_stop_the_writes() {
        let calls = AtomicUsize::new(0);
        let stats = drive((0..30).map(put).collect(), 2, QUICK, "t", |_chunk| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(StoreError::Dynamo {
                        operation: "BatchWriteItem",
                        table: "t".into(),
                        error: crate::error::CallError {
                            code: Some("ProvisionedThroughputExceededException".into()),
                            status: Some(400),
                            message: "slow down".into(),
                            class: crate::error::ErrorClass::Transient,
                        },
                    })
                } else {
                    Ok(Vec::new())
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(stats.calls, 4, "two chunks, each throttled once: {stats:?}");

        let failed = drive((0..100).map(put).collect(), 2, QUICK, "t", |_chunk| async {
            Err(StoreError::Malformed {
                table: "t".into(),
                message: "bad".into(),
            })
        })
        .await;
        assert!(matches!(failed, Err(StoreError::Malformed { .. })));
    }

    #[tokio::test]
    async fn a_chunk_that_makes_no_progress_gives_up() {
        let result = drive(
            (0..5).map(put).collect(),
            1,
            QUICK,
            "t",
            |chunk| async move { Ok(chunk) },
        )
        .await;
        assert!(
            matches!(result, Err(StoreError::Incomplete { .. })),
            "{result:?}"
        );
    }
}
