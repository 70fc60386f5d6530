//! The human-readable summary: totals per account and service, subtotals per account, grand
//! totals per currency, then period, status and checks.

use billwatch_core::report::ReportSummary;
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn render(s: &ReportSummary) -> String {
    let mut out = String::new();
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let _ = writeln!(out, "Report:   {}", s.source);
    let _ = writeln!(out, "Format:   {}", s.format.name());
    let _ = writeln!(out, "Payer:    {}", or_unknown(&s.payer_account_id));
    let _ = writeln!(
        out,
        "Period:   {}",
        or_unknown(&s.billing_period.map(|p| p.to_string()))
    );
    let _ = writeln!(
        out,
        "Status:   {}{}",
        s.status.name(),
        s.as_of
            .as_ref()
            .map(|t| format!(" (as of {t})"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Rows:     {} read, {} summed",
        s.rows_read, s.rows_summed
    );
    let _ = writeln!(out);

    let w_service = s
        .totals
        .iter()
        .map(|t| t.service.chars().count())
        .chain([7])
        .max()
        .unwrap_or(7);
    let w_cost = s
        .totals
        .iter()
        .map(|t| t.cost.to_string().len())
        .chain(s.grand_totals.iter().map(|g| g.cost.to_string().len()))
        .chain([4])
        .max()
        .unwrap_or(4);
    let _ = writeln!(
        out,
        "{:<12}  {:<w_service$}  {:<8}  {:>w_cost$}",
        "ACCOUNT", "SERVICE", "CURRENCY", "COST"
    );
    let mut subtotal: BTreeMap<&str, rust_decimal::Decimal> = BTreeMap::new();
    let mut current: Option<&str> = None;
    let flush = |out: &mut String, account: &str, sub: &BTreeMap<&str, rust_decimal::Decimal>| {
        for (currency, cost) in sub {
            let _ = writeln!(
                out,
                "{:<12}  {:<w_service$}  {:<8}  {:>w_cost$}",
                account, "(account total)", currency, cost
            );
        }
    };
    for t in &s.totals {
        if current.is_some_and(|a| a != t.account_id) {
            flush(&mut out, current.unwrap_or_default(), &subtotal);
            subtotal.clear();
        }
        current = Some(&t.account_id);
        *subtotal.entry(&t.currency).or_default() += t.cost;
        let _ = writeln!(
            out,
            "{:<12}  {:<w_service$}  {:<8}  {:>w_cost$}",
            t.account_id, t.service, t.currency, t.cost
        );
    }
    if let Some(account) = current {
        flush(&mut out, account, &subtotal);
    }
    let _ = writeln!(out);
    for g in &s.grand_totals {
        let _ = writeln!(out, "Grand total {}: {}", g.currency, g.cost);
    }
    if s.grand_totals.is_empty() {
        let _ = writeln!(out, "Grand total: nothing billed");
    }
    if !s.checks.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Checks:");
        for c in &s.checks {
            let _ = writeln!(
                out,
                "  [{}] {}: expected {}, actual {}",
                if c.ok { "ok" } else { "FAILED" },
                c.name,
                c.expected,
                c.actual
            );
        }
    }
    out
}
