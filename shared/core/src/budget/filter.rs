//! A budget's filter (`[budget.filter]`): which lines of a report a team's budget counts, by
//! account, service, region, usage type, operation, tag and cost category, each with its
//! `not_` exclusion. Pure: the engine hands it a line's dimensions.
//!
//! * Values match exactly; `*` matches any run of characters (`USE1-BoxUsage:*`).
//! * A line counts when, for every dimension the filter names, its value matches one of the
//!   listed values, and it matches none of any `not_` list.
//! * Tags and cost categories: `""` means the line has no value for that key (untagged). A
//!   report without the tag's or category's column cannot answer the filter at all (the tag is
//!   not activated, or the report predates it): that is an error, never "untagged".
//!
//! The engine does not call [`Filter::matches`] per line: it judges each distinct value of each
//! [`Source`] once ([`Filter::judge`]) for all budgets at a time (`report::budget_rows`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A dimension of a report line a filter can select on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Account,
    Service,
    Region,
    UsageType,
    Operation,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Account,
        Dimension::Service,
        Dimension::Region,
        Dimension::UsageType,
        Dimension::Operation,
    ];

    /// Its key in `[budget.filter]` (`not_` before it excludes).
    pub fn key(self) -> &'static str {
        match self {
            Dimension::Account => "accounts",
            Dimension::Service => "services",
            Dimension::Region => "regions",
            Dimension::UsageType => "usage_types",
            Dimension::Operation => "operations",
        }
    }
}

/// A keyed dimension: tags and cost categories, one column (or map key) per name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Keyed {
    Tag,
    CostCategory,
}

impl Keyed {
    pub fn key(self) -> &'static str {
        match self {
            Keyed::Tag => "tags",
            Keyed::CostCategory => "cost_categories",
        }
    }
}

/// One report line as a filter reads it.
pub trait Line {
    /// The line's value of `dimension` (empty when the report leaves it empty).
    fn value(&self, dimension: Dimension) -> &str;
    /// The line's value for tag or cost category `name`: `Some("")` when the line has none,
    /// `None` when the report has no such column at all.
    fn keyed(&self, kind: Keyed, name: &str) -> Option<&str>;
}

/// The list of one `[budget.filter]` key: values to match, or, for tags and cost categories,
/// values per name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Values {
    List(Vec<String>),
    PerName(BTreeMap<String, Vec<String>>),
}

/// A budget's filter: what it includes and what it excludes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(
    try_from = "BTreeMap<String, Values>",
    into = "BTreeMap<String, Values>"
)]
pub struct Filter {
    include: Rules,
    exclude: Rules,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rules {
    plain: BTreeMap<Dimension, Vec<String>>,
    keyed: BTreeMap<(Keyed, String), Vec<String>>,
}

/// A filter a report cannot answer: the column of a tag or cost category is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswerable {
    pub kind: Keyed,
    pub name: String,
}

impl fmt::Display for Unanswerable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Keyed::Tag => write!(
                f,
                "the report has no column for tag {:?} (is it activated as a cost allocation tag?)",
                self.name
            ),
            Keyed::CostCategory => write!(
                f,
                "the report has no column for cost category {:?}",
                self.name
            ),
        }
    }
}

impl Filter {
    /// Whether `line` counts toward the budget.
    pub fn matches(&self, line: &impl Line) -> Result<bool, Unanswerable> {
        Ok(self.include.all_match(line)? && !self.exclude.any_match(line)?)
    }

    /// Whether the filter selects everything (no key given).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Every place the filter reads a line's value, each once.
    pub fn sources(&self) -> std::collections::BTreeSet<Source> {
        [&self.include, &self.exclude]
            .into_iter()
            .flat_map(|r| {
                r.plain.keys().map(|d| Source::Plain(*d)).chain(
                    r.keyed
                        .keys()
                        .map(|(k, name)| Source::Keyed(*k, name.clone())),
                )
            })
            .collect()
    }

    /// `value`, a line's value from `source`, judged on its own: whether it passes the include
    /// rule of that source (true when there is none), and whether it matches its exclusion.
    /// A line counts when every source passes and none excludes: [`Self::matches`].
    pub fn judge(&self, source: &Source, value: &str) -> (bool, bool) {
        fn rule<'r>(r: &'r Rules, source: &Source) -> Option<&'r Vec<String>> {
            match source {
                Source::Plain(d) => r.plain.get(d),
                Source::Keyed(k, name) => r.keyed.get(&(*k, name.clone())),
            }
        }
        let rule = |r| rule(r, source);
        let include = rule(&self.include).is_none_or(|p| any_matches(p, value));
        let exclude = rule(&self.exclude).is_some_and(|p| any_matches(p, value));
        (include, exclude)
    }

    /// This filter with one more include rule: `source` must match one of `values`. A source
    /// the filter already includes on is an error (the two would have to agree).
    pub fn narrowed(mut self, source: Source, values: Vec<String>) -> Result<Filter, String> {
        let taken = match &source {
            Source::Plain(d) => self.include.plain.insert(*d, values).is_some(),
            Source::Keyed(k, name) => self
                .include
                .keyed
                .insert((*k, name.clone()), values)
                .is_some(),
        };
        if taken {
            let key = match source {
                Source::Plain(d) => d.key().to_string(),
                Source::Keyed(k, name) => format!("{}.{name}", k.key()),
            };
            return Err(format!(
                "filter.{key} and the budget's scope (account, service or tag) both select on it: keep one"
            ));
        }
        Ok(self)
    }

    /// Whether the filter names accounts and services only (the dimensions every report has).
    pub fn plain_on_accounts_and_services(&self) -> bool {
        self.sources().iter().all(|s| {
            matches!(
                s,
                Source::Plain(Dimension::Account) | Source::Plain(Dimension::Service)
            )
        })
    }
}

/// Where a filter reads a line's value: a dimension's column, or one tag's or cost category's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Plain(Dimension),
    Keyed(Keyed, String),
}

impl Rules {
    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.keyed.is_empty()
    }

    /// Every dimension named matches one of its values.
    fn all_match(&self, line: &impl Line) -> Result<bool, Unanswerable> {
        for (d, values) in &self.plain {
            if !any_matches(values, line.value(*d)) {
                return Ok(false);
            }
        }
        for ((kind, name), values) in &self.keyed {
            if !any_matches(values, keyed(line, *kind, name)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Some dimension named matches one of its values.
    fn any_match(&self, line: &impl Line) -> Result<bool, Unanswerable> {
        for (d, values) in &self.plain {
            if any_matches(values, line.value(*d)) {
                return Ok(true);
            }
        }
        for ((kind, name), values) in &self.keyed {
            if any_matches(values, keyed(line, *kind, name)?) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn keyed<'a>(line: &'a impl Line, kind: Keyed, name: &str) -> Result<&'a str, Unanswerable> {
    line.keyed(kind, name).ok_or_else(|| Unanswerable {
        kind,
        name: name.to_string(),
    })
}

fn any_matches(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| glob(p, value))
}

/// `pattern` against `value`: `*` matches any run of characters (none included), everything
/// else itself. Linear in the value's length for each `*`-separated piece.
pub fn glob(pattern: &str, value: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty(); // no '*': the whole value was the pattern
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

impl TryFrom<BTreeMap<String, Values>> for Filter {
    type Error = String;

    fn try_from(table: BTreeMap<String, Values>) -> Result<Self, String> {
        let mut filter = Filter::default();
        for (key, values) in table {
            let (rules, base) = match key.strip_prefix("not_") {
                Some(base) => (&mut filter.exclude, base),
                None => (&mut filter.include, key.as_str()),
            };
            if let Some(d) = Dimension::ALL.into_iter().find(|d| d.key() == base) {
                let Values::List(list) = values else {
                    return Err(format!(
                        "filter.{key}: a list of values, e.g. {key} = [\"…\"]"
                    ));
                };
                check_list(&key, &list)?;
                if d == Dimension::Account {
                    if let Some(bad) = list.iter().find(|a| !is_account_pattern(a)) {
                        return Err(format!(
                            "filter.{key}: {bad:?} is not a 12-digit account id"
                        ));
                    }
                }
                rules.plain.insert(d, list);
            } else if let Some(kind) = [Keyed::Tag, Keyed::CostCategory]
                .into_iter()
                .find(|k| k.key() == base)
            {
                let Values::PerName(per_name) = values else {
                    return Err(format!(
                        "filter.{key}: a table of values per name, e.g. {key} = {{ team = [\"data\"] }}"
                    ));
                };
                if per_name.is_empty() {
                    return Err(format!("filter.{key}: names no {}", kind_noun(kind)));
                }
                for (name, list) in per_name {
                    if name.is_empty() {
                        return Err(format!("filter.{key}: an empty {} name", kind_noun(kind)));
                    }
                    check_list(&format!("{key}.{name}"), &list)?;
                    rules.keyed.insert((kind, name), list);
                }
            } else {
                return Err(format!(
                    "filter: unknown key {key:?} (known: {}, each also with not_ before it)",
                    known_keys().join(", ")
                ));
            }
        }
        Ok(filter)
    }
}

fn kind_noun(kind: Keyed) -> &'static str {
    match kind {
        Keyed::Tag => "tag",
        Keyed::CostCategory => "cost category",
    }
}

fn known_keys() -> Vec<&'static str> {
    Dimension::ALL
        .map(Dimension::key)
        .into_iter()
        .chain([Keyed::Tag.key(), Keyed::CostCategory.key()])
        .collect()
}

fn check_list(key: &str, list: &[String]) -> Result<(), String> {
    if list.is_empty() {
        return Err(format!(
            "filter.{key}: an empty list would match nothing; leave the key out to match all"
        ));
    }
    Ok(())
}

/// Twelve digits, or a pattern of digits and `*`.
fn is_account_pattern(a: &str) -> bool {
    let digits = a.chars().filter(char::is_ascii_digit).count();
    a.chars().all(|c| c.is_ascii_digit() || c == '*') && (digits == 12 || a.contains('*'))
}

impl From<Filter> for BTreeMap<String, Values> {
    fn from(f: Filter) -> Self {
        let mut out = BTreeMap::new();
        for (prefix, rules) in [("", f.include), ("not_", f.exclude)] {
            for (d, list) in rules.plain {
                out.insert(format!("{prefix}{}", d.key()), Values::List(list));
            }
            for ((kind, name), list) in rules.keyed {
                let entry = out
                    .entry(format!("{prefix}{}", kind.key()))
                    .or_insert_with(|| Values::PerName(BTreeMap::new()));
                if let Values::PerName(map) = entry {
                    map.insert(name, list);
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
