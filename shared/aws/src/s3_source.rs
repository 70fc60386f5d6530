//! Report objects read through the S3 API, streamed into the (synchronous) report engine.
//!
//! Call from a blocking thread (`tokio::task::spawn_blocking`): each open runs the request on
//! the runtime and bridges the body into a `Read`.

use crate::error::CallError;
use billwatch_core::report::{ObjectSource, Opened};
use std::io;
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;

pub struct S3Source {
    client: aws_sdk_s3::Client,
    bucket: String,
    runtime: Handle,
}

impl S3Source {
    /// `bucket` is where bare keys (CUR 1.0 `reportKeys`) are read from.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, runtime: Handle) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            runtime,
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
        let output = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| CallError::of(&e))?;
        let body = output.body.into_async_read();
        Ok(Opened::Stream(Box::new(SyncIoBridge::new_with_handle(
            body,
            self.runtime.clone(),
        ))))
    }

    /// Opens `bucket/key` as a stream, from a blocking thread.
    pub fn open(&self, bucket: &str, key: &str) -> io::Result<Opened> {
        let request = self.client.get_object().bucket(bucket).key(key).send();
        let output = self.runtime.block_on(request).map_err(|e| {
            let kind = match e.as_service_error() {
                Some(s) if s.is_no_such_key() => io::ErrorKind::NotFound,
                _ => io::ErrorKind::Other,
            };
            io::Error::new(kind, CallError::of(&e).to_string())
        })?;
        let body = output.body.into_async_read();
        Ok(Opened::Stream(Box::new(SyncIoBridge::new_with_handle(
            body,
            self.runtime.clone(),
        ))))
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
