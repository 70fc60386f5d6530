//! The weekly digest across a month boundary: the week of Monday 2026-11-30 to Sunday
//! 2026-12-06 reads November's last day and December's first six; its movers, its claim.

use super::*;
use crate::budget::{Every, Scope, Threshold};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A total of `service` in `account` whose day `n` (1-based) costs `per_day(n)`.
fn total(account: &str, service: &str, days: usize, per_day: impl Fn(usize) -> Decimal) -> Total {
    let series: Vec<Decimal> = (1..=days).map(per_day).collect();
    Total {
        account_id: account.into(),
        service: service.into(),
        service_name: service.into(),
        currency: "USD".into(),
        cost: series.iter().sum(),
        breakdown: Default::default(),
        daily_usage: Some(series),
    }
}

fn budget() -> Budget {
    Budget {
        name: "all".into(),
        scope: Scope::All,
        amount: d("1000"),
        currency: "USD".into(),
        thresholds: vec![Threshold::percent(d("80"))],
        escalation_step: None,
        topic_arn: None,
        digest: true,
        digest_every: Every::Week,
        channels: Vec::new(),
        model: Default::default(),
    }
}

#[test]
fn a_week_across_two_months_is_summed_from_both_and_sent_once_per_week() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    assert_eq!(
        week_of(today),
        (
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
        )
    );
    // EC2 costs 10 a day in November and 20 a day in December; S3 1 a day throughout.
    let nov = vec![
        total("111111111111", "AmazonEC2", 30, |_| d("10")),
        total("222222222222", "AmazonS3", 30, |_| d("1")),
    ];
    let dec = vec![
        total("111111111111", "AmazonEC2", 31, |n| {
            if n <= 6 {
                d("20")
            } else {
                d("0")
            }
        }),
        total("222222222222", "AmazonS3", 31, |n| {
            if n <= 6 {
                d("1")
            } else {
                d("0")
            }
        }),
    ];
    let months = [
        MonthTotals {
            period: "2026-11".parse().unwrap(),
            totals: &nov,
        },
        MonthTotals {
            period: "2026-12".parse().unwrap(),
            totals: &dec,
        },
    ];
    let anomalies = [
        OpenAnomaly {
            account: "111111111111".into(),
            service: "AmazonEC2".into(),
            currency: "USD".into(),
            day: "2026-12-03".into(),
            reason: "EC2 far above its usual day".into(),
        },
        OpenAnomaly {
            account: "111111111111".into(),
            service: "AmazonEC2".into(),
            currency: "USD".into(),
            day: "2026-11-20".into(),
            reason: "an older one".into(),
        },
    ];
    let b = budget();
    let a = compose_weekly(&WeeklyInput {
        budget: &b,
        today,
        months: &months,
        figures: &[],
        as_of: Some("2026-12-07T00:00:00Z"),
        status: Status::Estimated,
        anomalies: &anomalies,
    });
    let p = &a.message.payload;
    // Nov 30 (11) + six December days (21 each) = 137; the week before, seven days of 11 = 77.
    assert_eq!(p["week_spend"], "137");
    assert_eq!(p["week_before"], "77");
    assert_eq!(p["week"], "2026-W49");
    assert_eq!(a.key, "weekly#all#2026-W49");
    assert_eq!(a.period, "2026-12".parse().unwrap());
    // December to date: 6 × 21 = 126 of 1,000.
    assert_eq!(p["month_to_date"], "126");
    assert_eq!(p["services"][0]["name"], "AmazonEC2");
    assert_eq!(p["services"][0]["change"], "60");
    assert_eq!(p["accounts"][0]["name"], "111111111111");
    assert_eq!(p["anomalies"].as_array().unwrap().len(), 1);
    let text = &a.message.text;
    assert!(text.contains("This week:      137.00 USD"), "{text}");
    assert!(
        text.contains("Week before:    77.00 USD (+60.00 USD, +77.9 %)"),
        "{text}"
    );
    assert!(
        text.contains("2026-12-03: EC2 far above its usual day"),
        "{text}"
    );
    assert!(!text.contains("an older one"));
    assert!(
        a.message.sns_problems().is_empty(),
        "{:?}",
        a.message.sns_problems()
    );
    // Any day of the next week reports the same week under the same claim: once per week.
    let tuesday = compose_weekly(&WeeklyInput {
        today: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        ..WeeklyInput {
            budget: &b,
            today,
            months: &months,
            figures: &[],
            as_of: Some("2026-12-08T00:00:00Z"),
            status: Status::Estimated,
            anomalies: &[],
        }
    });
    assert_eq!(tuesday.key, a.key);
}
