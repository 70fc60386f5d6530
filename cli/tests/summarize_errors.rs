//! `billwatch summarize` on bad input: exit status 2, nothing on stdout, one stderr line
//! `error: <file>[: line <N>][: column '<name>']: <reason>` (see docs/summarize-contract.md).

mod common;

use common::*;

/// The stderr line must name the input as given.
fn error_for(rel: &str, extra: &[&str]) -> (String, String) {
    let input = fixture(rel);
    let line = summarize_error(&input, extra);
    assert!(
        line.starts_with(&format!("error: {input}")),
        "the error must name the input {input:?}: {line:?}"
    );
    (input, line)
}

#[test]
fn random_csv_is_not_a_billing_report() {
    let (_, line) = error_for("bad/not-a-report.csv", &[]);
    assert_contains_all(&line, &["not a recognised billing report"]);
}

#[test]
fn binary_junk_is_not_a_billing_report() {
    let (_, line) = error_for("bad/junk.png", &[]);
    assert_contains_all(&line, &["not a recognised billing report"]);
}

#[test]
fn empty_file_is_not_a_billing_report() {
    let (_, line) = error_for("bad/empty.csv", &[]);
    assert_contains_all(&line, &["not a recognised billing report"]);
}

#[test]
fn cur_without_usage_account_column_is_a_missing_column() {
    let (_, line) = error_for("bad/cur1-missing-usage-account.csv", &[]);
    assert_contains_all(
        &line,
        &["missing required column 'lineItem/UsageAccountId'"],
    );
}

#[test]
fn unparsable_amount_names_line_column_and_value() {
    let (input, line) = error_for(
        "bad/invalid-amount/123456789012-aws-billing-csv-2026-11.csv",
        &[],
    );
    // The 9th data record: physical line 10 of the file, the header being line 1.
    assert!(
        line.starts_with(&format!(
            "error: {input}: line 10: column 'TotalCost': invalid amount '12,34x'"
        )),
        "unexpected error line: {line:?}"
    );
}

#[test]
fn truncated_gzip_is_corrupt() {
    let (_, line) = error_for("bad/truncated.csv.gz", &[]);
    assert_contains_all(&line, &["truncated or corrupt gzip stream"]);
}

#[test]
fn truncated_zip_is_corrupt() {
    let (_, line) = error_for("bad/truncated.csv.zip", &[]);
    assert_contains_all(&line, &["truncated or corrupt zip archive"]);
}

#[test]
fn zip_inside_zip_is_a_nested_archive() {
    let (_, line) = error_for("bad/nested.csv.zip", &[]);
    assert_contains_all(&line, &["nested archive"]);
}

#[test]
fn gzip_bomb_exceeds_the_compression_ratio_limit() {
    let (_, line) = error_for("bad/bomb.csv.gz", &["--max-ratio", "50"]);
    assert_contains_all(&line, &["limit exceeded: compression ratio over 50:1"]);
}

#[test]
fn gzip_bomb_exceeds_the_decompressed_size_limit() {
    let (_, line) = error_for("bad/bomb.csv.gz", &["--max-decompressed-bytes", "1048576"]);
    assert_contains_all(
        &line,
        &["limit exceeded: decompressed size over 1048576 bytes"],
    );
}

#[test]
fn bomb_fixture_is_small_on_disk_and_large_inflated() {
    use std::io::Read;
    let path = fixture("bad/bomb.csv.gz");
    let on_disk = std::fs::metadata(&path).unwrap().len();
    assert!(
        on_disk < 50 * 1024,
        "bomb.csv.gz is {on_disk} bytes on disk"
    );
    let mut inflated = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut inflated)
        .unwrap();
    assert!(inflated.len() >= 5 * 1024 * 1024);
    assert!(inflated.starts_with(b"identity/LineItemId,"));
}

#[test]
fn overlong_record_exceeds_the_record_limit() {
    let (_, line) = error_for("bad/long-record.csv", &["--max-record-bytes", "4096"]);
    assert_contains_all(&line, &["limit exceeded: record longer than 4096 bytes"]);
}

#[test]
fn zip_with_three_entries_exceeds_the_entry_limit() {
    let (_, line) = error_for("bad/three-entries.csv.zip", &["--max-zip-entries", "1"]);
    assert_contains_all(&line, &["limit exceeded: more than 1 zip entries"]);
}

#[test]
fn manifest_listing_a_missing_part_cannot_open_it() {
    let bucket = fixture("bucket/bad-missing-part");
    let input =
        format!("{bucket}/cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json");
    let line = summarize_error(&input, &["--bucket-dir", &bucket]);
    // `<file>` is the part's key as listed in `reportKeys`, not the manifest.
    let key = "cur/billwatch-hourly/20261101-20261201/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-2.csv.gz";
    assert!(
        line.starts_with(&format!("error: {key}: cannot open")),
        "unexpected error line: {line:?}"
    );
}

#[test]
fn unparsable_amount_in_a_manifest_part_names_the_part_and_its_line() {
    let bucket = fixture("bucket/bad-amount-in-part");
    let input = format!(
        "{bucket}/exports/billwatch-cur2/metadata/BILLING_PERIOD=2026-11/billwatch-cur2-Manifest.json"
    );
    let line = summarize_error(&input, &["--bucket-dir", &bucket]);
    // `<file>` is the part's URI from `dataFiles`; the line is the line of the inflated part.
    let uri = "s3://billwatch-exports-123456789012/exports/billwatch-cur2/data/BILLING_PERIOD=2026-11/billwatch-cur2-00002.csv.gz";
    assert!(
        line.starts_with(&format!(
            "error: {uri}: line 3: column 'line_item_unblended_cost': invalid amount '12,34x'"
        )),
        "unexpected error line: {line:?}"
    );
}

#[test]
fn truncated_manifest_is_invalid() {
    let (_, line) = error_for("bad/broken-Manifest.json", &[]);
    assert_contains_all(&line, &["invalid manifest"]);
}

#[test]
fn manifest_without_parts_list_is_invalid() {
    let (_, line) = error_for("bad/no-parts-Manifest.json", &[]);
    assert_contains_all(&line, &["invalid manifest"]);
}

#[test]
fn report_with_two_billing_periods_is_rejected() {
    let (_, line) = error_for("bad/two-periods.csv", &[]);
    assert_contains_all(&line, &["billing period"]);
}
