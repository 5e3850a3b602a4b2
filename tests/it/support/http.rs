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
    // reqwest is built without a crypto provider of its own (reenact picks ring): install it once
    // for the process; a second install is refused, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
}

/// An error and its causes on one line, `a: b: c`, for assertions and panic messages.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    std::iter::successors(Some(err), |err| err.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// A loopback port nothing listens on now, for a service a test starts itself.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a free port");
    listener.local_addr().expect("its address").port()
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
