//! How big DynamoDB counts an item, and the write and read units that size costs, by the rules
//! of the Developer Guide's "DynamoDB item sizes and formats": an attribute is its name's UTF-8
//! bytes plus its value's; a string is its UTF-8 bytes, a number about 1 byte per two
//! significant digits plus 1, a boolean or null 1 byte, a map or list 3 bytes plus its elements
//! plus 1 byte per element. A standard write costs 1 unit per KB (1,024 bytes, rounded up); a
//! strongly consistent read 1 unit per 4 KB (an eventually consistent one half that).

use super::attr::Item;
use aws_sdk_dynamodb::types::AttributeValue;

/// DynamoDB's largest item.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The size DynamoDB counts for `item`.
pub fn item_bytes(item: &Item) -> usize {
    item.iter()
        .map(|(name, v)| name.len() + value_bytes(v))
        .sum()
}

/// The size of one value (without its attribute name).
pub fn value_bytes(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_bytes(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_bytes(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|v| value_bytes(v) + 1).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| k.len() + value_bytes(v) + 1)
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1.
fn number_bytes(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

/// Write units of one standard write of an item of `bytes` (a put, or the delete of it).
pub fn write_units(bytes: usize) -> u64 {
    bytes.div_ceil(1024).max(1) as u64
}

/// Read units of a strongly consistent Query or Scan returning `bytes` in all (the sum is rounded
/// up to 4 KB); an eventually consistent one costs half as many.
pub fn read_units(bytes: usize) -> u64 {
    bytes.div_ceil(4096).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.into())
    }

    #[test]
    fn strings_and_names_count_their_utf8_bytes() {
        let item: Item = HashMap::from([("pk".into(), s("abc")), ("näme".into(), s("é"))]);
        assert_eq!(item_bytes(&item), 2 + 3 + 5 + 2);
    }

    #[test]
    fn numbers_count_significant_digits() {
        assert_eq!(number_bytes("0"), 1);
        assert_eq!(number_bytes("7"), 2);
        assert_eq!(number_bytes("12"), 2);
        assert_eq!(number_bytes("123"), 3);
        assert_eq!(number_bytes("-1234.5678901234"), 8);
        assert_eq!(number_bytes("0.0012"), 2);
        assert_eq!(number_bytes("1200"), 2);
        assert_eq!(number_bytes("1.5E-7"), 2);
    }

    #[test]
    fn maps_and_lists_cost_3_bytes_plus_1_per_element() {
        let map = AttributeValue::M(HashMap::from([("cost".into(), n("12"))]));
        assert_eq!(value_bytes(&map), 3 + (4 + 2 + 1));
        let list = AttributeValue::L(vec![s("ab"), AttributeValue::Bool(true)]);
        assert_eq!(value_bytes(&list), 3 + (2 + 1) + (1 + 1));
        assert_eq!(value_bytes(&AttributeValue::M(HashMap::new())), 3);
    }

    #[test]
    fn units_round_up() {
        assert_eq!(write_units(1), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
        assert_eq!(write_units(18_000), 18);
        assert_eq!(read_units(4096), 1);
        assert_eq!(read_units(4097), 2);
        assert_eq!(read_units(10 * 4096), 10);
    }
}
