//! The commitments of a CUR (1.0 or 2.0): each line's reservation, Savings Plan and coverage
//! cells ([`crate::commitment::Line`]) read from the columns the header has, summed into
//! [`Commitments`] on every thread. Read in the totals' pass when a commitment budget asks
//! ([`super::cur::Cur::asking_commitments`]), or in a pass of its own for `billwatch commitments`;
//! a pass without commitment budgets reads none of it.

use super::error::{ErrorKind, RowError};
use super::header::{field, Col, Header};
use super::record::Record;
use super::tally::{day_of, Finished, Rows};
use crate::budget::cost::LineType;
use crate::commitment::{Commitments, Family, Line};
use rust_decimal::Decimal;

/// The columns a commitment line is read from (any may be absent: its cells read empty).
#[derive(Debug, Clone, Copy, Default)]
struct Cols {
    line_type: Option<Col>,
    account: Option<Col>,
    product_code: Option<Col>,
    usage_type: Option<Col>,
    region: Option<Col>,
    usage_amount: Option<Col>,
    on_demand_cost: Option<Col>,
    usage_start: Option<Col>,
    usage_end: Option<Col>,
    cost: Option<Col>,
    reservation_arn: Option<Col>,
    ri_total_units: Option<Col>,
    ri_unused_units: Option<Col>,
    ri_total_normalized: Option<Col>,
    ri_unused_normalized: Option<Col>,
    ri_unused_upfront: Option<Col>,
    ri_unused_recurring: Option<Col>,
    ri_start: Option<Col>,
    ri_end: Option<Col>,
    sp_arn: Option<Col>,
    sp_total_commitment: Option<Col>,
    sp_used_commitment: Option<Col>,
    sp_start: Option<Col>,
    sp_end: Option<Col>,
    sp_term: Option<Col>,
    sp_payment_option: Option<Col>,
    sp_offering_type: Option<Col>,
}

/// The row logic of the commitments' pass.
#[derive(Debug, Clone, Default)]
pub struct CommitmentRows {
    cols: Cols,
    figures: Commitments,
    /// A FOCUS export's rows, read by their own columns (`billwatch commitments --report`).
    focus: Option<super::focus_commitments::FocusCommitmentRows>,
}

impl CommitmentRows {
    /// An empty state bound to the same columns (for another thread's rows).
    pub fn fork_rows(&self) -> Self {
        CommitmentRows {
            cols: self.cols,
            figures: Commitments::default(),
            focus: self.focus.as_ref().map(|f| f.fork_rows()),
        }
    }

    /// Takes in a fork's figures.
    pub fn absorb_rows(&mut self, other: CommitmentRows) {
        self.figures.absorb(other.figures);
        if let (Some(mine), Some(theirs)) = (&mut self.focus, other.focus) {
            mine.absorb_rows(theirs);
        }
    }

    /// The figures, once every row was read.
    pub fn summary(self) -> crate::commitment::Summary {
        match self.focus {
            Some(f) => f.summary(),
            None => self.figures.finish(),
        }
    }
}

fn text(raw: &[u8]) -> &str {
    std::str::from_utf8(raw).unwrap_or_default()
}

fn amount(col: Option<Col>, r: &Record<'_>) -> Result<Decimal, RowError> {
    col.map_or(Ok(Decimal::ZERO), |c| c.amount_or_zero(r))
}

impl Rows for CommitmentRows {
    fn bind(&mut self, h: &Header) -> Result<Vec<Col>, RowError> {
        let cur1 = h.has("lineItem/LineItemType");
        if !cur1 && !h.has("line_item_line_item_type") {
            if h.has("BilledCost") && h.has("ChargeCategory") {
                let mut focus = super::focus_commitments::FocusCommitmentRows::default();
                focus.bind(h)?;
                self.focus = Some(focus);
                return Ok(Vec::new());
            }
            return Err(RowError::plain(ErrorKind::Invalid(
                "commitments are read from Cost and Usage Reports (CUR 1.0 or 2.0) and FOCUS exports only"
                    .into(),
            )));
        }
        let col = |one: &'static str, two: &'static str| h.optional(if cur1 { one } else { two });
        let arn = |one: &'static str, two: [&'static str; 2]| {
            if cur1 {
                h.optional(one)
            } else {
                h.first_of(&two)
            }
        };
        self.cols = Cols {
            line_type: col("lineItem/LineItemType", "line_item_line_item_type")?,
            account: col("lineItem/UsageAccountId", "line_item_usage_account_id")?,
            product_code: col("lineItem/ProductCode", "line_item_product_code")?,
            usage_type: col("lineItem/UsageType", "line_item_usage_type")?,
            region: if cur1 {
                h.first_of(&["product/region", "product/regionCode"])?
            } else {
                h.first_of(&["product_region_code", "product_region"])?
            },
            usage_amount: col("lineItem/UsageAmount", "line_item_usage_amount")?,
            on_demand_cost: col(
                "pricing/publicOnDemandCost",
                "pricing_public_on_demand_cost",
            )?,
            usage_start: col("lineItem/UsageStartDate", "line_item_usage_start_date")?,
            usage_end: col("lineItem/UsageEndDate", "line_item_usage_end_date")?,
            cost: col("lineItem/UnblendedCost", "line_item_unblended_cost")?,
            reservation_arn: arn(
                "reservation/ReservationARN",
                [
                    "reservation_reservation_a_r_n",
                    "reservation_reservation_arn",
                ],
            )?,
            ri_total_units: col(
                "reservation/TotalReservedUnits",
                "reservation_total_reserved_units",
            )?,
            ri_unused_units: col("reservation/UnusedQuantity", "reservation_unused_quantity")?,
            ri_total_normalized: col(
                "reservation/TotalReservedNormalizedUnits",
                "reservation_total_reserved_normalized_units",
            )?,
            ri_unused_normalized: col(
                "reservation/UnusedNormalizedUnitQuantity",
                "reservation_unused_normalized_unit_quantity",
            )?,
            ri_unused_upfront: col(
                "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
                "reservation_unused_amortized_upfront_fee_for_billing_period",
            )?,
            ri_unused_recurring: col(
                "reservation/UnusedRecurringFee",
                "reservation_unused_recurring_fee",
            )?,
            ri_start: col("reservation/StartTime", "reservation_start_time")?,
            ri_end: col("reservation/EndTime", "reservation_end_time")?,
            sp_arn: arn(
                "savingsPlan/SavingsPlanARN",
                [
                    "savings_plan_savings_plan_a_r_n",
                    "savings_plan_savings_plan_arn",
                ],
            )?,
            sp_total_commitment: col(
                "savingsPlan/TotalCommitmentToDate",
                "savings_plan_total_commitment_to_date",
            )?,
            sp_used_commitment: col("savingsPlan/UsedCommitment", "savings_plan_used_commitment")?,
            sp_start: col("savingsPlan/StartTime", "savings_plan_start_time")?,
            sp_end: col("savingsPlan/EndTime", "savings_plan_end_time")?,
            sp_term: col("savingsPlan/PurchaseTerm", "savings_plan_purchase_term")?,
            sp_payment_option: col("savingsPlan/PaymentOption", "savings_plan_payment_option")?,
            sp_offering_type: col("savingsPlan/OfferingType", "savings_plan_offering_type")?,
        };
        // The totals' pass already refused a malformed report; the figures read here are
        // checked as they are read (a figure that is not an amount is the row's error).
        Ok(Vec::new())
    }

    fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        if let Some(focus) = &mut self.focus {
            return focus.row(r);
        }
        let c = self.cols;
        let line_type = LineType::of(text(field(c.line_type, r)));
        let (ri, sp) = match line_type {
            LineType::RIFee => (true, false),
            LineType::SavingsPlanRecurringFee => (false, true),
            LineType::Usage | LineType::DiscountedUsage | LineType::SavingsPlanCoveredUsage => {
                (false, false)
            }
            _ => return Ok(()),
        };
        let covered = !ri && !sp;
        let (product_code, usage_type) =
            (text(field(c.product_code, r)), text(field(c.usage_type, r)));
        // Usage no commitment can cover counts nowhere: nothing more of its line is read.
        if covered && Family::of(product_code, usage_type).is_none() {
            return Ok(());
        }
        let day = match c.usage_start {
            Some(start) => day_of(start.get(r), field(c.usage_end, r), None) as u32,
            None => 0,
        };
        // A figure is read (and checked) only on the lines it counts on.
        let read = |on: bool, col: Option<Col>| match on {
            true => amount(col, r),
            false => Ok(Decimal::ZERO),
        };
        let line = Line {
            line_type: Some(line_type),
            region: text(field(c.region, r)),
            account: text(field(c.account, r)),
            product_code,
            usage_type,
            usage_amount: read(covered, c.usage_amount)?,
            on_demand_cost: read(covered, c.on_demand_cost)?,
            day,
            reservation_arn: text(field(c.reservation_arn, r)),
            ri_total_units: read(ri, c.ri_total_units)?,
            ri_unused_units: read(ri, c.ri_unused_units)?,
            ri_total_normalized: read(ri, c.ri_total_normalized)?,
            ri_unused_normalized: read(ri, c.ri_unused_normalized)?,
            ri_unused_upfront: read(ri, c.ri_unused_upfront)?,
            ri_unused_recurring: read(ri, c.ri_unused_recurring)?,
            ri_start: text(field(c.ri_start, r)),
            ri_end: text(field(c.ri_end, r)),
            sp_arn: text(field(c.sp_arn, r)),
            sp_total_commitment: read(sp, c.sp_total_commitment)?,
            sp_used_commitment: read(sp, c.sp_used_commitment)?,
            sp_start: text(field(c.sp_start, r)),
            sp_end: text(field(c.sp_end, r)),
            sp_term: text(field(c.sp_term, r)),
            sp_payment_option: text(field(c.sp_payment_option, r)),
            sp_offering_type: text(field(c.sp_offering_type, r)),
            cost: read(!covered, c.cost)?,
        };
        self.figures.add(&line);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind> {
        Err(ErrorKind::Invalid(
            "the commitments' pass has no summary; take its figures".into(),
        ))
    }

    fn fork(&self) -> Option<Box<dyn Rows>> {
        Some(Box::new(self.fork_rows()))
    }

    fn absorb(&mut self, other: Box<dyn Rows>) -> Result<(), ErrorKind> {
        let other = other
            .into_any()
            .downcast::<CommitmentRows>()
            .map_err(|_| ErrorKind::Invalid("a fork of another pass".into()))?;
        self.absorb_rows(*other);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

#[cfg(test)]
#[path = "commitment_rows_tests.rs"]
mod tests;
