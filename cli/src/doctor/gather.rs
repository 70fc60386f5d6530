//! The doctor's describe calls: what the deployed stack holds, as the plain facts `judge`
//! decides on. Read-only. A call that fails is kept as that piece's error (in the CLI's plain
//! words) and the others still run; only a missing region or credentials stops the doctor.
//!
//! Calls (service:operation on resource): sns:ListTopics; lambda:ListFunctions,
//! lambda:GetFunctionConfiguration on each of the two functions; dynamodb:DescribeTable on
//! the four tables, dynamodb:DescribeTimeToLive on the alerts table; s3:GetBucketVersioning
//! and s3:GetBucketNotificationConfiguration on the bucket; events:DescribeRule and
//! events:ListTargetsByRule on the existing bucket's rule (that mode only);
//! sns:ListSubscriptionsByTopic on the alert, operations and chat topics that exist;
//! events:ListRuleNamesByTarget on the health check's ARN and events:DescribeRule on each
//! rule it names.

use super::judge::{
    BucketFacts, Expected, Found, FunctionFacts, FunctionRole, LambdaNotification, RuleFacts,
    Schedule, Subscription, TableFacts, TableRole,
};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use billwatch_aws::error::CallError;
use std::collections::BTreeMap;

/// The clients the doctor reads with (and the live round trip writes with).
#[derive(Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sns: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub events: aws_sdk_eventbridge::Client,
}

impl Clients {
    pub fn new(aws: &crate::aws::Aws) -> Self {
        let sdk = &aws.config;
        Clients {
            s3: billwatch_aws::clients::s3(sdk),
            dynamo: billwatch_aws::clients::dynamodb(sdk),
            sns: billwatch_aws::clients::sns(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            events: aws_sdk_eventbridge::Client::new(sdk),
        }
    }
}

/// Everything the checks decide on.
pub struct Facts {
    pub expected: Expected,
    pub tables: Vec<(TableRole, Found<TableFacts>)>,
    pub bucket: Found<BucketFacts>,
    /// The existing bucket's rule (None with the stack's own bucket).
    pub rule: Option<Found<RuleFacts>>,
    pub ingest: Found<FunctionFacts>,
    pub health: Found<FunctionFacts>,
    pub health_rules: Found<Vec<Schedule>>,
    pub topics: Vec<Topic>,
    /// When the topics could not be listed at all.
    pub topics_error: Option<String>,
}

/// One of the stack's topics: `alerts`, `ops` or `chat`, its ARN if found, its subscriptions.
pub struct Topic {
    pub label: &'static str,
    pub arn: Option<String>,
    pub subscriptions: Found<Vec<Subscription>>,
}

/// A failed call in the CLI's plain words (access denied naming the action, throttling, …).
fn explain<E: ProvideErrorMetadata>(
    action: &str,
    resource: &str,
    e: &SdkError<E, HttpResponse>,
) -> String {
    crate::aws_error::explain(action, &CallError::of(e), Some(resource)).message(None)
}

/// Found, missing (one of `missing` codes, or HTTP 404), or the call's error.
fn found<T, E: ProvideErrorMetadata>(
    result: Result<T, SdkError<E, HttpResponse>>,
    action: &str,
    resource: &str,
    missing: &[&str],
) -> Found<T> {
    match result {
        Ok(v) => Found::Yes(v),
        Err(e) => {
            let call = CallError::of(&e);
            if call.code.as_deref().is_some_and(|c| missing.contains(&c))
                || (call.status == Some(404) && call.code.is_none())
            {
                Found::Missing
            } else {
                Found::Error(explain(action, resource, &e))
            }
        }
    }
}

/// The body of an HTTP 200 answer the SDK could not read. moto names the root elements of
/// GetBucketVersioning and of an empty GetBucketNotificationConfiguration after the operation
/// (`GetBucketVersioningResponse`) where S3 says `VersioningConfiguration` and
/// `NotificationConfiguration`; the SDK rejects those, so their content is read here.
fn unread_xml<E>(e: &SdkError<E, HttpResponse>) -> Option<String> {
    match e {
        SdkError::ResponseError(r) if r.raw().status().as_u16() == 200 => r
            .raw()
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        SdkError::ServiceError(s) if s.raw().status().as_u16() == 200 => s
            .raw()
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// Whether an XML document is one empty root element (`<X xmlns="…"/>`).
fn empty_element(xml: &str) -> bool {
    let body = match xml.trim().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, b)| b).trim(),
        None => xml.trim(),
    };
    body.starts_with('<') && body.ends_with("/>") && body.matches('<').count() == 1
}

/// The text of the first `<name>…</name>` of an XML document.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].trim().to_string()).filter(|t| !t.is_empty())
}

/// The account of an ARN (`arn:aws:sns:REGION:ACCOUNT:…`).
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Every topic ARN of the account and region (ListTopics, all pages).
async fn topic_arns(sns: &aws_sdk_sns::Client) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut pages = sns.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("sns:ListTopics", "the account's topics", &e))?;
        out.extend(
            page.topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .map(str::to_string),
        );
    }
    Ok(out)
}

/// The stack's topic `STACK-suffix` among `arns`, or the variable's ARN when it is set.
fn stack_topic(
    arns: &[String],
    stack: &str,
    from_env: Option<String>,
    suffix: &str,
) -> Option<String> {
    if let Some(arn) = from_env {
        return Some(arn);
    }
    let wanted = format!(":{stack}-{suffix}");
    arns.iter().find(|a| a.ends_with(&wanted)).cloned()
}

/// The two functions of the stack, as CloudFormation names them (`STACK-LogicalId-RANDOM`).
async fn function_names(
    lambda: &aws_sdk_lambda::Client,
    stack: &str,
) -> Result<(Option<String>, Option<String>), String> {
    let (mut ingest, mut health) = (None, None);
    let mut pages = lambda.list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| explain("lambda:ListFunctions", "the account's functions", &e))?;
        for f in page.functions() {
            let Some(name) = f.function_name() else {
                continue;
            };
            if FunctionRole::ReportIngest.matches(stack, name) {
                ingest = Some(name.to_string());
            }
            if FunctionRole::HealthCheck.matches(stack, name) {
                health = Some(name.to_string());
            }
        }
    }
    Ok((ingest, health))
}

async fn function(lambda: &aws_sdk_lambda::Client, name: &str) -> Found<FunctionFacts> {
    let r = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await;
    found(
        r,
        "lambda:GetFunctionConfiguration",
        name,
        &["ResourceNotFoundException"],
    )
    .map(|c| FunctionFacts {
        name: c.function_name().unwrap_or(name).to_string(),
        arn: c.function_arn().unwrap_or_default().to_string(),
        runtime: c.runtime().map(|r| r.as_str().to_string()),
        memory_mb: c.memory_size(),
        timeout_s: c.timeout(),
        state: c.state().map(|s| s.as_str().to_string()),
        last_update: c.last_update_status().map(|s| s.as_str().to_string()),
        env: c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

impl<T> Found<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Found<U> {
        match self {
            Found::Yes(v) => Found::Yes(f(v)),
            Found::Missing => Found::Missing,
            Found::Error(e) => Found::Error(e),
        }
    }

    pub fn yes(&self) -> Option<&T> {
        match self {
            Found::Yes(v) => Some(v),
            _ => None,
        }
    }
}

fn key_schema(keys: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect()
}

async fn table(
    dynamo: &aws_sdk_dynamodb::Client,
    role: TableRole,
    name: &str,
) -> Found<TableFacts> {
    let r = dynamo.describe_table().table_name(name).send().await;
    let mut facts = match found(
        r,
        "dynamodb:DescribeTable",
        name,
        &["ResourceNotFoundException"],
    ) {
        Found::Yes(out) => {
            let Some(t) = out.table() else {
                return Found::Missing;
            };
            TableFacts {
                status: t
                    .table_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                keys: key_schema(t.key_schema()),
                indexes: t
                    .global_secondary_indexes()
                    .iter()
                    .map(|g| {
                        (
                            g.index_name().unwrap_or_default().to_string(),
                            key_schema(g.key_schema()),
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
                ttl: None,
            }
        }
        Found::Missing => return Found::Missing,
        Found::Error(e) => return Found::Error(e),
    };
    if role == TableRole::Alerts {
        let r = dynamo.describe_time_to_live().table_name(name).send().await;
        match found(
            r,
            "dynamodb:DescribeTimeToLive",
            name,
            &["ResourceNotFoundException"],
        ) {
            Found::Yes(out) => {
                facts.ttl = out.time_to_live_description().and_then(|d| {
                    let on = d
                        .time_to_live_status()
                        .is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING"));
                    on.then(|| d.attribute_name().unwrap_or_default().to_string())
                })
            }
            Found::Missing => return Found::Missing,
            Found::Error(e) => return Found::Error(e),
        }
    }
    Found::Yes(facts)
}

async fn bucket(s3: &aws_sdk_s3::Client, name: &str) -> Found<BucketFacts> {
    let r = s3
        .get_bucket_notification_configuration()
        .bucket(name)
        .send()
        .await;
    let n = match r {
        // An empty configuration in an emulator's spelling: no notifications.
        Err(e) if unread_xml(&e).is_some_and(|body| empty_element(&body)) => {
            aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput::builder().build()
        }
        r => match found(r, "s3:GetBucketNotification", name, &["NoSuchBucket"]) {
            Found::Yes(n) => n,
            Found::Missing => return Found::Missing,
            Found::Error(e) => return Found::Error(e),
        },
    };
    let versioning = match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(v) => Ok(v.status().map(|s| s.as_str().to_string())),
        Err(e) => match unread_xml(&e) {
            Some(body) => Ok(element_text(&body, "Status")),
            None => Err(explain("s3:GetBucketVersioning", name, &e)),
        },
    };
    let lambda = n
        .lambda_function_configurations()
        .iter()
        .map(|c| {
            let rule = |which: &str| {
                c.filter()
                    .and_then(|f| f.key())
                    .map(|k| k.filter_rules())
                    .unwrap_or_default()
                    .iter()
                    .find(|r| {
                        r.name()
                            .is_some_and(|n| n.as_str().eq_ignore_ascii_case(which))
                    })
                    .and_then(|r| r.value())
                    .map(str::to_string)
            };
            LambdaNotification {
                function_arn: c.lambda_function_arn().to_string(),
                events: c.events().iter().map(|e| e.as_str().to_string()).collect(),
                prefix: rule("prefix"),
                suffix: rule("suffix"),
            }
        })
        .collect();
    Found::Yes(BucketFacts {
        versioning,
        lambda,
        eventbridge: n.event_bridge_configuration().is_some(),
    })
}

async fn rule(events: &aws_sdk_eventbridge::Client, name: &str) -> Found<RuleFacts> {
    let r = events.describe_rule().name(name).send().await;
    let described = match found(
        r,
        "events:DescribeRule",
        name,
        &["ResourceNotFoundException"],
    ) {
        Found::Yes(d) => d,
        Found::Missing => return Found::Missing,
        Found::Error(e) => return Found::Error(e),
    };
    let r = events.list_targets_by_rule().rule(name).send().await;
    let targets = match found(
        r,
        "events:ListTargetsByRule",
        name,
        &["ResourceNotFoundException"],
    ) {
        Found::Yes(t) => t.targets().iter().map(|t| t.arn().to_string()).collect(),
        Found::Missing => return Found::Missing,
        Found::Error(e) => return Found::Error(e),
    };
    Found::Yes(RuleFacts {
        state: described
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        pattern: described.event_pattern().map(str::to_string),
        targets,
    })
}

async fn schedules(
    events: &aws_sdk_eventbridge::Client,
    function_arn: &str,
) -> Found<Vec<Schedule>> {
    let r = events
        .list_rule_names_by_target()
        .target_arn(function_arn)
        .send()
        .await;
    let names = match found(r, "events:ListRuleNamesByTarget", function_arn, &[]) {
        Found::Yes(n) => n.rule_names().to_vec(),
        other => return other.map(|_| Vec::new()),
    };
    let mut out = Vec::new();
    for name in names {
        let r = events.describe_rule().name(&name).send().await;
        match found(
            r,
            "events:DescribeRule",
            &name,
            &["ResourceNotFoundException"],
        ) {
            Found::Yes(d) => out.push(Schedule {
                name: name.clone(),
                expression: d.schedule_expression().map(str::to_string),
                state: d
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            }),
            Found::Missing => {}
            Found::Error(e) => return Found::Error(e),
        }
    }
    Found::Yes(out)
}

async fn subscriptions(sns: &aws_sdk_sns::Client, topic: &str) -> Found<Vec<Subscription>> {
    let mut out = Vec::new();
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match found(page, "sns:ListSubscriptionsByTopic", topic, &["NotFound"]) {
            Found::Yes(page) => out.extend(page.subscriptions().iter().map(|s| Subscription {
                protocol: s.protocol().unwrap_or_default().to_string(),
                endpoint: s.endpoint().unwrap_or_default().to_string(),
                arn: s.subscription_arn().unwrap_or_default().to_string(),
            })),
            Found::Missing => return Found::Missing,
            Found::Error(e) => return Found::Error(e),
        }
    }
    Found::Yes(out)
}

/// Gathers every fact of the stack named by `--stack` (without it, BILLWATCH_* variables
/// override names).
pub async fn facts(c: &Clients, aws: &crate::aws::Aws) -> Facts {
    let stack = aws.stack().to_string();
    let names = aws.tables();

    let (arns, topics_error) = match topic_arns(&c.sns).await {
        Ok(a) => (a, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let alert_topic = stack_topic(
        &arns,
        &stack,
        aws.var("BILLWATCH_ALERT_TOPIC_ARN"),
        "alerts",
    );
    let ops_topic = stack_topic(&arns, &stack, None, "ops");
    let chat_topic = stack_topic(&arns, &stack, aws.var("BILLWATCH_CHAT_TOPIC_ARN"), "chat");

    let (ingest, health) = match function_names(&c.lambda, &stack).await {
        Ok((i, h)) => {
            let ingest = match i {
                Some(name) => function(&c.lambda, &name).await,
                None => Found::Missing,
            };
            let health = match h {
                Some(name) => function(&c.lambda, &name).await,
                None => Found::Missing,
            };
            (ingest, health)
        }
        Err(e) => (Found::Error(e.clone()), Found::Error(e)),
    };

    let ingest_env = |var: &str| ingest.yes().and_then(|f| f.env.get(var).cloned());
    let account = alert_topic
        .as_deref()
        .and_then(account_of)
        .or_else(|| ingest.yes().and_then(|f| account_of(&f.arn)))
        .map(str::to_string);
    let bucket_name = aws
        .var("BILLWATCH_BUCKET")
        .or_else(|| ingest_env("BILLWATCH_BUCKET").filter(|b| !b.is_empty()))
        .unwrap_or_else(|| {
            format!(
                "{stack}-billing-{}",
                account.as_deref().unwrap_or("ACCOUNT")
            )
        });
    let report_prefix = aws
        .var("BILLWATCH_REPORT_PREFIX")
        .or_else(|| ingest_env("BILLWATCH_REPORT_PREFIX"))
        .unwrap_or_default();
    let expected = Expected {
        stack: stack.clone(),
        totals_table: names.totals,
        reports_table: names.reports,
        budgets_table: names.budgets,
        alerts_table: names.alerts,
        alert_topic: alert_topic.clone(),
        bucket: bucket_name,
        report_prefix,
    };

    let mut tables = Vec::new();
    for role in TableRole::ALL {
        let name = role.name(&expected).to_string();
        tables.push((role, table(&c.dynamo, role, &name).await));
    }
    let bucket_facts = bucket(&c.s3, &expected.bucket).await;
    let rule_facts = if expected.own_bucket() {
        None
    } else {
        Some(rule(&c.events, &expected.rule_name()).await)
    };
    let health_rules = match health.yes() {
        Some(f) => schedules(&c.events, &f.arn).await,
        None => Found::Missing,
    };

    let mut topics = Vec::new();
    for (label, topic, required) in [
        ("alerts", alert_topic, true),
        ("ops", ops_topic, true),
        ("chat", chat_topic, false),
    ] {
        match topic {
            Some(arn) => {
                let subs = subscriptions(&c.sns, &arn).await;
                topics.push(Topic {
                    label,
                    arn: Some(arn),
                    subscriptions: subs,
                });
            }
            None if required => topics.push(Topic {
                label,
                arn: None,
                subscriptions: Found::Missing,
            }),
            None => {}
        }
    }

    Facts {
        expected,
        tables,
        bucket: bucket_facts,
        rule: rule_facts,
        ingest,
        health,
        health_rules,
        topics,
        topics_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stacks_topics_by_name_unless_a_variable_names_one() {
        let arns = vec![
            "arn:aws:sns:us-east-1:1:other-alerts".to_string(),
            "arn:aws:sns:us-east-1:1:billwatch-alerts".to_string(),
            "arn:aws:sns:us-east-1:1:billwatch-ops".to_string(),
        ];
        assert_eq!(
            stack_topic(&arns, "billwatch", None, "alerts").as_deref(),
            Some("arn:aws:sns:us-east-1:1:billwatch-alerts")
        );
        assert_eq!(stack_topic(&arns, "billwatch", None, "chat"), None);
        assert_eq!(
            account_of("arn:aws:sns:us-east-1:123456789012:t"),
            Some("123456789012")
        );
        assert_eq!(account_of("nonsense"), None);
    }

    #[test]
    fn an_emulators_spelling_of_versioning_and_of_no_notifications() {
        let versioning = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetBucketVersioningResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></GetBucketVersioningResponse>";
        assert_eq!(
            element_text(versioning, "Status").as_deref(),
            Some("Enabled")
        );
        assert!(!empty_element(versioning));
        let never =
            "<GetBucketVersioningResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
        assert_eq!(element_text(never, "Status"), None);
        let none = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetBucketNotificationResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
        assert!(empty_element(none));
        assert!(!empty_element("<A><B/></A>"));
    }
}
