//! What turns the budgets table into the file: added, removed and changed budgets.

use super::*;
use billwatch_aws::store::budgets::BudgetWrite;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    Add(Budget),
    Remove(String),
    Update {
        budget: Budget,
        /// (field, old, new)
        fields: Vec<(&'static str, String, String)>,
    },
}

impl Change {
    pub(super) fn render(&self) -> String {
        match self {
            Change::Add(b) => format!("+ {}  {}\n", b.name, describe(b)),
            Change::Remove(name) => format!("- {name}\n"),
            Change::Update { budget, fields } => fields
                .iter()
                .map(|(field, old, new)| format!("~ {}: {field} {old} → {new}\n", budget.name))
                .collect(),
        }
    }

    /// The change in the JSON of `apply --output json`: `change` add / remove / update, the
    /// budget's name, the fields that differ (update) and the budget as it will be.
    pub(super) fn to_json(&self) -> Value {
        match self {
            Change::Add(b) => json!({"change": "add", "name": b.name, "budget": to_json(b)}),
            Change::Remove(name) => json!({"change": "remove", "name": name}),
            Change::Update { budget, fields } => {
                let fields: Vec<Value> = fields
                    .iter()
                    .map(|(field, old, new)| json!({"field": field, "old": old, "new": new}))
                    .collect();
                json!({"change": "update", "name": budget.name, "fields": fields,
                       "budget": to_json(budget)})
            }
        }
    }

    pub(super) fn write(&self) -> BudgetWrite {
        match self {
            Change::Add(b) => BudgetWrite::Create(b.clone()),
            Change::Update { budget, .. } => BudgetWrite::Replace(budget.clone()),
            Change::Remove(name) => BudgetWrite::Delete(name.clone()),
        }
    }
}

/// The fields that differ, as (field, old, new) text.
pub(super) fn changed_fields(old: &Budget, new: &Budget) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let mut field = |name: &'static str, differs: bool, old: String, new: String| {
        if differs {
            out.push((name, old, new));
        }
    };
    field(
        "scope",
        old.scope != new.scope,
        old.scope.to_text(),
        new.scope.to_text(),
    );
    field(
        "amount",
        old.amount != new.amount,
        old.amount.normalize().to_string(),
        new.amount.normalize().to_string(),
    );
    field(
        "currency",
        old.currency != new.currency,
        old.currency.clone(),
        new.currency.clone(),
    );
    field(
        "thresholds",
        old.sorted_thresholds() != new.sorted_thresholds(),
        old.thresholds_text(),
        new.thresholds_text(),
    );
    field(
        "escalation_step",
        old.escalation_step != new.escalation_step,
        optional(old.escalation_step),
        optional(new.escalation_step),
    );
    field(
        "topic_arn",
        old.topic_arn != new.topic_arn,
        topic(old),
        topic(new),
    );
    let counts = |b: &Budget| match b.model_text() {
        t if t.is_empty() => "unblended cost, monthly".to_string(),
        t => t,
    };
    field("counts", old.model != new.model, counts(old), counts(new));
    let on = |b: &Budget| match (b.digest, b.digest_every) {
        (false, _) => "off".to_string(),
        (true, every) => every.name().to_string(),
    };
    field("digest", on(old) != on(new), on(old), on(new));
    let channels = |b: &Budget| match b.channels.is_empty() {
        true => "the topic alone".to_string(),
        false => b.channels.join(", "),
    };
    field(
        "channels",
        old.channels != new.channels,
        channels(old),
        channels(new),
    );
    out
}

/// What turns `current` into `desired`, by name.
pub(super) fn diff(current: &[Budget], desired: &[Budget]) -> Vec<Change> {
    let current: BTreeMap<&str, &Budget> = current.iter().map(|b| (b.name.as_str(), b)).collect();
    let wanted: BTreeMap<&str, &Budget> = desired.iter().map(|b| (b.name.as_str(), b)).collect();
    let names: std::collections::BTreeSet<&str> =
        current.keys().chain(wanted.keys()).copied().collect();
    names
        .into_iter()
        .filter_map(|name| match (current.get(name), wanted.get(name)) {
            (None, Some(new)) => Some(Change::Add((*new).clone())),
            (Some(_), None) => Some(Change::Remove(name.to_string())),
            (Some(old), Some(new)) => {
                let fields = changed_fields(old, new);
                (!fields.is_empty()).then(|| Change::Update {
                    budget: (*new).clone(),
                    fields,
                })
            }
            (None, None) => None,
        })
        .collect()
}
