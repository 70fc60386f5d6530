//! What a channel's answer means and how long to wait before asking again: delivered on 2xx;
//! retried on 429 and 5xx (and on a connection that failed or timed out), after the service's
//! `Retry-After` when it gives one, else after a growing pause; refused for good on any other
//! status (a webhook removed, a payload the service rejects), which is recorded and not retried.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// What one answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    /// Try again, not before `after` when the service said so.
    Retry {
        after: Option<Duration>,
        why: String,
    },
    /// Refused for good: recorded, never retried.
    Refused(String),
}

/// The answer of an HTTP status, with the response's `Retry-After` header (seconds or an
/// HTTP date) and the start of its body (kept in the error a person reads).
pub fn answer(status: u16, retry_after: Option<&str>, body: &str, now: DateTime<Utc>) -> Answer {
    let why = || {
        let body: String = body.chars().take(200).collect();
        let body = body.trim();
        if body.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {body}")
        }
    };
    match status {
        200..=299 => Answer::Delivered,
        429 | 500..=599 => Answer::Retry {
            after: retry_after.and_then(|v| retry_after_of(v, now)),
            why: why(),
        },
        _ => Answer::Refused(why()),
    }
}

/// A `Retry-After` value (delay-seconds or an HTTP-date) as a wait from `now`; a date in the
/// past waits nothing; anything else is ignored.
pub fn retry_after_of(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// How often and how long one invocation tries a channel before it leaves the copy for the next
/// attempt (the outbox keeps it): at most `attempts` requests, pauses growing from `first`
/// (doubling, capped at `most`), never waiting past `budget` in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
    pub most: Duration,
    pub budget: Duration,
}

impl Backoff {
    /// Within a Lambda invocation: 4 requests, pauses of 1, 2, 4 s (or what `Retry-After` asks),
    /// at most 20 s of waiting per channel copy.
    pub const INVOCATION: Backoff = Backoff {
        attempts: 4,
        first: Duration::from_secs(1),
        most: Duration::from_secs(8),
        budget: Duration::from_secs(20),
    };

    /// The pause before request `attempt + 1` (1-based: after the first request failed,
    /// `attempt` is 1), given what the service asked for and how long was waited already; None
    /// when no request is left or the pause would pass the budget (the copy stays owed).
    pub fn pause(
        &self,
        attempt: u32,
        asked: Option<Duration>,
        waited: Duration,
    ) -> Option<Duration> {
        if attempt >= self.attempts {
            return None;
        }
        let grown = self
            .first
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.most);
        let pause = asked.unwrap_or(grown);
        (waited + pause <= self.budget).then_some(pause)
    }
}

/// Why a webhook URL read from its parameter cannot be posted to, if it cannot: it must be
/// `https://` (plain `http://` only to this machine, for local receivers), with a host.
pub fn url_problem(url: &str) -> Option<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("not a URL (https://…)".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_name = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host_only = if host_name.starts_with('[') {
        host_name
            .split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
    } else {
        host_name.split(':').next().unwrap_or("")
    };
    if host_only.is_empty() {
        return Some("the URL names no host".into());
    }
    match scheme {
        "https" => None,
        "http" if matches!(host_only, "127.0.0.1" | "localhost" | "::1") => None,
        "http" => Some(format!(
            "plain http to {host_only}: a webhook URL must be https (the alert would cross the network unencrypted)"
        )),
        other => Some(format!("'{other}' is not https")),
    }
}

/// The problem of a value that is not a URL at all.
pub fn not_a_url(url: &str) -> Option<String> {
    (!url.contains("://")).then(|| {
        "the parameter does not hold a URL (https://…); check that it is the webhook's URL".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
    }

    #[test]
    fn statuses_are_delivered_retried_or_refused() {
        assert_eq!(answer(200, None, "ok", now()), Answer::Delivered);
        assert_eq!(answer(204, None, "", now()), Answer::Delivered);
        assert_eq!(
            answer(429, Some("3"), "slow down", now()),
            Answer::Retry {
                after: Some(Duration::from_secs(3)),
                why: "HTTP 429: slow down".into()
            }
        );
        assert!(matches!(
            answer(503, None, "", now()),
            Answer::Retry { after: None, .. }
        ));
        assert!(matches!(
            answer(500, Some("soon"), "", now()),
            Answer::Retry { after: None, .. }
        ));
        assert_eq!(
            answer(404, None, "no_service", now()),
            Answer::Refused("HTTP 404: no_service".into())
        );
        assert_eq!(
            answer(400, None, "", now()),
            Answer::Refused("HTTP 400".into())
        );
        assert!(matches!(answer(301, None, "", now()), Answer::Refused(_)));
        let long = "x".repeat(5000);
        let Answer::Refused(why) = answer(413, None, &long, now()) else {
            panic!()
        };
        assert!(why.len() < 220, "{why}");
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        assert_eq!(retry_after_of("120", now()), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after_of("Mon, 07 Dec 2026 12:00:30 GMT", now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after_of("Mon, 07 Dec 2026 11:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after_of("-1", now()), None);
        assert_eq!(retry_after_of("later", now()), None);
    }

    #[test]
    fn backoff_grows_honours_retry_after_and_stops_within_its_budget() {
        let b = Backoff::INVOCATION;
        let s = Duration::from_secs;
        assert_eq!(b.pause(1, None, s(0)), Some(s(1)));
        assert_eq!(b.pause(2, None, s(1)), Some(s(2)));
        assert_eq!(b.pause(3, None, s(3)), Some(s(4)));
        assert_eq!(b.pause(4, None, s(7)), None, "four requests at most");
        assert_eq!(
            b.pause(1, Some(s(5)), s(0)),
            Some(s(5)),
            "Retry-After is honoured"
        );
        assert_eq!(
            b.pause(1, Some(s(60)), s(0)),
            None,
            "a wait past the budget is left to the next attempt"
        );
        assert_eq!(b.pause(2, Some(s(15)), s(6)), None);
        let tiny = Backoff {
            attempts: 10,
            first: s(1),
            most: s(3),
            budget: s(100),
        };
        assert_eq!(tiny.pause(5, None, s(0)), Some(s(3)), "capped");
    }

    #[test]
    fn webhook_urls_must_be_https_except_to_this_machine() {
        assert_eq!(url_problem("https://hooks.slack.com/services/T/B/x"), None);
        assert_eq!(url_problem("http://127.0.0.1:8080/hook"), None);
        assert_eq!(url_problem("http://localhost/hook"), None);
        assert_eq!(url_problem("http://[::1]:9/hook"), None);
        assert!(url_problem("http://example.com/hook")
            .unwrap()
            .contains("must be https"));
        assert!(url_problem("http://127.0.0.1.evil.com/x").is_some());
        assert!(url_problem("ftp://example.com/x").is_some());
        assert!(url_problem("https:///x").is_some());
        assert!(not_a_url("T0000/B000/xyz").is_some());
        assert_eq!(not_a_url("https://x"), None);
    }
}
