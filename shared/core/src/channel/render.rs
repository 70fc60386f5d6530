//! The request each service takes for one alert, from what the outbox holds ([`Owed`]): its
//! subject, its e-mail text, its JSON payload. Each within its service's documented limits
//! (constants below), text cut with a note rather than refused; report text is escaped for each
//! service's markup, and Discord is told to mention no one.

use super::sign::{signature, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::ChannelKind;
use crate::delivery::Owed;
use crate::money_text::cents;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

/// Slack: a header block's text, a section's text, fields per section, a field's text.
pub const SLACK_HEADER_CHARS: usize = 150;
pub const SLACK_SECTION_CHARS: usize = 3000;
pub const SLACK_FIELDS: usize = 10;
pub const SLACK_FIELD_CHARS: usize = 2000;
/// Discord: an embed's title, description, fields, field name and value, footer, and all of
/// an embed's text together.
pub const DISCORD_TITLE_CHARS: usize = 256;
pub const DISCORD_DESCRIPTION_CHARS: usize = 4096;
pub const DISCORD_FIELDS: usize = 25;
pub const DISCORD_FIELD_NAME_CHARS: usize = 256;
pub const DISCORD_FIELD_VALUE_CHARS: usize = 1024;
pub const DISCORD_FOOTER_CHARS: usize = 2048;
pub const DISCORD_EMBED_CHARS: usize = 6000;
/// Google Chat: a message's text.
pub const GOOGLE_CHAT_TEXT_CHARS: usize = 4096;
/// Teams: a card's whole payload, in bytes.
pub const TEAMS_PAYLOAD_BYTES: usize = 28 * 1024;

/// One HTTP POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// `text` cut to `max` characters, saying so.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let note = "… (cut; the e-mail has it all)";
    let keep = max.saturating_sub(note.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(note);
    out
}

/// The alert's figures worth a glance, labelled, from its payload (money to the cent).
fn facts(owed: &Owed, payload: &Value) -> Vec<(String, String)> {
    let currency = payload["currency"].as_str().unwrap_or("");
    let money = |key: &str| {
        payload[key]
            .as_str()
            .and_then(|v| Decimal::from_str(v).ok())
            .map(|v| format!("{} {currency}", cents(v)).trim().to_string())
    };
    let mut out = Vec::new();
    for (key, label) in [
        ("actual", "Spent"),
        ("month_to_date", "Month to date"),
        ("amount", "Budget"),
        ("forecast", "Forecast"),
        ("unused", "Unused"),
    ] {
        if let Some(v) = money(key) {
            out.push((label.to_string(), v));
        }
    }
    for (key, label) in [
        ("threshold", "Threshold"),
        ("span", "Period"),
        ("period", "Period"),
    ] {
        if let Some(v) = payload[key].as_str() {
            if !out.iter().any(|(l, _)| l == label) {
                out.push((label.to_string(), v.to_string()));
            }
        }
    }
    out.push(("Severity".into(), owed.severity.clone()));
    out
}

/// A bar of the spend against the budget (`▓▓▓▓▓▓▓▓░░ 81 %`), when the payload has both.
pub fn bar(payload: &Value) -> Option<String> {
    let num = |k: &str| payload[k].as_str().and_then(|v| Decimal::from_str(v).ok());
    let spent = num("actual").or_else(|| num("month_to_date"))?;
    let amount = num("amount").filter(|a| *a > Decimal::ZERO)?;
    let share = spent * Decimal::ONE_HUNDRED / amount;
    let filled = (share / Decimal::TEN)
        .round()
        .clamp(Decimal::ZERO, Decimal::TEN)
        .to_string()
        .parse::<usize>()
        .unwrap_or(0);
    Some(format!(
        "{}{} {} % of the budget",
        "▓".repeat(filled),
        "░".repeat(10 - filled),
        share.round_dp(1)
    ))
}

fn title(owed: &Owed) -> String {
    owed.subject
        .strip_prefix("billwatch: ")
        .unwrap_or(&owed.subject)
        .to_string()
}

/// Slack's mrkdwn: `&`, `<` and `>` escaped (no link or mention can be made from report text).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn color(severity: &str) -> u32 {
    match severity {
        "critical" => 0xCF222E,
        "warning" => 0xBF8700,
        _ => 0x0969DA,
    }
}

/// The request of `owed` for a channel of `kind`. `page` is the month page's (presigned) URL,
/// if one was written; `now` the Unix time a webhook request is signed at, with `key`.
pub fn request(
    kind: ChannelKind,
    owed: &Owed,
    page: Option<&str>,
    now: i64,
    key: &[u8],
) -> Request {
    let payload: Value = serde_json::from_str(&owed.payload).unwrap_or(Value::Null);
    let facts = facts(owed, &payload);
    let bar = bar(&payload);
    let json_headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let body = match kind {
        ChannelKind::Slack => slack(owed, &facts, bar.as_deref(), page),
        ChannelKind::Teams => teams(owed, &facts, bar.as_deref(), page),
        ChannelKind::Discord => discord(owed, &facts, bar.as_deref(), page),
        ChannelKind::GoogleChat => google_chat(owed, &facts, bar.as_deref(), page),
        ChannelKind::Webhook => {
            let body = owed.payload.clone();
            let mut headers = json_headers;
            headers.push((TIMESTAMP_HEADER.into(), now.to_string()));
            headers.push((
                SIGNATURE_HEADER.into(),
                signature(key, now, body.as_bytes()),
            ));
            headers.push(("X-Billwatch-Alert-Id".into(), owed.alert_id.clone()));
            return Request { headers, body };
        }
    };
    Request {
        headers: json_headers,
        body: body.to_string(),
    }
}

fn slack(owed: &Owed, facts: &[(String, String)], bar: Option<&str>, page: Option<&str>) -> Value {
    let mut text = slack_escape(&owed.reason);
    if let Some(b) = bar {
        text = format!("{text}\n`{b}`");
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&title(owed), SLACK_HEADER_CHARS), "emoji": false}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&text, SLACK_SECTION_CHARS)}}),
    ];
    let fields: Vec<Value> = facts
        .iter()
        .take(SLACK_FIELDS)
        .map(|(l, v)| json!({"type": "mrkdwn", "text": cut(&format!("*{l}*\n{}", slack_escape(v)), SLACK_FIELD_CHARS)}))
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&format!("```{}```", slack_escape(&owed.text)), SLACK_SECTION_CHARS)}}));
    if let Some(url) = page {
        blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the month page"}, "url": url}]}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(&format!("billwatch · {} · {}", owed.kind, slack_escape(&owed.alert_id)), SLACK_FIELD_CHARS)}]}));
    json!({"text": cut(&title(owed), SLACK_SECTION_CHARS), "blocks": blocks})
}

fn teams(owed: &Owed, facts: &[(String, String)], bar: Option<&str>, page: Option<&str>) -> Value {
    let build = |text: &str| {
        let mut body = vec![
            json!({"type": "TextBlock", "text": title(owed), "weight": "Bolder", "size": "Medium", "wrap": true}),
            json!({"type": "TextBlock", "text": owed.reason, "wrap": true}),
        ];
        if let Some(b) = bar {
            body.push(
                json!({"type": "TextBlock", "text": b, "fontType": "Monospace", "wrap": true}),
            );
        }
        body.push(json!({"type": "FactSet", "facts": facts.iter().map(|(l, v)| json!({"title": l, "value": v})).collect::<Vec<_>>()}));
        body.push(json!({"type": "TextBlock", "text": text, "fontType": "Monospace", "wrap": true, "size": "Small", "isSubtle": true}));
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body,
        });
        if let Some(url) = page {
            card["actions"] =
                json!([{"type": "Action.OpenUrl", "title": "Open the month page", "url": url}]);
        }
        json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}]})
    };
    // The e-mail text is cut until the whole card fits.
    let mut max = owed.text.chars().count();
    loop {
        let v = build(&cut(&owed.text, max));
        if v.to_string().len() <= TEAMS_PAYLOAD_BYTES || max == 0 {
            return v;
        }
        max /= 2;
    }
}

fn discord(
    owed: &Owed,
    facts: &[(String, String)],
    bar: Option<&str>,
    page: Option<&str>,
) -> Value {
    let title = cut(&title(owed), DISCORD_TITLE_CHARS);
    let footer = cut(
        &format!("billwatch · {}", owed.alert_id),
        DISCORD_FOOTER_CHARS,
    );
    let fields: Vec<(String, String)> = facts
        .iter()
        .take(DISCORD_FIELDS)
        .map(|(l, v)| {
            (
                cut(l, DISCORD_FIELD_NAME_CHARS),
                cut(v, DISCORD_FIELD_VALUE_CHARS),
            )
        })
        .collect();
    let used = title.chars().count()
        + footer.chars().count()
        + fields
            .iter()
            .map(|(l, v)| l.chars().count() + v.chars().count())
            .sum::<usize>();
    let mut description = owed.reason.clone();
    if let Some(b) = bar {
        description = format!("{description}\n`{b}`");
    }
    description = format!(
        "{description}\n```\n{}\n```",
        owed.text.replace("```", "'''")
    );
    let room = DISCORD_EMBED_CHARS
        .saturating_sub(used)
        .min(DISCORD_DESCRIPTION_CHARS);
    let mut embed = json!({
        "title": title,
        "description": cut(&description, room),
        "color": color(&owed.severity),
        "fields": fields.iter().map(|(l, v)| json!({"name": l, "value": v, "inline": true})).collect::<Vec<_>>(),
        "footer": {"text": footer},
    });
    if let Some(url) = page {
        embed["url"] = json!(url);
    }
    json!({"username": "billwatch", "embeds": [embed], "allowed_mentions": {"parse": []}})
}

fn google_chat(
    owed: &Owed,
    facts: &[(String, String)],
    bar: Option<&str>,
    page: Option<&str>,
) -> Value {
    let mut text = format!("*{}*\n{}", title(owed), owed.reason);
    if let Some(b) = bar {
        text = format!("{text}\n`{b}`");
    }
    for (l, v) in facts {
        text = format!("{text}\n*{l}:* {v}");
    }
    if let Some(url) = page {
        text = format!("{text}\n<{url}|Open the month page>");
    }
    text = format!("{text}\n```\n{}\n```", owed.text.replace("```", "'''"));
    json!({"text": cut(&text, GOOGLE_CHAT_TEXT_CHARS)})
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
