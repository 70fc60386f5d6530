//! How the CLI reaches AWS, as the AWS CLI does: `--region`, `--profile` and `--endpoint-url`
//! (global flags) over the usual environment and config files (`AWS_REGION`,
//! `AWS_DEFAULT_REGION`, `AWS_PROFILE`, `~/.aws/config`, `~/.aws/credentials`,
//! `AWS_ENDPOINT_URL`), all read by aws-config; `--stack NAME` names the deployed stack, whose
//! tables and topics are named after it by template.yaml (`NAME-totals`, …, `NAME-alerts`),
//! and `BILLWATCH_*` variables still override each name. Before the first call the region and
//! the credentials are checked, so that their absence is one plain sentence.

use crate::error::CliError;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::ProvideCredentials;
use billwatch_aws::store::TableNames;
use std::sync::OnceLock;

/// The global flags that say where AWS is.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// AWS region, e.g. eu-west-1 (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's
    /// region in ~/.aws/config).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, then
    /// "default").
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every AWS request to this URL instead, e.g. a local emulator (default:
    /// AWS_ENDPOINT_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The deployed billwatch stack: its tables and topics are named after it
    /// (BILLWATCH_*_TABLE and BILLWATCH_*_TOPIC_ARN override each one).
    #[arg(long, global = true, value_name = "NAME", default_value = "billwatch")]
    pub stack: String,
}

static ARGS: OnceLock<AwsArgs> = OnceLock::new();
/// The region the SDK configuration resolved (flag, environment or profile), for messages.
static REGION: OnceLock<String> = OnceLock::new();

/// Keeps the global flags for every command of this process (called once, by `main`).
pub fn init(args: AwsArgs) {
    let _ = ARGS.set(args);
}

fn args() -> AwsArgs {
    ARGS.get().cloned().unwrap_or_else(|| AwsArgs {
        stack: "billwatch".into(),
        ..AwsArgs::default()
    })
}

/// The SDK configuration from the flags over the environment and config files, with a region
/// and credentials that resolve; otherwise a plain error.
pub async fn sdk_config() -> Result<SdkConfig, CliError> {
    let a = args();
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &a.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &a.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(url) = &a.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let Some(region) = config.region() else {
        return Err(CliError::failed(
            "no AWS region: pass --region, set AWS_REGION, or run `aws configure` to give your profile one",
        ));
    };
    let _ = REGION.set(region.to_string());
    let Some(provider) = config.credentials_provider() else {
        return Err(no_credentials(&a));
    };
    if provider.provide_credentials().await.is_err() {
        return Err(no_credentials(&a));
    }
    Ok(config)
}

fn no_credentials(a: &AwsArgs) -> CliError {
    CliError::failed(match &a.profile {
        Some(p) => format!(
            "no credentials for profile {p}: run `aws configure --profile {p}` (or `aws sso login --profile {p}`)"
        ),
        None => "no credentials: run `aws configure` or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)".into(),
    })
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The stack's table names: `STACK-totals`, …, each overridden by its BILLWATCH_*_TABLE.
pub fn tables() -> TableNames {
    let stack = args().stack;
    let name = |env: &str, suffix: &str| var(env).unwrap_or_else(|| format!("{stack}-{suffix}"));
    TableNames {
        totals: name("BILLWATCH_TOTALS_TABLE", "totals"),
        reports: name("BILLWATCH_REPORTS_TABLE", "reports"),
        budgets: name("BILLWATCH_BUDGETS_TABLE", "budgets"),
        alerts: name("BILLWATCH_ALERTS_TABLE", "alerts"),
    }
}

/// ` in REGION` when a region was resolved, given or found in the environment (for messages).
pub fn region_note() -> String {
    REGION
        .get()
        .cloned()
        .or_else(|| args().region)
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .map(|r| format!(" in {r}"))
        .unwrap_or_default()
}

/// The stack's name (for messages).
pub fn stack() -> String {
    args().stack
}

/// A topic of the stack: the variable if set, else the topic named `STACK-suffix` in the
/// account and region (found with ListTopics). None when there is none.
pub async fn topic(
    sns: &aws_sdk_sns::Client,
    env: &str,
    suffix: &str,
) -> Result<Option<String>, CliError> {
    if let Some(arn) = var(env) {
        return Ok(Some(arn));
    }
    let wanted = format!(":{}-{suffix}", args().stack);
    let mut pages = sns.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            crate::aws_error::explain(
                "sns:ListTopics",
                &billwatch_aws::error::CallError::of(&e),
                None,
            )
        })?;
        if let Some(t) = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.ends_with(&wanted))
        {
            return Ok(Some(t.to_string()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_the_stack_unless_a_variable_says_otherwise() {
        init(AwsArgs {
            stack: "team-bw".into(),
            ..AwsArgs::default()
        });
        // (The test process has no BILLWATCH_*_TABLE unless run through ./scripts/test.)
        if std::env::var("BILLWATCH_TOTALS_TABLE").is_err() {
            assert_eq!(tables().totals, "team-bw-totals");
            assert_eq!(tables().alerts, "team-bw-alerts");
        }
    }
}
