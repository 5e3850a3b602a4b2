//! Helpers for what the tests send and get over HTTP.

use serde_json::Value;

/// The string `value` holds (the test fails if it is not one).
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string: {value}"))
        .to_owned()
}

/// base64(HMAC-SHA256(`body`, `key`)), the webhook signature of Xero and QuickBooks, computed
/// here, independently of the crate's signing.
pub fn hmac_sha256_base64(key: &str, body: &[u8]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
