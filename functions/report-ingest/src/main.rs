//! The S3-triggered Lambda: thin by design. Tracing, typed config, clients built once, run.

use billwatch_aws::clients::Clients;
use billwatch_aws::clock::Clock;
use billwatch_aws::config::Config;
use billwatch_aws::ingest::Ingest;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let json_logs =
        std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .without_time();
    if json_logs {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let config = Config::from_env()?;
    let ingest = Ingest::new(config, Clients::from_env().await, Clock::system());
    let ingest = &ingest;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let records = ingest.handle(&event.payload).await?;
        Ok::<Value, Error>(json!({ "records": records }))
    }))
    .await
}
