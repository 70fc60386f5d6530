use super::*;
use crate::budget::model::{Auto, Model};
use crate::budget::test_support::{budget, d, pct};
use crate::budget::{Basis, Scope, Threshold};

fn p(s: &str) -> Period {
    s.parse().unwrap()
}

/// A month's figures in USD: its total, the part on no day, and `per_day` on each of the first
/// `days` days (the rest of the month empty).
fn figures(total: &str, once: &str, per_day: &str, days: usize, len: usize) -> Figures {
    let mut series = vec![Decimal::ZERO; len];
    series.iter_mut().take(days).for_each(|v| *v = d(per_day));
    Figures {
        name: "team".into(),
        answer: Ok(vec![Spend {
            currency: "USD".into(),
            total: d(total),
            once: d(once),
            days: series,
        }]),
        notes: Vec::new(),
        gauge: None,
    }
}

fn month<'a>(period: &str, f: &'a Figures, as_of: Option<&str>, status: Status) -> Month<'a> {
    Month {
        period: p(period),
        figures: f,
        as_of: as_of.map(str::to_string),
        status,
    }
}

fn quarterly(amount: &str, thresholds: &[Threshold]) -> Budget {
    let mut b = budget(Scope::All, amount, thresholds);
    b.model = Model {
        cadence: Cadence::Quarterly,
        ..Model::default()
    };
    b
}

#[test]
fn a_quarter_sums_its_months_and_projects_the_rest_at_the_current_rate() {
    // October final: 310. November to the 15th (as of the 16th 00:00): 15 days of 10 and 50
    // once; December is still to come.
    let oct = figures("310", "310", "0", 0, 0);
    let nov = figures("200", "50", "10", 15, 30);
    let months = [
        month("2026-10", &oct, None, Status::Final),
        month(
            "2026-11",
            &nov,
            Some("2026-11-16T00:00:00Z"),
            Status::Estimated,
        ),
    ];
    let b = quarterly("1000", &[pct("50"), pct("100").on(Basis::Forecast)]);
    let s = standing(&b, &months).unwrap();
    assert_eq!(s.span.to_string(), "2026-Q4");
    assert_eq!(s.spend, Ok(d("510")));
    // November: 200 + 10 × 15 more days = 350 (its run rate); December: 350 / 30 × 31.
    let dec = d("350") / d("30") * d("31");
    assert_eq!(s.forecast, Some((d("310") + d("350") + dec).round_dp(10)));
    let crossed: Vec<String> = s.crossings.iter().map(|c| c.claim_key()).collect();
    assert_eq!(crossed, ["actual#50", "forecast#100"]);
    // Claims of a quarter are kept under its first month, whichever month crossed.
    assert!(s.crossings.iter().all(|c| c.period == p("2026-10")));
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn a_month_without_a_report_is_named_and_counts_nothing() {
    let nov = figures("200", "200", "0", 0, 0);
    let months = [month("2026-11", &nov, None, Status::Final)];
    let s = standing(&quarterly("1000", &[pct("50")]), &months).unwrap();
    assert_eq!(s.spend, Ok(d("200")));
    assert_eq!(
        s.notes,
        ["no report for 2026-10: the quarterly spend counts only the months given"]
    );
}

#[test]
fn a_month_that_cannot_answer_makes_the_span_unanswerable_naming_it() {
    let oct = Figures {
        name: "team".into(),
        answer: Err("amortized cost needs the column reservation/EffectiveCost".into()),
        notes: Vec::new(),
        gauge: None,
    };
    let nov = figures("200", "200", "0", 0, 0);
    let months = [
        month("2026-10", &oct, None, Status::Final),
        month("2026-11", &nov, None, Status::Final),
    ];
    let s = standing(&quarterly("1000", &[pct("10")]), &months).unwrap();
    assert_eq!(
        s.spend,
        Err("2026-10: amortized cost needs the column reservation/EffectiveCost".into())
    );
    assert!(s.crossings.is_empty());
}

#[test]
fn a_daily_budget_is_the_day_of_the_newest_report() {
    let nov = figures("200", "50", "10", 15, 30);
    let mut b = budget(Scope::All, "9", &[pct("100")]);
    b.model.cadence = Cadence::Daily;
    // As of 2026-11-15 13:00, the day in progress is the 15th.
    let months = [month(
        "2026-11",
        &nov,
        Some("2026-11-15T13:00:00Z"),
        Status::Estimated,
    )];
    let s = standing(&b, &months).unwrap();
    assert_eq!(s.span.to_string(), "2026-11-15");
    assert_eq!((s.spend.clone(), s.forecast), (Ok(d("10")), None));
    assert_eq!(s.crossings.len(), 1);
    // At midnight the day that ended is the one shown.
    let months = [month(
        "2026-11",
        &nov,
        Some("2026-11-16T00:00:00Z"),
        Status::Estimated,
    )];
    assert_eq!(
        standing(&b, &months).unwrap().span.to_string(),
        "2026-11-15"
    );
    // Without a daily series a daily budget says why.
    let flat = figures("200", "200", "0", 0, 0);
    let months = [month("2026-11", &flat, None, Status::Final)];
    assert!(standing(&b, &months)
        .unwrap()
        .spend
        .unwrap_err()
        .contains("daily or hourly"));
}

#[test]
fn an_automatic_amount_follows_the_mean_of_the_months_before() {
    let (aug, sep, oct) = (
        figures("90", "90", "0", 0, 0),
        figures("120", "120", "0", 0, 0),
        figures("150", "150", "0", 0, 0),
    );
    let nov = figures("100", "100", "0", 0, 0);
    let mut b = budget(Scope::All, "0", &[pct("80")]);
    b.model.auto = Some(Auto { months: 2 });
    let months = [
        month("2026-08", &aug, None, Status::Final),
        month("2026-09", &sep, None, Status::Final),
        month("2026-10", &oct, None, Status::Final),
        month(
            "2026-11",
            &nov,
            Some("2026-11-10T00:00:00Z"),
            Status::Estimated,
        ),
    ];
    let s = standing(&b, &months).unwrap();
    // The mean of September and October: 135; 100 is 74 % of it.
    assert_eq!(s.amount, Some(d("135")));
    assert!(s.crossings.iter().all(|c| c.basis == Basis::Forecast));
    // A quarter's automatic amount is three such months.
    b.model.cadence = Cadence::Quarterly;
    let s = standing(&b, &months).unwrap();
    assert_eq!(s.span.to_string(), "2026-Q4");
    assert_eq!(
        s.amount,
        Some(d("315")),
        "the mean of August and September (105) × 3"
    );
    // Nothing before: no amount, no crossing, and a note that says so.
    let s = standing(&b, &months[..1]).unwrap();
    assert_eq!((s.amount, s.crossings.len()), (None, 0));
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("no threshold is checked")));
}

#[test]
fn spend_in_another_currency_is_named_not_added() {
    let mut nov = figures("100", "100", "0", 0, 0);
    if let Ok(spends) = &mut nov.answer {
        spends.push(Spend {
            currency: "EUR".into(),
            total: d("7.5"),
            ..Spend::default()
        });
    }
    let months = [month("2026-11", &nov, None, Status::Final)];
    let s = standing(&budget(Scope::All, "1000", &[pct("50")]), &months).unwrap();
    assert_eq!(s.spend, Ok(d("100")));
    assert_eq!(
        s.notes,
        ["spend in other currencies is not counted in this USD budget: 7.5 EUR in 2026-11"]
    );
}
