//! Budgets in the one streaming pass: each budget's filter and measure ([`Spec`]) evaluated on
//! every row of a CUR (1.0, 2.0) or FOCUS report, summed per currency (or usage unit) and per
//! day of the month, exactly.
//!
//! A row is matched against every budget at once. Each place a filter reads (a dimension's
//! column, a tag, a cost category) is a *source*; each distinct value a source meets is judged
//! once for all budgets ([`Filter::judge`](crate::budget::filter::Filter::judge)), as two bit
//! sets (the budgets it lets through, the budgets it excludes), and cached. A row then costs one
//! lookup per source and a few word operations, whatever the number of budgets, and its cost is
//! worked out once per distinct measure among the budgets it matched.
//!
//! A budget the report cannot answer (a tag or cost category without its column, a cost type
//! whose figures the report lacks) gets the reason instead of a figure, never a zero.

use super::error::{ErrorKind, RowError};
use super::header::{Col, Header};
use super::record::Record;
use crate::budget::cost::{cur_cost, focus_cost, ChargeKind, CostType, CurLine, Field, Missing};
use crate::budget::filter::{Dimension, Keyed, Source};
use crate::budget::spec::{Figures, Spec, Specs, Spend};
use crate::ledger::Day;
use crate::money::{add_into, parse_amount};
use rust_decimal::Decimal;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

/// Which report's columns a pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Cur1,
    Cur2,
    Focus,
}

/// Distinct values a source keeps judged before its cache starts again (a tag map column may
/// hold one value per resource).
const CACHE_MAX: usize = 1 << 16;

type Bits = Vec<u64>;
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Where one source's value sits in the header bound last.
#[derive(Debug, Clone)]
enum Place {
    /// A column's cell; the second column when the first is empty (FOCUS `x_ServiceCode`, then
    /// `ServiceName`).
    Column(usize, Option<usize>),
    /// A key of a JSON map column (CUR 2.0 `resource_tags`, FOCUS `Tags`), tried in order.
    MapKey(usize, Vec<String>),
    /// Not in this report: why.
    Absent(String),
}

#[derive(Debug, Clone)]
struct SourceState {
    source: Source,
    place: Place,
    /// Per raw cell: the budgets it lets through, and the budgets it excludes.
    cache: Map<Vec<u8>, (Bits, Bits)>,
}

/// The columns a measure reads, bound to the last header.
#[derive(Debug, Clone, Default)]
struct MeasureCols {
    item_type: Option<Col>,
    product_code: Option<Col>,
    reservation_arn: Option<Col>,
    payment_option: Option<Col>,
    figures: BTreeMap<Field, Col>,
    usage_amount: Option<Col>,
    unit: Option<Col>,
    // FOCUS
    billed: Option<Col>,
    effective: Option<Col>,
    category: Option<Col>,
    class: Option<Col>,
    frequency: Option<Col>,
    service_name: Option<Col>,
}

/// One budget's sums in one currency (or unit): index 0 is "on no day", 1..=31 the days.
#[derive(Debug, Clone)]
struct Acc {
    currency: Vec<u8>,
    days: [Decimal; 32],
}

#[derive(Debug, Clone, Default)]
struct BudgetState {
    /// Index into [`BudgetRows::measures`].
    measure: usize,
    /// Why the report cannot answer this budget, once known.
    unanswerable: Option<String>,
    sums: Vec<Acc>,
    /// Lines of a usage budget's filter in another unit: unit → lines.
    other_units: BTreeMap<String, u64>,
}

/// A distinct measure among the budgets: a cost type less the kinds left out, or a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MeasureKey {
    cost: CostType,
    exclude: std::collections::BTreeSet<ChargeKind>,
    unit: Option<String>,
}

/// What a measure made of the current row.
#[derive(Debug, Clone)]
enum Value {
    /// Adds this much.
    Adds(Decimal),
    /// Left out (a kind the budget excludes, a line that is not usage of the unit).
    Out,
    /// Usage in another unit (a usage budget's filter selected it).
    OtherUnit(String),
    /// The report cannot answer the measure.
    Cannot(String),
}

/// The budgets' state while a report's rows stream by.
#[derive(Debug, Clone, Default)]
pub struct BudgetRows {
    specs: Option<Specs>,
    flavor: Option<Flavor>,
    sources: Vec<SourceState>,
    measures: Vec<MeasureKey>,
    cols: MeasureCols,
    budgets: Vec<BudgetState>,
    /// The budgets still answerable, as bits.
    live: Bits,
    /// Whether any row was placed by its usage dates (a daily or hourly report).
    dated: bool,
    // Scratch, reused per row.
    selected: Bits,
    excluded: Bits,
    values: Vec<Option<Value>>,
}

fn words(n: usize) -> usize {
    n.div_ceil(64)
}

fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn is_set(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

fn text(raw: &[u8]) -> &str {
    std::str::from_utf8(raw).unwrap_or_default()
}

impl BudgetRows {
    /// The state for `specs` (none: every call is a no-op).
    pub fn new(specs: &Specs) -> Self {
        if specs.is_empty() {
            return Self::default();
        }
        let mut measures: Vec<MeasureKey> = Vec::new();
        let budgets = specs
            .iter()
            .map(|s| {
                let key = MeasureKey {
                    cost: s.measure.cost,
                    exclude: s.measure.exclude.clone(),
                    unit: s.unit.clone(),
                };
                let measure = match measures.iter().position(|m| *m == key) {
                    Some(i) => i,
                    None => {
                        measures.push(key);
                        measures.len() - 1
                    }
                };
                BudgetState {
                    measure,
                    ..BudgetState::default()
                }
            })
            .collect();
        let mut sources: Vec<Source> = specs.iter().flat_map(|s| s.filter.sources()).collect();
        sources.sort();
        sources.dedup();
        let n = words(specs.len());
        let mut live = vec![0; n];
        (0..specs.len()).for_each(|i| set(&mut live, i));
        Self {
            specs: Some(specs.clone()),
            flavor: None,
            sources: sources
                .into_iter()
                .map(|source| SourceState {
                    source,
                    place: Place::Absent(String::new()),
                    cache: Map::default(),
                })
                .collect(),
            values: vec![None; measures.len()],
            measures,
            cols: MeasureCols::default(),
            budgets,
            live,
            dated: false,
            selected: vec![0; n],
            excluded: vec![0; n],
        }
    }

    fn active(&self) -> bool {
        self.specs.is_some()
    }

    /// Finds the columns the budgets read in `header` (each part of a manifest binds its own).
    /// A source the header lacks makes the budgets reading it unanswerable.
    pub fn bind(&mut self, header: &Header, flavor: Flavor) -> Result<(), RowError> {
        if !self.active() {
            return Ok(());
        }
        self.flavor = Some(flavor);
        for s in &mut self.sources {
            s.place = place_of(header, flavor, &s.source);
        }
        self.cols = measure_cols(header, flavor)?;
        let specs = self.specs.clone().expect("active");
        for (i, spec) in specs.iter().enumerate() {
            let why = self
                .sources
                .iter()
                .filter(|s| spec.filter.sources().contains(&s.source))
                .find_map(|s| match &s.place {
                    Place::Absent(why) => Some(why.clone()),
                    _ => None,
                })
                .or_else(|| self.cannot_measure(&self.measures[self.budgets[i].measure]));
            if let Some(why) = why {
                self.give_up(i, why);
            }
        }
        Ok(())
    }

    /// Why this report cannot answer `m` whatever its rows, if it cannot.
    fn cannot_measure(&self, m: &MeasureKey) -> Option<String> {
        let c = &self.cols;
        let flavor = self.flavor?;
        if let Some(unit) = &m.unit {
            let (amount, unit_col) = match flavor {
                Flavor::Cur1 => ("lineItem/UsageAmount", "pricing/unit"),
                Flavor::Cur2 => ("line_item_usage_amount", "pricing_unit"),
                Flavor::Focus => ("ConsumedQuantity", "ConsumedUnit"),
            };
            return match (c.usage_amount, c.unit) {
                (Some(_), Some(_)) => None,
                _ => Some(format!(
                    "a usage budget in {unit} needs the columns {amount} and {unit_col}, which the report does not have"
                )),
            };
        }
        match flavor {
            Flavor::Focus => {
                let answered = focus_cost(Decimal::ZERO, Decimal::ZERO, m.cost).err();
                answered.or_else(|| {
                    (matches!(m.cost, CostType::Amortized | CostType::NetAmortized)
                        && c.effective.is_none())
                    .then(|| {
                        format!(
                            "{} cost needs the column EffectiveCost, which the report does not have",
                            m.cost
                        )
                    })
                })
            }
            Flavor::Cur1 | Flavor::Cur2 => match m.cost {
                CostType::Blended if !c.figures.contains_key(&Field::Blended) => Some(
                    Missing {
                        cost: m.cost,
                        field: Field::Blended,
                    }
                    .to_string(),
                ),
                _ => None,
            },
        }
    }

    fn give_up(&mut self, i: usize, why: String) {
        let b = &mut self.budgets[i];
        if b.unanswerable.is_none() {
            b.unanswerable = Some(why);
        }
        self.live[i / 64] &= !(1 << (i % 64));
    }

    /// Adds one summed row: `currency` is its (checked) currency, `day` the day of the month it
    /// was booked on (0: on none), or `None` when the report has no usage dates.
    #[inline]
    pub fn row(
        &mut self,
        r: &Record<'_>,
        currency: &[u8],
        day: Option<Day>,
    ) -> Result<(), RowError> {
        if !self.active() {
            return Ok(());
        }
        if !self.select(r) {
            return Ok(());
        }
        self.values.iter_mut().for_each(|v| *v = None);
        let n = self.budgets.len();
        for i in 0..n {
            if !is_set(&self.selected, i) {
                continue;
            }
            let m = self.budgets[i].measure;
            if self.values[m].is_none() {
                self.values[m] = Some(self.measure(m, r)?);
            }
            match self.values[m].clone().expect("set above") {
                Value::Out => {}
                Value::Adds(v) => match self.measures[m].unit.clone() {
                    Some(unit) => self.add(i, unit.as_bytes(), day, v)?,
                    None => self.add(i, currency, day, v)?,
                },
                Value::OtherUnit(unit) => {
                    *self.budgets[i].other_units.entry(unit).or_default() += 1;
                }
                Value::Cannot(why) => self.give_up(i, why),
            }
        }
        Ok(())
    }

    /// Sets `selected` to the live budgets whose filter the row passes; false when none.
    #[inline]
    fn select(&mut self, r: &Record<'_>) -> bool {
        self.selected.copy_from_slice(&self.live);
        self.excluded.iter_mut().for_each(|w| *w = 0);
        let specs = self.specs.as_ref().expect("active");
        for s in &mut self.sources {
            let raw = match &s.place {
                Place::Column(a, b) => {
                    let first = cell(r, *a);
                    match b {
                        Some(b) if first.is_empty() => cell(r, *b),
                        _ => first,
                    }
                }
                Place::MapKey(col, _) => cell(r, *col),
                Place::Absent(_) => continue,
            };
            if !s.cache.contains_key(raw) {
                if s.cache.len() >= CACHE_MAX {
                    s.cache.clear();
                }
                let judged = judge(specs, &s.source, &s.place, raw);
                s.cache.insert(raw.to_vec(), judged);
            }
            let (inc, exc) = &s.cache[raw];
            for ((sel, ex), (i, e)) in self
                .selected
                .iter_mut()
                .zip(self.excluded.iter_mut())
                .zip(inc.iter().zip(exc))
            {
                *sel &= i;
                *ex |= e;
            }
        }
        let mut any = false;
        for (sel, ex) in self.selected.iter_mut().zip(&self.excluded) {
            *sel &= !ex;
            any |= *sel != 0;
        }
        any
    }

    fn add(&mut self, i: usize, key: &[u8], day: Option<Day>, v: Decimal) -> Result<(), RowError> {
        self.dated |= day.is_some();
        let sums = &mut self.budgets[i].sums;
        let at = match sums.iter().position(|a| a.currency == key) {
            Some(at) => at,
            None => {
                sums.push(Acc {
                    currency: key.to_vec(),
                    days: [Decimal::ZERO; 32],
                });
                sums.len() - 1
            }
        };
        add_into(&mut sums[at].days[day.unwrap_or(0)], v)
            .map_err(|_| RowError::plain(ErrorKind::Overflow("a budget's total".into())))
    }

    /// What the row adds to the budgets of measure `m`.
    fn measure(&self, m: usize, r: &Record<'_>) -> Result<Value, RowError> {
        let key = &self.measures[m];
        let c = &self.cols;
        match self.flavor.expect("bound") {
            Flavor::Cur1 | Flavor::Cur2 => {
                let line = CurRow {
                    r,
                    c,
                    bad: Cell::new(None),
                };
                if let Some(unit) = &key.unit {
                    let usage = matches!(
                        line.line_item_type(),
                        "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage"
                    );
                    return usage_value(r, c, usage, unit);
                }
                let kind = ChargeKind::of_cur(
                    line.line_item_type(),
                    line.product_code(),
                    line.reservation_arn(),
                );
                if key.exclude.contains(&kind) {
                    return Ok(Value::Out);
                }
                let cost = cur_cost(&line, key.cost);
                if let Some(col) = line.bad.get() {
                    return Err(col.invalid_amount(r));
                }
                Ok(match cost {
                    Ok(v) => Value::Adds(v),
                    Err(missing) => Value::Cannot(missing.to_string()),
                })
            }
            Flavor::Focus => {
                let get = |col: Option<Col>| col.map(|c| c.get(r)).unwrap_or_default();
                let category = text(get(c.category));
                if let Some(unit) = &key.unit {
                    return usage_value(r, c, category.eq_ignore_ascii_case("Usage"), unit);
                }
                let billed = amount(c.billed, r)?;
                let kind = ChargeKind::of_focus(
                    category,
                    text(get(c.class)),
                    text(get(c.frequency)),
                    text(get(c.service_name)),
                    billed,
                );
                if key.exclude.contains(&kind) {
                    return Ok(Value::Out);
                }
                let effective = match key.cost {
                    CostType::Amortized | CostType::NetAmortized => amount(c.effective, r)?,
                    _ => Decimal::ZERO,
                };
                Ok(match focus_cost(billed, effective, key.cost) {
                    Ok(v) => Value::Adds(v),
                    Err(why) => Value::Cannot(why),
                })
            }
        }
    }

    /// An empty state bound like this one (its columns and cached judgements).
    pub fn fork(&self) -> Self {
        let mut fork = self.clone();
        for b in &mut fork.budgets {
            b.sums.clear();
            b.other_units.clear();
        }
        fork.dated = false;
        fork
    }

    /// Takes in a fork filled from other rows of the same report.
    pub fn absorb(&mut self, other: BudgetRows) -> Result<(), ErrorKind> {
        if !self.active() {
            return Ok(());
        }
        self.dated |= other.dated;
        for (i, theirs) in other.budgets.into_iter().enumerate() {
            if let Some(why) = theirs.unanswerable {
                self.give_up(i, why);
            }
            let mine = &mut self.budgets[i];
            for (unit, n) in theirs.other_units {
                *mine.other_units.entry(unit).or_default() += n;
            }
            for acc in theirs.sums {
                match mine.sums.iter_mut().find(|a| a.currency == acc.currency) {
                    Some(a) => {
                        for (sum, v) in a.days.iter_mut().zip(acc.days) {
                            add_into(sum, v)
                                .map_err(|_| ErrorKind::Overflow("a budget's total".into()))?;
                        }
                    }
                    None => mine.sums.push(acc),
                }
            }
        }
        Ok(())
    }

    /// Each budget's answer, in the order of the specs; `month_days` is the billing month's
    /// length (for the daily series).
    pub fn finish(self, month_days: Option<u32>) -> Result<Vec<Figures>, ErrorKind> {
        let Some(specs) = self.specs else {
            return Ok(Vec::new());
        };
        let dated = self.dated;
        specs
            .iter()
            .zip(self.budgets)
            .map(|(spec, b)| {
                let notes = other_units_note(spec, &b.other_units);
                if let Some(why) = b.unanswerable {
                    return Ok(Figures {
                        name: spec.name.clone(),
                        answer: Err(why),
                        notes,
                    });
                }
                let mut spends = b
                    .sums
                    .into_iter()
                    .map(|acc| spend_of(acc, dated, month_days))
                    .collect::<Result<Vec<_>, _>>()?;
                spends.sort_by(|a, b| a.currency.cmp(&b.currency));
                Ok(Figures {
                    name: spec.name.clone(),
                    answer: Ok(spends),
                    notes,
                })
            })
            .collect()
    }
}

fn spend_of(acc: Acc, dated: bool, month_days: Option<u32>) -> Result<Spend, ErrorKind> {
    let overflow = || ErrorKind::Overflow("a budget's total".into());
    let mut total = Decimal::ZERO;
    for v in acc.days {
        add_into(&mut total, v).map_err(|_| overflow())?;
    }
    let days = match (dated, month_days) {
        (true, Some(m)) => acc.days[1..=m as usize].to_vec(),
        _ => Vec::new(),
    };
    // Days past the month's end cannot be booked (day_of checks the month), so `once` is what
    // is on no day.
    let once = total - days.iter().copied().sum::<Decimal>();
    Ok(Spend {
        currency: crate::ledger::key_text(&acc.currency),
        total,
        once,
        days,
    })
}

fn other_units_note(spec: &Spec, other: &BTreeMap<String, u64>) -> Vec<String> {
    if other.is_empty() {
        return Vec::new();
    }
    let lines: u64 = other.values().sum();
    let units: Vec<&str> = other.keys().map(String::as_str).take(5).collect();
    let more = if other.len() > 5 { ", …" } else { "" };
    vec![format!(
        "{lines} usage line(s) in other units ({}{more}) matched the filter and are not counted in {}; narrow the filter (usage_types) to usage of {}",
        units.join(", "),
        spec.unit.as_deref().unwrap_or_default(),
        spec.unit.as_deref().unwrap_or_default(),
    )]
}

fn cell<'r>(r: &Record<'r>, idx: usize) -> &'r [u8] {
    r.get(idx).unwrap_or_default().trim_ascii()
}

fn amount(col: Option<Col>, r: &Record<'_>) -> Result<Decimal, RowError> {
    match col {
        Some(c) => c.amount_or_zero(r),
        None => Ok(Decimal::ZERO),
    }
}

fn usage_value(
    r: &Record<'_>,
    c: &MeasureCols,
    usage: bool,
    unit: &str,
) -> Result<Value, RowError> {
    if !usage {
        return Ok(Value::Out);
    }
    let (Some(amount_col), Some(unit_col)) = (c.usage_amount, c.unit) else {
        return Ok(Value::Out);
    };
    let found = text(unit_col.get(r));
    if found != unit {
        return Ok(Value::OtherUnit(crate::ledger::key_text(unit_col.get(r))));
    }
    let _ = found;
    Ok(Value::Adds(amount_col.amount_or_zero(r)?))
}

/// Judges one raw cell of `source` for every spec: (lets through, excludes) as bits.
fn judge(specs: &[Spec], source: &Source, place: &Place, raw: &[u8]) -> (Bits, Bits) {
    let value = match place {
        Place::MapKey(_, keys) => map_value(raw, keys),
        _ => String::from_utf8_lossy(raw).into_owned(),
    };
    let n = words(specs.len());
    let (mut inc, mut exc) = (vec![0; n], vec![0; n]);
    for (i, spec) in specs.iter().enumerate() {
        let (passes, excludes) = spec.filter.judge(source, &value);
        if passes {
            set(&mut inc, i);
        }
        if excludes {
            set(&mut exc, i);
        }
    }
    (inc, exc)
}

/// The value of the first of `keys` in a JSON map cell (`{"user_team":"data"}`), or `""` when
/// the cell is empty, not a map, or names none of them (untagged).
fn map_value(raw: &[u8], keys: &[String]) -> String {
    let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(raw) else {
        return String::new();
    };
    keys.iter()
        .find_map(|k| match map.get(k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
        .unwrap_or_default()
}

/// Where `source` is in `header`, for a report of `flavor`.
fn place_of(header: &Header, flavor: Flavor, source: &Source) -> Place {
    let find = |name: &str| header.names().iter().position(|n| n == name);
    let column = |names: &[&str], what: &str| match names.iter().find_map(|n| find(n)) {
        Some(i) => Place::Column(i, None),
        None => Place::Absent(format!(
            "the report has no {what} column ({}), which the filter reads",
            names.join(" or ")
        )),
    };
    match (source, flavor) {
        (Source::Plain(d), Flavor::Cur1) => {
            let names: &[&str] = match d {
                Dimension::Account => &["lineItem/UsageAccountId"],
                Dimension::Service => &["lineItem/ProductCode"],
                Dimension::Region => &["product/region", "product/regionCode"],
                Dimension::UsageType => &["lineItem/UsageType"],
                Dimension::Operation => &["lineItem/Operation"],
            };
            column(names, d.key())
        }
        (Source::Plain(d), Flavor::Cur2) => {
            let names: &[&str] = match d {
                Dimension::Account => &["line_item_usage_account_id"],
                Dimension::Service => &["line_item_product_code"],
                Dimension::Region => &["product_region_code", "product_region"],
                Dimension::UsageType => &["line_item_usage_type"],
                Dimension::Operation => &["line_item_operation"],
            };
            column(names, d.key())
        }
        (Source::Plain(Dimension::Service), Flavor::Focus) => {
            match (find("x_ServiceCode"), find("ServiceName")) {
                (Some(a), b) => Place::Column(a, b),
                (None, Some(b)) => Place::Column(b, None),
                (None, None) => column(&["x_ServiceCode", "ServiceName"], "services"),
            }
        }
        (Source::Plain(d), Flavor::Focus) => {
            let names: &[&str] = match d {
                Dimension::Account => &["SubAccountId"],
                Dimension::Region => &["RegionId", "Region"],
                Dimension::UsageType => &["x_UsageType"],
                Dimension::Operation => &["x_Operation"],
                Dimension::Service => unreachable!("matched above"),
            };
            column(names, d.key())
        }
        (Source::Keyed(kind, name), flavor) => keyed_place(header, flavor, *kind, name),
    }
}

fn keyed_place(header: &Header, flavor: Flavor, kind: Keyed, name: &str) -> Place {
    let find = |n: &str| header.names().iter().position(|h| h == n);
    let absent = || {
        Place::Absent(
            crate::budget::filter::Unanswerable {
                kind,
                name: name.to_string(),
            }
            .to_string(),
        )
    };
    match (flavor, kind) {
        (Flavor::Cur1, Keyed::Tag) => {
            let column = if name.contains(':') {
                format!("resourceTags/{name}")
            } else {
                format!("resourceTags/user:{name}")
            };
            find(&column).map_or_else(absent, |i| Place::Column(i, None))
        }
        (Flavor::Cur1, Keyed::CostCategory) => {
            find(&format!("costCategory/{name}")).map_or_else(absent, |i| Place::Column(i, None))
        }
        (Flavor::Cur2, Keyed::Tag) => find("resource_tags").map_or_else(absent, |i| {
            let key = if name.contains(':') {
                name.replace(':', "_")
            } else {
                format!("user_{name}")
            };
            Place::MapKey(i, vec![key])
        }),
        (Flavor::Cur2, Keyed::CostCategory) => {
            find("cost_category").map_or_else(absent, |i| Place::MapKey(i, vec![name.to_string()]))
        }
        (Flavor::Focus, Keyed::Tag) => find("Tags").map_or_else(absent, |i| {
            Place::MapKey(i, vec![name.to_string(), format!("user:{name}")])
        }),
        (Flavor::Focus, Keyed::CostCategory) => find("x_CostCategories")
            .map_or_else(absent, |i| Place::MapKey(i, vec![name.to_string()])),
    }
}

fn measure_cols(h: &Header, flavor: Flavor) -> Result<MeasureCols, RowError> {
    Ok(match flavor {
        Flavor::Cur1 | Flavor::Cur2 => {
            let cur1 = flavor == Flavor::Cur1;
            let pick = |a: &'static str, b: &'static str| if cur1 { a } else { b };
            let mut figures = BTreeMap::new();
            for f in Field::ALL {
                let (one, two) = f.column();
                if let Some(col) = h.optional(pick(one, two))? {
                    figures.insert(f, col);
                }
            }
            MeasureCols {
                item_type: h.optional(pick("lineItem/LineItemType", "line_item_line_item_type"))?,
                product_code: h.optional(pick("lineItem/ProductCode", "line_item_product_code"))?,
                reservation_arn: if cur1 {
                    h.optional("reservation/ReservationARN")?
                } else {
                    h.first_of(&[
                        "reservation_reservation_a_r_n",
                        "reservation_reservation_arn",
                    ])?
                },
                payment_option: h.optional(pick(
                    "savingsPlan/PaymentOption",
                    "savings_plan_payment_option",
                ))?,
                figures,
                usage_amount: h.optional(pick("lineItem/UsageAmount", "line_item_usage_amount"))?,
                unit: h.optional(pick("pricing/unit", "pricing_unit"))?,
                ..MeasureCols::default()
            }
        }
        Flavor::Focus => MeasureCols {
            billed: h.optional("BilledCost")?,
            effective: h.optional("EffectiveCost")?,
            category: h.optional("ChargeCategory")?,
            class: h.optional("ChargeClass")?,
            frequency: h.optional("ChargeFrequency")?,
            service_name: h.optional("ServiceName")?,
            usage_amount: h.optional("ConsumedQuantity")?,
            unit: h.optional("ConsumedUnit")?,
            ..MeasureCols::default()
        },
    })
}

/// A CUR row as the cost rules read it. A figure's cell that is not an amount is kept in `bad`
/// (the rules cannot fail on it) and turned into the row's error after.
struct CurRow<'a, 'r> {
    r: &'a Record<'r>,
    c: &'a MeasureCols,
    bad: Cell<Option<Col>>,
}

impl CurRow<'_, '_> {
    fn text_of(&self, col: Option<Col>) -> &str {
        col.map(|c| text(c.get(self.r))).unwrap_or_default()
    }
}

impl CurLine for CurRow<'_, '_> {
    fn line_item_type(&self) -> &str {
        self.text_of(self.c.item_type)
    }
    fn product_code(&self) -> &str {
        self.text_of(self.c.product_code)
    }
    fn reservation_arn(&self) -> &str {
        self.text_of(self.c.reservation_arn)
    }
    fn payment_option(&self) -> &str {
        self.text_of(self.c.payment_option)
    }
    fn figure(&self, field: Field) -> Option<Decimal> {
        let col = *self.c.figures.get(&field)?;
        let raw = col.get(self.r);
        if raw.is_empty() {
            return Some(Decimal::ZERO);
        }
        match parse_amount(raw) {
            Some(v) => Some(v),
            None => {
                if self.bad.get().is_none() {
                    self.bad.set(Some(col));
                }
                Some(Decimal::ZERO)
            }
        }
    }
}

#[cfg(test)]
#[path = "budget_rows_tests.rs"]
mod tests;
