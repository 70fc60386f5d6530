//! Property: for any well-formed report, the engine's totals equal a straightforward reference
//! sum of the rows, per (account, service, currency), with the breakdown adding up to the cost,
//! whatever the quoting, line endings, amount notation or compression.

use billwatch_core::report::{summarize, Limits, LocalSource, Opened, ReportSummary};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::path::Path;

#[derive(Debug, Clone)]
struct Row {
    account: usize,
    service: usize,
    currency: usize,
    kind: usize,
    mantissa: i64,
    scale: u32,
    exponent_style: bool,
}

const ACCOUNTS: &[&str] = &["012345678901", "123456789012", "999999999999"];
const SERVICES: &[&str] = &["AmazonEC2", "AmazonS3", "AWSLambda", "awskms"];
const CURRENCIES: &[&str] = &["USD", "EUR"];
const KINDS: &[&str] = &[
    "Usage",
    "Tax",
    "Credit",
    "Refund",
    "RIFee",
    "EdpDiscount",
    "SavingsPlanNegation",
];

fn row() -> impl Strategy<Value = Row> {
    (
        0..ACCOUNTS.len(),
        0..SERVICES.len(),
        0..CURRENCIES.len(),
        0..KINDS.len(),
        -5_000_000_000i64..5_000_000_000,
        0u32..11,
        any::<bool>(),
    )
        .prop_map(
            |(account, service, currency, kind, mantissa, scale, exponent_style)| Row {
                account,
                service,
                currency,
                kind,
                mantissa,
                scale,
                exponent_style,
            },
        )
}

impl Row {
    fn amount(&self) -> Decimal {
        Decimal::new(self.mantissa, self.scale)
    }

    /// The amount as a report would write it: plain, or in exponent notation.
    fn amount_text(&self) -> String {
        if self.exponent_style {
            format!("{}E-{}", self.mantissa, self.scale)
        } else {
            self.amount().to_string()
        }
    }
}

fn render_cur(rows: &[Row], quote_all: bool, crlf: bool) -> Vec<u8> {
    let q = |s: &str| {
        if quote_all {
            format!("\"{s}\"")
        } else {
            s.to_string()
        }
    };
    let eol = if crlf { "\r\n" } else { "\n" };
    let header = [
        "identity/LineItemId",
        "bill/InvoiceId",
        "bill/PayerAccountId",
        "bill/BillingPeriodStartDate",
        "lineItem/UsageAccountId",
        "lineItem/LineItemType",
        "lineItem/ProductCode",
        "lineItem/CurrencyCode",
        "lineItem/UnblendedCost",
        "lineItem/LineItemDescription",
    ];
    let mut out = header.iter().map(|h| q(h)).collect::<Vec<_>>().join(",") + eol;
    for (i, r) in rows.iter().enumerate() {
        let fields = [
            q(&format!("li{i}")),
            q(""),
            q("123456789012"),
            q("2026-11-01T00:00:00.000Z"),
            q(ACCOUNTS[r.account]),
            q(KINDS[r.kind]),
            q(SERVICES[r.service]),
            q(CURRENCIES[r.currency]),
            q(&r.amount_text()),
            "\"a description, with a comma and \"\"quotes\"\"\"".to_string(),
        ];
        out += &(fields.join(",") + eol);
    }
    out.into_bytes()
}

fn reference(rows: &[Row]) -> BTreeMap<(String, String, String), Decimal> {
    let mut sums = BTreeMap::new();
    for r in rows {
        *sums
            .entry((
                ACCOUNTS[r.account].to_string(),
                SERVICES[r.service].to_string(),
                CURRENCIES[r.currency].to_string(),
            ))
            .or_insert(Decimal::ZERO) += r.amount();
    }
    sums
}

fn run(bytes: Vec<u8>, name: &str) -> ReportSummary {
    let parts = LocalSource::new(None, Path::new(name));
    summarize(
        Opened::Stream(Box::new(Cursor::new(bytes))),
        name,
        name,
        &parts,
        &Limits::default(),
    )
    .expect("a well-formed report summarizes")
}

fn gzip_in_members(bytes: &[u8], members: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let chunk = bytes.len().div_ceil(members.max(1)).max(1);
    for piece in bytes.chunks(chunk) {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(piece).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn assert_matches_reference(summary: &ReportSummary, rows: &[Row]) {
    let expected = reference(rows);
    let got: BTreeMap<_, _> = summary
        .totals
        .iter()
        .map(|t| {
            (
                (t.account_id.clone(), t.service.clone(), t.currency.clone()),
                t.cost,
            )
        })
        .collect();
    assert_eq!(got, expected);
    for t in &summary.totals {
        let parts: Decimal = t.breakdown.0.iter().map(|(_, d)| *d).sum();
        assert_eq!(parts, t.cost, "breakdown of {t:?}");
    }
    for g in &summary.grand_totals {
        let sum: Decimal = expected
            .iter()
            .filter(|((_, _, c), _)| *c == g.currency)
            .map(|(_, d)| *d)
            .sum();
        assert_eq!(g.cost, sum);
    }
    assert_eq!(summary.rows_summed, rows.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cur_totals_equal_the_reference_sum(rows in prop::collection::vec(row(), 1..200), quote_all: bool, crlf: bool) {
        let summary = run(render_cur(&rows, quote_all, crlf), "report.csv");
        assert_matches_reference(&summary, &rows);
    }

    #[test]
    fn gzip_members_do_not_change_the_totals(rows in prop::collection::vec(row(), 1..100), members in 1usize..4) {
        let bytes = gzip_in_members(&render_cur(&rows, false, false), members);
        let summary = run(bytes, "report-1.csv.gz");
        assert_matches_reference(&summary, &rows);
    }

    #[test]
    fn legacy_totals_and_breakdown_equal_the_reference(rows in prop::collection::vec(row(), 1..100)) {
        let mut text = String::from("InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,BillingPeriodStartDate,ProductCode,ProductName,CurrencyCode,CostBeforeTax,Credits,TaxAmount,TotalCost\n");
        let mut credits_ref: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            // Split the amount into cost before tax, a credit and a tax that add up to it.
            let credit = -Decimal::new(r.mantissa.abs() % 1000, 2);
            let tax = Decimal::new(r.mantissa.abs() % 777, 3);
            let total = r.amount();
            let before = total - credit - tax;
            *credits_ref.entry((ACCOUNTS[r.account].into(), SERVICES[r.service].into(), CURRENCIES[r.currency].into())).or_insert(Decimal::ZERO) += credit;
            text += &format!(
                "\"Estimated\",\"123456789012\",\"{}\",\"LinkedLineItem\",\"{}\",\"2026/11/01 00:00:00\",\"{}\",\"Name\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"\n",
                ACCOUNTS[r.account], 1000 + i, SERVICES[r.service], CURRENCIES[r.currency], before, credit, tax, r.amount_text()
            );
        }
        let summary = run(text.into_bytes(), "123456789012-aws-billing-csv-2026-11.csv");
        assert_matches_reference(&summary, &rows);
        for t in &summary.totals {
            let key = (t.account_id.clone(), t.service.clone(), t.currency.clone());
            assert_eq!(t.breakdown.get(billwatch_core::ledger::Part::Credits), Some(credits_ref[&key]));
        }
    }
}
