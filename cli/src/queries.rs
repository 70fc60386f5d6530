//! `billwatch totals | history | reports | alerts`: read the tables the Lambda writes, with
//! Query only. Table names follow `--stack` (default `billwatch`); BILLWATCH_*_TABLE override.

use crate::error::CliError;
use crate::output;
use crate::table::{columns, money};
use billwatch_aws::clients;
use billwatch_aws::store::{live_totals, AlertsStore, ReportsStore, StoredTotal, TotalsStore};
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
    /// Only this account (12 digits).
    #[arg(long)]
    account: Option<String>,
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
    /// Show every stored digit instead of rounding to the cent.
    #[arg(long)]
    exact: bool,
    /// Draw the month to date day by day (cumulative) instead of the table, against a
    /// straight budget line when --budget is given.
    #[arg(long)]
    chart: bool,
    /// With --chart: chart this budget's scope and draw its amount pro rata as the line.
    #[arg(long, value_name = "NAME", requires = "chart")]
    budget: Option<String>,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// Account id (12 digits).
    #[arg(long)]
    account: String,
    /// Product code, e.g. AmazonEC2.
    #[arg(long)]
    service: String,
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
    /// Show every stored digit instead of rounding to the cent.
    #[arg(long)]
    exact: bool,
    /// Draw a bar per month instead of the table.
    #[arg(long)]
    chart: bool,
    /// With --chart: mark this budget's monthly amount on every bar.
    #[arg(long, value_name = "NAME", requires = "chart")]
    budget: Option<String>,
}

#[derive(clap::Args)]
pub struct PeriodArgs {
    /// Billing period, YYYY-MM (default: this month).
    #[arg(long, default_value_t = this_month())]
    period: Period,
    /// Print JSON (same as --output json).
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

pub(crate) async fn stores() -> Result<Stores, CliError> {
    let names = crate::aws::tables();
    let dynamo = clients::dynamodb(&crate::aws::sdk_config().await?);
    Ok(Stores {
        totals: TotalsStore::new(dynamo.clone(), names.totals),
        reports: ReportsStore::new(dynamo.clone(), names.reports),
        alerts: AlertsStore::new(dynamo, names.alerts),
    })
}

pub(crate) fn this_month() -> Period {
    Period::of(chrono::Utc::now())
}

fn totals_table(totals: &[StoredTotal], exact: bool) -> String {
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
            money(t.cost, exact),
            t.status.to_string(),
        ]);
    }
    let mut out = format!("{}\n", table.trim_fmt());
    for (currency, cost) in grand {
        let cost = cost.map_or_else(|| "(beyond the decimal range)".into(), |c| money(c, exact));
        let _ = writeln!(out, "Total {currency}: {cost}");
    }
    out
}

pub fn totals(args: TotalsArgs) -> Result<String, CliError> {
    runtime().block_on(async {
        let s = stores().await?;
        let totals =
            live_totals(&s.reports, &s.totals, args.period, args.account.as_deref()).await?;
        if output::json(args.json) {
            let totals: Vec<_> = totals.iter().map(output::total).collect();
            return Ok(
                json!({ "billing_period": args.period, "totals": totals }).to_string() + "\n",
            );
        }
        if totals.is_empty() {
            return Ok(format!("no totals stored for {}\n", args.period));
        }
        if args.chart {
            let budget = match &args.budget {
                Some(name) => Some(budget_named(name).await?),
                None => None,
            };
            return Ok(crate::spend_chart::month_to_date(
                &totals,
                args.period,
                budget.as_ref(),
            ));
        }
        Ok(totals_table(&totals, args.exact))
    })
}

/// The budget called `name`, from the budgets table.
async fn budget_named(name: &str) -> Result<billwatch_core::budget::Budget, CliError> {
    let store = billwatch_aws::store::BudgetsStore::new(
        clients::dynamodb(&crate::aws::sdk_config().await?),
        crate::aws::tables().budgets,
    );
    store
        .list()
        .await?
        .into_iter()
        .find(|b| b.name == name)
        .ok_or_else(|| {
            CliError::input(format!(
                "no budget named '{name}' (see `billwatch budgets list`)"
            ))
        })
}

pub fn history(args: HistoryArgs) -> Result<String, CliError> {
    runtime().block_on(async {
        let s = stores().await?;
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
        if output::json(args.json) {
            let history: Vec<_> = live.iter().map(output::total).collect();
            return Ok(json!({ "account_id": args.account, "service": args.service,
                              "history": history })
            .to_string()
                + "\n");
        }
        if live.is_empty() {
            return Ok(format!(
                "no totals stored for account {} and service {}\n",
                args.account, args.service
            ));
        }
        if args.chart {
            let budget = match &args.budget {
                Some(name) => Some(budget_named(name).await?),
                None => None,
            };
            return Ok(crate::spend_chart::months(
                &args.account,
                &args.service,
                &live,
                budget.as_ref(),
            ));
        }
        let mut table = columns(&["PERIOD", "CURRENCY", "COST", "STATUS"], &[2]);
        for t in &live {
            table.add_row(vec![
                t.period.to_string(),
                t.currency.clone(),
                money(t.cost, args.exact),
                t.status.to_string(),
            ]);
        }
        Ok(format!(
            "{} {}\n{}\n",
            args.account,
            args.service,
            table.trim_fmt()
        ))
    })
}

pub fn reports(args: PeriodArgs) -> Result<String, CliError> {
    let period = args.period;
    runtime().block_on(async {
        let s = stores().await?;
        let records = s.reports.list(period).await?;
        let pointers = s.reports.pointers(period).await?;
        if output::json(args.json) {
            let live: Vec<_> = pointers.iter().map(output::record).collect();
            let reports: Vec<_> = records.iter().map(output::record).collect();
            return Ok(
                json!({ "billing_period": period, "live": live, "reports": reports }).to_string()
                    + "\n",
            );
        }
        let mut out = String::new();
        for p in &pointers {
            let _ = writeln!(
                out,
                "live for payer {}: {} ({}, {}, stored {})",
                p.payer,
                p.report_key,
                p.format,
                p.status,
                output::timestamp(&p.stored_at)
            );
        }
        for r in &records {
            let _ = writeln!(
                out,
                "{}  {:<9} {:<22} {:<9} rows {:>8}  {} ms  {}{}",
                output::timestamp(&r.received_at),
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
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum AlertsCommand {
    /// Publish a clearly marked test message to the stack's alert topic (and its chat topic,
    /// if it has one), to check that subscriptions work.
    Test {
        /// Topic to publish to (default: BILLWATCH_ALERT_TOPIC_ARN, else the stack's
        /// STACK-alerts topic).
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
        let s = stores().await?;
        let mut alerts: Vec<_> = s
            .alerts
            .list(period)
            .await?
            .into_iter()
            .filter(|a| args.budget.is_none() || a.budget == args.budget)
            .collect();
        crate::alert_order::sort(&mut alerts);
        if output::json(args.json) {
            let alerts: Vec<_> = alerts.iter().map(output::record).collect();
            return Ok(json!({ "billing_period": period, "alerts": alerts }).to_string() + "\n");
        }
        let mut out = String::new();
        for a in &alerts {
            let _ = writeln!(
                out,
                "{}  {:<11} {:<8}  {}\n    why: {}\n    sent: {}  id: {}",
                output::timestamp(&a.claimed_at),
                a.kind.as_str(),
                a.severity.name(),
                a.subject,
                a.reason,
                output::timestamp_or(a.published_at.as_deref(), "NOT published (claim pending)"),
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
    runtime().block_on(async {
        let sns = clients::sns(&crate::aws::sdk_config().await?);
        let topic = match topic_arn {
            Some(t) => t,
            None => crate::aws::topic(&sns, "BILLWATCH_ALERT_TOPIC_ARN", "alerts")
                .await?
                .ok_or_else(|| {
                    CliError::failed(format!(
                        "no alert topic {}-alerts found{}: is billwatch deployed there? try --stack NAME or --region, or pass --topic-arn",
                        crate::aws::stack(),
                        crate::aws::region_note()
                    ))
                })?,
        };
        let chat = if std::env::var("BILLWATCH_ALERT_TOPIC_ARN").is_ok() {
            // An explicit environment: the chat topic only if it names one too.
            std::env::var("BILLWATCH_CHAT_TOPIC_ARN").ok().filter(|t| !t.is_empty())
        } else {
            crate::aws::topic(&sns, "BILLWATCH_CHAT_TOPIC_ARN", "chat").await?
        };
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
        let mut published = vec![json!({ "topic_arn": topic, "message_id": id })];
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
            published.push(json!({ "topic_arn": chat, "message_id": id, "chat": true }));
        }
        if output::json(false) {
            return Ok(json!({ "published": published }).to_string() + "\n");
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::report::Status;

    fn total(account: &str, service: &str, cost: &str, status: Status) -> StoredTotal {
        StoredTotal {
            payer: "111111111111".into(),
            period: "2026-11".parse().unwrap(),
            version: "v1".into(),
            account: account.into(),
            service: service.into(),
            service_name: service.into(),
            currency: "USD".into(),
            cost: cost.parse().unwrap(),
            breakdown: vec![],
            daily: None,
            status,
            as_of: None,
            report_key: "k".into(),
            stored_at: "2026-11-20T09:00:00.000Z".into(),
        }
    }

    #[test]
    fn the_totals_table_stays_aligned_with_long_names_and_rounds_to_the_cent() {
        let long = "Amazon Elastic Container Service for Kubernetes – Extended Support";
        let totals = [
            total("222222222222", "S3", "0.0049", Status::Final),
            total("222222222222", long, "1234567.891", Status::Estimated),
            total("333333333333", "AWSDataTransfer", "12.5", Status::Final),
        ];
        let text = totals_table(&totals, false);
        let lines: Vec<&str> = text.lines().take(4).collect();
        // STATUS (the last column) starts in the same column on every line, so every column
        // before it lines up too.
        let status_at = |line: &str| {
            let word = line.rsplit(' ').next().unwrap();
            line.chars().count() - word.chars().count()
        };
        assert!(lines[0].ends_with("STATUS"), "{text}");
        for line in &lines {
            assert_eq!(status_at(line), status_at(lines[0]), "{text}");
        }
        assert!(lines[2].contains("1,234,567.89  estimated"), "{text}");
        assert!(lines[1].contains("0.00  final"), "{text}");
        assert!(text.ends_with("Total USD: 1,234,580.40\n"), "{text}");
        let exact = totals_table(&totals, true);
        assert!(exact.contains("1,234,567.891  estimated"), "{exact}");
        assert!(exact.ends_with("Total USD: 1,234,580.3959\n"), "{exact}");
    }
}
