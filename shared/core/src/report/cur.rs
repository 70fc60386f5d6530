//! Cost and Usage Reports, CUR 1.0 (`lineItem/UnblendedCost`) and CUR 2.0 / Data Exports
//! (`line_item_unblended_cost`): every row is summed; the line item type picks the part.
//!
//! Daily usage: every row whose part is `charges` or `discounts` (Usage, DiscountedUsage,
//! SavingsPlanCoveredUsage, SavingsPlanNegation, unknown types, `*Discount`: the amounts that
//! scale with usage) is also booked on the day of its usage start ([`day_of`]), so the daily
//! series of a key adds up to its charges + discounts, day 0 included.

use super::budget_rows::Flavor;
use super::commitment_rows::CommitmentRows;
use super::error::{ErrorKind, RowError};
use super::header::{field, present, Col, Header};
use super::record::{Pos, Record};
use super::tally::{overflow, strict, Finished, Latest, Rows, Tally};
use crate::budget::spec::Specs;
use crate::ledger::Part;

/// Every part but adjustments (CUR has no such line type).
const PARTS: &[Part] = Part::ALL.split_at(6).0;

/// The column names of one CUR generation.
pub struct Names {
    payer: &'static str,
    account: &'static str,
    item_type: &'static str,
    product_code: &'static str,
    cost: &'static str,
    currency: &'static str,
    invoice: &'static str,
    period_start: &'static str,
    usage_start: &'static str,
    usage_end: &'static str,
    product_name: &'static str,
    /// CUR 2.0's `product` map column, holding `product_name`.
    product_map: Option<&'static str>,
}

pub const CUR1: Names = Names {
    payer: "bill/PayerAccountId",
    account: "lineItem/UsageAccountId",
    item_type: "lineItem/LineItemType",
    product_code: "lineItem/ProductCode",
    cost: "lineItem/UnblendedCost",
    currency: "lineItem/CurrencyCode",
    invoice: "bill/InvoiceId",
    period_start: "bill/BillingPeriodStartDate",
    usage_start: "lineItem/UsageStartDate",
    usage_end: "lineItem/UsageEndDate",
    product_name: "product/ProductName",
    product_map: None,
};

pub const CUR2: Names = Names {
    payer: "bill_payer_account_id",
    account: "line_item_usage_account_id",
    item_type: "line_item_line_item_type",
    product_code: "line_item_product_code",
    cost: "line_item_unblended_cost",
    currency: "line_item_currency_code",
    invoice: "bill_invoice_id",
    period_start: "bill_billing_period_start_date",
    usage_start: "line_item_usage_start_date",
    usage_end: "line_item_usage_end_date",
    product_name: "product_product_name",
    product_map: Some("product"),
};

#[derive(Clone, Copy)]
struct Cols {
    payer: Option<Col>,
    account: Col,
    item_type: Option<Col>,
    product_code: Col,
    cost: Col,
    currency: Col,
    invoice: Option<Col>,
    period_start: Option<Col>,
    usage_start: Option<Col>,
    usage_end: Option<Col>,
    product_name: Option<Col>,
    product_map: Option<Col>,
}

pub struct Cur {
    names: &'static Names,
    cols: Option<Cols>,
    tally: Tally,
    /// The latest end of any usage row, for reports without one-day rows.
    latest_any: Latest,
    /// The commitments' figures, read in the same pass when a commitment budget asks.
    commitments: Option<CommitmentRows>,
}

impl Cur {
    pub fn new(names: &'static Names, specs: &Specs) -> Self {
        Self {
            names,
            cols: None,
            tally: Tally::with_budgets(specs),
            latest_any: Latest::default(),
            commitments: None,
        }
    }

    /// This reader, also reading the commitments when `asked`.
    pub fn asking_commitments(mut self, asked: bool) -> Self {
        self.commitments = asked.then(CommitmentRows::default);
        self
    }
}

/// The part a line item type belongs to; the first flag says whether it is usage (for "as of"),
/// the second whether the type is one AWS documents (an unknown type is still summed, as every
/// row of a CUR is, and named in a warning).
pub fn part_of(item_type: &[u8]) -> (Part, bool, bool) {
    match item_type {
        b"Usage" | b"DiscountedUsage" | b"SavingsPlanCoveredUsage" => (Part::Charges, true, true),
        b"SavingsPlanNegation" => (Part::Charges, false, true),
        b"Fee" | b"RIFee" | b"SavingsPlanRecurringFee" | b"SavingsPlanUpfrontFee" => {
            (Part::Fees, false, true)
        }
        b"Credit" => (Part::Credits, false, true),
        b"Refund" => (Part::Refunds, false, true),
        b"Tax" => (Part::Tax, false, true),
        b"EdpDiscount"
        | b"RiVolumeDiscount"
        | b"PrivateRateDiscount"
        | b"BundledDiscount"
        | b"Discount"
        | b"SppDiscount"
        | b"DistributorDiscount" => (Part::Discounts, false, true),
        t if t.ends_with(b"Discount") => (Part::Discounts, false, false),
        _ => (Part::Charges, false, false),
    }
}

/// `product_name` out of a serialised map cell (`{"product_name":"…",…}`).
fn name_from_map(cell: &[u8]) -> Option<String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(cell).ok()?;
    map.get("product_name")?.as_str().map(str::to_string)
}

impl Rows for Cur {
    fn bind(&mut self, h: &Header) -> Result<Vec<Col>, RowError> {
        self.tally.tags.bind(h);
        let flavor = if self.names.product_map.is_some() {
            Flavor::Cur2
        } else {
            Flavor::Cur1
        };
        self.tally.budgets.bind(h, flavor)?;
        if let Some(c) = &mut self.commitments {
            c.bind(h)?;
        }
        let n = self.names;
        let cols = Cols {
            payer: h.optional(n.payer)?,
            account: h.required(n.account)?,
            item_type: h.optional(n.item_type)?,
            product_code: h.required(n.product_code)?,
            cost: h.required(n.cost)?,
            currency: h.required(n.currency)?,
            invoice: h.optional(n.invoice)?,
            period_start: h.optional(n.period_start)?,
            usage_start: h.optional(n.usage_start)?,
            usage_end: h.optional(n.usage_end)?,
            product_name: h.optional(n.product_name)?,
            product_map: match n.product_map {
                Some(m) => h.optional(m)?,
                None => None,
            },
        };
        let keys = strict(&[
            cols.payer,
            Some(cols.account),
            cols.item_type,
            Some(cols.product_code),
            Some(cols.cost),
            Some(cols.currency),
            cols.invoice,
            cols.period_start,
            cols.usage_start,
            cols.usage_end,
        ]);
        self.cols = Some(cols);
        Ok(keys)
    }

    fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        let c = self.cols.as_ref().expect("bind runs before rows");
        let t = &mut self.tally;
        let cost = c.cost.amount(r)?;
        let (part, usage, known) = part_of(field(c.item_type, r));
        if !known && c.item_type.is_some() {
            t.skipped.unknown(field(c.item_type, r));
        }
        let year_month = match c.period_start {
            Some(col) => t.period.see(col, r)?,
            None => None,
        };
        let code = c.product_code.get(r);
        let (account, currency) = (c.account.get(r), c.currency.currency(r)?);
        let span = c
            .usage_start
            .filter(|_| matches!(part, Part::Charges | Part::Discounts))
            .map(|start| (start.get(r), field(c.usage_end, r)));
        let key = (account, code, currency);
        let booked = t.book(key, part, cost, span, year_month, c.cost.name)?;
        t.budgets.row(r, cost, currency, booked)?;
        let one_day = booked.map_or(c.usage_start.is_none(), |day| day != 0);
        t.tags
            .add(r, currency, cost)
            .map_err(|_| RowError::overflow(c.cost.name))?;
        t.rows_summed += 1;
        if t.ledger.needs_service_name(code) {
            let name = field(c.product_name, r);
            if present(name) {
                t.ledger.set_service_name(code, name, r.pos());
            } else if let Some(n) = c.product_map.and_then(|m| name_from_map(m.get(r))) {
                t.ledger.set_service_name(code, n.as_bytes(), r.pos());
            }
        }
        if let Some(payer) = c.payer {
            t.see_payer(payer.get(r), r.pos());
        }
        if c.invoice.is_none_or(|col| !present(col.get(r))) {
            t.estimated = true;
        }
        if usage {
            t.see_usage_end(field(c.usage_end, r), one_day, &mut self.latest_any);
        }
        if let Some(commitments) = &mut self.commitments {
            commitments.row(r)?;
        }
        Ok(())
    }

    fn fork(&self) -> Option<Box<dyn Rows>> {
        Some(Box::new(Cur {
            names: self.names,
            cols: self.cols,
            tally: self.tally.fork(),
            latest_any: Latest::default(),
            commitments: self.commitments.as_ref().map(CommitmentRows::fork_rows),
        }))
    }

    fn absorb(&mut self, other: Box<dyn Rows>) -> Result<(), ErrorKind> {
        let other = other
            .into_any()
            .downcast::<Cur>()
            .map_err(|_| ErrorKind::Invalid("parts of different formats".into()))?;
        self.tally.absorb(other.tally, self.names.period_start)?;
        self.latest_any.absorb(other.latest_any);
        if let (Some(mine), Some(theirs)) = (&mut self.commitments, other.commitments) {
            mine.absorb_rows(theirs);
        }
        Ok(())
    }

    fn keys(&self) -> usize {
        self.tally.ledger.len()
    }

    fn conflict(&self) -> Option<(Pos, RowError)> {
        self.tally.period.conflict()
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind> {
        let mut t = self.tally;
        let tags = std::mem::take(&mut t.tags)
            .finish()
            .map_err(|_| overflow("a tag total"))?;
        let mut finished = t.finish_usage(
            tags,
            PARTS,
            &self.latest_any,
            self.names.item_type,
            &|kind| format!("summed as {}", part_of(kind).0.name()),
        )?;
        finished.commitments = self.commitments.map(CommitmentRows::summary);
        Ok(vec![finished])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_item_types_map_to_parts() {
        assert_eq!(part_of(b"Usage"), (Part::Charges, true, true));
        assert_eq!(
            part_of(b"SavingsPlanNegation"),
            (Part::Charges, false, true)
        );
        assert_eq!(part_of(b"RIFee"), (Part::Fees, false, true));
        assert_eq!(part_of(b"EdpDiscount"), (Part::Discounts, false, true));
        assert_eq!(part_of(b"Credit"), (Part::Credits, false, true));
        assert_eq!(part_of(b"Refund"), (Part::Refunds, false, true));
        assert_eq!(part_of(b"Tax"), (Part::Tax, false, true));
        // Unknown, or known in another case: summed, and flagged for a warning.
        assert_eq!(part_of(b"SomethingNew"), (Part::Charges, false, false));
        assert_eq!(part_of(b"usage"), (Part::Charges, false, false));
        assert_eq!(part_of(b"NewDiscount"), (Part::Discounts, false, false));
    }

    #[test]
    fn product_name_comes_out_of_the_map_cell() {
        assert_eq!(
            name_from_map(
                br#"{"product_name":"Amazon Simple Storage Service","region":"us-east-1"}"#
            ),
            Some("Amazon Simple Storage Service".into())
        );
        assert_eq!(name_from_map(b"product_name=S3"), None);
    }
}
