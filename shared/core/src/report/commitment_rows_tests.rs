//! The commitments' pass on CUR 1.0 and 2.0 files: the same lines give the same figures in
//! both, read on one thread or many; a figure that is not an amount is an error naming the
//! file, line and column; another format is refused by name.

use crate::commitment::{CommitmentKind, Family, Summary};
use crate::report::{commitments_path, Limits};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const SP: &str = "arn:aws:savingsplans::111111111111:savingsplan/0a1b";
const RI: &str = "arn:aws:ec2:us-east-1:222222222222:reserved-instances/9f8e";

/// (type, account, product, usage type, usage amount, on-demand cost, start, unblended, RI arn,
/// RI units, RI unused units, unused upfront, unused recurring, RI end, SP arn, SP total, SP
/// used, SP end, SP term)
type Row = [&'static str; 19];

#[rustfmt::skip]
const ROWS: [Row; 7] = [
    ["SavingsPlanRecurringFee", "111111111111", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", "1", "", "2026-11-02T00:00:00Z", "10", "", "", "", "", "", "", SP, "10", "7.5", "2027-03-01T00:00:00Z", "1yr"],
    ["SavingsPlanRecurringFee", "111111111111", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", "1", "", "2026-11-03T00:00:00Z", "10", "", "", "", "", "", "", SP, "10", "10", "2027-03-01T00:00:00Z", "1yr"],
    ["SavingsPlanCoveredUsage", "111111111111", "AmazonEC2", "USE1-BoxUsage:m5.large", "1", "0.096", "2026-11-02T05:00:00Z", "0.06", "", "", "", "", "", "", SP, "", "", "", ""],
    ["Usage", "111111111111", "AmazonEC2", "USE1-BoxUsage:m5.large", "3", "0.288", "2026-11-02T06:00:00Z", "0.288", "", "", "", "", "", "", "", "", "", "", ""],
    ["RIFee", "222222222222", "AmazonEC2", "HeavyUsage:c5.xlarge", "720", "", "2026-11-01T00:00:00Z", "61.2", RI, "720", "180", "4.25", "15.30", "2026-12-20T00:00:00Z", "", "", "", "", ""],
    ["DiscountedUsage", "222222222222", "AmazonEC2", "USE1-BoxUsage:c5.xlarge", "540", "91.8", "2026-11-04T00:00:00Z", "0", RI, "", "", "", "", "", "", "", "", "", ""],
    ["Tax", "111111111111", "AmazonEC2", "", "", "", "2026-11-02T00:00:00Z", "1.5", "", "", "", "", "", "", "", "", "", "", ""],
];

#[rustfmt::skip]
const CUR1: [&str; 19] = [
    "lineItem/LineItemType", "lineItem/UsageAccountId", "lineItem/ProductCode",
    "lineItem/UsageType", "lineItem/UsageAmount", "pricing/publicOnDemandCost",
    "lineItem/UsageStartDate", "lineItem/UnblendedCost", "reservation/ReservationARN",
    "reservation/TotalReservedUnits", "reservation/UnusedQuantity",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", "reservation/UnusedRecurringFee",
    "reservation/EndTime", "savingsPlan/SavingsPlanARN", "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment", "savingsPlan/EndTime", "savingsPlan/PurchaseTerm",
];

#[rustfmt::skip]
const CUR2: [&str; 19] = [
    "line_item_line_item_type", "line_item_usage_account_id", "line_item_product_code",
    "line_item_usage_type", "line_item_usage_amount", "pricing_public_on_demand_cost",
    "line_item_usage_start_date", "line_item_unblended_cost", "reservation_reservation_a_r_n",
    "reservation_total_reserved_units", "reservation_unused_quantity",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee", "reservation_end_time", "savings_plan_savings_plan_a_r_n",
    "savings_plan_total_commitment_to_date", "savings_plan_used_commitment",
    "savings_plan_end_time", "savings_plan_purchase_term",
];

/// Columns every CUR has that the totals' pass needs (payer, period, currency, end date).
fn write(
    dir: &std::path::Path,
    name: &str,
    header: &[&str; 19],
    rows: &[Row],
) -> std::path::PathBuf {
    let cur1 = header[0].contains('/');
    let extra = if cur1 {
        "bill/PayerAccountId,bill/BillingPeriodStartDate,lineItem/CurrencyCode,lineItem/UsageEndDate"
    } else {
        "bill_payer_account_id,bill_billing_period_start_date,line_item_currency_code,line_item_usage_end_date"
    };
    let mut text = format!("{},{extra}\n", header.join(","));
    for r in rows {
        let end = r[6].replace("T00:00:00Z", "T01:00:00Z");
        text.push_str(&format!(
            "{},111111111111,2026-11-01T00:00:00Z,USD,{end}\n",
            r.join(",")
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check(s: &Summary) {
    assert_eq!(s.commitments.len(), 2, "{s:#?}");
    let sp = s
        .commitments
        .iter()
        .find(|c| c.kind == CommitmentKind::SavingsPlan)
        .unwrap();
    assert_eq!(sp.id, SP);
    assert_eq!(
        (sp.committed, sp.used, sp.unused_cost),
        (d("20"), d("17.5"), d("2.5"))
    );
    assert_eq!(sp.utilization(), Some(d("0.875")));
    assert_eq!(
        (sp.end.as_str(), sp.term.as_str()),
        ("2027-03-01T00:00:00Z", "1yr")
    );
    assert_eq!(sp.days.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
    let ri = s
        .commitments
        .iter()
        .find(|c| c.kind == CommitmentKind::Reservation)
        .unwrap();
    assert_eq!(ri.id, RI);
    assert_eq!(ri.account, "222222222222");
    assert_eq!((ri.committed, ri.used), (d("720"), d("540")));
    assert_eq!(ri.utilization(), Some(d("0.75")));
    assert_eq!(ri.unused_cost, d("19.55"));
    assert_eq!(ri.fee, d("61.2"));
    assert_eq!(ri.end, "2026-12-20T00:00:00Z");
    let ec2 = s.coverage_of(Family::Ec2Compute);
    assert_eq!(ec2.savings_plans(), Some(d("0.096") / d("0.384")));
    assert_eq!(ec2.reservations(), Some(d("540") / d("543")));
}

#[test]
fn cur1_and_cur2_give_the_same_figures_on_one_thread_or_many() {
    let dir = tempfile::tempdir().unwrap();
    for (name, header) in [("cur1.csv", &CUR1), ("cur2.csv", &CUR2)] {
        let path = write(dir.path(), name, header, &ROWS);
        check(&commitments_path(&path, None, &Limits::default()).unwrap());
        // Many small chunks on several threads: the forks absorb to the same figures.
        let many: Vec<Row> = ROWS
            .iter()
            .cycle()
            .take(ROWS.len() * 200)
            .copied()
            .collect();
        let path = write(dir.path(), &format!("many-{name}"), header, &many);
        let one = commitments_path(
            &path,
            None,
            &Limits {
                threads: 1,
                ..Limits::default()
            },
        )
        .unwrap();
        let four = commitments_path(
            &path,
            None,
            &Limits {
                threads: 4,
                chunk_bytes: 4096,
                ..Limits::default()
            },
        )
        .unwrap();
        assert_eq!(one, four, "{name}");
        let sp = one
            .commitments
            .iter()
            .find(|c| c.kind == CommitmentKind::SavingsPlan)
            .unwrap();
        assert_eq!(sp.committed, d("4000"));
        assert_eq!(sp.utilization(), Some(d("0.875")));
    }
}

#[test]
fn a_report_without_commitment_columns_has_none_and_no_utilization() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\
lineItem/LineItemType,lineItem/UsageAccountId,lineItem/ProductCode,lineItem/UsageType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UnblendedCost,lineItem/CurrencyCode,bill/PayerAccountId,bill/BillingPeriodStartDate
Usage,111111111111,AmazonS3,TimedStorage-ByteHrs,2026-11-02T00:00:00Z,2026-11-02T01:00:00Z,2.5,USD,111111111111,2026-11-01T00:00:00Z
";
    let path = dir.path().join("cur.csv");
    std::fs::write(&path, text).unwrap();
    let s = commitments_path(&path, None, &Limits::default()).unwrap();
    assert!(s.commitments.is_empty());
    assert_eq!(s.utilization(CommitmentKind::SavingsPlan), None);
    assert_eq!(
        s.coverage_total(CommitmentKind::Reservation).reservations(),
        None
    );
}

#[test]
fn a_figure_that_is_not_an_amount_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = ROWS;
    bad[4][11] = "4.25USD";
    let path = write(dir.path(), "bad.csv", &CUR1, &bad);
    let e = commitments_path(&path, None, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.csv"), "{e}");
    assert!(e.contains("line 6"), "{e}");
    assert!(
        e.contains("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"),
        "{e}"
    );
}

/// A FOCUS export's commitment rows: `Used` rows' EffectiveCost is commitment used (and the
/// usage they are on is covered, at ListCost), `Unused` rows' is commitment left unused,
/// `Purchase` rows bill the fee; usage with no commitment runs on demand.
const FOCUS: &str = "BillingAccountId,SubAccountId,ChargeCategory,BilledCost,EffectiveCost,ListCost,ConsumedQuantity,BillingCurrency,ServiceName,x_ServiceCode,x_UsageType,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,CommitmentDiscountId,CommitmentDiscountCategory,CommitmentDiscountType,CommitmentDiscountStatus
111111111111,111111111111,Usage,0,0.60,1.00,1,USD,Amazon Elastic Compute Cloud,AmazonEC2,BoxUsage:m5.large,2026-11-02T00:00:00Z,2026-11-02T01:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,arn:aws:savingsplans::111111111111:savingsplan/sp1,Spend,Compute Savings Plans,Used
111111111111,111111111111,Usage,0,0.40,0,0,USD,Amazon Elastic Compute Cloud,AmazonEC2,ComputeSP:1yrNoUpfront,2026-11-02T00:00:00Z,2026-11-02T01:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,arn:aws:savingsplans::111111111111:savingsplan/sp1,Spend,Compute Savings Plans,Unused
111111111111,111111111111,Purchase,1.00,0,0,0,USD,Savings Plans for AWS Compute usage,ComputeSavingsPlans,ComputeSP:1yrNoUpfront,2026-11-02T00:00:00Z,2026-11-02T01:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,arn:aws:savingsplans::111111111111:savingsplan/sp1,Spend,Compute Savings Plans,
111111111111,222222222222,Usage,3.00,3.00,3.00,3,USD,Amazon Elastic Compute Cloud,AmazonEC2,BoxUsage:m5.large,2026-11-03T00:00:00Z,2026-11-03T03:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,,,,
111111111111,222222222222,Usage,0,2.00,2.50,10,USD,Amazon Relational Database Service,AmazonRDS,InstanceUsage:db.r5.large,2026-11-03T00:00:00Z,2026-11-03T10:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,arn:aws:rds:us-east-1:111111111111:ri:r1,Usage,Reserved Instance,Used
111111111111,222222222222,Usage,0,2.00,0,0,USD,Amazon Relational Database Service,AmazonRDS,InstanceUsage:db.r5.large,2026-11-03T00:00:00Z,2026-11-03T10:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,arn:aws:rds:us-east-1:111111111111:ri:r1,Usage,Reserved Instance,Unused
111111111111,222222222222,Usage,9,9,9,9,USD,Amazon Simple Storage Service,AmazonS3,TimedStorage-ByteHrs,2026-11-03T00:00:00Z,2026-11-03T10:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,,,,
";

#[test]
fn a_focus_export_gives_utilization_in_money_and_coverage_at_list_cost() {
    use crate::commitment::{CommitmentKind, Family};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("focus.csv");
    std::fs::write(&path, FOCUS).unwrap();
    let s = commitments_path(&path, None, &Limits::default()).unwrap();
    assert_eq!(s.commitments.len(), 2);
    let sp = s
        .commitments
        .iter()
        .find(|c| c.kind == CommitmentKind::SavingsPlan)
        .unwrap();
    assert_eq!(
        (sp.committed, sp.used, sp.unused_cost),
        (d("1.00"), d("0.60"), d("0.40"))
    );
    assert_eq!(
        (sp.fee, sp.offering.as_str()),
        (d("1.00"), "Compute Savings Plans")
    );
    assert_eq!(sp.days[&2], (d("1.00"), d("0.60"), d("0.40")));
    let ri = s
        .commitments
        .iter()
        .find(|c| c.kind == CommitmentKind::Reservation)
        .unwrap();
    assert_eq!(ri.utilization(), Some(d("0.5")));
    assert_eq!(
        (ri.account.as_str(), ri.offering.as_str()),
        ("222222222222", "AmazonRDS")
    );
    // EC2: 1.00 covered by the Savings Plan of 4.00 eligible at list cost; RDS: 10 reserved
    // hours, none on demand; S3 is no family.
    let ec2 = s.coverage_of(Family::Ec2Compute);
    assert_eq!(ec2.savings_plans(), Some(d("0.25")));
    assert_eq!(
        s.coverage_of(Family::Rds).reservations(),
        Some(Decimal::ONE)
    );
    assert_eq!(s.coverage.len(), 3);
    // The same figures in the totals' pass, as the ingest reads them.
    let summaries = crate::report::summarize_path_asking(
        &path,
        None,
        &Limits::default(),
        &Default::default(),
        true,
    )
    .unwrap();
    assert_eq!(summaries[0].commitments.as_ref(), Some(&s));
}

#[test]
fn another_format_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,BillingPeriodStartDate,BillingPeriodEndDate,InvoiceDate,PayerAccountName,LinkedAccountName,TaxationAddress,PayerPONumber,ProductCode,ProductName,SellerOfRecord,UsageType,Operation,RateId,ItemDescription,UsageStartDate,UsageEndDate,UsageQuantity,BlendedRate,CurrencyCode,CostBeforeTax,Credits,TaxAmount,TaxType,TotalCost\n\"Estimated\",\"111111111111\",\"\",\"PayerLineItem\",\"1\",\"2026/11/01 00:00:00\",\"2026/11/30 23:59:59\",\"2026/11/01 00:00:00\",\"p\",\"\",\"\",\"\",\"AmazonS3\",\"S3\",\"AWS\",\"x\",\"x\",\"1\",\"x\",\"\",\"\",\"1\",\"1\",\"USD\",\"1\",\"0\",\"0\",\"None\",\"1\"\n";
    let path = dir.path().join("111111111111-aws-billing-csv-2026-11.csv");
    std::fs::write(&path, text).unwrap();
    let e = commitments_path(&path, None, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Cost and Usage Reports (CUR 1.0 or 2.0) and FOCUS"),
        "{e}"
    );
}

#[test]
fn gzip_parts_of_a_manifest_give_the_figures_of_one_file() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let whole = write(dir.path(), "whole.csv", &CUR1, &ROWS);
    let folder = "cur/r/20261101-20261201";
    std::fs::create_dir_all(dir.path().join(folder)).unwrap();
    let mut keys = Vec::new();
    for (n, rows) in [&ROWS[..3], &ROWS[3..]].into_iter().enumerate() {
        let plain = write(dir.path(), &format!("part-{n}.csv"), &CUR1, rows);
        let key = format!("{folder}/r-{n}.csv.gz");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&std::fs::read(plain).unwrap()).unwrap();
        std::fs::write(dir.path().join(&key), gz.finish().unwrap()).unwrap();
        keys.push(format!("\"{key}\""));
    }
    let manifest = dir.path().join(format!("{folder}/r-Manifest.json"));
    std::fs::write(
        &manifest,
        format!(
            r#"{{"reportKeys":[{}],"billingPeriod":{{"start":"20261101T000000.000Z"}}}}"#,
            keys.join(",")
        ),
    )
    .unwrap();
    let parts = commitments_path(&manifest, Some(dir.path()), &Limits::default()).unwrap();
    check(&parts);
    assert_eq!(
        parts,
        commitments_path(&whole, None, &Limits::default()).unwrap()
    );
}
