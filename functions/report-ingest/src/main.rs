//! The S3-triggered Lambda: thin by design. Tracing, typed config, clients built once, run.
//! A failure reaches Lambda (and the failure destination) as `billwatch.transient` or
//! `billwatch.permanent`, so whoever reads it sees whether a retry can help.

use billwatch_aws::clients::Clients;
use billwatch_aws::clock::Clock;
use billwatch_aws::config::Config;
use billwatch_aws::ingest::Ingest;
use billwatch_aws::read_budget::usable_deadline;
use billwatch_aws::retry::diagnostic;
use lambda_runtime::{run, service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    billwatch_aws::logging::init();
    let ingest = Ingest::new(
        Config::from_env()?,
        Clients::from_env().await,
        Clock::system(),
    );
    let ingest = &ingest;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        // A report this invocation cannot read before its deadline fails at once.
        let deadline = (event.context.deadline > 0)
            .then(|| event.context.deadline())
            .and_then(|d| usable_deadline(d, std::time::SystemTime::now()));
        let records = ingest
            .handle_until(&event.payload, deadline)
            .await
            .map_err(diagnostic)?;
        Ok::<Value, Diagnostic>(json!({ "records": records }))
    }))
    .await
}
