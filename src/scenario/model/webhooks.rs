//! Webhooks, [`WebhookSpec`]: a request a mock sends to the target, its body ([`WebhookBody`]),
//! its signature ([`SignSpec`]) and the vendor's retry policy ([`RetrySpec`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::duration_text;
use super::{QuickBooksWebhookSpec, XeroWebhookSpec};
use crate::scenario::template::Template;

/// A webhook: a request a mock sends to the target. Strings are templates rendered in the flow.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookSpec {
    /// The sending mock.
    pub mock: String,
    /// Method, upper case; default `POST`.
    pub method: String,
    /// Path on the target (with an optional query string).
    pub path: Template,
    /// Headers, in order.
    pub headers: Vec<(String, Template)>,
    /// The body, if any.
    pub body: Option<WebhookBody>,
    /// How the body is signed, if it is.
    pub sign: Option<SignSpec>,
    /// When and how often delivery is attempted.
    pub retry: RetrySpec,
    /// `xero:`: the body and signature are the Xero provider's (an event, or the Intent to
    /// Receive handshake); then `body` and `sign` are absent.
    pub xero: Option<XeroWebhookSpec>,
    /// `quickbooks:`: the body and signature are the QuickBooks provider's (a change event about
    /// a record of its state); then `body` and `sign` are absent.
    pub quickbooks: Option<Box<QuickBooksWebhookSpec>>,
}

/// The body of a webhook.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookBody {
    /// JSON (from `json:`), sent compact with `content-type: application/json`; string leaves
    /// are templates.
    Json(Value),
    /// Text (from `body:`, or a UTF-8 `body_file:`), templated; every byte outside the
    /// placeholders is sent as it is.
    Text(Template),
    /// Bytes of a `body_file:` that is not UTF-8, sent as they are.
    Bytes(Vec<u8>),
}

/// How a webhook is signed: an HMAC over the exact body bytes, in a header.
#[derive(Debug, Clone, Serialize)]
pub struct SignSpec {
    /// The key (template; `{{ env.NAME }}` keeps it out of the file).
    pub secret: Template,
    /// Header carrying the signature, e.g. `x-xero-signature`.
    pub header: String,
    /// MAC algorithm.
    pub algorithm: SignAlgorithm,
    /// How the MAC is written.
    pub encoding: SignatureEncoding,
    /// Text before the encoded MAC, e.g. `sha256=`.
    pub prefix: String,
}

/// MAC algorithms for webhook signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignAlgorithm {
    /// HMAC with SHA-256 (Xero, QuickBooks, Stripe, GitHub, Shopify).
    HmacSha256,
}

/// How a signature is written into its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    /// Standard base64 with padding (Xero, QuickBooks).
    Base64,
    /// Lower-case hex (GitHub, Stripe).
    Hex,
}

/// The vendor's retry policy for a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetrySpec {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// Virtual time between attempts: the mocks' clocks move on by this much, nobody sleeps.
    #[serde(with = "duration_text")]
    pub backoff: Duration,
    /// How long the target has to answer one attempt.
    #[serde(with = "duration_text")]
    pub timeout: Duration,
}

/// Default time the target has to answer one webhook attempt.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            attempts: 1,
            backoff: Duration::ZERO,
            timeout: DEFAULT_WEBHOOK_TIMEOUT,
        }
    }
}
