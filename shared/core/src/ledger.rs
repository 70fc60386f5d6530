//! Totals per (account, service, currency), in exact decimals, built without allocating per row.
//!
//! Keys are interned: a row's account, service and currency bytes are looked up by reference,
//! and only a key never seen before allocates.
//!
//! Formats with dated usage rows (CUR, FOCUS) also keep, per key, the usage-side amounts per day
//! of the billing month ([`Days`]), allocated once per key on its first dated row.

use crate::money::{add_exact, add_into, Overflow};
use crate::report::record::Pos;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The hasher of the per-row maps: fast on short keys, seeded per process (so a crafted report
/// cannot aim for collisions).
type Fast = foldhash::fast::RandomState;

/// The parts a total splits into, where a format distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Charges,
    Fees,
    Credits,
    Refunds,
    Discounts,
    Tax,
    Adjustments,
}

impl Part {
    pub const ALL: [Part; 7] = [
        Part::Charges,
        Part::Fees,
        Part::Credits,
        Part::Refunds,
        Part::Discounts,
        Part::Tax,
        Part::Adjustments,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Part::Charges => "charges",
            Part::Fees => "fees",
            Part::Credits => "credits",
            Part::Refunds => "refunds",
            Part::Discounts => "discounts",
            Part::Tax => "tax",
            Part::Adjustments => "adjustments",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A cost and its split into parts; the parts always add up to the cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amounts {
    pub cost: Decimal,
    parts: [Decimal; 7],
}

impl Amounts {
    /// Adds exactly, to the cost and to the part; on [`Overflow`] nothing changes.
    #[inline]
    pub fn add(&mut self, part: Part, amount: Decimal) -> Result<(), Overflow> {
        let cost = add_exact(self.cost, amount).ok_or(Overflow)?;
        let slot = &mut self.parts[part.index()];
        *slot = add_exact(*slot, amount).ok_or(Overflow)?;
        self.cost = cost;
        Ok(())
    }

    pub fn part(&self, part: Part) -> Decimal {
        self.parts[part.index()]
    }

    /// Adds another key's amounts exactly; on [`Overflow`] `self` may be partly merged (the
    /// caller abandons the sum).
    pub fn merge(&mut self, other: &Amounts) -> Result<(), Overflow> {
        add_into(&mut self.cost, other.cost)?;
        for (mine, theirs) in self.parts.iter_mut().zip(other.parts.iter()) {
            add_into(mine, *theirs)?;
        }
        Ok(())
    }
}

/// Bytes → small integer, allocating only for a value never seen before.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<Box<[u8]>, u32, Fast>,
    values: Vec<Box<[u8]>>,
    /// The id last answered: rows repeat their neighbours' keys (one currency, runs of one
    /// account), and a comparison is cheaper than a hash.
    last: u32,
}

impl Interner {
    pub fn id(&mut self, value: &[u8]) -> u32 {
        if let Some(id) = self.get(value) {
            self.last = id;
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.into());
        self.ids.insert(value.into(), id);
        id
    }

    /// The id of a value already seen, the last answer first.
    #[inline]
    pub fn get(&self, value: &[u8]) -> Option<u32> {
        match self.values.get(self.last as usize) {
            Some(v) if **v == *value => Some(self.last),
            _ => self.ids.get(value).copied(),
        }
    }

    /// The value as text, losslessly: see [`key_text`].
    pub fn text(&self, id: u32) -> String {
        key_text(&self.values[id as usize])
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The ids `other`'s values have here (interning the new ones), indexed by `other`'s ids.
    pub fn translate(&mut self, other: &Interner) -> Vec<u32> {
        other.values.iter().map(|v| self.id(v)).collect()
    }
}

/// Key bytes as text, without merging distinct values: valid UTF-8 without a backslash is kept
/// as it is (every real account id, service code and currency); otherwise each backslash is
/// doubled and each byte that is not part of valid UTF-8 is written `\xNN`. Two different byte
/// strings never give the same text.
pub fn key_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) if !text.contains('\\') => text.to_string(),
        _ => {
            let mut out = String::with_capacity(key_text_len(raw));
            for chunk in raw.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if c == '\\' {
                        out.push_str("\\\\");
                    } else {
                        out.push(c);
                    }
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

/// The length in bytes of [`key_text`]`(raw)`, without building it.
pub fn key_text_len(raw: &[u8]) -> usize {
    raw.utf8_chunks()
        .map(|chunk| {
            chunk.valid().len()
                + chunk.valid().bytes().filter(|&b| b == b'\\').count()
                + 4 * chunk.invalid().len()
        })
        .sum()
}

/// Key of one total: interned account, service and currency.
pub type Key = (u32, u32, u32);

/// Usage-side amounts of one key per day of the billing month: index `d` (1..=31) holds day `d`;
/// index 0 holds what could not be placed on one day of the month (an unparsable date, a date
/// outside the billing month, a row spanning more than one day).
pub type Days = [Decimal; 32];

/// The day a usage-side row is booked on: 1..=31, or 0 for "not on one day of the month".
pub type Day = usize;

/// Keys per page of [`Slots`]: pages are allocated whole, so a ledger never holds more than one
/// page of unused slots (a `Vec` that doubles would hold up to as many again as it uses).
const PAGE: usize = 1024;

/// One key's running state: its key (for iteration), amounts and days ([`DayStore`] handle).
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Key,
    amounts: Amounts,
    days: u32,
}

/// The keys' slots, in the order the keys were first seen, in pages of [`PAGE`].
#[derive(Debug, Default)]
struct Slots {
    pages: Vec<Vec<Slot>>,
    len: usize,
}

impl Slots {
    fn push(&mut self, slot: Slot) -> u32 {
        if self.len.is_multiple_of(PAGE) {
            self.pages.push(Vec::with_capacity(PAGE));
        }
        self.pages.last_mut().expect("a page").push(slot);
        self.len += 1;
        (self.len - 1) as u32
    }

    #[inline]
    fn get(&self, i: u32) -> &Slot {
        let i = i as usize;
        &self.pages[i / PAGE][i % PAGE]
    }

    #[inline]
    fn get_mut(&mut self, i: u32) -> &mut Slot {
        let i = i as usize;
        &mut self.pages[i / PAGE][i % PAGE]
    }

    fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.pages.iter().flatten()
    }
}

/// No days (the key had no usage-side row through [`Ledger::add_on_day`]).
const NO_DAYS: u32 = u32::MAX;
/// A handle with this bit set is a full month ([`Days`]) in [`DayStore::full`].
const FULL: u32 = 1 << 31;
/// Days a small block holds before it becomes a full month.
const SMALL: usize = 4;

/// Up to [`SMALL`] days of one key: (day, amount) in the order first booked.
#[derive(Debug, Clone, Copy, Default)]
struct Few {
    len: u8,
    day: [u8; SMALL],
    amount: [Decimal; SMALL],
}

/// Every key's amounts per day. Most keys of a large report have usage on a few days of the
/// month: they take a small block ([`Few`], 72 bytes); a key booked on more days than that
/// moves to a full month (512 bytes), and its small block is reused.
#[derive(Debug, Default)]
struct DayStore {
    few: Vec<Few>,
    free: Vec<u32>,
    full: Vec<Days>,
}

impl DayStore {
    /// Adds `amount` on `day` of the days behind `handle` (allocating them when `NO_DAYS`); on
    /// [`Overflow`] the day's amount is unchanged.
    fn add(&mut self, handle: &mut u32, day: usize, amount: Decimal) -> Result<(), Overflow> {
        let cell = self.cell(handle, day);
        *cell = add_exact(*cell, amount).ok_or(Overflow)?;
        Ok(())
    }

    /// The amount of `day` behind `handle`, made room for (at zero) when new: days are allocated
    /// when `handle` is `NO_DAYS`, and a small block that is full moves to a full month.
    #[inline]
    fn cell(&mut self, handle: &mut u32, day: usize) -> &mut Decimal {
        if *handle != NO_DAYS && *handle & FULL != 0 {
            return &mut self.full[(*handle & !FULL) as usize][day];
        }
        self.cell_few(handle, day)
    }

    fn cell_few(&mut self, handle: &mut u32, day: usize) -> &mut Decimal {
        if *handle == NO_DAYS {
            *handle = match self.free.pop() {
                Some(i) => i,
                None => {
                    self.few.push(Few::default());
                    (self.few.len() - 1) as u32
                }
            };
        }
        let h = *handle as usize;
        let n = self.few[h].len as usize;
        if let Some(i) = self.few[h].day[..n].iter().position(|&d| d as usize == day) {
            return &mut self.few[h].amount[i];
        }
        let few = &mut self.few[h];
        if n < SMALL {
            few.day[n] = day as u8;
            few.amount[n] = Decimal::ZERO;
            few.len += 1;
            return &mut few.amount[n];
        }
        // A fifth day: the key moves to a full month.
        let mut month = [Decimal::ZERO; 32];
        for (&d, &a) in few.day.iter().zip(few.amount.iter()) {
            month[d as usize] = a;
        }
        *few = Few::default();
        self.free.push(*handle);
        self.full.push(month);
        *handle = FULL | (self.full.len() - 1) as u32;
        &mut self.full[(*handle & !FULL) as usize][day]
    }

    /// The days behind `handle` as a month, if it has any.
    fn month(&self, handle: u32) -> Option<Days> {
        if handle == NO_DAYS {
            return None;
        }
        if handle & FULL != 0 {
            return Some(self.full[(handle & !FULL) as usize]);
        }
        let few = &self.few[handle as usize];
        let mut month = [Decimal::ZERO; 32];
        for i in 0..few.len as usize {
            month[few.day[i] as usize] = few.amount[i];
        }
        Some(month)
    }

    /// Each (day, amount) behind `handle` that was booked (in a full month: every day).
    fn each(
        &self,
        handle: u32,
        mut f: impl FnMut(usize, Decimal) -> Result<(), Overflow>,
    ) -> Result<(), Overflow> {
        if handle == NO_DAYS {
            return Ok(());
        }
        if handle & FULL != 0 {
            // A day never booked holds zero, which adds nothing anywhere.
            for (d, &a) in self.full[(handle & !FULL) as usize].iter().enumerate() {
                if a.serialize() != Decimal::ZERO.serialize() {
                    f(d, a)?;
                }
            }
            return Ok(());
        }
        let few = &self.few[handle as usize];
        for i in 0..few.len as usize {
            f(few.day[i] as usize, few.amount[i])?;
        }
        Ok(())
    }

    fn bytes(&self) -> usize {
        self.few.capacity() * std::mem::size_of::<Few>()
            + self.free.capacity() * 4
            + self.full.capacity() * std::mem::size_of::<Days>()
    }
}

/// Running totals of one report.
///
/// Memory per key (measured: docs/scale.md, "Many keys"): the key's index entry (a key and a
/// slot number in a hash table, 16 bytes a bucket), its slot (key, [`Amounts`], a days handle:
/// 144 bytes, in pages of 1,024 keys) and, for keys with usage rows, its days (a block of up
/// to four, 72 bytes, or a full month, 512).
#[derive(Debug, Default)]
pub struct Ledger {
    pub accounts: Interner,
    pub services: Interner,
    pub currencies: Interner,
    /// Display name per service id, filled from the first row that has one, and where that row
    /// is (so that ledgers filled from different chunks agree on which row came first).
    service_names: Vec<(Pos, String)>,
    /// Key → its slot.
    index: HashMap<Key, u32, Fast>,
    slots: Slots,
    days: DayStore,
    /// Whether any row was booked on a day of the month (index 1..=31 of [`Days`]).
    dated: bool,
}

impl Ledger {
    /// The entry for a row's (account, service, currency), created at zero when new.
    pub fn entry(&mut self, account: &[u8], service: &[u8], currency: &[u8]) -> &mut Amounts {
        &mut self.entry_of(account, service, currency).amounts
    }

    fn entry_of(&mut self, account: &[u8], service: &[u8], currency: &[u8]) -> &mut Slot {
        let key = (
            self.accounts.id(account.trim_ascii()),
            self.services.id(service.trim_ascii()),
            self.currencies.id(currency.trim_ascii()),
        );
        let i = self.slot_of(key);
        self.slots.get_mut(i)
    }

    /// The slot of `key`, created at zero when new.
    #[inline]
    fn slot_of(&mut self, key: Key) -> u32 {
        let slots = &mut self.slots;
        *self.index.entry(key).or_insert_with(|| {
            slots.push(Slot {
                key,
                amounts: Amounts::default(),
                days: NO_DAYS,
            })
        })
    }

    /// Adds a usage-side amount to the key's total and to its day `day` (0 = not on one day of the
    /// month; see [`Days`]). The key's days are allocated on its first such row only.
    pub fn add_on_day(
        &mut self,
        account: &[u8],
        service: &[u8],
        currency: &[u8],
        part: Part,
        amount: Decimal,
        day: Day,
    ) -> Result<(), Overflow> {
        let day = if day < 32 { day } else { 0 };
        let key = (
            self.accounts.id(account.trim_ascii()),
            self.services.id(service.trim_ascii()),
            self.currencies.id(currency.trim_ascii()),
        );
        let i = self.slot_of(key);
        let slot = self.slots.get_mut(i);
        // The day's sum first, then the amounts (which change only if every sum fits), then the
        // day: on overflow nothing changes (but a new day's room, at zero).
        let cell = self.days.cell(&mut slot.days, day);
        let on_day = add_exact(*cell, amount).ok_or(Overflow)?;
        slot.amounts.add(part, amount)?;
        *cell = on_day;
        self.dated |= day != 0;
        Ok(())
    }

    /// Whether any row was booked on a day of the month: the report has daily usage.
    pub fn has_days(&self) -> bool {
        self.dated
    }

    /// The key's usage per day, if any usage-side row of the key went through [`Self::add_on_day`].
    pub fn days(&self, key: &Key) -> Option<Days> {
        let i = *self.index.get(key)?;
        self.days.month(self.slots.get(i).days)
    }

    /// The key in slot `i` (slots are numbered 0..[`Self::len`], in the order keys were first seen).
    pub fn key_at(&self, i: u32) -> Key {
        self.slots.get(i).key
    }

    /// The amounts in slot `i`.
    pub fn amounts_at(&self, i: u32) -> &Amounts {
        &self.slots.get(i).amounts
    }

    /// The usage per day in slot `i`, as [`Self::days`].
    pub fn days_at(&self, i: u32) -> Option<Days> {
        self.days.month(self.slots.get(i).days)
    }

    /// Distinct (account, service, currency) keys.
    pub fn len(&self) -> usize {
        self.slots.len
    }

    /// Bytes this ledger holds for its keys (index, slots, days; not the interned texts).
    pub fn key_bytes(&self) -> usize {
        self.index.capacity() * (std::mem::size_of::<(Key, u32)>() + 1)
            + self.slots.pages.len() * PAGE * std::mem::size_of::<Slot>()
            + self.days.bytes()
    }

    /// Whether the service still lacks a display name (cheap; call before extracting a name).
    pub fn needs_service_name(&self, service: &[u8]) -> bool {
        // Usually the service a row was just booked on: the interner's last answer.
        match self.services.get(service.trim_ascii()) {
            Some(id) => self
                .service_names
                .get(id as usize)
                .is_none_or(|(_, n)| n.is_empty()),
            None => true,
        }
    }

    /// Sets the service's display name, unless a row before `pos` already gave one.
    pub fn set_service_name(&mut self, service: &[u8], name: &[u8], pos: Pos) {
        let name = String::from_utf8_lossy(name.trim_ascii());
        if name.is_empty() || name.eq_ignore_ascii_case("NULL") {
            return;
        }
        let id = self.services.id(service.trim_ascii());
        self.name_service(id, pos, &name);
    }

    fn name_service(&mut self, id: u32, pos: Pos, name: &str) {
        let id = id as usize;
        if self.service_names.len() <= id {
            self.service_names
                .resize(id + 1, (Pos::default(), String::new()));
        }
        let slot = &mut self.service_names[id];
        if slot.1.is_empty() || pos < slot.0 {
            *slot = (pos, name.to_string());
        }
    }

    pub fn service_name(&self, service_id: u32) -> Option<&str> {
        self.service_names
            .get(service_id as usize)
            .map(|(_, n)| n.as_str())
            .filter(|n| !n.is_empty())
    }

    /// Adds every total of `other` (filled from other rows of the same report) exactly; service
    /// names keep the earliest row's. On [`Overflow`] `self` may be partly merged (the caller
    /// abandons the sum).
    pub fn absorb(&mut self, other: Ledger) -> Result<(), Overflow> {
        let accounts = self.accounts.translate(&other.accounts);
        let services = self.services.translate(&other.services);
        let currencies = self.currencies.translate(&other.currencies);
        for theirs in other.slots.iter() {
            let (a, s, c) = theirs.key;
            let key = (
                accounts[a as usize],
                services[s as usize],
                currencies[c as usize],
            );
            let i = self.slot_of(key);
            let mine = self.slots.get_mut(i);
            mine.amounts.merge(&theirs.amounts)?;
            let (days, handle) = (&mut self.days, &mut mine.days);
            other
                .days
                .each(theirs.days, |d, amount| days.add(handle, d, amount))?;
        }
        for (id, (pos, name)) in other.service_names.iter().enumerate() {
            if !name.is_empty() {
                self.name_service(services[id], *pos, name);
            }
        }
        self.dated |= other.dated;
        Ok(())
    }

    /// Every key and its amounts, in the order the keys were first seen.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Amounts)> {
        self.slots.iter().map(|s| (&s.key, &s.amounts))
    }

    pub fn is_empty(&self) -> bool {
        self.slots.len == 0
    }

    /// Σ cost per (account text, currency text).
    pub fn per_account(&self) -> Result<HashMap<(String, String), Decimal>, Overflow> {
        let mut out: HashMap<(String, String), Decimal> = HashMap::new();
        for (&(a, _, c), amounts) in self.iter() {
            add_into(
                out.entry((self.accounts.text(a), self.currencies.text(c)))
                    .or_default(),
                amounts.cost,
            )?;
        }
        Ok(out)
    }

    /// Σ cost per currency text.
    pub fn per_currency(&self) -> Result<HashMap<String, Decimal>, Overflow> {
        let mut out: HashMap<String, Decimal> = HashMap::new();
        for (&(_, _, c), amounts) in self.iter() {
            add_into(
                out.entry(self.currencies.text(c)).or_default(),
                amounts.cost,
            )?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn totals_are_kept_per_account_service_and_currency() {
        let mut l = Ledger::default();
        l.entry(b"111", b"AmazonEC2", b"USD")
            .add(Part::Charges, d("1.10"))
            .unwrap();
        l.entry(b"111", b"AmazonEC2", b"USD")
            .add(Part::Credits, d("-0.10"))
            .unwrap();
        l.entry(b"111", b"AmazonEC2", b"EUR")
            .add(Part::Charges, d("2"))
            .unwrap();
        l.entry(b"222", b"AmazonEC2", b"USD")
            .add(Part::Tax, d("0.5"))
            .unwrap();
        let per_currency = l.per_currency().unwrap();
        assert_eq!(per_currency["USD"], d("1.5"));
        assert_eq!(per_currency["EUR"], d("2"));
        let per_account = l.per_account().unwrap();
        assert_eq!(per_account[&("111".into(), "USD".into())], d("1.00"));
        let ec2 = l.entry(b"111", b"AmazonEC2", b"USD");
        assert_eq!(ec2.cost, d("1.00"));
        assert_eq!(ec2.part(Part::Charges) + ec2.part(Part::Credits), ec2.cost);
    }

    #[test]
    fn usage_is_kept_per_day_beside_the_total() {
        let mut l = Ledger::default();
        l.entry(b"1", b"AmazonS3", b"USD")
            .add(Part::Tax, d("9"))
            .unwrap();
        assert!(!l.has_days());
        l.add_on_day(b"1", b"AmazonEC2", b"USD", Part::Charges, d("1.5"), 3)
            .unwrap();
        l.add_on_day(b"1", b"AmazonEC2", b"USD", Part::Discounts, d("-0.5"), 3)
            .unwrap();
        l.add_on_day(b"1", b"AmazonEC2", b"USD", Part::Charges, d("2"), 0)
            .unwrap();
        l.add_on_day(b"1", b"AmazonEC2", b"USD", Part::Charges, d("7"), 99)
            .unwrap();
        assert!(l.has_days());
        let ec2 = (
            l.accounts.id(b"1"),
            l.services.id(b"AmazonEC2"),
            l.currencies.id(b"USD"),
        );
        let days = l.days(&ec2).unwrap();
        assert_eq!(days[3], d("1.0"));
        assert_eq!(days[0], d("9"));
        assert_eq!(days.iter().sum::<Decimal>(), d("10.0"));
        assert_eq!(l.entry(b"1", b"AmazonEC2", b"USD").cost, d("10.0"));
        let s3 = (ec2.0, l.services.id(b"AmazonS3"), ec2.2);
        assert!(l.days(&s3).is_none());
        assert_eq!(l.per_currency().unwrap()["USD"], d("19.0"));
    }

    #[test]
    fn key_text_is_lossless() {
        assert_eq!(key_text(b"AmazonEC2"), "AmazonEC2");
        assert_eq!(key_text("Zürich".as_bytes()), "Zürich");
        assert_eq!(key_text(b"Amazon\xff"), "Amazon\\xff");
        assert_eq!(key_text(b"Amazon\xfe"), "Amazon\\xfe");
        assert_eq!(key_text(b"Amazon\\xff"), "Amazon\\\\xff");
        assert_eq!(key_text(b"a\xc3"), "a\\xc3");
        for raw in [&b"Amazon\xff"[..], b"a\\b", b"\xc3\xa9\xff", b"plain"] {
            assert_eq!(key_text_len(raw), key_text(raw).len());
        }
    }

    #[test]
    fn service_name_comes_from_the_first_row_that_has_one() {
        let mut l = Ledger::default();
        l.entry(b"1", b"AmazonS3", b"USD");
        assert!(l.needs_service_name(b"AmazonS3"));
        let at = |line| Pos {
            line,
            ..Pos::default()
        };
        l.set_service_name(b"AmazonS3", b"", at(1));
        l.set_service_name(b"AmazonS3", b"Amazon Simple Storage Service", at(2));
        l.set_service_name(b"AmazonS3", b"Other", at(3));
        assert!(!l.needs_service_name(b"AmazonS3"));
        let id = l.services.id(b"AmazonS3");
        assert_eq!(l.service_name(id), Some("Amazon Simple Storage Service"));
    }
}
