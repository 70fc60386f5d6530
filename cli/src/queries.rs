//! `billwatch totals | history | reports | alerts`: read the tables the Lambda writes, with
//! Query only. Table names come from BILLWATCH_*_TABLE (defaults: a stack named `billwatch`).

use crate::error::CliError;
use crate::table::columns;
use billwatch_aws::clients;
use billwatch_aws::store::{
    live_totals, AlertsStore, ReportsStore, StoredTotal, TableNames, TotalsStore,
};
use billwatch_core::alert::render::test_message;
use billwatch_core::period::Period;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(clap::Args)]
pub struct TotalsArgs {
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, default_value_t = this_month())]
    period: Period,
    /// Only this account.
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[arg(long)]
    account: String,
    /// Product code, e.g. AmazonEC2.
    #[arg(long)]
    service: String,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PeriodArgs {
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, default_value_t = this_month())]
    period: Period,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) struct Stores {
    pub(crate) totals: TotalsStore,
    pub(crate) reports: ReportsStore,
    pub(crate) alerts: AlertsStore,
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

pub(crate) async fn stores() -> Stores {
    let names = TableNames::from_env();
    let dynamo = clients::dynamodb(&clients::sdk_config().await);
    Stores {
        totals: TotalsStore::new(dynamo.clone(), names.totals),
        reports: ReportsStore::new(dynamo.clone(), names.reports),
        alerts: AlertsStore::new(dynamo, names.alerts),
    }
}

pub(crate) fn this_month() -> Period {
    Period::of(chrono::Utc::now())
}

/// At least cents, and every digit that was stored.
fn money(value: Decimal) -> String {
    let mut v = value;
    if v.scale() < 2 {
        v.rescale(2);
    }
    v.to_string()
}

fn totals_table(totals: &[StoredTotal]) -> String {
    let mut table = columns(
        &["PAYER", "ACCOUNT", "SERVICE", "CURRENCY", "COST", "STATUS"],
        &[4],
    );
    let mut grand: BTreeMap<&str, Option<Decimal>> = BTreeMap::new();
    for t in totals {
        let sum = grand.entry(&t.currency).or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|v| v.checked_add(t.cost));
        table.add_row(vec![
            t.payer.clone(),
            t.account.clone(),
            t.service.clone(),
            t.currency.clone(),
            money(t.cost),
            t.status.to_string(),
        ]);
    }
    let mut out = format!("{}\n", table.trim_fmt());
    for (currency, cost) in grand {
        let cost = cost.map_or_else(|| "(beyond the decimal range)".into(), money);
        let _ = writeln!(out, "Total {currency}: {cost}");
    }
    out
}

pub fn totals(args: TotalsArgs) -> Result<String, CliError> {
    runtime().block_on(async {
        let s = stores().await;
        let totals =
            live_totals(&s.reports, &s.totals, args.period, args.account.as_deref()).await?;
        if args.json {
            return Ok(json!({ "period": args.period, "totals": totals }).to_string() + "\n");
        }
        if totals.is_empty() {
            return Ok(format!("no totals stored for {}\n", args.period));
        }
        Ok(totals_table(&totals))
    })
}

pub fn history(args: HistoryArgs) -> Result<String, CliError> {
    runtime().block_on(async {
        let s = stores().await;
        let mut live = Vec::new();
        let mut pointers = BTreeMap::new();
        for t in s.totals.history(&args.account, &args.service).await? {
            let key = (t.period, t.payer.clone());
            if !pointers.contains_key(&key) {
                let p = s.reports.pointer(t.period, &t.payer).await?;
                pointers.insert(key.clone(), p.map(|p| p.version));
            }
            if pointers[&key].as_deref() == Some(t.version.as_str()) {
                live.push(t);
            }
        }
        if args.json {
            return Ok(
                json!({ "account": args.account, "service": args.service, "history": live })
                    .to_string()
                    + "\n",
            );
        }
        let mut out = format!("{} {}\n", args.account, args.service);
        for t in &live {
            let _ = writeln!(
                out,
                "{}  {:<8} {:>16}  {}",
                t.period, t.currency, t.cost, t.status
            );
        }
        if live.is_empty() {
            out.push_str("no totals stored\n");
        }
        Ok(out)
    })
}

pub fn reports(args: PeriodArgs) -> Result<String, CliError> {
    let period = args.period;
    runtime().block_on(async {
        let s = stores().await;
        let records = s.reports.list(period).await?;
        let pointers = s.reports.pointers(period).await?;
        if args.json {
            return Ok(
                json!({ "period": period, "live": pointers, "reports": records }).to_string()
                    + "\n",
            );
        }
        let mut out = String::new();
        for p in &pointers {
            let _ = writeln!(
                out,
                "live for payer {}: {} ({}, {}, stored {})",
                p.payer, p.report_key, p.format, p.status, p.stored_at
            );
        }
        for r in &records {
            let _ = writeln!(
                out,
                "{}  {:<9} {:<22} {:<9} rows {:>8}  {} ms  {}{}",
                r.received_at,
                r.outcome,
                r.format.map_or("-", |f| f.name()),
                r.status.map_or("-", |f| f.name()),
                r.rows_read,
                r.duration_ms,
                r.key,
                r.error
                    .as_ref()
                    .map(|e| format!("\n    error: {e}"))
                    .unwrap_or_default()
            );
        }
        if records.is_empty() {
            let _ = writeln!(out, "no reports ingested for {period}");
        }
        Ok(out)
    })
}

#[derive(clap::Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    command: Option<AlertsCommand>,
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, default_value_t = this_month())]
    period: Period,
    /// Only this budget's alerts.
    #[arg(long)]
    budget: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum AlertsCommand {
    /// Publish a clearly marked test message to the alert topic (BILLWATCH_ALERT_TOPIC_ARN),
    /// to check that subscriptions work.
    Test {
        /// Topic to publish to (default: BILLWATCH_ALERT_TOPIC_ARN).
        #[arg(long)]
        topic_arn: Option<String>,
    },
}

pub fn alerts(args: AlertsArgs) -> Result<String, CliError> {
    if let Some(AlertsCommand::Test { topic_arn }) = args.command {
        return alerts_test(topic_arn);
    }
    let period = args.period;
    runtime().block_on(async {
        let s = stores().await;
        let mut alerts: Vec<_> = s
            .alerts
            .list(period)
            .await?
            .into_iter()
            .filter(|a| args.budget.is_none() || a.budget == args.budget)
            .collect();
        crate::alert_order::sort(&mut alerts);
        if args.json {
            return Ok(json!({ "period": period, "alerts": alerts }).to_string() + "\n");
        }
        let mut out = String::new();
        for a in &alerts {
            let _ = writeln!(
                out,
                "{}  {:<11} {:<8}  {}\n    why: {}\n    sent: {}  id: {}",
                a.claimed_at,
                a.kind.as_str(),
                a.severity.name(),
                a.subject,
                a.reason,
                a.published_at
                    .clone()
                    .unwrap_or_else(|| "NOT published (claim pending)".into()),
                a.alert_id
            );
        }
        if alerts.is_empty() {
            let _ = writeln!(out, "no alerts for {period}");
        }
        Ok(out)
    })
}

fn alerts_test(topic_arn: Option<String>) -> Result<String, CliError> {
    let topic = topic_arn
        .or_else(|| std::env::var("BILLWATCH_ALERT_TOPIC_ARN").ok())
        .ok_or_else(|| {
            CliError::input("no topic: pass --topic-arn or set BILLWATCH_ALERT_TOPIC_ARN")
        })?;
    let chat = std::env::var("BILLWATCH_CHAT_TOPIC_ARN")
        .ok()
        .filter(|t| !t.is_empty());
    runtime().block_on(async {
        let sns = clients::sns(&clients::sdk_config().await);
        let now = billwatch_aws::timestamp(chrono::Utc::now());
        let m = test_message(&now);
        let attributes: Vec<(String, String)> = m
            .attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let id =
            billwatch_aws::notify::publish(&sns, &topic, &m.subject, &m.sns_json(), &attributes)
                .await
                .map_err(CliError::failed)?;
        let mut out = format!("test message published to {topic} (message id {id})\n");
        if let Some(chat) = chat {
            let body = billwatch_core::alert::chat::notification(&m.subject, &m.text, &attributes);
            let id = billwatch_aws::notify::publish_plain(
                &sns,
                &chat,
                &m.subject,
                &body.to_string(),
                &attributes,
            )
            .await
            .map_err(CliError::failed)?;
            out += &format!("test message published to the chat topic {chat} (message id {id})\n");
        }
        Ok(out)
    })
}
