//! The doctor's channel checks: for each channel of the budgets file (as `budgets apply` stored
//! it), can its webhook URL (and a webhook's signing key) be read where the channel says, is it
//! an https URL, is it where the functions' roles may read (the template's default
//! `ChannelParameterPath` and `ChannelSecretPrefix`), and does every channel a budget names
//! exist. No request is posted (`billwatch alerts test --channel NAME` does that).

use super::judge::Check;
use billwatch_aws::channels::secrets::{describe, Secrets};
use billwatch_core::budget::Budget;
use billwatch_core::channel::answer::{not_a_url, url_problem};
use billwatch_core::channel::{Channel, ChannelKind, SecretRef, STACK_TOPIC};

/// The template's defaults for where the functions may read channel URLs and keys.
const PARAMETER_PATH: &str = "/billwatch/";
const SECRET_PREFIX: &str = "billwatch/";

/// What was read for one channel: its URL (or why not), and a webhook's key (or why not).
pub struct Read {
    pub url: Result<String, String>,
    pub key: Option<Result<(), String>>,
}

/// Reads each channel's URL and key (the values stay here: only whether and what kind of URL).
pub async fn read(channels: &[Channel], secrets: &Secrets) -> Vec<Read> {
    let mut out = Vec::new();
    for c in channels {
        let url = secrets.value(&c.url).await.map_err(|e| e.to_string());
        let key = match (&c.signing_key, c.kind) {
            (Some(r), ChannelKind::Webhook) => Some(
                secrets
                    .value(r)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            ),
            _ => None,
        };
        out.push(Read { url, key });
    }
    out
}

fn outside_the_roles(r: &SecretRef) -> Option<String> {
    match r {
        SecretRef::Ssm(name) if !name.starts_with(PARAMETER_PATH) => Some(format!(
            "the functions may read only parameters under ChannelParameterPath (default {PARAMETER_PATH}); {name} is not"
        )),
        SecretRef::Secret(name)
            if !name.starts_with(SECRET_PREFIX) && !name.contains(&format!(":secret:{SECRET_PREFIX}")) =>
        {
            Some(format!(
                "the functions may read only secrets named {SECRET_PREFIX}… (ChannelSecretPrefix); {name} is not"
            ))
        }
        _ => None,
    }
}

fn put_fix(r: &SecretRef) -> String {
    match r {
        SecretRef::Ssm(name) => {
            format!("aws ssm put-parameter --name {name} --type SecureString --value 'https://…'")
        }
        SecretRef::Secret(name) => {
            format!("aws secretsmanager create-secret --name {name} --secret-string 'https://…'")
        }
    }
}

/// The checks, one per channel and one per budget naming a channel that does not exist; none
/// when no channel is declared and no budget names one.
pub fn judge(channels: &[Channel], reads: &[Read], budgets: &[Budget]) -> Vec<Check> {
    let mut out = Vec::new();
    for (c, r) in channels.iter().zip(reads) {
        let name = format!("channel {} ({})", c.name, c.kind.name());
        let check = match &r.url {
            Err(e) => Check::fail(&name, format!("URL not readable: {e}"), put_fix(&c.url)),
            Ok(url) => match not_a_url(url).or_else(|| url_problem(url)) {
                Some(problem) => Check::fail(
                    &name,
                    format!("{}: {problem}", describe(&c.url)),
                    format!("{} (the service's webhook URL)", put_fix(&c.url)),
                ),
                None => match (&r.key, &c.signing_key) {
                    (Some(Err(e)), Some(key)) => Check::fail(
                        &name,
                        format!("signing key not readable: {e}"),
                        put_fix(key).replace("'https://…'", "\"$(openssl rand -hex 32)\""),
                    ),
                    _ => match c
                        .signing_key
                        .iter()
                        .chain(std::iter::once(&c.url))
                        .find_map(outside_the_roles)
                    {
                        Some(why) => Check::warn(
                            &name,
                            why,
                            "deploy with ChannelParameterPath / ChannelSecretPrefix covering it, or keep it under the defaults",
                        ),
                        None => Check::pass(
                            &name,
                            format!("https URL readable from {}", describe(&c.url)),
                        ),
                    },
                },
            },
        };
        out.push(check);
    }
    for b in budgets {
        for wanted in b.channels.iter().filter(|n| n.as_str() != STACK_TOPIC) {
            if !channels.iter().any(|c| &c.name == wanted) {
                out.push(Check::fail(
                    format!("budget {} channels", b.name),
                    format!("names channel '{wanted}', which is not declared: its alerts do not go there"),
                    "declare it ([[channel]]) in the budgets file and run `billwatch budgets apply`",
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::judge::Status;

    fn channel(name: &str, kind: ChannelKind, url: SecretRef, key: Option<SecretRef>) -> Channel {
        Channel {
            name: name.into(),
            kind,
            url,
            signing_key: key,
            default: false,
        }
    }

    fn ok(url: &str) -> Read {
        Read {
            url: Ok(url.into()),
            key: None,
        }
    }

    #[test]
    fn each_channel_is_judged_by_what_its_url_and_key_read() {
        let ssm = |n: &str| SecretRef::Ssm(n.into());
        let channels = [
            channel("good", ChannelKind::Slack, ssm("/billwatch/good"), None),
            channel("gone", ChannelKind::Teams, ssm("/billwatch/gone"), None),
            channel("plain", ChannelKind::Discord, ssm("/billwatch/plain"), None),
            channel(
                "elsewhere",
                ChannelKind::GoogleChat,
                ssm("/team/hook"),
                None,
            ),
            channel(
                "hook",
                ChannelKind::Webhook,
                ssm("/billwatch/hook"),
                Some(SecretRef::Secret("billwatch/key".into())),
            ),
        ];
        let reads = [
            ok("https://hooks.slack.com/services/T/B/x"),
            Read {
                url: Err("SSM parameter /billwatch/gone: ParameterNotFound: not found".into()),
                key: None,
            },
            ok("http://discord.example/api/webhooks/1"),
            ok("https://chat.googleapis.com/v1/spaces/x/messages"),
            Read {
                url: Ok("https://example.com/hook".into()),
                key: Some(Err(
                    "Secrets Manager secret billwatch/key: ResourceNotFoundException".into(),
                )),
            },
        ];
        let budget = Budget {
            name: "team".into(),
            scope: billwatch_core::budget::Scope::All,
            amount: rust_decimal::Decimal::ONE_HUNDRED,
            currency: "USD".into(),
            thresholds: Vec::new(),
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: vec!["good".into(), "sns".into(), "missing".into()],
            digest_every: Default::default(),
            model: Default::default(),
        };
        let checks = judge(&channels, &reads, &[budget]);
        let status: Vec<(&str, Status)> =
            checks.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            status,
            [
                ("channel good (slack)", Status::Pass),
                ("channel gone (teams)", Status::Fail),
                ("channel plain (discord)", Status::Fail),
                ("channel elsewhere (google_chat)", Status::Warn),
                ("channel hook (webhook)", Status::Fail),
                ("budget team channels", Status::Fail),
            ]
        );
        assert!(checks[1]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("aws ssm put-parameter --name /billwatch/gone"));
        assert!(
            checks[2].detail.contains("must be https"),
            "{}",
            checks[2].detail
        );
        assert!(checks[3].detail.contains("ChannelParameterPath"));
        assert!(checks[4].detail.starts_with("signing key not readable"));
        assert!(checks[5].detail.contains("'missing'"));
        assert!(judge(&[], &[], &[]).is_empty());
    }
}
