//! The human-readable summary: totals per account and service, subtotals per account, grand
//! totals per currency, then period, status and checks. Money is rounded to the cent (with
//! thousands separators) unless `--exact` asks for every digit; columns are as wide as their
//! widest cell, so they stay aligned whatever the length of a name.

use billwatch_core::money_text;
use billwatch_core::report::error::escape_text;
use billwatch_core::report::ReportSummary;
use comfy_table::{CellAlignment, Table};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Rounded to the cent with thousands separators, or every stored digit with `exact`.
pub fn money(value: Decimal, exact: bool) -> String {
    if exact {
        money_text::exact(value)
    } else {
        money_text::cents(value)
    }
}

pub fn render(s: &ReportSummary, exact: bool) -> String {
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

    let mut table = columns(&["ACCOUNT", "SERVICE", "CURRENCY", "COST"], &[3]);
    let mut subtotal: BTreeMap<&str, Option<Decimal>> = BTreeMap::new();
    let mut current: Option<&str> = None;
    let flush = |table: &mut Table, account: &str, sub: &BTreeMap<&str, Option<Decimal>>| {
        for (currency, cost) in sub {
            let cost =
                cost.map_or_else(|| "(beyond the decimal range)".into(), |c| money(c, exact));
            table.add_row(vec![
                &account_cell(account),
                "(account total)",
                currency,
                &cost,
            ]);
        }
    };
    for t in &s.totals {
        if current.is_some_and(|a| a != t.account_id) {
            flush(&mut table, current.unwrap_or_default(), &subtotal);
            subtotal.clear();
        }
        current = Some(&t.account_id);
        let sub = subtotal.entry(&t.currency).or_insert(Some(Decimal::ZERO));
        *sub = sub.and_then(|v| v.checked_add(t.cost));
        table.add_row(vec![
            account_cell(&t.account_id),
            t.service.clone(),
            t.currency.clone(),
            money(t.cost, exact),
        ]);
    }
    if let Some(account) = current {
        flush(&mut table, account, &subtotal);
    }
    let _ = writeln!(out, "{}", table.trim_fmt());
    if s.totals.iter().any(|t| is_long(&t.account_id)) {
        let _ = writeln!(out, "{LONG_NOTE}");
    }
    let _ = writeln!(out);
    for g in &s.grand_totals {
        let _ = writeln!(out, "Grand total {}: {}", g.currency, money(g.cost, exact));
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
    if !s.skipped.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Skipped (not summed):");
        for (kind, rows) in &s.skipped {
            let _ = writeln!(
                out,
                "  {}: {rows} {}",
                escape_text(kind),
                if *rows == 1 { "row" } else { "rows" }
            );
        }
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Warnings:");
        for w in &s.warnings {
            let _ = writeln!(out, "  warning: {}", escape_text(w));
        }
    }
    out
}

/// The widest account id a table shows whole (AWS's are 12 digits; other clouds' in a FOCUS
/// file can be far longer).
const ACCOUNT_WIDTH: usize = 24;

/// Said under a table that shortened an account id.
pub const LONG_NOTE: &str =
    "(ids over 24 characters shortened with …; --output json has them whole)";

/// Whether [`account_cell`] shortens this id.
pub fn is_long(id: &str) -> bool {
    id.chars().count() > ACCOUNT_WIDTH
}

/// An account id for a table column: whole up to [`ACCOUNT_WIDTH`] characters, else its start
/// and end around `…`, so one long id cannot push the table past a terminal's width.
pub fn account_cell(id: &str) -> String {
    if !is_long(id) {
        return id.to_string();
    }
    let chars: Vec<char> = id.chars().collect();
    let keep = (ACCOUNT_WIDTH - 1) / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - (ACCOUNT_WIDTH - 1 - keep)..]
        .iter()
        .collect();
    format!("{head}…{tail}")
}

/// A plain table (no borders, two spaces between columns) with these headers; the columns at
/// `right` are right-aligned (amounts).
pub fn columns(headers: &[&str], right: &[usize]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(headers.to_vec());
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if right.contains(&i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_account_ids_are_shortened_to_the_column() {
        assert_eq!(account_cell("123456789012"), "123456789012");
        let long = format!("ocid1.tenancy.oc1..{}", "a".repeat(61));
        let cell = account_cell(&long);
        assert_eq!(cell.chars().count(), ACCOUNT_WIDTH);
        assert!(
            cell.starts_with("ocid1.tenan") && cell.ends_with("aaaa"),
            "{cell}"
        );
        assert!(cell.contains('…'));
        assert_eq!(
            account_cell(&"x".repeat(ACCOUNT_WIDTH)),
            "x".repeat(ACCOUNT_WIDTH)
        );
    }
}
