//! Gauges on constructed lines: filters, days, a report with nothing to gauge, lines crossed by
//! the month or by one complete day.

use super::*;
use crate::budget::cost::LineType;
use crate::commitment::{Commitments, Line};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn summary(lines: &[Line<'_>]) -> Summary {
    let mut c = Commitments::default();
    lines.iter().for_each(|l| c.add(l));
    c.finish()
}

fn sp_fee<'a>(arn: &'a str, account: &'a str, day: u32, total: &str, used: &str) -> Line<'a> {
    Line {
        line_type: Some(LineType::SavingsPlanRecurringFee),
        account,
        sp_arn: arn,
        sp_total_commitment: d(total),
        sp_used_commitment: d(used),
        day,
        ..Line::default()
    }
}

fn ri_fee<'a>(arn: &'a str, service: &'a str, day: u32, units: &str, unused: &str) -> Line<'a> {
    Line {
        line_type: Some(LineType::RIFee),
        account: "111111111111",
        product_code: service,
        reservation_arn: arn,
        ri_total_units: d(units),
        ri_unused_units: d(unused),
        ri_unused_recurring: d("0.5"),
        day,
        ..Line::default()
    }
}

fn usage<'a>(
    t: LineType,
    account: &'a str,
    product: &'a str,
    usage_type: &'a str,
    day: u32,
    (hours, on_demand): (&str, &str),
) -> Line<'a> {
    Line {
        line_type: Some(t),
        account,
        product_code: product,
        usage_type,
        usage_amount: d(hours),
        on_demand_cost: d(on_demand),
        day,
        ..Line::default()
    }
}

/// A filter from one `key = [values]` pair, as the budgets file writes it.
fn filter(pair: &str) -> Filter {
    let (key, values) = pair.split_once(" = ").unwrap();
    let json = format!("{{\"{key}\": {values}}}");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn utilization_sums_the_commitments_the_filter_selects_and_keeps_days() {
    let s = summary(&[
        sp_fee("sp-a", "111111111111", 1, "10", "10"),
        sp_fee("sp-a", "111111111111", 2, "10", "2"),
        sp_fee("sp-b", "222222222222", 2, "30", "0"),
    ]);
    let all = gauge(Gauge::SavingsPlansUtilization, &Filter::default(), &s).unwrap();
    assert_eq!(
        (all.part, all.whole, all.unused),
        (d("12"), d("50"), d("38"))
    );
    assert_eq!(all.percent(), Some(d("24")));
    assert_eq!(all.counted, 2);
    assert_eq!(
        all.days,
        vec![
            GaugeDay {
                day: 1,
                part: d("10"),
                whole: d("10")
            },
            GaugeDay {
                day: 2,
                part: d("2"),
                whole: d("40")
            },
        ]
    );
    let one = gauge(
        Gauge::SavingsPlansUtilization,
        &filter(r#"accounts = ["111111111111"]"#),
        &s,
    )
    .unwrap();
    assert_eq!(one.percent(), Some(d("60")));
    let not = gauge(
        Gauge::SavingsPlansUtilization,
        &filter(r#"not_accounts = ["111111111111"]"#),
        &s,
    )
    .unwrap();
    assert_eq!(not.percent(), Some(Decimal::ZERO));
}

#[test]
fn ri_utilization_filters_on_the_reserved_service() {
    let s = summary(&[
        ri_fee("ri-ec2", "AmazonEC2", 3, "24", "6"),
        ri_fee("ri-rds", "AmazonRDS", 3, "24", "24"),
    ]);
    let ec2 = gauge(
        Gauge::RiUtilization,
        &filter(r#"services = ["AmazonEC2"]"#),
        &s,
    )
    .unwrap();
    assert_eq!(ec2.percent(), Some(d("75")));
    let both = gauge(Gauge::RiUtilization, &Filter::default(), &s).unwrap();
    assert_eq!(both.percent(), Some(d("37.5")));
    assert_eq!(both.unused, d("1.0"));
}

#[test]
fn coverage_counts_eligible_families_at_on_demand_cost_or_hours() {
    let s = summary(&[
        usage(
            LineType::SavingsPlanCoveredUsage,
            "111111111111",
            "AmazonEC2",
            "BoxUsage:m5.large",
            1,
            ("1", "0.096"),
        ),
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonEC2",
            "BoxUsage:m5.large",
            1,
            ("3", "0.288"),
        ),
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonRDS",
            "InstanceUsage:db.r5",
            2,
            ("2", "0.5"),
        ),
        usage(
            LineType::DiscountedUsage,
            "111111111111",
            "AmazonRDS",
            "InstanceUsage:db.r5",
            2,
            ("6", "1.5"),
        ),
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonS3",
            "TimedStorage-ByteHrs",
            2,
            ("9", "9"),
        ),
    ]);
    let sp = gauge(Gauge::SavingsPlansCoverage, &Filter::default(), &s).unwrap();
    // RDS is not a Savings Plans family: only EC2 counts, 0.096 of 0.384.
    assert_eq!(sp.percent(), Some(d("25")));
    assert_eq!(sp.unused, d("0.288"));
    let ri = gauge(Gauge::RiCoverage, &Filter::default(), &s).unwrap();
    // Hours: RDS 6 reserved of 8, EC2 0 of 4 (its Savings Plan hour is not a reservation's).
    assert_eq!((ri.part, ri.whole), (d("6"), d("11")));
    let rds = gauge(
        Gauge::RiCoverage,
        &filter(r#"services = ["AmazonRDS"]"#),
        &s,
    )
    .unwrap();
    assert_eq!(rds.percent(), Some(d("75")));
    assert_eq!(
        rds.days,
        vec![GaugeDay {
            day: 2,
            part: d("6"),
            whole: d("8")
        }]
    );
}

#[test]
fn regions_select_the_reservation_and_the_usage_where_they_ran() {
    let mut east = usage(
        LineType::DiscountedUsage,
        "111111111111",
        "AmazonEC2",
        "BoxUsage:m5",
        1,
        ("3", "0.3"),
    );
    east.region = "us-east-1";
    let mut west = usage(
        LineType::Usage,
        "111111111111",
        "AmazonEC2",
        "BoxUsage:m5",
        1,
        ("1", "0.1"),
    );
    west.region = "eu-west-1";
    let mut west_covered = west.clone();
    west_covered.line_type = Some(LineType::DiscountedUsage);
    let mut ri_east = ri_fee(
        "arn:aws:ec2:us-east-1:111111111111:reserved-instances/r1",
        "AmazonEC2",
        1,
        "10",
        "0",
    );
    ri_east.region = "";
    let ri_west = ri_fee(
        "arn:aws:ec2:eu-west-1:111111111111:reserved-instances/r2",
        "AmazonEC2",
        1,
        "10",
        "10",
    );
    let s = summary(&[east, west, west_covered, ri_east, ri_west]);
    let cover = |f: &str| gauge(Gauge::RiCoverage, &filter(f), &s).unwrap();
    assert_eq!(
        cover(r#"regions = ["us-east-1"]"#).percent(),
        Some(d("100"))
    );
    assert_eq!(cover(r#"regions = ["eu-west-1"]"#).percent(), Some(d("50")));
    assert_eq!(
        cover(r#"not_regions = ["eu-west-1"]"#).percent(),
        Some(d("100"))
    );
    assert_eq!(
        cover(r#"services = ["AmazonEC2"]"#).percent(),
        Some(d("80"))
    );
    let east_ri = gauge(
        Gauge::RiUtilization,
        &filter(r#"regions = ["us-east-1"]"#),
        &s,
    )
    .unwrap();
    // Its region from its ARN: the fee line named none.
    assert_eq!(east_ri.percent(), Some(d("100")));
    let why = gauge(
        Gauge::RiCoverage,
        &filter(r#"regions = ["ap-south-1"]"#),
        &s,
    )
    .unwrap_err();
    assert!(why.contains("within this budget's filter"), "{why}");
}

#[test]
fn nothing_to_divide_by_is_said_never_zero_percent() {
    let s = summary(&[usage(
        LineType::Usage,
        "111111111111",
        "AmazonS3",
        "TimedStorage-ByteHrs",
        1,
        ("1", "1"),
    )]);
    for g in Gauge::ALL {
        let why = gauge(g, &Filter::default(), &s).unwrap_err();
        assert!(why.contains("there is no"), "{g}: {why}");
    }
    let s = summary(&[sp_fee("sp-a", "111111111111", 1, "10", "5")]);
    let why = gauge(
        Gauge::SavingsPlansUtilization,
        &filter(r#"accounts = ["999999999999"]"#),
        &s,
    )
    .unwrap_err();
    assert!(why.contains("within this budget's filter"), "{why}");
}

fn gauged(month: (&str, &str), days: &[(u32, &str, &str)]) -> Gauged {
    Gauged {
        gauge: Gauge::SavingsPlansUtilization,
        part: d(month.0),
        whole: d(month.1),
        unused: d(month.1) - d(month.0),
        days: days
            .iter()
            .map(|(day, p, w)| GaugeDay {
                day: *day,
                part: d(p),
                whole: d(w),
            })
            .collect(),
        counted: 1,
    }
}

#[test]
fn a_line_is_crossed_by_the_month_or_by_a_complete_day() {
    let g = gauged(
        ("92", "100"),
        &[(1, "48", "50"), (2, "44", "50"), (3, "0", "0")],
    );
    // Month 92 %: above 90; day 2 at 88 % is under 90 once complete.
    assert!(lows(&[d("90")], &g, Some(1)).is_empty());
    let l = lows(&[d("90"), d("95"), d("80")], &g, Some(2));
    assert_eq!(l.len(), 2);
    assert_eq!((l[0].line, l[0].worst_day), (d("90"), Some((2, d("88")))));
    assert!(!l[0].month_below());
    assert_eq!((l[1].line, l[1].month), (d("95"), d("92")));
    assert!(l[1].month_below());
    // Exactly on the line is not under it.
    assert!(lows(&[d("92")], &g, None).is_empty());
}

#[test]
fn merged_payers_add_parts_and_wholes_not_percentages() {
    let mut a = gauged(("9", "10"), &[(1, "9", "10")]);
    a.merge(&gauged(("10", "90"), &[(1, "5", "45"), (2, "5", "45")]));
    assert_eq!(a.percent(), Some(d("19")));
    assert_eq!(a.days.len(), 2);
    assert_eq!(a.days[0].whole, d("55"));
}

#[test]
fn kinds_read_and_their_filters_are_checked() {
    assert_eq!(
        Watch::of_kind("ri_coverage", None),
        Some(Watch::Gauge(Gauge::RiCoverage))
    );
    assert_eq!(
        Watch::of_kind("commitment_expiry", None).unwrap().days(),
        vec![7, 30, 60]
    );
    assert_eq!(Watch::of_kind("usage", None), None);
    let sp = Watch::Gauge(Gauge::SavingsPlansUtilization);
    let problems = sp.problems(&filter(r#"services = ["AmazonEC2"]"#));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].1.contains("accounts only, not on services"),
        "{problems:?}"
    );
    assert!(Watch::Gauge(Gauge::RiCoverage)
        .problems(&filter(r#"regions = ["us-east-1"]"#))
        .is_empty());
    assert!(Watch::Gauge(Gauge::RiCoverage)
        .problems(&filter(r#"usage_types = ["*BoxUsage*"]"#))
        .iter()
        .any(|(f, _)| *f == "filter"));
    assert!(sp
        .problems(&filter(r#"regions = ["us-east-1"]"#))
        .iter()
        .any(|(f, _)| *f == "filter"));
    let expiry = Watch::Expiry { days: vec![0, 30] };
    assert_eq!(expiry.problems(&Filter::default())[0].0, "days");
}
