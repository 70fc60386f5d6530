//! `billwatch summarize` on the synthetic fixtures of `tests/fixtures/synthetic/` and
//! `tests/fixtures/bucket/` (see `tests/fixtures/synthetic/README.md` for what each covers).

mod common;

use common::*;

const Z: &str = "0";
const ROUNDING: &str = "Consolidated billing rounding";

fn l(charges: &'static str) -> Vec<(&'static str, &'static str)> {
    legacy_parts(charges, Z, Z)
}

// ------------------------------------------------------------------ legacy monthly reports

const MONTHLY_ESTIMATED: &str =
    "synthetic/monthly-estimated/123456789012-aws-billing-csv-2026-11.csv";

fn monthly_estimated_expected() -> Expected {
    let (a, b, c) = ("013328811177", "123456789012", "210987654321");
    let dt = "AWS Data Transfer";
    let s3 = "Amazon Simple Storage Service";
    let ec2 = "Amazon Elastic Compute Cloud";
    Expected {
        format: "legacy-monthly",
        payer: "123456789012",
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-20T08:00:00.000Z"),
        rows_read: 24,
        rows_summed: 11,
        totals: vec![
            total(a, "AWSDataTransfer", dt, "USD", "0.058889", l("0.058889")),
            total(
                a,
                "AmazonCloudWatch",
                "AmazonCloudWatch",
                "USD",
                "3.000000",
                l("3.000000"),
            ),
            total(a, "AmazonS3", s3, "USD", "24.250000", l("24.250000")),
            total(b, "AWSDataTransfer", dt, "USD", "1.111111", l("1.111111")),
            total(b, "AmazonEC2", ec2, "USD", "69.120000", l("69.120000")),
            total(b, "AmazonS3", s3, "USD", "3.461500", l("3.461500")),
            // The consolidated-billing rounding line, on the payer: the grand total is the
            // invoice's (114.99), not Σ linked line items (114.990489).
            total(
                b,
                "CBRounding",
                ROUNDING,
                "USD",
                "-0.000489",
                l("-0.000489"),
            ),
            total(c, "AWSDataTransfer", dt, "USD", "0.288989", l("0.288989")),
            total(c, "AmazonEC2", ec2, "USD", "5.200000", l("5.200000")),
            total(
                c,
                "AmazonRDS",
                "Amazon Relational Database Service",
                "USD",
                "8.500000",
                l("8.500000"),
            ),
        ],
        grand: vec![("USD", "114.990000")],
        checks: vec![
            check(
                "account_total:013328811177:USD",
                "27.308889",
                "27.308889",
                true,
            ),
            check(
                "account_total:123456789012:USD",
                "73.692611",
                "73.692611",
                true,
            ),
            check(
                "account_total:210987654321:USD",
                "13.988989",
                "13.988989",
                true,
            ),
            check("invoice_total:USD", "114.99", "114.990000", true),
            check(
                "invoice_total_payer_line_items:USD",
                "114.99",
                "114.99",
                true,
            ),
        ],
    }
}

#[test]
fn monthly_consolidated_estimated() {
    let input = fixture(MONTHLY_ESTIMATED);
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &monthly_estimated_expected());
}

#[test]
fn monthly_consolidated_final_same_month() {
    let input = fixture("synthetic/monthly-final/123456789012-aws-billing-csv-2026-11.csv");
    let v = summarize_json(&input, &[]);
    let (a, b, c) = ("013328811177", "123456789012", "210987654321");
    let dt = "AWS Data Transfer";
    let s3 = "Amazon Simple Storage Service";
    let ec2 = "Amazon Elastic Compute Cloud";
    let e = Expected {
        format: "legacy-monthly",
        payer: "123456789012",
        period: "2026-11",
        status: "final",
        as_of: None,
        rows_read: 23,
        rows_summed: 11,
        totals: vec![
            total(a, "AWSDataTransfer", dt, "USD", "0.067500", l("0.067500")),
            total(
                a,
                "AmazonCloudWatch",
                "AmazonCloudWatch",
                "USD",
                "3.000000",
                l("3.000000"),
            ),
            total(a, "AmazonS3", s3, "USD", "25.052000", l("25.052000")),
            total(b, "AWSDataTransfer", dt, "USD", "1.215000", l("1.215000")),
            total(b, "AmazonEC2", ec2, "USD", "71.424000", l("71.424000")),
            total(b, "AmazonS3", s3, "USD", "3.685750", l("3.685750")),
            total(
                b,
                "CBRounding",
                ROUNDING,
                "USD",
                "-0.004250",
                l("-0.004250"),
            ),
            total(c, "AWSDataTransfer", dt, "USD", "0.360000", l("0.360000")),
            total(
                c,
                "AmazonEC2",
                ec2,
                "USD",
                "0.000000",
                legacy_parts("7.737600", "-7.737600", "0.000000"),
            ),
            total(
                c,
                "AmazonRDS",
                "Amazon Relational Database Service",
                "USD",
                "10.000000",
                legacy_parts("12.648000", "-2.648000", "0.000000"),
            ),
        ],
        grand: vec![("USD", "114.800000")],
        checks: vec![
            check(
                "account_total:013328811177:USD",
                "28.119500",
                "28.119500",
                true,
            ),
            check(
                "account_total:123456789012:USD",
                "76.324750",
                "76.324750",
                true,
            ),
            check(
                "account_total:210987654321:USD",
                "10.360000",
                "10.360000",
                true,
            ),
            check("invoice_total:USD", "114.80", "114.800000", true),
            check(
                "invoice_total_payer_line_items:USD",
                "114.80",
                "114.80",
                true,
            ),
        ],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_single_account_with_credits_and_tax() {
    let input = fixture("synthetic/single-account/987654321098-aws-billing-csv-2026-10.csv");
    let v = summarize_json(&input, &[]);
    let a = "987654321098";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-10",
        status: "estimated",
        as_of: Some("2026-10-28T23:00:00.000Z"),
        rows_read: 7,
        rows_summed: 4,
        totals: vec![
            total(
                a,
                "AWSSupportDeveloper",
                "AWS Support (Developer)",
                "USD",
                "24.51",
                legacy_parts("29.00", "-10.00", "5.51"),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "36.83",
                legacy_parts("30.95", "0.00", "5.88"),
            ),
            total(
                a,
                "AmazonRoute53",
                "Amazon Route 53",
                "USD",
                "0.00",
                legacy_parts("0.50", "-0.50", "0.00"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "1.49",
                legacy_parts("1.25", "0.00", "0.24"),
            ),
        ],
        grand: vec![("USD", "62.83")],
        checks: vec![check("invoice_total:USD", "62.83", "62.83", true)],
    };
    assert_summary(&v, &input, &e);
}

const TWO_CURRENCIES: &str = "synthetic/two-currencies/555566667777-aws-billing-csv-2026-11.csv";

#[test]
fn monthly_two_currencies_stay_apart() {
    let input = fixture(TWO_CURRENCIES);
    let v = summarize_json(&input, &[]);
    let a = "555566667777";
    let r53 = "Amazon Route 53";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-11",
        status: "final",
        as_of: None,
        rows_read: 10,
        rows_summed: 6,
        totals: vec![
            total(
                a,
                "AWSDataTransfer",
                "AWS Data Transfer",
                "EUR",
                "10.71",
                legacy_parts("9.00", "0.00", "1.71"),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "EUR",
                "68.70",
                legacy_parts("57.73", "0.00", "10.97"),
            ),
            total(
                a,
                "AmazonRoute53",
                r53,
                "EUR",
                "1.19",
                legacy_parts("1.00", "0.00", "0.19"),
            ),
            total(a, "AmazonRoute53", r53, "USD", "15.00", l("15.00")),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "EUR",
                "5.83",
                legacy_parts("4.90", "0.00", "0.93"),
            ),
            total(
                a,
                "b3k1q9zx7m2rw0cv8e5u4t6yl",
                "Acme Firewall for AWS",
                "USD",
                "37.20",
                l("37.20"),
            ),
        ],
        grand: vec![("EUR", "86.43"), ("USD", "52.20")],
        checks: vec![
            check("invoice_total:EUR", "86.43", "86.43", true),
            check("invoice_total:USD", "52.20", "52.20", true),
        ],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_crlf_line_endings() {
    let input = fixture("synthetic/crlf/444455556666-aws-billing-csv-2026-09.csv");
    let v = summarize_json(&input, &[]);
    let a = "444455556666";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-09",
        status: "estimated",
        as_of: Some("2026-09-15T06:14:25.000Z"),
        rows_read: 5,
        rows_summed: 2,
        totals: vec![
            total(
                a,
                "AmazonDynamoDB",
                "Amazon DynamoDB",
                "USD",
                "1.25",
                l("1.25"),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "2.08",
                l("2.08"),
            ),
        ],
        grand: vec![("USD", "3.33")],
        checks: vec![check("invoice_total:USD", "3.33", "3.33", true)],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_fully_quoted_header_and_failed_check_does_not_fail() {
    let input = fixture("synthetic/quoted-header/123456789012-aws-billing-csv-2026-08.csv");
    let v = summarize_json(&input, &[]);
    let ec2 = "Amazon Elastic Compute Cloud";
    let e = Expected {
        format: "legacy-monthly",
        payer: "123456789012",
        period: "2026-08",
        status: "final",
        as_of: None,
        rows_read: 10,
        rows_summed: 4,
        totals: vec![
            total(
                "123456789012",
                "AmazonEC2",
                ec2,
                "USD",
                "12.000000",
                l("12.000000"),
            ),
            total(
                "123456789012",
                "CBRounding",
                ROUNDING,
                "USD",
                "0.000000",
                l("0.000000"),
            ),
            total(
                "210987654321",
                "AmazonEC2",
                ec2,
                "USD",
                "8.000000",
                l("8.000000"),
            ),
            total(
                "210987654321",
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "5.000000",
                l("5.000000"),
            ),
        ],
        grand: vec![("USD", "25.000000")],
        checks: vec![
            // Exactly half a cent off: still ok (|expected - actual| <= 0.005).
            check(
                "account_total:123456789012:USD",
                "12.005000",
                "12.000000",
                true,
            ),
            // A cent off: not ok, and the command still succeeds.
            check(
                "account_total:210987654321:USD",
                "13.010000",
                "13.000000",
                false,
            ),
            check("invoice_total:USD", "25.00", "25.000000", true),
            check("invoice_total_payer_line_items:USD", "25.00", "25.00", true),
        ],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_with_utf8_bom() {
    let input = fixture("synthetic/bom/333344445555-aws-billing-csv-2026-07.csv");
    let v = summarize_json(&input, &[]);
    let a = "333344445555";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-07",
        status: "final",
        as_of: None,
        rows_read: 4,
        rows_summed: 2,
        totals: vec![
            total(
                a,
                "AmazonCloudFront",
                "Amazon CloudFront",
                "USD",
                "2.50",
                l("2.50"),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "10.00",
                l("10.00"),
            ),
        ],
        grand: vec![("USD", "12.50")],
        checks: vec![check("invoice_total:USD", "12.50", "12.50", true)],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_invalid_utf8_in_text_columns() {
    let input = fixture("synthetic/invalid-utf8/222233334444-aws-billing-csv-2026-11.csv");
    let v = summarize_json(&input, &[]);
    let a = "222233334444";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-11",
        status: "final",
        as_of: None,
        rows_read: 4,
        rows_summed: 2,
        totals: vec![
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "4.40",
                l("4.40"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "0.60",
                l("0.60"),
            ),
        ],
        grand: vec![("USD", "5.00")],
        checks: vec![check("invoice_total:USD", "5.00", "5.00", true)],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_exponent_amounts_and_leading_zero_payer() {
    let input = fixture("synthetic/exponent/012345678901-aws-billing-csv-2026-11.csv");
    let v = summarize_json(&input, &[]);
    let a = "012345678901";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-24T20:00:00.000Z"),
        rows_read: 6,
        rows_summed: 3,
        totals: vec![
            total(a, "AWSLambda", "AWS Lambda", "USD", "0.0015", l("0.0015")),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "24",
                legacy_parts("25", "-1", "0"),
            ),
            total(
                a,
                "AmazonSNS",
                "Amazon Simple Notification Service",
                "USD",
                "0.00000004",
                l("0.00000004"),
            ),
        ],
        grand: vec![("USD", "24.00150004")],
        checks: vec![check("invoice_total:USD", "24.00", "24.00150004", true)],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn monthly_aispl_infix_in_inr() {
    let input = fixture("synthetic/aispl/239874210271-aws-billing-csv-AISPL-2026-11.csv");
    let v = summarize_json(&input, &[]);
    let a = "239874210271";
    let e = Expected {
        format: "legacy-monthly",
        payer: a,
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-18T10:00:00.000Z"),
        rows_read: 5,
        rows_summed: 2,
        totals: vec![
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "INR",
                "3248.30",
                legacy_parts("2752.80", "0.00", "495.50"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "INR",
                "247.80",
                legacy_parts("210.00", "0.00", "37.80"),
            ),
        ],
        grand: vec![("INR", "3496.10")],
        checks: vec![check("invoice_total:INR", "3496.10", "3496.10", true)],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn cost_allocation_with_comment_line_tags_and_split_records() {
    let input = fixture("synthetic/cost-allocation/123456789012-aws-cost-allocation-2026-10.csv");
    let v = summarize_json(&input, &[]);
    let (a, b) = ("013328811177", "123456789012");
    let e = Expected {
        format: "legacy-cost-allocation",
        payer: "123456789012",
        period: "2026-10",
        status: "estimated",
        as_of: Some("2026-10-21T18:30:00.000Z"),
        rows_read: 13,
        rows_summed: 8,
        totals: vec![
            total(
                a,
                "AWSDataTransfer",
                "AWS Data Transfer",
                "USD",
                "0.450000",
                l("0.450000"),
            ),
            total(
                a,
                "AmazonRDS",
                "Amazon Relational Database Service",
                "USD",
                "14.246914",
                l("14.246914"),
            ),
            total(
                b,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "99.999999",
                l("99.999999"),
            ),
            total(
                b,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "2.500000",
                l("2.500000"),
            ),
            total(b, "CBRounding", ROUNDING, "USD", "0.003087", l("0.003087")),
        ],
        grand: vec![("USD", "117.200000")],
        checks: vec![
            check(
                "account_total:013328811177:USD",
                "14.696913",
                "14.696914",
                true,
            ),
            check(
                "account_total:123456789012:USD",
                "102.500000",
                "102.499999",
                true,
            ),
            // No PayerLineItem rows, but the grand total is still checked against the invoice.
            check("invoice_total:USD", "117.20", "117.200000", true),
        ],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn renamed_local_copy_is_detected_by_its_header() {
    let dir = TempDir::new("renamed");
    let copy = dir.path().join("november-bill-copy.csv");
    std::fs::copy(fixture(MONTHLY_ESTIMATED), &copy).expect("copy fixture");
    let input = copy.to_str().expect("UTF-8 temp path").to_string();
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &monthly_estimated_expected());
}

#[test]
fn human_readable_output_lists_services_grand_totals_period_and_status() {
    let out = summarize_text(&fixture(TWO_CURRENCIES), &[]);
    for needle in [
        "AWSDataTransfer",
        "AmazonEC2",
        "AmazonRoute53",
        "AmazonS3",
        "b3k1q9zx7m2rw0cv8e5u4t6yl",
        "EUR",
        "USD",
        "86.43",
        "52.20",
        "2026-11",
        "final",
    ] {
        assert!(
            out.contains(needle),
            "human-readable output lacks {needle:?}:\n{out}"
        );
    }
    assert!(
        serde_json::from_str::<serde_json::Value>(&out).is_err(),
        "without --json the output must not be JSON:\n{out}"
    );

    let out = summarize_text(&fixture(MONTHLY_ESTIMATED), &[]);
    assert!(
        out.contains("114.99\n") && !out.contains("114.990489"),
        "{out}"
    );
    for needle in [
        "CBRounding",
        "[ok] invoice_total:USD: expected 114.99, actual 114.990000",
        "Skipped (not summed):",
        "  PayerLineItem: 7 rows",
        "  AccountTotal: 3 rows",
        "  EstimatedDisclaimer: 1 row",
    ] {
        assert!(
            out.contains(needle),
            "human-readable output lacks {needle:?}:\n{out}"
        );
    }
    let out = summarize_text(&fixture(MONTHLY_ESTIMATED), &["--exact"]);
    for needle in [
        "AmazonRDS",
        "AmazonCloudWatch",
        "114.990000",
        "-0.000489",
        "2026-11",
        "estimated",
    ] {
        assert!(
            out.contains(needle),
            "human-readable output lacks {needle:?}:\n{out}"
        );
    }
}

// ------------------------------------------------------------------ detailed billing reports

#[test]
fn dbr_without_resources_zipped_estimated() {
    let input =
        fixture("synthetic/dbr/123456789012-aws-billing-detailed-line-items-2026-11.csv.zip");
    let v = summarize_json(&input, &[]);
    let (a, b) = ("123456789012", "210987654321");
    let d = |c| dbr_parts(c, Z);
    let e = Expected {
        format: "dbr",
        payer: "123456789012",
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-20T08:00:00.000Z"),
        rows_read: 12,
        rows_summed: 7,
        totals: vec![
            total(
                a,
                "AWSDataTransfer",
                "AWS Data Transfer",
                "USD",
                "0.11111111",
                d("0.11111111"),
            ),
            total(
                a,
                "Amazon Imaginary Service",
                "Amazon Imaginary Service",
                "USD",
                "0.20000000",
                d("0.20000000"),
            ),
            total(
                a,
                "AmazonCloudWatch",
                "Amazon CloudWatch",
                "USD",
                "0.00013889",
                d("0.00013889"),
            ),
            total(
                a,
                "AmazonDynamoDB",
                "Amazon DynamoDB",
                "USD",
                "0.01300000",
                d("0.01300000"),
            ),
            total(
                b,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "0.19200000",
                d("0.19200000"),
            ),
            total(
                b,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "0.01150000",
                d("0.01150000"),
            ),
        ],
        grand: vec![("USD", "0.52775000")],
        checks: vec![
            check(
                "account_total:123456789012:USD",
                "0.32425000",
                "0.32425000",
                true,
            ),
            check(
                "account_total:210987654321:USD",
                "0.20350000",
                "0.20350000",
                true,
            ),
            check("invoice_total:USD", "0.53000000", "0.53000000", true),
        ],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn dbr_with_discount_rows_final() {
    let input = fixture(
        "synthetic/dbr-discount/123456789012-aws-billing-detailed-line-items-2026-10.csv.zip",
    );
    let v = summarize_json(&input, &[]);
    let (a, b) = ("123456789012", "210987654321");
    let e = Expected {
        format: "dbr",
        payer: "123456789012",
        period: "2026-10",
        status: "final",
        as_of: Some("2026-10-01T02:00:00.000Z"),
        rows_read: 11,
        rows_summed: 6,
        totals: vec![
            total(
                a,
                "AmazonCloudFront",
                "Amazon CloudFront",
                "USD",
                "0.85000000",
                dbr_parts("0.85000000", Z),
            ),
            total(
                a,
                "AmazonRDS",
                "Amazon RDS Service",
                "USD",
                "0.15390000",
                dbr_parts("0.17100000", "-0.01710000"),
            ),
            total(
                b,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "0.30600000",
                dbr_parts("0.34000000", "-0.03400000"),
            ),
        ],
        grand: vec![("USD", "1.30990000")],
        checks: vec![
            check(
                "account_total:123456789012:USD",
                "1.00390000",
                "1.00390000",
                true,
            ),
            check(
                "account_total:210987654321:USD",
                "0.30600000",
                "0.30600000",
                true,
            ),
            check("invoice_total:USD", "1.31000000", "1.31000000", true),
        ],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn dbr_single_account_rate_cost_variant() {
    let input = fixture(
        "synthetic/dbr-single-account/777788889999-aws-billing-detailed-line-items-with-resources-and-tags-2026-10.csv",
    );
    let v = summarize_json(&input, &[]);
    let a = "777788889999";
    let d = |c| dbr_parts(c, Z);
    let e = Expected {
        format: "dbr-resources-tags",
        payer: a,
        period: "2026-10",
        status: "final",
        as_of: Some("2026-10-31T23:00:00.000Z"),
        rows_read: 8,
        rows_summed: 5,
        totals: vec![
            total(
                a,
                "AWSLambda",
                "AWS Lambda",
                "USD",
                "0.00666668",
                d("0.00666668"),
            ),
            total(
                a,
                "AWSQueueService",
                "Amazon Simple Queue Service",
                "USD",
                "0.00000000",
                d("0.00000000"),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "0.02320000",
                d("0.02320000"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "0.00040000",
                d("0.00040000"),
            ),
        ],
        grand: vec![("USD", "0.03026668")],
        checks: vec![check("invoice_total:USD", "0.03000000", "0.03000000", true)],
    };
    assert_summary(&v, &input, &e);
}

#[test]
fn dbr_rt_public_sample_zipped_under_its_aws_name() {
    let input = fixture(
        "synthetic/dbr-rt-zip/123456789012-aws-billing-detailed-line-items-with-resources-and-tags-2014-09.csv.zip",
    );
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &dbr_rt_final_expected());
}

// ------------------------------------------------------------------ FOCUS

#[test]
fn focus_1_0_all_quoted_with_null_cells() {
    let input = fixture("synthetic/focus-1.0/billwatch-focus10-00001.csv");
    let v = summarize_json(&input, &[]);
    let (a, b) = ("123456789012", "210987654321");
    let ec2 = "Amazon Elastic Compute Cloud";
    let s3 = "Amazon Simple Storage Service";
    let e = Expected {
        format: "focus",
        payer: "123456789012",
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-19T08:00:00.000Z"),
        rows_read: 8,
        rows_summed: 8,
        totals: vec![
            total(
                a,
                ec2,
                ec2,
                "USD",
                "-2.4017",
                focus_parts("0.192", Z, "0.02", "-2.6137", Z),
            ),
            total(b, ec2, ec2, "USD", "120", focus_parts(Z, "120", Z, Z, Z)),
            total(
                b,
                s3,
                s3,
                "USD",
                "0.018",
                focus_parts("0.023", Z, Z, Z, "-0.005"),
            ),
            total(
                b,
                "AmazonCloudWatch",
                "AmazonCloudWatch",
                "USD",
                "0.01",
                focus_parts("0.01", Z, Z, Z, Z),
            ),
        ],
        grand: vec![("USD", "117.6263")],
        checks: vec![],
    };
    assert_summary(&v, &input, &e);
}

const FOCUS12_BUCKET: &str = "bucket/focus12-2026-10";
const FOCUS12_MANIFEST: &str =
    "exports/billwatch-focus/metadata/BILLING_PERIOD=2026-10/billwatch-focus-Manifest.json";

#[test]
fn focus_1_2_data_export_with_x_service_code_in_eur() {
    let input = fixture(&format!("{FOCUS12_BUCKET}/{FOCUS12_MANIFEST}"));
    let v = summarize_json(&input, &["--bucket-dir", &fixture(FOCUS12_BUCKET)]);
    let (a, b) = ("013328811177", "123456789012");
    let e = Expected {
        format: "focus",
        payer: "123456789012",
        period: "2026-10",
        status: "final",
        as_of: Some("2026-11-01T00:00:00.000Z"),
        rows_read: 8,
        rows_summed: 8,
        totals: vec![
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "EUR",
                "0.2104",
                focus_parts("0.1768", Z, "0.0336", Z, Z),
            ),
            total(
                a,
                "ComputeSavingsPlans",
                "Savings Plans for AWS Compute usage",
                "EUR",
                "50.0000",
                focus_parts(Z, "50.0000", Z, Z, Z),
            ),
            // Empty x_ServiceCode: the key falls back to ServiceName.
            total(
                b,
                "AWS Support (Business)",
                "AWS Support (Business)",
                "EUR",
                "19.0000",
                focus_parts(Z, Z, "19.0000", Z, Z),
            ),
            total(
                b,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "EUR",
                "0.0115",
                focus_parts("0.0215", Z, Z, "-0.0100", Z),
            ),
            total(
                b,
                "awskms",
                "AWS Key Management Service",
                "EUR",
                "0.0300",
                focus_parts("0.0300", Z, Z, Z, Z),
            ),
        ],
        grand: vec![("EUR", "69.2519")],
        checks: vec![],
    };
    assert_summary(&v, &input, &e);
}

// ------------------------------------------------------------------ CUR 1.0 and CUR 2.0

const CUR1_BUCKET: &str = "bucket/cur1-2026-11";
const CUR1_MANIFEST: &str = "cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json";

fn cur1_multipart_expected() -> Expected {
    let (a, b) = ("123456789012", "210987654321");
    Expected {
        format: "cur1",
        payer: "123456789012",
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-20T08:00:00.000Z"),
        rows_read: 15,
        rows_summed: 15,
        totals: vec![
            total(
                a,
                "AWSLambda",
                "AWS Lambda",
                "USD",
                "0.2",
                cur_parts("0.2", Z, Z, Z, Z, Z),
            ),
            total(
                a,
                "AmazonRDS",
                "Amazon Relational Database Service",
                "USD",
                "93.31",
                cur_parts(Z, "86.40", Z, Z, Z, "6.91"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "-0.41422580752",
                cur_parts("0.0841935472", Z, Z, "-0.50", "-0.00841935472", "0.01"),
            ),
            total(
                b,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "-3.5972",
                // SavingsPlanCoveredUsage 0.17 and SavingsPlanNegation -0.17 are both charges.
                cur_parts("0.192", Z, "-5.00", Z, "-0.0192", "1.23"),
            ),
        ],
        grand: vec![("USD", "89.49857419248")],
        checks: vec![],
    }
}

#[test]
fn cur1_multipart_delivery_with_multi_member_gzip() {
    let input = fixture(&format!("{CUR1_BUCKET}/{CUR1_MANIFEST}"));
    let v = summarize_json(&input, &["--bucket-dir", &fixture(CUR1_BUCKET)]);
    assert_summary(&v, &input, &cur1_multipart_expected());
}

#[test]
fn cur1_manifest_without_bucket_dir_uses_its_bucket_tree() {
    let input = fixture(&format!("{CUR1_BUCKET}/{CUR1_MANIFEST}"));
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &cur1_multipart_expected());
}

#[test]
fn cur1_assembly_folder_manifest_gives_the_same_totals() {
    let input = fixture(&format!(
        "{CUR1_BUCKET}/cur/billwatch-hourly/20261101-20261201/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-Manifest.json"
    ));
    let v = summarize_json(&input, &["--bucket-dir", &fixture(CUR1_BUCKET)]);
    assert_summary(&v, &input, &cur1_multipart_expected());
}

#[test]
fn cur1_zip_part_final() {
    let bucket = "bucket/cur1-zip-2026-10";
    let input = fixture(&format!(
        "{bucket}/reports/billwatch-daily/20261001-20261101/billwatch-daily-Manifest.json"
    ));
    let v = summarize_json(&input, &["--bucket-dir", &fixture(bucket)]);
    let a = "345678901234";
    let e = Expected {
        format: "cur1",
        payer: a,
        period: "2026-10",
        status: "final",
        as_of: Some("2026-11-01T00:00:00.000Z"),
        rows_read: 7,
        rows_summed: 7,
        totals: vec![
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "300.50",
                cur_parts("0.50", "300.00", Z, Z, Z, Z),
            ),
            total(
                a,
                "ComputeSavingsPlans",
                "Savings Plans for AWS Compute usage",
                "USD",
                "172.00",
                cur_parts(Z, "172.00", Z, Z, Z, Z),
            ),
            total(
                a,
                "awswaf",
                "AWS WAF",
                "USD",
                "0.00",
                cur_parts("5.00", Z, Z, Z, "-5.00", Z),
            ),
        ],
        grand: vec![("USD", "472.50")],
        checks: vec![],
    };
    assert_summary(&v, &input, &e);
}

const CUR2_BUCKET: &str = "bucket/cur2-2026-11";
const CUR2_MANIFEST: &str =
    "exports/billwatch-cur2/metadata/BILLING_PERIOD=2026-11/billwatch-cur2-Manifest.json";

fn cur2_expected() -> Expected {
    let (a, b) = ("098765432109", "123456789012");
    Expected {
        format: "cur2",
        payer: "123456789012",
        period: "2026-11",
        status: "estimated",
        as_of: Some("2026-11-18T03:00:00.000Z"),
        rows_read: 8,
        rows_summed: 8,
        totals: vec![
            total(
                a,
                "AWSLambda",
                "AWS Lambda",
                "USD",
                "0.1",
                cur_parts("0.1", Z, Z, Z, Z, Z),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "0.1264",
                cur_parts("0.1664", Z, "-0.05", Z, Z, "0.01"),
            ),
            total(
                b,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "0.249425",
                cur_parts("0.2415", Z, Z, Z, "-0.012075", "0.02"),
            ),
        ],
        grand: vec![("USD", "0.475825")],
        checks: vec![],
    }
}

#[test]
fn cur2_data_export_with_map_columns() {
    let input = fixture(&format!("{CUR2_BUCKET}/{CUR2_MANIFEST}"));
    let v = summarize_json(&input, &["--bucket-dir", &fixture(CUR2_BUCKET)]);
    assert_summary(&v, &input, &cur2_expected());
}

#[test]
fn cur2_manifest_without_bucket_dir_uses_its_bucket_tree() {
    let input = fixture(&format!("{CUR2_BUCKET}/{CUR2_MANIFEST}"));
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &cur2_expected());
}
