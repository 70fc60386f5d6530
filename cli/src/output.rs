//! `--output json|table` (a global flag, as in the AWS CLI; `--json` stays as its short form),
//! and the one JSON vocabulary every command shares: the `summarize` contract's field names
//! (`account_id`, `payer_account_id`, `billing_period`, `breakdown` as an object of parts).

use billwatch_aws::store::StoredTotal;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON object on stdout.
    Json,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

pub fn init(output: Output) {
    let _ = OUTPUT.set(output);
}

/// Whether to print JSON: `--output json`, or the command's own `--json`.
pub fn json(flag: bool) -> bool {
    flag || OUTPUT.get().copied() == Some(Output::Json)
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
        "as_of": t.as_of, "report_key": t.report_key, "stored_at": t.stored_at,
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
    }
}
