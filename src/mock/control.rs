//! The control API of a mock (admin port) and its client, which the runner uses in every placement.
//!
//! Endpoints (all JSON): `GET /__reenact/health`, `POST /__reenact/reset`,
//! `GET /__reenact/journal`, `GET /__reenact/state`, `GET /__reenact/clock`,
//! `POST /__reenact/clock/advance` with `{"millis": N}`, `PUT /__reenact/clock/start` with a
//! `ClockSpec` (start over there, as a fresh mock would), `PUT /__reenact/config` with a `MockSpec`,
//! `PUT /__reenact/urls` with the run's [`RunUrls`] (for `{{ mocks.NAME.url }}` in responses),
//! `POST /__reenact/webhook` with a [`WebhookRequest`] (the mock sends it to the target, retrying
//! per its policy on the virtual clock, and answers a [`WebhookReport`] with every attempt; with
//! `provider`, the mock's provider writes and signs the payloads from its state).
//!
//! `handle` serves them from an `Engine`; [`ControlClient`] calls them. Errors are answered as
//! `{"error": "..."}` with a 4xx status.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::mock::engine::{Engine, json_response};
use crate::mock::server::{BodyError, read_body};
use crate::mock::webhook::{self, WebhookReport, WebhookRequest};
use crate::observe::Journal;
use crate::scenario::model::{ClockSpec, MockSpec};

/// Prefix of every control endpoint.
pub(crate) const PREFIX: &str = "/__reenact";

/// Body of `POST /__reenact/clock/advance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdvanceRequest {
    /// Milliseconds to move the clock forward.
    pub millis: u64,
}

/// Answer of `GET /__reenact/clock` and `POST /__reenact/clock/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClockState {
    /// Current virtual time, RFC 3339.
    pub now: String,
}

/// The base URLs of every mock of a run, by mock name, for `{{ mocks.NAME.url }}` in mock
/// responses: as the host reaches them, and on the `docker` backend as the run's network does.
/// The runner sends them (`PUT /__reenact/urls`) once every mock of the run started, to the
/// mocks whose responses name them; a new configuration forgets them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunUrls {
    /// Base URLs as the host reaches them, e.g. `https://127.0.0.1:40123`.
    #[serde(default)]
    pub host: BTreeMap<String, String>,
    /// Base URLs on the run's network, e.g. `http://xero:8080`; empty in-process.
    #[serde(default)]
    pub network: BTreeMap<String, String>,
}

impl RunUrls {
    /// The URLs as the client of a request to mock `own` reaches them: the network's when the
    /// request's `Host` is not the mock's host address (a container on the run's network sent
    /// it), else the host's.
    pub(crate) fn as_reached(&self, own: &str, host: Option<&str>) -> &BTreeMap<String, String> {
        let own_authority = self
            .host
            .get(own)
            .and_then(|url| url.split_once("://"))
            .map(|(_, authority)| authority);
        if self.network.is_empty() || host.is_none() || host == own_authority {
            &self.host
        } else {
            &self.network
        }
    }
}

/// Serve one control request.
pub(crate) async fn handle(engine: &Engine, request: Request<Incoming>) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let Some(endpoint) = path.strip_prefix(PREFIX) else {
        return not_found(path);
    };
    let method = &parts.method;
    match endpoint {
        "/health" => match *method {
            Method::GET => ok(json!({ "ok": true })),
            _ => method_not_allowed(method, path),
        },
        "/reset" => match *method {
            Method::POST => {
                engine.reset();
                ok(json!({ "ok": true }))
            }
            _ => method_not_allowed(method, path),
        },
        "/journal" => match *method {
            Method::GET => ok(engine.journal()),
            _ => method_not_allowed(method, path),
        },
        "/state" => match *method {
            Method::GET => ok(engine.state()),
            _ => method_not_allowed(method, path),
        },
        "/clock" => match *method {
            Method::GET => ok(clock_state(engine)),
            _ => method_not_allowed(method, path),
        },
        "/clock/advance" => match *method {
            Method::POST => match read_json::<AdvanceRequest>(body).await {
                Ok(advance) => {
                    engine
                        .clock()
                        .advance(Duration::from_millis(advance.millis));
                    ok(clock_state(engine))
                }
                Err(response) => response,
            },
            _ => method_not_allowed(method, path),
        },
        "/clock/start" => match *method {
            Method::PUT => match read_json::<ClockSpec>(body).await {
                Ok(spec) => match engine.clock().restart(&spec) {
                    Ok(()) => ok(clock_state(engine)),
                    Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
                },
                Err(response) => response,
            },
            _ => method_not_allowed(method, path),
        },
        "/config" => match *method {
            Method::PUT => match read_json::<MockSpec>(body).await {
                Ok(spec) => match engine.configure(&spec) {
                    Ok(()) => ok(json!({ "ok": true })),
                    Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
                },
                Err(response) => response,
            },
            _ => method_not_allowed(method, path),
        },
        "/urls" => match *method {
            Method::PUT => match read_json::<RunUrls>(body).await {
                Ok(urls) => {
                    engine.set_urls(urls);
                    ok(json!({ "ok": true }))
                }
                Err(response) => response,
            },
            _ => method_not_allowed(method, path),
        },
        "/webhook" => match *method {
            Method::POST => match read_json::<WebhookRequest>(body).await {
                Ok(request) => {
                    let delivered = match &request.provider {
                        None => webhook::deliver(engine.clock(), &request).await,
                        Some(provider) => match engine.provider_webhook(provider) {
                            Ok(payloads) => {
                                webhook::deliver_payloads(engine.clock(), &request, payloads).await
                            }
                            Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
                        },
                    };
                    match delivered {
                        Ok(report) => ok(report),
                        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
                    }
                }
                Err(response) => response,
            },
            _ => method_not_allowed(method, path),
        },
        _ => not_found(path),
    }
}

fn clock_state(engine: &Engine) -> ClockState {
    ClockState {
        now: engine.clock().now_rfc3339(),
    }
}

async fn read_json<T: DeserializeOwned>(body: Incoming) -> Result<T, Response<Bytes>> {
    let bytes = read_body(body).await.map_err(|e| match e {
        BodyError::TooLarge => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is larger than 10 MiB",
        ),
        BodyError::Broken(e) => error(
            StatusCode::BAD_REQUEST,
            &format!("failed to read the request body: {e}"),
        ),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("invalid request body: {e}"),
        )
    })
}

fn ok(body: impl Serialize) -> Response<Bytes> {
    match serde_json::to_value(body) {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("failed to encode the answer: {e}"),
        ),
    }
}

fn error(status: StatusCode, message: &str) -> Response<Bytes> {
    json_response(status, &json!({ "error": message }))
}

fn not_found(path: &str) -> Response<Bytes> {
    error(
        StatusCode::NOT_FOUND,
        &format!("unknown control endpoint `{path}`"),
    )
}

fn method_not_allowed(method: &Method, path: &str) -> Response<Bytes> {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("method `{method}` is not allowed on `{path}`"),
    )
}

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request failed or the answer was not what the API promises.
    #[error("control call `{call}` to `{url}` failed")]
    Call {
        /// Which call.
        call: &'static str,
        /// The admin URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// An answer of the control API that is not a success, with the error it carried.
#[derive(Debug, thiserror::Error)]
#[error("the mock answered `{status}`: {message}")]
pub(crate) struct ControlRefusal {
    /// Status code.
    pub status: u16,
    /// The `error` field of the answer, or its raw body.
    pub message: String,
}

/// Client of one mock's control API: what the runner uses, in process or in a container alike.
///
/// ```
/// use std::time::Duration;
///
/// use reenact::mock::{BindOptions, ControlClient, MockServer};
/// use reenact::scenario::model::{ClockSpec, MockSpec};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ClockSpec { start: Some("2026-10-31T23:00:00Z".to_owned()) };
/// let server = MockServer::start(MockSpec::new("erp"), &clock, BindOptions::default()).await?;
/// let http = reenact::run::http_client();
/// http.get(format!("{}/v1/health", server.url())).send().await?; // no stub: a 404
///
/// let control = ControlClient::new(server.admin_url(), http);
/// let journal = control.journal().await?;
/// assert_eq!(journal.entries.len(), 1);
/// assert_eq!(journal.entries[0].path, "/v1/health");
/// control.advance_clock(Duration::from_secs(30 * 60)).await?;
/// assert_eq!(control.clock_now().await?.to_string(), "2026-10-31 23:30:00.0 +00:00:00");
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ControlClient {
    admin_url: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// A client for the admin listener at `admin_url`.
    pub fn new(admin_url: impl Into<String>, http: reqwest::Client) -> Self {
        let admin_url: String = admin_url.into();
        ControlClient {
            admin_url: admin_url.trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// The admin URL this client talks to.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Whether the control API answers.
    pub async fn health(&self) -> Result<(), ControlError> {
        self.call::<Value>("health", Method::GET, "/health", None)
            .await
            .map(drop)
    }

    /// Fetch the journal.
    pub async fn journal(&self) -> Result<Journal, ControlError> {
        self.call("journal", Method::GET, "/journal", None).await
    }

    /// Move the virtual clock forward (whole milliseconds; less is rounded down).
    pub async fn advance_clock(&self, by: Duration) -> Result<(), ControlError> {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let body = serde_json::to_vec(&AdvanceRequest { millis })
            .map_err(|e| self.fail("advance_clock", e))?;
        self.call::<ClockState>("advance_clock", Method::POST, "/clock/advance", Some(body))
            .await
            .map(drop)
    }

    /// The mock's current virtual time.
    pub async fn clock_now(&self) -> Result<OffsetDateTime, ControlError> {
        let state: ClockState = self.call("clock_now", Method::GET, "/clock", None).await?;
        OffsetDateTime::parse(&state.now, &Rfc3339).map_err(|e| self.fail("clock_now", e))
    }

    /// Put the virtual clock at `spec`'s start (or now) with no offset, as a fresh mock's.
    pub async fn restart_clock(&self, spec: &ClockSpec) -> Result<(), ControlError> {
        let body = serde_json::to_vec(spec).map_err(|e| self.fail("restart_clock", e))?;
        self.call::<ClockState>("restart_clock", Method::PUT, "/clock/start", Some(body))
            .await
            .map(drop)
    }

    /// Clear journal, sequence positions and clock offset.
    pub async fn reset(&self) -> Result<(), ControlError> {
        self.call::<Value>("reset", Method::POST, "/reset", None)
            .await
            .map(drop)
    }

    /// Provider and stub state as JSON.
    pub async fn state(&self) -> Result<serde_json::Value, ControlError> {
        self.call("state", Method::GET, "/state", None).await
    }

    /// Tell the mock the base URLs of its run's mocks (`{{ mocks.NAME.url }}` in responses),
    /// until its next configuration.
    pub async fn set_urls(&self, urls: &RunUrls) -> Result<(), ControlError> {
        let body = serde_json::to_vec(urls).map_err(|e| self.fail("set_urls", e))?;
        self.call::<Value>("set_urls", Method::PUT, "/urls", Some(body))
            .await
            .map(drop)
    }

    /// Replace the mock's stubs with `spec`'s; this also resets it.
    pub async fn configure(&self, spec: &MockSpec) -> Result<(), ControlError> {
        let body = serde_json::to_vec(spec).map_err(|e| self.fail("configure", e))?;
        self.call::<Value>("configure", Method::PUT, "/config", Some(body))
            .await
            .map(drop)
    }

    /// Have the mock deliver a webhook to the target; returns every attempt it made. The call
    /// lasts as long as the attempts do (each bounded by the request's timeout).
    pub async fn send_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<WebhookReport, ControlError> {
        let body = serde_json::to_vec(request).map_err(|e| self.fail("send_webhook", e))?;
        self.call("send_webhook", Method::POST, "/webhook", Some(body))
            .await
    }

    fn fail(
        &self,
        call: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ControlError {
        ControlError::Call {
            call,
            url: self.admin_url.clone(),
            source: source.into(),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        call: &'static str,
        method: Method,
        endpoint: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ControlError> {
        let mut request = self
            .http
            .request(method, format!("{}{PREFIX}{endpoint}", self.admin_url));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| self.fail(call, e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.fail(call, e))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(self.fail(
                call,
                ControlRefusal {
                    status: status.as_u16(),
                    message,
                },
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| self.fail(call, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_urls_are_the_ones_the_client_reached_the_mock_by() {
        let urls = |network: &[(&str, &str)]| RunUrls {
            host: [
                ("entra", "https://127.0.0.1:40001"),
                ("keys", "http://127.0.0.1:40002"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            network: network
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let in_process = urls(&[]);
        let host = in_process.as_reached("entra", Some("localhost:40001"));
        assert_eq!(host["keys"], "http://127.0.0.1:40002");
        let docker = urls(&[
            ("entra", "https://entra:8080"),
            ("keys", "http://keys:8080"),
        ]);
        // The flow (on the host) reached the published port; a container target the network
        // name or one of the mock's hostnames.
        assert_eq!(
            docker.as_reached("entra", Some("127.0.0.1:40001"))["keys"],
            "http://127.0.0.1:40002"
        );
        for host in ["entra:8080", "login.microsoftonline.com:8080"] {
            assert_eq!(
                docker.as_reached("entra", Some(host))["keys"],
                "http://keys:8080"
            );
        }
        assert_eq!(
            docker.as_reached("entra", None)["entra"],
            "https://127.0.0.1:40001"
        );
    }
}
