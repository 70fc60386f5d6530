//! CloudWatch Embedded Metric Format (EMF): one JSON object per log line, from which CloudWatch
//! Logs extracts metrics, so the function publishes metrics without calling CloudWatch.
//!
//! [`MetricLine`] builds a line; [`check`] reads a line back against the EMF specification
//! (Amazon CloudWatch User Guide, "Specification: Embedded metric format"): the `_aws` object
//! with `Timestamp` (milliseconds since the epoch) and `CloudWatchMetrics`, each directive's
//! `Namespace`, `Dimensions` (sets of at most 30 keys) and `Metrics` (at most 100, each with a
//! `Name` and a valid `Unit`), every dimension a string member of the root and every metric a
//! number member (or an array of at most 100 numbers).

use serde_json::{Map, Value};

/// Dimension keys in one dimension set (EMF specification).
pub const MAX_DIMENSIONS: usize = 30;
/// Metric definitions in one directive (EMF specification).
pub const MAX_METRICS: usize = 100;
/// Characters of a dimension value (EMF specification).
pub const MAX_DIMENSION_VALUE_CHARS: usize = 1024;
/// Characters of a namespace (CloudWatch's limit; the specification's schema allows 1024).
pub const MAX_NAMESPACE_CHARS: usize = 255;
/// Bytes of one log event (the specification's limit for an EMF document).
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// The CloudWatch units billwatch uses (a subset of `MetricDatum.Unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// An amount of money (CloudWatch has no currency unit: the currency is a dimension).
    None,
    Count,
    Milliseconds,
    Percent,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::None => "None",
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Percent => "Percent",
        }
    }
}

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

/// Why a line cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmfError {
    #[error("namespace '{0}' is empty or longer than {MAX_NAMESPACE_CHARS} characters")]
    Namespace(String),
    #[error("{0} dimensions in one set (at most {MAX_DIMENSIONS})")]
    TooManyDimensions(usize),
    #[error("{0} metrics in one line (at most {MAX_METRICS})")]
    TooManyMetrics(usize),
    #[error("no metric in the line")]
    NoMetric,
    #[error("member '{0}' is used twice (dimension, metric or property)")]
    Duplicate(String),
    #[error("metric '{0}' is not a finite number")]
    NotFinite(String),
    #[error("the line has {0} bytes (at most {MAX_LINE_BYTES})")]
    TooLong(usize),
}

/// One EMF document: metrics that share a namespace, a time and one set of dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine {
    namespace: String,
    timestamp_ms: i64,
    dimensions: Vec<(String, String)>,
    /// Also publish every metric without dimensions (a second, empty dimension set).
    also_undimensioned: bool,
    metrics: Vec<(String, Unit, f64)>,
    properties: Vec<(String, Value)>,
}

impl MetricLine {
    pub fn new(namespace: &str, timestamp_ms: i64) -> Self {
        Self {
            namespace: namespace.to_string(),
            timestamp_ms,
            dimensions: Vec::new(),
            also_undimensioned: false,
            metrics: Vec::new(),
            properties: Vec::new(),
        }
    }

    /// A dimension (part of each metric's identity). Values longer than the specification
    /// allows are cut; an empty value becomes `-` (CloudWatch refuses empty dimension values).
    pub fn dimension(mut self, key: &str, value: &str) -> Self {
        let mut value: String = value
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_DIMENSION_VALUE_CHARS)
            .collect();
        if value.trim().is_empty() {
            value = "-".into();
        }
        self.dimensions.push((key.to_string(), value));
        self
    }

    /// Publish the metrics without dimensions too (a namespace-wide series).
    pub fn also_undimensioned(mut self) -> Self {
        self.also_undimensioned = true;
        self
    }

    pub fn metric(mut self, name: &str, unit: Unit, value: f64) -> Self {
        self.metrics.push((name.to_string(), unit, value));
        self
    }

    /// A member that is neither dimension nor metric: searchable in CloudWatch Logs Insights.
    pub fn property(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.properties.push((key.to_string(), value.into()));
        self
    }

    pub fn metric_names(&self) -> impl Iterator<Item = &str> {
        self.metrics.iter().map(|(n, _, _)| n.as_str())
    }

    /// The line, one JSON object without a newline.
    pub fn render(&self) -> Result<String, EmfError> {
        let ns_chars = self.namespace.chars().count();
        if ns_chars == 0 || ns_chars > MAX_NAMESPACE_CHARS {
            return Err(EmfError::Namespace(self.namespace.clone()));
        }
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(EmfError::TooManyDimensions(self.dimensions.len()));
        }
        if self.metrics.is_empty() {
            return Err(EmfError::NoMetric);
        }
        if self.metrics.len() > MAX_METRICS {
            return Err(EmfError::TooManyMetrics(self.metrics.len()));
        }
        let mut root = Map::new();
        let put = |root: &mut Map<String, Value>, key: &str, value: Value| {
            if key == "_aws" || root.insert(key.to_string(), value).is_some() {
                return Err(EmfError::Duplicate(key.to_string()));
            }
            Ok(())
        };
        for (key, value) in &self.dimensions {
            put(&mut root, key, Value::String(value.clone()))?;
        }
        let mut definitions = Vec::new();
        for (name, unit, value) in &self.metrics {
            let number = serde_json::Number::from_f64(*value)
                .ok_or_else(|| EmfError::NotFinite(name.clone()))?;
            put(&mut root, name, Value::Number(number))?;
            definitions.push(serde_json::json!({"Name": name, "Unit": unit.as_str()}));
        }
        for (key, value) in &self.properties {
            put(&mut root, key, value.clone())?;
        }
        let keys: Vec<&str> = self.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        let mut sets = vec![keys];
        if self.also_undimensioned && !sets[0].is_empty() {
            sets.push(Vec::new());
        }
        root.insert(
            "_aws".into(),
            serde_json::json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": sets,
                    "Metrics": definitions,
                }],
            }),
        );
        let line = Value::Object(root).to_string();
        if line.len() > MAX_LINE_BYTES {
            return Err(EmfError::TooLong(line.len()));
        }
        Ok(line)
    }
}

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

    fn line() -> MetricLine {
        MetricLine::new("billwatch/test", 1_764_300_000_123)
            .dimension("Budget", "team-a")
            .metric("SpendMonthToDate", Unit::None, 812.5)
            .metric("BudgetUsedPercent", Unit::Percent, 81.3)
            .property("Period", "2026-11")
    }

    #[test]
    fn a_built_line_is_a_valid_emf_document() {
        let text = line().render().unwrap();
        assert!(!text.contains('\n'));
        let doc = check(&text).unwrap();
        assert_eq!(doc["_aws"]["Timestamp"], 1_764_300_000_123_i64);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "billwatch/test");
        assert_eq!(directive["Dimensions"], serde_json::json!([["Budget"]]));
        assert_eq!(
            directive["Metrics"],
            serde_json::json!([
                {"Name": "SpendMonthToDate", "Unit": "None"},
                {"Name": "BudgetUsedPercent", "Unit": "Percent"}
            ])
        );
        assert_eq!(doc["Budget"], "team-a");
        assert_eq!(doc["SpendMonthToDate"], 812.5);
        assert_eq!(doc["BudgetUsedPercent"], 81.3);
        assert_eq!(doc["Period"], "2026-11");
    }

    #[test]
    fn undimensioned_adds_an_empty_dimension_set() {
        let text = MetricLine::new("ns", 1_764_300_000_000)
            .dimension("Outcome", "stored")
            .also_undimensioned()
            .metric("Reports", Unit::Count, 1.0)
            .render()
            .unwrap();
        let doc = check(&text).unwrap();
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Outcome"], []])
        );
    }

    #[test]
    fn the_builder_refuses_what_the_specification_forbids() {
        let mut many = MetricLine::new("ns", 1_764_300_000_000).metric("m", Unit::Count, 1.0);
        for i in 0..31 {
            many = many.dimension(&format!("d{i}"), "v");
        }
        assert_eq!(many.render(), Err(EmfError::TooManyDimensions(31)));
        let mut metrics = MetricLine::new("ns", 1_764_300_000_000);
        for i in 0..101 {
            metrics = metrics.metric(&format!("m{i}"), Unit::Count, 1.0);
        }
        assert_eq!(metrics.render(), Err(EmfError::TooManyMetrics(101)));
        assert_eq!(
            MetricLine::new("", 1)
                .metric("m", Unit::Count, 1.0)
                .render(),
            Err(EmfError::Namespace(String::new()))
        );
        assert_eq!(MetricLine::new("ns", 1).render(), Err(EmfError::NoMetric));
        assert_eq!(
            line().metric("Budget", Unit::Count, 1.0).render(),
            Err(EmfError::Duplicate("Budget".into()))
        );
        assert_eq!(
            line().metric("X", Unit::Count, f64::NAN).render(),
            Err(EmfError::NotFinite("X".into()))
        );
        // Long, control-character and empty dimension values are made valid.
        let long = "é".repeat(2000);
        let text = MetricLine::new("ns", 1_764_300_000_000)
            .dimension("Service", &long)
            .dimension("Account", "")
            .dimension("Name", "a\nb")
            .metric("m", Unit::Count, 1.0)
            .render()
            .unwrap();
        let doc = check(&text).unwrap();
        assert_eq!(doc["Service"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(doc["Account"], "-");
        assert_eq!(doc["Name"], "ab");
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
            v.as_object_mut().unwrap().remove("Budget");
        })
        .contains("dimension 'Budget'"));
        assert!(broken(&|v| v["SpendMonthToDate"] = "812.5".into())
            .contains("metric 'SpendMonthToDate'"));
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
