//! The scheduled health check (EventBridge, hourly): thin by design.

use billwatch_aws::clients::Clients;
use billwatch_aws::clock::Clock;
use billwatch_aws::health::{check, HealthConfig, HealthError};
use billwatch_aws::store::{AlertsStore, ReportsStore};
use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::{json, Value};

fn diagnostic(e: HealthError) -> Diagnostic {
    Diagnostic {
        error_type: format!("billwatch.{}", e.class().as_str()),
        error_message: e.to_string(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    billwatch_aws::logging::init();
    let config = HealthConfig::from_env()?;
    let clients = Clients::from_env().await;
    let reports = ReportsStore::new(clients.dynamodb.clone(), &config.tables.reports);
    let alerts = AlertsStore::new(clients.dynamodb.clone(), &config.tables.alerts);
    let clock = Clock::system();
    let (config, reports, alerts, sns, clock) = (&config, &reports, &alerts, &clients.sns, &clock);
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        let outcome = check(config, reports, alerts, sns, clock.now())
            .await
            .map_err(diagnostic)?;
        tracing::info!(state = %outcome.state, alerts = outcome.alerts_sent, "health check");
        Ok::<Value, Diagnostic>(json!(outcome))
    }))
    .await
}
