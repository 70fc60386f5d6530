//! One S3 event, start to finish: for each created object, read the report through S3, store
//! its totals as a new version, make that version live if it is the newest delivery of its
//! period, and send what the core's alert plan calls for, once each.
//!
//! The delivery itself (its steps and every decision) is the core's
//! (`billwatch_core::delivery`); this module is its wiring and effects. `mod.rs` holds the
//! function's state and the loop over records; `pipeline` one object, the core's driver run over
//! `ports`, which implements the core's ports with S3, DynamoDB and SNS (and logs and measures
//! what the delivery tells); `preflight` whether the report can be read in the time left;
//! `read` the bridge from S3 to the (synchronous) report engine; `anomalies` the anomaly pass.

mod anomalies;
mod pipeline;
mod ports;
mod preflight;
mod read;

pub use pipeline::delivered;
pub use ports::AwsPorts;

use crate::clients::Clients;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::ErrorClass;
use crate::event::{parse_payload, report_key, EventError, Incoming, ReportObject};
use crate::metrics::Metrics;
use crate::notify::NotifyError;
use crate::outcome::Outcome;
use crate::store::{AlertsStore, BudgetsStore, ReportsStore, StoreError, TotalsStore};
use billwatch_core::period::Period;
use billwatch_core::report::{Format, ReportError};
use serde_json::Value;
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Event(#[from] EventError),
    /// The report cannot be read as it is: retrying the same object gives the same error.
    #[error("{0}")]
    Report(#[from] ReportError),
    /// The object (or a part of its manifest) could not be fetched or sized in S3.
    #[error("S3 {operation} s3://{bucket}/{key}: {error}")]
    Fetch {
        operation: &'static str,
        bucket: String,
        key: String,
        error: crate::error::CallError,
    },
    /// The report is larger than this function can read in the time it has left.
    #[error("{0}")]
    TooLarge(#[from] crate::read_budget::TooLarge),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    /// Another attempt holds the claim of an owed alert and has not published it yet.
    #[error("alert {alert_id} is held by another attempt; it is sent on retry")]
    AlertPending { alert_id: String },
    /// Other deliveries of the period kept flipping its live pointer first.
    #[error("the live pointer of {period} kept changing ({attempts} attempts)")]
    FlipContended { period: Period, attempts: usize },
    #[error("{failed} of {total} records failed ({class} first): {first}")]
    Records {
        failed: usize,
        total: usize,
        first: String,
        class: &'static str,
        transient: bool,
    },
}

impl IngestError {
    /// Whether a retry can help: a report that cannot be read is permanent; throttling,
    /// timeouts and 5xx are transient.
    pub fn class(&self) -> ErrorClass {
        match self {
            IngestError::Event(_) | IngestError::Report(_) | IngestError::TooLarge(_) => {
                ErrorClass::Permanent
            }
            IngestError::Fetch { error, .. } => error.class,
            IngestError::Store(e) => e.class(),
            IngestError::Notify(e) => e.class(),
            IngestError::AlertPending { .. } | IngestError::FlipContended { .. } => {
                ErrorClass::Transient
            }
            IngestError::Records { transient, .. } => {
                if *transient {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Permanent
                }
            }
        }
    }
}

pub use billwatch_core::delivery::RecordOutcome;

/// The adapters the pipeline runs over, built once per process.
#[derive(Clone)]
pub struct Ingest {
    pub config: Config,
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    pub totals: TotalsStore,
    pub reports: ReportsStore,
    pub budgets: BudgetsStore,
    pub alerts: AlertsStore,
    pub clock: Clock,
    /// EMF metric lines (see [`crate::metrics`]); replace it to capture them in a test.
    pub metrics: Metrics,
    /// The channels budgets name, with what their copies are sent with.
    pub channels: std::sync::Arc<crate::channels::Channels>,
    /// The month pages alerts link to.
    pub pages: std::sync::Arc<crate::page::links::PageLinks>,
}

impl Ingest {
    pub fn new(config: Config, clients: Clients, clock: Clock) -> Self {
        let dynamo = clients.dynamodb;
        let pages = crate::page::links::PageLinks::new(
            clients.s3.clone(),
            config.pages_bucket.clone(),
            (
                ReportsStore::new(dynamo.clone(), &config.tables.reports),
                TotalsStore::new(dynamo.clone(), &config.tables.totals),
                AlertsStore::new(dynamo.clone(), &config.tables.alerts),
                BudgetsStore::new(dynamo.clone(), &config.tables.budgets),
            ),
        );
        Self {
            pages: std::sync::Arc::new(pages),
            s3: clients.s3,
            sns: clients.sns,
            totals: TotalsStore::new(dynamo.clone(), &config.tables.totals),
            reports: ReportsStore::new(dynamo.clone(), &config.tables.reports),
            budgets: BudgetsStore::new(dynamo.clone(), &config.tables.budgets),
            alerts: AlertsStore::new(dynamo.clone(), &config.tables.alerts),
            channels: std::sync::Arc::new(crate::channels::Channels::new(
                BudgetsStore::new(dynamo, &config.tables.budgets),
                clients.ssm,
                clients.secrets,
            )),
            metrics: Metrics::stdout(config.metrics_namespace.clone()),
            config,
            clock,
        }
    }

    /// Handles a whole Lambda payload. Every record is attempted. A record that fails for good
    /// (a report that cannot be read) is recorded and alerted, not retried. If one fails
    /// transiently, the invocation fails naming it (so Lambda retries, and the failure
    /// destination catches it when retries run out) while the work done for the others stays
    /// (their retries are duplicates, hence no-ops).
    pub async fn handle(&self, payload: &Value) -> Result<Vec<RecordOutcome>, IngestError> {
        self.handle_until(payload, None).await
    }

    /// [`Ingest::handle`] in an invocation that ends at `deadline` (Lambda's): a report this
    /// function cannot read before then fails at once (see [`crate::read_budget`]).
    pub async fn handle_until(
        &self,
        payload: &Value,
        deadline: Option<SystemTime>,
    ) -> Result<Vec<RecordOutcome>, IngestError> {
        self.metrics.start_invocation();
        // Each invocation reads the channels and budgets afresh.
        self.channels.forget().await;
        self.pages.forget().await;
        let incoming = parse_payload(payload)?;
        let total = incoming.len();
        let mut outcomes = Vec::new();
        let mut failures: Vec<(String, ErrorClass)> = Vec::new();
        for item in incoming {
            let outcome = match item {
                Incoming::TestEvent => {
                    RecordOutcome::new("", Outcome::Skipped, Some("s3:TestEvent".into()))
                }
                Incoming::Ignored(reason) => RecordOutcome::new("", Outcome::Skipped, Some(reason)),
                Incoming::Unusable { key, reason } => {
                    tracing::error!(%key, %reason, "record not usable");
                    RecordOutcome::new(&key, Outcome::Failed, Some(reason))
                }
                Incoming::Object(object) => match self.admit(&object) {
                    Err(reason) => {
                        self.measure_handled(&object, Outcome::Skipped, None, 0, 0);
                        RecordOutcome::new(&object.key, Outcome::Skipped, Some(reason))
                    }
                    Ok(()) => match self.ingest_object_until(&object, deadline).await {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            tracing::error!(key = %object.key, error = %e, class = e.class().as_str(), "report failed");
                            failures.push((format!("{}: {e}", object.key), e.class()));
                            RecordOutcome::new(&object.key, Outcome::Failed, Some(e.to_string()))
                        }
                    },
                },
            };
            tracing::info!(key = %outcome.key, outcome = %outcome.outcome, reason = ?outcome.reason,
                totals = outcome.totals_written, alerts = outcome.alerts_sent, "record done");
            outcomes.push(outcome);
        }
        let transient: Vec<_> = failures
            .iter()
            .filter(|(_, c)| *c == ErrorClass::Transient)
            .collect();
        if let Some((first, class)) = transient.first() {
            return Err(IngestError::Records {
                failed: transient.len(),
                total,
                first: first.clone(),
                class: class.as_str(),
                transient: true,
            });
        }
        Ok(outcomes)
    }

    /// The pipeline metric line of one object (when metrics are on).
    pub(crate) fn measure_handled(
        &self,
        object: &ReportObject,
        outcome: Outcome,
        format: Option<Format>,
        rows_read: u64,
        duration_ms: u64,
    ) {
        let Some(namespace) = self.metrics.namespace() else {
            return;
        };
        let now = self.clock.now();
        let latency_ms =
            (outcome == Outcome::Stored).then(|| (now - object.event_time).num_milliseconds());
        self.metrics.emit([crate::metrics::ingest::handled(
            namespace,
            now,
            &crate::metrics::ingest::Handled {
                key: &object.key,
                outcome: outcome.as_str(),
                via: object.via.as_str(),
                format: format.map(|f| f.name()),
                rows_read,
                duration_ms,
                latency_ms,
            },
        )]);
    }

    fn admit(&self, object: &ReportObject) -> Result<(), String> {
        if let Some(bucket) = &self.config.bucket {
            if *bucket != object.bucket {
                return Err(format!(
                    "bucket '{}' is not the billing bucket '{bucket}'",
                    object.bucket
                ));
            }
        }
        if let Some(prefix) = &self.config.report_prefix {
            if !object.key.starts_with(prefix.as_str()) {
                return Err(format!(
                    "'{}' is outside the report prefix '{prefix}'",
                    object.key
                ));
            }
        }
        report_key(&object.key)
    }
}

impl crate::error::Classified for IngestError {
    fn class(&self) -> ErrorClass {
        IngestError::class(self)
    }
}
