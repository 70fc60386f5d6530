//! Commitment figures summed line by line: utilization, unused cost, coverage, dates.

use crate::budget::cost::LineType;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// The cells of one CUR line that commitments read (absent columns read as empty or zero).
#[derive(Debug, Clone, Default)]
pub struct Line<'a> {
    pub line_type: Option<LineType>,
    pub account: &'a str,
    pub product_code: &'a str,
    pub usage_type: &'a str,
    pub usage_amount: Decimal,
    /// `pricing/publicOnDemandCost`: what the usage would cost on demand.
    pub on_demand_cost: Decimal,
    /// Day of the month the line's usage starts on (0: none known).
    pub day: u32,
    pub reservation_arn: &'a str,
    pub ri_total_units: Decimal,
    pub ri_unused_units: Decimal,
    pub ri_total_normalized: Decimal,
    pub ri_unused_normalized: Decimal,
    pub ri_unused_upfront: Decimal,
    pub ri_unused_recurring: Decimal,
    pub ri_start: &'a str,
    pub ri_end: &'a str,
    pub sp_arn: &'a str,
    pub sp_total_commitment: Decimal,
    pub sp_used_commitment: Decimal,
    pub sp_start: &'a str,
    pub sp_end: &'a str,
    pub sp_term: &'a str,
    pub sp_payment_option: &'a str,
    pub sp_offering_type: &'a str,
    /// What the line's fee commits for the billing period (its cost as billed).
    pub cost: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    SavingsPlan,
    Reservation,
}

/// One commitment's figures over the lines seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commitment {
    pub id: String,
    pub kind: CommitmentKind,
    /// The account that owns the commitment (the fee lines' usage account).
    pub account: String,
    /// Savings Plans: `ComputeSavingsPlans`, `EC2InstanceSavingsPlans`, …; reservations: the
    /// service (product code).
    pub offering: String,
    /// Savings Plans only: `1yr`, `3yr`.
    pub term: String,
    pub payment_option: String,
    pub start: String,
    pub end: String,
    /// Savings Plans: commitment to date (money); reservations: reserved units (hours or
    /// normalized units).
    pub committed: Decimal,
    /// Savings Plans: commitment used; reservations: units used.
    pub used: Decimal,
    /// Money of the commitment not used: Savings Plans, commitment less used; reservations,
    /// unused amortized upfront plus unused recurring fee.
    pub unused_cost: Decimal,
    /// What the commitment's fee lines billed in the period (its monthly value so far).
    pub fee: Decimal,
    /// Whether `committed`/`used` count normalized units (a size-flexible reservation).
    pub normalized: bool,
    /// Per day of the month (1..=31) with fee lines: (committed, used, unused cost).
    pub days: BTreeMap<u32, (Decimal, Decimal, Decimal)>,
}

impl Commitment {
    /// Used ÷ committed, `None` when nothing was committed yet (never a 0 % utilization).
    pub fn utilization(&self) -> Option<Decimal> {
        ratio(self.used, self.committed)
    }
}

/// The service families a commitment can cover (coverage is given per family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// EC2 instance usage (`BoxUsage`, dedicated, host).
    Ec2Compute,
    Fargate,
    Lambda,
    /// RDS instance hours.
    Rds,
    /// ElastiCache node hours.
    #[serde(rename = "elasticache")]
    ElastiCache,
    /// OpenSearch instance hours.
    #[serde(rename = "opensearch")]
    OpenSearch,
    /// Redshift node hours.
    Redshift,
}

impl Family {
    /// The family whose usage `line` is, if a commitment can cover it: Savings Plans cover EC2
    /// compute, Fargate and Lambda; reservations, EC2, RDS, ElastiCache, OpenSearch and Redshift
    /// instance or node hours.
    pub fn of(product_code: &str, usage_type: &str) -> Option<Family> {
        let has = |s: &str| usage_type.contains(s);
        match product_code {
            "AmazonEC2" if has("BoxUsage") || has("DedicatedUsage") || has("HostUsage") => {
                Some(Family::Ec2Compute)
            }
            "AmazonECS" | "AmazonEKS" if has("Fargate") => Some(Family::Fargate),
            "AWSLambda" if has("Lambda-GB-Second") || has("Lambda-Provisioned") => {
                Some(Family::Lambda)
            }
            "AmazonRDS" if has("InstanceUsage") => Some(Family::Rds),
            "AmazonElastiCache" if has("NodeUsage") => Some(Family::ElastiCache),
            "AmazonES" | "AmazonOpenSearchService" if has("ESInstance") => Some(Family::OpenSearch),
            "AmazonRedshift" if has("Node") => Some(Family::Redshift),
            _ => None,
        }
    }

    /// Whether Savings Plans can cover it (else only reservations).
    pub fn savings_plans(self) -> bool {
        matches!(self, Family::Ec2Compute | Family::Fargate | Family::Lambda)
    }

    /// Whether reservations can cover it.
    pub fn reservations(self) -> bool {
        !matches!(self, Family::Fargate | Family::Lambda)
    }
}

/// Coverage of one service family.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Usage a Savings Plan covered, at on-demand cost.
    pub sp_covered: Decimal,
    /// Usage a reservation covered, in its usage unit (hours).
    pub ri_covered_hours: Decimal,
    /// Usage on demand (not covered), at on-demand cost.
    pub on_demand_cost: Decimal,
    /// Usage on demand, in hours.
    pub on_demand_hours: Decimal,
    /// Usage a reservation covered, at on-demand cost (eligible for Savings Plans too).
    pub ri_covered_cost: Decimal,
}

impl Coverage {
    /// Savings Plans coverage: covered ÷ eligible at on-demand cost (`None`: no eligible usage).
    /// Eligible is what a Savings Plan covered plus what ran on demand.
    pub fn savings_plans(&self) -> Option<Decimal> {
        ratio(self.sp_covered, self.sp_covered + self.on_demand_cost)
    }

    /// RI coverage in hours: reserved hours ÷ (reserved + on-demand hours).
    pub fn reservations(&self) -> Option<Decimal> {
        ratio(
            self.ri_covered_hours,
            self.ri_covered_hours + self.on_demand_hours,
        )
    }

    fn absorb(&mut self, o: &Coverage) {
        self.sp_covered += o.sp_covered;
        self.ri_covered_hours += o.ri_covered_hours;
        self.on_demand_cost += o.on_demand_cost;
        self.on_demand_hours += o.on_demand_hours;
        self.ri_covered_cost += o.ri_covered_cost;
    }
}

fn ratio(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| part / whole)
}

/// What the lines of a report say about its commitments.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Each commitment met, in order of kind and id.
    pub commitments: Vec<Commitment>,
    /// Coverage per (account, family): the usage account's own.
    pub coverage: BTreeMap<(String, Family), Coverage>,
}

impl Summary {
    /// Coverage of a family over every account.
    pub fn coverage_of(&self, family: Family) -> Coverage {
        let mut all = Coverage::default();
        for ((_, f), c) in &self.coverage {
            if *f == family {
                all.absorb(c);
            }
        }
        all
    }

    /// Coverage over every family and account a commitment of `kind` can cover.
    pub fn coverage_total(&self, kind: CommitmentKind) -> Coverage {
        let mut all = Coverage::default();
        for ((_, f), c) in &self.coverage {
            let eligible = match kind {
                CommitmentKind::SavingsPlan => f.savings_plans(),
                CommitmentKind::Reservation => f.reservations(),
            };
            if eligible {
                all.absorb(c);
            }
        }
        all
    }

    /// Utilization over every commitment of `kind`: used ÷ committed, summed (Savings Plans in
    /// money; reservations in hours, normalized units for size-flexible ones). `None` when no
    /// such commitment has a commitment to date.
    pub fn utilization(&self, kind: CommitmentKind) -> Option<Decimal> {
        let (used, committed) = self
            .commitments
            .iter()
            .filter(|c| c.kind == kind)
            .fold((Decimal::ZERO, Decimal::ZERO), |(u, t), c| {
                (u + c.used, t + c.committed)
            });
        ratio(used, committed)
    }

    /// The unused cost of every commitment of `kind`.
    pub fn unused_cost(&self, kind: CommitmentKind) -> Decimal {
        self.commitments
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.unused_cost)
            .sum()
    }
}

/// The commitments' figures while a report's lines stream by.
#[derive(Debug, Clone, Default)]
pub struct Commitments {
    by_id: BTreeMap<(CommitmentKind, String), Commitment>,
    coverage: BTreeMap<(String, Family), Coverage>,
}

impl Commitments {
    /// Takes in one line.
    pub fn add(&mut self, l: &Line<'_>) {
        let Some(t) = l.line_type else {
            return;
        };
        match t {
            LineType::SavingsPlanRecurringFee if !l.sp_arn.is_empty() => {
                let c = self.entry(CommitmentKind::SavingsPlan, l.sp_arn, l);
                let unused = l.sp_total_commitment - l.sp_used_commitment;
                c.committed += l.sp_total_commitment;
                c.used += l.sp_used_commitment;
                c.unused_cost += unused;
                c.fee += l.cost;
                day_add(
                    c,
                    l.day,
                    l.sp_total_commitment,
                    l.sp_used_commitment,
                    unused,
                );
            }
            LineType::RIFee if !l.reservation_arn.is_empty() => {
                let normalized = !l.ri_total_normalized.is_zero();
                let (total, unused) = if normalized {
                    (l.ri_total_normalized, l.ri_unused_normalized)
                } else {
                    (l.ri_total_units, l.ri_unused_units)
                };
                let unused_cost = l.ri_unused_upfront + l.ri_unused_recurring;
                let c = self.entry(CommitmentKind::Reservation, l.reservation_arn, l);
                c.normalized |= normalized;
                c.committed += total;
                c.used += total - unused;
                c.unused_cost += unused_cost;
                c.fee += l.cost;
                day_add(c, l.day, total, total - unused, unused_cost);
            }
            LineType::SavingsPlanCoveredUsage => {
                if let Some(f) = Family::of(l.product_code, l.usage_type) {
                    self.cover(l, f).sp_covered += l.on_demand_cost;
                }
            }
            LineType::DiscountedUsage => {
                if let Some(f) = Family::of(l.product_code, l.usage_type) {
                    let c = self.cover(l, f);
                    c.ri_covered_hours += l.usage_amount;
                    c.ri_covered_cost += l.on_demand_cost;
                }
            }
            LineType::Usage => {
                if let Some(f) = Family::of(l.product_code, l.usage_type) {
                    let c = self.cover(l, f);
                    c.on_demand_cost += l.on_demand_cost;
                    c.on_demand_hours += l.usage_amount;
                }
            }
            _ => {}
        }
    }

    fn cover(&mut self, l: &Line<'_>, f: Family) -> &mut Coverage {
        self.coverage.entry((l.account.to_string(), f)).or_default()
    }

    fn entry(&mut self, kind: CommitmentKind, id: &str, l: &Line<'_>) -> &mut Commitment {
        let c = self
            .by_id
            .entry((kind, id.to_string()))
            .or_insert_with(|| Commitment {
                id: id.to_string(),
                kind,
                account: l.account.to_string(),
                offering: String::new(),
                term: String::new(),
                payment_option: String::new(),
                start: String::new(),
                end: String::new(),
                committed: Decimal::ZERO,
                used: Decimal::ZERO,
                unused_cost: Decimal::ZERO,
                fee: Decimal::ZERO,
                normalized: false,
                days: BTreeMap::new(),
            });
        // The first line that names a term or a date gives it (lines of one commitment agree).
        let (offering, term, payment, start, end) = match kind {
            CommitmentKind::SavingsPlan => (
                l.sp_offering_type,
                l.sp_term,
                l.sp_payment_option,
                l.sp_start,
                l.sp_end,
            ),
            CommitmentKind::Reservation => (l.product_code, "", "", l.ri_start, l.ri_end),
        };
        for (slot, v) in [
            (&mut c.offering, offering),
            (&mut c.term, term),
            (&mut c.payment_option, payment),
            (&mut c.start, start),
            (&mut c.end, end),
        ] {
            if slot.is_empty() && !v.is_empty() {
                *slot = v.to_string();
            }
        }
        c
    }

    /// Takes in the figures of other lines of the same report.
    pub fn absorb(&mut self, other: Commitments) {
        for (key, theirs) in other.by_id {
            match self.by_id.get_mut(&key) {
                None => {
                    self.by_id.insert(key, theirs);
                }
                Some(mine) => {
                    mine.committed += theirs.committed;
                    mine.used += theirs.used;
                    mine.unused_cost += theirs.unused_cost;
                    mine.fee += theirs.fee;
                    mine.normalized |= theirs.normalized;
                    for (d, (t, u, x)) in theirs.days {
                        let e = mine.days.entry(d).or_default();
                        e.0 += t;
                        e.1 += u;
                        e.2 += x;
                    }
                    for (slot, v) in [
                        (&mut mine.offering, theirs.offering),
                        (&mut mine.term, theirs.term),
                        (&mut mine.payment_option, theirs.payment_option),
                        (&mut mine.start, theirs.start),
                        (&mut mine.end, theirs.end),
                    ] {
                        if slot.is_empty() {
                            *slot = v;
                        }
                    }
                }
            }
        }
        for (key, c) in other.coverage {
            self.coverage.entry(key).or_default().absorb(&c);
        }
    }

    pub fn finish(self) -> Summary {
        Summary {
            commitments: self.by_id.into_values().collect(),
            coverage: self.coverage,
        }
    }
}

fn day_add(c: &mut Commitment, day: u32, total: Decimal, used: Decimal, unused: Decimal) {
    if day == 0 {
        return;
    }
    let e = c.days.entry(day).or_default();
    e.0 += total;
    e.1 += used;
    e.2 += unused;
}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
