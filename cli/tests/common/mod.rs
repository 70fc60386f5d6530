//! Shared helpers of the black-box `billwatch summarize` tests.
//!
//! Every expected value given to these helpers is a literal worked out independently of the
//! engine (see `tests/fixtures/synthetic/README.md`); amounts are compared as decimals.

#![allow(dead_code)]

use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// `tests/fixtures` of the workspace.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");

/// The path of a fixture, as a string passed to the CLI (and echoed back as `source`).
pub fn fixture(rel: &str) -> String {
    format!("{FIXTURES}/{rel}")
}

/// The differential tests' independent computations in SQL (`tests/differential/budgets_sql.py`).
pub fn differential_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/budgets_sql.py")
}

/// A Python that imports DuckDB: `BILLWATCH_PYTHON` (./scripts/test sets the project's venv,
/// from infra/requirements.txt), else `python3`; fails saying how to get one.
pub fn python_with_duckdb() -> String {
    let python = std::env::var("BILLWATCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{python} cannot import duckdb: run this test through ./scripts/test (its venv, from \
         infra/requirements.txt, has it), or set BILLWATCH_PYTHON to a Python that does"
    );
    python
}

/// Runs the `billwatch` binary with `args`.
pub fn billwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(args)
        .envs(billwatch_tests::Principal::for_cli(args).env())
        .output()
        .expect("the billwatch binary runs")
}

fn summarize_args<'a>(json: bool, extra: &[&'a str], input: &'a str) -> Vec<&'a str> {
    let mut args = vec!["summarize"];
    if json {
        args.push("--json");
    }
    args.extend_from_slice(extra);
    args.push(input);
    args
}

/// `billwatch summarize --json EXTRA... INPUT`: asserts success and returns the JSON object.
pub fn summarize_json(input: &str, extra: &[&str]) -> Value {
    let args = summarize_args(true, extra, input);
    let out = billwatch(&args);
    assert!(
        out.status.success(),
        "billwatch {args:?} exited with {:?}\nstderr: {}\nstdout: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let value: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout of billwatch {args:?} is not one JSON object ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert!(value.is_object(), "stdout is not a JSON object: {value}");
    value
}

/// `billwatch summarize EXTRA... INPUT` (human-readable): asserts success and returns stdout.
pub fn summarize_text(input: &str, extra: &[&str]) -> String {
    let args = summarize_args(false, extra, input);
    let out = billwatch(&args);
    assert!(
        out.status.success(),
        "billwatch {args:?} exited with {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("human-readable output is UTF-8")
}

/// `billwatch summarize --json EXTRA... INPUT` on bad input: asserts exit status 2, an empty
/// stdout and exactly one stderr line starting with `error: `; returns that line.
pub fn summarize_error(input: &str, extra: &[&str]) -> String {
    let args = summarize_args(true, extra, input);
    let out = billwatch(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "billwatch {args:?}: expected exit status 2\nstderr: {stderr}\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "billwatch {args:?}: stdout must be empty on error, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "billwatch {args:?}: stderr must be exactly one line, got: {stderr:?}"
    );
    let line = lines[0].to_string();
    assert!(
        line.starts_with("error: "),
        "stderr must start with 'error: ': {line:?}"
    );
    line
}

/// Asserts that `line` contains every one of `needles`.
pub fn assert_contains_all(line: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            line.contains(needle),
            "expected {needle:?} in stderr line {line:?}"
        );
    }
}

/// Parses an exact decimal string (plain or exponent notation).
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .unwrap_or_else(|e| panic!("{s:?} is not a decimal: {e}"))
}

/// A decimal JSON string field.
fn dec_field(v: &Value, what: &str) -> Decimal {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a decimal string, got {v}"));
    dec(s)
}

/// One expected `totals` entry.
pub struct Total {
    pub account: &'static str,
    pub service: &'static str,
    pub name: &'static str,
    pub currency: &'static str,
    pub cost: &'static str,
    pub parts: Vec<(&'static str, &'static str)>,
}

/// Breakdown of the legacy formats: charges, credits, tax.
pub fn legacy_parts(
    charges: &'static str,
    credits: &'static str,
    tax: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![("charges", charges), ("credits", credits), ("tax", tax)]
}

/// Breakdown of the DBR formats: charges, discounts.
pub fn dbr_parts(
    charges: &'static str,
    discounts: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![("charges", charges), ("discounts", discounts)]
}

/// Breakdown of CUR 1.0 / 2.0: charges, fees, credits, refunds, discounts, tax.
pub fn cur_parts(
    charges: &'static str,
    fees: &'static str,
    credits: &'static str,
    refunds: &'static str,
    discounts: &'static str,
    tax: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("charges", charges),
        ("fees", fees),
        ("credits", credits),
        ("refunds", refunds),
        ("discounts", discounts),
        ("tax", tax),
    ]
}

/// Breakdown of FOCUS: charges, fees, tax, credits, adjustments.
pub fn focus_parts(
    charges: &'static str,
    fees: &'static str,
    tax: &'static str,
    credits: &'static str,
    adjustments: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("charges", charges),
        ("fees", fees),
        ("tax", tax),
        ("credits", credits),
        ("adjustments", adjustments),
    ]
}

/// Shorthand constructor of a [`Total`].
pub fn total(
    account: &'static str,
    service: &'static str,
    name: &'static str,
    currency: &'static str,
    cost: &'static str,
    parts: Vec<(&'static str, &'static str)>,
) -> Total {
    Total {
        account,
        service,
        name,
        currency,
        cost,
        parts,
    }
}

/// One expected `checks` entry.
pub struct Check {
    pub name: &'static str,
    pub expected: &'static str,
    pub actual: &'static str,
    pub ok: bool,
}

/// Shorthand constructor of a [`Check`].
pub fn check(name: &'static str, expected: &'static str, actual: &'static str, ok: bool) -> Check {
    Check {
        name,
        expected,
        actual,
        ok,
    }
}

/// The whole expected summary of one input.
pub struct Expected {
    pub format: &'static str,
    pub payer: &'static str,
    pub period: &'static str,
    pub status: &'static str,
    pub as_of: Option<&'static str>,
    pub rows_read: u64,
    pub rows_summed: u64,
    pub totals: Vec<Total>,
    pub grand: Vec<(&'static str, &'static str)>,
    pub checks: Vec<Check>,
}

fn str_field<'a>(v: &'a Value, key: &str, ctx: &str) -> &'a str {
    v.get(key)
        .unwrap_or_else(|| panic!("{ctx}: missing field {key:?} in {v}"))
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: field {key:?} is not a string in {v}"))
}

fn u64_field(v: &Value, key: &str, ctx: &str) -> u64 {
    v.get(key)
        .unwrap_or_else(|| panic!("{ctx}: missing field {key:?}"))
        .as_u64()
        .unwrap_or_else(|| panic!("{ctx}: field {key:?} is not an unsigned integer in {v}"))
}

fn array<'a>(v: &'a Value, key: &str, ctx: &str) -> &'a Vec<Value> {
    v.get(key)
        .unwrap_or_else(|| panic!("{ctx}: missing field {key:?}"))
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: field {key:?} is not an array"))
}

/// Asserts every field of a `summarize --json` object against `e`.
pub fn assert_summary(v: &Value, input: &str, e: &Expected) {
    let ctx = input;
    assert_eq!(str_field(v, "source", ctx), input, "{ctx}: source");
    assert_eq!(str_field(v, "format", ctx), e.format, "{ctx}: format");
    assert_eq!(
        str_field(v, "payer_account_id", ctx),
        e.payer,
        "{ctx}: payer_account_id"
    );
    assert_eq!(
        str_field(v, "billing_period", ctx),
        e.period,
        "{ctx}: billing_period"
    );
    assert_eq!(str_field(v, "status", ctx), e.status, "{ctx}: status");
    let as_of = v
        .get("as_of")
        .unwrap_or_else(|| panic!("{ctx}: missing field \"as_of\""));
    match e.as_of {
        Some(t) => assert_eq!(as_of.as_str(), Some(t), "{ctx}: as_of"),
        None => assert!(as_of.is_null(), "{ctx}: as_of must be null, got {as_of}"),
    }
    assert_eq!(
        u64_field(v, "rows_read", ctx),
        e.rows_read,
        "{ctx}: rows_read"
    );
    assert_eq!(
        u64_field(v, "rows_summed", ctx),
        e.rows_summed,
        "{ctx}: rows_summed"
    );
    assert_totals(v, e, ctx);
    assert_grand_totals(v, e, ctx);
    assert_checks(v, e, ctx);
}

fn assert_totals(v: &Value, e: &Expected, ctx: &str) {
    let totals = array(v, "totals", ctx);
    let got_keys: Vec<(String, String, String)> = totals
        .iter()
        .map(|t| {
            (
                str_field(t, "account_id", ctx).to_string(),
                str_field(t, "service", ctx).to_string(),
                str_field(t, "currency", ctx).to_string(),
            )
        })
        .collect();
    let want_keys: Vec<(String, String, String)> = e
        .totals
        .iter()
        .map(|t| {
            (
                t.account.to_string(),
                t.service.to_string(),
                t.currency.to_string(),
            )
        })
        .collect();
    assert_eq!(
        got_keys, want_keys,
        "{ctx}: totals keys (account_id, service, currency), in order"
    );
    let mut sorted = got_keys.clone();
    sorted.sort();
    assert_eq!(
        got_keys, sorted,
        "{ctx}: totals must be sorted by (account_id, service, currency)"
    );

    for (t, want) in totals.iter().zip(&e.totals) {
        let what = format!(
            "{ctx}: total ({}, {}, {})",
            want.account, want.service, want.currency
        );
        assert_eq!(
            str_field(t, "service_name", &what),
            want.name,
            "{what}: service_name"
        );
        let cost = dec_field(&t["cost"], &format!("{what}: cost"));
        assert_eq!(cost, dec(want.cost), "{what}: cost");
        let breakdown = t
            .get("breakdown")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{what}: breakdown must be an object, got {t}"));
        let mut got_parts: Vec<&str> = breakdown.keys().map(String::as_str).collect();
        got_parts.sort_unstable();
        let mut want_parts: Vec<&str> = want.parts.iter().map(|(k, _)| *k).collect();
        want_parts.sort_unstable();
        assert_eq!(got_parts, want_parts, "{what}: breakdown parts");
        let mut sum = Decimal::ZERO;
        for (part, amount) in &want.parts {
            let got = dec_field(&breakdown[*part], &format!("{what}: breakdown.{part}"));
            assert_eq!(got, dec(amount), "{what}: breakdown.{part}");
            sum += got;
        }
        assert_eq!(sum, cost, "{what}: breakdown parts must add up to cost");
    }
}

fn assert_grand_totals(v: &Value, e: &Expected, ctx: &str) {
    let grand = array(v, "grand_totals", ctx);
    let got: Vec<(String, Decimal)> = grand
        .iter()
        .map(|g| {
            (
                str_field(g, "currency", ctx).to_string(),
                dec_field(&g["cost"], &format!("{ctx}: grand_totals.cost")),
            )
        })
        .collect();
    let want: Vec<(String, Decimal)> = e
        .grand
        .iter()
        .map(|(c, a)| (c.to_string(), dec(a)))
        .collect();
    assert_eq!(
        got, want,
        "{ctx}: grand_totals (one per currency, sorted by currency)"
    );
    // The grand totals are the per-currency sums of the totals, never added across currencies.
    let mut per_currency: BTreeMap<String, Decimal> = BTreeMap::new();
    for t in array(v, "totals", ctx) {
        *per_currency
            .entry(str_field(t, "currency", ctx).to_string())
            .or_default() += dec_field(&t["cost"], "cost");
    }
    let from_totals: Vec<(String, Decimal)> = per_currency.into_iter().collect();
    assert_eq!(
        got, from_totals,
        "{ctx}: grand_totals must equal the per-currency sums of totals"
    );
}

fn assert_checks(v: &Value, e: &Expected, ctx: &str) {
    // The contract does not fix the order of `checks`: compare them sorted by name.
    let mut got: Vec<(String, Decimal, Decimal, bool)> = array(v, "checks", ctx)
        .iter()
        .map(|c| {
            let name = str_field(c, "name", ctx).to_string();
            let expected = dec_field(&c["expected"], &format!("{ctx}: check {name} expected"));
            let actual = dec_field(&c["actual"], &format!("{ctx}: check {name} actual"));
            let ok = c["ok"]
                .as_bool()
                .unwrap_or_else(|| panic!("{ctx}: check {name}: ok must be a boolean"));
            (name, expected, actual, ok)
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want: Vec<(String, Decimal, Decimal, bool)> = e
        .checks
        .iter()
        .map(|c| (c.name.to_string(), dec(c.expected), dec(c.actual), c.ok))
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want, "{ctx}: checks (name, expected, actual, ok)");
}

/// The public final DBR-RT sample (also zipped under its AWS name in `synthetic/dbr-rt-zip/`).
pub fn dbr_rt_final_expected() -> Expected {
    let a = "095669871260";
    Expected {
        format: "dbr-resources-tags",
        payer: "123456789012",
        period: "2014-09",
        status: "final",
        as_of: Some("2014-09-01T01:00:00.000Z"),
        rows_read: 8,
        rows_summed: 8,
        totals: vec![
            total(
                a,
                "AWSQueueService",
                "Amazon Simple Queue Service",
                "USD",
                "0.00000000",
                dbr_parts("0.00000000", "0"),
            ),
            total(
                a,
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "0.08800464",
                dbr_parts("0.08800464", "0"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "0.00005500",
                dbr_parts("0.00005500", "0"),
            ),
        ],
        grand: vec![("USD", "0.08805964")],
        checks: vec![],
    }
}

/// A fresh, uniquely named directory under `std::env::temp_dir()`, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        // Two tests may read the same clock tick: a counter keeps them apart.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "billwatch-{tag}-{}-{nanos}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An environment variable ./scripts/test sets for the local AWS stack (a clear panic when the
/// test runs without it).
pub fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test, which starts the local AWS stack")
    })
}

/// `billwatch ARGS` against the local stack, as the principal the command needs (read-only or
/// operator): (exit code, stdout, stderr).
pub fn billwatch_on_stack(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(args)
        .envs(billwatch_tests::Principal::for_cli(args).env())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
