//! CUR 1.0 (`reportKeys`) and Data Exports (`dataFiles`) manifests: the list of parts that make
//! up one delivery, and what the manifest says of the period, payer and delivery id.

use super::error::ErrorKind;
use super::header::Header;
use super::source::parse_s3_uri;
use super::timestamp::Timestamp;
use crate::period::Period;
use serde_json::Value;

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

fn string_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub fn parse(bytes: &[u8]) -> Result<Manifest, ErrorKind> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| ErrorKind::InvalidManifest(e.to_string()))?;
    if !v.is_object() {
        return Err(ErrorKind::InvalidManifest("not a JSON object".into()));
    }
    let list = |name: &str| -> Result<Option<Vec<String>>, ErrorKind> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| {
                        ErrorKind::InvalidManifest(format!("'{name}' holds a non-string entry"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(ErrorKind::InvalidManifest(format!(
                "'{name}' is not a list"
            ))),
        }
    };
    let parts = if let Some(keys) = list("reportKeys")? {
        keys.into_iter().map(PartRef::Key).collect()
    } else if let Some(uris) = list("dataFiles")? {
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
    let period = [
        &["billingPeriod", "start"][..],
        &["billingPeriod"][..],
        &["billing_period"][..],
    ]
    .iter()
    .find_map(|p| string_at(&v, p))
    .and_then(|s| {
        s.parse::<Period>()
            .ok()
            .or_else(|| Timestamp::parse(s.as_bytes()).map(|t| t.period()))
    });
    let columns = v
        .get("columns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .filter_map(|c| {
                    let name = c.get("name")?.as_str()?;
                    Some(match c.get("category").and_then(Value::as_str) {
                        Some(cat) if !cat.is_empty() => format!("{cat}/{name}"),
                        _ => name.to_string(),
                    })
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Ok(Manifest {
        parts,
        bucket: string_at(&v, &["bucket"]).map(str::to_string),
        payer: string_at(&v, &["account"]).map(str::to_string),
        period,
        delivery_id: string_at(&v, &["assemblyId"])
            .or_else(|| string_at(&v, &["executionId"]))
            .map(str::to_string),
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
