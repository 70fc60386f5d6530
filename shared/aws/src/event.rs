//! S3 notifications and Amazon EventBridge "Object Created" events → the report objects to
//! ingest. Keys arrive URL-encoded in both shapes (`+` for a space, `%XX` for other bytes) and are
//! decoded the same way; both carry the object's sequencer, version id and ETag, so ordering and
//! dedupe are the same whichever way an object is announced. `s3:TestEvent`, other EventBridge
//! events and keys that are not reports are skipped, not failed.

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use billwatch_core::report::key_info;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// One object an event says was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportObject {
    pub bucket: String,
    pub key: String,
    pub size: Option<i64>,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub sequencer: Option<String>,
    pub event_time: DateTime<Utc>,
    pub event_name: String,
    /// How the object was announced.
    pub via: Via,
}

/// The two ways S3 announces a created object to the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An S3 event notification (`Records`), from a bucket the stack created.
    S3Notification,
    /// An Amazon EventBridge event (`detail-type: Object Created`), from an existing bucket
    /// with EventBridge notifications turned on.
    EventBridge,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::S3Notification => "s3",
            Via::EventBridge => "eventbridge",
        }
    }
}

impl ReportObject {
    /// The object's version for once-per-version alerts: its sequencer, else its ETag.
    pub fn version_tag(&self) -> String {
        billwatch_core::delivery::version_tag(self.sequencer.as_deref(), self.etag.as_deref())
    }

    /// `<eventTime with millis>#<sequencer right-padded to 32>`: orders deliveries of one key by
    /// S3's sequencer and deliveries of different keys by time.
    pub fn order_key(&self) -> String {
        billwatch_core::delivery::order_key(self.event_time, self.sequencer.as_deref())
    }
}

/// Sequencers of one key compare as strings once right-padded with zeros to one length.
pub use billwatch_core::delivery::padded_sequencer;

/// What one entry of the payload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The message S3 sends when a notification is configured.
    TestEvent,
    Object(ReportObject),
    /// A record that is not an object creation (or not from S3): ignored with the reason.
    Ignored(String),
    /// An object record that cannot be used (a key that is not valid URL-encoded UTF-8, no
    /// bucket): fails on its own, without failing the others of the batch.
    Unusable {
        key: String,
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not an S3 event: {0}")]
    Shape(String),
    #[error("object key '{0}' is not valid URL-encoded UTF-8")]
    Key(String),
}

/// `+` is a space, then `%XX` bytes; the result must be UTF-8. Decoded once, never twice.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| EventError::Key(raw.to_string()))
}

/// Reads a Lambda payload: an S3 event with `Records`, S3's test event, or one EventBridge event
/// (which carries one object).
pub fn parse_payload(payload: &Value) -> Result<Vec<Incoming>, EventError> {
    if payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![Incoming::TestEvent]);
    }
    if payload.get("detail-type").is_some() && payload.get("Records").is_none() {
        return eventbridge(payload).map(|one| vec![one]);
    }
    let event: S3Event =
        serde_json::from_value(payload.clone()).map_err(|e| EventError::Shape(e.to_string()))?;
    Ok(event
        .records
        .iter()
        .map(|r| {
            incoming(r).unwrap_or_else(|e| Incoming::Unusable {
                key: r.s3.object.key.clone().unwrap_or_default(),
                reason: e.to_string(),
            })
        })
        .collect())
}

fn incoming(record: &S3EventRecord) -> Result<Incoming, EventError> {
    let source = record.event_source.as_deref().unwrap_or("");
    let name = record.event_name.clone().unwrap_or_default();
    if source != "aws:s3" || !name.starts_with("ObjectCreated:") {
        return Ok(Incoming::Ignored(format!(
            "event '{name}' from '{source}' is not an S3 object creation"
        )));
    }
    let (Some(bucket), Some(raw_key)) = (&record.s3.bucket.name, &record.s3.object.key) else {
        return Err(EventError::Shape(
            "record without bucket name or object key".into(),
        ));
    };
    Ok(Incoming::Object(ReportObject {
        bucket: bucket.clone(),
        key: decode_key(raw_key)?,
        size: record.s3.object.size,
        etag: record.s3.object.e_tag.clone(),
        version_id: record.s3.object.version_id.clone(),
        sequencer: record.s3.object.sequencer.clone(),
        event_time: record.event_time,
        event_name: name,
        via: Via::S3Notification,
    }))
}

/// The envelope of an EventBridge event, with the fields billwatch reads.
#[derive(Debug, Deserialize)]
struct BridgeEvent {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    time: String,
    #[serde(default)]
    detail: Value,
}

/// `detail` of an S3 "Object Created" event.
#[derive(Debug, Deserialize)]
struct CreatedDetail {
    bucket: BridgeBucket,
    object: BridgeObject,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BridgeBucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct BridgeObject {
    key: String,
    #[serde(default)]
    size: Option<i64>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default, rename = "version-id")]
    version_id: Option<String>,
    #[serde(default)]
    sequencer: Option<String>,
}

/// One EventBridge event. Only S3's "Object Created" is an object to ingest; any other event
/// (another source, "Object Deleted", …) is ignored with its reason. Its `time` has whole
/// seconds where a notification's `eventTime` has milliseconds: it orders deliveries of
/// different keys only (one key's are ordered by the sequencer, as for notifications).
fn eventbridge(payload: &Value) -> Result<Incoming, EventError> {
    let event: BridgeEvent = serde_json::from_value(payload.clone())
        .map_err(|e| EventError::Shape(format!("EventBridge event: {e}")))?;
    if event.source != "aws.s3" || event.detail_type != "Object Created" {
        return Ok(Incoming::Ignored(format!(
            "EventBridge event '{}' from '{}' is not an S3 object creation",
            event.detail_type, event.source
        )));
    }
    let time = DateTime::parse_from_rfc3339(&event.time)
        .map_err(|e| EventError::Shape(format!("EventBridge time '{}': {e}", event.time)))?
        .with_timezone(&Utc);
    let detail: CreatedDetail = serde_json::from_value(event.detail)
        .map_err(|e| EventError::Shape(format!("EventBridge Object Created detail: {e}")))?;
    let raw_key = detail.object.key;
    let key = match decode_key(&raw_key) {
        Ok(key) => key,
        Err(e) => {
            return Ok(Incoming::Unusable {
                key: raw_key,
                reason: e.to_string(),
            })
        }
    };
    Ok(Incoming::Object(ReportObject {
        bucket: detail.bucket.name,
        key,
        size: detail.object.size,
        etag: detail.object.etag,
        version_id: detail.object.version_id,
        sequencer: detail.object.sequencer,
        event_time: time,
        event_name: event_name(detail.reason.as_deref()),
        via: Via::EventBridge,
    }))
}

/// The notification's event name for an EventBridge `reason` (the API that created the object).
fn event_name(reason: Option<&str>) -> String {
    let kind = match reason {
        Some("PutObject") => "Put",
        Some("PostObject") => "Post",
        Some("CopyObject") => "Copy",
        Some("CompleteMultipartUpload") => "CompleteMultipartUpload",
        _ => "*",
    };
    format!("ObjectCreated:{kind}")
}

/// Whether a key is a report to ingest; `Err` carries why it is skipped. Data parts of a CUR
/// or Data Exports delivery are read through their manifest, never one by one.
pub fn report_key(key: &str) -> Result<(), String> {
    let info = key_info(key);
    if info.format.is_some() {
        return Ok(());
    }
    let mut dirs = key.rsplit('/');
    let name = dirs.next().unwrap_or_default();
    if !name.ends_with("-Manifest.json") {
        return Err(format!(
            "'{name}' is not a billing report key (CUR and Data Exports parts are read through their manifest)"
        ));
    }
    let parent = dirs.next().unwrap_or_default();
    let grandparent = dirs.next().unwrap_or_default();
    if is_date_range(parent) {
        return Ok(());
    }
    if key.contains("/metadata/") {
        return Ok(());
    }
    if is_date_range(grandparent) {
        return Err(
            "the assembly-folder copy of a CUR manifest (its date-range copy is ingested)".into(),
        );
    }
    Err(format!("manifest '{name}' is neither in a CUR date-range folder nor a Data Exports metadata folder"))
}

/// `20261101-20261201`.
fn is_date_range(dir: &str) -> bool {
    let b = dir.as_bytes();
    b.len() == 17
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_plus_then_percent() {
        assert_eq!(
            decode_key("in/Jan+2026%2Bextra+%281%29.csv").unwrap(),
            "in/Jan 2026+extra (1).csv"
        );
        assert_eq!(decode_key("a%2Fb%20c").unwrap(), "a/b c");
        assert_eq!(decode_key("caf%C3%A9.csv").unwrap(), "café.csv");
        assert!(decode_key("bad%FF.csv").is_err());
        // Decoded once: a literal %25 stays a percent sign.
        assert_eq!(decode_key("100%2525.csv").unwrap(), "100%25.csv");
    }

    #[test]
    fn report_keys_and_skips() {
        assert!(report_key("billing/123456789012-aws-billing-csv-2026-11.csv").is_ok());
        assert!(report_key("123456789012-aws-billing-detailed-line-items-2026-11.csv.zip").is_ok());
        assert!(report_key("cur/r/20261101-20261201/r-Manifest.json").is_ok());
        assert!(report_key("exp/x/metadata/BILLING_PERIOD=2026-11/x-Manifest.json").is_ok());
        assert!(
            report_key("cur/r/20261101-20261201/abc-123/r-Manifest.json")
                .unwrap_err()
                .contains("assembly-folder")
        );
        assert!(report_key("cur/r/20261101-20261201/abc/r-1.csv.gz")
            .unwrap_err()
            .contains("manifest"));
        assert!(report_key("exp/x/data/BILLING_PERIOD=2026-11/x-00001.csv.gz").is_err());
        assert!(report_key("notes.txt").is_err());
        assert!(report_key("cur/r/20261101-20261201/r-RedshiftManifest.json").is_err());
    }

    #[test]
    fn test_event_and_records_parse() {
        let test: Value = serde_json::json!({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-27T10:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"});
        assert_eq!(parse_payload(&test).unwrap(), vec![Incoming::TestEvent]);
        let put: Value = serde_json::json!({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
            "eventTime":"2026-11-27T10:00:00.123Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:X"},
            "requestParameters":{"sourceIPAddress":"1.2.3.4"},"responseElements":{"x-amz-request-id":"r"},
            "s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"b","ownerIdentity":{"principalId":"X"},"arn":"arn:aws:s3:::b"},
                  "object":{"key":"bills/Nov+2026.csv","size":10,"eTag":"e","sequencer":"0055AED6DCD90281E5"}}}]});
        let got = parse_payload(&put).unwrap();
        let Incoming::Object(o) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(o.key, "bills/Nov 2026.csv");
        assert_eq!(
            o.order_key(),
            "2026-11-27T10:00:00.123Z#0055AED6DCD90281E500000000000000"
        );
        assert!(parse_payload(&serde_json::json!({"foo": 1})).is_err());
    }

    /// The EventBridge fixtures of infra/local/events (see its README for their sources).
    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../infra/local/events/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn one_object(payload: &Value) -> ReportObject {
        match parse_payload(payload).unwrap().as_slice() {
            [Incoming::Object(o)] => o.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_aws_docs_eventbridge_object_created_example_is_an_object() {
        let o = one_object(&fixture("eventbridge-object-created-aws-docs.json"));
        assert_eq!(o.bucket, "amzn-s3-demo-bucket1");
        assert_eq!(o.key, "example-key");
        assert_eq!(o.size, Some(5));
        assert_eq!(o.etag.as_deref(), Some("b1946ac92492d2347c6235b4d2611184"));
        assert_eq!(
            o.version_id.as_deref(),
            Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e")
        );
        assert_eq!(o.sequencer.as_deref(), Some("617f08299329d189"));
        assert_eq!(o.event_name, "ObjectCreated:Put");
        assert_eq!(o.via, Via::EventBridge);
        // Whole seconds in EventBridge's `time`; the sequencer is compared upper-case and padded.
        assert_eq!(
            o.order_key(),
            "2021-11-12T00:00:00.000Z#617F08299329D1890000000000000000"
        );
    }

    #[test]
    fn one_object_announced_both_ways_is_the_same_object() {
        let notified = one_object(&fixture("put-encoded-key.json"));
        let bridged = one_object(&fixture("eventbridge-put-encoded-key.json"));
        assert_eq!(notified.via, Via::S3Notification);
        assert_eq!(bridged.via, Via::EventBridge);
        assert_eq!(
            bridged.key,
            "billing/Nov 2026+extra (1)/café/123456789012-aws-billing-csv-2026-11.csv"
        );
        // What ordering, dedupe and the read use is identical; only the time's precision and
        // the way it came differ.
        for (a, b) in [
            (&notified.bucket, &bridged.bucket),
            (&notified.key, &bridged.key),
        ] {
            assert_eq!(a, b);
        }
        assert_eq!(notified.size, bridged.size);
        assert_eq!(notified.etag, bridged.etag);
        assert_eq!(notified.version_id, bridged.version_id);
        assert_eq!(notified.sequencer, bridged.sequencer);
        assert_eq!(notified.version_tag(), bridged.version_tag());
        assert_eq!(notified.event_name, bridged.event_name);
        assert_eq!(report_key(&bridged.key), Ok(()));
    }

    #[test]
    fn other_eventbridge_events_are_ignored_and_broken_ones_refused() {
        let deleted = parse_payload(&fixture("eventbridge-object-deleted.json")).unwrap();
        assert!(
            matches!(deleted.as_slice(), [Incoming::Ignored(r)] if r.contains("Object Deleted")),
            "{deleted:?}"
        );
        let scheduled = serde_json::json!({"version":"0","id":"x","detail-type":"Scheduled Event",
            "source":"aws.events","account":"123456789012","time":"2026-11-27T10:00:00Z",
            "region":"us-east-1","resources":[],"detail":{}});
        assert!(matches!(
            parse_payload(&scheduled).unwrap().as_slice(),
            [Incoming::Ignored(_)]
        ));
        let mut no_object = fixture("eventbridge-object-created-aws-docs.json");
        no_object["detail"]
            .as_object_mut()
            .unwrap()
            .remove("object");
        assert!(matches!(
            parse_payload(&no_object),
            Err(EventError::Shape(m)) if m.contains("object")
        ));
        let mut bad_key = fixture("eventbridge-object-created-aws-docs.json");
        bad_key["detail"]["object"]["key"] = "bad%FF.csv".into();
        assert!(matches!(
            parse_payload(&bad_key).unwrap().as_slice(),
            [Incoming::Unusable { key, .. }] if key == "bad%FF.csv"
        ));
        let mut multipart = fixture("eventbridge-object-created-aws-docs.json");
        multipart["detail"]["reason"] = "CompleteMultipartUpload".into();
        assert_eq!(
            one_object(&multipart).event_name,
            "ObjectCreated:CompleteMultipartUpload"
        );
    }

    #[test]
    fn padded_sequencers_order_like_s3() {
        assert!(padded_sequencer("0055AED6DCD90281E5") < padded_sequencer("0055AED6DCD90281E6"));
        assert_eq!(padded_sequencer("0A"), padded_sequencer("0A00"));
    }
}
