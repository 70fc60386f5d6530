//! Reading one S3 object for the (synchronous) report engine: one plain GET for a small
//! object; for a large one, concurrent ranged GETs pinned to one version of it, at most a few
//! held at once, delivered in order, each retried on transient failures. Either way the bytes
//! are produced by a task on the runtime and reach the engine through a bounded channel.
//!
//! `plan` decides the ranges (pure), `fetch` gets one range of the pinned version, `reader`
//! carries the chunks from the producing task to the engine.

mod fetch;
pub mod plan;
mod reader;

pub use plan::{ByteRange, RangedReads};

use crate::error::{CallError, ErrorClass};
use billwatch_core::report::{ErrorKind, ReportError, SourceFailure, StreamError};
use fetch::{Pin, Target};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::SystemTime;

/// A read that failed for good (after its retries), with the SDK's error and so its class
/// (transient or permanent). The engine sees it as an `io::Error` that carries it whole: the
/// caller gets it back from the engine's error with [`ReadFailure::of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    pub bucket: String,
    pub key: String,
    pub error: CallError,
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ReadFailure {}

impl ReadFailure {
    /// The engine's error kind for this failure, at opening the object or while reading it.
    pub fn kind(self, opening: bool) -> ErrorKind {
        self.source(opening).kind()
    }

    /// The `io::Error` the engine is handed: `NotFound` for a missing object, like a missing
    /// file's.
    pub fn into_io(self, opening: bool) -> io::Error {
        let kind = match self.error.code.as_deref() {
            Some("NoSuchKey") => io::ErrorKind::NotFound,
            _ => io::ErrorKind::Other,
        };
        self.source(opening).into_io(kind)
    }

    fn source(self, opening: bool) -> SourceFailure {
        SourceFailure {
            opening,
            error: Arc::new(self),
        }
    }

    /// The S3 failure behind an error of the engine, if one caused it.
    pub fn of(error: &ReportError) -> Option<&ReadFailure> {
        Self::in_kind(&error.kind)
    }

    /// The S3 failure an `io::Error` of a read carries, if any.
    pub fn of_io(error: &io::Error) -> Option<&ReadFailure> {
        let StreamError(kind) = error.get_ref()?.downcast_ref::<StreamError>()?;
        Self::in_kind(kind)
    }

    fn in_kind(kind: &ErrorKind) -> Option<&ReadFailure> {
        match kind {
            ErrorKind::Source(source) => source.error.downcast_ref::<ReadFailure>(),
            _ => None,
        }
    }

    /// Whether a retry of the whole read can help.
    pub fn is_transient(&self) -> bool {
        self.error.class == ErrorClass::Transient
    }
}

/// Which version of an object to read, when the caller knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Version {
    /// The version id an event named.
    pub(crate) id: Option<String>,
    /// The ETag the object had when it was sized (HEAD); the read is refused if it changed.
    pub(crate) etag: Option<String>,
}

/// Everything one read needs.
#[derive(Clone)]
pub(crate) struct Reading {
    pub(crate) client: aws_sdk_s3::Client,
    pub(crate) reads: RangedReads,
    /// Reads give up at this time, if any.
    pub(crate) stop: Option<SystemTime>,
}

impl Reading {
    /// Opens `bucket/key`, on the runtime: the first GET asks for the whole object (for the
    /// version given, if any); if the object is over the threshold, only its first range is
    /// read from that response and the others are asked for by range, pinned to the version
    /// the first response answered with (by version id if one was given, else by its ETag).
    /// The bytes are produced by a task spawned here; the reader returned is read from a
    /// blocking thread.
    pub(crate) async fn open(
        &self,
        bucket: &str,
        key: &str,
        version: &Version,
    ) -> Result<Box<dyn Read + Send>, ReadFailure> {
        let failure = |error| ReadFailure {
            bucket: bucket.to_string(),
            key: key.to_string(),
            error,
        };
        let opened = match self.stop {
            Some(stop) => {
                tokio::time::timeout(reader::until(stop), self.first(bucket, key, version))
                    .await
                    .unwrap_or_else(|_| Err(reader::out_of_time()))
            }
            None => self.first(bucket, key, version).await,
        };
        let (target, output) = opened.map_err(failure)?;
        let len = output.content_length().and_then(|n| u64::try_from(n).ok());
        let pin = match (&version.id, output.e_tag()) {
            (Some(id), _) => Some(Pin::Version(id.clone())),
            (None, Some(etag)) => Some(Pin::ETag(etag.to_string())),
            (None, None) => None,
        };
        let reads = self.reads;
        match (len, pin) {
            (Some(len), Some(pin)) if reads.is_ranged(len) => {
                tracing::debug!(%bucket, %key, len, range_size = reads.range_size,
                    in_flight = reads.in_flight, "ranged read");
                // Each range holds a permit; the channel need not hold more than one.
                let (feed, reader) = reader::channel(1, bucket, key, self.stop);
                let target = Target { pin, ..target };
                tokio::spawn(
                    feed.run(move |feed| {
                        reader::pump_ranges(target, reads, len, output.body, feed)
                    }),
                );
                Ok(Box::new(reader))
            }
            // Small (or of unknown size, or without a version to pin to): one stream.
            _ => {
                let (feed, reader) = reader::channel(reader::BODY_CHUNKS, bucket, key, self.stop);
                tokio::spawn(feed.run(move |feed| reader::pump_body(output.body, feed)));
                Ok(Box::new(reader))
            }
        }
    }

    /// The first GET, and the object it pins later ranges to (by ETag until it answers).
    async fn first(
        &self,
        bucket: &str,
        key: &str,
        version: &Version,
    ) -> Result<(Target, aws_sdk_s3::operation::get_object::GetObjectOutput), CallError> {
        let target = Target {
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
        Ok((target, output))
    }
}
