//! Before a manifest's parts are read: can this function read them in the time the invocation
//! has left? The manifest is fetched (it is small) and its parts are sized with HEAD, a few at
//! a time; the decision is `read_budget::check`'s. (A single object is not sized: the rate is
//! gzip's, and a plain CSV reads many times faster per byte, so the check would refuse plain
//! reports that fit.)

use super::{Ingest, IngestError};
use crate::error::CallError;
use crate::event::ReportObject;
use crate::read_budget::{self, ONE_VCPU_MB};
use billwatch_core::report::{key_info, parse_manifest, PartRef};
use futures_util::{stream, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// HEAD requests in flight at once while a manifest's parts are sized.
const CONCURRENT_HEADS: usize = 16;

/// A manifest fetched and its parts sized: the engine reads the manifest from these bytes and
/// each part pinned to the ETag it was sized at.
pub(super) struct Sized {
    pub(super) manifest: Vec<u8>,
    pub(super) etags: HashMap<(String, String), String>,
}

impl Ingest {
    /// Fails with [`IngestError::TooLarge`] when a manifest's parts cannot be read before
    /// `deadline`; else returns the manifest's bytes and its parts' ETags (`None` for an object
    /// that is not a manifest).
    pub(super) async fn preflight(
        &self,
        object: &ReportObject,
        deadline: SystemTime,
    ) -> Result<Option<Sized>, IngestError> {
        if !key_info(&object.key).manifest {
            return Ok(None);
        }
        let Some(manifest) = self.fetch_manifest(object).await? else {
            return Ok(None);
        };
        let mut sized = Sized {
            manifest,
            etags: HashMap::new(),
        };
        // A manifest the engine refuses (unparsable, too many parts, a part in another bucket)
        // is refused there, with its reason; nothing is sized for it.
        let Ok(parsed) = parse_manifest(&sized.manifest) else {
            return Ok(Some(sized));
        };
        if parsed.parts.len() > self.config.limits.max_manifest_parts {
            return Ok(Some(sized));
        }
        let mut parts = Vec::with_capacity(parsed.parts.len());
        for part in &parsed.parts {
            match part {
                PartRef::Key(key) => parts.push((object.bucket.clone(), key.clone())),
                PartRef::Uri { bucket, key } if *bucket == object.bucket => {
                    parts.push((bucket.clone(), key.clone()))
                }
                PartRef::Uri { .. } => return Ok(Some(sized)),
            }
        }
        let heads: Vec<(String, String, u64, Option<String>)> = stream::iter(parts)
            .map(|(bucket, key)| self.head(bucket, key))
            .buffer_unordered(CONCURRENT_HEADS)
            .try_collect()
            .await?;
        let total = heads.iter().map(|(_, _, size, _)| size).sum::<u64>();
        let remaining = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        tracing::info!(key = %object.key, parts = heads.len(), bytes = total,
            remaining_ms = remaining.as_millis() as u64, "manifest sized");
        self.fits(total, heads.len() as u32, remaining)?;
        for (bucket, key, _, etag) in heads {
            if let Some(etag) = etag {
                sized.etags.insert((bucket, key), etag);
            }
        }
        Ok(Some(sized))
    }

    fn fits(&self, bytes: u64, parts: u32, remaining: Duration) -> Result<(), IngestError> {
        let memory = self.config.memory_mb.unwrap_or(ONE_VCPU_MB);
        read_budget::check(bytes, parts, remaining, memory, self.config.read_rate)?;
        Ok(())
    }

    /// The manifest's bytes, at the event's version; `None` if it is larger than a manifest
    /// may be (the engine refuses it).
    async fn fetch_manifest(&self, object: &ReportObject) -> Result<Option<Vec<u8>>, IngestError> {
        let fail = |error: CallError| IngestError::Fetch {
            operation: "GetObject",
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            error,
        };
        let output = self
            .s3
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .send()
            .await
            .map_err(|e| fail(CallError::of(&e)))?;
        let max = self.config.limits.max_manifest_bytes;
        if output
            .content_length()
            .is_some_and(|n| u64::try_from(n).unwrap_or(u64::MAX) > max)
        {
            return Ok(None);
        }
        let bytes = output.body.collect().await.map_err(|e| {
            fail(CallError {
                code: None,
                status: None,
                message: format!("the connection failed while reading: {e}"),
                class: crate::error::ErrorClass::Transient,
            })
        })?;
        Ok(Some(bytes.to_vec()))
    }

    /// A part's size and ETag.
    async fn head(
        &self,
        bucket: String,
        key: String,
    ) -> Result<(String, String, u64, Option<String>), IngestError> {
        match self.s3.head_object().bucket(&bucket).key(&key).send().await {
            Ok(head) => {
                let size = head
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0);
                let etag = head.e_tag().map(str::to_string);
                Ok((bucket, key, size, etag))
            }
            Err(e) => Err(IngestError::Fetch {
                operation: "HeadObject",
                error: CallError::of(&e),
                bucket,
                key,
            }),
        }
    }
}
