//! The budgets table: every budget under one partition (`pk = BUDGETS`, `sk = name`), so
//! listing them is one Query.
//!
//! Item: `name` S, `scope` S (`all`, `account:<id>`, `account-service:<id>:<code>`,
//! `service:<code>`, `tag:<key>=<value>`), `amount` N, `currency` S, `thresholds` L of M
//! (`{percent: N, basis: S}` or `{amount: N, basis: S}`), `escalation_step` N (optional),
//! `topic_arn` S (optional), and what it counts when that is not the plain monthly unblended
//! cost (each optional): `cost` S, `exclude` L of S, `period` S, `unit` S (a usage budget),
//! `auto_months` N (an automatic amount), `filter` S (the `[budget.filter]` table as JSON),
//! `digest_every` S (`weekly`; absent: daily),
//! `kind` S (a commitment budget: `ri_utilization`, …, `commitment_expiry`) with `days` L of N
//! (an expiry budget's lead times), `channels` L of S (the channels its alerts also go to).
//! Settings (`pk = SETTINGS`): `sk = anomalies` (`config` S), `sk = channels` (`channels` S, the
//! `[[channel]]` tables as JSON). Answers to anomaly alerts (`pk = FEEDBACK`, `sk` the anomaly's
//! claim key, `feedback` S as JSON).
//! Items of the first shape (`thresholds` a list of N percentages on
//! the actual spend, `scope` `all` or a bare account id) are still read.

use super::attr::{get_n, get_s, n, s, Item};
use super::StoreError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use billwatch_core::anomaly::Config as AnomalyConfig;
use billwatch_core::anomaly::Feedback;
use billwatch_core::budget::cost::{ChargeKind, CostType};
use billwatch_core::budget::span::Cadence;
use billwatch_core::budget::{Auto, Basis, Budget, Every, Level, Model, Scope, Threshold};
use billwatch_core::channel::Channel;
use billwatch_core::commitment::Watch;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

const PK: &str = "BUDGETS";
/// The partition of settings that are not budgets.
const SETTINGS_PK: &str = "SETTINGS";
const ANOMALIES_SK: &str = "anomalies";
/// The settings item of the channels (`[[channel]]`, as JSON: where their URLs and keys are
/// kept, never the values).
const CHANNELS_SK: &str = "channels";
/// Answers to anomaly alerts (see [`BudgetsStore::feedback`]).
const FEEDBACK_PK: &str = "FEEDBACK";

/// TransactWriteItems takes at most this many actions.
const MAX_TRANSACTION: usize = 100;

/// One write of [`BudgetsStore::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetWrite {
    /// A budget that must not exist yet.
    Create(Budget),
    /// A budget that must still exist; replaced whole.
    Replace(Budget),
    /// A budget that must still exist.
    Delete(String),
}

#[derive(Clone, Debug)]
pub struct BudgetsStore {
    client: Client,
    table: String,
}

fn number(v: &AttributeValue) -> Option<Decimal> {
    let t = v.as_n().ok()?;
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .ok()
}

/// The item of a budget (keys included).
pub fn to_item(budget: &Budget) -> Item {
    let thresholds = budget
        .thresholds
        .iter()
        .map(|t| {
            let (kind, value) = match t.level {
                Level::Percent(p) => ("percent", p),
                Level::Absolute(a) => ("amount", a),
            };
            AttributeValue::M(HashMap::from([
                (kind.to_string(), n(value)),
                ("basis".to_string(), s(t.basis.as_str())),
            ]))
        })
        .collect();
    let mut item: Item = HashMap::from([
        ("pk".into(), s(PK)),
        ("sk".into(), s(&budget.name)),
        ("name".into(), s(&budget.name)),
        ("scope".into(), s(budget.scope.to_text())),
        ("amount".into(), n(budget.amount)),
        ("currency".into(), s(&budget.currency)),
        ("thresholds".into(), AttributeValue::L(thresholds)),
    ]);
    if let Some(step) = budget.escalation_step {
        item.insert("escalation_step".into(), n(step));
    }
    if let Some(arn) = &budget.topic_arn {
        item.insert("topic_arn".into(), s(arn));
    }
    if budget.digest {
        item.insert("digest".into(), AttributeValue::Bool(true));
    }
    if budget.digest_every == Every::Week {
        item.insert("digest_every".into(), s("weekly"));
    }
    if !budget.channels.is_empty() {
        let names = budget.channels.iter().map(s).collect();
        item.insert("channels".into(), AttributeValue::L(names));
    }
    model_into(&budget.model, &mut item);
    item
}

/// The attributes of a model that is not the plain one.
fn model_into(m: &Model, item: &mut Item) {
    if m.measure.cost != CostType::default() {
        item.insert("cost".into(), s(m.measure.cost.name()));
    }
    if !m.measure.exclude.is_empty() {
        let names = m.measure.exclude_names().into_iter().map(s).collect();
        item.insert("exclude".into(), AttributeValue::L(names));
    }
    if m.cadence != Cadence::default() {
        item.insert("period".into(), s(m.cadence.name()));
    }
    if let Some(unit) = &m.unit {
        item.insert("unit".into(), s(unit));
    }
    if let Some(auto) = m.auto {
        item.insert("auto_months".into(), n(Decimal::from(auto.months)));
    }
    if !m.filter.is_empty() {
        let json = serde_json::to_string(&m.filter).expect("a filter serializes");
        item.insert("filter".into(), s(json));
    }
    if let Some(w) = &m.watch {
        item.insert("kind".into(), s(w.kind_name()));
        if let Watch::Expiry { days } = w {
            let days = days.iter().map(|d| n(Decimal::from(*d))).collect();
            item.insert("days".into(), AttributeValue::L(days));
        }
    }
}

/// The model of an item (the plain one when it has none of its attributes).
fn model_from(item: &Item) -> Result<Model, String> {
    let mut m = Model::default();
    if let Some(cost) = get_s(item, "cost") {
        m.measure.cost = cost.parse()?;
    }
    if let Some(list) = item.get("exclude") {
        let list = list
            .as_l()
            .map_err(|_| "'exclude' is not a list".to_string())?;
        for v in list {
            let name = v
                .as_s()
                .map_err(|_| "'exclude' holds a non-string".to_string())?;
            m.measure.exclude.insert(ChargeKind::excludable(name)?);
        }
    }
    if let Some(period) = get_s(item, "period") {
        m.cadence = period.parse()?;
    }
    m.unit = get_s(item, "unit");
    if let Some(months) = get_n(item, "auto_months") {
        let months = months
            .to_string()
            .parse()
            .map_err(|_| format!("'auto_months' {months} is not a whole number"))?;
        m.auto = Some(Auto { months });
    }
    if let Some(json) = get_s(item, "filter") {
        m.filter = serde_json::from_str(&json).map_err(|e| format!("'filter': {e}"))?;
    }
    if let Some(kind) = get_s(item, "kind") {
        let days = match item.get("days") {
            None => None,
            Some(list) => {
                let list = list
                    .as_l()
                    .map_err(|_| "'days' is not a list".to_string())?;
                let mut days = Vec::new();
                for v in list {
                    let d = v
                        .as_n()
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .ok_or_else(|| "'days' holds something not a whole number".to_string())?;
                    days.push(d);
                }
                Some(days)
            }
        };
        m.watch = Some(
            Watch::of_kind(&kind, days)
                .ok_or_else(|| format!("'kind' {kind:?} is not a commitment budget's"))?,
        );
    }
    Ok(m)
}

/// A budget from its item; the error says what is wrong.
pub fn from_item(item: &Item) -> Result<Budget, String> {
    let name = get_s(item, "name").ok_or("no 'name'")?;
    let named = |what: String| format!("budget '{name}': {what}");
    let scope = Scope::parse(&get_s(item, "scope").unwrap_or_default()).map_err(named)?;
    let amount = get_n(item, "amount").ok_or_else(|| named("no numeric 'amount'".into()))?;
    let currency = get_s(item, "currency").ok_or_else(|| named("no 'currency'".into()))?;
    let mut thresholds = Vec::new();
    if let Some(list) = item.get("thresholds") {
        let list = list
            .as_l()
            .map_err(|_| named("'thresholds' is not a list".into()))?;
        for (i, v) in list.iter().enumerate() {
            let bad = || named(format!("threshold #{} is malformed", i + 1));
            let threshold = match v {
                // The first shape: a percentage on the actual spend.
                AttributeValue::N(_) => Threshold::percent(number(v).ok_or_else(bad)?),
                AttributeValue::M(m) => {
                    let level = match (m.get("percent"), m.get("amount")) {
                        (Some(p), None) => Level::Percent(number(p).ok_or_else(bad)?),
                        (None, Some(a)) => Level::Absolute(number(a).ok_or_else(bad)?),
                        _ => return Err(bad()),
                    };
                    let basis = match m.get("basis") {
                        None => Basis::Actual,
                        Some(b) => b
                            .as_s()
                            .ok()
                            .and_then(|b| Basis::from_str(b).ok())
                            .ok_or_else(bad)?,
                    };
                    Threshold { level, basis }
                }
                _ => return Err(bad()),
            };
            thresholds.push(threshold);
        }
    }
    let escalation_step = match item.get("escalation_step") {
        None | Some(AttributeValue::Null(_)) => None,
        Some(v) => {
            Some(number(v).ok_or_else(|| named("'escalation_step' is not a number".into()))?)
        }
    };
    // Built and checked as a file's or the flags' budget is: a stored item that is not a
    // valid budget is malformed.
    Budget {
        name: name.clone(),
        scope,
        amount,
        currency,
        thresholds,
        escalation_step,
        topic_arn: get_s(item, "topic_arn"),
        digest: matches!(item.get("digest"), Some(AttributeValue::Bool(true))),
        digest_every: match get_s(item, "digest_every").as_deref() {
            None | Some("daily") => Every::Day,
            Some("weekly") => Every::Week,
            Some(other) => {
                return Err(named(format!(
                    "'digest_every' {other:?} is not daily or weekly"
                )))
            }
        },
        channels: match item.get("channels") {
            None => Vec::new(),
            Some(v) => v
                .as_l()
                .map_err(|_| named("'channels' is not a list".into()))?
                .iter()
                .map(|c| c.as_s().cloned())
                .collect::<Result<Vec<String>, _>>()
                .map_err(|_| named("'channels' holds a non-string".into()))?,
        },
        model: model_from(item).map_err(named)?,
    }
    .checked()
    .map_err(|problems| {
        named(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

impl BudgetsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates or replaces a budget.
    pub async fn put(&self, budget: &Budget) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(budget)))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Removes a budget; false if there was none of that name.
    pub async fn delete(&self, name: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(PK))
            .key("sk", s(name))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", &self.table, e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }

    /// The `[anomalies]` settings of the budgets file (defaults when none were applied). Kept
    /// apart from the budgets (`pk = SETTINGS`, `sk = anomalies`, the settings as JSON in
    /// `config`), so listing budgets never sees it.
    pub async fn anomaly_config(&self) -> Result<AnomalyConfig, StoreError> {
        self.setting(ANOMALIES_SK, "config", "the anomaly settings")
            .await
    }

    /// Replaces the anomaly settings.
    pub async fn put_anomaly_config(&self, config: &AnomalyConfig) -> Result<(), StoreError> {
        self.put_setting(ANOMALIES_SK, "config", config).await
    }

    /// The channels declared by the last `budgets apply` (none when it declared none).
    pub async fn channels(&self) -> Result<Vec<Channel>, StoreError> {
        self.setting(CHANNELS_SK, "channels", "the channels").await
    }

    /// Replaces the channels.
    pub async fn put_channels(&self, channels: &[Channel]) -> Result<(), StoreError> {
        self.put_setting(CHANNELS_SK, "channels", &channels).await
    }

    /// A settings item's value, JSON in attribute `attr` (the default when there is none);
    /// `what` names it in an error.
    async fn setting<T: serde::de::DeserializeOwned + Default>(
        &self,
        sk: &str,
        attr: &str,
        what: &str,
    ) -> Result<T, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(SETTINGS_PK))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", &self.table, e))?;
        match out.item().and_then(|i| get_s(i, attr)) {
            None => Ok(T::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Malformed {
                table: self.table.clone(),
                message: format!("{what}: {e}"),
            }),
        }
    }

    /// Replaces a settings item's value.
    async fn put_setting<T: serde::Serialize>(
        &self,
        sk: &str,
        attr: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(value).map_err(|e| StoreError::Malformed {
            table: self.table.clone(),
            message: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(SETTINGS_PK))
            .item("sk", s(sk))
            .item(attr, s(text))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Every item of partition `pk` (consistent).
    async fn partition(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        super::query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true),
            &self.table,
        )
        .await
    }

    /// Every budget, by name.
    pub async fn list(&self) -> Result<Vec<Budget>, StoreError> {
        let mut out = Vec::new();
        let items = self.partition(PK).await?;
        for item in &items {
            out.push(from_item(item).map_err(|message| StoreError::Malformed {
                table: self.table.clone(),
                message,
            })?);
        }
        Ok(out)
    }

    /// Every answer to an anomaly alert (`pk = FEEDBACK`, `sk` = the anomaly's claim key, the
    /// answer as JSON in `feedback`): the newest answer to an anomaly replaces the one before.
    pub async fn feedback(&self) -> Result<Vec<Feedback>, StoreError> {
        let items = self.partition(FEEDBACK_PK).await?;
        let mut out = Vec::new();
        for item in &items {
            let text = get_s(item, "feedback").unwrap_or_default();
            out.push(
                serde_json::from_str(&text).map_err(|e| StoreError::Malformed {
                    table: self.table.clone(),
                    message: format!("feedback {}: {e}", get_s(item, "sk").unwrap_or_default()),
                })?,
            );
        }
        Ok(out)
    }

    /// Keeps an answer to the anomaly `key` (replacing an earlier one).
    pub async fn put_feedback(&self, key: &str, feedback: &Feedback) -> Result<(), StoreError> {
        let text = serde_json::to_string(feedback).map_err(|e| StoreError::Malformed {
            table: self.table.clone(),
            message: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(FEEDBACK_PK))
            .item("sk", s(key))
            .item("feedback", s(text))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Writes a set of changes in TransactWriteItems of at most 100: all of a transaction or
    /// none of it. Each write is conditional on what it was computed from (a created budget
    /// does not exist, a replaced or deleted one still does), so a concurrent change fails the
    /// transaction instead of being overwritten silently. More than 100 writes are several
    /// transactions: one that fails leaves the earlier ones applied.
    pub async fn apply(&self, writes: &[BudgetWrite]) -> Result<(), StoreError> {
        for chunk in writes.chunks(MAX_TRANSACTION) {
            let mut items = Vec::with_capacity(chunk.len());
            for w in chunk {
                let built = match w {
                    BudgetWrite::Create(b) => Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_item(b)))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map(|p| TransactWriteItem::builder().put(p).build()),
                    BudgetWrite::Replace(b) => Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_item(b)))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .map(|p| TransactWriteItem::builder().put(p).build()),
                    BudgetWrite::Delete(name) => Delete::builder()
                        .table_name(&self.table)
                        .key("pk", s(PK))
                        .key("sk", s(name))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .map(|d| TransactWriteItem::builder().delete(d).build()),
                };
                items.push(built.map_err(|e| StoreError::Malformed {
                    table: self.table.clone(),
                    message: e.to_string(),
                })?);
            }
            self.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .map_err(|e| {
                    let conflict = e
                        .as_service_error()
                        .is_some_and(|s| s.is_transaction_canceled_exception());
                    if conflict {
                        StoreError::Incomplete {
                            operation: "TransactWriteItems",
                            table: self.table.clone(),
                            message: "cancelled: a budget was created, changed or removed by \
                                      someone else meanwhile (nothing of this transaction was \
                                      written); read the table again and retry"
                                .into(),
                        }
                    } else {
                        StoreError::dynamo("TransactWriteItems", &self.table, e)
                    }
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn every_field_round_trips() {
        let budgets = [
            Budget {
                name: "full".into(),
                scope: Scope::AccountService {
                    account: "123456789012".into(),
                    service: "AmazonEC2".into(),
                },
                amount: d("1234.50"),
                currency: "EUR".into(),
                thresholds: vec![
                    Threshold::percent(d("50")),
                    Threshold::percent(d("80")).on(Basis::Forecast),
                    Threshold::absolute(d("1000.25")),
                ],
                escalation_step: Some(d("12.5")),
                topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:team".into()),
                digest: true,
                channels: Vec::new(),
                digest_every: Default::default(),
                model: Default::default(),
            },
            Budget {
                name: "tag".into(),
                scope: Scope::Tag {
                    key: "user:team".into(),
                    value: "data".into(),
                },
                amount: d("10"),
                currency: "USD".into(),
                thresholds: vec![Threshold::absolute(d("5")).on(Basis::Forecast)],
                escalation_step: None,
                topic_arn: None,
                digest: false,
                channels: Vec::new(),
                digest_every: Default::default(),
                model: Default::default(),
            },
        ];
        for b in budgets {
            let item = to_item(&b);
            assert_eq!(item["pk"].as_s().unwrap(), "BUDGETS");
            assert_eq!(item["sk"].as_s().unwrap(), &b.name);
            assert_eq!(from_item(&item), Ok(b));
        }
        let item = to_item(&Budget {
            name: "x".into(),
            scope: Scope::Service("AmazonS3".into()),
            amount: d("1"),
            currency: "USD".into(),
            thresholds: vec![Threshold::absolute(d("0.5")).on(Basis::Forecast)],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        });
        assert_eq!(item["scope"].as_s().unwrap(), "service:AmazonS3");
        let t = item["thresholds"].as_l().unwrap()[0].as_m().unwrap();
        assert_eq!(t["amount"].as_n().unwrap(), "0.5");
        assert_eq!(t["basis"].as_s().unwrap(), "forecast");
        assert!(!item.contains_key("escalation_step") && !item.contains_key("topic_arn"));
    }

    #[test]
    fn a_model_round_trips_and_a_plain_budget_writes_none_of_it() {
        use billwatch_core::budget::filter::Filter;
        let filter: Filter = serde_json::from_str(
            r#"{"accounts":["111111111111"],"tags":{"team":["data",""]},"not_services":["AWSSupport*"]}"#,
        )
        .unwrap();
        let usage = Budget {
            name: "storage".into(),
            scope: Scope::All,
            amount: d("40000"),
            currency: "GB-Mo".into(),
            thresholds: vec![Threshold::absolute(d("50000"))],
            escalation_step: None,
            topic_arn: None,
            digest: true,
            channels: vec!["finops-slack".into(), "sns".into()],
            digest_every: billwatch_core::budget::Every::Week,
            model: Model {
                unit: Some("GB-Mo".into()),
                cadence: Cadence::Quarterly,
                filter: filter.clone(),
                ..Model::default()
            },
        };
        let team = Budget {
            name: "team".into(),
            currency: "USD".into(),
            amount: Decimal::ZERO,
            thresholds: vec![Threshold::percent(d("80"))],
            model: Model {
                measure: billwatch_core::budget::cost::Measure {
                    cost: CostType::NetAmortized,
                    exclude: [ChargeKind::Credit, ChargeKind::Tax].into_iter().collect(),
                },
                filter,
                auto: Some(Auto { months: 3 }),
                ..Model::default()
            },
            ..usage.clone()
        };
        let utilization = Budget {
            name: "sp".into(),
            digest: false,
            amount: Decimal::ONE_HUNDRED,
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("90"))],
            model: Model {
                watch: Some(Watch::of_kind("savings_plans_utilization", None).unwrap()),
                ..Model::default()
            },
            ..usage.clone()
        };
        let expiry = Budget {
            name: "ends".into(),
            thresholds: Vec::new(),
            model: Model {
                watch: Some(Watch::Expiry { days: vec![90, 14] }),
                ..Model::default()
            },
            ..utilization.clone()
        };
        for b in [usage, team, utilization, expiry] {
            assert_eq!(from_item(&to_item(&b)), Ok(b));
        }
        let plain = to_item(&Budget {
            name: "plain".into(),
            scope: Scope::All,
            amount: d("1"),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("80"))],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Model::default(),
        });
        for attr in [
            "cost",
            "exclude",
            "period",
            "unit",
            "auto_months",
            "filter",
            "kind",
            "days",
        ] {
            assert!(!plain.contains_key(attr), "{attr}");
        }
    }

    #[test]
    fn items_of_the_first_shape_are_read() {
        let item: Item = HashMap::from([
            ("pk".into(), s(PK)),
            ("sk".into(), s("old")),
            ("name".into(), s("old")),
            ("scope".into(), s("123456789012")),
            ("amount".into(), AttributeValue::N("100".into())),
            ("currency".into(), s("USD")),
            (
                "thresholds".into(),
                AttributeValue::L(vec![
                    AttributeValue::N("50".into()),
                    AttributeValue::N("80".into()),
                ]),
            ),
        ]);
        let b = from_item(&item).unwrap();
        assert_eq!(b.scope, Scope::Account("123456789012".into()));
        assert_eq!(
            b.thresholds,
            [Threshold::percent(d("50")), Threshold::percent(d("80"))]
        );
        assert_eq!((b.escalation_step, b.topic_arn), (None, None));
        let mut all = item.clone();
        all.insert("scope".into(), s("all"));
        assert_eq!(from_item(&all).unwrap().scope, Scope::All);
    }

    #[test]
    fn malformed_items_say_what_is_wrong() {
        let mut item = to_item(&Budget {
            name: "b".into(),
            scope: Scope::All,
            amount: d("1"),
            currency: "USD".into(),
            thresholds: vec![Threshold::percent(d("1"))],
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        });
        item.insert(
            "thresholds".into(),
            AttributeValue::L(vec![AttributeValue::S("50".into())]),
        );
        assert_eq!(
            from_item(&item).unwrap_err(),
            "budget 'b': threshold #1 is malformed"
        );
        // An item that reads but is not a valid budget (checked as the file's are).
        let mut invalid = item.clone();
        invalid.insert("currency".into(), s("usd"));
        invalid.insert(
            "thresholds".into(),
            AttributeValue::L(vec![AttributeValue::N("50".into())]),
        );
        assert_eq!(
            from_item(&invalid).unwrap_err(),
            "budget 'b': currency: 'usd' is not a 3-letter ISO 4217 code like USD"
        );
        item.insert("scope".into(), s("region:x"));
        assert!(from_item(&item)
            .unwrap_err()
            .starts_with("budget 'b': scope"));
    }
}
