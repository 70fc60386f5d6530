//! Budgets in the one streaming pass: each budget's filter and measure ([`Spec`]) evaluated on
//! every row of a CUR (1.0, 2.0) or FOCUS report, summed per currency (or usage unit) and per
//! day of the month, exactly.
//!
//! A row is matched against every budget at once. Each place a filter reads (a dimension's
//! column, a tag, a cost category) is a *source*. The row's source cells, end to end, are looked
//! up once; a combination not seen yet is judged for all budgets, source by source ([`judge`]:
//! the budgets each value lets through and the ones it excludes, as bit sets, each value cached).
//! The row's value is then worked out once per cost type (the charge kinds a budget leaves out
//! are a bit mask) and added to each budget it matched as one integer addition
//! ([`super::budget_sum`]).
//!
//! A budget the report cannot answer (a tag or cost category without its column, a cost type
//! whose figures the report lacks) gets the reason instead of a figure, never a zero.

use super::budget_columns::{judge, measure_cols, place_of, set, words, Bits, MeasureCols, Place};
use super::budget_sum::{Fixed, Overflow, Sum};
use super::error::{ErrorKind, RowError};
use super::header::{Col, Header};
use super::record::Record;
use crate::budget::cost::{
    cur_cost, focus_cost, ChargeKind, CostType, CurLine, Field, LineType, Missing,
};
use crate::budget::filter::Source;
use crate::budget::spec::{Figures, Spec, Specs, Spend};
use crate::ledger::Day;
use crate::money::parse_amount;
use rust_decimal::Decimal;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

pub use super::budget_columns::Flavor;

/// Distinct values a source keeps judged before its cache starts again (a tag map column may
/// hold one value per resource).
const CACHE_MAX: usize = 1 << 16;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug, Clone)]
struct SourceState {
    source: Source,
    place: Place,
    /// Per raw cell: the budgets it lets through, and the budgets it excludes.
    cache: Map<Vec<u8>, (Bits, Bits)>,
}

/// One budget's sums in one currency (or unit): index 0 is "on no day", 1..=31 the days.
#[derive(Debug, Clone)]
struct Acc {
    /// Into [`BudgetRows::currencies`].
    currency: u16,
    days: [Sum; 32],
}

#[derive(Debug, Clone, Default)]
struct BudgetState {
    /// Index into [`BudgetRows::measures`].
    measure: usize,
    /// Why the report cannot answer this budget, once known.
    unanswerable: Option<String>,
    sums: Vec<Acc>,
    /// Lines of a usage budget's filter in another unit: unit → lines.
    other_units: BTreeMap<Vec<u8>, u64>,
}

/// A distinct measure among the budgets: a cost type less the kinds left out, or a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MeasureKey {
    cost: CostType,
    /// The charge kinds left out, as bits (`1 << kind`).
    exclude: u16,
    unit: Option<String>,
    /// The unit's id in [`BudgetRows::currencies`].
    unit_id: u16,
}

/// A set of charge kinds as bits.
fn kind_bits(kinds: &std::collections::BTreeSet<ChargeKind>) -> u16 {
    kinds.iter().fold(0, |bits, k| bits | 1 << (*k as u16))
}

/// What a measure made of the current row.
#[derive(Debug, Clone)]
enum Value {
    /// Adds this much (as the sums hold it, worked out once for every budget of the measure).
    Adds(Fixed),
    /// Left out (a kind the budget excludes, a line that is not usage of the unit).
    Out,
    /// Usage in another unit (a usage budget's filter selected it).
    OtherUnit,
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
    /// The currencies (and usage units) met, by id.
    currencies: Vec<Vec<u8>>,
    /// Per combination of a row's filtered cells: the budgets whose filter it passes.
    combos: Map<Vec<u8>, Bits>,
    // Scratch, reused per row.
    key: Vec<u8>,
    selected: Bits,
    values: Vec<Option<Value>>,
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
        let mut currencies: Vec<Vec<u8>> = Vec::new();
        let budgets = specs
            .iter()
            .map(|s| {
                let unit_id = match &s.unit {
                    Some(unit) => intern(&mut currencies, unit.as_bytes()),
                    None => 0,
                };
                let key = MeasureKey {
                    cost: s.measure.cost,
                    exclude: kind_bits(&s.measure.exclude),
                    unit: s.unit.clone(),
                    unit_id,
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
            currencies,
            combos: Map::default(),
            key: Vec::new(),
            selected: vec![0; n],
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
                CostType::Blended if c.figures[Field::Blended as usize].is_none() => Some(
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

    /// Adds one summed row: `cost` is its cost as the format summed it (unblended, FOCUS billed),
    /// `currency` its (checked) currency, `day` the day of the month it was booked on (0: on
    /// none), or `None` when the report has no usage dates.
    #[inline]
    pub fn row(
        &mut self,
        r: &Record<'_>,
        cost: Decimal,
        currency: &[u8],
        day: Option<Day>,
    ) -> Result<(), RowError> {
        if !self.active() || !self.select(r) {
            return Ok(());
        }
        self.dated |= day.is_some();
        let day = day.unwrap_or(0);
        let currency = intern(&mut self.currencies, currency);
        let line = Line::new(r, &self.cols, cost);
        self.values.iter_mut().for_each(|v| *v = None);
        let mut cannot: Vec<(usize, String)> = Vec::new();
        for w in 0..self.selected.len() {
            let mut word = self.selected[w];
            while word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let b = &mut self.budgets[i];
                let m = b.measure;
                let key = &self.measures[m];
                let value = match &mut self.values[m] {
                    Some(v) => v,
                    slot => slot.insert(measure(key, self.flavor, &line)?),
                };
                match value {
                    Value::Out => {}
                    Value::Adds(v) => {
                        let at = if key.unit.is_some() {
                            key.unit_id
                        } else {
                            currency
                        };
                        add_to(&mut b.sums, at, day, v).map_err(|_| RowError::plain(overflow()))?;
                    }
                    Value::OtherUnit => {
                        let unit = line.cell(line.c.unit);
                        match b.other_units.get_mut(unit) {
                            Some(n) => *n += 1,
                            None => {
                                b.other_units.insert(unit.to_vec(), 1);
                            }
                        }
                    }
                    Value::Cannot(why) => cannot.push((i, why.clone())),
                }
            }
        }
        for (i, why) in cannot {
            self.give_up(i, why);
        }
        Ok(())
    }

    /// Sets `selected` to the live budgets whose filter the row passes; false when none. The
    /// row's filtered cells, end to end, are looked up once; a combination not seen yet is
    /// judged source by source (each source's values cached too).
    #[inline]
    fn select(&mut self, r: &Record<'_>) -> bool {
        if self.sources.is_empty() {
            // Every budget selects everything. (Nor is an empty key looked up: comparing empty
            // slices went through a slow path of the C library's memcmp, about 140 ns a row.)
            self.selected.copy_from_slice(&self.live);
            return self.selected.iter().any(|w| *w != 0);
        }
        self.key.clear();
        for s in &self.sources {
            let raw = source_cell(&s.place, r);
            self.key.extend_from_slice(raw);
            // No UTF-8 text holds 0xFF: the cells cannot run into each other.
            self.key.push(0xFF);
        }
        let passed = match self.combos.get(self.key.as_slice()) {
            Some(bits) => bits,
            None => {
                if self.combos.len() >= CACHE_MAX {
                    self.combos.clear();
                }
                let bits = self.judge_row(r);
                self.combos.entry(self.key.clone()).or_insert(bits)
            }
        };
        let mut any = false;
        for ((sel, live), passed) in self.selected.iter_mut().zip(&self.live).zip(passed) {
            *sel = live & passed;
            any |= *sel != 0;
        }
        any
    }

    /// The budgets whose filter a row passes, judged source by source.
    fn judge_row(&mut self, r: &Record<'_>) -> Bits {
        let n = self.selected.len();
        let (mut passed, mut excluded) = (vec![!0u64; n], vec![0u64; n]);
        let specs = self.specs.as_ref().expect("active");
        for s in &mut self.sources {
            if matches!(s.place, Place::Absent(_)) {
                continue;
            }
            let raw = source_cell(&s.place, r);
            let (inc, exc) = match s.cache.get(raw) {
                Some(judged) => judged,
                None => {
                    if s.cache.len() >= CACHE_MAX {
                        s.cache.clear();
                    }
                    let judged = judge(specs, &s.source, &s.place, raw);
                    s.cache.entry(raw.to_vec()).or_insert(judged)
                }
            };
            for ((p, x), (i, e)) in passed
                .iter_mut()
                .zip(excluded.iter_mut())
                .zip(inc.iter().zip(exc))
            {
                *p &= i;
                *x |= e;
            }
        }
        for (p, x) in passed.iter_mut().zip(&excluded) {
            *p &= !x;
        }
        passed
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
            for mut acc in theirs.sums {
                acc.currency = intern(
                    &mut self.currencies,
                    &other.currencies[acc.currency as usize],
                );
                let mine = &mut self.budgets[i];
                match mine.sums.iter_mut().find(|a| a.currency == acc.currency) {
                    Some(a) => {
                        for (sum, v) in a.days.iter_mut().zip(acc.days) {
                            sum.absorb(v).map_err(|_| overflow())?;
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
        let currencies = self.currencies;
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
                        gauge: None,
                    });
                }
                let mut spends = b
                    .sums
                    .into_iter()
                    .map(|acc| spend_of(acc, &currencies, dated, month_days))
                    .collect::<Result<Vec<_>, _>>()?;
                spends.sort_by(|a, b| a.currency.cmp(&b.currency));
                Ok(Figures {
                    name: spec.name.clone(),
                    answer: Ok(spends),
                    notes,
                    gauge: None,
                })
            })
            .collect()
    }
}

/// A budget's total too large to hold.
fn overflow() -> ErrorKind {
    ErrorKind::Overflow("a budget's total".into())
}

/// The id of a currency (or unit) in `list`, added when new.
#[inline]
fn intern(list: &mut Vec<Vec<u8>>, raw: &[u8]) -> u16 {
    // Byte by byte: a currency code is three bytes, shorter than a call to memcmp.
    let same = |c: &Vec<u8>| c.len() == raw.len() && c.iter().zip(raw).all(|(a, b)| a == b);
    match list.iter().position(same) {
        Some(i) => i as u16,
        None => {
            list.push(raw.to_vec());
            (list.len() - 1) as u16
        }
    }
}

/// Adds `v` to a budget's sum in `currency` on `day`.
#[inline]
fn add_to(sums: &mut Vec<Acc>, currency: u16, day: Day, v: &Fixed) -> Result<(), Overflow> {
    let at = match sums.iter().position(|a| a.currency == currency) {
        Some(at) => at,
        None => {
            sums.push(Acc {
                currency,
                days: [Sum::default(); 32],
            });
            sums.len() - 1
        }
    };
    sums[at].days[day].add_fixed(v)
}

/// What the row adds to the budgets of measure `key`.
fn measure(
    key: &MeasureKey,
    flavor: Option<Flavor>,
    line: &Line<'_, '_>,
) -> Result<Value, RowError> {
    let c = line.c;
    match flavor.expect("bound") {
        Flavor::Cur1 | Flavor::Cur2 => {
            if let Some(unit) = &key.unit {
                return usage_value(line, c, line.line_type.is_usage(), unit);
            }
            if key.exclude != 0 && key.exclude & (1 << (line.cur_kind() as u16)) != 0 {
                return Ok(Value::Out);
            }
            let cost = line.cost_of(key.cost);
            if let Some(col) = line.bad.get() {
                return Err(col.invalid_amount(line.r));
            }
            Ok(match cost {
                Ok(v) => Value::Adds(Fixed::of(v)),
                Err(missing) => Value::Cannot(missing.to_string()),
            })
        }
        Flavor::Focus => {
            let category = text(line.cell(c.category));
            if let Some(unit) = &key.unit {
                return usage_value(line, c, category.eq_ignore_ascii_case("Usage"), unit);
            }
            let billed = line.cost;
            if key.exclude != 0 && key.exclude & (1 << (line.focus_kind() as u16)) != 0 {
                return Ok(Value::Out);
            }
            let effective = match key.cost {
                CostType::Amortized | CostType::NetAmortized => amount(c.effective, line.r)?,
                _ => Decimal::ZERO,
            };
            Ok(match focus_cost(billed, effective, key.cost) {
                Ok(v) => Value::Adds(Fixed::of(v)),
                Err(why) => Value::Cannot(why),
            })
        }
    }
}

fn spend_of(
    acc: Acc,
    currencies: &[Vec<u8>],
    dated: bool,
    month_days: Option<u32>,
) -> Result<Spend, ErrorKind> {
    let mut total = Sum::default();
    let mut days = [Decimal::ZERO; 32];
    for (d, v) in days.iter_mut().zip(acc.days) {
        *d = v.value().map_err(|_| overflow())?;
        total.absorb(v).map_err(|_| overflow())?;
    }
    let total = total.value().map_err(|_| overflow())?;
    let days = match (dated, month_days) {
        (true, Some(m)) => days[1..=m as usize].to_vec(),
        _ => Vec::new(),
    };
    // Days past the month's end cannot be booked (day_of checks the month), so `once` is what
    // is on no day.
    let once = total - days.iter().copied().sum::<Decimal>();
    Ok(Spend {
        currency: crate::ledger::key_text(&currencies[acc.currency as usize]),
        total,
        once,
        days,
    })
}

fn other_units_note(spec: &Spec, other: &BTreeMap<Vec<u8>, u64>) -> Vec<String> {
    if other.is_empty() {
        return Vec::new();
    }
    let lines: u64 = other.values().sum();
    let units: Vec<String> = other
        .keys()
        .map(|u| crate::ledger::key_text(u))
        .take(5)
        .collect();
    let more = if other.len() > 5 { ", …" } else { "" };
    vec![format!(
        "{lines} usage line(s) in other units ({}{more}) matched the filter and are not counted in {}; narrow the filter (usage_types) to usage of {}",
        units.join(", "),
        spec.unit.as_deref().unwrap_or_default(),
        spec.unit.as_deref().unwrap_or_default(),
    )]
}

/// The cell a source reads in a row (empty for an absent source).
#[inline]
fn source_cell<'r>(place: &Place, r: &Record<'r>) -> &'r [u8] {
    match place {
        Place::Column(a, b) => {
            let first = cell(r, *a);
            match b {
                Some(b) if first.is_empty() => cell(r, *b),
                _ => first,
            }
        }
        Place::MapKey(col, _) => cell(r, *col),
        Place::Absent(_) => &[],
    }
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
    line: &Line<'_, '_>,
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
    if unit_col.get(line.r) != unit.as_bytes() {
        return Ok(Value::OtherUnit);
    }
    Ok(Value::Adds(Fixed::of(amount_col.amount_or_zero(line.r)?)))
}

/// One row as the measures read it, with what they share worked out once: its cost as the
/// format summed it, its charge kind, and each cost type at most once. A figure's cell that
/// is not an amount is kept in `bad` (the cost rules cannot fail on it) and turned into the
/// row's error after.
struct Line<'a, 'r> {
    r: &'a Record<'r>,
    c: &'a MeasureCols,
    /// `lineItem/UnblendedCost` (CUR) or `BilledCost` (FOCUS), as the format parsed it.
    cost: Decimal,
    /// `lineItem/LineItemType`, read once.
    item_type: &'r str,
    line_type: LineType,
    kind: Cell<Option<ChargeKind>>,
    /// Each cost type's answer, once worked out (so each figure is read at most once or twice).
    costs: [Cell<Option<Result<Decimal, Field>>>; CostType::ALL.len()],
    bad: Cell<Option<Col>>,
}

impl<'a, 'r> Line<'a, 'r> {
    fn new(r: &'a Record<'r>, c: &'a MeasureCols, cost: Decimal) -> Self {
        let item_type = text(c.item_type.map(|col| col.get(r)).unwrap_or_default());
        Self {
            r,
            c,
            cost,
            item_type,
            line_type: LineType::of(item_type),
            kind: Cell::new(None),
            costs: Default::default(),
            bad: Cell::new(None),
        }
    }

    /// The line's cost under `cost`, worked out once per row.
    fn cost_of(&self, cost: CostType) -> Result<Decimal, Missing> {
        let slot = &self.costs[cost as usize];
        let known = match slot.get() {
            Some(known) => known,
            None => {
                let known = cur_cost(self, cost).map_err(|m| m.field);
                slot.set(Some(known));
                known
            }
        };
        known.map_err(|field| Missing { cost, field })
    }

    fn cell(&self, col: Option<Col>) -> &'r [u8] {
        col.map(|c| c.get(self.r)).unwrap_or_default()
    }

    /// A CUR line's charge kind, read once.
    fn cur_kind(&self) -> ChargeKind {
        self.kind_once(|| {
            ChargeKind::of_line(self.line_type, self.product_code(), self.reservation_arn())
        })
    }

    /// A FOCUS line's charge kind, read once.
    fn focus_kind(&self) -> ChargeKind {
        let c = self.c;
        self.kind_once(|| {
            ChargeKind::of_focus(
                text(self.cell(c.category)),
                text(self.cell(c.class)),
                text(self.cell(c.frequency)),
                text(self.cell(c.service_name)),
                self.cost,
            )
        })
    }

    fn kind_once(&self, read: impl FnOnce() -> ChargeKind) -> ChargeKind {
        if let Some(k) = self.kind.get() {
            return k;
        }
        let k = read();
        self.kind.set(Some(k));
        k
    }
}

impl CurLine for Line<'_, '_> {
    fn line_item_type(&self) -> &str {
        self.item_type
    }
    fn line_type(&self) -> LineType {
        self.line_type
    }
    fn product_code(&self) -> &str {
        text(self.cell(self.c.product_code))
    }
    fn reservation_arn(&self) -> &str {
        text(self.cell(self.c.reservation_arn))
    }
    fn payment_option(&self) -> &str {
        text(self.cell(self.c.payment_option))
    }
    fn figure(&self, field: Field) -> Option<Decimal> {
        if field == Field::Unblended {
            return Some(self.cost);
        }
        self.c.figures[field as usize].map(|col| {
            let raw = col.get(self.r);
            if raw.is_empty() {
                return Decimal::ZERO;
            }
            parse_amount(raw).unwrap_or_else(|| {
                if self.bad.get().is_none() {
                    self.bad.set(Some(col));
                }
                Decimal::ZERO
            })
        })
    }
}

#[cfg(test)]
#[path = "budget_rows_tests.rs"]
mod tests;
