//! Property: reading a report on several threads (its chunks, or a manifest's parts) gives
//! exactly what one thread reading it in order gives: the same summary to the last digit (totals,
//! breakdowns, daily series, tags, payer, service names, period, status, as-of), or the same
//! error at the same file, line and column. Random reports mix currencies, days, line item
//! types, quoting and, now and then, a row of another billing period or a bad amount.

use billwatch_core::report::{
    summarize, summarize_path, Limits, LocalSource, Opened, ReportError, ReportSummary,
};
use proptest::prelude::*;
use std::io::Cursor;
use std::path::Path;

const HEADER: &[&str] = &[
    "identity/LineItemId",
    "bill/InvoiceId",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "lineItem/LineItemDescription",
    "product/ProductName",
    "resourceTags/user:team",
];
const ACCOUNTS: &[&str] = &[
    "012345678901",
    "123456789012",
    "999999999999",
    "555555555555",
];
const SERVICES: &[&str] = &["AmazonEC2", "AmazonS3", "AWSLambda", "awskms"];
const NAMES: &[&str] = &[
    "",
    "Amazon Elastic Compute Cloud",
    "Amazon Simple Storage Service",
    "NULL",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "JPY"];
const KINDS: &[&str] = &[
    "Usage",
    "Tax",
    "Credit",
    "RIFee",
    "EdpDiscount",
    "DiscountedUsage",
];
const TEAMS: &[&str] = &["", "web", "data"];

#[derive(Debug, Clone)]
struct Row {
    account: usize,
    service: usize,
    name: usize,
    currency: usize,
    kind: usize,
    day: u32,
    cents: i64,
    payer: u8,
    invoice: bool,
    team: usize,
    /// 0: the report's month; 1: a row of October (mixed periods); 2: an unreadable amount.
    oddity: u8,
}

fn row() -> impl Strategy<Value = Row> {
    (
        (
            0..ACCOUNTS.len(),
            0..SERVICES.len(),
            0..NAMES.len(),
            0..CURRENCIES.len(),
        ),
        (
            0..KINDS.len(),
            0u32..32,
            -2_000_000i64..9_000_000,
            0u8..3,
            any::<bool>(),
        ),
        (
            0..TEAMS.len(),
            prop_oneof![97 => Just(0u8), 2 => Just(1u8), 1 => Just(2u8)],
        ),
    )
        .prop_map(
            |(
                (account, service, name, currency),
                (kind, day, cents, payer, invoice),
                (team, oddity),
            )| Row {
                account,
                service,
                name,
                currency,
                kind,
                day,
                cents,
                payer,
                invoice,
                team,
                oddity,
            },
        )
}

fn line(i: usize, r: &Row) -> String {
    let month = if r.oddity == 1 { "10" } else { "11" };
    // Day 0 writes a month-long usage line; days past 30 an unreadable date.
    let (start, end) = match r.day {
        0 => (
            "2026-11-01T00:00:00Z".to_string(),
            "2026-12-01T00:00:00Z".to_string(),
        ),
        31 => ("soon".to_string(), String::new()),
        d => (
            format!("2026-11-{d:02}T03:00:00Z"),
            format!("2026-11-{d:02}T04:00:00Z"),
        ),
    };
    let cost = if r.oddity == 2 {
        "12..5".to_string()
    } else {
        rust_decimal::Decimal::new(r.cents, 2).to_string()
    };
    [
        format!("li{i}"),
        if r.invoice {
            "INV-1".into()
        } else {
            String::new()
        },
        ["", "111122223333", "444455556666"][r.payer as usize].into(),
        format!("2026-{month}-01T00:00:00.000Z"),
        ACCOUNTS[r.account].into(),
        KINDS[r.kind].into(),
        start,
        end,
        SERVICES[r.service].into(),
        CURRENCIES[r.currency].into(),
        cost,
        format!("\"usage {i}, with \"\"quotes\"\"\""),
        NAMES[r.name].into(),
        TEAMS[r.team].into(),
    ]
    .join(",")
}

fn csv(rows: &[Row], first: usize) -> String {
    let mut out = HEADER.join(",") + "\n";
    for (i, r) in rows.iter().enumerate() {
        out += &line(first + i, r);
        out.push('\n');
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn limits(threads: usize, chunk_bytes: usize) -> Limits {
    Limits {
        threads,
        chunk_bytes,
        ..Limits::default()
    }
}

/// A summary as JSON, with what names the input left out.
fn comparable(result: Result<ReportSummary, ReportError>) -> Result<serde_json::Value, String> {
    match result {
        Ok(s) => {
            let mut v = serde_json::to_value(&s).unwrap();
            for key in ["source", "objects_read"] {
                v.as_object_mut().unwrap().remove(key);
            }
            Ok(v)
        }
        Err(e) => Err(format!("{:?} {:?} {:?}", e.line, e.column, e.kind)),
    }
}

fn run_bytes(bytes: &[u8], limits: &Limits) -> Result<serde_json::Value, String> {
    let name = "cur.csv";
    let parts = LocalSource::new(None, Path::new(name));
    comparable(summarize(
        Opened::Stream(Box::new(Cursor::new(bytes.to_vec()))),
        name,
        name,
        &parts,
        limits,
    ))
}

/// The same bytes as a local file: a plain one is mapped and read in place.
fn run_file(bytes: &[u8], limits: &Limits) -> Result<serde_json::Value, String> {
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    let name = "cur.csv";
    let parts = LocalSource::new(None, Path::new(name));
    comparable(summarize(Opened::File(file), name, name, &parts, limits))
}

/// Writes `rows` as a CUR 1.0 manifest whose parts hold the given contiguous pieces.
fn manifest(dir: &Path, rows: &[Row], cuts: &[usize]) -> std::path::PathBuf {
    let mut keys = Vec::new();
    let mut from = 0;
    for (n, &to) in cuts.iter().chain(std::iter::once(&rows.len())).enumerate() {
        let key = format!("cur/r/20261101-20261201/r-{n}.csv");
        std::fs::create_dir_all(dir.join("cur/r/20261101-20261201")).unwrap();
        std::fs::write(dir.join(&key), csv(&rows[from..to], from)).unwrap();
        keys.push(format!("\"{key}\""));
        from = to;
    }
    let columns: Vec<String> = HEADER
        .iter()
        .map(|h| {
            let (cat, name) = h.split_once('/').unwrap();
            format!(r#"{{"category":"{cat}","name":"{name}"}}"#)
        })
        .collect();
    let path = dir.join("cur/r/20261101-20261201/r-Manifest.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"reportKeys":[{}],"columns":[{}],"billingPeriod":{{"start":"20261101T000000.000Z"}}}}"#,
            keys.join(","),
            columns.join(",")
        ),
    )
    .unwrap();
    path
}

fn run_manifest(path: &Path, dir: &Path, limits: &Limits) -> Result<serde_json::Value, String> {
    comparable(summarize_path(path, Some(dir), limits))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Chunks as small as a few rows, read on three threads, against one thread and one chunk.
    #[test]
    fn chunks_read_apart_equal_one_pass(
        rows in prop::collection::vec(row(), 1..120),
        chunk in 40usize..3000,
    ) {
        let bytes = csv(&rows, 0).into_bytes();
        let serial = run_bytes(&bytes, &limits(1, 1 << 20));
        prop_assert_eq!(run_bytes(&bytes, &limits(3, chunk)), serial.clone());
        prop_assert_eq!(run_bytes(&bytes, &limits(1, chunk)), serial.clone());
        // A local file, mapped and read in place, on one thread and on three.
        prop_assert_eq!(run_file(&bytes, &limits(1, chunk)), serial.clone());
        prop_assert_eq!(run_file(&bytes, &limits(3, chunk)), serial.clone());
        // Gzip: on two threads inflated and cut on one, parsed on the other; on three and
        // more inflated on a thread of its own.
        let gz = gzip(&bytes);
        prop_assert_eq!(run_bytes(&gz, &limits(2, chunk)), serial.clone());
        prop_assert_eq!(run_bytes(&gz, &limits(3, chunk)), serial);
        // Cut short: the same error, at the same line, on one thread or several.
        let cut = &gz[..gz.len() * 2 / 3];
        let one = run_bytes(cut, &limits(1, chunk));
        prop_assert_eq!(run_bytes(cut, &limits(2, chunk)), one.clone());
        prop_assert_eq!(run_bytes(cut, &limits(3, chunk)), one);
    }

    /// A manifest's parts read at once, against the parts read in order and against one file.
    #[test]
    fn parts_read_apart_equal_one_pass(
        rows in prop::collection::vec(row(), 2..120),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..5),
        chunk in 40usize..3000,
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(rows.len())).collect();
        cuts.sort_unstable();
        let dir = tempfile::tempdir().unwrap();
        let path = manifest(dir.path(), &rows, &cuts);
        let serial = run_manifest(&path, dir.path(), &limits(1, 1 << 20));
        prop_assert_eq!(run_manifest(&path, dir.path(), &limits(4, chunk)), serial.clone());
        // The same rows as one file: the same totals (the manifest's own fields aside).
        let single = run_bytes(csv(&rows, 0).as_bytes(), &limits(2, chunk));
        match (&serial, &single) {
            (Ok(m), Ok(s)) => {
                prop_assert_eq!(&m["totals"], &s["totals"]);
                prop_assert_eq!(&m["grand_totals"], &s["grand_totals"]);
                prop_assert_eq!(&m["tag_totals"], &s["tag_totals"]);
                prop_assert_eq!(&m["rows_read"], &s["rows_read"]);
            }
            (Err(_), Err(_)) => {}
            (m, s) => prop_assert!(false, "manifest {:?} vs file {:?}", m, s),
        }
    }
}
