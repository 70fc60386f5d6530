//! AttributeValue conversions. Money goes in and out as DynamoDB `N` from the exact decimal
//! string, never through a float.

use aws_sdk_dynamodb::types::AttributeValue;
use billwatch_core::period::Period;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

pub type Item = HashMap<String, AttributeValue>;

/// One part of a composite key (`a#b#c`), escaped so that no two different tuples give the same
/// key: `%` becomes `%25` and `#` becomes `%23`. Text without either is unchanged.
pub fn part(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['#', '%']) {
        text.replace('%', "%25").replace('#', "%23").into()
    } else {
        text.into()
    }
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: Decimal) -> AttributeValue {
    AttributeValue::N(v.normalize().to_string())
}

pub fn n_int(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub fn get_period(item: &Item, name: &str) -> Option<Period> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .and_then(|t| t.parse().ok())
}

/// The period in `name`, or a malformed-item error naming the table.
pub fn need_period(item: &Item, name: &str, table: &str) -> Result<Period, super::StoreError> {
    let text = get_s(item, name).unwrap_or_default();
    text.parse().map_err(
        |e: billwatch_core::period::PeriodError| super::StoreError::Malformed {
            table: table.to_string(),
            message: format!("'{name}': {e}"),
        },
    )
}

pub fn get_n(item: &Item, name: &str) -> Option<Decimal> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|t| {
        Decimal::from_str(t)
            .or_else(|_| Decimal::from_scientific(t))
            .ok()
    })
}

pub fn get_u64(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|t| t.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_never_collide() {
        let key = |a: &str, b: &str| format!("{}#{}", part(a), part(b));
        assert_ne!(key("1#2", "3"), key("1", "2#3"));
        assert_ne!(key("1%232", "3"), key("1#2", "3"));
        assert_eq!(key("123456789012", "AmazonEC2"), "123456789012#AmazonEC2");
    }

    #[test]
    fn money_round_trips_exactly() {
        let mut item = Item::new();
        item.insert(
            "cost".into(),
            n(Decimal::from_str("1.68230869740").unwrap()),
        );
        assert_eq!(item["cost"].as_n().unwrap(), "1.6823086974");
        assert_eq!(
            get_n(&item, "cost"),
            Some(Decimal::from_str("1.6823086974").unwrap())
        );
        item.insert("tiny".into(), AttributeValue::N("1E-7".into()));
        assert_eq!(
            get_n(&item, "tiny"),
            Some(Decimal::from_str("0.0000001").unwrap())
        );
    }
}
