//! A mock loaded from YAML as a scenario declares it, served by a real [`MockServer`] on loopback
//! with its clock at 2026-10-31T23:00:00Z, a real HTTP client, and the control API for time and
//! state: [`Harness`]. Each test module adds its own requests in an `impl Harness<Marker>` of
//! its own (see [`Harness`]).

use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use reenact::mock::control::ControlClient;
use reenact::mock::{BindOptions, MockServer};
use reenact::scenario::model::{ClockSpec, MockSpec};
use serde_json::Value;

use super::text;

/// The first mock of the scenario `yaml` (which must be valid).
pub fn load_mock(yaml: &str) -> MockSpec {
    let path = Path::new("provider.yaml");
    match reenact::scenario::load_bytes(path, Path::new("."), yaml.as_bytes()) {
        Ok(mut scenario) => scenario.mocks.remove(0),
        Err(err) => panic!("invalid test scenario: {err:?}\n{yaml}"),
    }
}

/// A running mock and the clients that drive it.
///
/// `Api` is a marker type of the test module that adds requests of its own: `provider_xero`
/// declares `enum Xero {}`, `type Harness = support::Harness<Xero>;` and
/// `impl Harness { async fn token(…) … }`, so that each module can have its own `token` or
/// `connect` without clashing with another module's.
pub struct Harness<Api = ()> {
    pub server: MockServer,
    pub control: ControlClient,
    pub http: reqwest::Client,
    api: PhantomData<fn() -> Api>,
}

/// What a request got: status, headers, body as JSON (`Null` when empty).
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl<Api> Harness<Api> {
    /// Serve `spec` on loopback, its clock at 2026-10-31T23:00:00Z.
    pub async fn start(spec: MockSpec) -> Harness<Api> {
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
            api: PhantomData,
        }
    }

    /// Send `request`: what it got (the test fails if it gets no answer, or a body that is not
    /// JSON).
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
