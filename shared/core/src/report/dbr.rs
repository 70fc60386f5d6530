//! Detailed billing reports (DBR and DBR with resources and tags): `LineItem` and `Discount`
//! rows are summed from `UnBlendedCost` (consolidated) or `Cost` (single account). DBRs carry
//! no currency column: they are billed in USD.

use super::error::RowError;
use super::header::{field, present, Col, Header};
use super::product_codes::code_for;
use super::summary::Check;
use super::tally::{status_of, Finished, Rows, Tally};
use super::timestamp::Timestamp;
use crate::ledger::Part;
use csv::ByteRecord;
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
    fn account<'r>(c: &Cols, r: &'r ByteRecord) -> &'r [u8] {
        let linked = field(c.linked, r);
        if present(linked) {
            linked
        } else {
            c.payer.get(r)
        }
    }
}

impl Rows for Dbr {
    fn bind(&mut self, h: &Header) -> Result<(), RowError> {
        self.tally.tags.bind(h);
        let cost = match h.first_of(&["UnBlendedCost", "Cost"]) {
            Some(col) => col,
            None => h.required("UnBlendedCost")?,
        };
        self.cols = Some(Cols {
            invoice_id: h.optional("InvoiceID"),
            payer: h.required("PayerAccountId")?,
            linked: h.optional("LinkedAccountId"),
            record_type: h.required("RecordType")?,
            product_name: h.required("ProductName")?,
            usage_start: h.optional("UsageStartDate"),
            usage_end: h.optional("UsageEndDate"),
            cost,
        });
        Ok(())
    }

    fn row(&mut self, r: &ByteRecord) -> Result<(), RowError> {
        let c = self.cols.as_ref().expect("bind runs before rows");
        let part = match c.record_type.get(r) {
            b"LineItem" => Part::Charges,
            b"Discount" => Part::Discounts,
            b"AccountTotal" => {
                let account = String::from_utf8_lossy(Self::account(c, r)).into_owned();
                *self.account_totals.entry(account).or_default() += c.cost.amount(r)?;
                return Ok(());
            }
            b"InvoiceTotal" => {
                *self.invoice_total.get_or_insert(Decimal::ZERO) += c.cost.amount(r)?;
                return Ok(());
            }
            b"Rounding" => {
                self.rounding += c.cost.amount_or_zero(r)?;
                return Ok(());
            }
            _ => return Ok(()),
        };
        let cost = c.cost.amount(r)?;
        let t = &mut self.tally;
        let name = c.product_name.get(r);
        t.ledger
            .entry(Self::account(c, r), name, CURRENCY)
            .add(part, cost);
        t.tags.add(r, CURRENCY, cost);
        t.rows_summed += 1;
        t.see_payer(c.payer.get(r));
        if field(c.invoice_id, r).eq_ignore_ascii_case(b"Estimated") {
            t.estimated = true;
        }
        t.latest.see(field(c.usage_end, r));
        if self.first_usage_period.is_none() {
            self.first_usage_period =
                Timestamp::parse(field(c.usage_start, r)).map(|ts| ts.period());
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Finished {
        let me = *self;
        let mut checks = Vec::new();
        let by_account = me.tally.ledger.per_account();
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
            let actual = me
                .tally
                .ledger
                .per_currency()
                .get("USD")
                .copied()
                .unwrap_or_default()
                + me.rounding;
            checks.push(Check::new("invoice_total:USD".into(), expected, actual));
        }
        Finished {
            tags: me.tally.tags.finish(),
            ledger: me.tally.ledger,
            parts: PARTS,
            service_code: code_for,
            payer: me.tally.payer,
            period: me.first_usage_period,
            status: status_of(me.tally.estimated),
            as_of: me.tally.latest.get(),
            rows_summed: me.tally.rows_summed,
            checks,
        }
    }
}
