//! Alert messages: a subject that fits SNS (under 100 characters, no control characters) and a
//! body that reads well in an e-mail.

use crate::budget::Crossing;
use crate::report::ReportSummary;
use rust_decimal::Decimal;
use std::fmt::Write;

/// SNS subjects must be under 100 characters, printable ASCII and no line breaks.
pub const MAX_SUBJECT: usize = 99;

/// Replaces control characters (and anything SNS would refuse in a subject) and caps length.
pub fn sanitize_subject(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            c if c.is_whitespace() => ' ',
            c if c.is_ascii_graphic() => c,
            _ => '?',
        })
        .collect();
    let mut cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.len() > MAX_SUBJECT {
        cleaned.truncate(MAX_SUBJECT - 3);
        cleaned.push_str("...");
    }
    cleaned
}

/// Strips control characters other than line breaks and tabs from text that goes into a body.
pub fn sanitize_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A stable id for one alert, for downstream de-duplication.
pub fn alert_id(c: &Crossing, basis: &str) -> String {
    format!(
        "{}:{}:{}:{}",
        c.budget.name,
        c.period,
        basis,
        c.threshold.normalize()
    )
}

pub fn subject(c: &Crossing, summary: &ReportSummary) -> String {
    sanitize_subject(&format!(
        "billwatch: {} at {}% of {} {} ({}, {})",
        c.budget.name,
        c.percent.normalize(),
        c.budget.amount.normalize(),
        c.budget.currency,
        c.period,
        summary.status.name()
    ))
}

pub fn body(c: &Crossing, summary: &ReportSummary) -> String {
    let mut out = String::new();
    let b = &c.budget;
    let _ = writeln!(
        out,
        "Budget \"{}\" has reached {}% of its {} {} limit for {}.",
        b.name,
        c.percent.normalize(),
        b.amount.normalize(),
        b.currency,
        c.period
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "  Spent:      {} {}", c.spent.round_dp(2), b.currency);
    let _ = writeln!(out, "  Limit:      {} {}", b.amount.normalize(), b.currency);
    let _ = writeln!(
        out,
        "  Threshold:  {}% (actual spend)",
        c.threshold.normalize()
    );
    let _ = writeln!(out, "  Scope:      {}", scope_text(b.scope.as_text()));
    let _ = writeln!(
        out,
        "  Report:     {} {} {}{}",
        summary.format.name(),
        summary.billing_period.as_deref().unwrap_or("?"),
        summary.status.name(),
        summary
            .as_of
            .as_ref()
            .map(|t| format!(", as of {t}"))
            .unwrap_or_default()
    );
    let _ = writeln!(out);
    let mut services: Vec<(&str, &str, Decimal)> = Vec::new();
    for t in summary
        .totals
        .iter()
        .filter(|t| t.currency == b.currency && b.scope.covers(&t.account_id))
    {
        match services.iter_mut().find(|(s, _, _)| *s == t.service) {
            Some(entry) => entry.2 += t.cost,
            None => services.push((&t.service, &t.service_name, t.cost)),
        }
    }
    services.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let _ = writeln!(out, "Top services:");
    for (service, name, cost) in services.iter().take(5) {
        let _ = writeln!(
            out,
            "  {:<28} {:>14} {}",
            service,
            cost.round_dp(2),
            b.currency
        );
        if name != service {
            let _ = writeln!(out, "    ({name})");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Source: {}", summary.source);
    let _ = writeln!(out, "Alert id: {}", alert_id(c, "actual"));
    sanitize_text(&out)
}

fn scope_text(scope: &str) -> String {
    if scope == "all" {
        "all accounts".into()
    } else {
        format!("account {scope}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_fit_sns() {
        let s = sanitize_subject("billwatch:\tteam\nbudget \u{7} at 80%");
        assert_eq!(s, "billwatch: team budget ? at 80%");
        let long = sanitize_subject(&"x".repeat(300));
        assert_eq!(long.len(), MAX_SUBJECT);
        assert!(long.ends_with("..."));
        let unicode = sanitize_subject("café ☕ budget");
        assert!(unicode.is_ascii());
    }

    #[test]
    fn bodies_keep_line_breaks_only() {
        assert_eq!(sanitize_text("a\u{1b}[31mb\nc\td"), "a[31mb\nc\td");
    }
}
