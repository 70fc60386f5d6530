//! Reads a log line back as a CloudWatch Embedded Metric Format document and checks it against
//! the specification (Amazon CloudWatch User Guide, "Specification: Embedded metric format"):
//! the `_aws` object with `Timestamp` (milliseconds since the epoch) and `CloudWatchMetrics`,
//! each directive's `Namespace`, `Dimensions` (sets of at most 30 keys) and `Metrics` (at most
//! 100, each with a `Name` and a valid `Unit`), every dimension a string member of the root and
//! every metric a number member (or an array of at most 100 numbers). Test support: the library
//! ships only the builder ([`billwatch_aws::metrics::emf::MetricLine`]).

use billwatch_aws::metrics::emf::{
    MAX_DIMENSIONS, MAX_DIMENSION_VALUE_CHARS, MAX_LINE_BYTES, MAX_METRICS, MAX_NAMESPACE_CHARS,
};
use serde_json::Value;

/// Every unit CloudWatch accepts in `MetricDatum.Unit`.
pub const CLOUDWATCH_UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Reads one log line as an EMF document and checks it against the specification; returns the
/// document, or every rule it breaks.
pub fn check(line: &str) -> Result<Value, Vec<String>> {
    let mut problems = Vec::new();
    if line.contains('\n') {
        problems.push("the document spans several lines (one log event each)".to_string());
    }
    if line.len() > MAX_LINE_BYTES {
        problems.push(format!("{} bytes (at most {MAX_LINE_BYTES})", line.len()));
    }
    let doc: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return Err(vec![format!("not a JSON document: {e}")]),
    };
    let Some(root) = doc.as_object() else {
        return Err(vec!["the root is not a JSON object".into()]);
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        return Err(vec!["no `_aws` object on the root".into()]);
    };
    match aws.get("Timestamp") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|t| t > 1_000_000_000_000) => {}
        Some(Value::Number(n)) if n.as_i64().is_some() => problems.push(format!(
            "_aws.Timestamp {n} is not in milliseconds since the epoch"
        )),
        other => problems.push(format!("_aws.Timestamp is not an integer: {other:?}")),
    }
    let directives = match aws.get("CloudWatchMetrics") {
        Some(Value::Array(d)) if !d.is_empty() => d.as_slice(),
        other => {
            problems.push(format!(
                "_aws.CloudWatchMetrics is not a non-empty array: {other:?}"
            ));
            &[]
        }
    };
    for (i, directive) in directives.iter().enumerate() {
        let at = format!("_aws.CloudWatchMetrics[{i}]");
        let Some(d) = directive.as_object() else {
            problems.push(format!("{at} is not an object"));
            continue;
        };
        for key in d.keys() {
            if !["Namespace", "Dimensions", "Metrics"].contains(&key.as_str()) {
                problems.push(format!("{at} has an unknown member '{key}'"));
            }
        }
        match d.get("Namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns.chars().count() <= MAX_NAMESPACE_CHARS => {}
            other => problems.push(format!("{at}.Namespace is not a string of 1 to {MAX_NAMESPACE_CHARS} characters: {other:?}")),
        }
        match d.get("Dimensions").and_then(Value::as_array) {
            Some(sets) if !sets.is_empty() => {
                for (j, set) in sets.iter().enumerate() {
                    let Some(keys) = set.as_array() else {
                        problems.push(format!("{at}.Dimensions[{j}] is not an array"));
                        continue;
                    };
                    if keys.len() > MAX_DIMENSIONS {
                        problems.push(format!(
                            "{at}.Dimensions[{j}] has {} keys (at most {MAX_DIMENSIONS})",
                            keys.len()
                        ));
                    }
                    for key in keys {
                        let Some(key) = key.as_str() else {
                            problems.push(format!("{at}.Dimensions[{j}] holds a non-string {key}"));
                            continue;
                        };
                        match root.get(key) {
                            Some(Value::String(v))
                                if !v.trim().is_empty()
                                    && v.chars().count() <= MAX_DIMENSION_VALUE_CHARS => {}
                            other => problems.push(format!(
                                "dimension '{key}' is not a root member with a string of 1 to {MAX_DIMENSION_VALUE_CHARS} characters: {other:?}"
                            )),
                        }
                    }
                }
            }
            other => problems.push(format!(
                "{at}.Dimensions is not an array of dimension sets: {other:?}"
            )),
        }
        match d.get("Metrics").and_then(Value::as_array) {
            Some(metrics) => {
                if metrics.len() > MAX_METRICS {
                    problems.push(format!(
                        "{at}.Metrics has {} definitions (at most {MAX_METRICS})",
                        metrics.len()
                    ));
                }
                for (j, m) in metrics.iter().enumerate() {
                    let Some(m) = m.as_object() else {
                        problems.push(format!("{at}.Metrics[{j}] is not an object"));
                        continue;
                    };
                    for key in m.keys() {
                        if !["Name", "Unit", "StorageResolution"].contains(&key.as_str()) {
                            problems
                                .push(format!("{at}.Metrics[{j}] has an unknown member '{key}'"));
                        }
                    }
                    let Some(name) = m.get("Name").and_then(Value::as_str) else {
                        problems.push(format!("{at}.Metrics[{j}] has no string Name"));
                        continue;
                    };
                    if let Some(unit) = m.get("Unit") {
                        if !unit.as_str().is_some_and(|u| CLOUDWATCH_UNITS.contains(&u)) {
                            problems.push(format!(
                                "metric '{name}': Unit {unit} is not a CloudWatch unit"
                            ));
                        }
                    }
                    if let Some(r) = m.get("StorageResolution") {
                        if r.as_i64() != Some(1) && r.as_i64() != Some(60) {
                            problems.push(format!(
                                "metric '{name}': StorageResolution {r} is neither 1 nor 60"
                            ));
                        }
                    }
                    match root.get(name) {
                        Some(Value::Number(_)) => {}
                        Some(Value::Array(values))
                            if values.len() <= 100 && values.iter().all(Value::is_number) => {}
                        other => problems.push(format!(
                            "metric '{name}' is not a root member holding a number (or at most 100 numbers): {other:?}"
                        )),
                    }
                }
            }
            None => problems.push(format!("{at}.Metrics is not an array")),
        }
    }
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_aws::metrics::emf::{MetricLine, Unit};

    fn line() -> MetricLine {
        MetricLine::new("billwatch/support", 1_764_300_000_456)
            .dimension("Account", "111111111111")
            .property("ReportKey", "billing/report.csv.gz")
            .metric("Spend", Unit::None, 40.25)
            .metric("IngestLatency", Unit::Milliseconds, 1_250.0)
    }

    #[test]
    fn every_line_the_builder_makes_follows_the_specification() {
        let long = "é".repeat(2000);
        for built in [
            line(),
            MetricLine::new("ns", 1_764_300_000_000)
                .dimension("Outcome", "stored")
                .also_undimensioned()
                .metric("Reports", Unit::Count, 1.0),
            MetricLine::new("ns", 1_764_300_000_000)
                .dimension("Service", &long)
                .dimension("Account", "")
                .dimension("Name", "a\nb")
                .metric("m", Unit::Count, 1.0),
        ] {
            let text = built.render().unwrap();
            check(&text).unwrap_or_else(|p| panic!("{text}: {p:?}"));
        }
    }

    #[test]
    fn the_checker_finds_each_broken_rule() {
        let good: Value = serde_json::from_str(&line().render().unwrap()).unwrap();
        let broken = |edit: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            edit(&mut v);
            check(&v.to_string()).unwrap_err().join("; ")
        };
        assert!(broken(&|v| v["_aws"]["Timestamp"] = 1_764_300_000.into()).contains("milliseconds"));
        assert!(broken(&|v| {
            v.as_object_mut().unwrap().remove("_aws");
        })
        .contains("_aws"));
        assert!(
            broken(&|v| v["_aws"]["CloudWatchMetrics"] = serde_json::json!([]))
                .contains("CloudWatchMetrics")
        );
        assert!(broken(&|v| {
            v["_aws"]["CloudWatchMetrics"][0]
                .as_object_mut()
                .unwrap()
                .remove("Namespace");
        })
        .contains("Namespace"));
        assert!(
            broken(&|v| v["_aws"]["CloudWatchMetrics"][0]["Dimensions"] =
                serde_json::json!([(0..31).map(|i| format!("d{i}")).collect::<Vec<_>>()]))
            .contains("31 keys")
        );
        assert!(broken(&|v| {
            v.as_object_mut().unwrap().remove("Account");
        })
        .contains("dimension 'Account'"));
        assert!(broken(&|v| v["Spend"] = "40.25".into()).contains("metric 'Spend'"));
        assert!(broken(
            &|v| v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Dollars".into()
        )
        .contains("not a CloudWatch unit"));
        assert!(broken(&|v| {
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]
                .as_object_mut()
                .unwrap()
                .remove("Name");
        })
        .contains("Name"));
        assert!(check("{\"_aws\": 1}\n{}").is_err());
        assert!(check("not json").is_err());
    }
}
