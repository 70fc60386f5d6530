//! Feedback on anomaly alerts (docs/anomalies.md, "Answering an anomaly"): someone who got an
//! anomaly alert says it was `expected`, `planned` or `real`. `expected` and `planned` stop
//! alerting on the same account, service and driver (the usage type that moved most) for a
//! window of days after the flagged day (14 by default), and widen that series' tolerance
//! (sensitivity × [`WIDEN_FACTOR`]) for [`WIDEN_DAYS`] after it; `real` confirms it and changes
//! nothing. Pure: what the stores hold and what the detection asks.

use super::detect::Finding;
use super::explain::Mover;
use super::settings::Settings;
use crate::report::drivers::Dimension;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Days after the flagged day that feedback silences, unless it says otherwise.
pub const DEFAULT_WINDOW_DAYS: u32 = 14;
/// The longest window feedback may ask for.
pub const MAX_WINDOW_DAYS: u32 = 90;
/// Days after the flagged day during which the series' tolerance stays widened.
pub const WIDEN_DAYS: u32 = 90;
/// How much wider: the series' sensitivity is multiplied by this.
pub const WIDEN_FACTOR: Decimal = Decimal::from_parts(15, 0, 0, false, 1);

/// What the anomaly was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Known and fine (a migration, a backfill): stop alerting on it for a while.
    Expected,
    /// Done on purpose (a load test, a launch): stop alerting on it for a while.
    Planned,
    /// A real problem: keep alerting.
    Real,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Expected => "expected",
            Verdict::Planned => "planned",
            Verdict::Real => "real",
        }
    }

    pub fn of(name: &str) -> Result<Verdict, String> {
        [Verdict::Expected, Verdict::Planned, Verdict::Real]
            .into_iter()
            .find(|v| v.name() == name)
            .ok_or_else(|| format!("'{name}' is not a verdict: expected, planned or real"))
    }

    /// Whether it silences the series for its window.
    pub fn silences(self) -> bool {
        self != Verdict::Real
    }
}

/// One answer to one anomaly alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    pub account: String,
    pub service: String,
    #[serde(default = "usd")]
    pub currency: String,
    /// The flagged day (`YYYY-MM-DD`).
    #[serde(with = "day_text")]
    pub day: NaiveDate,
    /// The usage type that moved most that day; None: any (the alert had no breakdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    pub verdict: Verdict,
    /// Days after `day` it silences (default [`DEFAULT_WINDOW_DAYS`]).
    #[serde(default = "default_window")]
    pub days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The alert answered, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    /// Who answered and when (the stack records them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// A day as `YYYY-MM-DD` (chrono's serde feature is not used).
mod day_text {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(d)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|_| serde::de::Error::custom(format!("'{text}' is not a day like 2026-11-16")))
    }
}

fn usd() -> String {
    "USD".into()
}

fn default_window() -> u32 {
    DEFAULT_WINDOW_DAYS
}

/// The usage type that moved most among `movers` (the alert's breakdown), if any.
pub fn top_driver(movers: &[Mover]) -> Option<&str> {
    movers
        .iter()
        .find(|m| m.dimension == Dimension::UsageType)
        .map(|m| m.value.as_str())
}

impl Feedback {
    /// The last day it silences.
    pub fn until(&self) -> NaiveDate {
        self.day + chrono::Days::new(u64::from(self.days))
    }

    fn same_series(&self, account: &str, service: &str, currency: &str) -> bool {
        self.account == account && self.service == service && self.currency == currency
    }

    /// Whether it silences `finding`, whose top driver is `driver`: an `expected` or `planned`
    /// answer, the same series, a day after the answered one and within the window, and the
    /// same driver (either side unknown counts as the same).
    pub fn silences(&self, finding: &Finding, driver: Option<&str>) -> bool {
        self.verdict.silences()
            && self.same_series(&finding.account, &finding.service, &finding.currency)
            && finding.day > self.day
            && finding.day <= self.until()
            && match (&self.driver, driver) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Every problem, each naming its field.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.account.is_empty() || self.service.is_empty() || self.currency.is_empty() {
            out.push("account, service and currency: all three are needed".into());
        }
        if self.days > MAX_WINDOW_DAYS {
            out.push(format!(
                "days: {} is more than {MAX_WINDOW_DAYS}: answer the alert again when the window ends",
                self.days
            ));
        }
        if self.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            out.push("note: at most 500 characters".into());
        }
        out
    }
}

/// The answer that silences `finding` (driver `driver`), if one does.
pub fn silenced_by<'a>(
    feedback: &'a [Feedback],
    finding: &Finding,
    driver: Option<&str>,
) -> Option<&'a Feedback> {
    feedback.iter().find(|f| f.silences(finding, driver))
}

/// `settings` of the series (account, service, currency) judged up to `day`, widened by every
/// `expected` or `planned` answer on it whose flagged day is at most [`WIDEN_DAYS`] before
/// `day` (once, however many answers).
pub fn widened(
    settings: Settings,
    feedback: &[Feedback],
    account: &str,
    service: &str,
    currency: &str,
    day: NaiveDate,
) -> Settings {
    let widen = feedback.iter().any(|f| {
        f.verdict.silences()
            && f.same_series(account, service, currency)
            && f.day <= day
            && day <= f.day + chrono::Days::new(u64::from(WIDEN_DAYS))
    });
    if widen {
        Settings {
            sensitivity: settings.sensitivity * WIDEN_FACTOR,
            ..settings
        }
    } else {
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn answer(verdict: Verdict, driver: Option<&str>, days: u32) -> Feedback {
        Feedback {
            account: "210987654321".into(),
            service: "AmazonEC2".into(),
            currency: "USD".into(),
            day: day(16),
            driver: driver.map(str::to_string),
            verdict,
            days,
            note: None,
            alert_id: None,
            by: None,
            at: None,
        }
    }

    fn finding(d: u32, account: &str) -> Finding {
        Finding {
            account: account.into(),
            service: "AmazonEC2".into(),
            service_name: String::new(),
            currency: "USD".into(),
            day: day(d),
            spend: Decimal::from(880),
            baseline: Decimal::from(97),
            spread: Decimal::ONE,
            impact: Decimal::from(783),
            factor: None,
            history_days: 14,
        }
    }

    #[test]
    fn expected_and_planned_silence_the_same_series_and_driver_within_the_window() {
        let p4d = Some("USW2-BoxUsage:p4d.24xlarge");
        let a = answer(Verdict::Expected, p4d, 2);
        assert_eq!(a.until(), day(18));
        assert!(a.silences(&finding(17, "210987654321"), p4d));
        assert!(a.silences(&finding(18, "210987654321"), p4d));
        assert!(
            !a.silences(&finding(19, "210987654321"), p4d),
            "window over"
        );
        assert!(
            !a.silences(&finding(16, "210987654321"), p4d),
            "the day answered"
        );
        assert!(
            !a.silences(&finding(17, "111111111111"), p4d),
            "another account"
        );
        assert!(
            !a.silences(&finding(17, "210987654321"), Some("BoxUsage:m5.large")),
            "another driver"
        );
        assert!(
            a.silences(&finding(17, "210987654321"), None),
            "no breakdown"
        );
        assert!(answer(Verdict::Planned, None, 14).silences(&finding(17, "210987654321"), p4d));
        assert!(!answer(Verdict::Real, p4d, 14).silences(&finding(17, "210987654321"), p4d));
        let list = [answer(Verdict::Real, p4d, 14), a.clone()];
        assert_eq!(
            silenced_by(&list, &finding(17, "210987654321"), p4d),
            Some(&a)
        );
    }

    #[test]
    fn tolerance_is_widened_for_ninety_days_once() {
        let s = Settings::default();
        let list = [
            answer(Verdict::Expected, None, 14),
            answer(Verdict::Planned, None, 14),
        ];
        let w = widened(s, &list, "210987654321", "AmazonEC2", "USD", day(30));
        assert_eq!(w.sensitivity, s.sensitivity * Decimal::new(15, 1));
        let later = day(16) + chrono::Days::new(91);
        assert_eq!(
            widened(s, &list, "210987654321", "AmazonEC2", "USD", later),
            s
        );
        assert_eq!(
            widened(s, &list, "210987654321", "AmazonS3", "USD", day(30)),
            s
        );
        assert_eq!(
            widened(
                s,
                &[answer(Verdict::Real, None, 14)],
                "210987654321",
                "AmazonEC2",
                "USD",
                day(30)
            ),
            s
        );
    }

    #[test]
    fn verdicts_and_problems_are_named() {
        assert_eq!(Verdict::of("planned"), Ok(Verdict::Planned));
        assert!(Verdict::of("fine")
            .unwrap_err()
            .contains("expected, planned or real"));
        assert!(answer(Verdict::Expected, None, 91).problems()[0].starts_with("days:"));
        assert!(answer(Verdict::Expected, None, 14).problems().is_empty());
    }
}
