//! The ingest's one way of reading a report object through S3 into the report engine (the
//! bridge is `S3Source::run`): its summaries, and the anomaly pass's second read.

use super::{Ingest, IngestError};
use crate::event::ReportObject;
use crate::s3_read::ReadFailure;
use crate::s3_source::S3Source;
use billwatch_core::budget::spec::Specs;
use billwatch_core::report::{summarize_asking, ObjectSource, Opened, ReportError, ReportSummary};
use std::io::Cursor;
use std::time::SystemTime;

impl Ingest {
    /// Streams the object (and a manifest's parts) through the engine: one summary per billing
    /// period it holds, each answering `specs` (the budgets summed in the same pass). With a deadline, a report this function cannot read in time fails
    /// first (see `preflight`).
    pub(super) async fn summarize(
        &self,
        object: &ReportObject,
        deadline: Option<SystemTime>,
        specs: Specs,
        commitments: bool,
    ) -> Result<Vec<ReportSummary>, IngestError> {
        let (key, limits) = (object.key.clone(), self.config.limits);
        self.read(object, deadline, None, move |opened, parts| {
            summarize_asking(opened, &key, &key, parts, &limits, &specs, commitments)
        })
        .await
    }

    /// Runs `engine` over the object (and a manifest's parts, read from S3 as it asks for
    /// them). With a deadline, a manifest whose parts cannot be read before it fails first
    /// (see `preflight`); with `stop`, every read gives up at that time. A failed GetObject of
    /// the object keeps its SDK error (and so its class), and so does a read that failed
    /// transiently once the engine had started; everything else is the report's.
    pub(super) async fn read<T, F>(
        &self,
        object: &ReportObject,
        deadline: Option<SystemTime>,
        stop: Option<SystemTime>,
        engine: F,
    ) -> Result<T, IngestError>
    where
        T: Send + 'static,
        F: FnOnce(Opened, &dyn ObjectSource) -> Result<T, ReportError> + Send + 'static,
    {
        let sized = match deadline {
            Some(deadline) => self.preflight(object, deadline).await?,
            None => None,
        };
        let mut source = S3Source::new(
            self.s3.clone(),
            &object.bucket,
            tokio::runtime::Handle::current(),
        )
        .with_ranged_reads(self.config.s3_reads)
        .stopping_at(stop);
        let opened = match sized {
            Some(sized) => {
                source = source.with_etags(sized.etags);
                Opened::Stream(Box::new(Cursor::new(sized.manifest)))
            }
            None => source
                .open_object(&object.bucket, &object.key, object.version_id.as_deref())
                .await
                .map_err(fetch)?,
        };
        source
            .run(&object.key, opened, engine)
            .await
            .map_err(|report| match ReadFailure::of(&report) {
                // The engine saw an I/O error; S3 says a retry can help.
                Some(failure) if failure.is_transient() => fetch(failure.clone()),
                _ => report.into(),
            })
    }
}

/// A failed S3 read as the ingest's error.
fn fetch(failure: ReadFailure) -> IngestError {
    IngestError::Fetch {
        operation: "GetObject",
        bucket: failure.bucket,
        key: failure.key,
        error: failure.error,
    }
}
