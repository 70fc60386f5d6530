//! Channels: where an alert goes besides the stack's SNS topic — Slack, Microsoft Teams, Discord
//! and Google Chat incoming webhooks, and a generic JSON webhook signed with HMAC-SHA256
//! (docs/channels.md). Declared once in the budgets file (`[[channel]]`), named by budgets.
//!
//! Pure: a [`Channel`] as declared (its URL and signing key are references to SSM Parameter Store
//! or Secrets Manager, never the values), its checks ([`Channel::problems`]), and the request
//! each service takes for one alert ([`render::request`], within each service's documented
//! limits; [`sign`] for the generic webhook).

pub mod answer;
pub mod render;
pub mod sign;

use serde::{Deserialize, Serialize};

/// The services a channel can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A Slack incoming webhook: a Block Kit message.
    Slack,
    /// A Microsoft Teams workflow ("Post to a channel when a webhook request is received"): an
    /// Adaptive Card.
    Teams,
    /// A Discord webhook: an embed.
    Discord,
    /// A Google Chat space webhook: a text message.
    GoogleChat,
    /// Your own endpoint: the alert's JSON payload, signed ([`sign`]).
    Webhook,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Slack,
        ChannelKind::Teams,
        ChannelKind::Discord,
        ChannelKind::GoogleChat,
        ChannelKind::Webhook,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::Teams => "teams",
            ChannelKind::Discord => "discord",
            ChannelKind::GoogleChat => "google_chat",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// The kind called `name`, or why none is.
    pub fn of(name: &str) -> Result<ChannelKind, String> {
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = ChannelKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "'{name}' is not a channel type: one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Where a channel's URL or signing key is kept: its name there, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretRef {
    /// An SSM Parameter Store parameter (a SecureString): `/billwatch/slack-finops`.
    Ssm(String),
    /// A Secrets Manager secret's name or ARN.
    Secret(String),
}

impl SecretRef {
    fn problem(&self, field: &str) -> Option<String> {
        match self {
            SecretRef::Ssm(name) => {
                let ok = name.starts_with('/')
                    && name.len() <= 1011
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c));
                (!ok).then(|| {
                    format!(
                        "{field}: ssm '{name}' is not a parameter name like /billwatch/slack-finops \
                         (a path of letters, digits, _ . - and /)"
                    )
                })
            }
            SecretRef::Secret(name) => {
                let ok = !name.is_empty()
                    && name.len() <= 2048
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c));
                (!ok).then(|| format!("{field}: secret '{name}' is not a secret's name or ARN"))
            }
        }
    }
}

/// One `[[channel]]` of the budgets file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// `[A-Za-z0-9._-]{1,64}`, unique; budgets name it in `channels = [...]`.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ChannelKind,
    /// Where the webhook URL is kept.
    pub url: SecretRef,
    /// A generic webhook's signing key (required there, refused elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SecretRef>,
    /// Also gets the alerts of no budget: anomalies, reports that cannot be read, the health
    /// check's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

/// The claim key of `key`'s copy for channel `name`: each channel's copy is claimed, sent and
/// marked on its own, so one channel failing never holds back another or the SNS copy.
pub fn claim_key(key: &str, name: &str) -> String {
    format!("{key}#ch#{name}")
}

/// The alert key and channel a channel copy's claim key holds ([`claim_key`]), if it is one.
pub fn of_claim_key(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once("#ch#")
}

/// The channels an alert goes to besides the stack's topic: those its budget names (a budget's
/// `channels`, `budget_channels`), or for an alert of no budget those declared `default = true`.
/// A name no channel carries (the budgets file is checked, so only a channel removed since) is
/// returned in the second list.
pub fn targets<'a>(
    budget_channels: Option<&[String]>,
    declared: &'a [Channel],
) -> (Vec<&'a Channel>, Vec<String>) {
    let Some(names) = budget_channels else {
        return (declared.iter().filter(|c| c.default).collect(), Vec::new());
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names.iter().filter(|n| n.as_str() != STACK_TOPIC) {
        match declared.iter().find(|c| &c.name == name) {
            Some(c) if !found.iter().any(|f: &&Channel| f.name == c.name) => found.push(c),
            Some(_) => {}
            None => missing.push(name.clone()),
        }
    }
    (found, missing)
}

/// The name budgets use for the stack's SNS topic (always there; the default).
pub const STACK_TOPIC: &str = "sns";

impl Channel {
    /// Every problem, as `field: reason`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !name_ok {
            out.push(format!(
                "name: '{}' is not 1-64 letters, digits, '.', '_' or '-'",
                self.name
            ));
        }
        if self.name == STACK_TOPIC {
            out.push(format!(
                "name: '{STACK_TOPIC}' is the stack's topic, always there: choose another name"
            ));
        }
        out.extend(self.url.problem("url"));
        match (&self.signing_key, self.kind) {
            (None, ChannelKind::Webhook) => out.push(
                "signing_key: a webhook channel signs every request: give signing_key = { ssm = \"/billwatch/...\" }"
                    .into(),
            ),
            (Some(_), k) if k != ChannelKind::Webhook => out.push(format!(
                "signing_key: only a webhook channel is signed ({} checks its own URL)",
                k.name()
            )),
            (Some(key), _) => out.extend(key.problem("signing_key")),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(kind: ChannelKind, url: SecretRef, key: Option<SecretRef>) -> Channel {
        Channel {
            name: "finops".into(),
            kind,
            url,
            signing_key: key,
            default: false,
        }
    }

    #[test]
    fn an_alert_goes_to_its_budgets_channels_or_to_the_default_ones() {
        let mut slack = channel(ChannelKind::Slack, SecretRef::Ssm("/a".into()), None);
        slack.name = "slack".into();
        let mut teams = channel(ChannelKind::Teams, SecretRef::Ssm("/b".into()), None);
        teams.name = "teams".into();
        teams.default = true;
        let declared = [slack, teams];
        let names = |v: Vec<&Channel>| v.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let wanted: Vec<String> = ["sns", "slack", "slack", "gone"].map(String::from).into();
        let (found, missing) = targets(Some(&wanted), &declared);
        assert_eq!(names(found), ["slack"]);
        assert_eq!(missing, ["gone"]);
        assert_eq!(names(targets(Some(&[]), &declared).0), Vec::<String>::new());
        assert_eq!(names(targets(None, &declared).0), ["teams"]);
        let key = claim_key("team-a#actual#80", "slack");
        assert_eq!(key, "team-a#actual#80#ch#slack");
        assert_eq!(of_claim_key(&key), Some(("team-a#actual#80", "slack")));
        assert_eq!(of_claim_key("team-a#actual#80"), None);
    }

    #[test]
    fn a_channel_names_where_its_url_and_key_are_kept_never_the_values() {
        let ok = channel(
            ChannelKind::Webhook,
            SecretRef::Ssm("/billwatch/hook".into()),
            Some(SecretRef::Secret("billwatch/hook-key".into())),
        );
        assert!(ok.problems().is_empty(), "{:?}", ok.problems());
        let url_in_file = channel(
            ChannelKind::Slack,
            SecretRef::Ssm("https://hooks.slack.com/services/T/B/x".into()),
            None,
        );
        assert_eq!(url_in_file.problems().len(), 1);
        assert!(url_in_file.problems()[0].starts_with("url: ssm 'https://"));
        let unsigned = channel(ChannelKind::Webhook, SecretRef::Ssm("/a".into()), None);
        assert!(unsigned.problems()[0].starts_with("signing_key:"));
        let signed_slack = channel(
            ChannelKind::Slack,
            SecretRef::Ssm("/a".into()),
            Some(SecretRef::Ssm("/b".into())),
        );
        assert!(signed_slack.problems()[0].contains("only a webhook channel is signed"));
        assert_eq!(ChannelKind::of("google_chat"), Ok(ChannelKind::GoogleChat));
        assert!(ChannelKind::of("msteams")
            .unwrap_err()
            .contains("one of slack, teams"));
    }
}
