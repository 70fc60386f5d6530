//! The commitments of a FOCUS 1.x export (`CommitmentDiscountId`, `CommitmentDiscountStatus`,
//! `CommitmentDiscountCategory`; finops-costs.md, "Commitments"), read in the totals' pass when a
//! commitment budget asks.
//!
//! FOCUS states a commitment's use in money: each `Used` row's `EffectiveCost` is commitment
//! used, each `Unused` row's is commitment left unused, so utilization is used ÷ (used + unused)
//! for Savings Plans (`Spend`) and reservations (`Usage`) alike. Coverage counts the `Usage` rows
//! of the families a commitment can cover (by `x_ServiceCode` and `x_UsageType`, AWS's columns):
//! covered when a commitment was `Used` on them, on demand when none was, at `ListCost` (and in
//! `ConsumedQuantity` hours for reservations). FOCUS carries no commitment end dates: an expiry
//! budget says so.

use super::error::RowError;
use super::header::{field, present, Col, Header};
use super::record::Record;
use super::tally::day_of;
use crate::budget::cost::LineType;
use crate::commitment::{CommitmentKind, Commitments, Family, Line};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, Default)]
struct Cols {
    id: Option<Col>,
    status: Option<Col>,
    category: Option<Col>,
    kind_name: Option<Col>,
    charge_category: Option<Col>,
    account: Option<Col>,
    effective: Option<Col>,
    billed: Option<Col>,
    list: Option<Col>,
    quantity: Option<Col>,
    service: Option<Col>,
    usage_type: Option<Col>,
    region: Option<Col>,
    start: Option<Col>,
    end: Option<Col>,
}

/// The commitments of one FOCUS billing period.
#[derive(Debug, Clone, Default)]
pub struct FocusCommitmentRows {
    cols: Cols,
    figures: Commitments,
}

fn text(raw: &[u8]) -> &str {
    std::str::from_utf8(raw).unwrap_or_default()
}

fn amount(col: Option<Col>, r: &Record<'_>) -> Result<Decimal, RowError> {
    col.map_or(Ok(Decimal::ZERO), |c| c.amount_or_zero(r))
}

impl FocusCommitmentRows {
    /// An empty state bound to the same columns (a new billing period's).
    pub fn fork_rows(&self) -> Self {
        Self {
            cols: self.cols,
            figures: Commitments::default(),
        }
    }

    pub fn bind(&mut self, h: &Header) -> Result<(), RowError> {
        self.cols = Cols {
            id: h.optional("CommitmentDiscountId")?,
            status: h.optional("CommitmentDiscountStatus")?,
            category: h.optional("CommitmentDiscountCategory")?,
            kind_name: h.optional("CommitmentDiscountType")?,
            charge_category: h.optional("ChargeCategory")?,
            account: h.optional("SubAccountId")?,
            effective: h.optional("EffectiveCost")?,
            billed: h.optional("BilledCost")?,
            list: h.optional("ListCost")?,
            quantity: h.optional("ConsumedQuantity")?,
            service: h.optional("x_ServiceCode")?,
            usage_type: h.optional("x_UsageType")?,
            region: h.first_of(&["RegionId", "Region"])?,
            start: h.optional("ChargePeriodStart")?,
            end: h.optional("ChargePeriodEnd")?,
        };
        Ok(())
    }

    /// The kind of the row's commitment: `Spend` commitments are Savings Plans, `Usage` ones
    /// reservations (else the type's name says which).
    fn kind(&self, r: &Record<'_>) -> CommitmentKind {
        match field(self.cols.category, r) {
            b"Spend" => CommitmentKind::SavingsPlan,
            b"Usage" => CommitmentKind::Reservation,
            _ if text(field(self.cols.kind_name, r)).contains("Savings") => {
                CommitmentKind::SavingsPlan
            }
            _ => CommitmentKind::Reservation,
        }
    }

    pub fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        let c = self.cols;
        let id = field(c.id, r);
        let charge = field(c.charge_category, r);
        let usage = charge.eq_ignore_ascii_case(b"Usage");
        let status = field(c.status, r);
        let (service, usage_type) = (text(field(c.service, r)), text(field(c.usage_type, r)));
        let family = Family::of(service, usage_type);
        if !present(id) && (!usage || family.is_none()) {
            return Ok(());
        }
        let day = match c.start {
            Some(start) => day_of(start.get(r), field(c.end, r), None) as u32,
            None => 0,
        };
        let account = text(field(c.account, r));
        let kind = present(id).then(|| self.kind(r));
        if let Some(kind) = kind {
            let offering = match kind {
                CommitmentKind::SavingsPlan => text(field(c.kind_name, r)),
                CommitmentKind::Reservation => service,
            };
            let figures = if charge.eq_ignore_ascii_case(b"Purchase") {
                Some((
                    (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
                    amount(c.billed, r)?,
                ))
            } else if status.eq_ignore_ascii_case(b"Used") {
                let e = amount(c.effective, r)?;
                Some(((e, e, Decimal::ZERO), Decimal::ZERO))
            } else if status.eq_ignore_ascii_case(b"Unused") {
                let e = amount(c.effective, r)?;
                Some(((e, Decimal::ZERO, e), Decimal::ZERO))
            } else {
                None
            };
            if let Some((sums, fee)) = figures {
                self.figures
                    .add_commitment(kind, text(id), account, offering, day, sums, fee);
            }
        }
        if !usage || family.is_none() {
            return Ok(());
        }
        let line_type = match (kind, status.eq_ignore_ascii_case(b"Used")) {
            (None, _) => LineType::Usage,
            (Some(CommitmentKind::SavingsPlan), true) => LineType::SavingsPlanCoveredUsage,
            (Some(CommitmentKind::Reservation), true) => LineType::DiscountedUsage,
            (Some(_), false) => return Ok(()),
        };
        self.figures.add(&Line {
            line_type: Some(line_type),
            account,
            product_code: service,
            usage_type,
            region: text(field(c.region, r)),
            usage_amount: amount(c.quantity, r)?,
            on_demand_cost: amount(c.list, r)?,
            day,
            ..Line::default()
        });
        Ok(())
    }

    /// Takes in the figures of other rows of the same period.
    pub fn absorb_rows(&mut self, other: FocusCommitmentRows) {
        self.figures.absorb(other.figures);
    }

    pub fn summary(self) -> crate::commitment::Summary {
        self.figures.finish()
    }
}
