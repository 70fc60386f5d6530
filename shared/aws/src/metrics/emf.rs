//! CloudWatch Embedded Metric Format (EMF): one JSON object per log line, from which CloudWatch
//! Logs extracts metrics, so the function publishes metrics without calling CloudWatch.
//!
//! [`MetricLine`] builds a line within the EMF specification's bounds (Amazon CloudWatch User
//! Guide, "Specification: Embedded metric format"): at most 30 dimension keys per set, 100
//! metrics, 1,024 characters per dimension value, 256 KB per line. The tests' support crate
//! reads lines back against the whole specification (`billwatch_tests::emf::check`).

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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

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
        let doc = parse(&text);
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
        let doc = parse(&text);
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
        let doc = parse(&text);
        assert_eq!(doc["Service"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(doc["Account"], "-");
        assert_eq!(doc["Name"], "ab");
    }
}
