//! How the CLI reaches AWS, as the AWS CLI does: `--region`, `--profile` and `--endpoint-url`
//! over the usual environment and config files (`AWS_REGION`, `AWS_DEFAULT_REGION`,
//! `AWS_PROFILE`, `~/.aws/config`, `~/.aws/credentials`, `AWS_ENDPOINT_URL`), all read by
//! aws-config; `--stack NAME` names the deployed stack, whose tables and topics are named after
//! it by template.yaml (`NAME-totals`, …, `NAME-alerts`). Without `--stack`, `BILLWATCH_*`
//! variables override each name (as `scripts/shell` sets them); an explicit `--stack` wins over
//! them. Before the first call the region and the credentials are checked, so that their
//! absence is one plain sentence.
//!
//! The flags are on the commands that call AWS only ([`AwsArgs`], flattened into each); the
//! same flags before the subcommand (`billwatch --stack NAME alerts`) are accepted and hidden
//! ([`TopAwsArgs`]).

use crate::error::CliError;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::ProvideCredentials;
use billwatch_aws::clients;
use billwatch_aws::store::{AlertsStore, BudgetsStore, ReportsStore, TableNames, TotalsStore};

/// The stack's name when `--stack` is not given.
pub const DEFAULT_STACK: &str = "billwatch";

/// The flags that say where AWS is, on each command that calls AWS.
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
    /// The deployed billwatch stack (default: billwatch): its tables and topics are named
    /// after it. Without this flag, BILLWATCH_*_TABLE and BILLWATCH_*_TOPIC_ARN override each
    /// name; with it, they are ignored.
    #[arg(long, global = true, value_name = "NAME")]
    pub stack: Option<String>,
}

impl AwsArgs {
    /// These flags, each filled from `under` when not given.
    pub fn over(self, under: &AwsArgs) -> AwsArgs {
        AwsArgs {
            region: self.region.or_else(|| under.region.clone()),
            profile: self.profile.or_else(|| under.profile.clone()),
            endpoint_url: self.endpoint_url.or_else(|| under.endpoint_url.clone()),
            stack: self.stack.or_else(|| under.stack.clone()),
        }
    }
}

/// [`AwsArgs`] given before the subcommand: accepted for every command, listed by none.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TopAwsArgs {
    /// AWS region (see a command's --help).
    #[arg(long, hide = true)]
    pub region: Option<String>,
    /// Named profile (see a command's --help).
    #[arg(long, hide = true)]
    pub profile: Option<String>,
    /// Endpoint URL (see a command's --help).
    #[arg(long, hide = true)]
    pub endpoint_url: Option<String>,
    /// The deployed stack (see a command's --help).
    #[arg(long, hide = true)]
    pub stack: Option<String>,
}

impl From<TopAwsArgs> for AwsArgs {
    fn from(t: TopAwsArgs) -> Self {
        AwsArgs {
            region: t.region,
            profile: t.profile,
            endpoint_url: t.endpoint_url,
            stack: t.stack,
        }
    }
}

/// Where AWS is for one command: the SDK configuration (region and credentials checked) and
/// the stack's names.
pub struct Aws {
    pub config: SdkConfig,
    region: String,
    stack: String,
    /// `--stack` was given: BILLWATCH_* variables do not override the names.
    explicit_stack: bool,
}

/// The four stores of a stack.
pub struct Stores {
    pub totals: TotalsStore,
    pub reports: ReportsStore,
    pub alerts: AlertsStore,
}

impl Aws {
    /// The SDK configuration from the flags over the environment and config files, with a
    /// region and credentials that resolve; otherwise a plain error.
    pub async fn connect(a: AwsArgs) -> Result<Aws, CliError> {
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
        let Some(region) = config.region().map(ToString::to_string) else {
            return Err(CliError::failed(
                "no AWS region: pass --region, set AWS_REGION, or run `aws configure` to give your profile one",
            ));
        };
        let explicit_stack = a.stack.is_some();
        let stack = a.stack.clone().unwrap_or_else(|| DEFAULT_STACK.into());
        let Some(provider) = config.credentials_provider() else {
            return Err(no_credentials(&a));
        };
        if provider.provide_credentials().await.is_err() {
            return Err(no_credentials(&a));
        }
        Ok(Aws {
            config,
            region,
            stack,
            explicit_stack,
        })
    }

    /// A BILLWATCH_* variable, unless `--stack` was given (an explicit flag wins).
    pub fn var(&self, name: &str) -> Option<String> {
        if self.explicit_stack {
            return None;
        }
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }

    /// The stack's table names: `STACK-totals`, …, each overridden by its BILLWATCH_*_TABLE
    /// (without `--stack`).
    pub fn tables(&self) -> TableNames {
        table_names(&self.stack, |name| self.var(name))
    }

    /// ` in REGION` (for messages).
    pub fn region_note(&self) -> String {
        format!(" in {}", self.region)
    }

    /// The stack's name.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// The region the stack is looked for in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The totals, reports and alerts stores of the stack.
    pub fn stores(&self) -> Stores {
        let names = self.tables();
        let dynamo = clients::dynamodb(&self.config);
        Stores {
            totals: TotalsStore::new(dynamo.clone(), names.totals),
            reports: ReportsStore::new(dynamo.clone(), names.reports),
            alerts: AlertsStore::new(dynamo, names.alerts),
        }
    }

    /// The budgets store of the stack.
    /// Who this is, as AWS sees it (the caller's ARN); None when STS does not say.
    pub async fn caller(&self) -> Option<String> {
        aws_sdk_sts::Client::new(&self.config)
            .get_caller_identity()
            .send()
            .await
            .ok()
            .and_then(|o| o.arn().map(str::to_string))
    }

    pub fn budgets(&self) -> BudgetsStore {
        BudgetsStore::new(clients::dynamodb(&self.config), self.tables().budgets)
    }

    /// The budget called `name`, from the budgets table.
    pub async fn budget_named(
        &self,
        name: &str,
    ) -> Result<billwatch_core::budget::Budget, CliError> {
        self.budgets()
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

    /// A topic of the stack: the variable if set (without `--stack`), else the topic named
    /// `STACK-suffix` in the account and region (found with ListTopics). None when there is
    /// none.
    pub async fn topic(
        &self,
        sns: &aws_sdk_sns::Client,
        env: &str,
        suffix: &str,
    ) -> Result<Option<String>, CliError> {
        if let Some(arn) = self.var(env) {
            return Ok(Some(arn));
        }
        let wanted = format!(":{}-{suffix}", self.stack);
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
}

/// `STACK-totals`, …, each replaced by `var(BILLWATCH_*_TABLE)` when that is Some.
fn table_names(stack: &str, var: impl Fn(&str) -> Option<String>) -> TableNames {
    let name = |env: &str, suffix: &str| var(env).unwrap_or_else(|| format!("{stack}-{suffix}"));
    TableNames {
        totals: name("BILLWATCH_TOTALS_TABLE", "totals"),
        reports: name("BILLWATCH_REPORTS_TABLE", "reports"),
        budgets: name("BILLWATCH_BUDGETS_TABLE", "budgets"),
        alerts: name("BILLWATCH_ALERTS_TABLE", "alerts"),
    }
}

fn no_credentials(a: &AwsArgs) -> CliError {
    CliError::failed(match &a.profile {
        Some(p) => format!(
            "no credentials for profile {p}: run `aws configure --profile {p}` (or `aws sso login --profile {p}`)"
        ),
        None => "no credentials: run `aws configure` or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_the_stack_unless_a_variable_says_otherwise() {
        let none = |_: &str| None;
        assert_eq!(table_names("team-bw", none).totals, "team-bw-totals");
        assert_eq!(table_names("team-bw", none).alerts, "team-bw-alerts");
        let set = |name: &str| (name == "BILLWATCH_TOTALS_TABLE").then(|| "mine".to_string());
        let names = table_names("team-bw", set);
        assert_eq!(
            (names.totals.as_str(), names.reports.as_str()),
            ("mine", "team-bw-reports")
        );
    }

    #[test]
    fn the_subcommands_flags_win_over_those_before_it() {
        let top = AwsArgs {
            stack: Some("top".into()),
            region: Some("eu-west-1".into()),
            ..AwsArgs::default()
        };
        let sub = AwsArgs {
            stack: Some("sub".into()),
            ..AwsArgs::default()
        };
        let a = sub.over(&top);
        assert_eq!(a.stack.as_deref(), Some("sub"));
        assert_eq!(a.region.as_deref(), Some("eu-west-1"));
    }
}
