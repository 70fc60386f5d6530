//! Reading one report object through S3 into the report engine, on a blocking thread.

use super::{Ingest, IngestError};
use crate::error::ErrorClass;
use crate::event::ReportObject;
use crate::s3_source::S3Source;
use billwatch_core::report::{summarize_periods, ErrorKind, Opened, ReportError, ReportSummary};
use std::io::Cursor;
use std::sync::Arc;
use std::time::SystemTime;

impl Ingest {
    /// Streams the object (and a manifest's parts) through the engine: one summary per billing
    /// period it holds. With a deadline, a report this function cannot read in time fails
    /// first (see `preflight`). A failed GetObject keeps its SDK error (and so its class), and
    /// so does a read that failed transiently once the engine had started; everything else is
    /// the report's.
    pub(super) async fn summarize(
        &self,
        object: &ReportObject,
        deadline: Option<SystemTime>,
    ) -> Result<Vec<ReportSummary>, IngestError> {
        let sized = match deadline {
            Some(deadline) => self.preflight(object, deadline).await?,
            None => None,
        };
        let mut source = S3Source::new(
            self.s3.clone(),
            &object.bucket,
            tokio::runtime::Handle::current(),
        )
        .with_ranged_reads(self.config.s3_reads);
        let opened = match sized {
            Some(sized) => {
                source = source.with_etags(sized.etags);
                Opened::Stream(Box::new(Cursor::new(sized.manifest)))
            }
            None => source
                .open_object(&object.bucket, &object.key, object.version_id.as_deref())
                .await
                .map_err(|error| IngestError::Fetch {
                    operation: "GetObject",
                    bucket: object.bucket.clone(),
                    key: object.key.clone(),
                    error,
                })?,
        };
        let source = Arc::new(source);
        let (key, limits, reader) = (object.key.clone(), self.config.limits, source.clone());
        let task = tokio::task::spawn_blocking(move || {
            summarize_periods(opened, &key, &key, &*reader, &limits)
        });
        let result = match task.await {
            Ok(result) => result,
            Err(e) => Err(ReportError::new(
                &object.key,
                ErrorKind::Invalid(format!("summarize task failed: {e}")),
            )),
        };
        result.map_err(|report| match source.failure() {
            // The engine saw an I/O error; S3 says a retry can help.
            Some(f) if f.error.class == ErrorClass::Transient => IngestError::Fetch {
                operation: "GetObject",
                bucket: f.bucket,
                key: f.key,
                error: f.error,
            },
            _ => report.into(),
        })
    }
}
