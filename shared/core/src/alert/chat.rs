//! An alert in the *custom notification* format of AWS Chatbot (Amazon Q Developer in chat
//! applications), so that a chat channel subscribed to billwatch's chat topic shows it in
//! Slack, Microsoft Teams or Amazon Chime with no Lambda in between:
//!
//! ```json
//! {"version": "1.0", "source": "custom", "id": "...",
//!  "content": {"textType": "client-markdown", "title": "...", "description": "...",
//!              "nextSteps": ["..."], "keywords": ["..."]},
//!  "metadata": {"threadId": "...", "summary": "...", "eventType": "...",
//!               "additionalContext": {"...": "..."}}}
//! ```
//!
//! Built from what every alert already has (subject, e-mail text, message attributes), so the
//! outbox needs nothing new. `tests/fixtures/chatbot/` holds the documented schema and a
//! rendered sample; the tests below check every kind of alert against that schema.

use serde_json::{json, Map, Value};

/// The e-mail text is shown whole up to this many characters, in a code block (its columns
/// stay aligned); longer text is cut at a line end.
const MAX_DESCRIPTION: usize = 3_500;

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The emoji chat shows before the title, by severity.
fn marker(severity: &str) -> &'static str {
    match severity {
        "critical" => ":rotating_light:",
        "warning" => ":warning:",
        _ => ":information_source:",
    }
}

/// The e-mail text without its last `Alert id:` line (the id is in the metadata), bounded,
/// with backticks defused so report text cannot end the code block.
fn body(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    if lines.last().is_some_and(|l| l.starts_with("Alert id:")) {
        lines.pop();
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let mut out = String::new();
    for line in lines {
        if out.len() + line.len() + 1 > MAX_DESCRIPTION {
            out.push_str("…\n");
            break;
        }
        out.push_str(&line.replace('`', "'"));
        out.push('\n');
    }
    out
}

/// What to do next, by kind: the CLI commands that answer the obvious question.
fn next_steps(kind: &str, period: Option<&str>, budget: Option<&str>) -> Vec<String> {
    let p = period.map(|p| format!(" --period {p}")).unwrap_or_default();
    match kind {
        "budget" | "escalation" | "month-close" => vec![
            format!("See where the money went: `billwatch totals{p}`"),
            format!(
                "Every alert of the month: `billwatch alerts{p}{}`",
                budget.map(|b| format!(" --budget {b}")).unwrap_or_default()
            ),
            "Change the budget: edit your budgets file, then `billwatch budgets apply FILE`".into(),
        ],
        "health" => vec![
            format!("What was delivered and ingested: `billwatch reports{p}`"),
            "The function's logs: CloudWatch Logs, the report-ingest log group".into(),
        ],
        _ => vec!["Nothing to do: this checks that the channel receives billwatch alerts".into()],
    }
}

/// The Chatbot custom notification of an alert (subject, e-mail text and SNS attributes as
/// rendered by [`super::render`]).
pub fn notification(subject: &str, text: &str, attributes: &[(String, String)]) -> Value {
    let severity = attribute(attributes, "severity").unwrap_or("info");
    let kind = attribute(attributes, "kind").unwrap_or("alert");
    let period = attribute(attributes, "period");
    let budget = attribute(attributes, "budget");
    let alert_id = attribute(attributes, "alert_id").unwrap_or_default();
    let title = subject.strip_prefix("billwatch: ").unwrap_or(subject);
    let mut keywords = vec![
        "billwatch".to_string(),
        kind.to_string(),
        severity.to_string(),
    ];
    keywords.extend(
        ["budget", "period", "basis", "check"]
            .iter()
            .filter_map(|name| attribute(attributes, name))
            .map(str::to_string),
    );
    keywords.dedup();
    let mut context = Map::new();
    for name in [
        "alert_id",
        "kind",
        "severity",
        "budget",
        "period",
        "basis",
        "threshold",
    ] {
        if let Some(v) = attribute(attributes, name) {
            context.insert(name.into(), Value::String(v.into()));
        }
    }
    // A budget's alerts of one month share a thread; other alerts thread by kind and month.
    let thread = match (budget, period) {
        (Some(b), Some(p)) => format!("billwatch-{b}-{p}"),
        (None, Some(p)) => format!("billwatch-{kind}-{p}"),
        _ => format!("billwatch-{kind}"),
    };
    json!({
        "version": "1.0",
        "source": "custom",
        "id": alert_id,
        "content": {
            "textType": "client-markdown",
            "title": format!("{} {title}", marker(severity)),
            "description": format!("```\n{}```", body(text)),
            "nextSteps": next_steps(kind, period, budget),
            "keywords": keywords,
        },
        "metadata": {
            "threadId": thread,
            "summary": title,
            "eventType": format!("billwatch-{kind}"),
            "additionalContext": context,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::render::{self, HealthCheck};
    use super::super::Message;
    use super::*;

    fn chat(m: &Message) -> Value {
        let attributes: Vec<(String, String)> = m
            .attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        notification(&m.subject, &m.text, &attributes)
    }

    fn schema() -> jsonschema::Validator {
        let text =
            include_str!("../../../../tests/fixtures/chatbot/custom-notification.schema.json");
        jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap()
    }

    fn assert_valid(v: &Value) {
        let errors: Vec<String> = schema().iter_errors(v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{v:#}");
    }

    #[test]
    fn the_fixture_is_valid_and_an_invalid_notification_is_caught() {
        let sample: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/chatbot/budget-alert.json"
        ))
        .unwrap();
        assert_valid(&sample);
        let mut wrong = sample.clone();
        wrong["source"] = "billwatch".into();
        assert!(!schema().is_valid(&wrong));
        let mut wrong = sample;
        wrong["content"]["keywords"] = json!("billwatch");
        assert!(!schema().is_valid(&wrong));
    }

    #[test]
    fn every_kind_of_alert_renders_a_valid_notification() {
        let health = render::health(
            "health:silence:2026-11",
            HealthCheck::Silence,
            "no billing report for 40 hours",
            "No report arrived.\n",
            "2026-11".parse().unwrap(),
            json!({}),
        );
        let test = render::test_message("2026-11-20T08:00:00.000Z");
        for m in [health, test] {
            let n = chat(&m);
            assert_valid(&n);
            assert_eq!(n["version"], "1.0");
            assert_eq!(n["source"], "custom");
        }
    }

    #[test]
    fn the_budget_fixture_is_what_the_code_renders() {
        let m = render::tests::sample_message();
        let n = chat(&m);
        assert_valid(&n);
        let fixture: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/chatbot/budget-alert.json"
        ))
        .unwrap();
        assert_eq!(
            n,
            fixture,
            "rendered:\n{}",
            serde_json::to_string_pretty(&n).unwrap()
        );
        assert_eq!(
            n["content"]["title"],
            ":warning: team: actual spend passed 80% of 1,000.00 USD - Nov 2026"
        );
        let description = n["content"]["description"].as_str().unwrap();
        assert!(description.starts_with("```\nBudget \"team\""));
        assert!(description.ends_with("```"));
        assert!(!description.contains("Alert id"));
        assert_eq!(n["metadata"]["threadId"], "billwatch-team-2026-11");
        assert_eq!(
            n["metadata"]["additionalContext"]["alert_id"],
            "team:2026-11:actual:80"
        );
    }

    #[test]
    fn report_text_cannot_break_the_code_block_and_long_text_is_cut() {
        let attributes = vec![("severity".to_string(), "critical".to_string())];
        let text = format!("a ```` b\n{}", "line\n".repeat(2_000));
        let n = notification("billwatch: x", &text, &attributes);
        let d = n["content"]["description"].as_str().unwrap();
        assert_eq!(d.matches("```").count(), 2, "{d}");
        assert!(d.len() < 4_000);
        assert!(n["content"]["title"]
            .as_str()
            .unwrap()
            .starts_with(":rotating_light: x"));
    }
}
