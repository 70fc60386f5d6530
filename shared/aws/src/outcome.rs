//! What became of one S3 record, in the ingest record, the function's response and logs.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Its totals are the period's live ones now.
    Stored,
    /// A newer or better delivery of the period (or of the key) is live.
    Stale,
    /// This very delivery was ingested before.
    Duplicate,
    /// Not a report to ingest (test event, other bucket, a CUR data part, …).
    Skipped,
    /// It could not be ingested; the error says why and whether a retry can help.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stored => "stored",
            Outcome::Stale => "stale",
            Outcome::Duplicate => "duplicate",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Outcome::Stored,
            Outcome::Stale,
            Outcome::Duplicate,
            Outcome::Skipped,
            Outcome::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}
