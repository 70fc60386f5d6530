//! One report object from start to finish: the core's delivery (see
//! `billwatch_core::delivery`), run over this function's ports.

use super::{Ingest, IngestError, RecordOutcome};
use crate::event::ReportObject;
use billwatch_core::delivery::{deliver, Object};
use std::time::SystemTime;

impl Ingest {
    /// Reads, stores and alerts for one report object, and records what happened in one place.
    pub async fn ingest_object(&self, object: &ReportObject) -> Result<RecordOutcome, IngestError> {
        self.ingest_object_until(object, None).await
    }

    /// [`Ingest::ingest_object`] in an invocation that ends at `deadline`.
    pub async fn ingest_object_until(
        &self,
        object: &ReportObject,
        deadline: Option<SystemTime>,
    ) -> Result<RecordOutcome, IngestError> {
        deliver(&self.ports(object, deadline), &delivered(object)).await
    }
}

/// The event's object as the delivery needs it.
pub fn delivered(object: &ReportObject) -> Object {
    Object {
        bucket: object.bucket.clone(),
        key: object.key.clone(),
        etag: object.etag.clone(),
        version_id: object.version_id.clone(),
        sequencer: object.sequencer.clone(),
        event_time: object.event_time,
    }
}
