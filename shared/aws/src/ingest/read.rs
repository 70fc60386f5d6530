//! Reading one report object through S3 into the report engine, on a blocking thread.

use super::{Ingest, IngestError};
use crate::event::ReportObject;
use crate::s3_source::S3Source;
use billwatch_core::report::{summarize_periods, ErrorKind, ReportError, ReportSummary};

impl Ingest {
    /// Streams the object (and a manifest's parts) through the engine: one summary per billing
    /// period it holds. A failed GetObject of the
    /// object itself keeps its SDK error (and so its class); everything after is the report's.
    pub(super) async fn summarize(
        &self,
        object: &ReportObject,
    ) -> Result<Vec<ReportSummary>, IngestError> {
        let source = S3Source::new(
            self.s3.clone(),
            &object.bucket,
            tokio::runtime::Handle::current(),
        );
        let opened = source
            .open_object(&object.bucket, &object.key, object.version_id.as_deref())
            .await
            .map_err(|error| IngestError::Fetch {
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                error,
            })?;
        let (key, limits) = (object.key.clone(), self.config.limits);
        let task = tokio::task::spawn_blocking(move || {
            summarize_periods(opened, &key, &key, &source, &limits)
        });
        match task.await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ReportError::new(
                &object.key,
                ErrorKind::Invalid(format!("summarize task failed: {e}")),
            )
            .into()),
        }
    }
}
