//! Realism tests: rate limits, stateful stubs and response templates on a real [`MockServer`]
//! on loopback, configured from scenario YAML through the loader and driven by reqwest, including
//! how they combine with stub faults (a `delay` holds a concurrency slot; a fault without effect
//! leaves states and store alone).

use std::time::Duration;

use reenact::mock::{ControlClient, MockServer};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{self, load_mock};

/// The shared harness: this module adds no requests of its own.
type Harness = support::Harness;

/// Start the first mock of a scenario whose `mocks:` section is `mocks`, its clock at
/// [`support::START`].
async fn start(mocks: &str) -> (MockServer, Client, ControlClient) {
    let yaml = format!(
        "id: realism\ntitle: realism\nmocks:\n{mocks}\nflow:\n  - request: {{ method: GET, path: / }}\n"
    );
    let Harness {
        server,
        http,
        control,
        ..
    } = Harness::start(load_mock(&yaml)).await;
    (server, http, control)
}

async fn call(
    http: &Client,
    server: &MockServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = http.request(method, format!("{}{path}", server.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

const MINUTE_LIMIT: &str = r#"  accounting:
    rate_limits:
      - name: per-tenant minute limit
        key: header:xero-tenant-id
        limit: 2
        per: 1m
        request: { method: POST }
        response:
          status: 429
          headers: { Retry-After: "{{ retry_after }}", X-Rate-Limit-Problem: minute }
          json: { error: "retry in {{ retry_after }}s" }
        remaining_header: X-MinLimit-Remaining
    stubs:
      - request: { path: /invoices }
        response: { status: 200, json: { ok: true } }
"#;

#[tokio::test]
async fn rate_limit_answers_retry_after_and_frees_when_the_clock_advances() {
    let (server, http, control) = start(MINUTE_LIMIT).await;
    let tenant_a = [("xero-tenant-id", "a")];
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let (status, headers, _) = call(&http, &server, "POST", "/invoices", &tenant_a, None).await;
        assert_eq!(status, StatusCode::OK);
        remaining.push(header(&headers, "x-minlimit-remaining").map(str::to_owned));
    }
    assert_eq!(remaining, [Some("1".to_owned()), Some("0".to_owned())]);

    let (status, headers, body) = call(&http, &server, "POST", "/invoices", &tenant_a, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&headers, "retry-after"), Some("60"));
    assert_eq!(header(&headers, "x-rate-limit-problem"), Some("minute"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "error": "retry in 60s" })
    );

    // Another tenant has its own window; requests the matcher does not select never count.
    let tenant_b = [("xero-tenant-id", "b")];
    let (status, _, _) = call(&http, &server, "POST", "/invoices", &tenant_b, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, _) = call(&http, &server, "GET", "/invoices", &tenant_a, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-minlimit-remaining"), None);

    control
        .advance_clock(Duration::from_millis(40_500))
        .await
        .unwrap();
    let (status, headers, _) = call(&http, &server, "POST", "/invoices", &tenant_a, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&headers, "retry-after"), Some("20"), "rounded up");
    control
        .advance_clock(Duration::from_secs(20))
        .await
        .unwrap();
    let (status, _, _) = call(&http, &server, "POST", "/invoices", &tenant_a, None).await;
    assert_eq!(status, StatusCode::OK);

    let journal = control.journal().await.unwrap();
    let limited: Vec<(u16, Option<&str>)> = journal
        .entries
        .iter()
        .map(|e| (e.status, e.rate_limited.as_deref()))
        .collect();
    assert_eq!(
        limited,
        [
            (200, None),
            (200, None),
            (429, Some("per-tenant minute limit")),
            (200, None),
            (200, None),
            (429, Some("per-tenant minute limit")),
            (200, None),
        ]
    );
    assert!(journal.entries[2].matched.is_none());

    // A reset forgets the windows.
    control.reset().await.unwrap();
    for _ in 0..2 {
        let (status, _, _) = call(&http, &server, "POST", "/invoices", &tenant_a, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_without_retry_after_and_per_bearer_token() {
    let (server, http, _) = start(
        r#"  accounting:
    rate_limits:
      - { name: daily, key: bearer, limit: 1, per: 1d, response: { status: 429, body: slow down } }
    stubs:
      - request: { path: /x }
        response: { status: 204 }
"#,
    )
    .await;
    let alice = [("authorization", "Bearer alice")];
    let bob = [("authorization", "Bearer bob")];
    assert_eq!(
        call(&http, &server, "GET", "/x", &alice, None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, headers, body) = call(&http, &server, "GET", "/x", &alice, None).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "slow down")
    );
    assert_eq!(header(&headers, "retry-after"), None);
    assert_eq!(
        call(&http, &server, "GET", "/x", &bob, None).await.0,
        StatusCode::NO_CONTENT
    );
    server.shutdown().await;
}

#[tokio::test]
async fn concurrency_limit_counts_requests_in_flight() {
    let (server, http, control) = start(
        r#"  accounting:
    rate_limits:
      - { name: one at a time, key: global, concurrent: 1, remaining_header: X-Concurrency-Left }
    stubs:
      - name: slow
        request: { path: /slow }
        response: { status: 200 }
        faults:
          - { action: { delay: 2s } }
      - request: { path: /x }
        response: { status: 200 }
"#,
    )
    .await;
    // A `delay` fault holds the answer at the edge: the request stays in flight until it is
    // written.
    let slow = tokio::spawn({
        let http = http.clone();
        let url = format!("{}/slow", server.url());
        async move {
            let response = http.get(url).send().await.expect("slow request");
            let left = header(response.headers(), "x-concurrency-left").map(str::to_owned);
            (response.status(), left)
        }
    });
    // The engine journals a request before the edge delays it: that is the readiness signal.
    while control.journal().await.expect("journal").entries.is_empty() {
        tokio::task::yield_now().await;
    }
    let (status, _, _) = call(&http, &server, "GET", "/x", &[], None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, left) = slow.await.expect("slow task");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(left.as_deref(), Some("0"));
    // The slot of the delayed answer is free again once it was written.
    let (status, headers, _) = call(&http, &server, "GET", "/x", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-concurrency-left"), Some("0"));
    // And so is the slot of a completed undelayed answer.
    let (status, _, _) = call(&http, &server, "GET", "/x", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let journal = control.journal().await.expect("journal").entries;
    let seen: Vec<_> = journal
        .iter()
        .map(|e| {
            (
                e.path.as_str(),
                e.status,
                e.rate_limited.as_deref(),
                e.fault.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/slow", 200, None, Some("delay 2s")),
            ("/x", 429, Some("one at a time"), None),
            ("/x", 200, None, None),
            ("/x", 200, None, None),
        ]
    );
    server.shutdown().await;
}

const BILLS: &str = r#"  billing:
    stubs:
      - name: create bill
        request: { method: POST, path: /bills }
        state: { machine: bill, when: Started, set: Created }
        store:
          set: { "bill:{{ request.json.reference }}": "{{ request.body }}" }
        response:
          status: 201
          headers: { Location: "/bills/{{ request.json.reference }}" }
          json: { id: "{{ uuid }}", state: "{{ state.bill }}" }
      - name: create bill again
        request: { method: POST, path: /bills }
        state: { machine: bill, when: Created }
        response: { status: 409, json: { error: duplicate } }
      - name: read bill
        request: { method: GET, path: "/bills/{ref}" }
        response:
          status: 200
          headers: { content-type: application/json }
          body: "{{ request.path.ref | stored(\"bill:\") | default(\"null\") }}"
"#;

#[tokio::test]
async fn state_machine_and_store_create_then_return_a_resource() {
    let (server, http, control) = start(BILLS).await;
    let bill = r#"{"reference":"B-1","amount":"12.50"}"#;
    let (status, headers, body) = call(&http, &server, "POST", "/bills", &[], Some(bill)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(header(&headers, "location"), Some("/bills/B-1"));
    let created: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["state"], "Created", "rendered after the transition");

    let (status, _, _) = call(&http, &server, "POST", "/bills", &[], Some(bill)).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, _, body) = call(&http, &server, "GET", "/bills/B-1", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, bill);
    let (_, _, body) = call(&http, &server, "GET", "/bills/B-2", &[], None).await;
    assert_eq!(body, "null");

    let state = control.state().await.unwrap();
    assert_eq!(state["machines"], json!({ "bill": "Created" }));
    assert_eq!(state["store"], json!({ "bill:B-1": bill }));

    control.reset().await.unwrap();
    let state = control.state().await.unwrap();
    assert_eq!(state["machines"], json!({}));
    assert_eq!(state["store"], json!({}));
    let (status, _, _) = call(&http, &server, "POST", "/bills", &[], Some(bill)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "machines start again in `Started`"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn faults_without_effect_leave_state_and_store_alone() {
    let (server, http, control) = start(
        r#"  billing:
    stubs:
      - name: create bill
        request: { method: POST, path: /bills }
        state: { machine: bill, when: Started, set: Created }
        store:
          set: { "bill:{{ request.json.reference }}": "{{ request.body }}" }
        response: { status: 201, json: { state: "{{ state.bill }}" } }
        faults:
          - { nth: 1, action: { reset: true } }
          - { nth: 2, action: { commit_then: { status: 502 } } }
"#,
    )
    .await;
    let url = format!("{}/bills", server.url());
    let body = r#"{"reference":"B-1"}"#;
    let post = || {
        http.post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert!(post().await.is_err(), "the reset reaches the client");
    let state = control.state().await.expect("state");
    assert_eq!(state["machines"], json!({}));
    assert_eq!(state["store"], json!({}));
    // `commit_then` takes effect: the machine moves and the store is written, yet the client
    // hears a 502.
    assert_eq!(
        post().await.expect("answer").status(),
        StatusCode::BAD_GATEWAY
    );
    let state = control.state().await.expect("state");
    assert_eq!(state["machines"], json!({ "bill": "Created" }));
    assert_eq!(state["store"], json!({ "bill:B-1": body }));
    let retry = post().await.expect("answer");
    assert_eq!(retry.status(), StatusCode::NOT_FOUND);
    let journal = control.journal().await.expect("journal").entries;
    let seen: Vec<_> = journal
        .iter()
        .map(|e| (e.status, e.fault.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (0, Some("reset")),
            (201, Some("commit_then respond 502")),
            (404, None)
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn state_held_back_stub_is_named_in_the_near_miss() {
    let (server, http, _) = start(
        r#"  billing:
    stubs:
      - request: { method: DELETE, path: /bills/1 }
        state: { machine: bill, when: Created }
        response: { status: 204 }
"#,
    )
    .await;
    let (status, _, body) = call(&http, &server, "DELETE", "/bills/1", &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.contains("state: machine `bill` is `Started`, not `Created`"),
        "{body}"
    );
    server.shutdown().await;
}

const ECHO: &str = r#"  echo:
    stubs:
      - request: { method: POST, path: "/orgs/{org}/invoices/{id}" }
        response:
          headers: { X-Request-Id: "{{ request.headers.x-request-id }}" }
          json:
            org: "{{ request.path.org }}"
            id: "{{ request.path.id }}"
            page: "{{ request.query.page }}"
            reference: "{{ request.json.Invoices.0.Reference }}"
            method: "{{ request.method | lower }}"
            raw: "{{ request.body }}"
            now: "{{ now }}"
            day: "{{ now | date(\"[year]-[month]-[day]\") }}"
            due: "{{ now | add(30m) }}"
            unix: "{{ now | unix }}"
            ids: ["{{ uuid }}", "{{ uuid }}"]
            untouched: 7
"#;

async fn echo(http: &Client, server: &MockServer) -> Value {
    let body = r#"{"Invoices":[{"Reference":"INV-7"}]}"#;
    let (status, headers, text) = call(
        http,
        server,
        "POST",
        "/orgs/acme/invoices/42?page=3",
        &[("x-request-id", "req-9")],
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "x-request-id"), Some("req-9"));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn response_templates_read_every_request_source_and_the_virtual_clock() {
    let (server, http, control) = start(ECHO).await;
    let first = echo(&http, &server).await;
    assert_eq!(first["org"], "acme");
    assert_eq!(first["id"], "42");
    assert_eq!(first["page"], "3");
    assert_eq!(first["reference"], "INV-7");
    assert_eq!(first["method"], "post");
    assert_eq!(first["raw"], r#"{"Invoices":[{"Reference":"INV-7"}]}"#);
    assert_eq!(first["now"], "2026-10-31T23:00:00Z");
    assert_eq!(first["day"], "2026-10-31");
    assert_eq!(first["due"], "2026-10-31T23:30:00Z");
    assert_eq!(first["unix"], "1793487600");
    assert_eq!(first["untouched"], 7);
    assert_ne!(first["ids"][0], first["ids"][1]);

    control
        .advance_clock(Duration::from_secs(3600))
        .await
        .unwrap();
    let second = echo(&http, &server).await;
    assert_eq!(second["now"], "2026-11-01T00:00:00Z");
    assert_eq!(second["day"], "2026-11-01");
    assert_ne!(second["ids"][0], first["ids"][0], "a new id per request");
    server.shutdown().await;

    // Seeded ids: a fresh server answers the same ids for the same requests.
    let (again, http, _) = start(ECHO).await;
    let replay = echo(&http, &again).await;
    assert_eq!(replay["ids"], first["ids"]);
    let replay = echo(&http, &again).await;
    assert_eq!(replay["ids"], second["ids"]);
    again.shutdown().await;
}

#[tokio::test]
async fn a_missing_value_is_a_500_naming_the_variable() {
    let (server, http, _) = start(
        r#"  echo:
    stubs:
      - request: { path: /x }
        response: { body: "{{ request.query.page }}" }
"#,
    )
    .await;
    let (status, _, body) = call(&http, &server, "GET", "/x", &[], None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("request.query.page"), "{body}");
    server.shutdown().await;
}

/// `{{ self.url }}`: the mock's own base URL as the client reached it (scheme and `Host`), so a
/// discovery document or a redirect can name the mock itself, whatever port it was given.
#[tokio::test]
async fn a_mock_names_its_own_url_in_its_answers() {
    let (server, http, _control) = start(
        r#"  idp:
    stubs:
      - request: { path: /.well-known/openid-configuration }
        response:
          status: 200
          json: { issuer: "{{ self.url }}", token_endpoint: "{{ self.url }}/token" }
      - request: { path: /authorize }
        response:
          status: 302
          headers: { Location: "{{ self.url }}/callback?code=c1" }
"#,
    )
    .await;
    let base = server.url();
    let (status, _, body) = call(
        &http,
        &server,
        "GET",
        "/.well-known/openid-configuration",
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        body,
        json!({ "issuer": base, "token_endpoint": format!("{base}/token") })
    );
    let (status, headers, _) = call(&http, &server, "GET", "/authorize", &[], None).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        header(&headers, "location"),
        Some(format!("{base}/callback?code=c1").as_str())
    );
    // The Host the client used is the one named (a container target reaches a mock by name).
    let (_, _, body) = call(
        &http,
        &server,
        "GET",
        "/.well-known/openid-configuration",
        &[("host", "idp.acme.test:8080")],
        None,
    )
    .await;
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["issuer"], "http://idp.acme.test:8080");
}
