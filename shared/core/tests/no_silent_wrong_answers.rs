//! No silent wrong answers: every input below used to give a summary that did not match the bill
//! (shifted columns, an empty currency, a dropped rounding line, rows of an unknown type that
//! vanished, a zip read as fewer entries than it holds, one part read twice). Each test asserts
//! the outcome a user needs: the right figure, or an error naming the file, line and reason.

use billwatch_core::report::{summarize_path, Limits, ReportError, ReportSummary};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

const LEGACY: &str = "123456789012-aws-billing-csv-2026-11.csv";
const LEGACY_HEADER: &str =
    "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,ProductCode,CurrencyCode,Credits,TaxAmount,TotalCost";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run_with(name: &str, bytes: &[u8], limits: &Limits) -> Result<ReportSummary, ReportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, bytes);
    summarize_path(&path, None, limits)
}

fn run(name: &str, bytes: &[u8]) -> Result<ReportSummary, ReportError> {
    run_with(name, bytes, &Limits::default())
}

/// One thread, then several threads over small chunks: both must give this.
fn run_both(name: &str, bytes: &[u8]) -> Result<ReportSummary, ReportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, bytes);
    let serial = summarize_path(
        &path,
        None,
        &Limits {
            threads: 1,
            ..Limits::default()
        },
    );
    let parallel = summarize_path(
        &path,
        None,
        &Limits {
            threads: 3,
            chunk_bytes: 256,
            ..Limits::default()
        },
    );
    assert_eq!(serial, parallel, "serial and parallel reads differ");
    serial
}

fn legacy(rows: &[&str]) -> Vec<u8> {
    let mut text = format!("{LEGACY_HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.into_bytes()
}

const LINKED_OK: &str =
    r#""1","123456789012","210987654321","LinkedLineItem","1","AmazonEC2","USD","0","0","1.00""#;

const CUR1_HEADER: &str = "identity/LineItemId,bill/PayerAccountId,bill/BillingPeriodStartDate,bill/InvoiceId,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/ProductCode,lineItem/CurrencyCode,lineItem/UnblendedCost,lineItem/LineItemDescription";

fn cur1_row(id: u32, kind: &str, currency: &str, cost: &str) -> String {
    format!("{id},123456789012,2026-11-01T00:00:00.000Z,,111111111111,{kind},AmazonS3,{currency},{cost},text")
}

fn cur1(rows: &[String]) -> Vec<u8> {
    let mut text = format!("{CUR1_HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.into_bytes()
}

// ------------------------------------------------------------ cells per row

#[test]
fn a_legacy_row_with_an_unquoted_comma_is_refused_not_summed_shifted() {
    // "1,00" unquoted: one cell more than the header; read shifted it summed 0 in '' currency.
    let shifted =
        r#""1","123456789012","210987654321","LinkedLineItem","2","AmazonEC2","USD","0","0",1,00"#;
    let err = run(LEGACY, &legacy(&[LINKED_OK, shifted])).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    let text = err.to_string();
    assert!(text.contains(LEGACY), "{text}");
    assert!(
        text.contains("the row has 11 cells but the header has 10"),
        "{text}"
    );
}

#[test]
fn a_row_with_a_cell_missing_is_refused() {
    let short = r#""1","123456789012","210987654321","LinkedLineItem","2","AmazonEC2","USD","0","1.00""#;
    let err = run(LEGACY, &legacy(&[LINKED_OK, short])).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(
        err.to_string()
            .contains("the row has 9 cells but the header has 10"),
        "{err}"
    );
}

#[test]
fn every_format_refuses_a_ragged_row_on_both_the_fast_and_the_exact_path() {
    // The fast (indexed) path reads regular CSV; a quoted cell with `""` inside and trailing
    // text after a closing quote take the exact path. Both must count cells.
    let mut rows: Vec<String> = (0..40).map(|i| cur1_row(i, "Usage", "USD", "1")).collect();
    rows.push(format!("{},extra", cur1_row(40, "Usage", "USD", "1")));
    let err = run_both("r.csv", &cur1(&rows)).unwrap_err();
    assert_eq!(err.line, Some(42), "{err}");
    assert!(err.to_string().contains("has 11 cells"), "{err}");
    let mut rows: Vec<String> = (0..40).map(|i| cur1_row(i, "Usage", "USD", "1")).collect();
    rows.push(
        r##"40,123456789012,2026-11-01T00:00:00.000Z,,111111111111,Usage,AmazonS3,USD,1,"a ""b"""x"##
            .to_string()
            + ",more",
    );
    let err = run_both("r.csv", &cur1(&rows)).unwrap_err();
    assert_eq!(err.line, Some(42), "{err}");
    assert!(err.to_string().contains("has 11 cells"), "{err}");
    // DBR and FOCUS.
    let dbr = "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,ProductName,UsageStartDate,UsageEndDate,UnBlendedCost\n\
        Estimated,123456789012,210987654321,LineItem,Amazon Simple Storage Service,2026-11-01 00:00:00,2026-11-01 01:00:00,0.5\n\
        Estimated,123456789012,210987654321,LineItem,Amazon Simple Storage Service,2026-11-01 00:00:00,2026-11-01 01:00:00,0,5\n";
    let err = run(
        "123456789012-aws-billing-detailed-line-items-2026-11.csv",
        dbr.as_bytes(),
    )
    .unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("has 9 cells"), "{err}");
    let focus = "BilledCost,BillingCurrency,BillingPeriodStart,SubAccountId,ServiceName\n\
        1.5,USD,2026-11-01 00:00:00,111111111111,Amazon S3\n\
        1.5,USD,2026-11-01 00:00:00,111111111111\n";
    let err = run("focus.csv", focus.as_bytes()).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("has 4 cells"), "{err}");
}

#[test]
fn the_parallel_reader_gives_the_serial_reader_first_ragged_row() {
    let mut rows: Vec<String> = (0..300).map(|i| cur1_row(i, "Usage", "USD", "1")).collect();
    // Two bad rows in different chunks: the first in the file is the one reported.
    rows[250] = format!("{},x", rows[250]);
    rows[120] = format!("{},y", rows[120]);
    let err = run_both("r.csv", &cur1(&rows)).unwrap_err();
    assert_eq!(err.line, Some(122), "{err}");
}
