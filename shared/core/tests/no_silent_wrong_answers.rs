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
    let short =
        r#""1","123456789012","210987654321","LinkedLineItem","2","AmazonEC2","USD","0","1.00""#;
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

// ------------------------------------------------------------ a quote opened mid-row

#[test]
fn a_quote_opened_mid_row_gets_the_quote_message() {
    // The quote opened in TotalCost swallows the line break and the next row: read as one
    // record, it has 19 cells. Before, the amount was read from the wrong cell.
    let open =
        r#""1","123456789012","210987654321","LinkedLineItem","2","AmazonEC2","USD","0","0","1.00"#;
    let err = run(LEGACY, &legacy(&[LINKED_OK, open, LINKED_OK, LINKED_OK])).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    let text = err.to_string();
    assert!(text.contains("a quoted field"), "{text}");
    assert!(text.contains("runs over a line break"), "{text}");
    assert!(text.contains("unbalanced quote"), "{text}");
    // Opened in a text cell in the middle of a row, closed in the same cell of the next row:
    // the cell count matches, but the next row's amount would vanish into the text.
    let rows = [
        cur1_row(1, "Usage", "USD", "1"),
        "2,123456789012,2026-11-01T00:00:00.000Z,,111111111111,Usage,AmazonS3,USD,5,\"desc"
            .to_string(),
        "3,123456789012,2026-11-01T00:00:00.000Z,,111111111111,Usage,AmazonS3,USD,7,desc\""
            .to_string(),
        cur1_row(4, "Usage", "USD", "1"),
    ];
    let err = run_both("r.csv", &cur1(&rows)).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("runs over a line break"), "{err}");
    // A real multi-line description (an address) is still fine.
    let rows = [
        cur1_row(1, "Usage", "USD", "1"),
        "2,123456789012,2026-11-01T00:00:00.000Z,,111111111111,Usage,AmazonS3,USD,5,\"Rua Gomes, 1507\n9 andar, Sao Paulo\""
            .to_string(),
    ];
    let s = run_both("r.csv", &cur1(&rows)).unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("6")));
}

// ------------------------------------------------------------ currency codes

#[test]
fn an_empty_or_malformed_currency_is_refused_with_its_line() {
    for bad in ["", "usd", "US", "USDX", "US$", "NULL", "U D"] {
        let row = format!(
            r#""1","123456789012","210987654321","LinkedLineItem","2","AmazonEC2","{bad}","0","0","1.00""#
        );
        let err = run(LEGACY, &legacy(&[LINKED_OK, &row])).unwrap_err();
        assert_eq!(err.line, Some(3), "{bad:?}: {err}");
        assert_eq!(err.column.as_deref(), Some("CurrencyCode"), "{bad:?}");
        assert!(
            err.to_string().contains("invalid currency code"),
            "{bad:?}: {err}"
        );
    }
    let mut rows: Vec<String> = (0..30).map(|i| cur1_row(i, "Usage", "USD", "1")).collect();
    rows.push(cur1_row(30, "Usage", "", "1"));
    let err = run_both("r.csv", &cur1(&rows)).unwrap_err();
    assert_eq!(err.line, Some(32), "{err}");
    assert_eq!(err.column.as_deref(), Some("lineItem/CurrencyCode"));
    let focus = "BilledCost,BillingCurrency,BillingPeriodStart,SubAccountId,ServiceName\n\
        1.5,usd,2026-11-01 00:00:00,111111111111,Amazon S3\n";
    let err = run("focus.csv", focus.as_bytes()).unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    assert!(
        err.to_string().contains("invalid currency code 'usd'"),
        "{err}"
    );
}

#[test]
fn rows_that_legitimately_have_no_currency_are_still_fine() {
    // The estimated file's disclaimer row and the statement total carry no currency (real
    // 2014 files: every field but RecordType and ItemDescription empty).
    let disclaimer = r#",,,"EstimatedDisclaimer",,,,,,"#;
    let statement = r#",,"123456789012","StatementTotal","StatementTotal",,,,,"1.00""#;
    let s = run(LEGACY, &legacy(&[LINKED_OK, statement, disclaimer])).unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("1.00")));
    assert_eq!(s.skipped.get("EstimatedDisclaimer"), Some(&1));
    assert_eq!(s.skipped.get("StatementTotal"), Some(&1));
}

// ------------------------------------------------------------ skipped rows and unknown types

#[test]
fn rows_not_summed_are_counted_per_type_and_unknown_types_are_named() {
    let payer = r#""1","123456789012","","PayerLineItem","3","AmazonEC2","USD","0","0","1.00""#;
    let lower = r#""1","123456789012","210987654321","linkedlineitem","4","AmazonEC2","USD","0","0","9.00""#;
    let novel = r#""1","123456789012","210987654321","FutureLineItem","5","AmazonEC2","USD","0","0","5.00""#;
    let s = run(LEGACY, &legacy(&[LINKED_OK, payer, lower, novel, lower])).unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("1.00")));
    assert_eq!(s.rows_summed, 1);
    let skipped: Vec<(&str, u64)> = s.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        skipped,
        vec![
            ("FutureLineItem", 1),
            ("PayerLineItem", 1),
            ("linkedlineitem", 2)
        ]
    );
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("'FutureLineItem'") && s.warnings[0].contains("1 row"));
    assert!(s.warnings[1].contains("'linkedlineitem'") && s.warnings[1].contains("2 rows"));
    assert!(s
        .warnings
        .iter()
        .all(|w| w.contains("RecordType") && w.contains("not summed")));
    // The JSON carries both.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["skipped"]["PayerLineItem"], 1);
    assert_eq!(json["warnings"].as_array().unwrap().len(), 2);
}

#[test]
fn an_unknown_cur_line_item_type_is_summed_and_named_on_every_path() {
    let mut rows: Vec<String> = (0..60).map(|i| cur1_row(i, "Usage", "USD", "1")).collect();
    rows[10] = cur1_row(10, "usage", "USD", "1");
    rows[50] = cur1_row(50, "BrandNewFee", "USD", "2");
    rows[55] = cur1_row(55, "BrandNewFee", "USD", "2");
    rows[57] = cur1_row(57, "LoyaltyDiscount", "USD", "-1");
    let s = run_both("r.csv", &cur1(&rows)).unwrap();
    // Every CUR row is summed (the invoice is Σ UnblendedCost over all rows).
    assert_eq!(s.grand_total("USD"), Some(d("60")));
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
    assert!(
        s.warnings[0]
            .contains("'BrandNewFee' is not one billwatch knows (2 rows): summed as charges"),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings[1].contains("'LoyaltyDiscount'")
            && s.warnings[1].contains("summed as discounts")
    );
    assert!(s.warnings[2].contains("'usage'") && s.warnings[2].contains("lineItem/LineItemType"));
}

#[test]
fn dbr_total_rows_are_counted_and_an_unknown_record_type_is_named() {
    let dbr = "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,ProductName,UsageStartDate,UsageEndDate,UnBlendedCost\n\
        Estimated,123456789012,210987654321,LineItem,Amazon Simple Storage Service,2026-11-01 00:00:00,2026-11-01 01:00:00,0.5\n\
        Estimated,123456789012,210987654321,lineitem,Amazon Simple Storage Service,2026-11-01 00:00:00,2026-11-01 01:00:00,0.5\n\
        Estimated,123456789012,210987654321,AccountTotal,,,,0.5\n\
        Estimated,123456789012,,InvoiceTotal,,,,0.5\n\
        Estimated,123456789012,,StatementTotal,,,,0.5\n";
    let s = run(
        "123456789012-aws-billing-detailed-line-items-2026-11.csv",
        dbr.as_bytes(),
    )
    .unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("0.5")));
    let skipped: Vec<(&str, u64)> = s.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        skipped,
        vec![
            ("AccountTotal", 1),
            ("InvoiceTotal", 1),
            ("StatementTotal", 1),
            ("lineitem", 1)
        ]
    );
    assert_eq!(s.warnings.len(), 1);
    assert!(s.warnings[0].contains("'lineitem'"), "{:?}", s.warnings);
}

#[test]
fn a_focus_charge_category_in_another_case_is_summed_and_named() {
    let focus =
        "BilledCost,BillingCurrency,BillingPeriodStart,SubAccountId,ServiceName,ChargeCategory\n\
        1.5,USD,2026-11-01 00:00:00,111111111111,Amazon S3,Usage\n\
        2,USD,2026-11-01 00:00:00,111111111111,Amazon S3,tax\n";
    let s = run("focus.csv", focus.as_bytes()).unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("3.5")));
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0].contains("ChargeCategory")
            && s.warnings[0].contains("'tax'")
            && s.warnings[0].contains("summed as tax"),
        "{:?}",
        s.warnings
    );
}

#[test]
fn a_type_name_with_control_characters_is_escaped_in_the_warning() {
    let evil = "\"1\",\"123456789012\",\"210987654321\",\"Linked\u{202e}\u{1b}[2J\",\"5\",\"AmazonEC2\",\"USD\",\"0\",\"0\",\"5.00\"";
    let s = run(LEGACY, &legacy(&[LINKED_OK, evil])).unwrap();
    assert_eq!(s.warnings.len(), 1);
    assert!(!s.warnings[0].contains('\u{202e}') && !s.warnings[0].contains('\u{1b}'));
    assert!(
        s.warnings[0].contains("\\u{202e}\\x1b[2J"),
        "{:?}",
        s.warnings
    );
}

// ------------------------------------------------------------ the rounding line

/// The shape of a real consolidated bill (the estimated June 2014 monthly report of a payer
/// with three linked accounts, from a public repository): Σ LinkedLineItem 4,080.971880, a
/// `CBRounding` row of 0.188120, InvoiceTotal 4,081.16. Rows and ids here are synthetic.
#[test]
fn a_consolidated_bill_totals_to_its_invoice_with_the_rounding_line_on_the_payer() {
    let (payer, a, b) = ("676854543053", "306171939414", "105881016778");
    let linked = |acct: &str, id: u32, code: &str, cost: &str| {
        format!(
            r#""Estimated","{payer}","{acct}","LinkedLineItem","{id}","{code}","USD","0.0","0.000000","{cost}""#
        )
    };
    let payer_row = |id: u32, code: &str, cost: &str| {
        format!(
            r#""Estimated","{payer}","","PayerLineItem","{id}","{code}","USD","0.0","0.000000","{cost}""#
        )
    };
    let rows = [
        payer_row(1, "AmazonEC2", "3650.00"),
        payer_row(2, "AmazonRDS", "431.16"),
        linked(payer, 3, "AmazonEC2", "3598.398359"),
        linked(a, 4, "AmazonRDS", "370.440607"),
        linked(b, 5, "AmazonEC2", "52.000000"),
        linked(b, 6, "AmazonRDS", "60.132914"),
        format!(
            r#""Estimated","{payer}","","CBRounding","CBRounding:Estimated","","USD",,,"0.188120""#
        ),
        format!(
            r#""Estimated","{payer}","","InvoiceTotal","InvoiceTotal:Estimated","","USD","0.0","0.000000","4081.16""#
        ),
        format!(
            r#","{payer}","{payer}","AccountTotal","AccountTotal:{payer}","","USD","0.0","0.000000","3598.398359""#
        ),
        format!(
            r#","{payer}","{a}","AccountTotal","AccountTotal:{a}","","USD","0.0","0.000000","370.440607""#
        ),
        format!(
            r#","{payer}","{b}","AccountTotal","AccountTotal:{b}","","USD","0.0","0.000000","112.132914""#
        ),
        format!(
            r#","{payer}",,"StatementTotal","StatementTotal","","USD","0.0","0.000000","4081.16""#
        ),
        r#",,,"EstimatedDisclaimer",,,,,,"#.to_string(),
    ];
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let s = run("676854543053-aws-billing-csv-2014-06.csv", &legacy(&rows)).unwrap();
    // The invoice, to the cent: not 4,080.97.
    assert_eq!(s.grand_total("USD"), Some(d("4081.160000")));
    let rounding = s
        .totals
        .iter()
        .find(|t| t.service == "CBRounding")
        .expect("the rounding line is a total of its own");
    assert_eq!(rounding.account_id, payer);
    assert_eq!(rounding.cost, d("0.188120"));
    assert_eq!(rounding.service_name, "Consolidated billing rounding");
    assert_eq!(s.rows_summed, 5);
    let check = |name: &str| {
        s.checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no check {name}: {:?}", s.checks))
    };
    let invoice = check("invoice_total:USD");
    assert_eq!(
        (invoice.expected, invoice.actual),
        (d("4081.16"), d("4081.16"))
    );
    assert!(invoice.ok);
    // The payer's own account total leaves the rounding line out, as AWS's does.
    assert!(check(&format!("account_total:{payer}:USD")).ok);
    assert!(check("invoice_total_payer_line_items:USD").ok);
    // A rounding line that does not close the gap fails the invoice check.
    let mut off: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
    off[6] = off[6].replace("0.188120", "0.088120");
    let off: Vec<&str> = off.iter().map(String::as_str).collect();
    let s = run("676854543053-aws-billing-csv-2014-06.csv", &legacy(&off)).unwrap();
    let invoice = s
        .checks
        .iter()
        .find(|c| c.name == "invoice_total:USD")
        .unwrap();
    assert!(!invoice.ok, "{invoice:?}");
}

// ------------------------------------------------------------ zip: the central directory

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, data) in entries {
        w.start_file(*n, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn last(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .rposition(|w| w == needle)
        .unwrap()
}

const DBR_ZIP: &str = "123456789012-aws-billing-detailed-line-items-2026-11.csv.zip";

fn dbr_csv(cost: &str) -> Vec<u8> {
    format!(
        "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,ProductName,UsageStartDate,UsageEndDate,UnBlendedCost\n\
         Estimated,123456789012,210987654321,LineItem,Amazon Simple Storage Service,2026-11-01 00:00:00,2026-11-01 01:00:00,{cost}\n"
    )
    .into_bytes()
}

#[test]
fn a_zip_whose_end_record_undercounts_its_central_directory_is_refused() {
    let (a, b, c) = (dbr_csv("1"), dbr_csv("2"), dbr_csv("4"));
    let three = zip_of(&[("a.csv", &a), ("b.csv", &b), ("c.csv", &c)]);
    // As written, three files: refused as not one report (the control).
    let err = run(DBR_ZIP, &three).unwrap_err();
    assert!(err.to_string().contains("holds 3 files"), "{err}");
    // The end record claims one entry (on this disk and in all): read from it alone, the
    // archive was one report of 1.00 USD.
    let mut lying = three.clone();
    let eocd = last(&lying, b"PK\x05\x06");
    lying[eocd + 8..eocd + 10].copy_from_slice(&1u16.to_le_bytes());
    lying[eocd + 10..eocd + 12].copy_from_slice(&1u16.to_le_bytes());
    let err = run(DBR_ZIP, &lying).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(DBR_ZIP), "{text}");
    assert!(text.contains("truncated or corrupt zip archive"), "{text}");
    assert!(
        text.contains("the end record declares 1 entries but the central directory holds 3"),
        "{text}"
    );
    // It also claims a directory of one header: the other two sit between the directory and
    // the end record.
    let first_header = lying.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let second_header = first_header
        + 4
        + lying[first_header + 4..]
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .unwrap();
    let size = (second_header - first_header) as u32;
    lying[eocd + 12..eocd + 16].copy_from_slice(&size.to_le_bytes());
    let err = run(DBR_ZIP, &lying).unwrap_err();
    assert!(
        err.to_string()
            .contains("bytes between the central directory and the end record"),
        "{err}"
    );
    // Counts that disagree with each other.
    let mut split = three;
    split[eocd + 8..eocd + 10].copy_from_slice(&1u16.to_le_bytes());
    let err = run(DBR_ZIP, &split).unwrap_err();
    assert!(err.to_string().contains("on this disk"), "{err}");
}

#[test]
fn an_honest_zip_still_reads() {
    let s = run(DBR_ZIP, &zip_of(&[("r.csv", &dbr_csv("1.25"))])).unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("1.25")));
}

// ------------------------------------------------------------ manifest parts: one file, two names

fn cur_bucket_with_links(
    link: impl Fn(&Path, &Path),
) -> (
    tempfile::TempDir,
    PathBuf,
    Result<ReportSummary, ReportError>,
) {
    let dir = tempfile::tempdir().unwrap();
    let base = "cur/r/20261101-20261201/a1";
    write(
        dir.path(),
        &format!("{base}/r-1.csv"),
        &cur1(&[cur1_row(1, "Usage", "USD", "10")]),
    );
    link(
        &dir.path().join(format!("{base}/r-1.csv")),
        &dir.path().join(format!("{base}/r-2.csv")),
    );
    let manifest = write(
        dir.path(),
        "cur/r/20261101-20261201/r-Manifest.json",
        format!(
            r#"{{"assemblyId":"a1","account":"123456789012",
                "billingPeriod":{{"start":"20261101T000000.000Z","end":"20261201T000000.000Z"}},
                "reportKeys":["{base}/r-1.csv","{base}/r-2.csv"]}}"#
        )
        .as_bytes(),
    );
    let serial = summarize_path(
        &manifest,
        None,
        &Limits {
            threads: 1,
            ..Limits::default()
        },
    );
    let parallel = summarize_path(&manifest, None, &Limits::default());
    assert_eq!(serial, parallel);
    (dir, manifest, serial)
}

#[cfg(unix)]
#[test]
fn a_manifest_whose_parts_are_one_file_through_a_symlink_is_refused() {
    let (_dir, manifest, got) =
        cur_bucket_with_links(|from, to| std::os::unix::fs::symlink(from, to).unwrap());
    let err = got.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&manifest.display().to_string()), "{text}");
    assert!(text.contains("invalid manifest"), "{text}");
    assert!(
        text.contains("r-1.csv' and '") && text.contains("r-2.csv' are the same file"),
        "{text}"
    );
}

#[test]
fn a_manifest_whose_parts_are_one_file_through_a_hard_link_is_refused() {
    let (_dir, _manifest, got) =
        cur_bucket_with_links(|from, to| std::fs::hard_link(from, to).unwrap());
    let err = got.unwrap_err();
    assert!(err.to_string().contains("are the same file"), "{err}");
}

#[test]
fn two_distinct_files_with_the_same_bytes_are_two_parts() {
    // A copy is another file: its rows are summed (the manifest says it is a part).
    let (_dir, _manifest, got) = cur_bucket_with_links(|from, to| {
        std::fs::copy(from, to).unwrap();
    });
    assert_eq!(got.unwrap().grand_total("USD"), Some(d("20")));
}

#[test]
fn a_part_named_through_dot_dot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = "cur/r/20261101-20261201/a1";
    write(
        dir.path(),
        &format!("{base}/r-1.csv"),
        &cur1(&[cur1_row(1, "Usage", "USD", "10")]),
    );
    let manifest = write(
        dir.path(),
        "cur/r/20261101-20261201/r-Manifest.json",
        format!(
            r#"{{"assemblyId":"a1","account":"123456789012",
                "reportKeys":["{base}/r-1.csv","{base}/../a1/r-1.csv"]}}"#
        )
        .as_bytes(),
    );
    let err = summarize_path(&manifest, None, &Limits::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot open") || text.contains("same file"),
        "{text}"
    );
    assert!(text.contains("a1/../a1/r-1.csv"), "{text}");
}

#[test]
fn a_legacy_file_of_total_rows_and_a_rounding_line_alone_is_still_empty() {
    let rounding = r#""1","123456789012","","CBRounding","CBRounding:1","","USD",,,"0.01""#;
    let invoice =
        r#""1","123456789012","","InvoiceTotal","InvoiceTotal:1","","USD","0","0","0.01""#;
    let err = run(LEGACY, &legacy(&[rounding, invoice])).unwrap_err();
    assert!(
        err.to_string().contains("the report holds no line items"),
        "{err}"
    );
}

/// A date that does not exist (a 31 February, a 24th hour) is an error naming the line, the
/// column and why, never a period or an "as of" read from it.
#[test]
fn an_impossible_date_is_an_error_with_its_reason() {
    for (date, reason) in [
        ("2026-02-31T00:00:00Z", "no such day"),
        ("2026-02-01 24:00:00", "no such time"),
    ] {
        let text = format!(
            "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ServiceName,SubAccountId\n\
             1.5,111111111111,USD,2026-02-01T00:00:00Z,Usage,Amazon S3,222222222222\n\
             2,111111111111,USD,{date},Usage,Amazon S3,222222222222\n"
        );
        let err = run_both("focus.csv", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("BillingPeriodStart"), "{err}");
        assert!(
            err.contains(&format!("invalid date '{date}': {reason}")),
            "{err}"
        );
    }
}
