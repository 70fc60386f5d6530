//! `billwatch alerts`: what was alerted for a billing period, when and why; `alerts test`
//! publishes a marked test message to check the subscriptions.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output;
use crate::period_arg::this_month;
use billwatch_aws::clients;
use billwatch_aws::notify::{publish, Body};
use billwatch_core::alert::render::test_message;
use billwatch_core::period::Period;
use serde_json::json;
use std::fmt::Write;

#[derive(clap::Args)]
pub struct Args {
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
    #[command(flatten)]
    aws: AwsArgs,
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
        /// Post the test message to this channel of the budgets file (`[[channel]]`, as
        /// `budgets apply` stored it) instead of the topics: its URL and key are read where
        /// the channel says, as the functions read them.
        #[arg(long, conflicts_with = "topic_arn")]
        channel: Option<String>,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    match args.command {
        Some(AlertsCommand::Test {
            channel: Some(channel),
            ..
        }) => return crate::alerts_channel::post_test(ctx, &args.aws, &channel),
        Some(AlertsCommand::Test { topic_arn, .. }) => {
            return publish_test(ctx, &args.aws, topic_arn)
        }
        None => {}
    }
    let period = args.period;
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let mut alerts: Vec<_> = s
            .alerts
            .list(period)
            .await?
            .into_iter()
            .filter(|a| args.budget.is_none() || a.budget == args.budget)
            .collect();
        crate::alert_order::sort(&mut alerts);
        let (alerts, copies) = crate::alerts_channel::split(alerts);
        if ctx.json(args.json) {
            let alerts: Vec<_> = alerts
                .iter()
                .map(|a| {
                    let mut r = output::record(a);
                    r["channels"] = crate::alerts_channel::json(copies.get(&a.key));
                    r
                })
                .collect();
            return Ok(json!({ "billing_period": period, "alerts": alerts }).to_string() + "\n");
        }
        let mut out = String::new();
        for a in &alerts {
            let sent = match (&a.published_at, &a.failed_at) {
                (Some(t), _) => output::timestamp(t),
                (None, Some(_)) => format!("FAILED: {}", a.error.as_deref().unwrap_or("refused")),
                (None, None) => "NOT published (claim pending)".into(),
            };
            let _ = writeln!(
                out,
                "{}  {:<11} {:<8}  {}\n    why: {}\n    sent: {}  id: {}",
                output::timestamp(&a.claimed_at),
                a.kind.as_str(),
                a.severity.name(),
                a.subject,
                a.reason,
                sent,
                a.alert_id
            );
            out += &crate::alerts_channel::lines(copies.get(&a.key));
        }
        if alerts.is_empty() {
            let _ = writeln!(out, "no alerts for {period}");
        }
        Ok(out)
    })
}

/// `alerts test`: a marked test message to the alert topic (and the chat topic, if any).
fn publish_test(ctx: &Ctx, aws: &AwsArgs, topic_arn: Option<String>) -> Result<String, CliError> {
    ctx.block_on(async {
        let aws = ctx.aws(aws).await?;
        let sns = clients::sns(&aws.config);
        let topic = match topic_arn {
            Some(t) => t,
            None => aws.topic(&sns, "BILLWATCH_ALERT_TOPIC_ARN", "alerts")
                .await?
                .ok_or_else(|| {
                    CliError::failed(format!(
                        "no alert topic {}-alerts found{}: is billwatch deployed there? try --stack NAME or --region, or pass --topic-arn",
                        aws.stack(),
                        aws.region_note()
                    ))
                })?,
        };
        let chat = if aws.var("BILLWATCH_ALERT_TOPIC_ARN").is_some() {
            // An explicit environment: the chat topic only if it names one too.
            aws.var("BILLWATCH_CHAT_TOPIC_ARN")
        } else {
            aws.topic(&sns, "BILLWATCH_CHAT_TOPIC_ARN", "chat").await?
        };
        let now = billwatch_aws::timestamp(chrono::Utc::now());
        let m = test_message(&now);
        let attributes: Vec<(String, String)> = m
            .attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let id = publish(
            &sns,
            &topic,
            &m.subject,
            Body::PerProtocol(&m.sns_json()),
            &attributes,
        )
        .await
        .map_err(CliError::failed)?;
        let mut published = vec![json!({ "topic_arn": topic, "message_id": id })];
        let mut out = format!("test message published to {topic} (message id {id})\n");
        if let Some(chat) = chat {
            let body = billwatch_core::alert::chat::notification(&m.subject, &m.text, &attributes);
            let id = publish(
                &sns,
                &chat,
                &m.subject,
                Body::Plain(&body.to_string()),
                &attributes,
            )
            .await
            .map_err(CliError::failed)?;
            out += &format!("test message published to the chat topic {chat} (message id {id})\n");
            published.push(json!({ "topic_arn": chat, "message_id": id, "chat": true }));
        }
        if ctx.json(false) {
            return Ok(json!({ "published": published }).to_string() + "\n");
        }
        Ok(out)
    })
}
