//! Commitment figures summed line by line: utilization, unused cost, coverage, dates.

use crate::budget::cost::LineType;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The cells of one CUR line that commitments read (absent columns read as empty or zero).
#[derive(Debug, Clone, Default)]
pub struct Line<'a> {
    pub line_type: Option<LineType>,
    pub account: &'a str,
    pub product_code: &'a str,
    pub usage_type: &'a str,
    /// The line's region (`product/region`, `product_region_code`, FOCUS `RegionId`).
    pub region: &'a str,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    SavingsPlan,
    Reservation,
}

/// One commitment's figures over the lines seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Reservations: the region it is in (a Savings Plan is not regional: empty).
    #[serde(default)]
    pub region: String,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

    /// The product codes of its usage (a services filter names these).
    pub fn product_codes(self) -> &'static [&'static str] {
        match self {
            Family::Ec2Compute => &["AmazonEC2"],
            Family::Fargate => &["AmazonECS", "AmazonEKS"],
            Family::Lambda => &["AWSLambda"],
            Family::Rds => &["AmazonRDS"],
            Family::ElastiCache => &["AmazonElastiCache"],
            Family::OpenSearch => &["AmazonES", "AmazonOpenSearchService"],
            Family::Redshift => &["AmazonRedshift"],
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The same figures per day of the month (1..=31) the usage ran on, where the report is
    /// daily or hourly (a day's own `days` are empty).
    #[serde(skip)]
    pub days: BTreeMap<u32, Coverage>,
    /// The same figures per region of the usage (each with its own days).
    #[serde(skip)]
    pub regions: BTreeMap<String, Coverage>,
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
        self.add_figures(o);
        for (day, theirs) in &o.days {
            self.days.entry(*day).or_default().add_figures(theirs);
        }
        for (region, theirs) in &o.regions {
            self.regions
                .entry(region.clone())
                .or_default()
                .absorb(theirs);
        }
    }

    fn add_figures(&mut self, o: &Coverage) {
        self.sp_covered += o.sp_covered;
        self.ri_covered_hours += o.ri_covered_hours;
        self.on_demand_cost += o.on_demand_cost;
        self.on_demand_hours += o.on_demand_hours;
        self.ri_covered_cost += o.ri_covered_cost;
    }

    /// Adds one line's figures, on `day` too (0: on none), and under its region.
    fn add_line(&mut self, line: &Coverage, day: u32, region: &str) {
        self.add_day(line, day);
        if !self.regions.contains_key(region) {
            self.regions.insert(region.to_string(), Coverage::default());
        }
        let r = self.regions.get_mut(region).expect("inserted above");
        r.add_day(line, day);
    }

    fn add_day(&mut self, line: &Coverage, day: u32) {
        self.add_figures(line);
        if day != 0 {
            self.days.entry(day).or_default().add_figures(line);
        }
    }
}

fn ratio(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| part / whole)
}

/// What the lines of a report say about its commitments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

/// The commitments' figures while a report's lines stream by. Keyed so that a line is looked up
/// by its borrowed cells: a key is allocated once per commitment or (account, family), not per
/// line.
#[derive(Debug, Clone, Default)]
pub struct Commitments {
    by_id: BTreeMap<CommitmentKind, BTreeMap<String, Commitment>>,
    /// Per usage account, per family.
    coverage: BTreeMap<String, BTreeMap<Family, Coverage>>,
}

impl Commitments {
    /// Takes in one line.
    pub fn add(&mut self, l: &Line<'_>) {
        let Some(t) = l.line_type else {
            return;
        };
        match t {
            LineType::SavingsPlanRecurringFee if !l.sp_arn.is_empty() => {
                let (total, used) = (l.sp_total_commitment, l.sp_used_commitment);
                self.entry(CommitmentKind::SavingsPlan, l.sp_arn, l).add(
                    l.day,
                    total,
                    used,
                    total - used,
                    l.cost,
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
                c.add(l.day, total, total - unused, unused_cost, l.cost);
            }
            LineType::SavingsPlanCoveredUsage => self.cover(l, |c| c.sp_covered = l.on_demand_cost),
            LineType::DiscountedUsage => self.cover(l, |c| {
                c.ri_covered_hours = l.usage_amount;
                c.ri_covered_cost = l.on_demand_cost;
            }),
            LineType::Usage => self.cover(l, |c| {
                c.on_demand_cost = l.on_demand_cost;
                c.on_demand_hours = l.usage_amount;
            }),
            _ => {}
        }
    }

    /// Adds a usage line's coverage figures (set by `figures`) to its account and family, if a
    /// commitment can cover its family.
    fn cover(&mut self, l: &Line<'_>, figures: impl FnOnce(&mut Coverage)) {
        let Some(f) = Family::of(l.product_code, l.usage_type) else {
            return;
        };
        let mut line = Coverage::default();
        figures(&mut line);
        self.coverage_of(l, f).add_line(&line, l.day, l.region);
    }

    /// Takes in one commitment's figures stated directly (a FOCUS row: what it committed, used
    /// and left unused, in money, and what it billed), on `day` (0: on none).
    #[allow(clippy::too_many_arguments)]
    pub fn add_commitment(
        &mut self,
        kind: CommitmentKind,
        id: &str,
        account: &str,
        offering: &str,
        day: u32,
        (committed, used, unused_cost): (Decimal, Decimal, Decimal),
        fee: Decimal,
    ) {
        let l = Line {
            account,
            product_code: offering,
            sp_offering_type: offering,
            ..Line::default()
        };
        self.entry(kind, id, &l)
            .add(day, committed, used, unused_cost, fee);
    }

    fn coverage_of(&mut self, l: &Line<'_>, f: Family) -> &mut Coverage {
        if !self.coverage.contains_key(l.account) {
            self.coverage.insert(l.account.to_string(), BTreeMap::new());
        }
        let families = self.coverage.get_mut(l.account).expect("inserted above");
        families.entry(f).or_default()
    }

    fn entry(&mut self, kind: CommitmentKind, id: &str, l: &Line<'_>) -> &mut Commitment {
        let mine = self.by_id.entry(kind).or_default();
        if !mine.contains_key(id) {
            mine.insert(id.to_string(), Commitment::new(id, kind, l.account));
        }
        let c = mine.get_mut(id).expect("inserted above");
        match kind {
            CommitmentKind::SavingsPlan => c.describe(
                l.sp_offering_type,
                l.sp_term,
                l.sp_payment_option,
                l.sp_start,
                l.sp_end,
            ),
            CommitmentKind::Reservation => {
                c.describe(l.product_code, "", "", l.ri_start, l.ri_end);
                if c.region.is_empty() {
                    c.region = region_of(l.region, id);
                }
            }
        }
        c
    }

    /// Takes in the figures of other lines of the same report.
    pub fn absorb(&mut self, other: Commitments) {
        for (kind, theirs) in other.by_id {
            let mine = self.by_id.entry(kind).or_default();
            for (id, theirs) in theirs {
                let Some(c) = mine.get_mut(&id) else {
                    mine.insert(id, theirs);
                    continue;
                };
                c.add(
                    0,
                    theirs.committed,
                    theirs.used,
                    theirs.unused_cost,
                    theirs.fee,
                );
                c.normalized |= theirs.normalized;
                if c.region.is_empty() {
                    c.region = theirs.region.clone();
                }
                for (d, (t, u, x)) in theirs.days {
                    c.add_day(d, t, u, x);
                }
                c.describe(
                    &theirs.offering,
                    &theirs.term,
                    &theirs.payment_option,
                    &theirs.start,
                    &theirs.end,
                );
            }
        }
        for (account, families) in other.coverage {
            let mine = self.coverage.entry(account).or_default();
            for (f, c) in families {
                mine.entry(f).or_default().absorb(&c);
            }
        }
    }

    pub fn finish(self) -> Summary {
        Summary {
            commitments: self
                .by_id
                .into_values()
                .flat_map(BTreeMap::into_values)
                .collect(),
            coverage: self
                .coverage
                .into_iter()
                .flat_map(|(account, families)| {
                    families
                        .into_iter()
                        .map(move |(f, c)| ((account.clone(), f), c))
                })
                .collect(),
        }
    }
}

/// A reservation's region: its lines', else the one its ARN names
/// (`arn:aws:ec2:us-east-1:…`).
fn region_of(line_region: &str, arn: &str) -> String {
    if !line_region.is_empty() {
        return line_region.to_string();
    }
    arn.split(':').nth(3).unwrap_or_default().to_string()
}

impl Commitment {
    fn new(id: &str, kind: CommitmentKind, account: &str) -> Self {
        Commitment {
            id: id.to_string(),
            kind,
            account: account.to_string(),
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
            region: String::new(),
        }
    }

    /// Adds one fee line's (or another part's) figures; on `day` too (0: on none).
    fn add(&mut self, day: u32, total: Decimal, used: Decimal, unused: Decimal, fee: Decimal) {
        self.committed += total;
        self.used += used;
        self.unused_cost += unused;
        self.fee += fee;
        self.add_day(day, total, used, unused);
    }

    fn add_day(&mut self, day: u32, total: Decimal, used: Decimal, unused: Decimal) {
        if day == 0 {
            return;
        }
        let e = self.days.entry(day).or_default();
        e.0 += total;
        e.1 += used;
        e.2 += unused;
    }

    /// Fills what is still unknown of its terms and dates: the first line that names one gives
    /// it (the lines of one commitment agree).
    fn describe(&mut self, offering: &str, term: &str, payment: &str, start: &str, end: &str) {
        for (slot, v) in [
            (&mut self.offering, offering),
            (&mut self.term, term),
            (&mut self.payment_option, payment),
            (&mut self.start, start),
            (&mut self.end, end),
        ] {
            if slot.is_empty() && !v.is_empty() {
                *slot = v.to_string();
            }
        }
    }
}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
