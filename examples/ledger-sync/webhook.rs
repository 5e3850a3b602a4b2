//! The ledger-sync demo's receiver for the accounting system's webhooks (Xero-style).
//!
//! [`verify_delivery`] checks a delivery's `x-xero-signature` header, base64 of the
//! HMAC-SHA256 of the body under the webhook key, and returns the events it carries. Xero expects
//! `401` for a bad signature and `200` for a good one, and disables a subscription whose deliveries
//! keep failing. The incident of release 1.4.2 lives here, beside its 1.4.3 fix and selected only by
//! [`Release`]:
//!
//! - SUP-4972: 1.4.2 parses the JSON and computes the HMAC over `serde_json::to_vec` of it, so
//!   every body whose bytes differ from serde's compact form (spaces, line breaks, escapes such as
//!   `\/` or `\u00e9`) is rejected with `401`; 1.4.3 computes it over the raw bytes received.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::release::Release;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-xero-signature";

/// Why a delivery was turned down.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The signature is missing, not base64 or does not match: answered `401`.
    BadSignature(&'static str),
    /// The signature holds but the body is not a webhook payload: answered `400`.
    BadPayload(String),
}

/// Checks a delivery and returns its events (Xero's intent-to-receive payloads carry none).
pub fn verify_delivery(
    release: Release,
    key: &[u8],
    signature: Option<&[u8]>,
    body: &[u8],
) -> Result<Vec<Value>, Rejection> {
    let signature = signature.ok_or(Rejection::BadSignature("no x-xero-signature header"))?;
    let payload = match release {
        // SUP-4972 (bug): 1.4.2 signs what serde writes back, not what the sender signed. Only a
        // body that already is serde's compact form verifies; Xero's own deliveries and its
        // intent-to-receive checks get 401 and the subscription is disabled.
        Release::V1_4_2 => {
            let payload = parse_payload(body)?;
            let reserialized = serde_json::to_vec(&payload).map_err(|error| {
                Rejection::BadPayload(format!("failed to serialize the payload: {error}"))
            })?;
            check_signature(key, signature, &reserialized)?;
            payload
        }
        // SUP-4972 (fix): 1.4.3 checks the signature over the exact bytes received, before it
        // looks at the JSON at all.
        Release::V1_4_3 => {
            check_signature(key, signature, body)?;
            parse_payload(body)?
        }
    };
    match payload.get("events").and_then(Value::as_array) {
        Some(events) => Ok(events.clone()),
        None => Err(Rejection::BadPayload(
            "the payload has no `events` list".to_owned(),
        )),
    }
}

/// Compares the base64 `signature` with the HMAC-SHA256 of `signed` under `key`, in constant time
/// (Xero's `x-xero-signature` and Intuit's `intuit-signature` are both this).
pub fn check_signature(key: &[u8], signature: &[u8], signed: &[u8]) -> Result<(), Rejection> {
    let expected = STANDARD
        .decode(signature.trim_ascii())
        .map_err(|_| Rejection::BadSignature("the signature is not base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Rejection::BadSignature("the webhook key is not usable"))?;
    mac.update(signed);
    mac.verify_slice(&expected)
        .map_err(|_| Rejection::BadSignature("the signature does not match"))
}

/// The body as JSON.
fn parse_payload(body: &[u8]) -> Result<Value, Rejection> {
    serde_json::from_slice(body)
        .map_err(|error| Rejection::BadPayload(format!("invalid JSON body: {error}")))
}

#[cfg(test)]
mod tests {
    //! Table tests for SUP-4972 against signatures computed independently of this code.

    use super::*;

    /// The webhook key of the vectors below.
    const KEY: &[u8] = b"wh-test-key-SUP-4972";
    /// An intent-to-receive payload exactly as serde writes it back (compact, keys in order).
    const COMPACT: &str = r#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0M3R4ND0M3NTR0PY"}"#;
    /// The same payload as a sender that puts spaces after `:` and `,` writes it.
    const SPACED: &str = r#"{ "events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "S0M3R4ND0M3NTR0PY" }"#;
    // Both signatures were made once with OpenSSL, not with this code:
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac wh-test-key-SUP-4972 -binary | base64
    const COMPACT_SIGNATURE: &str = "JBYKd/vfmN8jxMwTFOkYm76rbGAlNCpnQ/a7yYMQUBc=";
    const SPACED_SIGNATURE: &str = "JAn/ZJTfLojseMomFEHH3z/ENlNfIcPX+7rsOlURBKY=";

    fn verify(release: Release, signature: Option<&str>, body: &str) -> Result<usize, Rejection> {
        verify_delivery(release, KEY, signature.map(str::as_bytes), body.as_bytes())
            .map(|events| events.len())
    }

    #[test]
    fn sup_4972_spaced_body_is_rejected_on_1_4_2_and_accepted_on_1_4_3() {
        let cases = [
            (
                Release::V1_4_2,
                Err(Rejection::BadSignature("the signature does not match")),
            ),
            (Release::V1_4_3, Ok(0)),
        ];
        for (release, expected) in cases {
            assert_eq!(
                verify(release, Some(SPACED_SIGNATURE), SPACED),
                expected,
                "release {release}"
            );
        }
    }

    #[test]
    fn compact_body_verifies_on_both_releases() {
        for release in Release::ALL {
            assert_eq!(
                verify(release, Some(COMPACT_SIGNATURE), COMPACT),
                Ok(0),
                "release {release}"
            );
        }
    }

    #[test]
    fn bad_signatures_are_401_on_both_releases() {
        let other_body = COMPACT.replace("S0M3", "0THER");
        let cases: [(Option<&str>, &str, &str); 5] = [
            (None, COMPACT, "no x-xero-signature header"),
            (Some("not base64!"), COMPACT, "the signature is not base64"),
            (
                Some(SPACED_SIGNATURE),
                COMPACT,
                "the signature does not match",
            ),
            (
                Some(COMPACT_SIGNATURE),
                &other_body,
                "the signature does not match",
            ),
            (Some(""), COMPACT, "the signature does not match"),
        ];
        for release in Release::ALL {
            for (signature, body, reason) in cases {
                assert_eq!(
                    verify(release, signature, body),
                    Err(Rejection::BadSignature(reason)),
                    "release {release}, signature {signature:?}"
                );
            }
        }
    }

    #[test]
    fn signed_body_that_is_not_a_payload_is_400_on_1_4_3() {
        let body = "[1,2,3]";
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY).expect("HMAC takes any key length");
        mac.update(body.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(
            verify(Release::V1_4_3, Some(&signature), body),
            Err(Rejection::BadPayload(
                "the payload has no `events` list".to_owned()
            ))
        );
        assert!(matches!(
            verify(Release::V1_4_3, Some(&signature), "not json"),
            Err(Rejection::BadSignature(_))
        ));
    }
}
