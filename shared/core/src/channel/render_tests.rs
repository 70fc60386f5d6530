//! Each service's request for one alert: its structure and limits, report text that tries to
//! mention, link or break out of code, a text too long for any of them, and the webhook's
//! signature verified by Python's own `hmac`.

use super::*;
use crate::period::Period;

fn owed(text: &str, reason: &str) -> Owed {
    Owed {
        period: Period::new(2026, 11).unwrap(),
        key: "team#actual#80".into(),
        alert_id: "team:2026-11:actual:80".into(),
        kind: "budget".into(),
        budget: Some("team".into()),
        basis: Some("actual".into()),
        severity: "warning".into(),
        reason: reason.into(),
        report_key: Some("cur/r/x.csv.gz".into()),
        topic: None,
        subject: "billwatch: team: actual spend passed 80% of 1,000.00 USD - Nov 2026".into(),
        text: text.into(),
        payload: json!({"type": "budget", "actual": "812.345", "amount": "1000", "currency": "USD",
                        "forecast": "1100.5", "threshold": "80%", "period": "2026-11"})
        .to_string(),
        attributes: vec![],
    }
}

const HOSTILE: &str = "AmazonEC2 <!channel> @everyone <https://evil.example|click> ``` done";

fn chars(v: &Value) -> usize {
    v.as_str().unwrap().chars().count()
}

#[test]
fn slack_is_block_kit_within_its_limits_and_report_text_cannot_mention_or_link() {
    let o = owed(&"x".repeat(10_000), HOSTILE);
    let r = request(
        ChannelKind::Slack,
        &o,
        Some("https://bucket.example/pages/x?sig=1"),
        0,
        b"",
    );
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(chars(&blocks[0]["text"]["text"]) <= SLACK_HEADER_CHARS);
    for b in blocks.iter().filter(|b| b["type"] == "section") {
        if b["text"].is_object() {
            assert!(chars(&b["text"]["text"]) <= SLACK_SECTION_CHARS);
        }
        for f in b["fields"].as_array().into_iter().flatten() {
            assert!(chars(&f["text"]) <= SLACK_FIELD_CHARS);
        }
    }
    assert!(r.body.contains("&lt;!channel&gt;") && !r.body.contains("<!channel>"));
    assert!(!r.body.contains("<https://evil"));
    assert!(
        r.body.contains("▓▓▓▓▓▓▓▓░░ 81.2 % of the budget"),
        "{}",
        r.body
    );
    assert!(r.body.contains("812.35 USD"));
    assert!(r.body.contains("(cut; the e-mail has it all)"));
    assert!(blocks.iter().any(|b| b["type"] == "actions"));
}

#[test]
fn discord_is_one_embed_within_its_limits_and_mentions_no_one() {
    let o = owed(&"y".repeat(20_000), HOSTILE);
    let r = request(ChannelKind::Discord, &o, None, 0, b"");
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["allowed_mentions"]["parse"], json!([]));
    let e = &v["embeds"][0];
    assert!(chars(&e["title"]) <= DISCORD_TITLE_CHARS);
    assert!(chars(&e["description"]) <= DISCORD_DESCRIPTION_CHARS);
    let fields = e["fields"].as_array().unwrap();
    assert!(fields.len() <= DISCORD_FIELDS);
    let total = chars(&e["title"])
        + chars(&e["description"])
        + chars(&e["footer"]["text"])
        + fields
            .iter()
            .map(|f| chars(&f["name"]) + chars(&f["value"]))
            .sum::<usize>();
    assert!(total <= DISCORD_EMBED_CHARS, "{total}");
    assert_eq!(e["color"], 0xBF8700);
}

#[test]
fn teams_is_an_adaptive_card_under_its_size_and_google_chat_text_under_its_length() {
    let o = owed(&"z".repeat(100_000), HOSTILE);
    let r = request(ChannelKind::Teams, &o, Some("https://p"), 0, b"");
    assert!(r.body.len() <= TEAMS_PAYLOAD_BYTES, "{}", r.body.len());
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let card = &v["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["actions"][0]["url"], "https://p");
    let r = request(ChannelKind::GoogleChat, &o, None, 0, b"");
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert!(chars(&v["text"]) <= GOOGLE_CHAT_TEXT_CHARS);
    assert!(v["text"]
        .as_str()
        .unwrap()
        .starts_with("*team: actual spend passed 80%"));
}

/// HMAC-SHA256 as Python's standard library computes it, from the same key, timestamp and body.
fn python_accepts(key: &str, timestamp: &str, body: &str, header: &str, now: i64) -> bool {
    let script = r#"
import hmac, hashlib, sys
key, ts, body, header, now = sys.argv[1:6]
want = "v1=" + hmac.new(key.encode(), (ts + "." + body).encode(), hashlib.sha256).hexdigest()
fresh = abs(int(now) - int(ts)) <= 300
print("ok" if fresh and hmac.compare_digest(want, header) else "no")
"#;
    let out = std::process::Command::new(
        std::env::var("BILLWATCH_PYTHON").unwrap_or_else(|_| "python3".into()),
    )
    .args(["-c", script, key, timestamp, body, header, &now.to_string()])
    .output()
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim() == "ok"
}

#[test]
fn the_webhook_sends_the_payload_signed_as_pythons_hmac_verifies_it() {
    let o = owed("text", "reason");
    let now = 1_796_000_000;
    let r = request(ChannelKind::Webhook, &o, None, now, b"s3cret-key");
    assert_eq!(
        r.body, o.payload,
        "the body is the alert's JSON payload as it is"
    );
    let header = |name: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (ts, sig) = (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER));
    assert_eq!(ts, now.to_string());
    assert_eq!(header("X-Billwatch-Alert-Id"), o.alert_id);
    assert!(python_accepts("s3cret-key", &ts, &r.body, &sig, now + 10));
    let tampered = r.body.replace("812.345", "1.00");
    assert!(!python_accepts(
        "s3cret-key",
        &ts,
        &tampered,
        &sig,
        now + 10
    ));
    assert!(
        !python_accepts("s3cret-key", &ts, &r.body, &sig, now + 301),
        "an old request fails"
    );
    assert!(!python_accepts("other-key", &ts, &r.body, &sig, now));
    assert!(crate::channel::sign::verify(
        b"s3cret-key",
        now,
        r.body.as_bytes(),
        &sig,
        now
    ));
}
