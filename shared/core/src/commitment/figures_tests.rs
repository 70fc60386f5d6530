//! Commitment figures on constructed lines: partial use, no use, several commitments and
//! accounts, a commitment starting or ending mid-month, size-flexible reservations, coverage, and
//! a report with no commitment at all.

use super::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const SP1: &str = "arn:aws:savingsplans::111111111111:savingsplan/aaaa";
const SP2: &str = "arn:aws:savingsplans::222222222222:savingsplan/bbbb";
const RI1: &str = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/cccc";

/// A Savings Plan's hourly recurring fee line: `total` committed in the hour, `used` of it.
fn sp_fee<'a>(arn: &'a str, account: &'a str, day: u32, total: &str, used: &str) -> Line<'a> {
    Line {
        line_type: Some(LineType::SavingsPlanRecurringFee),
        account,
        sp_arn: arn,
        sp_total_commitment: d(total),
        sp_used_commitment: d(used),
        sp_start: "2026-11-15T00:00:00Z",
        sp_end: "2027-11-14T23:59:59Z",
        sp_term: "1yr",
        sp_payment_option: "No Upfront",
        sp_offering_type: "ComputeSavingsPlans",
        cost: d(total),
        day,
        ..Line::default()
    }
}

fn ri_fee<'a>(
    arn: &'a str,
    day: u32,
    units: &str,
    unused: &str,
    unused_cost: (&str, &str),
) -> Line<'a> {
    Line {
        line_type: Some(LineType::RIFee),
        account: "111111111111",
        product_code: "AmazonEC2",
        reservation_arn: arn,
        ri_total_units: d(units),
        ri_unused_units: d(unused),
        ri_unused_upfront: d(unused_cost.0),
        ri_unused_recurring: d(unused_cost.1),
        ri_start: "2025-12-10T00:00:00Z",
        ri_end: "2026-12-09T23:59:59Z",
        cost: d("10"),
        day,
        ..Line::default()
    }
}

fn usage<'a>(
    t: LineType,
    account: &'a str,
    product: &'a str,
    usage_type: &'a str,
    hours: &str,
    on_demand: &str,
) -> Line<'a> {
    Line {
        line_type: Some(t),
        account,
        product_code: product,
        usage_type,
        usage_amount: d(hours),
        on_demand_cost: d(on_demand),
        day: 3,
        ..Line::default()
    }
}

fn summary(lines: &[Line<'_>]) -> Summary {
    let mut c = Commitments::default();
    lines.iter().for_each(|l| c.add(l));
    c.finish()
}

#[test]
fn savings_plan_partly_used_gives_utilization_and_unused_commitment() {
    let s = summary(&[
        sp_fee(SP1, "111111111111", 15, "10.00", "10.00"),
        sp_fee(SP1, "111111111111", 16, "10.00", "4.28"),
        sp_fee(SP1, "111111111111", 16, "10.00", "0"),
    ]);
    assert_eq!(s.commitments.len(), 1);
    let c = &s.commitments[0];
    assert_eq!((c.kind, c.id.as_str()), (CommitmentKind::SavingsPlan, SP1));
    assert_eq!(c.committed, d("30.00"));
    assert_eq!(c.used, d("14.28"));
    assert_eq!(c.unused_cost, d("15.72"));
    assert_eq!(c.utilization(), Some(d("0.476")));
    // Starting mid-month: only the days it ran, each day its own figures.
    assert_eq!(c.days.keys().copied().collect::<Vec<_>>(), vec![15, 16]);
    assert_eq!(c.days[&16], (d("20.00"), d("4.28"), d("15.72")));
    assert_eq!(
        (c.term.as_str(), c.offering.as_str(), c.end.as_str()),
        ("1yr", "ComputeSavingsPlans", "2027-11-14T23:59:59Z")
    );
    assert_eq!(s.utilization(CommitmentKind::SavingsPlan), Some(d("0.476")));
    assert_eq!(s.unused_cost(CommitmentKind::SavingsPlan), d("15.72"));
}

#[test]
fn an_unused_commitment_is_zero_utilization_and_all_of_it_unused() {
    let s = summary(&[sp_fee(SP1, "111111111111", 1, "2.5", "0")]);
    assert_eq!(s.commitments[0].utilization(), Some(Decimal::ZERO));
    assert_eq!(s.commitments[0].unused_cost, d("2.5"));
}

#[test]
fn several_commitments_and_accounts_are_kept_apart_and_summed_together() {
    let s = summary(&[
        sp_fee(SP1, "111111111111", 1, "10", "9"),
        sp_fee(SP2, "222222222222", 1, "30", "15"),
        sp_fee(SP2, "222222222222", 2, "30", "30"),
    ]);
    let ids: Vec<_> = s.commitments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec![SP1, SP2]);
    assert_eq!(s.commitments[1].account, "222222222222");
    assert_eq!(s.commitments[1].utilization(), Some(d("0.75")));
    // Over all Savings Plans: (9 + 45) / (10 + 60), not the mean of the two.
    assert_eq!(
        s.utilization(CommitmentKind::SavingsPlan),
        Some(d("54") / d("70"))
    );
    assert_eq!(s.unused_cost(CommitmentKind::SavingsPlan), d("16"));
}

#[test]
fn reservations_in_hours_and_in_normalized_units() {
    let mut flexible = ri_fee(RI1, 9, "0", "0", ("1.20", "3.40"));
    flexible.ri_total_normalized = d("5760");
    flexible.ri_unused_normalized = d("1440");
    // Ends mid-month (the 9th): the lines stop there.
    let s = summary(&[ri_fee(RI1, 8, "24", "6", ("0.50", "1.00")), flexible]);
    let c = &s.commitments[0];
    assert_eq!(c.kind, CommitmentKind::Reservation);
    assert!(c.normalized);
    assert_eq!(c.committed, d("5784"));
    assert_eq!(c.used, d("4338"));
    assert_eq!(c.unused_cost, d("6.10"));
    assert_eq!(c.end, "2026-12-09T23:59:59Z");
    assert_eq!(c.offering, "AmazonEC2");
    assert_eq!(c.fee, d("20"));
    assert_eq!(c.days[&8], (d("24"), d("18"), d("1.50")));
}

#[test]
fn coverage_per_family_at_on_demand_cost_and_in_hours() {
    let s = summary(&[
        usage(
            LineType::SavingsPlanCoveredUsage,
            "111111111111",
            "AmazonEC2",
            "USE1-BoxUsage:m5.large",
            "1",
            "0.096",
        ),
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonEC2",
            "USE1-BoxUsage:m5.large",
            "2",
            "0.192",
        ),
        usage(
            LineType::DiscountedUsage,
            "222222222222",
            "AmazonEC2",
            "USE1-BoxUsage:c5.xlarge",
            "3",
            "0.51",
        ),
        usage(
            LineType::SavingsPlanCoveredUsage,
            "111111111111",
            "AWSLambda",
            "USE1-Lambda-GB-Second",
            "1000",
            "0.0166667",
        ),
        // Not eligible: requests, storage, data transfer.
        usage(
            LineType::Usage,
            "111111111111",
            "AWSLambda",
            "USE1-Request",
            "1000000",
            "0.20",
        ),
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonS3",
            "TimedStorage-ByteHrs",
            "100",
            "2.30",
        ),
        usage(
            LineType::Usage,
            "222222222222",
            "AmazonRDS",
            "USE1-InstanceUsage:db.r5.large",
            "10",
            "2.40",
        ),
    ]);
    let ec2 = s.coverage_of(Family::Ec2Compute);
    assert_eq!(ec2.savings_plans(), Some(d("0.096") / d("0.288")));
    assert_eq!(ec2.reservations(), Some(d("3") / d("5")));
    let lambda = s.coverage_of(Family::Lambda);
    assert_eq!(lambda.savings_plans(), Some(Decimal::ONE));
    assert_eq!(lambda.reservations(), None);
    let rds = s.coverage_of(Family::Rds);
    assert_eq!(rds.reservations(), Some(Decimal::ZERO));
    // Per account: the covered usage's own account.
    assert_eq!(
        s.coverage[&("222222222222".to_string(), Family::Ec2Compute)].ri_covered_hours,
        d("3")
    );
    // Savings Plans' total: EC2 and Lambda, not RDS.
    let sp = s.coverage_total(CommitmentKind::SavingsPlan);
    assert_eq!(sp.sp_covered, d("0.1126667"));
    assert_eq!(sp.on_demand_cost, d("0.192"));
    let ri = s.coverage_total(CommitmentKind::Reservation);
    assert_eq!(ri.on_demand_hours, d("12"));
}

#[test]
fn a_report_without_commitments_has_no_utilization_rather_than_zero() {
    let s = summary(&[
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonS3",
            "TimedStorage-ByteHrs",
            "1",
            "1",
        ),
        Line {
            line_type: Some(LineType::Tax),
            ..Line::default()
        },
    ]);
    assert!(s.commitments.is_empty());
    assert_eq!(s.utilization(CommitmentKind::SavingsPlan), None);
    assert_eq!(s.utilization(CommitmentKind::Reservation), None);
    assert_eq!(
        s.coverage_total(CommitmentKind::SavingsPlan)
            .savings_plans(),
        None
    );
    // A fee line without its ARN names no commitment.
    let s = summary(&[sp_fee("", "111111111111", 1, "1", "1")]);
    assert!(s.commitments.is_empty());
}

#[test]
fn figures_of_parts_read_apart_absorb_to_the_figures_read_at_once() {
    let lines = [
        sp_fee(SP1, "111111111111", 1, "10", "9"),
        sp_fee(SP2, "222222222222", 1, "30", "15"),
        ri_fee(RI1, 2, "24", "6", ("0.50", "1.00")),
        sp_fee(SP1, "111111111111", 2, "10", "1"),
        usage(
            LineType::Usage,
            "111111111111",
            "AmazonEC2",
            "BoxUsage:t3.micro",
            "2",
            "0.02",
        ),
        ri_fee(RI1, 2, "24", "0", ("0", "0")),
    ];
    let whole = summary(&lines);
    for cut in 0..=lines.len() {
        let mut a = Commitments::default();
        lines[..cut].iter().for_each(|l| a.add(l));
        let mut b = Commitments::default();
        lines[cut..].iter().for_each(|l| b.add(l));
        b.absorb(a);
        assert_eq!(b.finish(), whole, "cut at {cut}");
    }
}
