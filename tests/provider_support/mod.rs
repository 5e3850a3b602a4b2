//! The harness the provider conformance tests (`tests/provider_*.rs`) share: a mock loaded from
//! YAML as a scenario declares it, served by a real [`MockServer`] on loopback with its clock at
//! 2026-10-31T23:00:00Z, a real HTTP client, and the control API for time and state. Each test
//! binary adds its vendor's own requests in an `impl Harness` of its own, and uses only the
//! helpers its vendor needs (hence `dead_code` is allowed here).

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use reenact::mock::control::ControlClient;
use reenact::mock::{BindOptions, MockServer};
use reenact::scenario::model::{ClockSpec, MockSpec};
use serde_json::Value;

/// The first mock of the scenario `yaml` (which must be valid).
pub fn load_mock(yaml: &str) -> MockSpec {
    let path = Path::new("provider.yaml");
    match reenact::scenario::load_bytes(path, Path::new("."), yaml.as_bytes()) {
        Ok(mut scenario) => scenario.mocks.remove(0),
        Err(err) => panic!("invalid test scenario: {err:?}\n{yaml}"),
    }
}

/// A running provider mock and the clients that drive it.
pub struct Harness {
    pub server: MockServer,
    pub control: ControlClient,
    pub http: reqwest::Client,
}

/// What a request got: status, headers, body as JSON (`Null` when empty).
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Harness {
    pub async fn start(spec: MockSpec) -> Harness {
        let clock = ClockSpec {
            start: Some("2026-10-31T23:00:00Z".to_owned()),
        };
        let server = MockServer::start(spec, &clock, BindOptions::default())
            .await
            .expect("mock starts");
        let http = reenact::run::http_client();
        let control = ControlClient::new(server.admin_url(), http.clone());
        Harness {
            server,
            control,
            http,
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Got {
        let response = request.send().await.expect("request reaches the mock");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON body")
        };
        Got {
            status,
            headers,
            json,
        }
    }

    /// `POST {path}` with the URL-encoded `form`.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Got {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(
            self.http
                .post(format!("{}{path}", self.server.url()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// `POST {path}` of the OAuth token endpoint with `form`, authenticated as the client with
    /// HTTP Basic.
    pub async fn token_at(&self, path: &str, form: &[(&str, &str)]) -> Got {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(
            self.http
                .post(format!("{}{path}", self.server.url()))
                .basic_auth("client-id", Some("client-secret"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// Exchange the authorization code `code-1` at `path`: `(access_token, refresh_token)`.
    pub async fn connect_at(&self, path: &str) -> (String, String) {
        let got = self
            .token_at(
                path,
                &[("grant_type", "authorization_code"), ("code", "code-1")],
            )
            .await;
        assert_eq!(got.status, 200, "{}", got.json);
        (
            text(&got.json["access_token"]),
            text(&got.json["refresh_token"]),
        )
    }

    /// `GET {path}`, which the provider does not serve: `404` marked `x-reenact-unmatched: true`
    /// (journaled as unmatched).
    pub async fn assert_unrouted(&self, path: &str) {
        let got = self
            .send(self.http.get(format!("{}{path}", self.server.url())))
            .await;
        assert_eq!(got.status, 404, "GET {path}");
        assert_eq!(
            got.headers.get("x-reenact-unmatched").map(|v| v.as_bytes()),
            Some(&b"true"[..]),
            "GET {path}"
        );
    }

    /// Move the mock's virtual clock forward by `by`.
    pub async fn advance_by(&self, by: Duration) {
        self.control
            .advance_clock(by)
            .await
            .expect("clock advances");
    }

    /// The provider's state, checking that the mock's provider is `name`.
    pub async fn state_of(&self, name: &str) -> Value {
        let state = self.control.state().await.expect("state");
        assert_eq!(state["provider"]["name"], name);
        state["provider"]["state"].clone()
    }
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

/// A stand-in target on loopback: every request's path, headers and body go to `handle`, whose
/// status and body are the answer. Returns the server's base URL; it serves until the test ends.
pub async fn serve<F, Fut>(handle: F) -> String
where
    F: Fn(String, hyper::HeaderMap, bytes::Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = (u16, String)> + Send + 'static,
{
    use http_body_util::{BodyExt, Full};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the bound address")
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handle = handle.clone();
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let handle = handle.clone();
                    async move {
                        let path = request.uri().path().to_owned();
                        let headers = request.headers().clone();
                        let body = request.into_body().collect().await?.to_bytes();
                        let (status, answer) = handle(path, headers, body).await;
                        let mut response =
                            hyper::Response::new(Full::new(bytes::Bytes::from(answer)));
                        *response.status_mut() =
                            hyper::StatusCode::from_u16(status).expect("a valid status");
                        Ok::<_, hyper::Error>(response)
                    }
                },
            );
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    url
}
