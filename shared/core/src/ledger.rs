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

/// One key's running state.
#[derive(Debug, Default)]
struct Entry {
    amounts: Amounts,
    days: Option<Box<Days>>,
}

/// Running totals of one report.
#[derive(Debug, Default)]
pub struct Ledger {
    pub accounts: Interner,
    pub services: Interner,
    pub currencies: Interner,
    /// Display name per service id, filled from the first row that has one, and where that row
    /// is (so that ledgers filled from different chunks agree on which row came first).
    service_names: Vec<(Pos, String)>,
    totals: HashMap<Key, Entry, Fast>,
    /// Whether any row was booked on a day of the month (index 1..=31 of [`Days`]).
    dated: bool,
}

impl Ledger {
    /// The entry for a row's (account, service, currency), created at zero when new.
    pub fn entry(&mut self, account: &[u8], service: &[u8], currency: &[u8]) -> &mut Amounts {
        &mut self.entry_of(account, service, currency).amounts
    }

    fn entry_of(&mut self, account: &[u8], service: &[u8], currency: &[u8]) -> &mut Entry {
        let key = (
            self.accounts.id(account.trim_ascii()),
            self.services.id(service.trim_ascii()),
            self.currencies.id(currency.trim_ascii()),
        );
        self.totals.entry(key).or_default()
    }

    /// Adds a usage-side amount to the key's total and to its day `day` (0 = not on one day of the
    /// month; see [`Days`]). The key's day array is allocated on its first such row only.
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
        let entry = self.entry_of(account, service, currency);
        let days = entry
            .days
            .get_or_insert_with(|| Box::new([Decimal::ZERO; 32]));
        let on_day = add_exact(days[day], amount).ok_or(Overflow)?;
        entry.amounts.add(part, amount)?;
        days[day] = on_day;
        self.dated |= day != 0;
        Ok(())
    }

    /// Whether any row was booked on a day of the month: the report has daily usage.
    pub fn has_days(&self) -> bool {
        self.dated
    }

    /// The key's usage per day, if any usage-side row of the key went through [`Self::add_on_day`].
    pub fn days(&self, key: &Key) -> Option<&Days> {
        self.totals.get(key).and_then(|e| e.days.as_deref())
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
        for ((a, s, c), entry) in other.totals {
            let key = (
                accounts[a as usize],
                services[s as usize],
                currencies[c as usize],
            );
            let mine = self.totals.entry(key).or_default();
            mine.amounts.merge(&entry.amounts)?;
            match (&mut mine.days, entry.days) {
                (Some(days), Some(theirs)) => {
                    for (d, t) in days.iter_mut().zip(theirs.iter()) {
                        add_into(d, *t)?;
                    }
                }
                (slot @ None, theirs) => *slot = theirs,
                (Some(_), None) => {}
            }
        }
        for (id, (pos, name)) in other.service_names.iter().enumerate() {
            if !name.is_empty() {
                self.name_service(services[id], *pos, name);
            }
        }
        self.dated |= other.dated;
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Amounts)> {
        self.totals.iter().map(|(k, e)| (k, &e.amounts))
    }

    pub fn is_empty(&self) -> bool {
        self.totals.is_empty()
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
