//! The scheduled health check (EventBridge, hourly): thin by design.

use billwatch_aws::health::{check, HealthConfig};
use billwatch_aws::store::{AlertsStore, ReportsStore};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .without_time()
        .init();
    let config = HealthConfig::from_env()?;
    let sdk = billwatch_aws::clients::sdk_config().await;
    let dynamo = billwatch_aws::clients::dynamodb(&sdk);
    let reports = ReportsStore::new(dynamo.clone(), &config.tables.reports);
    let alerts = AlertsStore::new(dynamo, &config.tables.alerts);
    let sns = billwatch_aws::clients::sns(&sdk);
    let (config, reports, alerts, sns) = (&config, &reports, &alerts, &sns);
    run(service_fn(move |_: LambdaEvent<Value>| async move {
        let outcome = check(config, reports, alerts, sns, chrono::Utc::now()).await?;
        tracing::info!(state = %outcome.state, alerts = outcome.alerts_sent, "health check");
        Ok::<Value, Error>(json!(outcome))
    }))
    .await
}
