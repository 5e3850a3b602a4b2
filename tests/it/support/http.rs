//! The tests' HTTP client and helpers for what they send and get.

use std::time::Duration;

use serde_json::Value;

/// The tests' HTTP client: see [`http_client_builder`].
pub fn http_client() -> reqwest::Client {
    http_client_builder().build().expect("http client")
}

/// A client builder with no proxy, redirects not followed (a test sees the `302` itself), and a
/// 20 s timeout, so that a mock that never answers fails the test instead of hanging it.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    // reqwest is built without a crypto provider of its own; see `mock::tls`.
    reenact::mock::tls::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
}

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
