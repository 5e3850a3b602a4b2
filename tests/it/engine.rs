//! Engine tests: a real [`MockServer`] on loopback, driven by a real HTTP client.
//!
//! Mock configurations are built directly as `MockSpec` values (not through the YAML loader), so
//! these tests pin the engine's behaviour on its own: every matcher kind, every responder,
//! sequences, priorities, near-miss reports, the journal and its bound, the control API, the
//! virtual clock and HTTP/1.1 keep-alive.

use std::time::Duration;

use reenact::mock::control::ControlClient;
use reenact::mock::{BindOptions, MockServer};
use reenact::observe::Journal;
use reenact::scenario::model::{
    AfterLast, BodyMatcher, ClockSpec, DEFAULT_PRIORITY, MockSpec, PartMatch, PathMatcher, Pattern,
    RequestMatcher, ResponseBody, ResponseSequence, ResponseSpec, Stub, ValueMatcher,
};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{self, START, http_client};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn respond(status: u16, body: ResponseBody) -> ResponseSpec {
    ResponseSpec {
        status,
        headers: Vec::new(),
        body,
    }
}

fn text(status: u16, body: &str) -> ResponseSpec {
    respond(status, ResponseBody::Text(body.to_owned()))
}

fn stub(name: &str, request: RequestMatcher, responses: Vec<ResponseSpec>) -> Stub {
    Stub {
        name: Some(name.to_owned()),
        priority: DEFAULT_PRIORITY,
        request,
        responses: ResponseSequence {
            responses,
            after_last: AfterLast::Stick,
        },
        state: None,
        store: None,
        faults: Vec::new(),
    }
}

fn on(method: &str, path: &str) -> RequestMatcher {
    RequestMatcher {
        method: Some(method.to_owned()),
        path: Some(PathMatcher::Exact(path.to_owned())),
        ..RequestMatcher::default()
    }
}

fn mock(stubs: Vec<Stub>) -> MockSpec {
    MockSpec {
        stubs,
        ..MockSpec::new("erp")
    }
}

fn regex(source: &str) -> Pattern {
    Pattern(regex::Regex::new(source).expect("test regex"))
}

/// The requests of the engine tests.
enum Engine {}
type Harness = support::Harness<Engine>;

impl Harness {
    fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(format!("{}{path}", self.server.url()))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(format!("{}{path}", self.server.url()))
    }

    fn admin(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.server.admin_url()))
    }
}

async fn send(request: RequestBuilder) -> (StatusCode, String) {
    let response = request.send().await.expect("request is answered");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

async fn send_json(request: RequestBuilder) -> (StatusCode, Value) {
    let (status, body) = send(request).await;
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (status, value)
}

/// Serve one stub answering `hit` for `matcher`; `matching` must get it, `missing` must get the
/// near-miss 404 whose only miss starts with `reason`.
async fn assert_matcher(
    matcher: RequestMatcher,
    matching: impl FnOnce(&Harness) -> RequestBuilder,
    missing: impl FnOnce(&Harness) -> RequestBuilder,
    reason: &str,
) {
    let h = Harness::start(mock(vec![stub("target", matcher, vec![text(200, "hit")])])).await;
    let (status, body) = send(matching(&h)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "hit"));

    let response = missing(&h).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response
            .headers()
            .get("x-reenact-unmatched")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let body: Value = response.json().await.expect("json 404");
    assert_eq!(body["closest_stub"]["name"], "target");
    let misses = body["closest_stub"]["misses"]
        .as_array()
        .expect("misses")
        .clone();
    assert_eq!(misses.len(), 1, "{misses:?}");
    let miss = misses[0].as_str().expect("miss text");
    assert!(
        miss.starts_with(reason),
        "`{miss}` should start with `{reason}`"
    );
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Matchers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn method_matcher() {
    assert_matcher(
        RequestMatcher {
            method: Some("POST".into()),
            ..RequestMatcher::default()
        },
        |h| h.post("/anything"),
        |h| h.get("/anything"),
        "method: expected `POST`, got `GET`",
    )
    .await;
}

#[tokio::test]
async fn method_any_matches_every_method() {
    let h = Harness::start(mock(vec![stub(
        "any",
        RequestMatcher {
            method: Some("ANY".into()),
            ..RequestMatcher::default()
        },
        vec![text(200, "hit")],
    )]))
    .await;
    for method in ["GET", "POST", "DELETE", "PATCH"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let (status, _) = send(h.http.request(method, format!("{}/x", h.server.url()))).await;
        assert_eq!(status, StatusCode::OK);
    }
    h.stop().await;
}

#[tokio::test]
async fn path_exact_matcher() {
    assert_matcher(
        on("GET", "/api/bills"),
        |h| h.get("/api/bills?page=2"),
        |h| h.get("/api/bill"),
        "path: expected `/api/bills`, got `/api/bill`",
    )
    .await;
}

#[tokio::test]
async fn path_template_matcher() {
    assert_matcher(
        RequestMatcher {
            path: Some(PathMatcher::Template("/invoices/{id}".into())),
            ..RequestMatcher::default()
        },
        |h| h.get("/invoices/INV-7"),
        |h| h.get("/invoices/INV-7/lines"),
        "path: expected template `/invoices/{id}`, got `/invoices/INV-7/lines`",
    )
    .await;
}

#[tokio::test]
async fn path_regex_matcher_is_anchored() {
    assert_matcher(
        RequestMatcher {
            path: Some(PathMatcher::Regex(regex("/api/v[0-9]+/bills"))),
            ..RequestMatcher::default()
        },
        |h| h.get("/api/v2/bills"),
        |h| h.get("/api/v2/bills/1"),
        "path: expected to match `/api/v[0-9]+/bills`",
    )
    .await;
}

#[tokio::test]
async fn query_matcher() {
    assert_matcher(
        RequestMatcher {
            query: vec![
                ("page".into(), ValueMatcher::Equals("2".into())),
                ("where".into(), ValueMatcher::Contains("ACCPAY".into())),
            ],
            ..RequestMatcher::default()
        },
        |h| h.get("/bills?page=1&page=2&where=Type%3D%22ACCPAY%22"),
        |h| h.get("/bills?page=3&where=ACCPAY"),
        "query `page`: expected `2`, got `3`",
    )
    .await;
}

/// Issue 16: cookies are read from every `Cookie` header; a near miss names the cookie and
/// shows none of its values (the `Cookie` header is secret as a whole).
#[tokio::test]
async fn cookie_matcher() {
    assert_matcher(
        RequestMatcher {
            cookies: vec![
                ("sid".into(), ValueMatcher::Equals("abc123".into())),
                ("theme".into(), ValueMatcher::Regex(regex("^(dark|light)$"))),
            ],
            ..RequestMatcher::default()
        },
        |h| {
            h.get("/session")
                .header("Cookie", "sid=abc123")
                .header("Cookie", "lang=en; theme=dark")
        },
        |h| h.get("/session").header("Cookie", "sid=abc124; theme=dark"),
        "cookie `sid`: expected `[redacted]`, got `[redacted]`",
    )
    .await;
}

/// Issue 16: a multipart condition reads the parts of a `multipart/form-data` body; a near miss
/// says which part came closest and why it did not match.
#[tokio::test]
async fn multipart_matcher() {
    let form = |file: &str| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
             Content-Type: text/plain\r\n\r\n{file}\r\n--XyZ--\r\n"
        )
    };
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::Multipart {
                parts: PartMatch::Any,
                headers: vec![(
                    "Content-Disposition".into(),
                    ValueMatcher::Contains("name=\"file\"".into()),
                )],
                body: Some(ValueMatcher::Contains("invoice".into())),
                content: Vec::new(),
            }],
            ..RequestMatcher::default()
        },
        move |h| {
            h.post("/upload")
                .header("Content-Type", "multipart/form-data; boundary=XyZ")
                .body(form("invoice 42"))
        },
        move |h| {
            h.post("/upload")
                .header("Content-Type", "multipart/form-data; boundary=XyZ")
                .body(form("receipt 42"))
        },
        "multipart: no part matched; closest, part 2 of 2: part body: expected to contain \
         `invoice`, got `receipt 42`",
    )
    .await;
}

#[tokio::test]
async fn header_matcher() {
    assert_matcher(
        RequestMatcher {
            headers: vec![(
                "Authorization".into(),
                ValueMatcher::Regex(regex("^Bearer .+")),
            )],
            ..RequestMatcher::default()
        },
        |h| h.get("/me").header("authorization", "Bearer abc"),
        |h| h.get("/me"),
        "header `authorization`: missing",
    )
    .await;
}

#[tokio::test]
async fn header_absent_matcher() {
    assert_matcher(
        RequestMatcher {
            headers: vec![("Idempotency-Key".into(), ValueMatcher::Present(false))],
            ..RequestMatcher::default()
        },
        |h| h.post("/bills"),
        |h| h.post("/bills").header("idempotency-key", "k1"),
        "header `idempotency-key`: expected absent, got `k1`",
    )
    .await;
}

#[tokio::test]
async fn json_equals_matcher() {
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::JsonEquals {
                value: json!({"amount": 10, "currency": "EUR"}),
            }],
            ..RequestMatcher::default()
        },
        |h| h.post("/bills").body(r#"{"currency":"EUR","amount":10.0}"#),
        |h| {
            h.post("/bills")
                .body(r#"{"currency":"EUR","amount":10,"x":1}"#)
        },
        "json body: expected `{\"amount\":10,\"currency\":\"EUR\"}`, got",
    )
    .await;
}

#[tokio::test]
async fn json_partial_matcher() {
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::JsonPartial {
                value: json!({"a": 1}),
            }],
            ..RequestMatcher::default()
        },
        |h| h.post("/bills").body(r#"{"a":1,"b":2}"#),
        |h| h.post("/bills").body(r#"{"a":2}"#),
        r#"json body: expected `{"a":1}` (partial), got `{"a":2}`"#,
    )
    .await;
}

#[tokio::test]
async fn json_matchers_report_bodies_that_are_not_json() {
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::JsonPartial {
                value: json!({"a": 1}),
            }],
            ..RequestMatcher::default()
        },
        |h| h.post("/bills").body(r#"{"a":1}"#),
        |h| h.post("/bills").body(vec![0xff, 0xfe, b'{']),
        "body is not JSON: ",
    )
    .await;
}

#[tokio::test]
async fn jsonpath_matcher() {
    assert_matcher(
        RequestMatcher {
            body: vec![
                BodyMatcher::JsonPath {
                    path: "$.Invoices[*].Type".into(),
                    value: Some(json!("ACCPAY")),
                },
                BodyMatcher::JsonPath {
                    path: "$.Invoices[0].Contact".into(),
                    value: None,
                },
            ],
            ..RequestMatcher::default()
        },
        |h| {
            h.post("/Invoices")
                .body(r#"{"Invoices":[{"Type":"ACCPAY","Contact":{"Name":"Acme"}}]}"#)
        },
        |h| {
            h.post("/Invoices")
                .body(r#"{"Invoices":[{"Type":"ACCPAY"}]}"#)
        },
        "jsonpath `$.Invoices[0].Contact`: selected nothing",
    )
    .await;
}

#[tokio::test]
async fn xpath_matcher() {
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::XPath {
                path: "/Document/Stmt/Bal/Amt".into(),
                value: Some(ValueMatcher::Equals("-120.00".into())),
            }],
            ..RequestMatcher::default()
        },
        |h| {
            h.post("/statements")
                .body("<Document><Stmt><Bal><Amt>-120.00</Amt></Bal></Stmt></Document>")
        },
        |h| {
            h.post("/statements")
                .body("<Document><Stmt><Bal><Amt>120.00</Amt></Bal></Stmt></Document>")
        },
        "xpath `/Document/Stmt/Bal/Amt`: expected `-120.00`, got `120.00`",
    )
    .await;
}

#[tokio::test]
async fn form_matcher() {
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::Form {
                fields: vec![(
                    "grant_type".into(),
                    ValueMatcher::Equals("refresh_token".into()),
                )],
            }],
            ..RequestMatcher::default()
        },
        |h| {
            h.post("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=refresh_token&refresh_token=r1")
        },
        |h| h.post("/oauth/token").body("grant_type=authorization_code"),
        "form field `grant_type`: expected `refresh_token`, got `authorization_code`",
    )
    .await;
}

#[tokio::test]
async fn body_contains_matcher() {
    assert_matcher(
        RequestMatcher {
            body: vec![BodyMatcher::Contains {
                text: "ACCPAY".into(),
            }],
            ..RequestMatcher::default()
        },
        |h| h.post("/x").body("type=ACCPAY"),
        |h| h.post("/x").body("type=ACCREC"),
        "body: expected to contain `ACCPAY`, got `type=ACCREC`",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Responders, sequences, priority
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn responders_status_headers_json_text_empty() {
    let mut json_with_type = respond(201, ResponseBody::Json(json!({"id": "bill-1"})));
    json_with_type.headers = vec![("Content-Type".into(), "application/vnd.api+json".into())];
    let mut with_headers = respond(429, ResponseBody::Empty);
    with_headers.headers = vec![
        ("Retry-After".into(), "1".into()),
        ("X-Rate".into(), "a".into()),
        ("X-Rate".into(), "b".into()),
    ];
    let h = Harness::start(mock(vec![
        stub(
            "json",
            on("GET", "/json"),
            vec![respond(200, ResponseBody::Json(json!({"ok": true})))],
        ),
        stub("json typed", on("GET", "/json-typed"), vec![json_with_type]),
        stub("text", on("GET", "/text"), vec![text(202, "plain words")]),
        stub(
            "empty",
            on("GET", "/empty"),
            vec![respond(204, ResponseBody::Empty)],
        ),
        stub("headers", on("GET", "/headers"), vec![with_headers]),
    ]))
    .await;

    let response = h.get("/json").send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"ok": true})
    );

    let response = h.get("/json-typed").send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::CREATED);
    let types: Vec<_> = response.headers().get_all("content-type").iter().collect();
    assert_eq!(types, ["application/vnd.api+json"]);
    assert_eq!(response.text().await.expect("body"), r#"{"id":"bill-1"}"#);

    let response = h.get("/text").send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.text().await.expect("body"), "plain words");

    let (status, body) = send(h.get("/empty")).await;
    assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));

    let response = h.get("/headers").send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let rates: Vec<_> = response.headers().get_all("x-rate").iter().collect();
    assert_eq!(rates, ["a", "b"]);
    assert_eq!(response.text().await.expect("body"), "");
    h.stop().await;
}

async fn sequence_of(after_last: AfterLast, n: usize) -> Vec<u16> {
    let mut s = stub(
        "seq",
        on("POST", "/bills"),
        vec![
            text(429, "slow down"),
            text(201, "created"),
            text(409, "dup"),
        ],
    );
    s.responses.after_last = after_last;
    let h = Harness::start(mock(vec![s])).await;
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(send(h.post("/bills")).await.0.as_u16());
    }
    h.stop().await;
    statuses
}

#[tokio::test]
async fn sequence_sticks_to_the_last_response() {
    assert_eq!(
        sequence_of(AfterLast::Stick, 5).await,
        [429, 201, 409, 409, 409]
    );
}

#[tokio::test]
async fn sequence_cycles() {
    assert_eq!(
        sequence_of(AfterLast::Cycle, 7).await,
        [429, 201, 409, 429, 201, 409, 429]
    );
}

#[tokio::test]
async fn priority_wins_then_file_order() {
    let mut urgent = stub("urgent", on("GET", "/x"), vec![text(503, "urgent")]);
    urgent.priority = 1;
    let h = Harness::start(mock(vec![
        stub("first", on("GET", "/x"), vec![text(200, "first")]),
        stub("second", on("GET", "/x"), vec![text(200, "second")]),
        urgent,
        stub(
            "catch-all",
            RequestMatcher::default(),
            vec![text(200, "any")],
        ),
    ]))
    .await;
    assert_eq!(send(h.get("/x")).await.1, "urgent");
    assert_eq!(send(h.get("/y")).await.1, "any");
    let journal = h.journal().await;
    let matched: Vec<(usize, &str)> = journal
        .entries
        .iter()
        .filter_map(|e| e.matched.as_ref().map(|m| (m.index, m.name.as_str())))
        .collect();
    assert_eq!(matched, [(2, "urgent"), (3, "catch-all")]);
    h.stop().await;

    // Equal priorities: file order decides.
    let h = Harness::start(mock(vec![
        stub("first", on("GET", "/x"), vec![text(200, "first")]),
        stub("second", on("GET", "/x"), vec![text(200, "second")]),
    ]))
    .await;
    assert_eq!(send(h.get("/x")).await.1, "first");
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Near misses and the journal
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn near_miss_names_the_closest_stub_and_its_misses() {
    let mut bills = on("POST", "/api/bills");
    bills.headers = vec![("x-tenant".into(), ValueMatcher::Equals("acme".into()))];
    let h = Harness::start(mock(vec![
        stub("health", on("GET", "/health"), vec![text(200, "ok")]),
        stub("create bill", bills, vec![text(201, "created")]),
    ]))
    .await;
    let (status, body) = send_json(h.post("/api/bill").header("x-tenant", "acme")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({
            "error": "no stub matched",
            "request": { "method": "POST", "path": "/api/bill" },
            "closest_stub": {
                "name": "create bill",
                "misses": ["path: expected `/api/bills`, got `/api/bill`"],
            },
        })
    );
    h.stop().await;

    let h = Harness::start(mock(Vec::new())).await;
    let (status, body) = send_json(h.get("/nothing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["closest_stub"], Value::Null);
    h.stop().await;
}

#[tokio::test]
async fn journal_records_matched_and_unmatched_requests() {
    let h = Harness::start(mock(vec![stub(
        "create bill",
        on("POST", "/api/bills"),
        vec![text(201, "created")],
    )]))
    .await;
    send(
        h.post("/api/bills?dry_run=false")
            .header("X-Tenant", "acme")
            .body(r#"{"amount":10}"#),
    )
    .await;
    send(h.get("/api/unknown").body(vec![b'a', 0xff, b'b'])).await;

    let journal = h.journal().await;
    assert_eq!(journal.dropped, 0);
    let [bill, unknown] = journal.entries.as_slice() else {
        panic!("two entries expected: {journal:?}");
    };
    assert_eq!(bill.seq, 1);
    assert_eq!(bill.at, START);
    assert_eq!(
        (
            bill.method.as_str(),
            bill.path.as_str(),
            bill.query.as_str()
        ),
        ("POST", "/api/bills", "dry_run=false")
    );
    assert!(
        bill.headers
            .contains(&("x-tenant".to_owned(), "acme".to_owned())),
        "{:?}",
        bill.headers
    );
    assert_eq!(bill.body, r#"{"amount":10}"#);
    assert_eq!(bill.status, 201);
    let matched = bill.matched.as_ref().expect("matched");
    assert_eq!((matched.index, matched.name.as_str()), (0, "create bill"));

    assert_eq!(unknown.seq, 2);
    assert_eq!(unknown.matched, None);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body, "a\u{fffd}b");
    h.stop().await;
}

#[tokio::test]
async fn journal_is_bounded() {
    let mut spec = mock(vec![stub(
        "any",
        RequestMatcher::default(),
        vec![text(200, "ok")],
    )]);
    spec.journal_limit = 5;
    let h = Harness::start(spec).await;
    for i in 0..8 {
        send(h.get(&format!("/r{i}"))).await;
    }
    let journal = h.journal().await;
    assert_eq!(journal.entries.len(), 5);
    assert_eq!(journal.dropped, 3);
    let paths: Vec<&str> = journal.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/r0", "/r1", "/r2", "/r3", "/r4"]);
    h.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_and_are_journaled() {
    let h = Harness::start(mock(vec![stub(
        "any",
        RequestMatcher::default(),
        vec![text(200, "ok")],
    )]))
    .await;
    let (status, body) = send_json(h.post("/upload").body(vec![b'x'; 10 * 1024 * 1024 + 1])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("10 MiB")));
    let (status, _) = send(h.post("/upload").body(vec![b'x'; 1024])).await;
    assert_eq!(status, StatusCode::OK);
    let journal = h.journal().await;
    let statuses: Vec<u16> = journal.entries.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [413, 200]);
    h.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Control API and clock
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn control_health_state_and_unknown_endpoints() {
    let h = Harness::start(mock(vec![
        stub("a", on("GET", "/a"), vec![text(200, "a")]),
        Stub {
            name: None,
            ..stub("b", on("GET", "/b"), vec![text(200, "b")])
        },
    ]))
    .await;
    h.control.health().await.expect("healthy");
    let (status, body) = send_json(h.admin(reqwest::Method::GET, "/__reenact/health")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ok": true})));

    send(h.get("/a")).await;
    send(h.get("/a")).await;
    let state = h.control.state().await.expect("state");
    assert_eq!(
        state["stubs"],
        json!([{"name": "a", "served": 2}, {"name": "stub 2", "served": 0}])
    );

    let (status, body) = send_json(h.admin(reqwest::Method::GET, "/__reenact/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "unknown control endpoint `/__reenact/nope`");
    let (status, _) = send_json(h.admin(reqwest::Method::GET, "/elsewhere")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send_json(h.admin(reqwest::Method::DELETE, "/__reenact/journal")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string());

    // The admin API is not served on the traffic port: there it is just an unmatched request.
    let (status, _) = send(h.get("/__reenact/health")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.stop().await;
}

#[tokio::test]
async fn clock_advance_is_reflected_in_the_journal() {
    let h = Harness::start(mock(vec![stub(
        "any",
        RequestMatcher::default(),
        vec![text(200, "ok")],
    )]))
    .await;
    let (_, body) = send_json(h.admin(reqwest::Method::GET, "/__reenact/clock")).await;
    assert_eq!(body, json!({"now": START}));

    send(h.get("/before")).await;
    h.control
        .advance_clock(Duration::from_secs(30 * 60))
        .await
        .expect("advance");
    let (status, body) = send_json(
        h.admin(reqwest::Method::POST, "/__reenact/clock/advance")
            .json(&json!({"millis": 1500})),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"now": "2026-10-31T23:30:01.5Z"}))
    );
    let now = h.control.clock_now().await.expect("clock");
    assert_eq!(now.unix_timestamp(), 1_793_489_401);
    send(h.get("/after")).await;

    let at: Vec<String> = h
        .journal()
        .await
        .entries
        .into_iter()
        .map(|e| e.at)
        .collect();
    assert_eq!(at, [START, "2026-10-31T23:30:01.5Z"]);

    let (status, body) = send_json(
        h.admin(reqwest::Method::POST, "/__reenact/clock/advance")
            .json(&json!({"seconds": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid request body")),
        "{body}"
    );
    h.stop().await;
}

#[tokio::test]
async fn reset_clears_journal_sequences_and_clock() {
    let mut spec = mock(vec![stub(
        "seq",
        on("GET", "/x"),
        vec![text(500, "first"), text(200, "then")],
    )]);
    spec.journal_limit = 1;
    let h = Harness::start(spec).await;
    assert_eq!(send(h.get("/x")).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(send(h.get("/x")).await.0, StatusCode::OK);
    h.control
        .advance_clock(Duration::from_secs(60))
        .await
        .expect("advance");
    let journal = h.journal().await;
    assert_eq!((journal.entries.len(), journal.dropped), (1, 1));

    h.control.reset().await.expect("reset");
    assert_eq!(h.journal().await, Journal::default());
    assert_eq!(
        h.control.state().await.expect("state")["stubs"][0]["served"],
        0
    );
    assert_eq!(send(h.get("/x")).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    let journal = h.journal().await;
    assert_eq!(journal.entries[0].seq, 1);
    assert_eq!(journal.entries[0].at, START);
    h.stop().await;
}

#[tokio::test]
async fn config_replaces_stubs_and_resets() {
    let h = Harness::start(mock(vec![stub(
        "old",
        on("GET", "/old"),
        vec![text(200, "old")],
    )]))
    .await;
    send(h.get("/old")).await;
    h.control
        .advance_clock(Duration::from_secs(5))
        .await
        .expect("advance");

    let mut replacement = mock(vec![stub("new", on("GET", "/new"), vec![text(200, "new")])]);
    replacement.journal_limit = 1;
    h.control.configure(&replacement).await.expect("configure");

    assert_eq!(h.journal().await, Journal::default());
    assert_eq!(
        h.control.clock_now().await.expect("clock").unix_timestamp(),
        1_793_487_600
    );
    assert_eq!(send(h.get("/old")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(h.get("/new")).await.1, "new");
    let journal = h.journal().await;
    assert_eq!((journal.entries.len(), journal.dropped), (1, 1));
    assert_eq!(
        h.control.state().await.expect("state")["stubs"],
        json!([{"name": "new", "served": 1}])
    );

    // A configuration the engine cannot serve is refused and the old one stays.
    let mut broken = mock(vec![stub("bad", on("GET", "/bad"), vec![text(200, "x")])]);
    broken.stubs[0].responses.responses[0].headers = vec![("bad header".into(), "x".into())];
    let err = h.control.configure(&broken).await.expect_err("refused");
    let chain = format!(
        "{err}: {}",
        std::error::Error::source(&err)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        chain.contains("invalid header name `bad header`"),
        "{chain}"
    );
    assert_eq!(send(h.get("/new")).await.1, "new");

    let (status, _) = send_json(
        h.admin(reqwest::Method::PUT, "/__reenact/config")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.stop().await;
}

#[tokio::test]
async fn control_errors_name_the_call_and_url() {
    let h = Harness::start(mock(Vec::new())).await;
    let admin_url = h.server.admin_url();
    h.stop().await;
    let control = ControlClient::new(admin_url.clone(), http_client());
    let err = control.journal().await.expect_err("server is gone");
    assert_eq!(
        err.to_string(),
        format!("control call `journal` to `{admin_url}` failed")
    );
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

/// Read one HTTP/1.1 response with a `content-length` body from a raw stream.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(
            n > 0,
            "connection closed early: {}",
            String::from_utf8_lossy(&buffer)
        );
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().expect("length"))
                })
                .unwrap_or(0);
            if buffer.len() >= head_end + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn keep_alive_connections_serve_several_requests() {
    let h = Harness::start(mock(vec![stub(
        "seq",
        on("GET", "/x"),
        vec![text(200, "one"), text(200, "two")],
    )]))
    .await;
    let mut stream = TcpStream::connect(h.server.traffic_addr())
        .await
        .expect("connect");
    for expected in ["one", "two"] {
        stream
            .write_all(b"GET /x HTTP/1.1\r\nhost: mock\r\n\r\n")
            .await
            .expect("write");
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.ends_with(expected), "{response}");
    }
    assert_eq!(h.journal().await.entries.len(), 2);

    // Shutdown closes the idle keep-alive connection instead of waiting for it.
    let shutdown = tokio::time::timeout(Duration::from_secs(3), h.server.shutdown()).await;
    assert!(shutdown.is_ok(), "shutdown waited for an idle connection");
    let mut rest = Vec::new();
    let read = stream.read_to_end(&mut rest).await;
    assert!(read.is_err() || rest.is_empty(), "connection still open");
}

#[tokio::test]
async fn malformed_requests_do_not_break_the_server() {
    let h = Harness::start(mock(vec![stub(
        "any",
        on("GET", "/ok"),
        vec![text(200, "ok")],
    )]))
    .await;
    let mut stream = TcpStream::connect(h.server.traffic_addr())
        .await
        .expect("connect");
    stream
        .write_all(b"\x00\x01 garbage \r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert_eq!(send(h.get("/ok")).await.1, "ok");
    h.stop().await;
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let h = Harness::start(mock(Vec::new())).await;
    let traffic = h.server.traffic_addr();
    let admin = h.server.admin_addr();
    h.stop().await;
    assert!(TcpStream::connect(traffic).await.is_err());
    assert!(TcpStream::connect(admin).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_each_answered_and_journaled_once() {
    let mut cycle = stub(
        "cycle",
        on("GET", "/x"),
        vec![text(200, "a"), text(200, "b")],
    );
    cycle.responses.after_last = AfterLast::Cycle;
    let h = Harness::start(mock(vec![cycle])).await;
    let requests: Vec<_> = (0..50).map(|_| tokio::spawn(send(h.get("/x")))).collect();
    let mut bodies = Vec::new();
    for request in requests {
        bodies.push(request.await.expect("task").1);
    }
    // The cycle hands out each response exactly as often, whatever the interleaving.
    assert_eq!(bodies.iter().filter(|b| *b == "a").count(), 25);
    assert_eq!(bodies.iter().filter(|b| *b == "b").count(), 25);
    let journal = h.journal().await;
    let mut seqs: Vec<u64> = journal.entries.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());
    assert_eq!(
        h.control.state().await.expect("state")["stubs"][0]["served"],
        50
    );
    h.stop().await;
}

/// A mock in a container gets its whole `MockSpec` through `PUT /__reenact/config` as JSON: every
/// field (rate limits, TLS flag, stub states, store, faults, templates) must survive the trip,
/// and the engine must accept what arrives.
#[tokio::test]
async fn every_fixture_mock_survives_the_control_api_json() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    let server = MockServer::start(
        mock(Vec::new()),
        &ClockSpec::default(),
        BindOptions::default(),
    )
    .await
    .expect("mock starts");
    let control = ControlClient::new(server.admin_url(), http_client());
    let mut mocks = 0;
    for file in &files {
        // The fixtures' folder is their root, as the format tests load them: a fixture's
        // `include: mocks/…` names a definition in `tests/fixtures/valid/mocks`.
        let bytes = std::fs::read(file).expect("fixture");
        let scenario = reenact::scenario::load_bytes(file, &dir, &bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for spec in &scenario.mocks {
            let sent = serde_json::to_value(spec).expect("serializes");
            let received: MockSpec = serde_json::from_value(sent.clone())
                .unwrap_or_else(|e| panic!("{} mock `{}`: {e}", file.display(), spec.name));
            assert_eq!(
                serde_json::to_value(&received).expect("serializes"),
                sent,
                "{} mock `{}` changed on the way",
                file.display(),
                spec.name
            );
            control
                .configure(spec)
                .await
                .unwrap_or_else(|e| panic!("{} mock `{}`: {e}", file.display(), spec.name));
            mocks += 1;
        }
    }
    server.shutdown().await;
    assert!(mocks >= files.len(), "every fixture has a mock");
}
