//! Detailed billing reports (DBR and DBR with resources and tags): `LineItem` and `Discount`
//! rows are summed from `UnBlendedCost` (consolidated) or `Cost` (single account). DBRs carry
//! no currency column: they are billed in USD.

use super::error::{ErrorKind, RowError};
use super::header::{field, present, Col, Header};
use super::product_codes::code_for;
use super::record::Record;
use super::summary::Check;
use super::tally::{overflow, status_of, strict, Finished, Rows, Tally};
use crate::ledger::key_text;
use crate::ledger::Part;
use crate::money::{add_exact, add_into};
use crate::timestamp::Timestamp;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

const PARTS: &[Part] = &[Part::Charges, Part::Discounts];
const CURRENCY: &[u8] = b"USD";

struct Cols {
    invoice_id: Option<Col>,
    payer: Col,
    linked: Option<Col>,
    record_type: Col,
    product_name: Col,
    usage_start: Option<Col>,
    usage_end: Option<Col>,
    cost: Col,
}

#[derive(Default)]
pub struct Dbr {
    cols: Option<Cols>,
    tally: Tally,
    first_usage_period: Option<crate::period::Period>,
    account_totals: BTreeMap<String, Decimal>,
    invoice_total: Option<Decimal>,
    rounding: Decimal,
}

impl Dbr {
    fn account<'r>(c: &Cols, r: &Record<'r>) -> &'r [u8] {
        let linked = field(c.linked, r);
        if present(linked) {
            linked
        } else {
            c.payer.get(r)
        }
    }
}

impl Rows for Dbr {
    fn bind(&mut self, h: &Header) -> Result<Vec<Col>, RowError> {
        self.tally.tags.bind(h);
        let cost = match h.first_of(&["UnBlendedCost", "Cost"])? {
            Some(col) => col,
            None => h.required("UnBlendedCost")?,
        };
        let cols = Cols {
            invoice_id: h.optional("InvoiceID")?,
            payer: h.required("PayerAccountId")?,
            linked: h.optional("LinkedAccountId")?,
            record_type: h.required("RecordType")?,
            product_name: h.required("ProductName")?,
            usage_start: h.optional("UsageStartDate")?,
            usage_end: h.optional("UsageEndDate")?,
            cost,
        };
        let keys = strict(&[
            cols.invoice_id,
            Some(cols.payer),
            cols.linked,
            Some(cols.record_type),
            Some(cols.product_name),
            cols.usage_start,
            cols.usage_end,
            Some(cols.cost),
        ]);
        self.cols = Some(cols);
        Ok(keys)
    }

    fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        let c = self.cols.as_ref().expect("bind runs before rows");
        let part = match c.record_type.get(r) {
            b"LineItem" => Part::Charges,
            b"Discount" => Part::Discounts,
            b"AccountTotal" => {
                let account = key_text(Self::account(c, r));
                let amount = c.cost.amount(r)?;
                add_into(self.account_totals.entry(account).or_default(), amount)
                    .map_err(|_| RowError::overflow(c.cost.name))?;
                self.tally.skipped.skip(b"AccountTotal");
                return Ok(());
            }
            b"InvoiceTotal" => {
                let amount = c.cost.amount(r)?;
                add_into(self.invoice_total.get_or_insert(Decimal::ZERO), amount)
                    .map_err(|_| RowError::overflow(c.cost.name))?;
                self.tally.skipped.skip(b"InvoiceTotal");
                return Ok(());
            }
            b"Rounding" => {
                let amount = c.cost.amount_or_zero(r)?;
                add_into(&mut self.rounding, amount)
                    .map_err(|_| RowError::overflow(c.cost.name))?;
                self.tally.skipped.skip(b"Rounding");
                return Ok(());
            }
            b"StatementTotal" => {
                self.tally.skipped.skip(b"StatementTotal");
                return Ok(());
            }
            other => {
                // Never seen (or a known name in another case): not summed, and named.
                self.tally.skipped.skip(other);
                self.tally.skipped.unknown(other);
                return Ok(());
            }
        };
        let cost = c.cost.amount(r)?;
        let t = &mut self.tally;
        let name = c.product_name.get(r);
        t.ledger
            .entry(Self::account(c, r), name, CURRENCY)
            .add(part, cost)
            .map_err(|_| RowError::overflow(c.cost.name))?;
        t.tags
            .add(r, CURRENCY, cost)
            .map_err(|_| RowError::overflow(c.cost.name))?;
        t.rows_summed += 1;
        t.see_payer(c.payer.get(r), r.pos());
        if field(c.invoice_id, r).eq_ignore_ascii_case(b"Estimated") {
            t.estimated = true;
        }
        t.latest.see(field(c.usage_end, r));
        if self.first_usage_period.is_none() {
            self.first_usage_period = Timestamp::parse_report(field(c.usage_start, r))
                .ok()
                .map(|ts| ts.period());
        }
        Ok(())
    }

    fn keys(&self) -> usize {
        self.tally.ledger.len()
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind> {
        let me = *self;
        let mut checks = Vec::new();
        let by_account = me
            .tally
            .ledger
            .per_account()
            .map_err(|_| overflow("an account's total"))?;
        for (account, expected) in &me.account_totals {
            let actual = by_account
                .get(&(account.clone(), "USD".to_string()))
                .copied()
                .unwrap_or_default();
            checks.push(Check::new(
                format!("account_total:{account}:USD"),
                *expected,
                actual,
            ));
        }
        if let Some(expected) = me.invoice_total {
            let summed = me
                .tally
                .ledger
                .per_currency()
                .map_err(|_| overflow("the report's total"))?
                .get("USD")
                .copied()
                .unwrap_or_default();
            let actual = add_exact(summed, me.rounding)
                .ok_or_else(|| overflow("the report's total plus rounding"))?;
            checks.push(Check::new("invoice_total:USD".into(), expected, actual));
        }
        Ok(vec![Finished {
            commitments: None,
            budgets: None,
            tags: me
                .tally
                .tags
                .finish()
                .map_err(|_| overflow("a tag total"))?,
            ledger: me.tally.ledger,
            parts: PARTS,
            service_code: code_for,
            payer: me.tally.payer.map(|(_, p)| p),
            period: me.first_usage_period,
            status: status_of(me.tally.estimated),
            as_of: me.tally.latest.get(),
            rows_summed: me.tally.rows_summed,
            checks,
            skipped: me.tally.skipped.shown(),
            warnings: me
                .tally
                .skipped
                .warnings("RecordType", &|_| "not summed".into()),
        }])
    }
}
