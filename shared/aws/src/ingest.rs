//! One S3 event, start to finish: for each created object, read the report through S3, store
//! its totals as a new version, make that version live if it is the newest delivery of its
//! period, and alert once per budget threshold crossed.

use crate::clients::Clients;
use crate::clock::Clock;
use crate::config::Config;
use crate::event::{
    padded_sequencer, parse_payload, report_key, EventError, Incoming, ReportObject,
};
use crate::notify;
use crate::s3_source::S3Source;
use crate::store::alerts::AlertRecord;
use crate::store::{
    AlertsStore, BudgetsStore, Flip, IngestRecord, Pointer, ReportsStore, StoreError, StoredTotal,
    TotalsStore,
};
use billwatch_core::alert::{self, BudgetAlert, Message, MonthClose, ReportFacts, ServiceLine};
use billwatch_core::budget::{evaluate, spent, Budget};
use billwatch_core::forecast::forecast;
use billwatch_core::period::Period;
use billwatch_core::report::{key_info, summarize, ErrorKind, Format, ReportError, ReportSummary};
use chrono::{SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{0}")]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] notify::NotifyError),
    #[error("{failed} of {total} records failed; first: {first}")]
    Records {
        failed: usize,
        total: usize,
        first: String,
    },
}

/// What happened to one record, returned to the caller (and so to `cargo lambda invoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct RecordOutcome {
    pub key: String,
    /// `stored`, `stale`, `duplicate`, `skipped` or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub totals_written: u64,
    pub alerts_sent: u64,
}

impl RecordOutcome {
    fn skipped(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            outcome: "skipped".into(),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// How much a format is trusted as the period's source when several reach the bucket.
pub fn rank(format: Format) -> u8 {
    match format {
        Format::Cur1 | Format::Cur2 | Format::Focus => 3,
        Format::Dbr | Format::DbrResourcesTags => 2,
        Format::LegacyMonthly => 1,
        Format::LegacyCostAllocation => 0,
    }
}

fn new_version() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = Utc::now();
    format!(
        "v{}{:06x}{:04x}",
        now.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

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
}

impl Ingest {
    pub fn new(config: Config, clients: Clients, clock: Clock) -> Self {
        let dynamo = clients.dynamodb;
        Self {
            s3: clients.s3,
            sns: clients.sns,
            totals: TotalsStore::new(dynamo.clone(), &config.tables.totals),
            reports: ReportsStore::new(dynamo.clone(), &config.tables.reports),
            budgets: BudgetsStore::new(dynamo.clone(), &config.tables.budgets),
            alerts: AlertsStore::new(dynamo, &config.tables.alerts),
            config,
            clock,
        }
    }

    /// Handles a whole Lambda payload. Every record is attempted; if any fails, the error names
    /// them (so Lambda retries, and the failure destination catches it) while the work done for
    /// the others stays (their retries are duplicates, hence no-ops).
    pub async fn handle(&self, payload: &Value) -> Result<Vec<RecordOutcome>, IngestError> {
        let incoming = parse_payload(payload)?;
        let total = incoming.len();
        let mut outcomes = Vec::new();
        let mut failures = Vec::new();
        for item in incoming {
            let outcome = match item {
                Incoming::TestEvent => RecordOutcome::skipped("", "s3:TestEvent"),
                Incoming::Ignored(reason) => RecordOutcome::skipped("", reason),
                Incoming::Object(object) => match self.admit(&object) {
                    Err(reason) => RecordOutcome::skipped(&object.key, reason),
                    Ok(()) => match self.ingest_object(&object).await {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            tracing::error!(key = %object.key, error = %e, "report failed");
                            failures.push(format!("{}: {e}", object.key));
                            RecordOutcome {
                                key: object.key.clone(),
                                outcome: "failed".into(),
                                reason: Some(e.to_string()),
                                ..RecordOutcome::default()
                            }
                        }
                    },
                },
            };
            tracing::info!(key = %outcome.key, outcome = %outcome.outcome, reason = ?outcome.reason,
                totals = outcome.totals_written, alerts = outcome.alerts_sent, "record done");
            outcomes.push(outcome);
        }
        if let Some(first) = failures.first() {
            return Err(IngestError::Records {
                failed: failures.len(),
                total,
                first: first.clone(),
            });
        }
        Ok(outcomes)
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
        report_key(&object.key)
    }

    /// Reads, stores and alerts for one report object.
    pub async fn ingest_object(&self, object: &ReportObject) -> Result<RecordOutcome, IngestError> {
        let started = Instant::now();
        let received_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let sequencer = object.sequencer.as_deref().map(padded_sequencer);
        let mut record = IngestRecord {
            period: key_info(&object.key)
                .period
                .unwrap_or_else(|| Period::of(object.event_time)),
            received_at: received_at.clone(),
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            etag: object.etag.clone(),
            sequencer: object.sequencer.clone(),
            version_id: object.version_id.clone(),
            ..IngestRecord::default()
        };

        // Duplicate and out-of-order events of one key stop here, before any work.
        if let Some(seq) = &sequencer {
            if let Some(latest) = self
                .reports
                .latest_sequencer(&object.bucket, &object.key)
                .await?
            {
                if latest >= *seq {
                    let outcome = if latest == *seq { "duplicate" } else { "stale" };
                    record.outcome = outcome.into();
                    record.duration_ms = started.elapsed().as_millis() as u64;
                    self.reports.record(&record).await?;
                    return Ok(RecordOutcome {
                        key: object.key.clone(),
                        outcome: outcome.into(),
                        reason: Some(format!(
                            "a delivery of this key with sequencer {latest} was already ingested"
                        )),
                        ..RecordOutcome::default()
                    });
                }
            }
        }

        let summary = match self.summarize(object).await {
            Ok(s) => s,
            Err(e) => {
                record.outcome = "failed".into();
                record.error = Some(e.to_string());
                record.duration_ms = started.elapsed().as_millis() as u64;
                self.reports.record(&record).await?;
                self.report_failed(object, record.period, &e.to_string())
                    .await?;
                return Err(e.into());
            }
        };
        let Some(period) = summary.billing_period else {
            let e = ReportError::new(
                &object.key,
                ErrorKind::Invalid("the report names no billing period".into()),
            );
            record.outcome = "failed".into();
            record.error = Some(e.to_string());
            self.reports.record(&record).await?;
            return Err(e.into());
        };
        let payer = summary
            .payer_account_id
            .clone()
            .unwrap_or_else(|| "unknown".into());
        record.period = period;
        record.format = Some(summary.format.name().into());
        record.payer = Some(payer.clone());
        record.status = Some(summary.status.name().into());
        record.as_of = summary.as_of.clone();
        record.delivery_id = summary.delivery_id.clone();
        record.rows_read = summary.rows_read;
        record.rows_summed = summary.rows_summed;
        record.checks = summary
            .checks
            .iter()
            .map(|c| {
                format!(
                    "{}: expected {} actual {} {}",
                    c.name,
                    c.expected,
                    c.actual,
                    if c.ok { "ok" } else { "FAILED" }
                )
            })
            .collect();

        let version = new_version();
        let written = self
            .totals
            .write_version(
                &summary,
                &payer,
                period,
                &version,
                &object.key,
                &received_at,
            )
            .await?;
        let pointer = Pointer {
            payer: payer.clone(),
            period,
            version: version.clone(),
            report_key: object.key.clone(),
            order_key: object.order_key(),
            rank: rank(summary.format),
            format: summary.format.name().into(),
            status: summary.status.name().into(),
            as_of: summary.as_of.clone(),
            delivery_id: summary.delivery_id.clone(),
            stored_at: received_at.clone(),
            rows_summed: summary.rows_summed,
        };
        let mut before: Option<Previous> = None;
        let (outcome, reason) = match self.reports.flip(&pointer).await? {
            Flip::Flipped { previous } => {
                if let Some(prev) = previous.filter(|p| p.version != version) {
                    let totals = self
                        .totals
                        .query(&prev.payer, prev.period, &prev.version, None)
                        .await?;
                    before = Some(Previous {
                        status: prev.status.clone(),
                        totals,
                    });
                    self.totals
                        .delete_version(&prev.payer, prev.period, &prev.version)
                        .await?;
                }
                ("stored", None)
            }
            Flip::Stale { current } => {
                self.totals.delete_version(&payer, period, &version).await?;
                (
                    "stale",
                    Some(format!(
                        "a newer or better delivery is live: {} ({})",
                        current.report_key, current.format
                    )),
                )
            }
            Flip::Duplicate => {
                self.totals.delete_version(&payer, period, &version).await?;
                (
                    "duplicate",
                    Some("this delivery is already live".to_string()),
                )
            }
        };
        if let Some(seq) = &sequencer {
            self.reports
                .note_sequencer(&object.bucket, &object.key, seq, object.etag.as_deref())
                .await?;
        }
        let stored = outcome == "stored";
        let alerts_sent = if stored {
            self.alert(object, &summary, before.as_ref()).await?
        } else {
            0
        };

        record.outcome = outcome.into();
        record.totals_written = if stored { written as u64 } else { 0 };
        record.alerts_sent = alerts_sent;
        record.duration_ms = started.elapsed().as_millis() as u64;
        self.reports.record(&record).await?;
        tracing::info!(key = %object.key, %period, %payer, format = summary.format.name(),
            rows = summary.rows_read, outcome, duration_ms = record.duration_ms, "report ingested");
        Ok(RecordOutcome {
            key: object.key.clone(),
            outcome: outcome.into(),
            reason,
            format: record.format.clone(),
            period: Some(period.to_string()),
            status: record.status.clone(),
            totals_written: record.totals_written,
            alerts_sent,
        })
    }

    async fn summarize(&self, object: &ReportObject) -> Result<ReportSummary, ReportError> {
        let source = S3Source::new(
            self.s3.clone(),
            &object.bucket,
            tokio::runtime::Handle::current(),
        );
        let (bucket, key, limits) = (
            object.bucket.clone(),
            object.key.clone(),
            self.config.limits,
        );
        let task = tokio::task::spawn_blocking(move || {
            let opened = source
                .open(&bucket, &key)
                .map_err(|e| ReportError::new(&key, ErrorKind::Open(e.to_string())))?;
            summarize(opened, &key, &key, &source, &limits)
        });
        task.await.unwrap_or_else(|e| {
            Err(ReportError::new(
                &object.key,
                ErrorKind::Invalid(format!("summarize task failed: {e}")),
            ))
        })
    }

    /// Every alert a stored delivery calls for: budget thresholds, the month-close summary when
    /// the period turns final, failed reconciliation checks and services new to an account.
    /// Each is claimed before it is published; returns how many were sent.
    async fn alert(
        &self,
        object: &ReportObject,
        summary: &ReportSummary,
        before: Option<&Previous>,
    ) -> Result<u64, IngestError> {
        let Some(period) = summary.billing_period else {
            return Ok(0);
        };
        let facts = ReportFacts {
            key: object.key.clone(),
            format: summary.format.name().into(),
            period,
            status: summary.status.name().into(),
            as_of: summary.as_of.clone(),
        };
        let budgets = self.budgets.list().await?;
        let mut sent = 0;
        for budget in &budgets {
            let actual = spent(budget, summary);
            let in_scope: Vec<_> = summary.totals.iter().filter(|t| budget.covers(t)).collect();
            let projected =
                forecast(&in_scope, period, summary.as_of.as_deref(), summary.status).projected;
            for c in evaluate(budget, period, actual, Some(projected)) {
                let basis = c.basis.as_str();
                let message = alert::budget_alert(&BudgetAlert {
                    alert_id: c.alert_id(),
                    budget: budget.name.clone(),
                    scope: budget.scope.describe(),
                    account: budget.scope.account().unwrap_or("all").into(),
                    service: budget.scope.service().unwrap_or("all").into(),
                    amount: budget.amount,
                    currency: budget.currency.clone(),
                    basis: basis.into(),
                    level_percent: c.level_percent,
                    escalation: c.escalation,
                    actual: c.actual,
                    forecast: c.forecast,
                    percent: c.percent,
                    top: top_lines(budget, summary, before),
                    report: facts.clone(),
                });
                let value = match c.basis {
                    billwatch_core::budget::Basis::Forecast => c.forecast.unwrap_or(c.actual),
                    billwatch_core::budget::Basis::Actual => c.actual,
                };
                let record = AlertRecord {
                    period,
                    key: format!("{}#{}", budget.name, c.claim_key()),
                    alert_id: c.alert_id(),
                    kind: if c.escalation { "escalation" } else { "budget" }.into(),
                    budget: Some(budget.name.clone()),
                    basis: Some(basis.into()),
                    severity: severity_of(&message),
                    subject: message.subject.clone(),
                    reason: format!(
                        "{basis} spend {} {} reached {}% of {} {}",
                        value.round_dp(2),
                        budget.currency,
                        c.level_percent.normalize(),
                        budget.amount.normalize(),
                        budget.currency
                    ),
                    report_key: Some(object.key.clone()),
                    ..AlertRecord::default()
                };
                let topic = budget.topic_arn.as_deref();
                sent += self.send_once(&record, &message, topic).await?;
            }
        }
        let turned_final =
            summary.status.name() == "final" && before.is_none_or(|b| b.status != "final");
        if turned_final {
            for budget in &budgets {
                let spent = spent(budget, summary);
                let last_estimate = before.map(|b| {
                    b.totals
                        .iter()
                        .filter(|t| budget.covers_line(&t.account, &t.service, &t.currency))
                        .map(|t| t.cost)
                        .sum()
                });
                let alert_id = format!("{}:{period}:close", budget.name);
                let message = alert::month_close(&MonthClose {
                    alert_id: alert_id.clone(),
                    budget: budget.name.clone(),
                    scope: budget.scope.describe(),
                    amount: budget.amount,
                    currency: budget.currency.clone(),
                    spent,
                    last_estimate,
                    top: top_lines(budget, summary, before),
                    report: facts.clone(),
                });
                let record = AlertRecord {
                    period,
                    key: format!("{}#close#final", budget.name),
                    alert_id,
                    kind: "month-close".into(),
                    budget: Some(budget.name.clone()),
                    basis: Some("final".into()),
                    severity: "info".into(),
                    subject: message.subject.clone(),
                    reason: format!("the {period} bill is final"),
                    report_key: Some(object.key.clone()),
                    ..AlertRecord::default()
                };
                sent += self
                    .send_once(&record, &message, budget.topic_arn.as_deref())
                    .await?;
            }
        }
        let failed: Vec<_> = summary.checks.iter().filter(|c| !c.ok).collect();
        if !failed.is_empty() {
            let mut text = format!(
                "The report {} does not reconcile with its own totals:\n\n",
                alert::report_text(&object.key)
            );
            for c in &failed {
                text += &format!(
                    "  {}: the report says {}, its line items add up to {}\n",
                    c.name, c.expected, c.actual
                );
            }
            text += "\nbillwatch stored the line items' totals; check the report before trusting them.\n";
            let key = format!("health#checks#{}#{}", object.key, object_version(object));
            let subject = format!(
                "{period} report fails {} reconciliation check(s)",
                failed.len()
            );
            sent += self
                .health(&period, &key, "checks", &subject, &text, &object.key)
                .await?;
        }
        if let Some(before) = before {
            let known: HashSet<(&str, &str)> = before
                .totals
                .iter()
                .map(|t| (t.account.as_str(), t.service.as_str()))
                .collect();
            for t in summary
                .totals
                .iter()
                .filter(|t| !known.contains(&(t.account_id.as_str(), t.service.as_str())))
            {
                let text = format!(
                    "{} ({}) appears for the first time in account {} this period: {} {} so far.\n\nReport: {}\n",
                    alert::report_text(&t.service),
                    alert::report_text(&t.service_name),
                    t.account_id,
                    t.cost.round_dp(2),
                    t.currency,
                    alert::report_text(&object.key)
                );
                let key = format!("health#new-service#{}#{}", t.account_id, t.service);
                let subject = format!("new service {} in account {}", t.service, t.account_id);
                sent += self
                    .health(&period, &key, "new-service", &subject, &text, &object.key)
                    .await?;
            }
        }
        Ok(sent)
    }

    /// A report that cannot be read alerts once per object version.
    async fn report_failed(
        &self,
        object: &ReportObject,
        period: &str,
        error: &str,
    ) -> Result<u64, IngestError> {
        let text = format!(
            "billwatch could not read a billing report, so its totals were NOT updated:\n\n  Object: s3://{}/{}\n  Error:  {}\n\nThe previous totals of the period are kept. Lambda retries the event; if the\nreport stays unreadable, it lands in the failure queue.\n",
            object.bucket,
            alert::report_text(&object.key),
            alert::report_text(error)
        );
        let key = format!("health#failed#{}#{}", object.key, object_version(object));
        let name = object.key.rsplit('/').next().unwrap_or_default();
        let subject = format!("could not read report {name}");
        self.health(period, &key, "report-failed", &subject, &text, &object.key)
            .await
    }

    async fn health(
        &self,
        period: &str,
        key: &str,
        check: &str,
        subject: &str,
        text: &str,
        report_key: &str,
    ) -> Result<u64, IngestError> {
        let alert_id = format!("{period}:{key}");
        let details = serde_json::json!({ "report_key": report_key });
        let message = alert::health(&alert_id, check, subject, text, period, details);
        let record = AlertRecord {
            period: period.into(),
            key: key.into(),
            alert_id,
            kind: "health".into(),
            severity: severity_of(&message),
            subject: message.subject.clone(),
            reason: check.into(),
            report_key: Some(report_key.into()),
            ..AlertRecord::default()
        };
        self.send_once(&record, &message, None).await
    }

    /// Sends once; `topic` overrides the stack's topic (a budget's own topic).
    async fn send_once(
        &self,
        record: &AlertRecord,
        message: &Message,
        topic: Option<&str>,
    ) -> Result<u64, IngestError> {
        let topic = topic.or(self.config.topic_arn.as_deref());
        Ok(notify::send_once(&self.alerts, &self.sns, topic, record, message).await?)
    }
}

/// The live totals a delivery replaced, kept for the alerts it triggers.
struct Previous {
    status: String,
    totals: Vec<StoredTotal>,
}

/// The object's version for once-per-version alerts: its sequencer, else its ETag.
fn object_version(object: &ReportObject) -> String {
    object
        .sequencer
        .clone()
        .or_else(|| object.etag.clone())
        .unwrap_or_default()
}

/// The budget scope's five biggest services, with their change since the previous delivery.
fn top_lines(b: &Budget, summary: &ReportSummary, before: Option<&Previous>) -> Vec<ServiceLine> {
    let mut now: BTreeMap<&str, (Decimal, &str)> = BTreeMap::new();
    for t in summary.totals.iter().filter(|t| b.covers(t)) {
        let e = now
            .entry(&t.service)
            .or_insert((Decimal::ZERO, &t.service_name));
        e.0 += t.cost;
    }
    let mut then: BTreeMap<&str, Decimal> = BTreeMap::new();
    if let Some(p) = before {
        for t in p
            .totals
            .iter()
            .filter(|t| b.covers_line(&t.account, &t.service, &t.currency))
        {
            *then.entry(&t.service).or_default() += t.cost;
        }
    }
    let mut lines: Vec<ServiceLine> = now
        .into_iter()
        .map(|(service, (cost, name))| ServiceLine {
            service: service.into(),
            name: name.into(),
            cost,
            change: before.map(|_| cost - then.get(service).copied().unwrap_or_default()),
        })
        .collect();
    lines.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.service.cmp(&b.service)));
    lines.truncate(5);
    lines
}

fn severity_of(m: &Message) -> String {
    m.payload["severity"].as_str().unwrap_or("info").to_string()
}
