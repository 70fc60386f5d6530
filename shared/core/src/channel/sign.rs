//! The generic webhook's signature (docs/channels.md, "Verifying a webhook"): HMAC-SHA256 with
//! the channel's signing key over `<timestamp>.<body>`, hex, sent as
//! `X-Billwatch-Signature: v1=<hex>` beside `X-Billwatch-Timestamp: <unix seconds>`. A receiver
//! recomputes it over the raw body, compares in constant time, and refuses a timestamp more
//! than [`TOLERANCE_SECONDS`] away from its clock (a replayed request).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "X-Billwatch-Signature";
/// The header with the Unix time the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Billwatch-Timestamp";
/// How far a receiver should let the timestamp be from its own clock.
pub const TOLERANCE_SECONDS: i64 = 300;

/// `v1=<hex of HMAC-SHA256(key, "<timestamp>.<body>")>`.
pub fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(3 + digest.len() * 2);
    hex.push_str("v1=");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Whether `header` is the signature of `body` at `timestamp` with `key`, and `timestamp` is
/// within [`TOLERANCE_SECONDS`] of `now` (what a receiver written in Rust checks).
pub fn verify(key: &[u8], timestamp: i64, body: &[u8], header: &str, now: i64) -> bool {
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let Some(hex) = header.strip_prefix("v1=") else {
        return false;
    };
    let Some(given) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_and_a_tampered_or_old_request_fails() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"; here the data
        // is "<timestamp>.<body>" with the timestamp "what do ya want for nothing?" cannot be,
        // so check against the same HMAC computed over the joined text.
        let key = b"Jefe";
        let sig = signature(key, 1_700_000_000, br#"{"a":1}"#);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64);
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(br#"1700000000.{"a":1}"#);
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig, format!("v1={want}"));
        let now = 1_700_000_100;
        assert!(verify(key, 1_700_000_000, br#"{"a":1}"#, &sig, now));
        assert!(!verify(key, 1_700_000_000, br#"{"a":2}"#, &sig, now));
        assert!(!verify(b"other", 1_700_000_000, br#"{"a":1}"#, &sig, now));
        assert!(!verify(key, 1_700_000_000, br#"{"a":1}"#, &sig, now + 1000));
        assert!(!verify(key, 1_700_000_000, br#"{"a":1}"#, "v1=zz", now));
    }

    #[test]
    fn rfc_4231_case_2() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
