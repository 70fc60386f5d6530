//! The budgets file (`billwatch budgets check | apply FILE`), read strictly, with every problem
//! named.

use super::*;
use billwatch_core::anomaly::Config as AnomalyConfig;
use billwatch_core::budget::cost::{ChargeKind, Measure};
use billwatch_core::budget::filter::Filter;
use billwatch_core::budget::{decimal, Auto, Draft, Every, Model, Problem, THRESHOLD_FORMS};
use billwatch_core::channel::{Channel, STACK_TOPIC};
use billwatch_core::commitment::Watch;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file: `[[budget]]` tables and the `[anomalies]` settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileDoc {
    budget: Option<Vec<toml::Value>>,
    anomalies: Option<AnomalyConfig>,
    /// Read on their own ([`parse_channels`]); named here so the file's keys are all known.
    #[serde(rename = "channel")]
    _channel: Option<Vec<toml::Value>>,
}

/// The `[[channel]]` tables of a budgets file (docs/channels.md), or every problem, each naming
/// the channel.
pub(super) fn parse_channels(label: &str, text: &str) -> Result<Vec<Channel>, Vec<String>> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| vec![format!("{label}: {}", e.to_string().trim_end())])?;
    let Some(list) = table.get("channel") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(vec![format!("{label}: channel must be [[channel]] tables")]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, value) in list.iter().enumerate() {
        let who = match value.get("name").and_then(|n| n.as_str()) {
            Some(n) => format!("{label}: channel '{n}' (#{})", i + 1),
            None => format!("{label}: channel #{}", i + 1),
        };
        match typed::<Channel>(value.clone()) {
            Err(e) => problems.push(format!("{who}: {e}")),
            Ok(c) => {
                problems.extend(c.problems().iter().map(|p| format!("{who}: {p}")));
                if out.iter().any(|o: &Channel| o.name == c.name) {
                    problems.push(format!("{who}: name: '{}' is declared twice", c.name));
                }
                out.push(c);
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The `[anomalies]` settings of a budgets file (defaults when it has none), or every problem.
pub(super) fn parse_anomalies(label: &str, text: &str) -> Result<AnomalyConfig, Vec<String>> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| vec![format!("{label}: {}", e.to_string().trim_end())])?;
    let Some(value) = table.get("anomalies") else {
        return Ok(AnomalyConfig::default());
    };
    let config: AnomalyConfig = value
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| vec![format!("{label}: anomalies: {}", e.message())])?;
    let problems = config.problems();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems.iter().map(|p| format!("{label}: {p}")).collect())
    }
}

/// One `[[budget]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBudget {
    name: Option<String>,
    amount: Option<toml::Value>,
    currency: Option<String>,
    kind: Option<String>,
    unit: Option<String>,
    cost: Option<String>,
    exclude: Option<Vec<String>>,
    period: Option<String>,
    filter: Option<Filter>,
    scope: Option<String>,
    account: Option<String>,
    service: Option<String>,
    tag: Option<String>,
    thresholds: Option<Vec<toml::Value>>,
    escalation_step: Option<Number>,
    topic_arn: Option<String>,
    digest: Option<toml::Value>,
    days: Option<Vec<u32>>,
    channels: Option<Vec<String>>,
}

/// `amount = { auto = "mean", months = 3 }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuto {
    auto: String,
    months: u32,
}

/// One entry of `thresholds`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileThreshold {
    percent: Option<Number>,
    amount: Option<Number>,
    basis: Option<String>,
}

/// An amount written as a string (exact) or a TOML number.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a decimal number or a string holding one")]
pub(super) enum Number {
    Text(String),
    Integer(i64),
    Float(f64),
}

impl Number {
    pub(super) fn decimal(&self) -> Result<Decimal, String> {
        match self {
            Number::Text(t) => decimal(t),
            Number::Integer(i) => Ok(Decimal::from(*i)),
            Number::Float(f) => {
                // The shortest text that reads back as this float: the literal as written
                // whenever it has at most 15 significant digits (all a float keeps exactly).
                let text = f.to_string();
                let digits = text
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .trim_start_matches('0')
                    .trim_end_matches('0')
                    .len();
                if !f.is_finite() || digits > 15 {
                    return Err(format!(
                        "{f} cannot be read exactly as a TOML number: write it as a string, \
                         e.g. \"1234.56\""
                    ));
                }
                decimal(&text)
            }
        }
    }
}

/// A `T` from one value, or serde's message.
pub(super) fn typed<T: for<'de> Deserialize<'de>>(value: toml::Value) -> Result<T, String> {
    value.try_into::<T>().map_err(|e| e.message().to_string())
}

/// Deserializes a table key by key, so every bad key is reported (with serde's message,
/// `deny_unknown_fields` naming unknown keys), then the good keys together.
pub(super) fn by_key<T: for<'de> Deserialize<'de>>(
    table: toml::Table,
    found: &mut Draft,
) -> Result<T, String> {
    let mut good = toml::Table::new();
    for (key, value) in table {
        let single = toml::Table::from_iter([(key.clone(), value.clone())]);
        match typed::<T>(toml::Value::Table(single)) {
            Ok(_) => {
                good.insert(key, value);
            }
            Err(e) => found.fail(&key, e),
        }
    }
    typed::<T>(toml::Value::Table(good))
}

/// The budgets of a file, or every problem in it (each line naming the file, the budget and
/// the field).
pub(super) fn parse_file(label: &str, text: &str) -> Result<Vec<Budget>, Vec<String>> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| vec![format!("{label}: {}", e.to_string().trim_end())])?;
    let mut top = Draft::default();
    let doc: FileDoc = by_key(table, &mut top).map_err(|e| vec![format!("{label}: {e}")])?;
    let mut lines: Vec<String> = top
        .into_problems()
        .iter()
        .map(|p| format!("{label}: {p}"))
        .collect();
    if let Some(config) = &doc.anomalies {
        lines.extend(config.problems().iter().map(|p| format!("{label}: {p}")));
    }
    let channels = match parse_channels(label, text) {
        Ok(c) => c,
        Err(p) => {
            lines.extend(p);
            Vec::new()
        }
    };
    let entries = doc.budget.unwrap_or_default();
    if entries.is_empty() && lines.is_empty() {
        lines.push(format!(
            "{label}: no [[budget]] tables: apply makes the table equal to the file, so this \
             would remove every budget (use `billwatch budgets rm NAME` for that)"
        ));
    }
    let mut budgets = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let number = i + 1;
        let name = entry
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_string);
        let who = match &name {
            Some(n) => format!("{label}: budget '{n}' (#{number})"),
            None => format!("{label}: budget #{number}"),
        };
        let mut problems = match parse_budget(entry) {
            Ok(b) => {
                let unknown: Vec<Problem> = b
                    .channels
                    .iter()
                    .filter(|c| *c != STACK_TOPIC && !channels.iter().any(|d| d.name == **c))
                    .map(|c| {
                        Problem::new(
                            "channels",
                            format!("'{c}' is not a [[channel]] of this file (or \"{STACK_TOPIC}\", the stack's topic)"),
                        )
                    })
                    .collect();
                budgets.push(b);
                unknown
            }
            Err(p) => p,
        };
        if let Some(n) = name {
            match names.get(&n) {
                Some(first) => problems.push(Problem::new(
                    "name",
                    format!("'{n}' is also the name of budget #{first}"),
                )),
                None => {
                    names.insert(n, number);
                }
            }
        }
        lines.extend(problems.iter().map(|p| format!("{who}: {p}")));
    }
    if lines.is_empty() {
        Ok(budgets)
    } else {
        Err(lines)
    }
}

/// One `[[budget]]`, or every problem in it.
pub(super) fn parse_budget(entry: toml::Value) -> Result<Budget, Vec<Problem>> {
    let toml::Value::Table(table) = entry else {
        return Err(vec![Problem::new("budget", "must be a table ([[budget]])")]);
    };
    let mut f = Draft::default();
    let mut raw: FileBudget = match by_key(table, &mut f) {
        Ok(raw) => raw,
        Err(e) => {
            f.fail("budget", e);
            return Err(f.into_problems());
        }
    };
    let name = budget_name(&mut f, raw.name.take());
    let watch = raw
        .kind
        .as_deref()
        .and_then(|k| Watch::of_kind(k, raw.days.clone()));
    if let Some(w) = &watch {
        return parse_commitment_budget(f, name, w.clone(), raw);
    }
    if raw.days.is_some() {
        f.fail(
            "days",
            "only a commitment_expiry budget has lead times (days)",
        );
    }
    let (amount, auto) = budget_amount(&mut f, raw.amount);
    let unit = budget_unit(&mut f, raw.kind.as_deref(), raw.unit);
    let usage = raw.kind.as_deref() == Some("usage");
    if usage && raw.currency.is_some() {
        f.fail(
            "currency",
            "a usage budget counts its unit, not money: leave currency out",
        );
    }
    let currency = match &unit {
        Some(unit) => unit.clone(),
        None if usage => "USD".into(),
        None => budget_currency(&mut f, raw.currency),
    };
    let scope = budget_scope(&mut f, raw.scope, raw.account, raw.service, raw.tag);
    let model = Model {
        measure: Measure {
            cost: read_or(&mut f, "cost", raw.cost.as_deref(), |c| c.parse()),
            exclude: raw
                .exclude
                .unwrap_or_default()
                .iter()
                .filter_map(|k| match ChargeKind::excludable(k) {
                    Ok(kind) => Some(kind),
                    Err(e) => {
                        f.fail("exclude", e);
                        None
                    }
                })
                .collect(),
        },
        filter: raw.filter.unwrap_or_default(),
        cadence: read_or(&mut f, "period", raw.period.as_deref(), |c| c.parse()),
        unit,
        auto,
        watch: None,
    };
    let (thresholds, index) = budget_thresholds(&mut f, raw.thresholds, &currency);
    let escalation_step = budget_escalation(&mut f, raw.escalation_step.as_ref());
    let (digest_on, digest_every) = budget_digest(&mut f, raw.digest.clone());
    let budget = Budget {
        name,
        scope,
        amount,
        currency,
        thresholds,
        escalation_step,
        topic_arn: raw.topic_arn,
        digest: digest_on,
        channels: raw.channels.unwrap_or_default(),
        digest_every,
        model,
    };
    f.finish(budget, &index)
}

/// A commitment budget (`kind = "ri_utilization"`, …, `"commitment_expiry"`): no amount (a
/// gauge's lines are percentages, `below 90%`; an expiry budget's are its `days`), its currency
/// that of the money it names (USD unless given), a filter on accounts and services.
fn parse_commitment_budget(
    mut f: Draft,
    name: String,
    watch: Watch,
    raw: FileBudget,
) -> Result<Budget, Vec<Problem>> {
    let kind = watch.kind_name();
    if raw.amount.is_some() {
        f.fail(
            "amount",
            format!(
                "a {kind} budget has no amount: its lines are percentages (\"below 90%\") or days"
            ),
        );
    }
    for (field, given) in [
        ("unit", raw.unit.is_some()),
        ("cost", raw.cost.is_some()),
        ("exclude", raw.exclude.is_some()),
    ] {
        if given {
            f.fail(
                field,
                format!("a {kind} budget counts no cost or usage: leave {field} out"),
            );
        }
    }
    let currency = raw.currency.unwrap_or_else(|| "USD".into());
    let scope = budget_scope(&mut f, raw.scope, raw.account, raw.service, raw.tag);
    let mut thresholds = Vec::new();
    let mut index = Vec::new();
    match (&watch, raw.thresholds) {
        (Watch::Gauge(_), None) => f.fail(
            "thresholds",
            "missing: the lines under which it alerts, e.g. [\"below 90%\"]",
        ),
        (Watch::Gauge(_), Some(list)) => {
            for (i, value) in list.into_iter().enumerate() {
                let read = match value {
                    toml::Value::String(text) => billwatch_core::budget::parse_below(&text),
                    other => Err(format!("{other} is not a line: write \"below 90%\"")),
                };
                match read {
                    Ok(t) => {
                        thresholds.push(t);
                        index.push(i + 1);
                    }
                    Err(e) => f.fail(&format!("thresholds #{}", i + 1), e),
                }
            }
        }
        (Watch::Expiry { .. }, Some(_)) => f.fail(
            "thresholds",
            "an expiry budget warns at its lead times: write days = [60, 30, 7], not thresholds",
        ),
        (Watch::Expiry { .. }, None) => {}
    }
    let (digest_on, digest_every) = budget_digest(&mut f, raw.digest.clone());
    let budget = Budget {
        name,
        scope,
        amount: Decimal::ONE_HUNDRED,
        currency,
        thresholds,
        escalation_step: budget_escalation(&mut f, raw.escalation_step.as_ref()),
        topic_arn: raw.topic_arn,
        digest: digest_on,
        channels: raw.channels.unwrap_or_default(),
        digest_every,
        model: Model {
            filter: raw.filter.unwrap_or_default(),
            cadence: read_or(&mut f, "period", raw.period.as_deref(), |c| c.parse()),
            watch: Some(watch),
            ..Model::default()
        },
    };
    f.finish(budget, &index)
}

/// `digest`: `true` or `"daily"` (a daily digest), `"weekly"`, or `false`; a problem otherwise.
fn budget_digest(f: &mut Draft, value: Option<toml::Value>) -> (bool, Every) {
    match value {
        None | Some(toml::Value::Boolean(false)) => (false, Every::Day),
        Some(toml::Value::Boolean(true)) => (true, Every::Day),
        Some(toml::Value::String(s)) if s == "daily" => (true, Every::Day),
        Some(toml::Value::String(s)) if s == "weekly" => (true, Every::Week),
        Some(other) => {
            f.fail(
                "digest",
                format!("{other} is not a digest: write \"daily\", \"weekly\", true or false"),
            );
            (false, Every::Day)
        }
    }
}

/// `name`, or "" with a problem when it is missing.
fn budget_name(f: &mut Draft, name: Option<String>) -> String {
    match name {
        Some(n) => n,
        None => {
            if !f.has("name") {
                f.fail("name", "missing");
            }
            String::new()
        }
    }
}

/// `amount`: a decimal, or `{ auto = "mean", months = N }` (the amount then follows the
/// budget's past spend: zero here, worked out per period); a stand-in of 1 with a problem when
/// it is missing or neither.
fn budget_amount(f: &mut Draft, amount: Option<toml::Value>) -> (Decimal, Option<Auto>) {
    let read = match amount {
        Some(toml::Value::Table(t)) => {
            typed::<FileAuto>(toml::Value::Table(t)).and_then(|a| match a.auto.as_str() {
                "mean" => Ok((Decimal::ZERO, Some(Auto { months: a.months }))),
                other => Err(format!("auto: '{other}' is not known (auto = \"mean\")")),
            })
        }
        Some(v) => typed::<Number>(v)
            .and_then(|n| n.decimal())
            .map(|a| (a, None)),
        None => {
            if !f.has("amount") {
                f.fail(
                    "amount",
                    "missing (the amount per period, e.g. \"1000\", or { auto = \"mean\", months = 3 })",
                );
            }
            return (Decimal::ONE, None);
        }
    };
    read.unwrap_or_else(|e| {
        f.fail("amount", e);
        (Decimal::ONE, None)
    })
}

/// A usage budget's unit (`kind = "usage"`, `unit = "GB-Mo"`), or none for a cost budget; a
/// problem for a unit without `kind = "usage"`, the reverse, or an unknown kind.
fn budget_unit(f: &mut Draft, kind: Option<&str>, unit: Option<String>) -> Option<String> {
    match (kind.unwrap_or("cost"), unit) {
        ("cost", None) => None,
        ("cost", Some(_)) => {
            f.fail(
                "unit",
                "only a usage budget has a unit: add kind = \"usage\"",
            );
            None
        }
        ("usage", Some(unit)) => Some(unit),
        ("usage", None) => {
            f.fail(
                "unit",
                "missing: a usage budget counts one pricing unit, e.g. unit = \"GB-Mo\"",
            );
            None
        }
        (other, _) => {
            f.fail(
                "kind",
                format!(
                    "'{other}' is not a kind of budget (cost, the default; usage; or {})",
                    billwatch_core::commitment::watch::KINDS.join(", ")
                ),
            );
            None
        }
    }
}

/// `text` read by `parse` (the default when absent), or the default with a problem on `field`.
fn read_or<T: Default>(
    f: &mut Draft,
    field: &str,
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> T {
    match text.map(parse) {
        None => T::default(),
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            f.fail(field, e);
            T::default()
        }
    }
}

/// `currency`, or USD with a problem when it is missing.
fn budget_currency(f: &mut Draft, currency: Option<String>) -> String {
    match currency {
        Some(c) => c,
        None => {
            if !f.has("currency") {
                f.fail("currency", "missing (e.g. \"USD\")");
            }
            "USD".into()
        }
    }
}

/// The scope from `scope` or from `account`/`service`/`tag` (never both), or all with a
/// problem.
fn budget_scope(
    f: &mut Draft,
    scope: Option<String>,
    account: Option<String>,
    service: Option<String>,
    tag: Option<String>,
) -> Scope {
    let parts = account.is_some() || service.is_some() || tag.is_some();
    match scope {
        Some(_) if parts => {
            f.fail(
                "scope",
                "give either scope or account/service/tag, not both",
            );
            Scope::All
        }
        Some(text) => Scope::parse(&text).unwrap_or_else(|e| {
            f.fail("scope", e);
            Scope::All
        }),
        None => Scope::from_parts(account, service, tag).unwrap_or_else(|p| {
            f.fail(&p.field, p.reason);
            Scope::All
        }),
    }
}

/// The thresholds that parse, each with its position in the file (1-based); a problem for
/// each that does not, or for a missing list.
fn budget_thresholds(
    f: &mut Draft,
    list: Option<Vec<toml::Value>>,
    currency: &str,
) -> (Vec<Threshold>, Vec<usize>) {
    let mut thresholds = Vec::new();
    let mut index = Vec::new();
    match list {
        None => {
            if !f.has("thresholds") {
                f.fail(
                    "thresholds",
                    "missing (e.g. [\"80%\", \"100%\", \"1000 USD forecast\"])",
                );
            }
        }
        Some(list) => {
            for (i, value) in list.into_iter().enumerate() {
                match parse_threshold(value, currency) {
                    Ok(t) => {
                        thresholds.push(t);
                        index.push(i + 1);
                    }
                    Err(e) => f.fail(&format!("thresholds #{}", i + 1), e),
                }
            }
        }
    }
    (thresholds, index)
}

/// `escalation_step`, if given and a decimal (a problem if not).
fn budget_escalation(f: &mut Draft, step: Option<&Number>) -> Option<Decimal> {
    match step.map(Number::decimal) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            f.fail("escalation_step", e);
            None
        }
        None => None,
    }
}

/// One entry of `thresholds`: the spelling of [`parse_threshold`] (`"80%"`, `"500 USD"`,
/// `"90% forecast"`), or the table form (`{ percent = 80 }`, `{ amount = "500", basis =
/// "forecast" }`).
pub(super) fn parse_threshold(value: toml::Value, currency: &str) -> Result<Threshold, String> {
    let table = match value {
        toml::Value::String(text) => {
            return billwatch_core::budget::parse_threshold(&text, currency, false)
        }
        toml::Value::Table(table) => table,
        other => return Err(format!("{other} is not a threshold: {}", THRESHOLD_FORMS)),
    };
    let raw: FileThreshold = typed(toml::Value::Table(table))?;
    let basis = match raw.basis.as_deref() {
        None => Basis::Actual,
        Some(b) => Basis::from_str(b).map_err(|e| format!("basis: {e}"))?,
    };
    let level = match (raw.percent, raw.amount) {
        (Some(p), None) => Level::Percent(p.decimal().map_err(|e| format!("percent: {e}"))?),
        (None, Some(a)) => Level::Absolute(a.decimal().map_err(|e| format!("amount: {e}"))?),
        (Some(_), Some(_)) => return Err("give percent or amount, not both".into()),
        (None, None) => return Err("needs percent or amount".into()),
    };
    Ok(Threshold { level, basis })
}
