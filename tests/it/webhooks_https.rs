//! Webhooks and HTTPS mocks, end to end on loopback.
//!
//! Webhooks: a real [`MockServer`] delivers to a tiny scripted hyper target through the control
//! API (`POST /__reenact/webhook`); signatures are checked with an independent computation
//! (`openssl dgst -hmac`, or the RustCrypto crates when `openssl` is missing, which the test
//! says). A full run through the YAML loader and the flow shows the observation and `expect`.
//! HTTPS: a `tls: true` mock served with a certificate from a [`RunCa`], reached by reqwest and
//! curl trusting the CA, and refused by clients that do not trust it.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reenact::mock::control::ControlClient;
use reenact::mock::tls::RunCa;
use reenact::mock::webhook::{RetryPolicy, SigningSettings, WebhookRequest};
use reenact::mock::{BindOptions, MockServer};
use reenact::scenario::model::{
    AfterLast, ClockSpec, DEFAULT_PRIORITY, MockSpec, PathMatcher, RequestMatcher, ResponseBody,
    ResponseSequence, ResponseSpec, SignAlgorithm, SignatureEncoding, Stub,
};

use crate::support::{START, run_in_process, serve};

// ---------------------------------------------------------------------------------------------
// A scripted target
// ---------------------------------------------------------------------------------------------

/// What the target does with the next request.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answer (the connection stays open).
    Hang,
}

/// A request the target received.
#[derive(Clone)]
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Target {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Target {
    /// Answers the scripted answers in order, then the last one forever.
    async fn start(script: &[Answer]) -> Target {
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let log = received.clone();
        let url = serve(move |path, headers, body| {
            let log = log.clone();
            let script = script.clone();
            async move {
                log.lock().unwrap().push(Received {
                    path,
                    headers: headers
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect(),
                    body: body.to_vec(),
                });
                let answer = {
                    let mut script = script.lock().unwrap();
                    if script.len() > 1 {
                        script.pop_front().unwrap()
                    } else {
                        *script.front().unwrap()
                    }
                };
                match answer {
                    Answer::Status(status) => (status, String::new()),
                    Answer::Hang => {
                        tokio::time::sleep(Duration::from_secs(600)).await;
                        (500, String::new())
                    }
                }
            }
        })
        .await;
        Target { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------------
// Mocks
// ---------------------------------------------------------------------------------------------

fn ping_stub() -> Stub {
    Stub {
        name: Some("ping".into()),
        priority: DEFAULT_PRIORITY,
        request: RequestMatcher {
            method: Some("GET".into()),
            path: Some(PathMatcher::Exact("/ping".into())),
            ..RequestMatcher::default()
        },
        responses: ResponseSequence {
            responses: vec![ResponseSpec {
                status: 200,
                headers: Vec::new(),
                body: ResponseBody::Text("pong".into()),
            }],
            after_last: AfterLast::Stick,
        },
        state: None,
        store: None,
        faults: Vec::new(),
    }
}

fn spec(name: &str, tls: bool) -> MockSpec {
    MockSpec {
        stubs: vec![ping_stub()],
        tls,
        ..MockSpec::new(name)
    }
}

async fn start_mock(tls: Option<&RunCa>) -> MockServer {
    let clock = ClockSpec {
        start: Some(START.into()),
    };
    let bind = BindOptions {
        tls: tls.map(|ca| ca.issue("accounting").unwrap()),
        ..BindOptions::default()
    };
    MockServer::start(spec("accounting", tls.is_some()), &clock, bind)
        .await
        .unwrap()
}

fn webhook(url: String, sign: Option<SigningSettings>, retry: RetryPolicy) -> WebhookRequest {
    WebhookRequest {
        url,
        method: "POST".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        // Odd spacing on purpose: the signature must cover these bytes, not a re-serialization.
        body: br#"{"events": [ {"resourceId":"inv-1", "eventType":"UPDATE"} ],"entropy":"x"}"#
            .to_vec(),
        sign,
        retry,
        provider: None,
    }
}

fn once() -> RetryPolicy {
    RetryPolicy {
        attempts: 1,
        backoff_millis: 0,
        timeout_millis: 5_000,
    }
}

fn signing(encoding: SignatureEncoding, prefix: &str) -> SigningSettings {
    SigningSettings {
        secret: "webhook-key-123".into(),
        header: "x-xero-signature".into(),
        algorithm: SignAlgorithm::HmacSha256,
        encoding,
        prefix: prefix.into(),
    }
}

/// HMAC-SHA256 of `body` under `key`, computed by `openssl` when it is installed, else by the
/// RustCrypto crates (said on stderr).
fn reference_hmac(key: &str, body: &[u8]) -> Vec<u8> {
    let openssl = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key, "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    if let Ok(mut child) = openssl {
        child.stdin.take().unwrap().write_all(body).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "openssl dgst failed");
        assert_eq!(output.stdout.len(), 32);
        return output.stdout;
    }
    eprintln!("openssl not found: checking signatures against the hmac crate instead");
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Webhooks through the control API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn webhook_is_delivered_signed_over_the_exact_bytes() {
    let target = Target::start(&[Answer::Status(200)]).await;
    let mock = start_mock(None).await;
    let control = ControlClient::new(mock.admin_url(), reenact::run::http_client());
    let request = webhook(
        format!("{}/webhooks/xero", target.url),
        Some(signing(SignatureEncoding::Base64, "")),
        once(),
    );
    let report = control.send_webhook(&request).await.unwrap();
    assert_eq!(report.deliveries.len(), 1);
    let delivery = &report.deliveries[0];
    assert_eq!(delivery.response.as_ref().unwrap().status, 200);
    assert_eq!(delivery.at, START);

    let received = target.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/webhooks/xero");
    assert_eq!(
        received[0].body, request.body,
        "the body travels byte for byte"
    );
    let expected = base64_of(&reference_hmac("webhook-key-123", &request.body));
    assert_eq!(
        header(&received[0].headers, "x-xero-signature"),
        Some(expected.as_str())
    );
    assert_eq!(
        header(&delivery.headers, "x-xero-signature"),
        Some(expected.as_str()),
        "the observation records the signature sent"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn webhook_signature_in_hex_with_a_prefix() {
    let target = Target::start(&[Answer::Status(204)]).await;
    let mock = start_mock(None).await;
    let control = ControlClient::new(mock.admin_url(), reenact::run::http_client());
    let request = webhook(
        format!("{}/hooks", target.url),
        Some(signing(SignatureEncoding::Hex, "sha256=")),
        once(),
    );
    control.send_webhook(&request).await.unwrap();
    let received = target.received();
    let expected = format!(
        "sha256={}",
        hex_of(&reference_hmac("webhook-key-123", &request.body))
    );
    assert_eq!(
        header(&received[0].headers, "x-xero-signature"),
        Some(expected.as_str())
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn webhook_retries_with_backoff_on_the_virtual_clock() {
    let target = Target::start(&[
        Answer::Status(500),
        Answer::Status(500),
        Answer::Status(200),
    ])
    .await;
    let mock = start_mock(None).await;
    let control = ControlClient::new(mock.admin_url(), reenact::run::http_client());
    let before = control.clock_now().await.unwrap();
    let wall = std::time::Instant::now();
    let retry = RetryPolicy {
        attempts: 5,
        backoff_millis: 5 * 60 * 1000,
        timeout_millis: 5_000,
    };
    let report = control
        .send_webhook(&webhook(format!("{}/hooks", target.url), None, retry))
        .await
        .unwrap();
    let statuses: Vec<u16> = report
        .deliveries
        .iter()
        .map(|d| d.response.as_ref().unwrap().status)
        .collect();
    assert_eq!(statuses, [500, 500, 200], "stops at the first 2xx");
    let at: Vec<&str> = report.deliveries.iter().map(|d| d.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "2026-10-31T23:00:00Z",
            "2026-10-31T23:05:00Z",
            "2026-10-31T23:10:00Z"
        ]
    );
    let after = control.clock_now().await.unwrap();
    assert_eq!(after - before, time::Duration::minutes(10), "2 × backoff");
    assert!(
        wall.elapsed() < Duration::from_secs(5),
        "no wall-clock sleep"
    );
    assert_eq!(target.received().len(), 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn webhook_to_a_target_that_never_answers_times_out_each_attempt() {
    let target = Target::start(&[Answer::Hang]).await;
    let mock = start_mock(None).await;
    let control = ControlClient::new(mock.admin_url(), reenact::run::http_client());
    let retry = RetryPolicy {
        attempts: 2,
        backoff_millis: 1_000,
        timeout_millis: 300,
    };
    let report = control
        .send_webhook(&webhook(format!("{}/hooks", target.url), None, retry))
        .await
        .unwrap();
    assert_eq!(report.deliveries.len(), 2);
    for delivery in &report.deliveries {
        assert!(delivery.response.is_none());
        assert_eq!(delivery.error.as_deref(), Some("no answer within 300ms"));
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn webhook_requests_the_mock_cannot_send_are_refused() {
    let mock = start_mock(None).await;
    let control = ControlClient::new(mock.admin_url(), reenact::run::http_client());
    let mut request = webhook("http://127.0.0.1:9/x".into(), None, once());
    request.retry.attempts = 0;
    let err = control.send_webhook(&request).await.unwrap_err();
    let chain = crate::support::error_chain(&err);
    assert!(
        chain.contains("`attempts` must be between 1 and 100"),
        "{chain}"
    );
    mock.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Webhooks in a scenario run
// ---------------------------------------------------------------------------------------------

async fn run_yaml(dir: &Path, yaml: &str) -> reenact::run::ScenarioRun {
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, yaml).unwrap();
    let scenario = reenact::scenario::load(&path).unwrap_or_else(|err| panic!("{err:?}"));
    run_in_process(&scenario, dir).await
}

#[tokio::test]
async fn webhook_step_records_every_attempt_and_checks_the_last_answer() {
    let target = Target::start(&[Answer::Status(503), Answer::Status(401)]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("event.json"), "{\"events\": [ ]}\n").unwrap();
    let yaml = format!(
        r#"
id: webhook-rejected
title: the target rejects a correctly signed webhook
clock: {{ start: "{START}" }}
mocks:
  accounting: {{ stubs: [] }}
  bank: {{ stubs: [] }}
target: {{ url: "{}" }}
flow:
  - name: notify
    webhook:
      mock: accounting
      path: /webhooks/accounting
      body_file: event.json
      sign: {{ secret: key, header: x-xero-signature }}
      retry: {{ attempts: 2, backoff: 5m, timeout: 2s }}
    expect: {{ status: 200 }}
"#,
        target.url
    );
    let run = run_yaml(dir.path(), &yaml).await;
    let step = &run.observation.steps[0];
    assert_eq!(step.kind, "webhook");
    assert_eq!(step.attempts, 2);
    assert_eq!(step.deliveries.len(), 2);
    assert_eq!(step.response.as_ref().unwrap().status, 401);
    assert_eq!(
        step.failure.as_deref(),
        Some("expect: status: expected 200, got 401")
    );
    let body = b"{\"events\": [ ]}\n";
    let expected = base64_of(&reference_hmac("key", body));
    let received = target.received();
    assert_eq!(received[1].body, body);
    assert_eq!(
        header(&received[1].headers, "x-xero-signature"),
        Some(expected.as_str())
    );
    let snapshot = reenact::snapshot::normalize(
        &run.observation,
        &run.expectations,
        &reenact::scenario::model::SnapshotSpec::default(),
    );
    let first = &snapshot["steps"][0]["deliveries"][0];
    assert_eq!(first["url"], "{{ target.url }}/webhooks/accounting");
    assert_eq!(first["headers"]["x-xero-signature"], "[redacted]");
    assert_eq!(first["response"]["status"], 503);
}

#[tokio::test]
async fn webhook_templates_use_the_filters_of_the_one_template_language() {
    let target = Target::start(&[Answer::Status(200)]).await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
id: webhook-filters
title: webhook path, headers, body and secret render with filters
clock: {{ start: "{START}" }}
mocks:
  accounting: {{ stubs: [] }}
target: {{ url: "{}" }}
flow:
  - webhook:
      mock: accounting
      path: "/hooks/{{{{ env.REENACT_TEST_UNSET_TENANT | default(\"acme\") | upper }}}}"
      headers: {{ x-tenant: "{{{{ env.REENACT_TEST_UNSET_TENANT | default(\"Acme\") | lower }}}}" }}
      json: {{ event: "{{{{ env.REENACT_TEST_UNSET_EVENT | default(\"invoice.updated\") }}}}" }}
      sign: {{ secret: "{{{{ env.REENACT_TEST_UNSET_KEY | default(\"key\") }}}}", header: x-signature }}
    expect: {{ status: 200 }}
"#,
        target.url
    );
    let run = run_yaml(dir.path(), &yaml).await;
    assert_eq!(run.observation.steps[0].failure, None);
    let received = target.received();
    assert_eq!(received[0].path, "/hooks/ACME");
    assert_eq!(header(&received[0].headers, "x-tenant"), Some("acme"));
    let body = br#"{"event":"invoice.updated"}"#;
    assert_eq!(received[0].body, body);
    let expected = base64_of(&reference_hmac("key", body));
    assert_eq!(
        header(&received[0].headers, "x-signature"),
        Some(expected.as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// HTTPS mocks
// ---------------------------------------------------------------------------------------------

// Multi-threaded: curl runs as a blocking child process while the mock serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_mock_is_trusted_by_clients_given_the_run_ca() {
    let ca = RunCa::generate().unwrap();
    let mock = start_mock(Some(&ca)).await;
    assert!(
        mock.url().starts_with("https://127.0.0.1:"),
        "{}",
        mock.url()
    );

    let trusting = reenact::run::http_client_trusting(&ca.ca_der()).unwrap();
    let response = trusting
        .get(format!("{}/ping", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "pong");

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.ca_pem()).unwrap();
    let url = format!("{}/ping", mock.url());
    match Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&ca_file)
        .arg(&url)
        .output()
    {
        Ok(output) => {
            assert!(
                output.status.success(),
                "curl --cacert failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(output.stdout, b"pong");
            let untrusted = Command::new("curl")
                .args(["-sS", "--max-time", "10"])
                .arg(&url)
                .output()
                .unwrap();
            assert_eq!(
                untrusted.status.code(),
                Some(60),
                "curl: certificate problem"
            );
        }
        Err(_) => eprintln!("curl not found: skipping the curl half of this test"),
    }

    let untrusting = reenact::run::http_client();
    let err = untrusting
        .get(format!("{}/ping", mock.url()))
        .send()
        .await
        .unwrap_err();
    let chain = crate::support::error_chain(&err);
    assert!(chain.contains("certificate"), "{chain}");
    mock.shutdown().await;
}

#[tokio::test]
async fn https_mock_serves_the_localhost_name_too() {
    let ca = RunCa::generate().unwrap();
    let mock = start_mock(Some(&ca)).await;
    let client = reenact::run::http_client_trusting(&ca.ca_der()).unwrap();
    let url = format!("https://localhost:{}/ping", mock.traffic_addr().port());
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_tls_mock_without_a_certificate_does_not_start() {
    let err = MockServer::start(
        spec("accounting", true),
        &ClockSpec::default(),
        BindOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mock `accounting` has `tls: true` but no certificate was given to serve"
    );
}

#[tokio::test]
async fn target_gets_the_ca_file_and_the_run_folder_is_removed() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found: skipping (it serves as the target)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("seen.txt");
    let yaml = format!(
        r#"
id: https-target
title: the target reaches an HTTPS mock with the run CA
mocks:
  accounting:
    tls: true
    stubs:
      - request: {{ method: GET, path: /ping }}
        response: {{ body: pong }}
target:
  command:
    - sh
    - -c
    - 'curl -sS --cacert "$CA_FILE" "$API/ping" > "$OUT" && echo >> "$OUT" && echo "$CA_FILE" >> "$OUT"; exec python3 -m http.server "$PORT" --bind 127.0.0.1'
  env:
    CA_FILE: "{{{{ tls.ca_file }}}}"
    API: "{{{{ mocks.accounting.url }}}}"
    PORT: "{{{{ target.port }}}}"
    OUT: "{}"
  ready: {{ http: GET /, within: 20s }}
flow:
  - advance_clock: 1s
expect:
  - {{ mock: accounting, request: {{ path: /ping }}, count: 1 }}
"#,
        out.display()
    );
    let run = run_yaml(dir.path(), &yaml).await;
    assert!(run.expectations.iter().all(|e| e.passed), "{run:?}");
    let seen = std::fs::read_to_string(&out).unwrap();
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some("pong"));
    let ca_file = lines.next().unwrap();
    assert!(ca_file.ends_with("ca.pem"), "{ca_file}");
    let folder = Path::new(ca_file).parent().unwrap();
    assert!(
        !folder.exists(),
        "the run folder `{}` is gone",
        folder.display()
    );
}

/// `{{ self.url }}` on a TLS mock names it with `https`, and with the host the client used.
#[tokio::test]
async fn a_tls_mock_names_itself_with_https() {
    let ca = RunCa::generate().unwrap();
    let spec = crate::support::load_mock(
        r#"id: self-url
title: self url over TLS
mocks:
  accounting:
    tls: true
    stubs:
      - request: { path: /whoami }
        response: { body: "{{ self.url }}" }
flow:
  - request: { method: GET, path: / }
"#,
    );
    let clock = ClockSpec {
        start: Some(START.into()),
    };
    let bind = BindOptions {
        tls: Some(ca.issue("accounting").unwrap()),
        ..BindOptions::default()
    };
    let mock = MockServer::start(spec, &clock, bind).await.unwrap();
    let client = reenact::run::http_client_trusting(&ca.ca_der()).unwrap();
    let port = mock.traffic_addr().port();
    let url = format!("https://localhost:{port}/whoami");
    let response = client.get(url).send().await.unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        format!("https://localhost:{port}")
    );
    mock.shutdown().await;
}
