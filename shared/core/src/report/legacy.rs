//! The legacy monthly report (`<payer>-aws-billing-csv-YYYY-MM.csv`) and the monthly cost
//! allocation report: `LinkedLineItem` rows are summed (or `PayerLineItem` when a standalone
//! account's file has no linked rows); the total rows become reconciliation checks.

use super::error::{ErrorKind, RowError};
use super::header::{field, present, Col, Header};
use super::record::Record;
use super::summary::Check;
use super::tally::{overflow, same_code, status_of, strict, Finished, Rows, Tally};
use crate::ledger::{key_text, Ledger, Part};
use crate::money::{add_into, sub_exact};
use crate::timestamp::Timestamp;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

const PARTS: &[Part] = &[Part::Charges, Part::Credits, Part::Tax];

/// The service the consolidated-billing rounding line is booked under, and its name.
pub const ROUNDING_CODE: &[u8] = b"CBRounding";
const ROUNDING_NAME: &[u8] = b"Consolidated billing rounding";

struct Cols {
    invoice_id: Option<Col>,
    payer: Col,
    linked: Col,
    record_type: Col,
    record_id: Option<Col>,
    product_code: Col,
    product_name: Option<Col>,
    currency: Col,
    credits: Option<Col>,
    tax: Option<Col>,
    total: Col,
    period_start: Option<Col>,
    description: Option<Col>,
}

#[derive(Default)]
pub struct Legacy {
    cols: Option<Cols>,
    linked: Tally,
    payer_ledger: Ledger,
    payer_rows: u64,
    account_totals: BTreeMap<(String, String), Decimal>,
    invoice_totals: BTreeMap<String, Decimal>,
    /// `CBRounding` per (payer, currency), and its rows.
    rounding: BTreeMap<(Vec<u8>, Vec<u8>), Decimal>,
    rounding_rows: u64,
    disclaimer_as_of: Option<Timestamp>,
}

impl Legacy {
    fn add_line_item(
        ledger: &mut Ledger,
        c: &Cols,
        account: &[u8],
        r: &Record<'_>,
    ) -> Result<Decimal, RowError> {
        let total = c.total.amount(r)?;
        let credits = match c.credits {
            Some(col) => col.amount_or_zero(r)?,
            None => Decimal::ZERO,
        };
        let tax = match c.tax {
            Some(col) => col.amount_or_zero(r)?,
            None => Decimal::ZERO,
        };
        let code = c.product_code.get(r);
        let overflow = || RowError::overflow(c.total.name);
        let charges = sub_exact(total, credits)
            .and_then(|t| sub_exact(t, tax))
            .ok_or_else(overflow)?;
        // All three or none: a copy is updated and stored once every part fits.
        let entry = ledger.entry(account, code, c.currency.get(r));
        let mut next = *entry;
        next.add(Part::Charges, charges).map_err(|_| overflow())?;
        next.add(Part::Credits, credits).map_err(|_| overflow())?;
        next.add(Part::Tax, tax).map_err(|_| overflow())?;
        *entry = next;
        if let Some(name) = c.product_name {
            if ledger.needs_service_name(code) {
                ledger.set_service_name(code, name.get(r), r.pos());
            }
        }
        Ok(total)
    }
}

/// `"… activity through approximately 2014/06/22 06:14:25"` → that time.
fn disclaimer_time(text: &[u8]) -> Option<Timestamp> {
    let text = String::from_utf8_lossy(text);
    let at = text.find("approximately ")? + "approximately ".len();
    Timestamp::parse_report(text[at..].trim().trim_end_matches('.').as_bytes()).ok()
}

fn text(raw: &[u8]) -> String {
    key_text(raw)
}

impl Rows for Legacy {
    fn bind(&mut self, h: &Header) -> Result<Vec<Col>, RowError> {
        self.linked.tags.bind(h);
        let cols = Cols {
            invoice_id: h.optional("InvoiceID")?,
            payer: h.required("PayerAccountId")?,
            linked: h.required("LinkedAccountId")?,
            record_type: h.required("RecordType")?,
            record_id: h.first_of(&["RecordID", "RecordId"])?,
            product_code: h.required("ProductCode")?,
            product_name: h.optional("ProductName")?,
            currency: h.required("CurrencyCode")?,
            credits: h.optional("Credits")?,
            tax: h.optional("TaxAmount")?,
            total: h.required("TotalCost")?,
            period_start: h.optional("BillingPeriodStartDate")?,
            description: h.optional("ItemDescription")?,
        };
        let keys = strict(&[
            cols.invoice_id,
            Some(cols.payer),
            Some(cols.linked),
            Some(cols.record_type),
            cols.record_id,
            Some(cols.product_code),
            Some(cols.currency),
            cols.credits,
            cols.tax,
            Some(cols.total),
            cols.period_start,
        ]);
        self.cols = Some(cols);
        Ok(keys)
    }

    fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        let c = self.cols.as_ref().expect("bind runs before rows");
        let record_type = c.record_type.get(r);
        match record_type {
            b"LinkedLineItem" | b"PayerLineItem" => {
                let currency = c.currency.currency(r)?;
                if field(c.invoice_id, r).eq_ignore_ascii_case(b"Estimated") {
                    self.linked.estimated = true;
                }
                if let Some(col) = c.period_start {
                    self.linked.period.see(col, r)?;
                }
                let payer = c.payer.get(r);
                self.linked.see_payer(payer, r.pos());
                if record_type == b"LinkedLineItem" {
                    let total =
                        Self::add_line_item(&mut self.linked.ledger, c, c.linked.get(r), r)?;
                    self.linked
                        .tags
                        .add(r, currency, total)
                        .map_err(|_| RowError::overflow(c.total.name))?;
                    self.linked.rows_summed += 1;
                } else {
                    Self::add_line_item(&mut self.payer_ledger, c, payer, r)?;
                    self.payer_rows += 1;
                }
            }
            b"AccountTotal" => {
                let currency = text(c.currency.currency(r)?);
                let mut account = text(c.linked.get(r));
                if account.is_empty() {
                    let id = field(c.record_id, r);
                    account = text(id.strip_prefix(b"AccountTotal:").unwrap_or(id));
                }
                let amount = c.total.amount(r)?;
                add_into(
                    self.account_totals.entry((account, currency)).or_default(),
                    amount,
                )
                .map_err(|_| RowError::overflow(c.total.name))?;
                self.linked.skipped.skip(record_type);
            }
            b"InvoiceTotal" => {
                let currency = text(c.currency.currency(r)?);
                let amount = c.total.amount(r)?;
                add_into(self.invoice_totals.entry(currency).or_default(), amount)
                    .map_err(|_| RowError::overflow(c.total.name))?;
                self.linked.skipped.skip(record_type);
            }
            b"CBRounding" => {
                // The difference between the invoice and the sum of the linked accounts' totals:
                // part of the bill, booked on the payer as a service line of its own.
                let currency = c.currency.currency(r)?;
                let amount = c.total.amount_or_zero(r)?;
                let mut payer = c.payer.get(r);
                if !present(payer) {
                    payer = self
                        .linked
                        .payer
                        .as_ref()
                        .map_or(&[][..], |(_, p)| p.as_bytes());
                }
                add_into(
                    self.rounding
                        .entry((payer.to_vec(), currency.to_vec()))
                        .or_default(),
                    amount,
                )
                .map_err(|_| RowError::overflow(c.total.name))?;
                self.rounding_rows += 1;
            }
            b"StatementTotal" => self.linked.skipped.skip(record_type),
            b"EstimatedDisclaimer" => {
                self.linked.estimated = true;
                let description = field(c.description, r);
                if present(description) {
                    self.disclaimer_as_of = disclaimer_time(description);
                }
                self.linked.skipped.skip(record_type);
            }
            other => {
                // Never seen (or a known name in another case): not summed, and named.
                self.linked.skipped.skip(other);
                self.linked.skipped.unknown(other);
            }
        }
        Ok(())
    }

    fn keys(&self) -> usize {
        self.linked.ledger.len() + self.payer_ledger.len()
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind> {
        let mut me = *self;
        let linked_rows = me.linked.rows_summed;
        let mut checks = Vec::new();
        let linked_by_account = me
            .linked
            .ledger
            .per_account()
            .map_err(|_| overflow("an account's total"))?;
        for ((account, currency), expected) in &me.account_totals {
            let actual = linked_by_account
                .get(&(account.clone(), currency.clone()))
                .copied()
                .unwrap_or_default();
            checks.push(Check::new(
                format!("account_total:{account}:{currency}"),
                *expected,
                actual,
            ));
        }
        let payer_by_currency = me
            .payer_ledger
            .per_currency()
            .map_err(|_| overflow("the payer rows' total"))?;
        let tags = me
            .linked
            .tags
            .finish()
            .map_err(|_| overflow("a tag total"))?;
        let use_payer = linked_rows == 0 && me.payer_rows > 0;
        let (mut ledger, mut rows_summed) = if use_payer {
            (me.payer_ledger, me.payer_rows)
        } else {
            me.linked.skipped.skip_many(b"PayerLineItem", me.payer_rows);
            (me.linked.ledger, linked_rows)
        };
        // The rounding line: on the payer, as its own service, so that the grand total is the
        // invoice's. Only beside line items: a file of total rows alone is still empty.
        if rows_summed == 0 {
            me.rounding.clear();
            me.rounding_rows = 0;
        }
        for ((payer, currency), amount) in &me.rounding {
            ledger
                .entry(payer, ROUNDING_CODE, currency)
                .add(Part::Charges, *amount)
                .map_err(|_| overflow("the rounding line"))?;
            if ledger.needs_service_name(ROUNDING_CODE) {
                ledger.set_service_name(ROUNDING_CODE, ROUNDING_NAME, Default::default());
            }
        }
        rows_summed += me.rounding_rows;
        let grand = ledger
            .per_currency()
            .map_err(|_| overflow("a grand total"))?;
        for (currency, expected) in &me.invoice_totals {
            let actual = grand.get(currency).copied().unwrap_or_default();
            checks.push(Check::new(
                format!("invoice_total:{currency}"),
                *expected,
                actual,
            ));
            if !use_payer && me.payer_rows > 0 {
                let actual = payer_by_currency.get(currency).copied().unwrap_or_default();
                checks.push(Check::new(
                    format!("invoice_total_payer_line_items:{currency}"),
                    *expected,
                    actual,
                ));
            }
        }
        Ok(vec![Finished {
            commitments: None,
            budgets: None,
            tags,
            ledger,
            parts: PARTS,
            service_code: same_code,
            payer: me.linked.payer.map(|(_, p)| p),
            period: me.linked.period.period(),
            status: status_of(me.linked.estimated),
            as_of: if me.linked.estimated {
                me.disclaimer_as_of
            } else {
                None
            },
            rows_summed,
            checks,
            skipped: me.linked.skipped.shown(),
            warnings: me
                .linked
                .skipped
                .warnings("RecordType", &|_| "not summed".into()),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disclaimer_time_is_read() {
        let t = disclaimer_time(b"This report reflects your estimated monthly bill for activity through approximately 2014/06/22 06:14:25");
        assert_eq!(t.unwrap().to_string(), "2014-06-22T06:14:25.000Z");
        assert!(disclaimer_time(b"nothing here").is_none());
    }
}
