//! The delivery of one object, driven over the [`Ports`]: every step in order, each decision
//! taken by a function of [`super::decide`].

use super::decide::{
    merge, on_failure, replace, seen_before, sweeps, sweeps_own, version_of, Done, OnFailure,
    Replace, MAX_FLIP_ATTEMPTS,
};
use super::outbox::fit_outbox;
use super::ports::{Failure, Ports};
use super::record::{describe, received};
use super::types::{stamp, IngestRecord, Object, Outcome, Owed, Pointer, RecordOutcome, Sent};
use crate::alert::notices;
use crate::alert::plan::{plan_delivery, Alert, Delivery, MonthFigures, Previous};
use crate::budget::spec::specs_of;
use crate::budget::standing::months_needed;
use crate::budget::Budget;
use crate::period::Period;
use crate::report::{ErrorKind, ReportError, ReportSummary};
use chrono::{DateTime, Utc};

/// What making a version live did.
enum Live {
    /// It is the period's live delivery now (with the budgets its alerts were planned for).
    Now(Vec<Budget>),
    /// It already was (an earlier attempt got this far).
    Already,
    /// A delivery that outranks it is live.
    Outranked(String),
}

/// Reads, stores and alerts for one report object, and records what happened, once, whatever
/// the outcome. A failure that a retry can help is returned after it is recorded.
pub async fn deliver<P: Ports>(ports: &P, object: &Object) -> Result<RecordOutcome, P::Error> {
    let now = ports.now();
    let record = received(object, now);
    let result = run(ports, object, now, &record).await;
    finish(ports, object, record, now, result).await
}

/// Everything for one object, one period after the other (a FOCUS dataset may span several;
/// each replaces only its own period). Returns each period's ingest record and outcome.
async fn run<P: Ports>(
    ports: &P,
    object: &Object,
    now: DateTime<Utc>,
    received: &IngestRecord,
) -> Result<Vec<(IngestRecord, Done)>, P::Error> {
    let sequencer = object.padded_sequencer();
    if sequencer.is_some() {
        let latest = ports.latest_sequencer(&object.bucket, &object.key).await?;
        if let Some(done) = seen_before(sequencer.as_deref(), latest.as_deref()) {
            return Ok(vec![(received.clone(), done)]);
        }
    }
    // Read once for the whole object: the engine sums the budgets in its pass.
    let budgets = ports.budgets().await?;
    let specs = specs_of(&budgets);
    let commitments = budgets.iter().any(|b| b.watch().is_some());
    let mut out = Vec::new();
    for mut summary in ports.summarize(object, &specs, commitments).await? {
        // A commitment budget's gauge is kept with the version, like a budget's spend.
        gauge_figures(&budgets, &mut summary);
        let period = summary.billing_period.ok_or_else(|| {
            P::Error::report(ReportError::new(
                &object.key,
                ErrorKind::Invalid("the report names no billing period".into()),
            ))
        })?;
        let mut record = received.clone();
        describe(&mut record, &summary, period);
        let done = deliver_period(ports, object, &summary, period, &budgets, now).await?;
        out.push((record, done));
    }
    note_sequencer(ports, object).await?;
    Ok(out)
}

/// Puts each gauge budget's figures (utilization, coverage) into `summary`'s budgets, so that
/// they are stored with its version and read back for the months after.
fn gauge_figures(budgets: &[Budget], summary: &mut ReportSummary) {
    for b in budgets {
        let Some(gauge) = b.watch().and_then(|w| w.gauge()) else {
            continue;
        };
        if summary.budgets.iter().any(|f| f.name == b.name) {
            continue;
        }
        let f = crate::commitment::watch::figures_of(&b.name, gauge, &b.model.filter, summary);
        summary.budgets.push(f);
    }
}

/// Remembers this event's sequencer as the key's newest, last of all: a retry of an attempt
/// that died before this point redoes (idempotently) whatever was left.
async fn note_sequencer<P: Ports>(ports: &P, object: &Object) -> Result<(), P::Error> {
    if let Some(seq) = object.padded_sequencer() {
        ports
            .note_sequencer(&object.bucket, &object.key, &seq, object.etag.as_deref())
            .await?;
    }
    Ok(())
}

/// Stores one period's totals as this object's version, makes it live (with the alerts it
/// owes, in one transaction) if it is the period's newest delivery, removes versions that can
/// never be live again, and sends what the period's outbox holds.
async fn deliver_period<P: Ports>(
    ports: &P,
    object: &Object,
    summary: &ReportSummary,
    period: Period,
    budgets: &[Budget],
    now: DateTime<Utc>,
) -> Result<Done, P::Error> {
    let payer = summary
        .payer_account_id
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let version = version_of(object);
    let next = Pointer {
        payer: payer.clone(),
        period,
        version: version.clone(),
        report_key: object.key.clone(),
        order_key: object.order_key(),
        rank: summary.format.rank(),
        format: summary.format,
        status: summary.status,
        as_of: summary.as_of.clone(),
        delivery_id: summary.delivery_id.clone(),
        stored_at: stamp(now),
        rows_summed: summary.rows_summed,
        sequencer: object.padded_sequencer(),
    };
    // Noted before the first item, so a version whose attempt dies is found and removed.
    ports.mark_version(&next, now).await?;
    let written = ports.write_version(summary, &next).await?;
    ports.version_written(object, period, written);
    ports.version_complete(period, &payer, &version).await?;
    let anomalies = ports.anomalies(object, summary, period, &payer).await?;
    let live = make_live(ports, object, summary, &next, &anomalies, budgets, now).await?;
    if let Live::Now(budgets) = &live {
        ports.went_live(summary, period, budgets);
    }
    // Swept before the outbox is drained: a pending alert (an error there) must not keep
    // versions that can never be live.
    sweep(ports, &next, now).await?;
    let alerts_sent = drain(ports, period, now).await?;
    Ok(match live {
        Live::Now(_) => Done {
            outcome: Outcome::Stored,
            reason: None,
            totals_written: written,
            alerts_sent,
        },
        Live::Already => Done {
            outcome: Outcome::Duplicate,
            reason: Some("this delivery is already live".into()),
            totals_written: 0,
            alerts_sent,
        },
        Live::Outranked(reason) => Done {
            alerts_sent,
            ..Done::without_work(Outcome::Stale, reason)
        },
    })
}

/// Reads the live pointer, decides whether `next` replaces it, plans the alerts against the
/// delivery it replaces, and flips the pointer and writes the owed alerts in one transaction,
/// conditional on the pointer being unchanged; reads again on a conflict, at most
/// [`MAX_FLIP_ATTEMPTS`] times.
async fn make_live<P: Ports>(
    ports: &P,
    object: &Object,
    summary: &ReportSummary,
    next: &Pointer,
    anomalies: &[Alert],
    budgets: &[Budget],
    now: DateTime<Utc>,
) -> Result<Live, P::Error> {
    let object_version = object.version_tag();
    for _ in 0..MAX_FLIP_ATTEMPTS {
        let current = ports.pointer(next.period, &next.payer).await?;
        match replace(next, current.as_ref()) {
            Replace::Already => return Ok(Live::Already),
            Replace::Outranked(reason) => return Ok(Live::Outranked(reason)),
            Replace::Flip => {}
        }
        let previous = match &current {
            Some(c) => Some(Previous {
                status: c.status,
                lines: ports.lines(&c.payer, c.period, &c.version).await?,
            }),
            None => None,
        };
        let history = history(ports, budgets, next).await?;
        let plan = plan_delivery(&Delivery {
            report_key: &object.key,
            object_version: &object_version,
            summary,
            period: next.period,
            previous: previous.as_ref(),
            budgets,
            history: &history,
            anomalies,
        });
        let (outbox, left_out) = fit_outbox(
            &next.version,
            &plan,
            |rest| notices::overflow(next.period, &object.key, &object_version, rest),
            |items| ports.outbox_fits(items),
        );
        if left_out > 0 {
            ports.outbox_overflow(plan.len(), left_out);
        }
        if ports.flip(next, current.as_ref(), &outbox, now).await? == super::Flip::Flipped {
            return Ok(Live::Now(budgets.to_vec()));
        }
    }
    Err(P::Error::flip_contended(next.period, MAX_FLIP_ATTEMPTS))
}

/// The other months' live figures the budgets need to stand in `next`'s period (quarterly
/// and annual spans, automatic amounts): each month's live pointer of the same payer, and the
/// figures stored with its version.
async fn history<P: Ports>(
    ports: &P,
    budgets: &[Budget],
    next: &Pointer,
) -> Result<Vec<MonthFigures>, P::Error> {
    let mut out = Vec::new();
    for period in months_needed(budgets, next.period) {
        let Some(live) = ports.pointer(period, &next.payer).await? else {
            continue;
        };
        let figures = ports
            .budget_figures(&live.payer, period, &live.version)
            .await?;
        out.push(MonthFigures {
            period,
            figures,
            as_of: live.as_of.clone(),
            status: live.status,
        });
    }
    Ok(out)
}

/// Removes the versions of `own`'s (payer, period) that can never be live again: other
/// deliveries' (see [`sweeps`]), and this one's when outranked, whether or not its mark is
/// still listed (a concurrent delivery of the same event may have swept the mark while this one
/// was still writing items; see [`sweeps_own`]). Each version's items go before its mark, so a
/// crash here is finished by the next sweep.
async fn sweep<P: Ports>(ports: &P, own: &Pointer, now: DateTime<Utc>) -> Result<(), P::Error> {
    let (period, payer) = (own.period, own.payer.as_str());
    let Some(live) = ports.pointer(period, payer).await? else {
        return Ok(());
    };
    for mark in ports.versions(period, payer).await? {
        if mark.version != own.version && sweeps(&live, &mark, now) {
            ports.delete_version(payer, period, &mark.version).await?;
            ports.forget_version(period, payer, &mark.version).await?;
        }
    }
    if sweeps_own(&live, own) {
        ports.delete_version(payer, period, &own.version).await?;
        ports.forget_version(period, payer, &own.version).await?;
    }
    Ok(())
}

/// Sends every alert in the period's outbox (this delivery's, and any an earlier attempt
/// left), once each; an outbox item goes when all its alerts are sent. One alert that fails
/// does not stop the others; a failure, or an alert another attempt holds, is returned after
/// all were tried, so the event is retried.
async fn drain<P: Ports>(ports: &P, period: Period, now: DateTime<Utc>) -> Result<u64, P::Error> {
    let mut sent = 0;
    let mut first_error: Option<P::Error> = None;
    for item in ports.outbox(period).await? {
        let mut pending = false;
        for alert in &item.alerts {
            match ports.send(alert, now).await {
                Ok(Sent::Now) => sent += 1,
                Ok(Sent::Before | Sent::NoTopic | Sent::Refused) => {}
                Ok(Sent::Pending) => {
                    pending = true;
                    first_error.get_or_insert(P::Error::alert_pending(&alert.alert_id));
                }
                Err(e) => {
                    ports.alert_not_sent(&alert.alert_id, &e);
                    pending = true;
                    first_error.get_or_insert(e);
                }
            }
        }
        if !pending {
            ports.delete_outbox(period, &item.sk).await?;
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(sent),
    }
}

/// Records the ingest once, whatever the outcome; a report that cannot be read alerts once
/// per object version (see [`on_failure`]).
async fn finish<P: Ports>(
    ports: &P,
    object: &Object,
    mut record: IngestRecord,
    started: DateTime<Utc>,
    result: Result<Vec<(IngestRecord, Done)>, P::Error>,
) -> Result<RecordOutcome, P::Error> {
    let elapsed = || (ports.now() - started).num_milliseconds().max(0) as u64;
    let periods = match result {
        Ok(periods) => periods,
        Err(e) => {
            record.duration_ms = elapsed();
            record.error = Some(e.to_string());
            let action = on_failure(e.class(), e.is_empty_report());
            if action == OnFailure::Skip {
                // Nothing to store, nothing wrong enough to alert: the month stays as it was.
                record.outcome = Outcome::Skipped;
                let outcome =
                    RecordOutcome::new(&object.key, Outcome::Skipped, record.error.clone());
                ports.done(object, &outcome, 0, record.duration_ms);
                note_sequencer(ports, object).await?;
                ports.record(&record).await?;
                ports.recorded(&record);
                return Ok(outcome);
            }
            record.outcome = Outcome::Failed;
            let failed = RecordOutcome::new(&object.key, Outcome::Failed, record.error.clone());
            ports.done(object, &failed, 0, record.duration_ms);
            if action == OnFailure::AlertAndNote {
                match report_failed(ports, object, record.period, &e, started).await {
                    Ok(sent) => {
                        record.alerts_sent = sent;
                        note_sequencer(ports, object).await?;
                    }
                    Err(not_sent) => {
                        // The alert is owed still: the sequencer stays unnoted, so the retry
                        // reads the report again and sends it (its claim keeps it to once).
                        ports.record(&record).await?;
                        ports.recorded(&record);
                        return Err(not_sent);
                    }
                }
            }
            ports.record(&record).await?;
            ports.recorded(&record);
            return Err(e);
        }
    };
    let mut recorded = Vec::with_capacity(periods.len());
    for (mut record, done) in periods {
        record.outcome = done.outcome;
        record.totals_written = done.totals_written;
        record.alerts_sent = done.alerts_sent;
        record.duration_ms = elapsed();
        ports.record(&record).await?;
        ports.recorded(&record);
        recorded.push((record, done));
    }
    let (outcome, rows_read) = merge(&object.key, &recorded);
    ports.done(object, &outcome, rows_read, elapsed());
    Ok(outcome)
}

/// A report that cannot be read alerts once per object version. Returns how many were sent
/// (0: sent before, or no topic), or the failure to send it (a transient error, or the alert
/// held by another attempt), told to the watcher, so the event is retried.
async fn report_failed<P: Ports>(
    ports: &P,
    object: &Object,
    period: Period,
    error: &P::Error,
    now: DateTime<Utc>,
) -> Result<u64, P::Error> {
    let alert = notices::report_failed(
        period,
        &object.bucket,
        &object.key,
        &object.version_tag(),
        &error.to_string(),
    );
    match ports.send(&Owed::from(&alert), now).await {
        Ok(Sent::Now) => Ok(1),
        Ok(Sent::Before | Sent::NoTopic | Sent::Refused) => Ok(0),
        Ok(Sent::Pending) => Err(P::Error::alert_pending(&alert.alert_id)),
        Err(e) => {
            ports.alert_not_sent(&alert.alert_id, &e);
            Err(e)
        }
    }
}
