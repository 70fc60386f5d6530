//! Reading one S3 object as a synchronous `Read` for the report engine: one plain GET for a
//! small object; for a large one, concurrent ranged GETs pinned to one version of it, at most
//! a few held at once, delivered in order, each retried on transient failures.
//!
//! `plan` decides the ranges (pure), `fetch` gets one range of the pinned version, `reader`
//! hands them to the engine in order.

mod fetch;
pub mod plan;
mod reader;

pub use plan::{ByteRange, RangedReads};

use crate::error::CallError;
use fetch::{Pin, Target};
use reader::RangedReader;
use std::io::Read;
use std::sync::{Arc, Mutex};
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;

/// A read that failed for good, with the SDK's class (transient or permanent) kept: the engine
/// sees only an `io::Error`, the pipeline asks the source what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    pub bucket: String,
    pub key: String,
    pub error: CallError,
}

/// Where the readers of one source note their first failure.
pub(crate) type Failures = Arc<Mutex<Option<ReadFailure>>>;

/// Which version of an object to read, when the caller knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Version {
    /// The version id an event named.
    pub(crate) id: Option<String>,
    /// The ETag the object had when it was sized (HEAD); the read is refused if it changed.
    pub(crate) etag: Option<String>,
}

/// Everything one read needs.
pub(crate) struct Reading<'a> {
    pub(crate) client: &'a aws_sdk_s3::Client,
    pub(crate) runtime: &'a Handle,
    pub(crate) reads: RangedReads,
    pub(crate) failures: &'a Failures,
}

impl Reading<'_> {
    /// Opens `bucket/key`: the first GET asks for the whole object (for the version given, if
    /// any); if the object is over the threshold, only its first range is read from that
    /// response and the others are asked for by range, pinned to the version the first
    /// response answered with (by version id if one was given, else by its ETag).
    pub(crate) async fn open(
        &self,
        bucket: &str,
        key: &str,
        version: &Version,
    ) -> Result<Box<dyn Read + Send>, CallError> {
        let mut target = Target {
            client: self.client.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            pin: Pin::ETag(version.etag.clone().unwrap_or_default()),
        };
        let output = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version.id.clone())
            .set_if_match(version.etag.clone())
            .send()
            .await
            .map_err(|e| match CallError::of(&e) {
                error if error.status == Some(412) => target.changed(None),
                error => error,
            })?;
        let len = output.content_length().and_then(|n| u64::try_from(n).ok());
        let pin = match (&version.id, output.e_tag()) {
            (Some(id), _) => Some(Pin::Version(id.clone())),
            (None, Some(etag)) => Some(Pin::ETag(etag.to_string())),
            (None, None) => None,
        };
        match (len, pin) {
            (Some(len), Some(pin)) if self.reads.is_ranged(len) => {
                target.pin = pin;
                tracing::debug!(%bucket, %key, len, range_size = self.reads.range_size,
                    in_flight = self.reads.in_flight, "ranged read");
                Ok(Box::new(RangedReader::start(
                    target,
                    self.runtime.clone(),
                    self.reads,
                    len,
                    output.body,
                    self.failures.clone(),
                )))
            }
            // Small (or of unknown size, or without a version to pin to): one stream.
            _ => Ok(Box::new(SyncIoBridge::new_with_handle(
                output.body.into_async_read(),
                self.runtime.clone(),
            ))),
        }
    }
}
