//! One channel's copy of an alert, sent once: claimed under its own key
//! (`<alert key>#ch#<channel>`), posted, marked. A 429 or 5xx (or no answer) is retried with
//! backoff within the invocation, honouring `Retry-After`, then given back for the next attempt
//! (the outbox keeps the alert); any other refusal is recorded on the claim and never retried.

use super::secrets::{describe, SecretError};
use super::Channels;
use crate::error::ErrorClass;
use crate::page::links::PageLinks;
use crate::sent::{as_sent, mark_published, NotifyError, Sent};
use crate::store::{AlertsStore, Claim, Owed};
use billwatch_core::channel::answer::{answer, not_a_url, url_problem, Answer};
use billwatch_core::channel::{claim_key, render, Channel, ChannelKind};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Sends `alert`'s copy to `channel` once (see the module's description).
pub async fn post_once(
    alerts: &AlertsStore,
    channels: &Channels,
    pages: Option<&PageLinks>,
    alert: &Owed,
    channel: &Channel,
    now: DateTime<Utc>,
) -> Result<Sent, NotifyError> {
    let left = |error: String| NotifyError::Channel {
        channel: channel.name.clone(),
        error,
        class: ErrorClass::Transient,
    };
    let copy = Owed {
        key: claim_key(&alert.key, &channel.name),
        ..alert.clone()
    };
    if channels.is_unwell(&channel.name) {
        return Err(left(
            "left for the next attempt: the channel failed moments ago".into(),
        ));
    }
    match alerts.claim(&copy, now).await? {
        Claim::Claimed => {}
        Claim::Done => return Ok(Sent::Before),
        Claim::Leased => return Ok(Sent::Pending),
    }
    let (sent, page) = as_sent(pages, alert, now).await;
    match post(channels, channel, &sent, page.as_deref()).await {
        Posted::Delivered { attempts } => {
            mark_published(alerts, &copy, &format!("{}:{attempts}", channel.name), now).await?;
            tracing::info!(alert = %alert.alert_id, channel = %channel.name, attempts, "alert posted to its channel");
            Ok(Sent::Now)
        }
        Posted::Refused(why) => refused(alerts, &copy, channel, &why, now).await,
        Posted::Left(why) => {
            alerts.release(copy.period, &copy.key).await?;
            channels.set_unwell(&channel.name);
            Err(left(why))
        }
    }
}

/// What became of one post (with its retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    Delivered {
        attempts: u32,
    },
    /// Refused for good (by the service, or a channel that cannot be posted to as configured).
    Refused(String),
    /// Not delivered within the invocation's tries: owed still.
    Left(String),
}

/// Posts `alert` to `channel`, retrying 429, 5xx and no answer as [`Channels::backoff`] says
/// (honouring `Retry-After`); no claim (see [`post_once`]).
pub async fn post(
    channels: &Channels,
    channel: &Channel,
    alert: &Owed,
    page: Option<&str>,
) -> Posted {
    let target = match where_to(channels, channel).await {
        Ok(t) => t,
        Err(e) if e.class == ErrorClass::Transient => return Posted::Left(e.to_string()),
        Err(e) => return Posted::Refused(e.to_string()),
    };
    let mut waited = Duration::ZERO;
    let mut attempt = 0;
    loop {
        attempt += 1;
        // Signed afresh at each try: the receiver refuses an old timestamp.
        let request = render::request(
            channel.kind,
            alert,
            page,
            Utc::now().timestamp(),
            target.key.as_bytes(),
        );
        let reply = channels
            .http
            .post(&target.url, &request.headers, request.body)
            .await;
        let verdict = match reply {
            super::http::Reply::Status {
                status,
                retry_after,
                body,
            } => answer(status, retry_after.as_deref(), &body, Utc::now()),
            super::http::Reply::Failed(why) => Answer::Retry { after: None, why },
        };
        match verdict {
            Answer::Delivered => return Posted::Delivered { attempts: attempt },
            Answer::Refused(why) => return Posted::Refused(why),
            Answer::Retry { after, why } => match channels.backoff.pause(attempt, after, waited) {
                Some(pause) => {
                    tracing::warn!(alert = %alert.alert_id, channel = %channel.name, attempt, error = %why, wait_ms = pause.as_millis() as u64, "channel asks to retry");
                    tokio::time::sleep(pause).await;
                    waited += pause;
                }
                None => {
                    return Posted::Left(format!("{why} (after {attempt} requests; retried later)"))
                }
            },
        }
    }
}

/// A channel's URL and signing key, read.
struct Target {
    url: String,
    key: String,
}

async fn where_to(channels: &Channels, channel: &Channel) -> Result<Target, SecretError> {
    let url = channels.secrets.value(&channel.url).await?;
    if let Some(problem) = not_a_url(&url).or_else(|| url_problem(&url)) {
        return Err(SecretError {
            what: describe(&channel.url),
            error: problem,
            class: ErrorClass::Permanent,
        });
    }
    let key = match (&channel.signing_key, channel.kind) {
        (Some(r), ChannelKind::Webhook) => channels.secrets.value(r).await?,
        _ => String::new(),
    };
    Ok(Target { url, key })
}

/// Records a copy the channel (or its configuration) refuses for good.
async fn refused(
    alerts: &AlertsStore,
    copy: &Owed,
    channel: &Channel,
    why: &str,
    now: DateTime<Utc>,
) -> Result<Sent, NotifyError> {
    tracing::error!(alert = %copy.alert_id, channel = %channel.name, error = %why, "channel refuses the alert; not retried");
    let error = format!("channel {} ({}): {why}", channel.name, channel.kind.name());
    alerts
        .mark_failed(copy.period, &copy.key, &error, now)
        .await?;
    Ok(Sent::Refused)
}
