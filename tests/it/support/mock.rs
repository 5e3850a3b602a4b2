//! A mock served by a real [`MockServer`] on loopback with its clock at [`START`], a real HTTP
//! client, and the control API for time, state and the journal: [`Harness`]. Each test module adds
//! its own requests in an `impl` of its own (see [`Harness`]).

use std::marker::PhantomData;
use std::time::Duration;

use reenact::mock::control::ControlClient;
use reenact::mock::{BindOptions, MockServer};
use reenact::observe::Journal;
use reenact::scenario::model::{ClockSpec, MockSpec};
use reqwest::RequestBuilder;
use serde_json::Value;

use super::{http_client, text};

/// Where a [`Harness`] mock's virtual clock starts.
pub const START: &str = "2026-10-31T23:00:00Z";

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

impl Got {
    /// The value of header `name`, if it is there and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl<Api> Harness<Api> {
    /// Serve `spec` on loopback, its clock at [`START`].
    pub async fn start(spec: MockSpec) -> Harness<Api> {
        let clock = ClockSpec {
            start: Some(START.to_owned()),
        };
        let server = MockServer::start(spec, &clock, BindOptions::default())
            .await
            .expect("mock starts");
        let http = http_client();
        let control = ControlClient::new(server.admin_url(), http.clone());
        Harness {
            server,
            control,
            http,
            api: PhantomData,
        }
    }

    /// The mock's journal, through the control API.
    pub async fn journal(&self) -> Journal {
        self.control.journal().await.expect("journal")
    }

    /// Shut the mock down.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }

    /// Send `request`: what it got (the test fails if it gets no answer, or a body that is not
    /// JSON).
    pub async fn send(&self, request: RequestBuilder) -> Got {
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
        let request = self.http.post(format!("{}{path}", self.server.url()));
        self.send(form_post(request, form)).await
    }

    /// `POST {path}` of the OAuth token endpoint with `form`, authenticated as the client with
    /// HTTP Basic.
    pub async fn token_at(&self, path: &str, form: &[(&str, &str)]) -> Got {
        let request = self
            .http
            .post(format!("{}{path}", self.server.url()))
            .basic_auth("client-id", Some("client-secret"));
        self.send(form_post(request, form)).await
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

/// `request` with the URL-encoded `form` as its body.
fn form_post(request: RequestBuilder, form: &[(&str, &str)]) -> RequestBuilder {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}
