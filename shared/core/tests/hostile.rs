//! Hostile inputs: each test is a report (or manifest, or archive) built to break the engine,
//! and asserts the outcome a user needs: a precise error (file, line, column, reason) instead of
//! a wrong total, a panic, a stall or a leak.

use billwatch_core::report::{summarize_path, ErrorKind, Limits, ReportError, ReportSummary};
use rust_decimal::Decimal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

const CUR1_HEADER: &str = "identity/LineItemId,bill/PayerAccountId,bill/BillingPeriodStartDate,bill/InvoiceId,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/ProductCode,lineItem/CurrencyCode,lineItem/UnblendedCost,lineItem/LineItemDescription";

fn cur1_row(id: u32, code: &str, cost: &str, description: &str) -> String {
    format!("{id},123456789012,2026-11-01T00:00:00.000Z,,111111111111,Usage,{code},USD,{cost},{description}")
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(name: &str, bytes: &[u8]) -> Result<ReportSummary, ReportError> {
    run_with(name, bytes, &Limits::default())
}

fn run_with(name: &str, bytes: &[u8], limits: &Limits) -> Result<ReportSummary, ReportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, bytes);
    summarize_path(&path, None, limits)
}

fn cur1(rows: &[String]) -> Vec<u8> {
    let mut text = String::from(CUR1_HEADER);
    text.push('\n');
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.into_bytes()
}

// ---------------------------------------------------------------- 1. no line items

#[test]
fn a_header_only_report_is_empty_not_a_final_bill() {
    let err = run("r.csv", &cur1(&[])).unwrap_err();
    assert!(
        err.to_string().contains("the report holds no line items"),
        "{err}"
    );
    let legacy =
        b"InvoiceID,PayerAccountId,LinkedAccountId,RecordType,ProductCode,CurrencyCode,TotalCost\n";
    let err = run("123456789012-aws-billing-csv-2026-11.csv", legacy).unwrap_err();
    assert!(
        err.to_string().contains("the report holds no line items"),
        "{err}"
    );
}

#[test]
fn a_manifest_whose_parts_are_all_empty_is_empty_too() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cur/r/20261101-20261201/a1/r-1.csv", &cur1(&[]));
    let manifest = write(
        dir.path(),
        "cur/r/20261101-20261201/r-Manifest.json",
        br#"{"assemblyId":"a1","account":"123456789012",
            "billingPeriod":{"start":"20261101T000000.000Z","end":"20261201T000000.000Z"},
            "reportKeys":["cur/r/20261101-20261201/a1/r-1.csv"]}"#,
    );
    let err = summarize_path(&manifest, None, &Limits::default()).unwrap_err();
    assert!(
        err.to_string().contains("the report holds no line items"),
        "{err}"
    );
}

// ---------------------------------------------------------------- 2. unterminated quotes

#[test]
fn an_unterminated_quote_that_swallows_rows_is_an_error_naming_its_line() {
    // Row 1 (line 2) opens a quote in its description and never closes it: rows 2 and 3 would
    // vanish into that one field, and the report would add up to 3.00 instead of 10.00.
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "3.00", "\"oops"),
        cur1_row(2, "AmazonS3", "5.00", "fine"),
        cur1_row(3, "AmazonS3", "2.00", "fine"),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.line, Some(2), "{msg}");
    assert!(msg.contains("quote"), "{msg}");
}

#[test]
fn an_unterminated_quote_on_the_last_line_is_an_error() {
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "3.00", "ok"),
        cur1_row(2, "AmazonS3", "7.00", "\"still open"),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("quote"), "{err}");
}

#[test]
fn a_line_break_inside_a_key_column_is_refused() {
    // A quoted account id that spans two lines: in a column that never holds one.
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "3.00", "ok"),
        "2,123456789012,2026-11-01T00:00:00.000Z,,\"1111\n11111111\",Usage,AmazonS3,USD,7.00,ok"
            .to_string(),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert_eq!(
        err.column.as_deref(),
        Some("lineItem/UsageAccountId"),
        "{err}"
    );
}

#[test]
fn a_quoted_line_break_in_free_text_is_still_fine() {
    let text = cur1(&[
        cur1_row(
            1,
            "AmazonEC2",
            "3.00",
            "\"two\nlines, with \"\"quotes\"\"\"",
        ),
        cur1_row(2, "AmazonS3", "7.00", "ok"),
    ]);
    let s = run("r.csv", &text).unwrap();
    assert_eq!(s.grand_total("USD"), Some(d("10.00")));
    assert_eq!(s.rows_read, 2);
}

// ---------------------------------------------------------------- 3. duplicated parts

#[test]
fn a_manifest_listing_a_part_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = "cur/r/20261101-20261201/a1/r-1.csv";
    write(
        dir.path(),
        key,
        &cur1(&[cur1_row(1, "AmazonEC2", "3.00", "ok")]),
    );
    for second in [key.to_string(), format!("/{key}"), key.replace('/', "//")] {
        let manifest = write(
            dir.path(),
            "cur/r/20261101-20261201/r-Manifest.json",
            format!(r#"{{"reportKeys":["{key}","{second}"]}}"#).as_bytes(),
        );
        let err = summarize_path(&manifest, None, &Limits::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("listed twice") && msg.contains(key), "{msg}");
    }
}

// ---------------------------------------------------------------- 4. overflow and exactness

#[test]
fn an_overflowing_sum_is_an_error_naming_the_cell() {
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "7e28", "a"),
        cur1_row(2, "AmazonEC2", "7e28", "b"),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert_eq!(
        err.column.as_deref(),
        Some("lineItem/UnblendedCost"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("sum exceeds the exact decimal range"),
        "{err}"
    );
}

#[test]
fn an_overflow_across_keys_in_the_grand_total_is_an_error() {
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "7e28", "a"),
        cur1_row(2, "AmazonS3", "7e28", "b"),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    assert!(
        err.to_string()
            .contains("sum exceeds the exact decimal range"),
        "{err}"
    );
}

#[test]
fn a_sum_that_cannot_be_exact_is_an_error() {
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "12345678901234567890", "a"),
        cur1_row(2, "AmazonEC2", "1e-27", "b"),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(
        err.to_string()
            .contains("sum exceeds the exact decimal range"),
        "{err}"
    );
}

// ---------------------------------------------------------------- 5. exponents

#[test]
fn an_absurd_exponent_is_refused_at_once() {
    for amount in ["0E+2147483647", "1E+29", "1e-2147483648", "1E99999999999"] {
        let text = cur1(&[cur1_row(1, "AmazonEC2", amount, "a")]);
        let err = run("r.csv", &text).unwrap_err();
        assert_eq!(err.line, Some(2), "{amount}: {err}");
        assert!(
            err.to_string().contains("invalid amount"),
            "{amount}: {err}"
        );
    }
    // In range, even when the mantissa carries trailing zeros.
    for (amount, want) in [
        ("1.0E-28", "0.0000000000000000000000000001"),
        ("1E+28", "10000000000000000000000000000"),
        ("0E+5", "0"),
    ] {
        let text = cur1(&[cur1_row(1, "AmazonEC2", amount, "a")]);
        let s = run("r.csv", &text).unwrap();
        assert_eq!(s.grand_total("USD"), Some(d(want)), "{amount}");
    }
}

// ---------------------------------------------------------------- 6. zip archives

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, data) in entries {
        w.start_file(
            *n,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn find(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn a_zip_declaring_too_many_entries_is_refused_before_it_is_parsed() {
    let mut z = zip_of(&[("r.csv", b"a,b\n")], zip::CompressionMethod::Stored);
    let eocd = *find(&z, b"PK\x05\x06").last().unwrap();
    // entries on this disk and in total: 65,535 (the central directory holds one).
    z[eocd + 8..eocd + 10].copy_from_slice(&u16::MAX.to_le_bytes());
    z[eocd + 10..eocd + 12].copy_from_slice(&u16::MAX.to_le_bytes());
    let err = run("r.csv.zip", &z).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Limit("more than 16 zip entries".into()),
        "{err}"
    );
}

#[test]
fn a_zip64_end_record_declaring_millions_of_entries_is_refused() {
    // A zip64 end-of-central-directory record and locator in front of the classic record.
    let z = zip_of(&[("r.csv", b"a,b\n")], zip::CompressionMethod::Stored);
    let eocd = *find(&z, b"PK\x05\x06").last().unwrap();
    let cd_size = u32::from_le_bytes(z[eocd + 12..eocd + 16].try_into().unwrap()) as u64;
    let cd_offset = u32::from_le_bytes(z[eocd + 16..eocd + 20].try_into().unwrap()) as u64;
    let mut out = z[..eocd].to_vec();
    let zip64_at = out.len() as u64;
    out.extend_from_slice(b"PK\x06\x06");
    out.extend_from_slice(&44u64.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&45u16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&3_000_000u64.to_le_bytes());
    out.extend_from_slice(&3_000_000u64.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(b"PK\x06\x07");
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&zip64_at.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let mut end = z[eocd..].to_vec();
    end[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
    end[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
    out.extend_from_slice(&end);
    let err = run("r.csv.zip", &out).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Limit("more than 16 zip entries".into()),
        "{err}"
    );
}

#[test]
fn a_zip_lying_about_its_compressed_size_still_trips_the_ratio() {
    // 8 MiB of one repeated valid row deflates to a few KB; the headers are patched to claim
    // the compressed stream is 1 GiB, so a ratio computed from the header would look harmless.
    let mut csv = cur1(&[]);
    let row = cur1_row(1, "AmazonEC2", "0.01", "x") + "\n";
    while csv.len() < 8 << 20 {
        csv.extend_from_slice(row.as_bytes());
    }
    let mut z = zip_of(&[("r.csv", &csv)], zip::CompressionMethod::Deflated);
    let claimed = 1u32 << 30;
    for at in find(&z, b"PK\x03\x04") {
        z[at + 18..at + 22].copy_from_slice(&claimed.to_le_bytes());
    }
    for at in find(&z, b"PK\x01\x02") {
        z[at + 20..at + 24].copy_from_slice(&claimed.to_le_bytes());
    }
    let limits = Limits {
        max_ratio: 50,
        ..Limits::default()
    };
    let err = run_with("r.csv.zip", &z, &limits).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Limit("compression ratio over 50:1".into()),
        "{err}"
    );
}

// ---------------------------------------------------------------- 7. manifest paths

fn manifest_at(dir: &Path, rel: &str, body: &str) -> PathBuf {
    write(dir, rel, body.as_bytes())
}

#[test]
fn a_manifest_cannot_reach_files_above_its_bucket_folder() {
    let dir = tempfile::tempdir().unwrap();
    // A secret CSV beside the bucket folder, and a manifest inside the bucket naming it.
    write(
        dir.path(),
        "secret.csv",
        b"user,password\nadmin,hunter2-SECRET\n",
    );
    let bucket = dir.path().join("bucket");
    let manifest = manifest_at(
        &bucket,
        "cur/r/20261101-20261201/r-Manifest.json",
        r#"{"reportKeys":["secret.csv"]}"#,
    );
    let err = summarize_path(&manifest, None, &Limits::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        !msg.contains("password") && !msg.contains("SECRET"),
        "{msg}"
    );
    assert!(matches!(err.kind, ErrorKind::Open(_)), "{msg}");
    // Even with the bucket folder named, climbing, absolute keys and empty segments are refused.
    for key in [
        "../secret.csv",
        "cur/../../secret.csv",
        "/etc/passwd",
        "cur/./r.csv",
    ] {
        let manifest = manifest_at(
            &bucket,
            "cur/r/20261101-20261201/r-Manifest.json",
            &format!(r#"{{"reportKeys":["{key}"]}}"#),
        );
        let err = summarize_path(&manifest, Some(&bucket), &Limits::default()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err.kind, ErrorKind::Open(_)), "{key}: {msg}");
        assert!(!msg.contains("SECRET"), "{msg}");
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_bucket_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "outside/r-1.csv",
        &cur1(&[cur1_row(1, "AmazonEC2", "3.00", "x")]),
    );
    let bucket = dir.path().join("bucket");
    std::fs::create_dir_all(bucket.join("cur")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), bucket.join("cur/link")).unwrap();
    let manifest = manifest_at(
        &bucket,
        "cur/r-Manifest.json",
        r#"{"reportKeys":["cur/link/r-1.csv"]}"#,
    );
    let err = summarize_path(&manifest, Some(&bucket), &Limits::default()).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Open(_)), "{err}");
    assert!(err.to_string().contains("outside the bucket"), "{err}");
}

#[test]
fn data_files_in_another_bucket_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rows = cur1(&[cur1_row(1, "AmazonEC2", "3.00", "x")]);
    write(dir.path(), "exports/x/data/p-1.csv", &rows);
    write(dir.path(), "exports/x/data/p-2.csv", &rows);
    for files in [
        r#"["s3://mine/exports/x/data/p-1.csv","s3://theirs/exports/x/data/p-2.csv"]"#,
        r#"["s3://theirs/exports/x/data/p-1.csv"]"#,
    ] {
        let manifest = manifest_at(
            dir.path(),
            "exports/x/metadata/x-Manifest.json",
            &format!(r#"{{"bucket":"mine","dataFiles":{files}}}"#),
        );
        let err = summarize_path(&manifest, None, &Limits::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bucket 'theirs'"), "{msg}");
    }
}

// ---------------------------------------------------------------- 9. errors and text

#[test]
fn a_clearly_cur_header_without_its_cost_column_names_the_column() {
    let header = CUR1_HEADER.replace(",lineItem/UnblendedCost", "");
    let err = run("r.csv", format!("{header}\n1,2,3\n").as_bytes()).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::MissingColumn("lineItem/UnblendedCost".into()),
        "{err}"
    );
    let legacy = b"InvoiceID,PayerAccountId,LinkedAccountId,RecordType,ProductCode,CurrencyCode,CostBeforeTax\n";
    let err = run("r.csv", legacy).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::MissingColumn("TotalCost".into()),
        "{err}"
    );
    let focus = b"BillingAccountId,SubAccountId,ServiceName,BillingCurrency,ChargeCategory,BillingPeriodStart,EffectiveCost\n";
    let err = run("r.csv", focus).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::MissingColumn("BilledCost".into()),
        "{err}"
    );
}

#[test]
fn control_characters_in_errors_are_escaped() {
    let text = cur1(&[cur1_row(1, "AmazonEC2", "1\u{0}2\u{1b}[31m", "a")]);
    let err = run("r.csv", &text).unwrap_err();
    let msg = err.to_string();
    assert!(
        !msg.chars().any(|c| c.is_control()),
        "raw control character in {msg:?}"
    );
    assert!(msg.contains("\\0") || msg.contains("\\x00"), "{msg:?}");
    let err = run("r\u{7}\u{1b}[2J.csv", b"date,amount\n1,2\n").unwrap_err();
    let msg = err.to_string();
    assert!(!msg.chars().any(|c| c.is_control()), "{msg:?}");
}

#[test]
fn a_doubled_sign_is_not_an_amount() {
    for amount in ["+-1", "-+1", "--1", "++1", "+-1e2", "1e+-2", "1_000"] {
        let text = cur1(&[cur1_row(1, "AmazonEC2", amount, "a")]);
        let err = run("r.csv", &text).unwrap_err();
        assert!(
            err.to_string().contains("invalid amount"),
            "{amount}: {err}"
        );
    }
}

#[test]
fn invalid_utf8_service_codes_stay_distinct() {
    let mut text = cur1(&[]);
    for (i, code) in [&b"Amazon\xff"[..], b"Amazon\xfe", b"Amazon\\xff"]
        .iter()
        .enumerate()
    {
        text.extend_from_slice(
            format!("{i},123456789012,2026-11-01T00:00:00.000Z,,111111111111,Usage,").as_bytes(),
        );
        text.extend_from_slice(code);
        text.extend_from_slice(b",USD,1.00,x\n");
    }
    let s = run("r.csv", &text).unwrap();
    let services: Vec<_> = s.totals.iter().map(|t| t.service.as_str()).collect();
    assert_eq!(services.len(), 3, "{services:?}");
    assert!(services.contains(&"Amazon\\xff"), "{services:?}");
    assert!(services.contains(&"Amazon\\xfe"), "{services:?}");
}

#[test]
fn a_duplicated_required_column_is_an_error_naming_it() {
    let header = format!("{CUR1_HEADER},lineItem/UnblendedCost");
    let text = format!("{header}\n{},9.00\n", cur1_row(1, "AmazonEC2", "1.00", "x"));
    let err = run("r.csv", text.as_bytes()).unwrap_err();
    assert_eq!(
        err.column.as_deref(),
        Some("lineItem/UnblendedCost"),
        "{err}"
    );
    assert!(err.to_string().contains("more than once"), "{err}");
    assert_eq!(err.line, Some(1), "{err}");
}

// ---------------------------------------------------------------- 10. limits

#[test]
fn a_manifest_with_too_many_parts_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (0..=10_000)
        .map(|i| format!("\"cur/r/20261101-20261201/a1/r-{i}.csv\""))
        .collect();
    let manifest = manifest_at(
        dir.path(),
        "cur/r/20261101-20261201/r-Manifest.json",
        &format!(r#"{{"reportKeys":[{}]}}"#, keys.join(",")),
    );
    let err = summarize_path(&manifest, None, &Limits::default()).unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Limit("more than 10000 parts in a manifest".into()),
        "{err}"
    );
}

#[test]
fn an_overlong_service_code_is_an_error_naming_the_cell() {
    let code = "S".repeat(2000);
    let text = cur1(&[
        cur1_row(1, "AmazonEC2", "1.00", "x"),
        cur1_row(2, &code, "1.00", "x"),
    ]);
    let err = run("r.csv", &text).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert_eq!(err.column.as_deref(), Some("lineItem/ProductCode"), "{err}");
    assert!(err.to_string().contains("longer than"), "{err}");
}
