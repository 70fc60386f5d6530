//! FOCUS 1.x exports: `BilledCost` summed over every row, keyed by `SubAccountId`, the AWS
//! extension `x_ServiceCode` (else `ServiceName`) and `BillingCurrency`.
//!
//! Daily usage: every `charges` row (ChargeCategory Usage, or unknown) is also booked on the day
//! of its `ChargePeriodStart` ([`day_of`]).

use super::error::RowError;
use super::header::{field, present, Col, Header};
use super::tally::{day_of, same_code, status_of, Finished, Latest, Rows, Tally};
use crate::ledger::Part;
use csv::ByteRecord;

const PARTS: &[Part] = &[
    Part::Charges,
    Part::Fees,
    Part::Credits,
    Part::Adjustments,
    Part::Tax,
];

struct Cols {
    cost: Col,
    account: Col,
    billing_account: Option<Col>,
    service_code: Option<Col>,
    service_name: Col,
    currency: Col,
    category: Option<Col>,
    period_start: Option<Col>,
    charge_start: Option<Col>,
    charge_end: Option<Col>,
    invoice: Option<Col>,
}

#[derive(Default)]
pub struct Focus {
    cols: Option<Cols>,
    tally: Tally,
    /// The latest end of any usage row, for reports without one-day rows.
    latest_any: Latest,
}

fn part_of(category: &[u8]) -> (Part, bool) {
    if category.eq_ignore_ascii_case(b"Usage") {
        (Part::Charges, true)
    } else if category.eq_ignore_ascii_case(b"Purchase") {
        (Part::Fees, false)
    } else if category.eq_ignore_ascii_case(b"Tax") {
        (Part::Tax, false)
    } else if category.eq_ignore_ascii_case(b"Credit") {
        (Part::Credits, false)
    } else if category.eq_ignore_ascii_case(b"Adjustment") {
        (Part::Adjustments, false)
    } else {
        (Part::Charges, false)
    }
}

impl Rows for Focus {
    fn bind(&mut self, h: &Header) -> Result<(), RowError> {
        self.cols = Some(Cols {
            cost: h.required("BilledCost")?,
            account: h.required("SubAccountId")?,
            billing_account: h.optional("BillingAccountId"),
            service_code: h.optional("x_ServiceCode"),
            service_name: h.required("ServiceName")?,
            currency: h.required("BillingCurrency")?,
            category: h.optional("ChargeCategory"),
            period_start: h.optional("BillingPeriodStart"),
            charge_start: h.optional("ChargePeriodStart"),
            charge_end: h.optional("ChargePeriodEnd"),
            invoice: h.optional("InvoiceId"),
        });
        Ok(())
    }

    fn row(&mut self, r: &ByteRecord) -> Result<(), RowError> {
        let c = self.cols.as_ref().expect("bind runs before rows");
        let t = &mut self.tally;
        let cost = c.cost.amount(r)?;
        let (part, usage) = part_of(field(c.category, r));
        let mut account = c.account.get(r);
        if !present(account) {
            account = field(c.billing_account, r);
        }
        let name = c.service_name.get(r);
        let code = match field(c.service_code, r) {
            code if present(code) => code,
            _ => name,
        };
        if let Some(col) = c.period_start {
            t.period.see(col, r)?;
        }
        let currency = c.currency.get(r);
        let mut one_day = c.charge_start.is_none();
        match c.charge_start {
            Some(start) if part == Part::Charges => {
                let day = day_of(start.get(r), field(c.charge_end, r), t.period.year_month());
                one_day = day != 0;
                t.ledger
                    .add_on_day(account, code, currency, part, cost, day);
            }
            _ => t.ledger.entry(account, code, currency).add(part, cost),
        }
        t.rows_summed += 1;
        if t.ledger.needs_service_name(code) {
            t.ledger.set_service_name(code, name);
        }
        t.see_payer(field(c.billing_account, r));
        if c.invoice.is_none_or(|col| !present(col.get(r))) {
            t.estimated = true;
        }
        if usage {
            // "As of" is how far daily (or hourly) usage runs; a month-long usage line (a
            // subscription) says nothing about it, so it only counts when nothing else does.
            if one_day {
                t.latest.see(field(c.charge_end, r));
            }
            self.latest_any.see(field(c.charge_end, r));
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Finished {
        let t = self.tally;
        Finished {
            tags: Vec::new(),
            ledger: t.ledger,
            parts: PARTS,
            service_code: same_code,
            payer: t.payer,
            period: t.period.period(),
            status: status_of(t.estimated),
            as_of: t.latest.get().or_else(|| self.latest_any.get()),
            rows_summed: t.rows_summed,
            checks: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_categories_map_to_parts_case_insensitively() {
        assert_eq!(part_of(b"usage"), (Part::Charges, true));
        assert_eq!(part_of(b"Purchase"), (Part::Fees, false));
        assert_eq!(part_of(b"TAX"), (Part::Tax, false));
        assert_eq!(part_of(b"Credit"), (Part::Credits, false));
        assert_eq!(part_of(b"Adjustment"), (Part::Adjustments, false));
    }
}
