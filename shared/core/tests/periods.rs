//! A FOCUS dataset may span billing periods: each is summed on its own. Every other format is
//! one month by definition, and a second period stays an error.

use billwatch_core::report::{
    summarize_path, summarize_path_periods, ErrorKind, Limits, ReportSummary,
};
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;

const FOCUS_HEADER: &str = "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,InvoiceId,ServiceName,SubAccountId,x_ServiceCode";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn focus_row(cost: &str, period: &str, day: &str, invoice: &str, code: &str) -> String {
    format!(
        "{cost},123456789012,USD,{period},Usage,{day} 00:00:00,{day} 01:00:00,{invoice},Name of {code},111111111111,{code}"
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn two_periods(dir: &Path) -> std::path::PathBuf {
    write(
        dir,
        "focus.csv",
        &[
            FOCUS_HEADER.to_string(),
            focus_row(
                "1.50",
                "2026-10-01 00:00:00",
                "2026-10-30",
                "INV1",
                "AmazonEC2",
            ),
            focus_row("2.25", "2026-11-01 00:00:00", "2026-11-02", "", "AmazonEC2"),
            focus_row(
                "0.25",
                "2026-10-01T00:00:00.000Z",
                "2026-10-31",
                "INV1",
                "AmazonS3",
            ),
            focus_row("4.00", "2026-11-01 00:00:00", "2026-11-03", "", "AmazonS3"),
            focus_row("1.00", "2026-11-01 00:00:00", "2026-11-03", "", "AmazonS3"),
        ],
    )
}

fn total(s: &ReportSummary, service: &str) -> Decimal {
    s.totals
        .iter()
        .find(|t| t.service == service)
        .map(|t| t.cost)
        .unwrap()
}

#[test]
fn a_focus_dataset_over_two_periods_gives_one_summary_per_period() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_periods(dir.path());
    let all = summarize_path_periods(&path, None, &Limits::default(), &Default::default()).unwrap();
    let periods: Vec<_> = all
        .iter()
        .map(|s| s.billing_period.unwrap().to_string())
        .collect();
    assert_eq!(periods, ["2026-10", "2026-11"]);
    let (oct, nov) = (&all[0], &all[1]);
    assert_eq!(oct.grand_total("USD"), Some(d("1.75")));
    assert_eq!(total(oct, "AmazonS3"), d("0.25"));
    assert_eq!(oct.rows_read, 2);
    assert_eq!(oct.status.name(), "final");
    assert_eq!(oct.as_of.as_deref(), Some("2026-10-31T01:00:00.000Z"));
    assert_eq!(nov.grand_total("USD"), Some(d("7.25")));
    assert_eq!(total(nov, "AmazonS3"), d("5.00"));
    assert_eq!((nov.rows_read, nov.rows_summed), (3, 3));
    assert_eq!(nov.status.name(), "estimated");
    assert_eq!(nov.payer_account_id.as_deref(), Some("123456789012"));
}

#[test]
fn asked_for_one_summary_a_two_period_dataset_is_still_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_periods(dir.path());
    let err = summarize_path(&path, None, &Limits::default()).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::MixedPeriods { .. }), "{err}");
    assert_eq!(err.line, Some(3), "{err}");
}

#[test]
fn a_single_period_dataset_gives_one_summary_either_way() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "focus.csv",
        &[
            FOCUS_HEADER.to_string(),
            focus_row(
                "1.50",
                "2026-10-01 00:00:00",
                "2026-10-30",
                "INV1",
                "AmazonEC2",
            ),
        ],
    );
    let all = summarize_path_periods(&path, None, &Limits::default(), &Default::default()).unwrap();
    let one = summarize_path(&path, None, &Limits::default()).unwrap();
    assert_eq!(all, [one]);
}

#[test]
fn a_cur_report_over_two_periods_stays_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cur.csv",
        &[
            "bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/ProductCode,lineItem/CurrencyCode,lineItem/UnblendedCost".into(),
            "2026-10-01T00:00:00.000Z,111111111111,AmazonEC2,USD,1.00".into(),
            "2026-11-01T00:00:00.000Z,111111111111,AmazonEC2,USD,2.00".into(),
        ],
    );
    let err =
        summarize_path_periods(&path, None, &Limits::default(), &Default::default()).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::MixedPeriods { .. }), "{err}");
    assert_eq!(err.line, Some(3), "{err}");
}
