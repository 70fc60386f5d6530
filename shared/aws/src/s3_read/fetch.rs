//! One byte range of one object version: a ranged GET pinned to the version the read began
//! with, its body drained into one buffer of exactly the range's length, retried with backoff
//! when the failure is transient.

use super::plan::ByteRange;
use crate::error::{CallError, ErrorClass};
use crate::retry::{retry, Policy};
use aws_sdk_s3::primitives::ByteStream;
use std::sync::Mutex;

/// What every range of one read must come from: one version of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pin {
    /// The version the event named: every range asks for it by id.
    Version(String),
    /// The ETag the first response carried: every range asks `If-Match` it, so a range of a
    /// later write is refused (412) rather than mixed in.
    ETag(String),
}

/// The object a read is pinned to.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) client: aws_sdk_s3::Client,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) pin: Pin,
}

impl Target {
    /// The bytes of `range`, retried with backoff while the failure is transient. `first` is a
    /// body already open at the range's start (the first response's): the first attempt reads
    /// from it, retries ask for the range.
    pub(crate) async fn range(
        &self,
        range: ByteRange,
        first: Option<ByteStream>,
    ) -> Result<Vec<u8>, CallError> {
        let first = Mutex::new(first);
        let attempt = || async {
            let open = first.lock().expect("not poisoned").take();
            match open {
                Some(body) => self.drain(body, range).await,
                None => self.get(range).await,
            }
        };
        let what = format!(
            "S3 range {} of s3://{}/{}",
            range.header(),
            self.bucket,
            self.key
        );
        retry(Policy::S3_RANGE, &what, attempt).await
    }

    /// One ranged GET of the pinned version.
    async fn get(&self, range: ByteRange) -> Result<Vec<u8>, CallError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .range(range.header());
        let request = match &self.pin {
            Pin::Version(id) => request.version_id(id),
            Pin::ETag(etag) => request.if_match(etag),
        };
        let output = request.send().await.map_err(|e| {
            let error = CallError::of(&e);
            if error.status == Some(412) {
                self.changed(None)
            } else {
                error
            }
        })?;
        // A server that ignores `If-Match` or the version must still not hand us another one.
        match &self.pin {
            Pin::ETag(etag) if output.e_tag().is_some_and(|e| e != etag) => {
                return Err(self.changed(output.e_tag()))
            }
            Pin::Version(id) if output.version_id().is_some_and(|v| v != id) => {
                return Err(self.changed(output.version_id()))
            }
            _ => {}
        }
        let start = output.content_range().and_then(range_start);
        if start != Some(range.start) && !(start.is_none() && range.start == 0) {
            return Err(CallError {
                code: None,
                status: None,
                message: format!(
                    "asked for {} of s3://{}/{}, the response holds {}",
                    range.header(),
                    self.bucket,
                    self.key,
                    output.content_range().unwrap_or("the whole object")
                ),
                class: ErrorClass::Permanent,
            });
        }
        self.drain(output.body, range).await
    }

    /// Exactly `range.len` bytes from the start of `body` (the rest, if any, is not read).
    async fn drain(&self, mut body: ByteStream, range: ByteRange) -> Result<Vec<u8>, CallError> {
        let want = usize::try_from(range.len).expect("a range fits in memory");
        let mut bytes = Vec::with_capacity(want);
        while bytes.len() < want {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    let take = chunk.len().min(want - bytes.len());
                    bytes.extend_from_slice(&chunk[..take]);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(self.transient(format!(
                        "the connection failed after {} bytes of {}: {e}",
                        bytes.len(),
                        range.header()
                    )))
                }
            }
        }
        if bytes.len() < want {
            return Err(self.transient(format!(
                "the response ended after {} bytes of {}",
                bytes.len(),
                range.header()
            )));
        }
        Ok(bytes)
    }

    fn transient(&self, message: String) -> CallError {
        CallError {
            code: None,
            status: None,
            message,
            class: ErrorClass::Transient,
        }
    }

    /// The object was replaced while it was read: refused, never mixed. Transient: a retry
    /// reads the new version whole (and the new version's own event follows).
    pub(crate) fn changed(&self, now: Option<&str>) -> CallError {
        let (was, what) = match &self.pin {
            Pin::ETag(etag) => (etag.as_str(), "ETag"),
            Pin::Version(id) => (id.as_str(), "version"),
        };
        let now = now.map(|n| format!(", now {n}")).unwrap_or_default();
        CallError {
            code: Some("PreconditionFailed".into()),
            status: Some(412),
            message: format!(
                "s3://{}/{} was replaced while it was being read ({what} {was} when the read \
                 began{now}); no bytes of two versions were mixed, and a retry reads the new \
                 version whole",
                self.bucket, self.key
            ),
            class: ErrorClass::Transient,
        }
    }
}

/// The first byte of a `Content-Range: bytes first-last/total` value.
fn range_start(content_range: &str) -> Option<u64> {
    let rest = content_range.trim().strip_prefix("bytes")?.trim_start();
    rest.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::range_start;

    #[test]
    fn content_range_starts_are_read() {
        assert_eq!(range_start("bytes 0-9/10"), Some(0));
        assert_eq!(
            range_start("bytes 8388608-16777215/40000000"),
            Some(8388608)
        );
        assert_eq!(range_start("bytes */10"), None);
        assert_eq!(range_start("items 0-1/2"), None);
    }
}
