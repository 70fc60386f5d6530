//! What one line of a billing report costs under each cost type a budget may ask for, and which
//! charge kind it is (the kinds a budget may leave out). Pure: the engine hands it a line's
//! figures by meaning; each format's column names are in [`Field::column`].
//!
//! The rules (AWS's CUR data dictionary; the amortized rule is the one AWS's Cloud Intelligence
//! Dashboards use):
//!
//! * **unblended**: `UnblendedCost` (FOCUS: `BilledCost`), what is invoiced.
//! * **blended**: `BlendedCost`; FOCUS has none.
//! * **net unblended**: `NetUnblendedCost`, which the report carries only when the account has
//!   discounts (without the column, net is gross); FOCUS has none.
//! * **amortized**: Savings Plans covered usage at `SavingsPlanEffectiveCost`, the recurring fee
//!   at its unused commitment (`TotalCommitmentToDate` − `UsedCommitment`), negation and upfront
//!   fee at 0; RI discounted usage at `reservation/EffectiveCost`, `RIFee` at its unused
//!   amortized upfront plus unused recurring fee, an RI upfront `Fee` at 0; any other line at
//!   its unblended cost. FOCUS: `EffectiveCost`.
//! * **net amortized**: the same with the net columns (a net column the report lacks reads as
//!   its gross one); the Savings Plan recurring fee's unused commitment scaled by the plan's net
//!   to gross ratio; discount lines at 0 (the net columns hold the discounts already). FOCUS:
//!   `EffectiveCost` (AWS's export applies the discounts there).
//!
//! This is step one of budgets on cost types (issue 20): the engine does not call it yet.

use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// The cost type of a budget (`cost = "…"` in the budgets file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum CostType {
    #[default]
    Unblended,
    Blended,
    NetUnblended,
    Amortized,
    NetAmortized,
}

impl CostType {
    pub const ALL: [CostType; 5] = [
        CostType::Unblended,
        CostType::Blended,
        CostType::NetUnblended,
        CostType::Amortized,
        CostType::NetAmortized,
    ];

    /// The name in the budgets file and in messages.
    pub fn name(self) -> &'static str {
        match self {
            CostType::Unblended => "unblended",
            CostType::Blended => "blended",
            CostType::NetUnblended => "net_unblended",
            CostType::Amortized => "amortized",
            CostType::NetAmortized => "net_amortized",
        }
    }
}

impl fmt::Display for CostType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CostType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        super::by_name("cost type", s, &CostType::ALL.map(|t| (t.name(), t)))
    }
}

/// What kind of charge a line is. A budget may leave out every kind but `Usage` and `Other`
/// (`exclude = [...]`, see [`ChargeKind::EXCLUDABLE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChargeKind {
    /// Usage, covered or not, and anything not listed below.
    Usage,
    Credit,
    Refund,
    Tax,
    /// A support plan's charges (by product code).
    Support,
    /// Upfront commitment fees: an RI upfront `Fee`, `SavingsPlanUpfrontFee`.
    Upfront,
    /// Recurring commitment fees: `RIFee`, `SavingsPlanRecurringFee`.
    Recurring,
    /// Enterprise, private-rate, bundled, volume and distributor discounts.
    Discount,
    /// Other one-time fees (a `Fee` without a reservation: domain names, marketplace, …).
    Other,
}

impl ChargeKind {
    /// The name of the kinds a budget may leave out, as `exclude = [...]` spells it.
    pub const EXCLUDABLE: [(&'static str, ChargeKind); 7] = [
        ("credits", ChargeKind::Credit),
        ("refunds", ChargeKind::Refund),
        ("tax", ChargeKind::Tax),
        ("support", ChargeKind::Support),
        ("upfront", ChargeKind::Upfront),
        ("recurring", ChargeKind::Recurring),
        ("discounts", ChargeKind::Discount),
    ];

    /// The kind `exclude = [name]` leaves out.
    pub fn excludable(name: &str) -> Result<ChargeKind, String> {
        super::by_name("charge kind to exclude", name, &Self::EXCLUDABLE)
    }

    /// The kind of a CUR line (1.0 or 2.0): its line item type, product code and reservation.
    pub fn of_cur(line_item_type: &str, product_code: &str, reservation_arn: &str) -> ChargeKind {
        Self::of_line(LineType::of(line_item_type), product_code, reservation_arn)
    }

    /// [`Self::of_cur`] of a line whose type is read already.
    pub fn of_line(t: LineType, product_code: &str, reservation_arn: &str) -> ChargeKind {
        let taxes = matches!(t, LineType::Credit | LineType::Refund | LineType::Tax);
        if !taxes && is_support(product_code) {
            return ChargeKind::Support;
        }
        match t {
            LineType::Credit => ChargeKind::Credit,
            LineType::Refund => ChargeKind::Refund,
            LineType::Tax => ChargeKind::Tax,
            LineType::SavingsPlanUpfrontFee => ChargeKind::Upfront,
            LineType::Fee if !reservation_arn.is_empty() => ChargeKind::Upfront,
            LineType::Fee => ChargeKind::Other,
            LineType::RIFee | LineType::SavingsPlanRecurringFee => ChargeKind::Recurring,
            LineType::Discount => ChargeKind::Discount,
            _ => ChargeKind::Usage,
        }
    }

    /// The kind of a FOCUS line: its `ChargeCategory`, `ChargeClass`, `ChargeFrequency`, its
    /// `ServiceName` and its billed cost (a correction that lowers the bill is a refund).
    pub fn of_focus(
        category: &str,
        class: &str,
        frequency: &str,
        service_name: &str,
        billed: Decimal,
    ) -> ChargeKind {
        match category {
            "Tax" => ChargeKind::Tax,
            "Credit" => ChargeKind::Credit,
            _ if class == "Correction" && billed < Decimal::ZERO => ChargeKind::Refund,
            _ if service_name.contains("Support") => ChargeKind::Support,
            "Purchase" if frequency == "One-Time" => ChargeKind::Upfront,
            "Purchase" if frequency == "Recurring" => ChargeKind::Recurring,
            _ => ChargeKind::Usage,
        }
    }
}

/// A CUR line item type, read once per line (the cost rules and the charge kinds match on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineType {
    Usage,
    DiscountedUsage,
    SavingsPlanCoveredUsage,
    SavingsPlanNegation,
    SavingsPlanRecurringFee,
    SavingsPlanUpfrontFee,
    RIFee,
    Fee,
    Credit,
    Refund,
    Tax,
    /// `EdpDiscount`, `PrivateRateDiscount`, `BundledDiscount`, `RiVolumeDiscount`,
    /// `DistributorDiscount`.
    Discount,
    /// Any other type (new ones appear): its cost is its unblended cost.
    Other,
}

impl LineType {
    pub fn of(line_item_type: &str) -> LineType {
        match line_item_type {
            "Usage" => LineType::Usage,
            "DiscountedUsage" => LineType::DiscountedUsage,
            "SavingsPlanCoveredUsage" => LineType::SavingsPlanCoveredUsage,
            "SavingsPlanNegation" => LineType::SavingsPlanNegation,
            "SavingsPlanRecurringFee" => LineType::SavingsPlanRecurringFee,
            "SavingsPlanUpfrontFee" => LineType::SavingsPlanUpfrontFee,
            "RIFee" => LineType::RIFee,
            "Fee" => LineType::Fee,
            "Credit" => LineType::Credit,
            "Refund" => LineType::Refund,
            "Tax" => LineType::Tax,
            t if is_discount(t) => LineType::Discount,
            _ => LineType::Other,
        }
    }

    /// Usage a usage budget counts (covered or not).
    pub fn is_usage(self) -> bool {
        matches!(
            self,
            LineType::Usage | LineType::DiscountedUsage | LineType::SavingsPlanCoveredUsage
        )
    }
}

/// Support plans' product codes.
fn is_support(product_code: &str) -> bool {
    product_code.starts_with("AWSSupport")
        || matches!(product_code, "OCBPremiumSupport" | "AWSDeveloperSupport")
}

/// Discount line item types.
fn is_discount(line_item_type: &str) -> bool {
    matches!(
        line_item_type,
        "EdpDiscount"
            | "PrivateRateDiscount"
            | "BundledDiscount"
            | "RiVolumeDiscount"
            | "DistributorDiscount"
    )
}

/// A figure of a CUR line that a cost type may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Unblended,
    Blended,
    NetUnblended,
    SpEffective,
    NetSpEffective,
    SpTotalCommitmentToDate,
    SpUsedCommitment,
    SpRecurringCommitment,
    NetSpRecurringCommitment,
    SpAmortizedUpfrontCommitment,
    NetSpAmortizedUpfrontCommitment,
    RiEffective,
    NetRiEffective,
    RiUnusedAmortizedUpfront,
    NetRiUnusedAmortizedUpfront,
    RiUnusedRecurring,
    NetRiUnusedRecurring,
}

impl Field {
    pub const ALL: [Field; 17] = [
        Field::Unblended,
        Field::Blended,
        Field::NetUnblended,
        Field::SpEffective,
        Field::NetSpEffective,
        Field::SpTotalCommitmentToDate,
        Field::SpUsedCommitment,
        Field::SpRecurringCommitment,
        Field::NetSpRecurringCommitment,
        Field::SpAmortizedUpfrontCommitment,
        Field::NetSpAmortizedUpfrontCommitment,
        Field::RiEffective,
        Field::NetRiEffective,
        Field::RiUnusedAmortizedUpfront,
        Field::NetRiUnusedAmortizedUpfront,
        Field::RiUnusedRecurring,
        Field::NetRiUnusedRecurring,
    ];

    /// Its column in CUR 1.0 and in CUR 2.0.
    pub fn column(self) -> (&'static str, &'static str) {
        match self {
            Field::Unblended => ("lineItem/UnblendedCost", "line_item_unblended_cost"),
            Field::Blended => ("lineItem/BlendedCost", "line_item_blended_cost"),
            Field::NetUnblended => ("lineItem/NetUnblendedCost", "line_item_net_unblended_cost"),
            Field::SpEffective => (
                "savingsPlan/SavingsPlanEffectiveCost",
                "savings_plan_savings_plan_effective_cost",
            ),
            Field::NetSpEffective => (
                "savingsPlan/NetSavingsPlanEffectiveCost",
                "savings_plan_net_savings_plan_effective_cost",
            ),
            Field::SpTotalCommitmentToDate => (
                "savingsPlan/TotalCommitmentToDate",
                "savings_plan_total_commitment_to_date",
            ),
            Field::SpUsedCommitment => {
                ("savingsPlan/UsedCommitment", "savings_plan_used_commitment")
            }
            Field::SpRecurringCommitment => (
                "savingsPlan/RecurringCommitmentForBillingPeriod",
                "savings_plan_recurring_commitment_for_billing_period",
            ),
            Field::NetSpRecurringCommitment => (
                "savingsPlan/NetRecurringCommitmentForBillingPeriod",
                "savings_plan_net_recurring_commitment_for_billing_period",
            ),
            Field::SpAmortizedUpfrontCommitment => (
                "savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod",
                "savings_plan_amortized_upfront_commitment_for_billing_period",
            ),
            Field::NetSpAmortizedUpfrontCommitment => (
                "savingsPlan/NetAmortizedUpfrontCommitmentForBillingPeriod",
                "savings_plan_net_amortized_upfront_commitment_for_billing_period",
            ),
            Field::RiEffective => ("reservation/EffectiveCost", "reservation_effective_cost"),
            Field::NetRiEffective => (
                "reservation/NetEffectiveCost",
                "reservation_net_effective_cost",
            ),
            Field::RiUnusedAmortizedUpfront => (
                "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
                "reservation_unused_amortized_upfront_fee_for_billing_period",
            ),
            Field::NetRiUnusedAmortizedUpfront => (
                "reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod",
                "reservation_net_unused_amortized_upfront_fee_for_billing_period",
            ),
            Field::RiUnusedRecurring => (
                "reservation/UnusedRecurringFee",
                "reservation_unused_recurring_fee",
            ),
            Field::NetRiUnusedRecurring => (
                "reservation/NetUnusedRecurringFee",
                "reservation_net_unused_recurring_fee",
            ),
        }
    }

    /// The gross figure a net one stands for when the report has no net column.
    fn gross(self) -> Option<Field> {
        Some(match self {
            Field::NetUnblended => Field::Unblended,
            Field::NetSpEffective => Field::SpEffective,
            Field::NetSpRecurringCommitment => Field::SpRecurringCommitment,
            Field::NetSpAmortizedUpfrontCommitment => Field::SpAmortizedUpfrontCommitment,
            Field::NetRiEffective => Field::RiEffective,
            Field::NetRiUnusedAmortizedUpfront => Field::RiUnusedAmortizedUpfront,
            Field::NetRiUnusedRecurring => Field::RiUnusedRecurring,
            _ => return None,
        })
    }
}

/// A figure the cost type needs and the report does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub cost: CostType,
    pub field: Field,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cur1, cur2) = self.field.column();
        write!(
            f,
            "{} cost needs the column {cur1} (CUR 2.0: {cur2}), which the report does not have",
            self.cost
        )
    }
}

/// One CUR line (1.0 or 2.0) as a cost type reads it: its type, reservation, Savings Plan
/// payment option, and the figures of the columns the report has (a column the report has
/// and this line leaves empty is a zero).
pub trait CurLine {
    fn line_item_type(&self) -> &str;
    /// The line item type, read (a line may keep it once read).
    fn line_type(&self) -> LineType {
        LineType::of(self.line_item_type())
    }
    /// `lineItem/ProductCode` (support plans are a charge kind of their own).
    fn product_code(&self) -> &str;
    fn reservation_arn(&self) -> &str;
    /// `savingsPlan/PaymentOption`: `All Upfront`, `Partial Upfront`, `No Upfront`.
    fn payment_option(&self) -> &str;
    /// The figure, or `None` when the report has no such column.
    fn figure(&self, field: Field) -> Option<Decimal>;
}

/// What `line` costs under `cost`, or the figure it needs and the report lacks.
pub fn cur_cost(line: &impl CurLine, cost: CostType) -> Result<Decimal, Missing> {
    let get = |field: Field| -> Result<Decimal, Missing> {
        line.figure(field)
            .or_else(|| field.gross().and_then(|g| line.figure(g)))
            .ok_or(Missing { cost, field })
    };
    let net = cost == CostType::NetAmortized;
    let pick = |gross: Field, net_field: Field| if net { net_field } else { gross };
    match cost {
        CostType::Unblended => get(Field::Unblended),
        CostType::Blended => get(Field::Blended),
        CostType::NetUnblended => get(Field::NetUnblended),
        CostType::Amortized | CostType::NetAmortized => match line.line_type() {
            LineType::SavingsPlanCoveredUsage => {
                get(pick(Field::SpEffective, Field::NetSpEffective))
            }
            LineType::SavingsPlanRecurringFee => {
                let unused = get(Field::SpTotalCommitmentToDate)? - get(Field::SpUsedCommitment)?;
                if !net {
                    return Ok(unused);
                }
                let (gross_field, net_field) = if line.payment_option() == "All Upfront" {
                    (
                        Field::SpAmortizedUpfrontCommitment,
                        Field::NetSpAmortizedUpfrontCommitment,
                    )
                } else {
                    (
                        Field::SpRecurringCommitment,
                        Field::NetSpRecurringCommitment,
                    )
                };
                if line.figure(net_field).is_none() {
                    // Without the net column, net equals gross.
                    return Ok(unused);
                }
                let gross = get(gross_field)?;
                if gross.is_zero() {
                    return Ok(unused);
                }
                let ratio = get(net_field)?.checked_div(gross).unwrap_or(Decimal::ONE);
                Ok(unused * ratio)
            }
            LineType::SavingsPlanNegation | LineType::SavingsPlanUpfrontFee => Ok(Decimal::ZERO),
            LineType::DiscountedUsage => get(pick(Field::RiEffective, Field::NetRiEffective)),
            LineType::RIFee => {
                Ok(get(pick(
                    Field::RiUnusedAmortizedUpfront,
                    Field::NetRiUnusedAmortizedUpfront,
                ))? + get(pick(Field::RiUnusedRecurring, Field::NetRiUnusedRecurring))?)
            }
            LineType::Fee if !line.reservation_arn().is_empty() => Ok(Decimal::ZERO),
            LineType::Discount if net => Ok(Decimal::ZERO),
            _ => get(pick(Field::Unblended, Field::NetUnblended)),
        },
    }
}

/// What a budget sums per line: its cost type, less the charge kinds it leaves out
/// (`cost = "…"`, `exclude = [...]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measure {
    pub cost: CostType,
    pub exclude: std::collections::BTreeSet<ChargeKind>,
}

impl Measure {
    /// The charge kinds it leaves out, as the budgets file names them (`credits`, `tax`, …).
    pub fn exclude_names(&self) -> Vec<&'static str> {
        self.exclude
            .iter()
            .filter_map(|k| {
                ChargeKind::EXCLUDABLE
                    .iter()
                    .find(|(_, kind)| kind == k)
                    .map(|(name, _)| *name)
            })
            .collect()
    }

    /// What `line` adds to the budget: 0 for a kind it leaves out (whatever the report has),
    /// else its cost.
    pub fn of_cur(&self, line: &impl CurLine) -> Result<Decimal, Missing> {
        let kind = ChargeKind::of_line(
            line.line_type(),
            line.product_code(),
            line.reservation_arn(),
        );
        if self.exclude.contains(&kind) {
            return Ok(Decimal::ZERO);
        }
        cur_cost(line, self.cost)
    }
}

/// What a FOCUS line costs under `cost` (`BilledCost`, `EffectiveCost`), or why FOCUS cannot
/// answer it (it has no blended or net unblended cost).
pub fn focus_cost(billed: Decimal, effective: Decimal, cost: CostType) -> Result<Decimal, String> {
    match cost {
        CostType::Unblended => Ok(billed),
        CostType::Amortized | CostType::NetAmortized => Ok(effective),
        CostType::Blended | CostType::NetUnblended => Err(format!(
            "{cost} cost: FOCUS has no such column (it has billed and effective cost: ask for unblended or amortized)"
        )),
    }
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
