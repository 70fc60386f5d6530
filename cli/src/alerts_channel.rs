//! Channels in `billwatch alerts`: each alert's copies for its channels (claims
//! `<alert key>#ch#<channel>`) shown under it with their own status, and `alerts test --channel`.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use billwatch_aws::channels::send::{post, Posted};
use billwatch_aws::channels::Channels;
use billwatch_aws::store::alerts::AlertRecord;
use billwatch_aws::store::Owed;
use billwatch_core::alert::render::test_message;
use billwatch_core::channel::of_claim_key;
use billwatch_core::period::Period;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One channel copy: the channel's name and its claim.
pub type Copy = (String, AlertRecord);

/// The alerts, and their channel copies by the alert's key.
pub fn split(records: Vec<AlertRecord>) -> (Vec<AlertRecord>, BTreeMap<String, Vec<Copy>>) {
    let mut alerts = Vec::new();
    let mut copies: BTreeMap<String, Vec<Copy>> = BTreeMap::new();
    for r in records {
        match of_claim_key(&r.key) {
            Some((alert, channel)) => copies
                .entry(alert.to_string())
                .or_default()
                .push((channel.to_string(), r.clone())),
            None => alerts.push(r),
        }
    }
    for list in copies.values_mut() {
        list.sort_by(|a, b| a.0.cmp(&b.0));
    }
    (alerts, copies)
}

/// A copy's status in words: sent at, failed (why), or pending.
fn status(r: &AlertRecord) -> (&'static str, String) {
    match (&r.published_at, &r.failed_at) {
        (Some(t), _) => ("sent", crate::output::timestamp(t)),
        (None, Some(t)) => (
            "failed",
            format!(
                "{} ({})",
                r.error.as_deref().unwrap_or("refused"),
                crate::output::timestamp(t)
            ),
        ),
        (None, None) => ("pending", "claimed, not delivered yet (retried)".into()),
    }
}

/// The lines under an alert, one per channel copy.
pub fn lines(copies: Option<&Vec<Copy>>) -> String {
    let mut out = String::new();
    for (channel, r) in copies.into_iter().flatten() {
        let (state, detail) = status(r);
        out += &format!("    channel {channel}: {state} {detail}\n");
    }
    out
}

/// The copies as JSON: `[{channel, status, published_at, failed_at, error}]`.
pub fn json(copies: Option<&Vec<Copy>>) -> Value {
    Value::Array(
        copies
            .into_iter()
            .flatten()
            .map(|(channel, r)| {
                json!({
                    "channel": channel,
                    "status": status(r).0,
                    "published_at": r.published_at,
                    "failed_at": r.failed_at,
                    "error": r.error,
                })
            })
            .collect(),
    )
}

/// `alerts test --channel NAME`: the marked test message, posted to that channel (with the
/// retries an alert gets; no claim: a test is not an alert).
pub fn post_test(ctx: &Ctx, aws: &AwsArgs, name: &str) -> Result<String, CliError> {
    ctx.block_on(async {
        let aws = ctx.aws(aws).await?;
        let budgets = aws.budgets();
        let declared = budgets.channels().await?;
        let Some(channel) = declared.iter().find(|c| c.name == name) else {
            let names: Vec<&str> = declared.iter().map(|c| c.name.as_str()).collect();
            return Err(CliError::failed(if names.is_empty() {
                format!("no channel '{name}': no channels are applied (declare [[channel]] in the budgets file and run `billwatch budgets apply`)")
            } else {
                format!("no channel '{name}': the channels applied are {}", names.join(", "))
            }));
        };
        let clients = billwatch_aws::clients::Clients::from_sdk(&aws.config);
        let channels = Channels::new(budgets.clone(), clients.ssm, clients.secrets);
        let now = chrono::Utc::now();
        let m = test_message(&billwatch_aws::timestamp(now));
        let alert_id = m.payload["alert_id"].as_str().unwrap_or("test").to_string();
        let owed = Owed {
            period: Period::of(now),
            key: "test".into(),
            alert_id: alert_id.clone(),
            kind: "test".into(),
            budget: None,
            basis: None,
            severity: "info".into(),
            reason: "a test message: no budget was crossed".into(),
            report_key: None,
            topic: None,
            subject: m.subject.clone(),
            text: m.text.clone(),
            payload: m.payload.to_string(),
            attributes: m
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        };
        let kind = channel.kind.name();
        match post(&channels, channel, &owed, None).await {
            Posted::Delivered { attempts } => {
                if ctx.json(false) {
                    return Ok(json!({"channel": name, "type": kind, "alert_id": alert_id, "delivered": true, "attempts": attempts}).to_string() + "\n");
                }
                Ok(format!(
                    "test message posted to channel {name} ({kind}), alert id {alert_id}{}\n",
                    if attempts > 1 {
                        format!(", after {attempts} tries")
                    } else {
                        String::new()
                    }
                ))
            }
            Posted::Refused(why) | Posted::Left(why) => Err(CliError::failed(format!(
                "channel {name} ({kind}): the test message was not delivered: {why}"
            ))),
        }
    })
}
