//! The scheduled function (EventBridge): the hourly health check, and the daily digest when
//! the event is the digest schedule's (`{"billwatch": "digest"}`). Thin by design.

use billwatch_aws::channels::Channels;
use billwatch_aws::clients::Clients;
use billwatch_aws::clock::Clock;
use billwatch_aws::digest::digest;
use billwatch_aws::health::{check, HealthConfig};
use billwatch_aws::notify::Senders;
use billwatch_aws::page::links::PageLinks;
use billwatch_aws::retry::diagnostic;
use billwatch_aws::store::{AlertsStore, BudgetsStore, ReportsStore, TotalsStore};
use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    billwatch_aws::logging::init();
    let config = HealthConfig::from_env()?;
    let clients = Clients::from_env().await;
    let db = &clients.dynamodb;
    let reports = ReportsStore::new(db.clone(), &config.tables.reports);
    let alerts = AlertsStore::new(db.clone(), &config.tables.alerts);
    let budgets = BudgetsStore::new(db.clone(), &config.tables.budgets);
    let totals = TotalsStore::new(db.clone(), &config.tables.totals);
    let clock = Clock::system();
    let channels = Channels::new(
        budgets.clone(),
        clients.ssm.clone(),
        clients.secrets.clone(),
    );
    let pages = PageLinks::new(
        clients.s3.clone(),
        config.pages_bucket.clone(),
        (
            reports.clone(),
            totals.clone(),
            alerts.clone(),
            budgets.clone(),
        ),
    );
    let senders = Senders {
        sns: &clients.sns,
        channels: Some(&channels),
        pages: Some(&pages),
    };
    let (config, clock, channels, pages) = (&config, &clock, &channels, &pages);
    let (reports, alerts, budgets, totals) = (&reports, &alerts, &budgets, &totals);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Each run reads the channels and budgets afresh.
        channels.forget().await;
        pages.forget().await;
        if event.payload.get("billwatch").and_then(Value::as_str) == Some("digest") {
            let stores = (budgets, reports, totals, alerts);
            let outcome = digest(config, stores, senders, clock.now())
                .await
                .map_err(diagnostic)?;
            tracing::info!(
                budgets = outcome.budgets,
                sent = outcome.sent,
                "daily digest"
            );
            return Ok::<Value, Diagnostic>(json!(outcome));
        }
        let outcome = check(config, reports, alerts, senders, clock.now())
            .await
            .map_err(diagnostic)?;
        tracing::info!(state = %outcome.state, alerts = outcome.alerts_sent, "health check");
        Ok::<Value, Diagnostic>(json!(outcome))
    }))
    .await
}
