//! The budgets table: every budget under one partition, so listing them is one Query.

use super::attr::{get_n, get_s, n, s, Item};
use super::StoreError;
use crate::budget::{Budget, Scope};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

const PK: &str = "BUDGETS";

#[derive(Clone)]
pub struct BudgetsStore {
    client: Client,
    table: String,
}

impl BudgetsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn put(&self, budget: &Budget) -> Result<(), StoreError> {
        let item: Item = HashMap::from([
            ("pk".into(), s(PK)),
            ("sk".into(), s(&budget.name)),
            ("name".into(), s(&budget.name)),
            ("scope".into(), s(budget.scope.as_text())),
            ("amount".into(), n(budget.amount)),
            ("currency".into(), s(&budget.currency)),
            (
                "thresholds".into(),
                AttributeValue::L(budget.thresholds.iter().map(|t| n(*t)).collect()),
            ),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", &self.table, e))?;
        Ok(())
    }

    pub async fn delete(&self, name: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(PK))
            .key("sk", s(name))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", &self.table, e))?;
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<Budget>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(PK))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", &self.table, e))?;
            for item in page.items() {
                out.push(self.parse(item)?);
            }
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        Ok(out)
    }

    fn parse(&self, item: &Item) -> Result<Budget, StoreError> {
        let malformed = |what: &str| StoreError::Malformed {
            table: self.table.clone(),
            message: format!("budget without a valid '{what}'"),
        };
        Ok(Budget {
            name: get_s(item, "name").ok_or_else(|| malformed("name"))?,
            scope: Scope::parse(&get_s(item, "scope").unwrap_or_default()),
            amount: get_n(item, "amount").ok_or_else(|| malformed("amount"))?,
            currency: get_s(item, "currency").ok_or_else(|| malformed("currency"))?,
            thresholds: item
                .get("thresholds")
                .and_then(|v| v.as_l().ok())
                .map(|l| {
                    l.iter()
                        .filter_map(|t| t.as_n().ok().and_then(|n| n.parse().ok()))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}
