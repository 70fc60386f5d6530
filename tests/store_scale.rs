//! Benchmark (not a test: it is ignored by default and asserts nothing about time): how long the
//! DynamoDB work of the largest deliveries takes on the local stack. A report of ACCOUNTS x
//! SERVICES totals (default 2,000 x 150 = 300,000) is stored the way a delivery stores it: the
//! first delivery writes its version; a later one writes a new version, reads the live one (to
//! plan its alerts) and deletes the old one once it is live.
//!
//! ```sh
//! infra/local/with-stack.sh cargo test --release -p billwatch-tests --test store_scale -- --ignored --nocapture
//! BILLWATCH_BENCH_ACCOUNTS=100 BILLWATCH_BENCH_SERVICES=60 infra/local/with-stack.sh cargo test ...
//! ```

use aws_sdk_dynamodb::types::AttributeValue;
use billwatch_aws::store::item_size::{item_bytes, read_units, write_units};
use billwatch_aws::store::totals::partition;
use billwatch_aws::store::totals::sheet::Version;
use billwatch_aws::store::VersionWrite;
use billwatch_core::ledger::Part;
use billwatch_core::period::Period;
use billwatch_core::report::summary::Breakdown;
use billwatch_core::report::{Format, GrandTotal, ReportSummary, Status, Total};
use billwatch_tests::Stack;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::time::Instant;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A CUR-like summary: `accounts` x `services` totals in USD, amounts with CUR's 10 decimals.
fn summary(accounts: usize, services: usize, seed: u64) -> ReportSummary {
    let mut totals = Vec::with_capacity(accounts * services);
    let mut x = seed.max(1);
    let mut grand = Decimal::ZERO;
    for a in 0..accounts {
        for s in 0..services {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let charges = Decimal::new((x % 100_000_000_000_000) as i64, 10);
            let credits = -Decimal::new(((x >> 20) % 1_000_000_000) as i64, 10);
            let cost = charges + credits;
            grand += cost;
            totals.push(Total {
                account_id: format!("{:012}", 100_000_000_000u64 + a as u64 * 7919),
                service: format!("AWSService{s:03}"),
                service_name: format!("Amazon Synthetic Service {s:03}"),
                currency: "USD".into(),
                cost,
                breakdown: Breakdown(vec![(Part::Charges, charges), (Part::Credits, credits)]),
                daily_usage: None,
            });
        }
    }
    ReportSummary {
        source: "bench".into(),
        format: Format::Cur1,
        payer_account_id: Some("123456789012".into()),
        billing_period: Some("2026-11".parse().unwrap()),
        status: Status::Estimated,
        as_of: Some("2026-11-20T08:00:00.000Z".into()),
        rows_read: totals.len() as u64,
        rows_summed: totals.len() as u64,
        totals,
        grand_totals: vec![GrandTotal {
            currency: "USD".into(),
            cost: grand,
        }],
        checks: Vec::new(),
        skipped: Default::default(),
        warnings: Vec::new(),
        tag_totals: Vec::new(),
        budgets: Vec::new(),
        objects_read: 1,
        delivery_id: None,
        commitments: None,
    }
}

/// One total as an item of the per-total layout (before sheets): for comparing sizes only.
fn per_total_item(t: &Total, v: &Version) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |d: Decimal| AttributeValue::N(d.normalize().to_string());
    let mut item = HashMap::from([
        (
            "pk".to_string(),
            s(&partition(v.payer, v.period, v.version)),
        ),
        (
            "sk".into(),
            s(&format!("{}#{}#{}", t.account_id, t.service, t.currency)),
        ),
        (
            "gsi1pk".into(),
            s(&format!("{}#{}", t.account_id, t.service)),
        ),
        (
            "gsi1sk".into(),
            s(&format!(
                "{}#{}#{}#{}",
                v.period, v.payer, v.version, t.currency
            )),
        ),
        ("payer".into(), s(v.payer)),
        ("period".into(), s(&v.period.to_string())),
        ("version".into(), s(v.version)),
        ("account".into(), s(&t.account_id)),
        ("service".into(), s(&t.service)),
        ("service_name".into(), s(&t.service_name)),
        ("currency".into(), s(&t.currency)),
        ("cost".into(), n(t.cost)),
        (
            "breakdown".into(),
            AttributeValue::M(
                t.breakdown
                    .0
                    .iter()
                    .map(|(p, a)| (p.name().to_string(), n(*a)))
                    .collect(),
            ),
        ),
        ("status".into(), s(v.status.name())),
        ("report_key".into(), s(v.report_key)),
        ("stored_at".into(), s(v.stored_at)),
    ]);
    if let Some(as_of) = v.as_of {
        item.insert("as_of".into(), s(as_of));
    }
    item
}

/// Dollars, to the cent.
fn usd(units: u64, per_million: Decimal) -> Decimal {
    (Decimal::from(units) * per_million / Decimal::from(1_000_000)).round_dp(2)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run it with --ignored (see the file's header)"]
async fn largest_report_store_phases() {
    let accounts = env_or("BILLWATCH_BENCH_ACCOUNTS", 2_000);
    let services = env_or("BILLWATCH_BENCH_SERVICES", 150);
    let stack = Stack::new().await;
    let store = &stack.ingest.totals;
    let period: Period = "2026-11".parse().unwrap();
    let payer = "123456789012";
    let first = summary(accounts, services, 1);
    let second = summary(accounts, services, 2);
    let (v1, v2) = (
        "v01KBENCH0000000000000000001",
        "v01KBENCH0000000000000000002",
    );
    let mut rows: Vec<(&str, f64, String)> = Vec::new();
    // Each phase is printed as it ends too (the largest runs take minutes).
    let mut done = |phase: &'static str, seconds: f64, what: String| {
        eprintln!("store_scale: {phase}: {seconds:.1} s ({what})");
        rows.push((phase, seconds, what));
    };

    let t = Instant::now();
    let w1 = store
        .write_version(
            &first,
            payer,
            period,
            v1,
            "bench/first.csv",
            "2026-11-20T08:00:00.000Z",
        )
        .await
        .unwrap();
    let what = |w: &VersionWrite| {
        format!(
            "{} totals in {} items, {} calls",
            w.totals, w.items, w.calls
        )
    };
    done(
        "first delivery: write its version",
        t.elapsed().as_secs_f64(),
        what(&w1),
    );

    let t = Instant::now();
    let w2 = store
        .write_version(
            &second,
            payer,
            period,
            v2,
            "bench/second.csv",
            "2026-11-20T16:00:00.000Z",
        )
        .await
        .unwrap();
    done(
        "later delivery: write its version",
        t.elapsed().as_secs_f64(),
        what(&w2),
    );

    let t = Instant::now();
    let read = store.query(payer, period, v1, None).await.unwrap();
    done(
        "later delivery: read the live one",
        t.elapsed().as_secs_f64(),
        format!("{} totals", read.len()),
    );
    assert_eq!(read.len(), accounts * services, "every total reads back");

    let t = Instant::now();
    let deleted = store.delete_version(payer, period, v1).await.unwrap();
    done(
        "later delivery: delete the old one",
        t.elapsed().as_secs_f64(),
        format!("{deleted} items"),
    );

    println!(
        "\nstore_scale: {accounts} accounts x {services} services = {} totals per version, on the local emulator",
        accounts * services
    );
    println!("| phase | seconds | what |\n|---|---:|---|");
    for (phase, seconds, what) in &rows {
        println!("| {phase} | {seconds:.1} | {what} |");
    }

    // The same version on real DynamoDB, by arithmetic (prices and limits: docs/scale.md).
    let wru_price = Decimal::new(625, 3); // $0.625 per million write request units
    let rru_price = Decimal::new(125, 3); // $0.125 per million read request units
    let v = Version {
        payer,
        period,
        version: v1,
        status: first.status,
        as_of: first.as_of.as_deref(),
        report_key: "bench/first.csv",
        stored_at: "2026-11-20T08:00:00.000Z",
    };
    let old_bytes: Vec<usize> = first
        .totals
        .iter()
        .map(|t| item_bytes(&per_total_item(t, &v)))
        .collect();
    let old = VersionWrite {
        totals: first.totals.len(),
        items: old_bytes.len(),
        bytes: old_bytes.iter().sum(),
        write_units: old_bytes.iter().map(|b| write_units(*b)).sum(),
        calls: old_bytes.len().div_ceil(25) as u64,
    };
    println!("\nper version on DynamoDB (the index projects every attribute: its writes cost as much again)");
    println!("| layout | items | mean item | BatchWriteItem calls | write units (table + index) | seconds at 1,000 WCU/s on one partition key | read units to read it back (eventually consistent) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, w) in [("per total (before)", old), ("per account (sheets)", w1)] {
        println!(
            "| {name} | {} | {} B | {} | {} + {} | {} | {} |",
            w.items,
            w.bytes / w.items.max(1),
            w.items.div_ceil(25),
            w.write_units,
            w.write_units,
            w.write_units.div_ceil(1000),
            read_units(w.bytes).div_ceil(2),
        );
    }
    println!("\nper month at 3 deliveries a day (90): each later delivery writes its version and deletes the previous one (both in table and index), and reads the previous one twice (to plan alerts, to list its keys)");
    println!("| layout | write units per delivery | read units per delivery | $ per delivery | $ per month |");
    println!("|---|---:|---:|---:|---:|");
    for (name, w) in [("per total (before)", old), ("per account (sheets)", w1)] {
        let wru = 4 * w.write_units;
        let rru = read_units(w.bytes);
        let per = usd(wru, wru_price) + usd(rru, rru_price);
        let dollars = (Decimal::from(wru) * wru_price + Decimal::from(rru) * rru_price)
            * Decimal::from(90)
            / Decimal::from(1_000_000);
        println!(
            "| {name} | {wru} | {rru} | {per} | {} |",
            dollars.round_dp(2)
        );
    }
}
