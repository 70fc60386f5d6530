//! `--output json|table` (a global flag, as in the AWS CLI; `--json` stays as its short form;
//! [`crate::context::Ctx::json`] decides),
//! and the one JSON vocabulary every command shares: the `summarize` contract's field names
//! (`account_id`, `payer_account_id`, `billing_period`, `breakdown` as an object of parts) and
//! one timestamp format, RFC 3339 in UTC with milliseconds (`2026-11-20T08:00:00.000Z`).

use billwatch_aws::store::StoredTotal;
use billwatch_core::timestamp::Timestamp;
use serde::Serialize;
use serde_json::{json, Map, Value};

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON object on stdout.
    Json,
}

/// A timestamp in the one format every command prints (`2026-11-20T08:00:00.000Z`), whatever
/// precision or offset it was stored with; text that is not RFC 3339 is kept as it is.
pub fn timestamp(text: &str) -> String {
    Timestamp::parse(text).map_or_else(|_| text.to_string(), |t| t.to_string())
}

/// [`timestamp`] of an optional one.
pub fn timestamp_or(text: Option<&str>, none: &str) -> String {
    text.map_or_else(|| none.to_string(), timestamp)
}

/// A stored record (report ingest, live pointer, alert) in the shared vocabulary: `period` →
/// `billing_period`, `payer` → `payer_account_id`, `account` → `account_id`, and every
/// timestamp (`as_of`, `*_at`) in the one format.
pub fn record(value: &impl Serialize) -> Value {
    let Value::Object(fields) = serde_json::to_value(value).expect("a record serialises") else {
        unreachable!("records are structs")
    };
    let renamed = fields.into_iter().map(|(k, v)| {
        let k = match k.as_str() {
            "period" => "billing_period".to_string(),
            "payer" => "payer_account_id".to_string(),
            "account" => "account_id".to_string(),
            _ => k,
        };
        let v = match v {
            Value::String(t) if k == "as_of" || k.ends_with("_at") => Value::String(timestamp(&t)),
            v => v,
        };
        (k, v)
    });
    Value::Object(renamed.collect())
}

/// A stored total in the summarize contract's words.
pub fn total(t: &StoredTotal) -> Value {
    let breakdown: Map<String, Value> = t
        .breakdown
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "payer_account_id": t.payer, "billing_period": t.period, "account_id": t.account,
        "service": t.service, "service_name": t.service_name, "currency": t.currency,
        "cost": t.cost.to_string(), "breakdown": breakdown, "status": t.status.name(),
        "as_of": t.as_of.as_deref().map(timestamp), "report_key": t.report_key,
        "stored_at": timestamp(&t.stored_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::report::Status;

    #[test]
    fn a_stored_total_speaks_the_summarize_vocabulary() {
        let t = StoredTotal {
            payer: "111111111111".into(),
            period: "2026-11".parse().unwrap(),
            version: "v1".into(),
            account: "222222222222".into(),
            service: "AmazonEC2".into(),
            service_name: "Amazon Elastic Compute Cloud".into(),
            currency: "USD".into(),
            cost: "12.3400".parse().unwrap(),
            breakdown: vec![
                ("charges".into(), "13.34".into()),
                ("credits".into(), "-1".into()),
            ],
            daily: None,
            status: Status::Estimated,
            as_of: Some("2026-11-20T08:00:00.000Z".into()),
            report_key: "k".into(),
            stored_at: "2026-11-20T09:00:00.000Z".into(),
        };
        let v = total(&t);
        assert_eq!(v["account_id"], "222222222222");
        assert_eq!(v["payer_account_id"], "111111111111");
        assert_eq!(v["billing_period"], "2026-11");
        assert_eq!(v["cost"], "12.3400");
        assert_eq!(v["breakdown"], json!({"charges": "13.34", "credits": "-1"}));
        assert!(v.get("account").is_none());
        assert_eq!(v["as_of"], "2026-11-20T08:00:00.000Z");
    }

    #[test]
    fn every_timestamp_prints_in_one_format() {
        for (stored, shown) in [
            ("2026-11-20T08:00:00Z", "2026-11-20T08:00:00.000Z"),
            ("2026-11-20T08:00:00.123456789Z", "2026-11-20T08:00:00.123Z"),
            ("2026-11-20T09:00:00.5+01:00", "2026-11-20T08:00:00.500Z"),
            ("2026-11-20T08:00:00.000Z", "2026-11-20T08:00:00.000Z"),
            ("not a time", "not a time"),
        ] {
            assert_eq!(timestamp(stored), shown);
        }
    }

    #[test]
    fn records_rename_to_the_shared_vocabulary() {
        #[derive(Serialize)]
        struct R {
            period: &'static str,
            payer: &'static str,
            claimed_at: &'static str,
            published_at: Option<&'static str>,
            as_of: Option<&'static str>,
            key: &'static str,
        }
        let v = record(&R {
            period: "2026-11",
            payer: "111111111111",
            claimed_at: "2026-11-20T08:00:00.123456Z",
            published_at: None,
            as_of: Some("2026-11-20T08:00:00Z"),
            key: "k",
        });
        assert_eq!(
            v,
            json!({"billing_period": "2026-11", "payer_account_id": "111111111111",
                   "claimed_at": "2026-11-20T08:00:00.123Z", "published_at": null,
                   "as_of": "2026-11-20T08:00:00.000Z", "key": "k"})
        );
    }
}
