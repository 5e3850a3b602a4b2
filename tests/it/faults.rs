//! Fault tests: stubs with faults, loaded from YAML as a scenario would declare them, served by a
//! real [`MockServer`] on loopback, and observed by real clients: `reqwest` (what a Rust target
//! sees) and `curl` (its exit code, what a shell script sees).
//!
//! One test per action kind, one per selector, `commit_then`'s effect on the sequence and the
//! journal, a prompt shutdown while a `timeout` fault holds a connection, and the connection
//! faults on an HTTPS mock (the same edge under TLS).

use std::error::Error as _;
use std::time::Duration;

use reenact::mock::tls::RunCa;
use reenact::mock::{BindOptions, MockServer};
use reenact::observe::JournalEntry;
use reenact::scenario::model::{ClockSpec, MockSpec};

use crate::support::{self, http_client_builder, load_mock};

/// A mock with one stub `GET /bill` answering `responses`, with `faults` (YAML, indented as list
/// items of `faults:`).
fn mock(responses: &str, faults: &str) -> MockSpec {
    let yaml = format!(
        "id: faults\ntitle: faults\nmocks:\n  api:\n    stubs:\n      - name: bill\n        request: {{ method: GET, path: /bill }}\n        responses: {responses}\n        faults:\n{faults}\nflow:\n  - request: {{ method: GET, path: / }}\n"
    );
    load_mock(&yaml)
}

/// The common case: one response, one fault.
fn one(fault: &str) -> MockSpec {
    mock(
        r#"[{ status: 200, json: { id: bill-1, memo: "twenty bytes or more of body" } }]"#,
        &format!("          - {fault}"),
    )
}

/// The requests of the fault tests.
enum Faults {}
type Harness = support::Harness<Faults>;

impl Harness {
    fn url(&self) -> String {
        format!("{}/bill", self.server.url())
    }

    /// The journal's entries.
    async fn entries(&self) -> Vec<JournalEntry> {
        self.journal().await.entries
    }

    /// Status of each of `n` requests; `0` for a transport error.
    async fn statuses(&self, n: usize) -> Vec<u16> {
        let client = client(Duration::from_secs(10));
        let mut out = Vec::new();
        for _ in 0..n {
            let status = client
                .get(self.url())
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            out.push(status);
        }
        out
    }
}

/// A client that never reuses a connection, so a fault on one request cannot leak into another.
fn client(timeout: Duration) -> reqwest::Client {
    http_client_builder()
        .pool_max_idle_per_host(0)
        .timeout(timeout)
        .build()
        .expect("http client")
}

/// The error and its causes, as one line: what a target would log.
fn chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `GET url` through reqwest; the body on success, the error chain otherwise.
async fn get(url: &str, timeout: Duration) -> Result<(u16, String), (reqwest::Error, String)> {
    let response = client(timeout)
        .get(url)
        .send()
        .await
        .map_err(|e| (chain(&e), e))
        .map_err(|(text, e)| (e, text))?;
    let status = response.status().as_u16();
    match response.text().await {
        Ok(body) => Ok((status, body)),
        Err(e) => {
            let text = chain(&e);
            Err((e, text))
        }
    }
}

/// Run curl against `url`; its exit code and stdout.
async fn curl(url: &str, extra: &[&str]) -> (i32, String) {
    let output = tokio::process::Command::new("/usr/bin/curl")
        .args(["-sS", "--noproxy", "*"])
        .args(extra)
        .arg(url)
        .output()
        .await
        .expect("curl runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

const BODY: &str = r#"{"id":"bill-1","memo":"twenty bytes or more of body"}"#;

// ---------------------------------------------------------------------------------------------
// Actions: what clients observe
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn respond_replaces_the_answer() {
    let h = Harness::start(one(
        "{ action: { respond: { status: 503, json: { error: down } } } }",
    ))
    .await;
    let (status, body) = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!((status, body.as_str()), (503, r#"{"error":"down"}"#));
    assert_eq!(curl(&h.url(), &["-f", "-o", "/dev/null"]).await.0, 22);
    let journal = h.entries().await;
    assert_eq!(journal[0].status, 503);
    assert_eq!(journal[0].fault.as_deref(), Some("respond 503"));
    h.server.shutdown().await;
}

#[tokio::test]
async fn delay_makes_a_short_client_timeout_fire() {
    let h = Harness::start(one("{ action: { delay: 30s } }")).await;
    let (err, text) = get(&h.url(), Duration::from_millis(200)).await.unwrap_err();
    assert!(err.is_timeout(), "{text}");
    assert_eq!(curl(&h.url(), &["--max-time", "1"]).await.0, 28);
    assert_eq!(h.entries().await[0].fault.as_deref(), Some("delay 30s"));
    h.server.shutdown().await;
}

#[tokio::test]
async fn delay_still_answers() {
    let h = Harness::start(one("{ action: { delay: 50ms } }")).await;
    let (status, body) = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("late answer");
    assert_eq!((status, body.as_str()), (200, BODY));
    h.server.shutdown().await;
}

#[tokio::test]
async fn timeout_sends_nothing_until_the_client_gives_up() {
    let h = Harness::start(one("{ action: { timeout: true } }")).await;
    let (err, text) = get(&h.url(), Duration::from_millis(200)).await.unwrap_err();
    assert!(err.is_timeout(), "{text}");
    assert_eq!(curl(&h.url(), &["--max-time", "1"]).await.0, 28);
    let journal = h.entries().await;
    assert_eq!(journal[0].status, 0);
    assert_eq!(
        journal[0].matched.as_ref().map(|m| m.name.as_str()),
        Some("bill")
    );
    h.server.shutdown().await;
}

#[tokio::test]
async fn reset_is_a_connection_reset() {
    let h = Harness::start(one("{ action: { reset: true } }")).await;
    let (err, text) = get(&h.url(), Duration::from_secs(10)).await.unwrap_err();
    assert!(err.is_request() && !err.is_timeout(), "{text}");
    assert!(text.contains("reset by peer"), "{text}");
    assert_eq!(curl(&h.url(), &[]).await.0, 56);
    h.server.shutdown().await;
}

#[tokio::test]
async fn empty_closes_without_a_byte() {
    let h = Harness::start(one("{ action: { empty: true } }")).await;
    let (err, text) = get(&h.url(), Duration::from_secs(10)).await.unwrap_err();
    assert!(err.is_request(), "{text}");
    assert!(
        text.contains("connection closed before message completed"),
        "{text}"
    );
    assert_eq!(curl(&h.url(), &[]).await.0, 52);
    h.server.shutdown().await;
}

#[tokio::test]
async fn truncated_body_is_an_incomplete_body() {
    let h = Harness::start(one("{ action: { truncated: { bytes: 10 } } }")).await;
    let (err, text) = get(&h.url(), Duration::from_secs(10)).await.unwrap_err();
    assert!(err.is_body() || err.is_decode(), "{text}");
    assert!(
        text.contains("end of file before message length reached"),
        "{text}"
    );
    let (code, out) = curl(&h.url(), &[]).await;
    assert_eq!((code, out.as_str()), (18, &BODY[..10]));
    let journal = h.entries().await;
    assert_eq!(journal[0].status, 200);
    assert_eq!(
        journal[0].fault.as_deref(),
        Some("truncated after 10 body bytes")
    );
    h.server.shutdown().await;
}

#[tokio::test]
async fn truncated_defaults_to_half_the_body() {
    let h = Harness::start(one("{ action: { truncated: {} } }")).await;
    let (code, out) = curl(&h.url(), &[]).await;
    assert_eq!((code, out.as_str()), (18, &BODY[..BODY.len() / 2]));
    h.server.shutdown().await;
}

#[tokio::test]
async fn garbage_is_not_http() {
    let h = Harness::start(one("{ action: { garbage: { bytes: 64 } } }")).await;
    let (err, text) = get(&h.url(), Duration::from_secs(10)).await.unwrap_err();
    assert!(err.is_request(), "{text}");
    assert!(text.contains("invalid HTTP version parsed"), "{text}");
    let (code, _) = curl(&h.url(), &[]).await;
    assert_eq!(code, 1, "curl refuses an HTTP/0.9-looking answer");
    assert_eq!(h.entries().await[0].status, 0);
    h.server.shutdown().await;
}

#[tokio::test]
async fn slow_body_dribbles_the_whole_body() {
    let h = Harness::start(one("{ action: { slow_body: { chunk: 8, every: 10ms } } }")).await;
    let (status, body) = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!((status, body.as_str()), (200, BODY));
    let (code, out) = curl(&h.url(), &[]).await;
    assert_eq!((code, out.as_str()), (0, BODY));
    h.server.shutdown().await;
}

#[tokio::test]
async fn slow_body_outlasts_a_short_client_timeout() {
    let h = Harness::start(one("{ action: { slow_body: { chunk: 1, every: 1s } } }")).await;
    let (err, text) = get(&h.url(), Duration::from_millis(500)).await.unwrap_err();
    assert!(err.is_timeout(), "{text}");
    assert_eq!(curl(&h.url(), &["--max-time", "1"]).await.0, 28);
    h.server.shutdown().await;
}

#[tokio::test]
async fn a_dribble_sends_the_body_in_timed_writes_over_its_duration() {
    let h = Harness::start(one("{ action: { slow_body: { chunks: 4, over: 400ms } } }")).await;
    let started = std::time::Instant::now();
    let (status, body) = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    // Four pauses of 100 ms, the first before any body byte.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((status, body.as_str()), (200, BODY));
    assert_eq!(
        h.entries().await[0].fault.as_deref(),
        Some("slow_body 4 chunks over 400ms")
    );
    h.server.shutdown().await;
}

#[tokio::test]
async fn a_drawn_delay_answers_within_its_distribution() {
    let h = Harness::start(one(
        "{ action: { delay: { uniform: { lower: 150ms, upper: 200ms }, fixed: 50ms, seed: 4 } } }",
    ))
    .await;
    let started = std::time::Instant::now();
    let (status, body) = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((status, body.as_str()), (200, BODY));
    assert_eq!(
        h.entries().await[0].fault.as_deref(),
        Some("delay 50ms + uniform 150ms to 200ms")
    );
    h.server.shutdown().await;
}

#[tokio::test]
async fn a_header_with_a_list_of_values_is_sent_once_per_value() {
    let h = Harness::start(mock(
        "[{ status: 200, headers: { set-cookie: [sid=1, theme=dark], x-one: single }, body: ok }]",
        "          - { nth: 99, action: { reset: true } }",
    ))
    .await;
    let response = client(Duration::from_secs(10))
        .get(h.url())
        .send()
        .await
        .expect("answer");
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["sid=1", "theme=dark"]);
    assert_eq!(response.headers()["x-one"], "single");
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// commit_then: the stub takes effect, the client does not learn it
// ---------------------------------------------------------------------------------------------

const TWO: &str = "[{ status: 201, body: first }, { status: 201, body: second }]";

#[tokio::test]
async fn commit_then_reset_advances_the_sequence_and_journals_a_match() {
    let h = Harness::start(mock(
        TWO,
        "          - { name: lost create, nth: 1, action: { commit_then: { reset: true } } }",
    ))
    .await;
    let (_, text) = get(&h.url(), Duration::from_secs(10)).await.unwrap_err();
    assert!(text.contains("reset by peer"), "{text}");
    let (status, body) = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!((status, body.as_str()), (201, "second"));
    let journal = h.entries().await;
    assert_eq!(
        journal[0].matched.as_ref().map(|m| m.name.as_str()),
        Some("bill")
    );
    assert_eq!(journal[0].status, 201);
    assert_eq!(
        journal[0].fault.as_deref(),
        Some("lost create (commit_then reset)")
    );
    assert_eq!(journal[1].fault, None);
    h.server.shutdown().await;
}

#[tokio::test]
async fn commit_then_status_answers_it_but_journals_what_was_committed() {
    let h = Harness::start(mock(
        TWO,
        "          - { nth: 1, action: { commit_then: { status: 502, body: bad gateway } } }",
    ))
    .await;
    let first = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!(first, (502, "bad gateway".to_owned()));
    let second = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!(second, (201, "second".to_owned()));
    let journal = h.entries().await;
    assert_eq!(journal[0].status, 201);
    assert_eq!(journal[0].fault.as_deref(), Some("commit_then respond 502"));
    h.server.shutdown().await;
}

#[tokio::test]
async fn commit_then_delay_times_out_the_client_after_the_commit() {
    let h = Harness::start(mock(
        TWO,
        "          - { nth: 1, action: { commit_then: { delay: 30s } } }",
    ))
    .await;
    let (err, text) = get(&h.url(), Duration::from_millis(200)).await.unwrap_err();
    assert!(err.is_timeout(), "{text}");
    let second = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!(second, (201, "second".to_owned()));
    h.server.shutdown().await;
}

#[tokio::test]
async fn a_plain_reset_does_not_advance_the_sequence() {
    let h = Harness::start(mock(TWO, "          - { nth: 1, action: { reset: true } }")).await;
    assert!(get(&h.url(), Duration::from_secs(10)).await.is_err());
    let next = get(&h.url(), Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!(next, (201, "first".to_owned()));
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------------------------

const OK: &str = "[{ status: 200 }]";

fn respond_503(selector: &str) -> MockSpec {
    mock(
        OK,
        &format!("          - {{ {selector}, action: {{ respond: {{ status: 503 }} }} }}"),
    )
}

#[tokio::test]
async fn nth_picks_request_numbers() {
    let h = Harness::start(respond_503("nth: [2, 4]")).await;
    assert_eq!(h.statuses(5).await, [200, 503, 200, 503, 200]);
    h.server.shutdown().await;
    let h = Harness::start(respond_503("nth: 3")).await;
    assert_eq!(h.statuses(4).await, [200, 200, 503, 200]);
    h.server.shutdown().await;
}

#[tokio::test]
async fn times_picks_the_first_requests() {
    let h = Harness::start(respond_503("times: 2")).await;
    assert_eq!(h.statuses(4).await, [503, 503, 200, 200]);
    h.server.shutdown().await;
}

#[tokio::test]
async fn every_picks_multiples() {
    let h = Harness::start(respond_503("every: 3")).await;
    assert_eq!(h.statuses(7).await, [200, 200, 503, 200, 200, 503, 200]);
    h.server.shutdown().await;
}

#[tokio::test]
async fn after_follows_the_virtual_clock() {
    let h = Harness::start(respond_503("after: 10m")).await;
    assert_eq!(h.statuses(1).await, [200]);
    h.control
        .advance_clock(Duration::from_secs(9 * 60))
        .await
        .expect("advance");
    assert_eq!(h.statuses(1).await, [200]);
    h.control
        .advance_clock(Duration::from_secs(60))
        .await
        .expect("advance");
    assert_eq!(h.statuses(2).await, [503, 503]);
    h.server.shutdown().await;
}

#[tokio::test]
async fn probability_is_the_same_for_the_same_seed() {
    let seeded = |seed: u64| respond_503(&format!("probability: 0.5, seed: {seed}"));
    let h = Harness::start(seeded(7)).await;
    let first = h.statuses(16).await;
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
    h.control.reset().await.expect("reset");
    assert_eq!(h.statuses(16).await, first, "after a reset");
    h.server.shutdown().await;

    let again = Harness::start(seeded(7)).await;
    assert_eq!(again.statuses(16).await, first, "same seed, new mock");
    again.server.shutdown().await;

    let other = Harness::start(seeded(8)).await;
    assert_ne!(other.statuses(16).await, first, "another seed");
    other.server.shutdown().await;
}

#[tokio::test]
async fn the_first_fault_that_holds_fires_and_selectors_combine() {
    let h = Harness::start(mock(
        OK,
        "          - { nth: 1, action: { respond: { status: 500 } } }\n          - { every: 2, times: 4, action: { respond: { status: 503 } } }",
    ))
    .await;
    assert_eq!(h.statuses(6).await, [500, 503, 200, 503, 200, 200]);
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shutdown_is_prompt_while_a_timeout_holds_a_connection() {
    let h = Harness::start(one("{ action: { timeout: true } }")).await;
    let url = h.url();
    let held = tokio::spawn(async move { get(&url, Duration::from_secs(60)).await });
    // The journal entry is written before the hold starts: the signal that the fault is active.
    let mut attempts = 0;
    while h.entries().await.is_empty() {
        attempts += 1;
        assert!(attempts < 500, "the request never reached the mock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(4), h.server.shutdown())
        .await
        .expect("shutdown returns well within the 5 s grace period");
    let outcome = held.await.expect("client task");
    let (_, text) = outcome.expect_err("the held request gets no answer");
    assert!(!text.contains("timed out"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Faults on an HTTPS mock: the same edge under TLS
// ---------------------------------------------------------------------------------------------

/// An HTTPS mock serving `spec` with a certificate from a fresh run CA, and the CA's PEM file.
async fn start_tls(mut spec: MockSpec) -> (MockServer, tempfile::TempDir) {
    let ca = RunCa::generate().expect("run CA");
    spec.tls = true;
    let bind = BindOptions {
        tls: Some(ca.issue(&spec.name).expect("leaf certificate")),
        ..BindOptions::default()
    };
    let server = MockServer::start(spec, &ClockSpec::default(), bind)
        .await
        .expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ca.pem"), ca.ca_pem()).expect("CA file");
    (server, dir)
}

/// `GET /bill` on an HTTPS mock through reqwest trusting the CA in `ca_dir`; as [`get`].
async fn tls_get(server: &MockServer, ca_dir: &tempfile::TempDir) -> Result<(u16, String), String> {
    let pem = std::fs::read(ca_dir.path().join("ca.pem")).expect("CA file");
    let ca = reqwest::Certificate::from_pem(&pem).expect("CA certificate");
    let client = http_client_builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .add_root_certificate(ca)
        .build()
        .expect("https client");
    let response = client
        .get(format!("{}/bill", server.url()))
        .send()
        .await
        .map_err(|e| chain(&e))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| chain(&e))?;
    Ok((status, body))
}

/// curl against an HTTPS mock, trusting the CA in `ca_dir`.
async fn tls_curl(server: &MockServer, ca_dir: &tempfile::TempDir) -> (i32, String) {
    let ca_file = ca_dir.path().join("ca.pem");
    let ca_file = ca_file.to_str().expect("UTF-8 temp path");
    curl(&format!("{}/bill", server.url()), &["--cacert", ca_file]).await
}

#[tokio::test]
async fn reset_on_an_https_mock_resets_the_tcp_connection() {
    let (server, ca) = start_tls(one("{ action: { reset: true } }")).await;
    let text = tls_get(&server, &ca).await.unwrap_err();
    assert!(text.contains("reset by peer"), "{text}");
    assert_eq!(tls_curl(&server, &ca).await.0, 56);
    server.shutdown().await;
}

#[tokio::test]
async fn empty_on_an_https_mock_closes_after_the_handshake() {
    let (server, ca) = start_tls(one("{ action: { empty: true } }")).await;
    let text = tls_get(&server, &ca).await.unwrap_err();
    assert!(
        text.contains("peer closed connection without sending TLS close_notify"),
        "{text}"
    );
    assert_eq!(tls_curl(&server, &ca).await.0, 52);
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_on_an_https_mock_is_garbage_inside_the_session() {
    let (server, ca) = start_tls(one("{ action: { garbage: { bytes: 64 } } }")).await;
    let text = tls_get(&server, &ca).await.unwrap_err();
    assert!(text.contains("invalid HTTP version parsed"), "{text}");
    assert_eq!(tls_curl(&server, &ca).await.0, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn truncated_on_an_https_mock_cuts_the_body() {
    let (server, ca) = start_tls(one("{ action: { truncated: { bytes: 10 } } }")).await;
    let text = tls_get(&server, &ca).await.unwrap_err();
    assert!(
        text.contains("error reading a body from connection")
            && text.contains("without sending TLS close_notify"),
        "{text}"
    );
    assert_eq!(tls_curl(&server, &ca).await, (18, BODY[..10].to_owned()));
    server.shutdown().await;
}

#[tokio::test]
async fn slow_body_on_an_https_mock_dribbles_the_whole_body() {
    let (server, ca) = start_tls(one("{ action: { slow_body: { chunk: 8, every: 10ms } } }")).await;
    let (status, body) = tls_get(&server, &ca).await.expect("answer");
    assert_eq!((status, body.as_str()), (200, BODY));
    assert_eq!(tls_curl(&server, &ca).await, (0, BODY.to_owned()));
    server.shutdown().await;
}
