//! CUR 1.0 (`reportKeys`) and Data Exports (`dataFiles`) manifests: the list of parts that make
//! up one delivery, and what the manifest says of the period, payer and delivery id.

use super::error::ErrorKind;
use super::header::Header;
use super::source::parse_s3_uri;
use crate::period::Period;
use crate::timestamp::Timestamp;
use serde::Deserialize;

/// One part a manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartRef {
    /// A key in the manifest's own bucket (CUR 1.0).
    Key(String),
    /// An object anywhere (Data Exports `s3://bucket/key`).
    Uri { bucket: String, key: String },
}

impl PartRef {
    pub fn display(&self) -> String {
        match self {
            PartRef::Key(key) => key.clone(),
            PartRef::Uri { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }

    /// The key with empty and `.` segments dropped (`/a//./b` → `a/b`): two parts with the
    /// same bucket and normalized key are the same object to every reader.
    pub fn normalized_key(&self) -> String {
        let key = match self {
            PartRef::Key(key) | PartRef::Uri { key, .. } => key,
        };
        key.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub parts: Vec<PartRef>,
    /// The `bucket` the manifest names (CUR 1.0), if any.
    pub bucket: Option<String>,
    pub payer: Option<String>,
    pub period: Option<Period>,
    pub delivery_id: Option<String>,
    /// Column names, `category/name` for CUR 1.0.
    pub columns: Header,
}

/// The fields billwatch reads from a CUR 1.0 or Data Exports manifest (every other field is
/// ignored). serde does the type checking: a `reportKeys` that is not a list of strings, say,
/// is an invalid manifest with serde's reason.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    report_keys: Option<Vec<String>>,
    data_files: Option<Vec<String>>,
    bucket: Option<String>,
    account: Option<String>,
    billing_period: Option<BillingPeriod>,
    #[serde(rename = "billing_period")]
    billing_period_snake: Option<String>,
    assembly_id: Option<String>,
    execution_id: Option<String>,
    #[serde(default)]
    columns: Vec<Column>,
}

/// `{"start": "20170801T000000.000Z", "end": …}` (CUR 1.0) or a bare `"2026-11"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum BillingPeriod {
    Range { start: Option<String> },
    Text(String),
}

#[derive(Deserialize)]
struct Column {
    name: Option<String>,
    category: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn period_of(text: &str) -> Option<Period> {
    text.parse::<Period>().ok().or_else(|| {
        Timestamp::parse_report(text.as_bytes())
            .ok()
            .map(|t| t.period())
    })
}

pub fn parse(bytes: &[u8]) -> Result<Manifest, ErrorKind> {
    let raw: Raw =
        serde_json::from_slice(bytes).map_err(|e| ErrorKind::InvalidManifest(e.to_string()))?;
    let parts = if let Some(keys) = raw.report_keys {
        keys.into_iter().map(PartRef::Key).collect()
    } else if let Some(uris) = raw.data_files {
        uris.iter()
            .map(|u| match parse_s3_uri(u) {
                Some((bucket, key)) => Ok(PartRef::Uri {
                    bucket: bucket.into(),
                    key: key.into(),
                }),
                None if !u.contains("://") => Ok(PartRef::Key(u.clone())),
                None => Err(ErrorKind::InvalidManifest(format!(
                    "data file '{u}' is not an s3:// URI"
                ))),
            })
            .collect::<Result<_, _>>()?
    } else {
        return Err(ErrorKind::InvalidManifest(
            "it lists neither 'reportKeys' nor 'dataFiles'".into(),
        ));
    };
    let period_text = match raw.billing_period {
        Some(BillingPeriod::Range { start }) => non_empty(start),
        Some(BillingPeriod::Text(text)) => non_empty(Some(text)),
        None => None,
    }
    .or(non_empty(raw.billing_period_snake));
    let columns: Vec<String> = raw
        .columns
        .into_iter()
        .filter_map(|c| {
            let name = c.name?;
            Some(match non_empty(c.category) {
                Some(cat) => format!("{cat}/{name}"),
                None => name,
            })
        })
        .collect();
    Ok(Manifest {
        parts,
        bucket: non_empty(raw.bucket),
        payer: non_empty(raw.account),
        period: period_text.as_deref().and_then(period_of),
        delivery_id: non_empty(raw.assembly_id).or(non_empty(raw.execution_id)),
        columns: Header::from_names(&columns),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cur1_manifest() {
        let m = parse(
            br#"{"assemblyId":"a1","account":"123456789012",
            "columns":[{"category":"lineItem","name":"UnblendedCost"}],
            "billingPeriod":{"start":"20170801T000000.000Z","end":"20170901T000000.000Z"},
            "reportKeys":["p/r/20170801-20170901/a1/r-1.csv.gz"]}"#,
        )
        .unwrap();
        assert_eq!(
            m.parts,
            [PartRef::Key("p/r/20170801-20170901/a1/r-1.csv.gz".into())]
        );
        assert_eq!(m.period.map(|p| p.to_string()).as_deref(), Some("2017-08"));
        assert_eq!(m.payer.as_deref(), Some("123456789012"));
        assert_eq!(m.delivery_id.as_deref(), Some("a1"));
        assert!(m.columns.has("lineItem/UnblendedCost"));
    }

    #[test]
    fn data_exports_manifest() {
        let m = parse(
            br#"{"executionId":"e1","billingPeriod":"2026-11",
            "columns":[{"name":"line_item_unblended_cost","type":"double"}],
            "dataFiles":["s3://b/p/x/data/BILLING_PERIOD=2026-11/x-00001.csv.gz"]}"#,
        )
        .unwrap();
        assert_eq!(
            m.parts[0].display(),
            "s3://b/p/x/data/BILLING_PERIOD=2026-11/x-00001.csv.gz"
        );
        assert_eq!(m.period.map(|p| p.to_string()).as_deref(), Some("2026-11"));
        assert_eq!(m.delivery_id.as_deref(), Some("e1"));
    }

    #[test]
    fn keys_normalize_for_duplicate_checks() {
        let k = |s: &str| PartRef::Key(s.into()).normalized_key();
        assert_eq!(k("/a//./b.csv"), "a/b.csv");
        assert_eq!(k("a/b.csv"), "a/b.csv");
        assert_ne!(k("a/b.csv"), k("a/c.csv"));
    }

    #[test]
    fn malformed_manifests_are_refused() {
        for bad in [
            &b"{"[..],
            b"[]",
            br#"{"reportKeys":"x"}"#,
            br#"{"account":"1"}"#,
            br#"{"dataFiles":["http://x/y"]}"#,
        ] {
            assert!(
                matches!(parse(bad), Err(ErrorKind::InvalidManifest(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
