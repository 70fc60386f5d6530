//! DynamoDB's request limits, checked on the requests the stores send, at the HTTP level: a
//! local responder answers every call with success and keeps what it was sent. The emulator the
//! integration tests use takes oversized batches and transactions that DynamoDB refuses
//! (BatchWriteItem of 26 items, a TransactWriteItems over 4 MB), so it cannot show these.

use super::attr::{n_int, s, Item};
use super::batch;
use super::item_size::item_bytes;
use super::reports::{
    fits_beside_pointer, Flip, Pointer, ReportsStore, TRANSACTION_MAX_BYTES, TRANSACTION_MAX_ITEMS,
};
use super::{AlertsStore, Owed, StoreError};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use billwatch_core::alert::notices::{health_alert, overflow};
use billwatch_core::alert::{Alert, HealthCheck};
use billwatch_core::period::Period;
use billwatch_core::report::{Format, Status};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as DynamoDB would receive it: its operation (X-Amz-Target) and JSON body.
#[derive(Debug, Clone)]
struct Sent {
    operation: String,
    body: Value,
    bytes: usize,
}

/// A DynamoDB endpoint on 127.0.0.1 that answers every call with success (no unprocessed
/// items) and records it.
fn responder() -> (String, Arc<Mutex<Vec<Sent>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let (mut length, mut operation) = (0usize, String::new());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        let (name, value) = l.split_once(':').unwrap_or((l, ""));
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "x-amz-target" => operation = value.trim().to_string(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let answer = if operation.ends_with("BatchWriteItem") {
                        r#"{"UnprocessedItems":{}}"#
                    } else {
                        "{}"
                    };
                    log.lock().unwrap().push(Sent {
                        operation: operation.rsplit('.').next().unwrap_or_default().to_string(),
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        bytes: length,
                    });
                    let mut out = stream.try_clone().unwrap();
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                }
            });
        }
    });
    (url, sent)
}

fn client(url: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

/// DynamoDB's size of an item in its wire form ({"name": {"S": ...}}), by the rules of the
/// Developer Guide: names and strings by their UTF-8 bytes, numbers about 1 byte per two
/// digits plus 1, maps and lists 3 bytes plus 1 per element. Independent of item_size.rs,
/// which sizes the SDK's types.
fn wire_item_bytes(item: &Value) -> usize {
    fn value(v: &Value) -> usize {
        let (kind, inner) = v.as_object().unwrap().iter().next().unwrap();
        match kind.as_str() {
            "S" => inner.as_str().unwrap().len(),
            "N" => {
                let digits = inner.as_str().unwrap().chars().filter(char::is_ascii_digit);
                let d: String = digits.collect();
                d.trim_matches('0').len().div_ceil(2) + 1
            }
            "BOOL" | "NULL" => 1,
            "M" => {
                3 + inner
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| k.len() + value(v) + 1)
                    .sum::<usize>()
            }
            "L" => {
                3 + inner
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| value(v) + 1)
                    .sum::<usize>()
            }
            other => panic!("unexpected attribute type {other}"),
        }
    }
    item.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| k.len() + value(v))
        .sum()
}

fn put(i: usize, pad: usize) -> WriteRequest {
    let item: Item = HashMap::from([
        ("pk".into(), s("V#test")),
        ("sk".into(), s(format!("T#{i:05}"))),
        ("pad".into(), s("x".repeat(pad))),
    ]);
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
        .build()
}

fn batch_sizes(sent: &[Sent], table: &str) -> Vec<(usize, usize)> {
    sent.iter()
        .filter(|r| r.operation == "BatchWriteItem")
        .map(|r| {
            (
                r.body["RequestItems"][table].as_array().unwrap().len(),
                r.bytes,
            )
        })
        .collect()
}

#[tokio::test]
async fn twenty_six_writes_go_as_25_and_1() {
    let (url, sent) = responder();
    let stats = batch::write_all(
        &client(&url),
        "totals",
        (0..26).map(|i| put(i, 10)).collect(),
    )
    .await
    .unwrap();
    assert_eq!(stats.calls, 2);
    let mut counts: Vec<usize> = batch_sizes(&sent.lock().unwrap(), "totals")
        .iter()
        .map(|c| c.0)
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![1, 25]);
}

/// 25 items of nearly 400 KB (the largest DynamoDB stores) in one BatchWriteItem stay under its
/// 16 MB request limit: the chunk of 25 alone keeps every batch the code sends within it.
#[tokio::test]
async fn a_batch_of_25_largest_items_stays_under_16_mb() {
    let (url, sent) = responder();
    let pad = super::item_size::MAX_ITEM_BYTES - 64;
    let requests: Vec<WriteRequest> = (0..50).map(|i| put(i, pad)).collect();
    let one = requests[0].put_request().unwrap().item();
    assert!(item_bytes(one) <= super::item_size::MAX_ITEM_BYTES);
    batch::write_all(&client(&url), "totals", requests)
        .await
        .unwrap();
    let sizes = batch_sizes(&sent.lock().unwrap(), "totals");
    assert_eq!(sizes.len(), 2);
    for (count, bytes) in sizes {
        assert_eq!(count, 25);
        assert!(
            bytes < 16 * 1024 * 1024,
            "{bytes} bytes in one BatchWriteItem"
        );
    }
}

fn pointer(version: &str) -> Pointer {
    Pointer {
        payer: "123456789012".into(),
        period: Period::new(2026, 11).unwrap(),
        version: version.into(),
        report_key: "cur/r/20261101-20261201/r-Manifest.json".into(),
        order_key: "2026-11-27T13:00:00Z".into(),
        rank: 3,
        format: Format::Cur1,
        status: Status::Estimated,
        as_of: None,
        delivery_id: Some("assembly-1".into()),
        stored_at: "2026-11-27T13:00:01Z".into(),
        rows_summed: 10,
        sequencer: None,
    }
}

fn small_item(i: usize) -> (String, Item) {
    (
        "alerts".into(),
        HashMap::from([
            ("pk".into(), s("P#2026-11")),
            ("sk".into(), s(format!("O#v#{i:04}"))),
            ("n".into(), n_int(i as u64)),
        ]),
    )
}

fn transactions(sent: &[Sent]) -> Vec<Value> {
    sent.iter()
        .filter(|r| r.operation == "TransactWriteItems")
        .map(|r| r.body.clone())
        .collect()
}

#[tokio::test]
async fn a_flip_takes_99_items_beside_its_pointer_and_refuses_100() {
    let (url, sent) = responder();
    let store = ReportsStore::new(client(&url), "reports");
    let beside: Vec<_> = (0..TRANSACTION_MAX_ITEMS - 1).map(small_item).collect();
    assert_eq!(
        store.flip(&pointer("v1"), None, beside).await.unwrap(),
        Flip::Flipped
    );
    let beside: Vec<_> = (0..TRANSACTION_MAX_ITEMS).map(small_item).collect();
    let refused = store.flip(&pointer("v2"), None, beside).await;
    assert!(
        matches!(refused, Err(StoreError::Malformed { .. })),
        "{refused:?}"
    );
    let sent = transactions(&sent.lock().unwrap());
    assert_eq!(sent.len(), 1, "the refused flip is never sent");
    assert_eq!(
        sent[0]["TransactItems"].as_array().unwrap().len(),
        TRANSACTION_MAX_ITEMS
    );
}

fn big_alert(period: Period, i: usize) -> Alert {
    health_alert(
        period,
        format!("health#new-service#{i:012}#AmazonEC2"),
        HealthCheck::NewService,
        &format!("new service AmazonEC2 in account {i:012}"),
        &format!("alert {i}: {}", "x".repeat(20_000)),
        "cur/r/20261101-20261201/r-Manifest.json",
    )
}

/// 300 alerts of about 20 KB (6 MB) owed by one delivery: the flip carries as many as fit
/// beside the pointer in 4 MB, and one message listing the rest; the request DynamoDB gets is
/// within its limits, and a flip of the whole outbox would have been refused before sending.
#[tokio::test]
async fn an_outbox_over_4_mb_is_cut_to_fit_with_one_message_for_the_rest() {
    let (url, sent) = responder();
    let period = Period::new(2026, 11).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 13, 0, 0).unwrap();
    let alerts_store = AlertsStore::new(client(&url), "alerts");
    let reports = ReportsStore::new(client(&url), "reports");
    let alerts: Vec<Alert> = (0..300).map(|i| big_alert(period, i)).collect();
    let key = "cur/r/20261101-20261201/r-Manifest.json";
    let summary = |rest: &[Alert]| overflow(period, key, "v1", rest);

    let owed: Vec<Owed> = alerts.iter().map(Owed::from).collect();
    let whole = alerts_store.outbox_items("v1", &owed, now);
    let whole: Vec<_> = whole
        .into_iter()
        .map(|i| ("alerts".to_string(), i))
        .collect();
    let refused = reports.flip(&pointer("v1"), None, whole).await;
    assert!(
        matches!(refused, Err(StoreError::Malformed { .. })),
        "{refused:?}"
    );

    let (items, summarised) = alerts_store.outbox_for_flip("v1", &alerts, summary, now);
    assert!(summarised > 0 && summarised < 300, "{summarised}");
    let kept = 300 - summarised;
    // As many as fit: keeping one more (with the message for the others) would not.
    let mut one_more: Vec<Owed> = alerts[..=kept].iter().map(Owed::from).collect();
    one_more.push(Owed::from(&summary(&alerts[kept + 1..])));
    let one_more = alerts_store.outbox_items("v1", &one_more, now);
    let bytes: usize = one_more.iter().map(item_bytes).sum();
    assert!(
        !fits_beside_pointer(one_more.len(), bytes),
        "{} alerts fit",
        kept + 1
    );
    let beside: Vec<_> = items
        .into_iter()
        .map(|i| ("alerts".to_string(), i))
        .collect();
    assert_eq!(
        reports.flip(&pointer("v1"), None, beside).await.unwrap(),
        Flip::Flipped
    );

    let sent = transactions(&sent.lock().unwrap());
    assert_eq!(sent.len(), 1);
    let actions = sent[0]["TransactItems"].as_array().unwrap();
    assert!(actions.len() <= TRANSACTION_MAX_ITEMS);
    for a in actions {
        let one = wire_item_bytes(&a["Put"]["Item"]);
        assert!(
            one <= super::item_size::MAX_ITEM_BYTES,
            "an item of {one} bytes"
        );
    }
    let bytes: usize = actions
        .iter()
        .map(|a| wire_item_bytes(&a["Put"]["Item"]))
        .sum();
    assert!(
        bytes <= TRANSACTION_MAX_BYTES,
        "{bytes} bytes in one TransactWriteItems"
    );
    // Every alert is in the outbox: kept ones one by one, the rest in one message.
    let outbox: Vec<Value> = actions[1..]
        .iter()
        .flat_map(|a| {
            let text = a["Put"]["Item"]["alerts"]["S"].as_str().unwrap();
            serde_json::from_str::<Vec<Value>>(text).unwrap()
        })
        .collect();
    assert_eq!(outbox.len(), kept + 1);
    let last = outbox.last().unwrap();
    assert_eq!(
        last["subject"],
        format!("billwatch: {summarised} more alerts of one delivery in 2026-11")
    );
}

#[test]
fn an_outbox_that_fits_is_left_whole() {
    let period = Period::new(2026, 11).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 13, 0, 0).unwrap();
    let store = AlertsStore::new(client("http://127.0.0.1:9"), "alerts");
    let alerts: Vec<Alert> = (0..20).map(|i| big_alert(period, i)).collect();
    let (items, summarised) =
        store.outbox_for_flip("v1", &alerts, |rest| overflow(period, "k", "v1", rest), now);
    assert_eq!(summarised, 0);
    assert_eq!(
        items.len(),
        2,
        "20 alerts of 20 KB: two outbox items of at most 300 KB"
    );
}
