//! Report objects read through the S3 API, streamed into the (synchronous) report engine:
//! small objects with one GET, large ones with concurrent ranged GETs of one version (see
//! `s3_read`).
//!
//! Call `open` from a blocking thread (`tokio::task::spawn_blocking`): it runs the request on
//! the runtime; every stream it returns is read from a blocking thread too.

use crate::error::CallError;
use crate::s3_read::{Failures, RangedReads, ReadFailure, Reading, Version};
use billwatch_core::report::{ObjectSource, Opened};
use std::collections::HashMap;
use std::io;
use tokio::runtime::Handle;

pub struct S3Source {
    client: aws_sdk_s3::Client,
    bucket: String,
    runtime: Handle,
    reads: RangedReads,
    /// ETags of objects already sized (a manifest's parts): their reads are pinned to them.
    etags: HashMap<(String, String), String>,
    failures: Failures,
}

impl S3Source {
    /// `bucket` is where bare keys (CUR 1.0 `reportKeys`) are read from.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, runtime: Handle) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            runtime,
            reads: RangedReads::default(),
            etags: HashMap::new(),
            failures: Failures::default(),
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

    /// The first read of this source that failed (after its retries), with its class: the
    /// engine reports it as an I/O error of the report, this tells whether a retry can help.
    pub fn failure(&self) -> Option<ReadFailure> {
        self.failures.lock().expect("not poisoned").clone()
    }

    fn reading(&self) -> Reading<'_> {
        Reading {
            client: &self.client,
            runtime: &self.runtime,
            reads: self.reads,
            failures: &self.failures,
        }
    }

    /// Opens `bucket/key` as a stream, from async code: the version an event names when it
    /// names one (a later write of the key must not answer for an earlier event). The error
    /// keeps its SDK class.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Opened, CallError> {
        let version = Version {
            id: version_id.map(str::to_string),
            etag: None,
        };
        let stream = self.reading().open(bucket, key, &version).await?;
        Ok(Opened::Stream(stream))
    }

    /// Opens `bucket/key` as a stream, from a blocking thread.
    pub fn open(&self, bucket: &str, key: &str) -> io::Result<Opened> {
        let version = Version {
            id: None,
            etag: self
                .etags
                .get(&(bucket.to_string(), key.to_string()))
                .cloned(),
        };
        let opened = self
            .runtime
            .block_on(self.reading().open(bucket, key, &version));
        match opened {
            Ok(stream) => Ok(Opened::Stream(stream)),
            Err(error) => {
                let kind = match error.code.as_deref() {
                    Some("NoSuchKey") => io::ErrorKind::NotFound,
                    _ => io::ErrorKind::Other,
                };
                let message = error.to_string();
                let mut slot = self.failures.lock().expect("not poisoned");
                slot.get_or_insert(ReadFailure {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    error,
                });
                Err(io::Error::new(kind, message))
            }
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
