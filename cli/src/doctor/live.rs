//! `doctor --live`: one delivery end to end through the deployed function. It sets the test
//! budget, uploads the synthetic report (see `synthetic`), waits for the function's ingest
//! record, the totals and the test alert, then removes everything it wrote: the object (every
//! version and delete marker), the ingest record, the key's sequencer note, the period's
//! pointer and version notes of the test payer, the totals of those versions, the alert claim
//! and any outbox item of those versions, and the budget. Leftovers of an earlier run that was
//! cut short are removed first. Nothing outside period 2000-01, payer 000000000000, the budget
//! `billwatch-doctor` and the folder `<ReportPrefix>billwatch-doctor/` is read for deletion or
//! deleted.
//!
//! The function must run on its own (S3 notification or EventBridge rule): the doctor only
//! writes the object and watches the tables. Do not run two `--live` doctors on one stack at
//! once: they share the test payer's pointer.
//!
//! Calls, besides the store reads (dynamodb:Query on the reports, totals and alerts tables):
//! dynamodb:PutItem and dynamodb:DeleteItem on the budgets table (the test budget);
//! s3:PutObject, s3:ListBucketVersions (ListObjectVersions) and s3:DeleteObjectVersion
//! (DeleteObject with a version id) under the doctor's folder; dynamodb:DeleteItem on the
//! reports, totals and alerts tables (the test's items only).

use super::gather::Clients;
use super::judge::{Check, Expected};
use super::synthetic;
use crate::error::CliError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use billwatch_aws::outcome::Outcome;
use billwatch_aws::store::{
    live_totals, AlertsStore, BudgetsStore, ReportsStore, StoreError, TotalsStore,
};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

type Item = HashMap<String, AttributeValue>;

fn store_error(e: StoreError) -> String {
    CliError::from(e).message(None)
}

fn sdk_error<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    action: &str,
    resource: &str,
    e: &aws_sdk_dynamodb::error::SdkError<E>,
) -> String {
    crate::aws_error::explain(
        action,
        &billwatch_aws::error::CallError::of(e),
        Some(resource),
    )
    .message(None)
}

/// The stores over the stack's tables.
struct Stores {
    reports: ReportsStore,
    totals: TotalsStore,
    alerts: AlertsStore,
    budgets: BudgetsStore,
}

impl Stores {
    fn new(c: &Clients, e: &Expected) -> Self {
        Stores {
            reports: ReportsStore::new(c.dynamo.clone(), &e.reports_table),
            totals: TotalsStore::new(c.dynamo.clone(), &e.totals_table),
            alerts: AlertsStore::new(c.dynamo.clone(), &e.alerts_table),
            budgets: BudgetsStore::new(c.dynamo.clone(), &e.budgets_table),
        }
    }
}

/// Polls `probe` once a second until it gives a value or `deadline` passes, reporting the
/// wait every 5 seconds.
async fn wait_for<T, F, Fut>(
    what: &str,
    deadline: Instant,
    started: Instant,
    progress: &dyn Fn(&str),
    mut probe: F,
) -> Result<Option<T>, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, String>>,
{
    let mut last = Instant::now();
    loop {
        if let Some(v) = probe().await? {
            return Ok(Some(v));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        if last.elapsed() >= Duration::from_secs(5) {
            last = Instant::now();
            progress(&format!(
                "waiting for {what} ({} s)",
                started.elapsed().as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The live round trip; one check per step. `timeout` bounds the whole wait for the function.
pub async fn round_trip(
    c: &Clients,
    e: &Expected,
    timeout: Duration,
    progress: &dyn Fn(&str),
) -> Vec<Check> {
    let mut out = Vec::new();
    if let Err(err) = cleanup(c, e).await {
        out.push(Check::fail(
            "live: leftovers of an earlier run",
            err,
            "see the error; then run doctor --live again",
        ));
        return out;
    }
    steps(c, e, timeout, progress, &mut out).await;
    out.push(match cleanup(c, e).await {
        Ok(removed) => Check::pass(
            "live: cleanup",
            format!(
                "removed {} object version(s) and {} item(s); nothing of the test is left",
                removed.objects, removed.items
            ),
        ),
        Err(err) => Check::fail(
            "live: cleanup",
            err,
            "run doctor --live again (it removes what an earlier run left first)",
        ),
    });
    out
}

async fn steps(
    c: &Clients,
    e: &Expected,
    timeout: Duration,
    progress: &dyn Fn(&str),
    out: &mut Vec<Check>,
) {
    let s = Stores::new(c, e);
    let period = synthetic::period();
    let budget = synthetic::budget();
    if let Err(err) = s.budgets.put(&budget).await {
        out.push(Check::fail(
            "live: test budget",
            store_error(err),
            "see the error; then run doctor --live again",
        ));
        return;
    }
    out.push(Check::pass(
        "live: test budget",
        format!(
            "{}: 50% of 1 {} for account {} in {period}",
            synthetic::BUDGET,
            synthetic::CURRENCY,
            synthetic::PAYER
        ),
    ));

    let run = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ").to_string();
    let key = synthetic::key(&e.report_prefix, &run);
    let put =
        c.s3.put_object()
            .bucket(&e.bucket)
            .key(&key)
            .content_type("text/csv")
            .body(ByteStream::from(synthetic::report().into_bytes()))
            .send()
            .await;
    if let Err(err) = put {
        out.push(Check::fail(
            "live: upload",
            sdk_error("s3:PutObject", &e.bucket, &err),
            "see the error; then run doctor --live again",
        ));
        return;
    }
    out.push(Check::pass(
        "live: upload",
        format!("s3://{}/{key}", e.bucket),
    ));

    let started = Instant::now();
    let deadline = started + timeout;
    let record = wait_for(
        "the function to ingest the test report",
        deadline,
        started,
        progress,
        {
            let (reports, key, bucket) = (&s.reports, &key, &e.bucket);
            move || async move {
                let records = reports.list(period).await.map_err(store_error)?;
                Ok(records
                    .into_iter()
                    .find(|r| r.key == *key && r.bucket == *bucket))
            }
        },
    )
    .await;
    let logs = format!(
        "check the notification or rule checks above, then the function's log: aws logs tail /aws/lambda/{}-report-ingest --since 15m",
        e.stack
    );
    let record = match record {
        Err(err) => {
            out.push(Check::fail("live: ingest record", err, "see the error"));
            return;
        }
        Ok(None) => {
            out.push(Check::fail(
                "live: ingest record",
                format!(
                    "no ingest of the test report within {} s: the function did not run, or has not finished",
                    timeout.as_secs()
                ),
                logs,
            ));
            return;
        }
        Ok(Some(r)) => r,
    };
    if record.outcome != Outcome::Stored {
        out.push(Check::fail(
            "live: ingest record",
            format!(
                "{}: {}",
                record.outcome,
                record.error.as_deref().unwrap_or("no error recorded")
            ),
            logs,
        ));
        return;
    }
    out.push(Check::pass(
        "live: ingest record",
        format!(
            "stored after {} s: {} row(s) read, {} ms in the function",
            started.elapsed().as_secs(),
            record.rows_read,
            record.duration_ms
        ),
    ));

    match live_totals(&s.reports, &s.totals, period, Some(synthetic::PAYER)).await {
        Err(err) => out.push(Check::fail(
            "live: totals",
            store_error(err),
            "see the error",
        )),
        Ok(totals) => {
            let ours: Vec<_> = totals.iter().filter(|t| t.report_key == key).collect();
            let right = ours.len() == 1
                && ours[0].service == synthetic::SERVICE
                && ours[0].currency == synthetic::CURRENCY
                && ours[0].cost == synthetic::cost();
            out.push(if right {
                Check::pass(
                    "live: totals",
                    format!(
                        "{} {} {} {}, live for {period}",
                        synthetic::PAYER,
                        synthetic::SERVICE,
                        synthetic::cost(),
                        synthetic::CURRENCY
                    ),
                )
            } else {
                Check::fail(
                    "live: totals",
                    format!(
                        "expected {} {} {} {}, found [{}]",
                        synthetic::PAYER,
                        synthetic::SERVICE,
                        synthetic::cost(),
                        synthetic::CURRENCY,
                        ours.iter()
                            .map(|t| format!("{} {} {} {}", t.account, t.service, t.cost, t.currency))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "the function stored other totals than the report's: is it running this version of billwatch? deploy again",
                )
            });
        }
    }

    let alert = wait_for(
        "the test alert to be published",
        deadline.max(Instant::now() + Duration::from_secs(10)),
        started,
        progress,
        {
            let (alerts, key) = (&s.alerts, &key);
            move || async move {
                let listed = alerts.list(period).await.map_err(store_error)?;
                Ok(listed.into_iter().find(|a| {
                    a.budget.as_deref() == Some(synthetic::BUDGET)
                        && a.report_key.as_deref() == Some(key.as_str())
                        && (a.published_at.is_some() || a.failed_at.is_some())
                }))
            }
        },
    )
    .await;
    // The function writes the key's sequencer note last: once it is there, the function is
    // done with the test report and the cleanup cannot race it.
    let note = format!("K#{}/{key}", e.bucket);
    let _ = wait_for(
        "the function to finish",
        Instant::now() + Duration::from_secs(10),
        started,
        progress,
        {
            let (table, note) = (&e.reports_table, &note);
            move || async move { Ok(query(c, table, note).await?.first().map(|_| ())) }
        },
    )
    .await;
    out.push(match alert {
        Err(err) => Check::fail("live: alert", err, "see the error"),
        Ok(None) => Check::fail(
            "live: alert",
            "the test budget's alert was not published in time (no claim, or a claim not yet published)",
            logs,
        ),
        Ok(Some(a)) if a.published_at.is_some() => Check::pass(
            "live: alert",
            format!(
                "published to the alert topic: \"{}\" (message {})",
                a.subject,
                a.message_id.as_deref().unwrap_or("-")
            ),
        ),
        Ok(Some(a)) => Check::fail(
            "live: alert",
            format!(
                "SNS refused it: {}",
                a.error.as_deref().unwrap_or("no error recorded")
            ),
            "check the alert topic exists and the function's role may sns:Publish to it (and use its KMS key)",
        ),
    });
}

/// What a cleanup removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub objects: usize,
    pub items: usize,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn get<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

async fn query(c: &Clients, table: &str, pk: &str) -> Result<Vec<Item>, String> {
    c.dynamo
        .query()
        .table_name(table)
        .consistent_read(true)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(pk))
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| sdk_error("dynamodb:Query", table, &e))
}

async fn delete(c: &Clients, table: &str, item: &Item) -> Result<(), String> {
    let (Some(pk), Some(sk)) = (item.get("pk"), item.get("sk")) else {
        return Ok(());
    };
    c.dynamo
        .delete_item()
        .table_name(table)
        .key("pk", pk.clone())
        .key("sk", sk.clone())
        .send()
        .await
        .map_err(|e| sdk_error("dynamodb:DeleteItem", table, &e))?;
    Ok(())
}

/// Every object version and delete marker under the doctor's folder: (key, version id).
async fn object_versions(
    c: &Clients,
    e: &Expected,
) -> Result<Vec<(String, Option<String>)>, String> {
    let folder = synthetic::folder(&e.report_prefix);
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page =
            c.s3.list_object_versions()
                .bucket(&e.bucket)
                .prefix(&folder)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(|err| sdk_error("s3:ListBucketVersions", &e.bucket, &err))?;
        for v in page.versions() {
            out.push((
                v.key().unwrap_or_default().to_string(),
                v.version_id().map(str::to_string),
            ));
        }
        for m in page.delete_markers() {
            out.push((
                m.key().unwrap_or_default().to_string(),
                m.version_id().map(str::to_string),
            ));
        }
        if page.is_truncated() != Some(true) {
            return Ok(out);
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

/// The test's items in the reports and alerts tables, the test payer's versions, and the keys
/// of its ingest records.
struct Found {
    /// The test payer's versions (from its pointer and version notes, plus those given).
    versions: BTreeSet<String>,
    reports: Vec<Item>,
    alerts: Vec<Item>,
    totals: Vec<Item>,
    sequencer_notes: Vec<Item>,
    budget: Vec<Item>,
}

impl Found {
    fn count(&self) -> usize {
        self.reports.len()
            + self.alerts.len()
            + self.totals.len()
            + self.sequencer_notes.len()
            + self.budget.len()
    }
}

async fn find(
    c: &Clients,
    e: &Expected,
    object_keys: &BTreeSet<String>,
    known_versions: &BTreeSet<String>,
) -> Result<Found, String> {
    let period = synthetic::period();
    let payer = synthetic::PAYER;
    let folder = synthetic::folder(&e.report_prefix);
    let pointer = format!("S#{payer}");
    let note = format!("V#{payer}#");

    let mut versions = known_versions.clone();
    let mut keys = object_keys.clone();
    let mut reports = Vec::new();
    for item in query(c, &e.reports_table, &format!("P#{period}")).await? {
        let sk = get(&item, "sk").unwrap_or_default();
        let ours = if sk == pointer {
            versions.extend(get(&item, "version").map(str::to_string));
            true
        } else if let Some(version) = sk.strip_prefix(&note) {
            versions.insert(version.to_string());
            true
        } else if sk.starts_with("R#") {
            let key = get(&item, "key").unwrap_or_default();
            let mine = key.starts_with(&folder) && get(&item, "bucket") == Some(e.bucket.as_str());
            if mine {
                keys.insert(key.to_string());
            }
            mine
        } else {
            false
        };
        if ours {
            reports.push(item);
        }
    }

    let mut sequencer_notes = Vec::new();
    for key in &keys {
        sequencer_notes.extend(query(c, &e.reports_table, &format!("K#{}/{key}", e.bucket)).await?);
    }

    let mut totals = Vec::new();
    for version in &versions {
        totals.extend(query(c, &e.totals_table, &format!("T#{payer}#{period}#{version}")).await?);
    }

    let budget_claims = format!("{}#", synthetic::BUDGET);
    let alerts = query(c, &e.alerts_table, &format!("P#{period}"))
        .await?
        .into_iter()
        .filter(|item| {
            let sk = get(item, "sk").unwrap_or_default();
            sk.starts_with(&budget_claims)
                || sk
                    .strip_prefix("O#")
                    .and_then(|rest| rest.split('#').next())
                    .is_some_and(|v| versions.contains(v))
                || get(item, "report_key").is_some_and(|k| k.starts_with(&folder))
        })
        .collect();

    let budget = query(c, &e.budgets_table, "BUDGETS")
        .await?
        .into_iter()
        .filter(|item| get(item, "sk") == Some(synthetic::BUDGET))
        .collect();

    Ok(Found {
        versions,
        reports,
        alerts,
        totals,
        sequencer_notes,
        budget,
    })
}

/// Removes everything the doctor writes (this run's and any earlier run's), then checks that
/// nothing of it is left.
pub async fn cleanup(c: &Clients, e: &Expected) -> Result<Removed, String> {
    let mut removed = Removed::default();
    let versions = object_versions(c, e).await?;
    let keys: BTreeSet<String> = versions.iter().map(|(k, _)| k.clone()).collect();
    for (key, version) in &versions {
        c.s3.delete_object()
            .bucket(&e.bucket)
            .key(key)
            .set_version_id(version.clone())
            .send()
            .await
            .map_err(|err| sdk_error("s3:DeleteObjectVersion", &e.bucket, &err))?;
        removed.objects += 1;
    }

    let found = find(c, e, &keys, &BTreeSet::new()).await?;
    for (table, items) in [
        (&e.reports_table, &found.reports),
        (&e.reports_table, &found.sequencer_notes),
        (&e.totals_table, &found.totals),
        (&e.alerts_table, &found.alerts),
        (&e.budgets_table, &found.budget),
    ] {
        for item in items {
            delete(c, table, item).await?;
            removed.items += 1;
        }
    }

    let left_objects = object_versions(c, e).await?;
    let left = find(c, e, &keys, &found.versions).await?;
    if !left_objects.is_empty() || left.count() > 0 {
        return Err(format!(
            "{} object version(s) and {} item(s) of the test are still there",
            left_objects.len(),
            left.count()
        ));
    }
    Ok(removed)
}
