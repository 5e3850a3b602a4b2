//! Webhooks sent by a mock: signing and delivery with retries on the virtual clock.
//!
//! The runner never sends a webhook itself: it asks the sending mock through the control API
//! (`POST /__reenact/webhook` with a [`WebhookRequest`]), so a mock in a container sends from the
//! container, as the vendor would. `deliver` makes the attempts: each one is signed over the
//! exact body bytes (`sign`), bounded by the policy's timeout, and followed, when the target did
//! not answer 2xx in time and attempts remain, by a move of the mock's virtual clock by the
//! backoff (never a wall-clock sleep). Every attempt comes back as a [`Delivery`].

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::mock::clock::VirtualClock;
use crate::mock::providers::{ProviderPayload, ProviderWebhook};
use crate::observe::{Delivery, ReceivedResponse};
use crate::scenario::model::{SignAlgorithm, SignatureEncoding};

/// Most attempts one delivery may make, whatever the request asks.
pub(crate) const MAX_ATTEMPTS: u32 = 100;

/// Body of `POST /__reenact/webhook`: one webhook to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Full URL on the target, e.g. `http://127.0.0.1:41234/webhooks/xero`.
    pub url: String,
    /// Method.
    pub method: String,
    /// Headers in order; the signature header is added to them.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes, base64 (standard alphabet, padded) in JSON.
    #[serde(with = "base64_bytes")]
    pub body: Vec<u8>,
    /// How to sign the body, if at all.
    pub sign: Option<SigningSettings>,
    /// When to try again.
    pub retry: RetryPolicy,
    /// A webhook the sending mock's provider writes and signs itself (`body` and `sign` are
    /// then ignored): see `deliver_payloads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderWebhook>,
}

/// Signature settings of a [`WebhookRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningSettings {
    /// The key.
    pub secret: String,
    /// Header carrying the signature.
    pub header: String,
    /// MAC algorithm.
    pub algorithm: SignAlgorithm,
    /// How the MAC is written.
    pub encoding: SignatureEncoding,
    /// Text before the encoded MAC.
    pub prefix: String,
}

/// Retry policy of a [`WebhookRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, 1 to `MAX_ATTEMPTS`.
    pub attempts: u32,
    /// Virtual milliseconds between attempts.
    pub backoff_millis: u64,
    /// Wall-clock milliseconds the target has to answer one attempt.
    pub timeout_millis: u64,
}

/// Answer of `POST /__reenact/webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookReport {
    /// Every attempt, in order.
    pub deliveries: Vec<Delivery>,
}

/// Why a webhook could not be sent at all (as opposed to a target that did not accept it).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The method is not an HTTP method.
    #[error("invalid method `{0}`")]
    Method(String),
    /// A header name or value cannot be sent.
    #[error("invalid header `{0}`")]
    Header(String),
    /// The URL does not parse.
    #[error("invalid URL `{0}`")]
    Url(String),
    /// The attempt count is out of range.
    #[error("`attempts` must be between 1 and {MAX_ATTEMPTS}, found `{0}`")]
    Attempts(u32),
    /// The HTTP client could not be built.
    #[error("failed to build the HTTP client: {0}")]
    Client(String),
}

/// The signature header value of `body` under `settings`: `prefix` + encoded HMAC.
pub(crate) fn sign(settings: &SigningSettings, body: &[u8]) -> String {
    let mac = match settings.algorithm {
        SignAlgorithm::HmacSha256 => {
            // HMAC takes keys of any length, so this never fails; an empty MAC would only make
            // the target reject the webhook, which is what a broken key does anyway.
            let mut mac = match Hmac::<Sha256>::new_from_slice(settings.secret.as_bytes()) {
                Ok(mac) => mac,
                Err(_) => return settings.prefix.clone(),
            };
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
    };
    let encoded = match settings.encoding {
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(&mac),
        SignatureEncoding::Hex => mac.iter().map(|byte| format!("{byte:02x}")).collect(),
    };
    format!("{}{encoded}", settings.prefix)
}

/// Deliver `request`, retrying per its policy; the clock moves on by the backoff between
/// attempts. Returns every attempt.
pub(crate) async fn deliver(
    clock: &VirtualClock,
    request: &WebhookRequest,
) -> Result<WebhookReport, WebhookError> {
    let policy = request.retry;
    if !(1..=MAX_ATTEMPTS).contains(&policy.attempts) {
        return Err(WebhookError::Attempts(policy.attempts));
    }
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| WebhookError::Method(request.method.clone()))?;
    let url =
        reqwest::Url::parse(&request.url).map_err(|_| WebhookError::Url(request.url.clone()))?;
    let mut headers = request.headers.clone();
    if let Some(settings) = &request.sign {
        headers.retain(|(name, _)| !name.eq_ignore_ascii_case(&settings.header));
        headers.push((settings.header.clone(), sign(settings, &request.body)));
    }
    let mut header_map = reqwest::header::HeaderMap::new();
    for (name, value) in &headers {
        let name_value = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(reqwest::header::HeaderValue::from_str(value).ok());
        let Some((header_name, header_value)) = name_value else {
            return Err(WebhookError::Header(name.clone()));
        };
        header_map.append(header_name, header_value);
    }
    let client = client()?;
    let timeout = Duration::from_millis(policy.timeout_millis);
    let body_text = String::from_utf8_lossy(&request.body).into_owned();
    let mut deliveries = Vec::new();
    for attempt in 1..=policy.attempts {
        if attempt > 1 {
            clock.advance(Duration::from_millis(policy.backoff_millis));
        }
        let mut delivery = Delivery {
            attempt,
            at: clock.now_rfc3339(),
            method: method.as_str().to_owned(),
            url: request.url.clone(),
            headers: headers.clone(),
            body: body_text.clone(),
            response: None,
            error: None,
            expected_status: None,
        };
        let sent = client
            .request(method.clone(), url.clone())
            .headers(header_map.clone())
            .body(request.body.clone())
            .timeout(timeout)
            .send()
            .await;
        let answer = match sent {
            Ok(response) => read_answer(response).await,
            Err(err) => Err(err),
        };
        match answer {
            Ok(response) => delivery.response = Some(response),
            Err(err) if err.is_timeout() => {
                delivery.error = Some(format!(
                    "no answer within {}",
                    crate::scenario::duration::format(timeout)
                ));
            }
            Err(err) => delivery.error = Some(crate::errors::one_line(&err)),
        }
        let accepted = delivery.accepted();
        deliveries.push(delivery);
        if accepted {
            break;
        }
    }
    Ok(WebhookReport { deliveries })
}

/// Deliver the payloads a provider wrote for `request`, in order, each as `request` with that
/// payload's body, headers and signature. A payload that requires an answer (a handshake) gets
/// exactly one attempt, as a vendor's handshake does not retry, and its delivery records the
/// answer required; the others follow the request's retry policy. Attempts are numbered across
/// payloads.
pub(crate) async fn deliver_payloads(
    clock: &VirtualClock,
    request: &WebhookRequest,
    payloads: Vec<ProviderPayload>,
) -> Result<WebhookReport, WebhookError> {
    let mut deliveries = Vec::new();
    for payload in payloads {
        let mut headers = request.headers.clone();
        for (name, value) in payload.headers {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                headers.push((name, value));
            }
        }
        let mut retry = request.retry;
        if payload.expected_status.is_some() {
            retry.attempts = 1;
        }
        let one = WebhookRequest {
            url: request.url.clone(),
            method: request.method.clone(),
            headers,
            body: payload.body,
            sign: Some(payload.sign),
            retry,
            provider: None,
        };
        for mut delivery in deliver(clock, &one).await?.deliveries {
            delivery.attempt = u32::try_from(deliveries.len() + 1).unwrap_or(u32::MAX);
            delivery.expected_status = payload.expected_status;
            deliveries.push(delivery);
        }
    }
    Ok(WebhookReport { deliveries })
}

async fn read_answer(response: reqwest::Response) -> Result<ReceivedResponse, reqwest::Error> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await?;
    Ok(ReceivedResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// One client for every webhook a process sends: no proxy (targets are local), no redirects
/// (a vendor does not follow them either).
fn client() -> Result<reqwest::Client, WebhookError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    crate::mock::tls::install_crypto_provider();
    let builder = || {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
    };
    // A mock container is built `FROM scratch` and has no system certificates, which the
    // platform verifier refuses to start without; plain-HTTP targets need none, so such a
    // process sends with an empty trust store (an HTTPS webhook then fails to verify, and its
    // delivery says so).
    let client = builder()
        .build()
        .or_else(|_| builder().tls_certs_only(Vec::new()).build())
        .map_err(|err| WebhookError::Client(crate::errors::one_line(&err)))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// Bytes as base64 text in JSON.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(encoding: SignatureEncoding, prefix: &str) -> SigningSettings {
        SigningSettings {
            secret: "key".into(),
            header: "x-signature".into(),
            algorithm: SignAlgorithm::HmacSha256,
            encoding,
            prefix: prefix.into(),
        }
    }

    #[test]
    fn hmac_sha256_matches_the_rfc_4231_style_reference() {
        // The well-known HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        let body = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(
            sign(&settings(SignatureEncoding::Hex, ""), body),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(
            sign(&settings(SignatureEncoding::Base64, "v1="), body),
            "v1=97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
        );
    }

    #[test]
    fn request_body_travels_as_base64() {
        let request = WebhookRequest {
            url: "http://127.0.0.1:1/x".into(),
            method: "POST".into(),
            headers: Vec::new(),
            body: vec![0, 159, 146, 150],
            sign: None,
            retry: RetryPolicy {
                attempts: 1,
                backoff_millis: 0,
                timeout_millis: 1000,
            },
            provider: None,
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["body"], "AJ+Slg==");
        let back: WebhookRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn provider_webhooks_travel_in_the_request() {
        let request = WebhookRequest {
            url: "http://127.0.0.1:1/x".into(),
            method: "POST".into(),
            headers: Vec::new(),
            body: Vec::new(),
            sign: None,
            retry: RetryPolicy {
                attempts: 2,
                backoff_millis: 1000,
                timeout_millis: 1000,
            },
            provider: Some(ProviderWebhook::XeroEvent {
                category: "INVOICE".into(),
                event_type: "UPDATE".into(),
                resource_id: "inv-1".into(),
            }),
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["provider"]["xero_event"]["resource_id"], "inv-1");
        let back: WebhookRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, request);
        let handshake = serde_json::json!("xero_intent_to_receive");
        assert_eq!(
            serde_json::from_value::<ProviderWebhook>(handshake).unwrap(),
            ProviderWebhook::XeroIntentToReceive
        );
    }
}
