//! One version's totals as items: one item per account (a "sheet") holding that account's
//! totals in a map keyed `service#currency`, split into numbered parts when an account's totals
//! would not fit in [`SHEET_BYTES`]. Pure: building items and reading them back, no calls.
//! Items of the per-total layout (one item per account × service × currency, before sheets)
//! are still read, so that a table written by an earlier release keeps working until its
//! versions are replaced.

use super::StoredTotal;
use crate::store::attr::{get_n, get_s, n, part, s, Item};
use crate::store::item_size::{item_bytes, value_bytes, MAX_ITEM_BYTES};
use aws_sdk_dynamodb::types::AttributeValue;
use billwatch_core::period::Period;
use billwatch_core::report::{Status, Total};
use percent_encoding::percent_decode_str;
use std::collections::{BTreeMap, HashMap};

/// Largest sheet written: far under DynamoDB's 400 KB, so that 25 sheets make a modest
/// BatchWriteItem request; a typical account (150 services) takes about a quarter of it.
pub const SHEET_BYTES: usize = 64 * 1024;

/// The attribute holding a sheet's totals.
const TOTALS: &str = "totals";

/// What every sheet of a version says besides its totals.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    pub payer: &'a str,
    pub period: Period,
    pub version: &'a str,
    pub status: Status,
    pub as_of: Option<&'a str>,
    pub report_key: &'a str,
    pub stored_at: &'a str,
}

/// The partition key of a version's items.
pub fn partition(payer: &str, period: Period, version: &str) -> String {
    format!("T#{}#{period}#{version}", part(payer))
}

/// The items of one version: every account's totals, in sheets of at most [`SHEET_BYTES`]
/// (a sheet may exceed it only when one total alone does; never DynamoDB's 400 KB).
pub fn sheets(totals: &[Total], v: &Version) -> Result<Vec<Item>, String> {
    let mut by_account: BTreeMap<&str, Vec<&Total>> = BTreeMap::new();
    for t in totals {
        by_account.entry(&t.account_id).or_default().push(t);
    }
    let mut items = Vec::new();
    for (account, totals) in by_account {
        let mut number = 0;
        let mut entries: HashMap<String, AttributeValue> = HashMap::new();
        let mut head = header(account, number, v);
        let fixed = item_bytes(&head) + TOTALS.len() + 3;
        let mut size = fixed;
        for t in totals {
            let (key, value) = entry(t);
            let grows = key.len() + value_bytes(&value) + 1;
            if !entries.is_empty() && size + grows > SHEET_BYTES {
                head.insert(
                    TOTALS.into(),
                    AttributeValue::M(std::mem::take(&mut entries)),
                );
                items.push(head);
                number += 1;
                head = header(account, number, v);
                size = fixed;
            }
            size += grows;
            entries.insert(key, value);
        }
        head.insert(TOTALS.into(), AttributeValue::M(entries));
        items.push(head);
    }
    match items.iter().map(item_bytes).max() {
        Some(largest) if largest > MAX_ITEM_BYTES => Err(format!(
            "a total too large to store ({largest} bytes in one item; DynamoDB's limit is {MAX_ITEM_BYTES})"
        )),
        _ => Ok(items),
    }
}

fn header(account: &str, number: usize, v: &Version) -> Item {
    let mut item: Item = HashMap::from([
        ("pk".into(), s(partition(v.payer, v.period, v.version))),
        ("sk".into(), s(format!("{}#{number:03}", part(account)))),
        ("gsi1pk".into(), s(part(account))),
        (
            "gsi1sk".into(),
            s(format!(
                "{}#{}#{}#{number:03}",
                v.period,
                part(v.payer),
                v.version
            )),
        ),
        ("payer".into(), s(v.payer)),
        ("period".into(), s(v.period.to_string())),
        ("version".into(), s(v.version)),
        ("account".into(), s(account)),
        ("status".into(), s(v.status.name())),
        ("report_key".into(), s(v.report_key)),
        ("stored_at".into(), s(v.stored_at)),
    ]);
    if let Some(as_of) = v.as_of {
        item.insert("as_of".into(), s(as_of));
    }
    item
}

/// One total as a map entry: `service#currency` (each part escaped) → cost, name, breakdown.
fn entry(t: &Total) -> (String, AttributeValue) {
    let breakdown = t
        .breakdown
        .0
        .iter()
        .map(|(p, amount)| (p.name().to_string(), n(*amount)))
        .collect();
    let mut value = HashMap::from([
        ("cost".to_string(), n(t.cost)),
        ("breakdown".to_string(), AttributeValue::M(breakdown)),
    ]);
    if !t.service_name.is_empty() {
        value.insert("name".into(), s(&t.service_name));
    }
    if let Some(daily) = t.daily_usage.as_deref().and_then(daily_text) {
        value.insert(DAILY.into(), s(daily));
    }
    (
        format!("{}#{}", part(&t.service), part(&t.currency)),
        AttributeValue::M(value),
    )
}

/// The attribute of a total holding its daily usage series.
const DAILY: &str = "daily";

/// A daily series as text: one exact decimal per day, comma-separated, a day without usage
/// empty and the empty days at the end left out (`12.5,,3`): about 6 bytes a day. `None` when
/// no day has usage.
pub fn daily_text(days: &[rust_decimal::Decimal]) -> Option<String> {
    let last = days.iter().rposition(|d| !d.is_zero())?;
    Some(
        days[..=last]
            .iter()
            .map(|d| {
                if d.is_zero() {
                    String::new()
                } else {
                    d.normalize().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// A stored daily series back, padded with zeros to the month's `days`.
pub fn daily_of(text: &str, days: usize) -> Result<Vec<rust_decimal::Decimal>, String> {
    let mut out = Vec::with_capacity(days);
    for (i, cell) in text.split(',').enumerate() {
        if i >= days {
            return Err(format!(
                "a daily series longer than the month's {days} days"
            ));
        }
        out.push(if cell.is_empty() {
            rust_decimal::Decimal::ZERO
        } else {
            cell.parse()
                .map_err(|_| format!("a daily value that is not a number: '{cell}'"))?
        });
    }
    out.resize(days, rust_decimal::Decimal::ZERO);
    Ok(out)
}

/// The totals one item holds (a sheet's, or the one of a per-total item), ordered by service
/// and currency.
pub fn read(item: &Item) -> Result<Vec<StoredTotal>, String> {
    let need = |name: &str| get_s(item, name).ok_or_else(|| format!("missing '{name}'"));
    let status = Status::from_name(&need("status")?)
        .ok_or_else(|| "a total with an unknown status".to_string())?;
    let period: Period = need("period")?
        .parse()
        .map_err(|e| format!("'period': {e}"))?;
    let blank = StoredTotal {
        payer: need("payer")?,
        period,
        version: need("version")?,
        account: need("account")?,
        service: String::new(),
        service_name: String::new(),
        currency: String::new(),
        cost: Default::default(),
        breakdown: Vec::new(),
        daily: None,
        status,
        as_of: get_s(item, "as_of"),
        report_key: get_s(item, "report_key").unwrap_or_default(),
        stored_at: get_s(item, "stored_at").unwrap_or_default(),
    };
    let Some(totals) = item.get(TOTALS) else {
        // The per-total layout: the total's fields are the item's.
        return Ok(vec![StoredTotal {
            service: need("service")?,
            service_name: get_s(item, "service_name").unwrap_or_default(),
            currency: need("currency")?,
            cost: get_n(item, "cost").ok_or("missing or invalid 'cost'")?,
            breakdown: breakdown(item),
            ..blank
        }]);
    };
    let totals = totals.as_m().map_err(|_| "'totals' is not a map")?;
    let mut out = Vec::with_capacity(totals.len());
    for (key, value) in totals {
        let (service, currency) = key
            .split_once('#')
            .filter(|(_, c)| !c.contains('#'))
            .ok_or_else(|| format!("a totals key that is not service#currency: '{key}'"))?;
        let value = value
            .as_m()
            .map_err(|_| format!("the total '{key}' is not a map"))?;
        out.push(StoredTotal {
            service: unescape(service)?,
            currency: unescape(currency)?,
            service_name: get_s(value, "name").unwrap_or_default(),
            cost: get_n(value, "cost").ok_or_else(|| format!("'{key}': no valid 'cost'"))?,
            breakdown: breakdown(value),
            daily: match get_s(value, DAILY) {
                Some(text) => Some(daily_of(&text, period.days() as usize)?),
                None => None,
            },
            ..blank.clone()
        });
    }
    out.sort_by(|a, b| (&a.service, &a.currency).cmp(&(&b.service, &b.currency)));
    Ok(out)
}

fn breakdown(map: &Item) -> Vec<(String, String)> {
    let mut parts: Vec<(String, String)> = map
        .get("breakdown")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_n().ok().map(|n| (k.clone(), n.clone())))
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts
}

/// The text of one escaped key part (the inverse of `part`: only `%25` and `%23` occur).
fn unescape(text: &str) -> Result<String, String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|t| t.into_owned())
        .map_err(|_| format!("a key part that is not UTF-8: '{text}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::ledger::Part;
    use billwatch_core::report::summary::Breakdown;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn total(account: &str, service: &str, currency: &str, cost: &str) -> Total {
        Total {
            account_id: account.into(),
            service: service.into(),
            service_name: format!("{service} (name)"),
            currency: currency.into(),
            cost: d(cost),
            breakdown: Breakdown(vec![(Part::Charges, d(cost)), (Part::Credits, d("0"))]),
            daily_usage: None,
        }
    }

    fn version() -> Version<'static> {
        Version {
            payer: "123456789012",
            period: "2026-11".parse().unwrap(),
            version: "v01J",
            status: Status::Final,
            as_of: Some("2026-11-30T00:00:00.000Z"),
            report_key: "billing/r.csv",
            stored_at: "2026-12-01T00:00:00.000Z",
        }
    }

    fn read_all(items: &[Item]) -> Vec<StoredTotal> {
        items.iter().flat_map(|i| read(i).unwrap()).collect()
    }

    #[test]
    fn one_sheet_per_account_reads_back_every_total_exactly() {
        let totals = vec![
            total("111", "AmazonEC2", "USD", "10.1234567891"),
            total("111", "AmazonS3", "USD", "-0.01"),
            total("111", "AmazonS3", "EUR", "3"),
            total("222", "AWSLambda", "USD", "0.0000001"),
        ];
        let items = sheets(&totals, &version()).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["sk"].as_s().unwrap(), "111#000");
        assert_eq!(items[0]["gsi1pk"].as_s().unwrap(), "111");
        assert_eq!(
            items[0]["gsi1sk"].as_s().unwrap(),
            "2026-11#123456789012#v01J#000"
        );
        let back = read_all(&items);
        let got: Vec<_> = back
            .iter()
            .map(|t| {
                (
                    t.account.as_str(),
                    t.service.as_str(),
                    t.currency.as_str(),
                    t.cost,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("111", "AmazonEC2", "USD", d("10.1234567891")),
                ("111", "AmazonS3", "EUR", d("3")),
                ("111", "AmazonS3", "USD", d("-0.01")),
                ("222", "AWSLambda", "USD", d("0.0000001")),
            ]
        );
        assert_eq!(back[0].service_name, "AmazonEC2 (name)");
        assert_eq!(back[0].status, Status::Final);
        assert_eq!(back[0].as_of.as_deref(), Some("2026-11-30T00:00:00.000Z"));
        assert_eq!(
            back[0].breakdown,
            [
                ("charges".to_string(), "10.1234567891".to_string()),
                ("credits".to_string(), "0".to_string())
            ]
        );
    }

    #[test]
    fn daily_series_read_back_exactly_with_the_month_length() {
        // November: 30 days; usage on days 1, 3 and 29, none on the 30th.
        let mut days = vec![Decimal::ZERO; 30];
        days[0] = d("12.50");
        days[2] = d("0.0000001234");
        days[28] = d("-1.5");
        let mut t = total("111", "AmazonEC2", "USD", "11");
        t.daily_usage = Some(days.clone());
        let items = sheets(&[t, total("111", "AmazonS3", "USD", "1")], &version()).unwrap();
        let text = items[0]["totals"].as_m().unwrap()["AmazonEC2#USD"]
            .as_m()
            .unwrap()["daily"]
            .as_s()
            .unwrap()
            .clone();
        assert_eq!(text, "12.5,,0.0000001234,,,,,,,,,,,,,,,,,,,,,,,,,,-1.5");
        let back = read_all(&items);
        assert_eq!(back[0].daily.as_deref(), Some(days.as_slice()));
        assert_eq!(back[1].daily, None);
        assert_eq!(daily_text(&[Decimal::ZERO; 3]), None);
        assert!(daily_of("1,2,3", 2).is_err());
        assert!(daily_of("1,x", 2).is_err());
    }

    #[test]
    fn separators_in_codes_neither_collide_nor_leak() {
        let totals = vec![
            total("1#2", "3", "USD", "1"),
            total("1", "2#3", "USD", "2"),
            total("1", "50%", "USD", "3"),
        ];
        let items = sheets(&totals, &version()).unwrap();
        assert_eq!(items.len(), 2);
        let back = read_all(&items);
        let got: Vec<_> = back
            .iter()
            .map(|t| (t.account.as_str(), t.service.as_str()))
            .collect();
        assert_eq!(got, [("1", "2#3"), ("1", "50%"), ("1#2", "3")]);
    }

    #[test]
    fn a_large_account_is_split_into_parts_under_the_sheet_size() {
        let totals: Vec<Total> = (0..3_000)
            .map(|i| total("111", &format!("Service{i:05}"), "USD", "1234.5678901234"))
            .collect();
        let items = sheets(&totals, &version()).unwrap();
        assert!(items.len() > 3, "{} sheets", items.len());
        for (i, item) in items.iter().enumerate() {
            assert!(
                item_bytes(item) <= SHEET_BYTES,
                "sheet {i}: {}",
                item_bytes(item)
            );
            assert_eq!(item["sk"].as_s().unwrap(), &format!("111#{i:03}"));
        }
        let back = read_all(&items);
        assert_eq!(back.len(), 3_000);
        assert!(back.iter().all(|t| t.cost == d("1234.5678901234")));
    }

    #[test]
    fn a_typical_account_of_150_services_is_one_sheet_of_about_18_kb() {
        let totals: Vec<Total> = (0..150)
            .map(|i| {
                total(
                    "111111111111",
                    &format!("AWSService{i:03}"),
                    "USD",
                    "123.4567891234",
                )
            })
            .collect();
        let items = sheets(&totals, &version()).unwrap();
        assert_eq!(items.len(), 1);
        let size = item_bytes(&items[0]);
        assert!((12_000..24_000).contains(&size), "{size} bytes");
    }

    #[test]
    fn items_of_the_per_total_layout_still_read() {
        let item: Item = HashMap::from([
            ("pk".into(), s("T#123456789012#2026-11#v01J")),
            ("sk".into(), s("111#AmazonEC2#USD")),
            ("payer".into(), s("123456789012")),
            ("period".into(), s("2026-11")),
            ("version".into(), s("v01J")),
            ("account".into(), s("111")),
            ("service".into(), s("AmazonEC2")),
            ("currency".into(), s("USD")),
            ("cost".into(), n(d("1.5"))),
            ("status".into(), s("estimated")),
        ]);
        let back = read(&item).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].service.as_str(), back[0].cost, back[0].status),
            ("AmazonEC2", d("1.5"), Status::Estimated)
        );
    }

    #[test]
    fn a_malformed_sheet_is_an_error_not_a_panic() {
        let mut item = sheets(&[total("1", "S", "USD", "1")], &version())
            .unwrap()
            .remove(0);
        item.insert(
            TOTALS.into(),
            AttributeValue::M(HashMap::from([("no-separator".into(), s("x"))])),
        );
        assert!(read(&item).is_err());
        item.remove("status");
        assert!(read(&item).is_err());
    }
}
