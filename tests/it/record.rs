//! `reenact record` through the binary: a proxy in front of a stand-in sandbox forwards what the
//! client sends, and nothing else; on SIGINT the recording becomes a mock definition that passes
//! `reenact check`, answers as the sandbox did when a scenario includes it, and carries none of the
//! exchanges' secrets.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reenact::exit_codes;

use crate::cli::{reenact, text};
use crate::package::assert_exit;
use crate::support::planted::encodings;
use crate::support::{http_client, serve_http};

const TOKEN: &str = "tok-REC-5e1d9c3b7a2f4e60";
const SESSION: &str = "sess-REC-0b7e4d2c9a815f33";
const ACCOUNT: &str = "31926819";

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_sandbox_answers_as_it_did_and_nothing_else_is_forwarded() {
    // The sandbox: pages of items under `/api`, a status that is busy once, and a count of every
    // request it saw, to prove the proxy sent it nothing it should not.
    let seen = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let sandbox = {
        let seen = seen.clone();
        serve_http(move |parts: hyper::http::request::Parts, _body| {
            let seen = seen.clone();
            let busy = busy.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                let json = vec![("content-type".to_owned(), "application/json".to_owned())];
                let cookie = ("set-cookie".to_owned(), format!("sid={SESSION}; Path=/"));
                match parts.uri.path() {
                    "/api/status" if busy.fetch_add(1, Ordering::SeqCst) == 0 => {
                        (503, json, r#"{"status":"busy"}"#.to_owned())
                    }
                    "/api/status" => (200, json, r#"{"status":"ok"}"#.to_owned()),
                    "/api/items" => {
                        let auth = parts
                            .headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let mut headers = json;
                        headers.push(cookie);
                        let body = serde_json::json!({
                            "query": parts.uri.query(),
                            "auth_seen": auth,
                            "account_number": ACCOUNT,
                        });
                        (200, headers, body.to_string())
                    }
                    _ => (404, json, r#"{"error":"not found"}"#.to_owned()),
                }
            }
        })
        .await
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reenact.toml"), "").unwrap();
    let upstream = format!("vendor={sandbox}/api");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(["record", "--upstream", &upstream, "--color", "never"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (proxy, listing) = tokio::task::spawn_blocking(move || {
        let mut listing = String::new();
        let mut proxy = None;
        loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "no `ready`: {listing}"
            );
            listing.push_str(&line);
            if line.trim() == "ready" {
                break;
            }
            proxy = line.split_whitespace().nth(1).map(str::to_owned);
        }
        (proxy.expect("a proxy URL"), (listing, stdout))
    })
    .await
    .unwrap();
    let (listing, mut stdout) = listing;
    assert!(listing.contains(&format!("-> {sandbox}/api")), "{listing}");

    let client = http_client();
    let page = client
        .get(format!("{proxy}/items?page=1"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page: serde_json::Value = page.json().await.unwrap();
    assert_eq!(
        page["auth_seen"],
        format!("Bearer {TOKEN}"),
        "forwarded as sent"
    );
    assert_eq!(page["query"], "page=1");
    for expected in [503, 200] {
        let status = client.get(format!("{proxy}/status")).send().await.unwrap();
        assert_eq!(status.status(), expected);
    }
    assert_eq!(seen.load(Ordering::SeqCst), 3);

    // A proxy-style request for another host is refused, and the sandbox sees nothing of it.
    let address = proxy.trim_start_matches("http://").to_owned();
    let refused = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET http://elsewhere.test/steal HTTP/1.1\r\nHost: elsewhere.test\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert!(refused.contains("forwards only to"), "{refused}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "nothing more reached the sandbox"
    );

    // SIGINT: the recording is written.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(exit_codes::SUCCESS), "{rest}\n{stderr}");
    assert!(
        rest.contains("wrote  mocks/vendor.yaml (2 stubs from 3 requests)"),
        "{rest}"
    );
    assert!(
        rest.contains("Refused `GET http://elsewhere.test/steal`"),
        "{rest}"
    );
    let definition = std::fs::read_to_string(dir.path().join("mocks/vendor.yaml")).unwrap();
    assert!(
        definition.contains("responses:   # what the sandbox saw, in order"),
        "{definition}"
    );

    let mut written = vec![
        ("stdout".to_owned(), rest.clone()),
        ("stderr".to_owned(), stderr.clone()),
        ("mocks/vendor.yaml".to_owned(), definition.clone()),
    ];
    for entry in std::fs::read_dir(dir.path().join("mocks/payloads/vendor")).unwrap() {
        let path = entry.unwrap().path();
        written.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    assert_eq!(written.len(), 6, "three answers with bodies: {written:?}");
    for secret in [TOKEN, SESSION, ACCOUNT] {
        for encoded in encodings(secret) {
            for (file, text) in &written {
                assert!(!text.contains(&encoded), "`{encoded}` in {file}:\n{text}");
            }
        }
    }

    // The definition checks, and a scenario that includes it gets the sandbox's answers, in order.
    std::fs::write(
        dir.path().join("replay.yaml"),
        "id: replay\ntitle: the recording answers as the sandbox did\nmocks:\n  vendor: { include: mocks/vendor.yaml }\nflow:\n  - request: { mock: vendor, method: GET, path: \"/items?page=1\" }\n    expect: { status: 200, json: { query: page=1, auth_seen: \"[redacted]\" } }\n  - request: { mock: vendor, method: GET, path: /status }\n    expect: { status: 503, json: { status: busy } }\n  - request: { mock: vendor, method: GET, path: /status }\n    expect: { status: 200, json: { status: ok } }\n",
    )
    .unwrap();
    let check = reenact(dir.path(), &["check", "mocks/", "replay.yaml"]);
    assert_exit(&check, exit_codes::SUCCESS);
    let run = reenact(
        dir.path(),
        &[
            "run",
            "replay.yaml",
            "--target-url",
            "http://127.0.0.1:9",
            "--accept",
        ],
    );
    assert_exit(&run, exit_codes::SUCCESS);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "the replay never reached the sandbox"
    );
}

#[test]
fn refusals_are_located_with_help_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let refuse = |args: &[&str], says: &str| {
        let mut all = vec!["record"];
        all.extend(args);
        let output = reenact(dir.path(), &all);
        assert_exit(&output, exit_codes::INVALID_INPUT);
        let stderr = text(&output.stderr);
        assert!(stderr.contains(says), "`{says}` not in:\n{stderr}");
        assert!(
            stderr.contains("help:") || stderr.contains("= help"),
            "{stderr}"
        );
    };
    refuse(&["--upstream", "https://sandbox.vendor.test"], "has no `=`");
    refuse(
        &["--upstream", "Vendor=https://sandbox.vendor.test"],
        "is not a mock name",
    );
    refuse(
        &["--upstream", "vendor=ftp://sandbox.vendor.test"],
        "is not an http or https URL",
    );
    refuse(
        &["--upstream", "vendor=https://user:pw@sandbox.vendor.test"],
        "holds credentials",
    );
    refuse(
        &[
            "--upstream",
            "a=http://127.0.0.1:1",
            "--upstream",
            "a=http://127.0.0.1:2",
        ],
        "is given twice",
    );
    refuse(
        &[
            "--upstream",
            "a=http://127.0.0.1:1",
            "--upstream",
            "b=http://127.0.0.1:2",
            "--port",
            "9999",
        ],
        "`--port` needs a single `--upstream`",
    );
    std::fs::create_dir(dir.path().join("mocks")).unwrap();
    std::fs::write(dir.path().join("mocks/vendor.yaml"), "stubs: []\n").unwrap();
    refuse(&["--upstream", "vendor=http://127.0.0.1:1"], "exists");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mocks/vendor.yaml")).unwrap(),
        "stubs: []\n",
        "an existing definition is kept"
    );
}

/// Start `reenact record` in `dir` with `args`; its child and proxy URL once it printed `ready`.
async fn start_recording(
    dir: &std::path::Path,
    args: Vec<String>,
) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reenact"))
        .arg("record")
        .args(&args)
        .args(["--color", "never"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let proxy = tokio::task::spawn_blocking(move || {
        let mut stdout = BufReader::new(stdout);
        let mut proxy = None;
        loop {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "no `ready`");
            if line.trim() == "ready" {
                break;
            }
            proxy = line.split_whitespace().nth(1).map(str::to_owned);
        }
        proxy.expect("a proxy URL")
    })
    .await
    .unwrap();
    (child, proxy)
}

/// A sandbox whose certificate a private CA signed is recorded when `--ca` names that CA, and
/// refused (`502`, naming the certificate) when it does not; a `--ca` that is no PEM is refused
/// before anything listens.
#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_behind_a_private_ca_is_recorded_with_ca() {
    use reenact::mock::tls::RunCa;
    use reenact::mock::{BindOptions, MockServer};
    use reenact::scenario::model::ClockSpec;

    let mut spec = crate::support::load_mock(
        "id: s\ntitle: s\nmocks:\n  sandbox:\n    stubs:\n      - request: { method: GET, path: /ping }\n        response: { status: 200, body: pong-from-the-sandbox }\nflow:\n  - request: { method: GET, path: / }\n",
    );
    let ca = RunCa::generate().unwrap();
    spec.tls = true;
    let bind = BindOptions {
        tls: Some(ca.issue(&spec.name).unwrap()),
        ..BindOptions::default()
    };
    let sandbox = MockServer::start(spec, &ClockSpec::default(), bind)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.ca_pem()).unwrap();
    std::fs::write(dir.path().join("not-pem.txt"), "hello").unwrap();
    let upstream = format!("sandbox={}", sandbox.url());
    assert!(upstream.starts_with("sandbox=https://"), "{upstream}");

    // Without the CA: the sandbox's certificate is not trusted, and the client hears so.
    let (mut child, proxy) =
        start_recording(dir.path(), vec!["--upstream".into(), upstream.clone()]).await;
    let answer = http_client()
        .get(format!("{proxy}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    let said = answer.text().await.unwrap();
    assert!(
        said.contains("certificate") && said.contains("--ca FILE"),
        "{said}"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // With it: forwarded, and recorded on SIGINT.
    let (mut child, proxy) = start_recording(
        dir.path(),
        vec![
            "--upstream".into(),
            upstream.clone(),
            "--ca".into(),
            "ca.pem".into(),
            "--force".into(),
        ],
    )
    .await;
    let answer = http_client()
        .get(format!("{proxy}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "pong-from-the-sandbox");
    // SAFETY: the child's pid; SIGINT asks it to write the recording.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(exit_codes::SUCCESS));
    let definition = std::fs::read_to_string(dir.path().join("mocks/sandbox.yaml")).unwrap();
    assert!(definition.contains("/ping"), "{definition}");

    let refused = reenact(
        dir.path(),
        &["record", "--upstream", &upstream, "--ca", "not-pem.txt"],
    );
    assert_exit(&refused, exit_codes::INVALID_INPUT);
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("invalid `--ca not-pem.txt`: it holds no certificate"),
        "{stderr}"
    );
    sandbox.shutdown().await;
}
