//! The one bridge from S3 objects to the (synchronous) report engine: [`S3Source::run`] runs
//! the engine on a blocking thread and feeds it bytes produced by tasks on the runtime.
//!
//! - Each object's bytes come through a bounded channel of chunks (see `s3_read`): small
//!   objects with one GET, large ones with concurrent ranged GETs of one version, retried.
//! - When the engine opens a manifest's part, the request goes to a task on the runtime that
//!   opens it and replies with the stream or the failure; the engine's thread waits for the
//!   reply on a one-shot channel. Nothing here blocks on the runtime.
//! - A failed S3 read reaches the engine as an `io::Error` carrying the [`ReadFailure`] (and so
//!   the SDK's class); the engine keeps it in its error, where [`ReadFailure::of`] finds it.
//!
//! Used by the ingest (its read of a report and the anomaly pass's second read) and by the
//! CLI's `summarize s3://…`.

use crate::s3_read::{RangedReads, ReadFailure, Reading, Version};
use billwatch_core::report::{ErrorKind, ObjectSource, Opened, ReportError};
use std::collections::HashMap;
use std::io;
use std::time::SystemTime;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

pub struct S3Source {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Where the opening and producing tasks run.
    runtime: Handle,
    reads: RangedReads,
    /// ETags of objects already sized (a manifest's parts): their reads are pinned to them.
    etags: HashMap<(String, String), String>,
    /// Every read gives up at this time, if any.
    stop: Option<SystemTime>,
}

impl S3Source {
    /// `bucket` is where bare keys (CUR 1.0 `reportKeys`) are read from; the tasks run on
    /// `runtime`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, runtime: Handle) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            runtime,
            reads: RangedReads::default(),
            etags: HashMap::new(),
            stop: None,
        }
    }

    /// Large objects are read in these ranges.
    pub fn with_ranged_reads(mut self, reads: RangedReads) -> Self {
        self.reads = reads;
        self
    }

    /// Reads of these objects (bucket, key → ETag) are refused if the object has changed since.
    pub fn with_etags(mut self, etags: HashMap<(String, String), String>) -> Self {
        self.etags = etags;
        self
    }

    /// Every open and every read stops at `stop` (when given), failing with a permanent
    /// `ReadTimeBudget` error: the read's time budget.
    pub fn stopping_at(mut self, stop: Option<SystemTime>) -> Self {
        self.stop = stop;
        self
    }

    fn reading(&self) -> Reading {
        Reading {
            client: self.client.clone(),
            reads: self.reads,
            stop: self.stop,
        }
    }

    /// Opens `bucket/key` as a stream, from async code: the version an event names when it
    /// names one (a later write of the key must not answer for an earlier event).
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Opened, ReadFailure> {
        let version = Version {
            id: version_id.map(str::to_string),
            etag: None,
        };
        let stream = self.reading().open(bucket, key, &version).await?;
        Ok(Opened::Stream(stream))
    }

    /// Runs `engine` on a blocking thread over `opened` (the report, `name` in errors), with
    /// this source for the objects it names. An S3 failure stays in the engine's error (see
    /// [`ReadFailure::of`]).
    pub async fn run<T, F>(self, name: &str, opened: Opened, engine: F) -> Result<T, ReportError>
    where
        T: Send + 'static,
        F: FnOnce(Opened, &dyn ObjectSource) -> Result<T, ReportError> + Send + 'static,
    {
        match tokio::task::spawn_blocking(move || engine(opened, &self)).await {
            Ok(result) => result,
            Err(e) => Err(ReportError::new(
                name,
                ErrorKind::Invalid(format!("the report's reading task failed: {e}")),
            )),
        }
    }

    /// Opens `bucket/key` as a stream, from a blocking thread (the engine's): a task on the
    /// runtime opens it and replies.
    pub fn open(&self, bucket: &str, key: &str) -> io::Result<Opened> {
        let version = Version {
            id: None,
            etag: self
                .etags
                .get(&(bucket.to_string(), key.to_string()))
                .cloned(),
        };
        let (reply, replied) = oneshot::channel();
        let reading = self.reading();
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.runtime.spawn(async move {
            let _ = reply.send(reading.open(&bucket, &key, &version).await);
        });
        match replied.blocking_recv() {
            Ok(Ok(stream)) => Ok(Opened::Stream(stream)),
            Ok(Err(failure)) => Err(failure.into_io(true)),
            Err(_) => Err(io::Error::other("the task opening the object stopped")),
        }
    }
}

impl ObjectSource for S3Source {
    /// The bucket the report came from: a manifest's data files must live there too (the
    /// function's role can read only the billing bucket).
    fn home_bucket(&self) -> Option<&str> {
        Some(&self.bucket)
    }

    fn open_key(&self, key: &str) -> io::Result<Opened> {
        self.open(&self.bucket, key)
    }

    fn open_uri(&self, bucket: &str, key: &str) -> io::Result<Opened> {
        self.open(bucket, key)
    }
}
