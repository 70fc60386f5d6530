//! The daily digest of a gauge budget (`kind = "savings_plans_utilization"`, …, with `digest =
//! true`): the month to date in money, yesterday's figure, and its lines. Sent once per budget and
//! day like every digest (the same claim key).

use crate::alert::commitment_render::{headline, pct};
use crate::alert::plan::{Alert, MonthFigures};
use crate::alert::sanitize::report_text;
use crate::budget::Budget;
use crate::commitment::watch::percent;
use crate::commitment::Gauge;
use crate::period::Period;
use chrono::{Datelike, NaiveDate};
use serde_json::json;
use std::fmt::Write;

/// The digest of gauge budget `b` on `today`, from the live figures of the month holding
/// yesterday (every payer's summed) in `months`, claimed under `key` (the daily digest's).
pub fn gauge_digest(
    b: &Budget,
    gauge: Gauge,
    today: NaiveDate,
    months: &[MonthFigures],
    key: String,
) -> Alert {
    let yesterday = today.pred_opt().unwrap_or(today);
    let period = Period::of_date(yesterday);
    let figures = months
        .iter()
        .find(|m| m.period == period)
        .and_then(|m| m.figures.iter().find(|f| f.name == b.name));
    let gauged = figures.and_then(|f| f.gauge.clone());
    let why = match figures {
        None => Some(format!(
            "no delivery of {period} holds this budget's figures yet"
        )),
        Some(f) => f.answer.clone().err(),
    };
    let budget = report_text(&b.name);
    let words = gauge.words();
    let mut text = format!("{budget} ({}), {}\n\n", b.model_text(), period.label());
    let (subject_figure, mtd, day) = match &gauged {
        Some(g) => {
            let day = g
                .days
                .iter()
                .find(|d| d.day == yesterday.day())
                .and_then(|d| percent(d.part, d.whole));
            let _ = writeln!(text, "  Month to date:  {}", headline(g, &b.currency));
            match day {
                Some(p) => {
                    let _ = writeln!(text, "  Yesterday:      {} % ({yesterday})", pct(p));
                }
                None => text += "  Yesterday:      no figure for the day in the live report\n",
            }
            let mtd = g.percent();
            (
                mtd.map(|p| format!("{words} {} % month to date", pct(p)))
                    .unwrap_or_else(|| format!("{words}: nothing to measure")),
                mtd,
                day,
            )
        }
        None => {
            let why = why.clone().unwrap_or_default();
            let _ = writeln!(text, "  Not answered:   {why}");
            (format!("{words}: not answered"), None, None)
        }
    };
    let _ = writeln!(text, "  Lines:          {}", b.thresholds_text());
    let payload = json!({
        "date": today.to_string(), "kind": gauge.name(),
        gauge.measure(): mtd.map(|p| p.normalize().to_string()),
        "yesterday": day.map(|p| p.normalize().to_string()),
        "unused": gauged.as_ref().map(|g| g.unused.to_string()),
        "currency": b.currency, "counts": b.model_text(), "error": why,
    });
    crate::alert::owed::digest_alert(
        b,
        period,
        key,
        format!("daily digest of {} for {today}", b.name),
        &format!("billwatch: {budget} daily digest {today}: {subject_figure}"),
        text,
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::spec::Figures;
    use crate::budget::{Model, Scope, Threshold};
    use crate::commitment::watch::GaugeDay;
    use crate::commitment::{Gauged, Watch};
    use crate::report::Status;
    use rust_decimal::Decimal;

    #[test]
    fn a_gauge_digest_gives_the_month_in_money_and_yesterday() {
        let b = Budget {
            name: "sp".into(),
            scope: Scope::All,
            amount: Decimal::ONE_HUNDRED,
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(Decimal::from(90))],
            escalation_step: None,
            topic_arn: None,
            digest: true,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Model {
                watch: Some(Watch::Gauge(Gauge::SavingsPlansUtilization)),
                ..Model::default()
            },
        };
        let g = Gauged {
            gauge: Gauge::SavingsPlansUtilization,
            part: Decimal::from(75),
            whole: Decimal::from(100),
            unused: Decimal::from(25),
            days: vec![GaugeDay {
                day: 29,
                part: Decimal::from(1),
                whole: Decimal::from(2),
            }],
            counted: 1,
        };
        let months = [MonthFigures {
            period: "2026-11".parse().unwrap(),
            figures: vec![Figures {
                name: "sp".into(),
                answer: Ok(Vec::new()),
                notes: Vec::new(),
                gauge: Some(g),
            }],
            as_of: None,
            status: Status::Estimated,
        }];
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let key = || "digest#sp#2026-11-30".to_string();
        let a = gauge_digest(&b, Gauge::SavingsPlansUtilization, today, &months, key());
        let text = &a.message.text;
        assert!(
            text.contains("utilization 75.0 %: 25.00 USD of commitment unused"),
            "{text}"
        );
        assert!(
            text.contains("Yesterday:      50.0 % (2026-11-29)"),
            "{text}"
        );
        assert_eq!(a.key, key());
        assert!(a.message.sns_problems().is_empty());
        let none = gauge_digest(&b, Gauge::SavingsPlansUtilization, today, &[], key());
        assert!(
            none.message.text.contains("no delivery of 2026-11"),
            "{}",
            none.message.text
        );
        assert!(!none.message.text.contains("0.0 %"));
    }
}
