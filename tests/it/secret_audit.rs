//! The secret audit (issue 11): one scenario planting every kind of secret reenact must never
//! write (`tests/fixtures/secret-audit/planted-secrets.yaml`), run through every command and
//! output format that writes, with `RUST_LOG=debug`. Everything written (stdout and stderr of
//! each command, every file in the project folder: new, pending and accepted snapshots, and the
//! answers `mock serve` gives over the wire) is searched for each planted value in each of its
//! common encodings. None may be found; and so that the audit cannot pass by writing nothing,
//! each command must still give its verdict, with the placeholders where the secrets were.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use reenact::exit_codes;

use crate::support::planted::{PLANTED, leaks};
use crate::support::repo;

/// `reenact ARGS` in `dir`, logging at debug level, without colors.
fn reenact(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug")
        .output()
        .expect("reenact runs")
}

/// `--report KIND=STEM.EXT` for every kind reenact writes to a file.
fn report_files(stem: &str) -> Vec<String> {
    [
        ("json", "json"),
        ("junit", "xml"),
        ("markdown", "md"),
        ("html", "html"),
    ]
    .iter()
    .flat_map(|(kind, ext)| ["--report".to_owned(), format!("{kind}={stem}.{ext}")])
    .collect()
}

/// What reenact wrote, by where it went.
#[derive(Default)]
struct Written(Vec<(String, String)>);

impl Written {
    /// Keep a command's stdout and stderr, and return its stdout.
    fn command(&mut self, label: &str, output: &Output) -> String {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        self.0.push((format!("{label}: stdout"), stdout.clone()));
        self.0.push((
            format!("{label}: stderr"),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
        stdout
    }

    fn text(&self, label: &str) -> &str {
        self.0
            .iter()
            .find(|(name, _)| name == label)
            .map_or("", |(_, text)| text.as_str())
    }
}

/// Exit code of a finished command, with its output when it is not `expected`.
fn assert_exit(label: &str, output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "`{label}` exited otherwise:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn no_planted_secret_reaches_anything_reenact_writes() {
    let fixture = repo().join("tests/fixtures/secret-audit/planted-secrets.yaml");
    let scenario = std::fs::read_to_string(&fixture).unwrap();
    for planted in PLANTED {
        let plain = planted.value.replace(' ', "");
        assert!(
            scenario.contains(planted.value) || scenario.replace(' ', "").contains(&plain),
            "`{}` ({}) is not planted in {}",
            planted.value,
            planted.what,
            fixture.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::write(project.join("planted-secrets.yaml"), &scenario).unwrap();
    std::fs::write(project.join("reenact.toml"), "").unwrap();
    let target = "{{ mocks.app.url }}";
    let mut written = Written::default();

    let check = reenact(project, &["check", "planted-secrets.yaml"]);
    assert_exit("check", &check, exit_codes::SUCCESS);
    assert!(written.command("check", &check).starts_with("ok "));
    let check_json = reenact(
        project,
        &["check", "--format", "json", "planted-secrets.yaml"],
    );
    assert_exit("check --format json", &check_json, exit_codes::SUCCESS);
    written.command("check --format json", &check_json);

    // A scenario that does not load shows its source lines: with the secrets in them masked.
    let broken = scenario.replace(
        "header: x-partner-signature }",
        "header: x-partner-signature, algoritm: hmac }",
    );
    assert_ne!(broken, scenario);
    std::fs::write(project.join("broken.yaml"), &broken).unwrap();
    let check_broken = reenact(project, &["check", "broken.yaml"]);
    assert_exit(
        "check broken.yaml",
        &check_broken,
        exit_codes::INVALID_INPUT,
    );
    written.command("check broken.yaml", &check_broken);
    let shown = written.text("check broken.yaml: stderr");
    assert!(shown.contains("unknown field `algoritm`"), "{shown}");
    let masked = format!(
        "sign: {{ secret: {}, header: x-partner-signature, algoritm: hmac }}",
        "*".repeat("whsec-PLANTED-5f4e3d2c1b0a".len())
    );
    assert!(shown.contains(&masked), "{shown}");
    std::fs::remove_file(project.join("broken.yaml")).unwrap();

    let list = reenact(project, &["list", "."]);
    assert_exit("list", &list, exit_codes::SUCCESS);
    assert!(written.command("list", &list).contains("planted-secrets"));

    // The first run writes a new snapshot; the expectations fail (the payee is not settled, the
    // partner refused the wrong key), as the verdict must still say.
    let run = reenact(project, &["run", "planted-secrets.yaml"]);
    assert_exit("run", &run, exit_codes::FAILED);
    let shown = written.command("run", &run);
    assert!(shown.contains("FAIL   planted-secrets"), "{shown}");
    assert!(
        shown.contains(r#"expectation `the payee is settled` failed: json: expected to contain `{"payee":{"status":"settled"}}`, got `{"payee":{"name":"Acme Ltd","iban":"[redacted]","account_number":"[redacted]","status":"pending"}}`"#),
        "{shown}"
    );
    assert!(
        shown.contains("expectation `the partner accepted the key` failed: 1 unmatched request"),
        "{shown}"
    );
    assert!(
        written.text("run: stderr").contains(" DEBUG "),
        "logging was on"
    );

    let run_json = reenact(
        project,
        &["run", "--format", "json", "planted-secrets.yaml"],
    );
    assert_exit("run --format json", &run_json, exit_codes::FAILED);
    let report: serde_json::Value =
        serde_json::from_str(&written.command("run --format json", &run_json)).unwrap();
    let item = &report["scenarios"][0];
    assert_eq!(item["outcome"], "failed", "{report:#}");
    assert_eq!(item["snapshot"], "new", "{report:#}");
    assert!(
        item["expectations"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(r#""iban":"[redacted]""#),
        "{report:#}"
    );

    // Every other report kind, on stdout and in files (read back with the project's files).
    for format in ["junit", "markdown"] {
        let label = format!("run --format {format}");
        let output = reenact(
            project,
            &["run", "--format", format, "planted-secrets.yaml"],
        );
        assert_exit(&label, &output, exit_codes::FAILED);
        assert!(!written.command(&label, &output).is_empty());
    }
    let files = report_files("run-report");
    let mut args = vec!["run", "planted-secrets.yaml"];
    args.extend(files.iter().map(String::as_str));
    let run_reports = reenact(project, &args);
    assert_exit("run --report", &run_reports, exit_codes::FAILED);
    written.command("run --report", &run_reports);
    for file in ["run-report.json", "run-report.xml", "run-report.md"] {
        assert!(project.join(file).is_file(), "{file} not written");
    }

    for format in ["human", "json", "junit", "markdown"] {
        let label = format!("validate --format {format}");
        let files = report_files(&format!("validate-{format}"));
        let validate = reenact(
            project,
            &[
                "validate",
                "planted-secrets.yaml",
                "--before-url",
                target,
                "--after-url",
                target,
                "--diff",
                "--format",
                format,
            ]
            .into_iter()
            .chain(files.iter().map(String::as_str))
            .collect::<Vec<_>>(),
        );
        assert_exit(&label, &validate, exit_codes::FAILED);
        let shown = written.command(&label, &validate);
        assert!(shown.contains("still-failing"), "{shown}");
    }
    let merged = reenact(
        project,
        &[
            "report",
            "merge",
            "validate-json.json",
            "--format",
            "markdown",
            "-o",
            "merged.json",
        ],
    );
    assert_exit("report merge", &merged, exit_codes::FAILED);
    written.command("report merge", &merged);

    // Accept the snapshot, then run again: it matches, and only the expectations fail.
    let review = reenact(project, &["review", "--accept-all"]);
    assert_exit("review --accept-all", &review, exit_codes::SUCCESS);
    written.command("review --accept-all", &review);
    let again = reenact(
        project,
        &["run", "--format", "json", "planted-secrets.yaml"],
    );
    assert_exit("run after review", &again, exit_codes::FAILED);
    let report: serde_json::Value =
        serde_json::from_str(&written.command("run after review", &again)).unwrap();
    assert_eq!(report["scenarios"][0]["snapshot"], "matches", "{report:#}");

    mock_serve(project, &mut written);

    // Every file reenact left in the project: the accepted snapshot and anything else.
    let mut files = vec![project.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if !path.ends_with("planted-secrets.yaml") && !path.ends_with("reenact.toml") {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            written.0.push((path.display().to_string(), text));
        }
    }
    let snapshot = written
        .text(
            &project
                .join("snapshots/planted-secrets.snap")
                .display()
                .to_string(),
        )
        .to_owned();
    // Where each secret was, its placeholder is.
    for placeholder in [
        r#""at": "[redacted]""#,
        r#""path": "/geo?key=[redacted]&q=London""#,
        "header `x-api-key`: expected `[redacted]`, got `[redacted]`",
        r#""iban": "[redacted]""#,
        r#""account_number": "[redacted]""#,
        "refund to [redacted:iban] failed: session [redacted] expired",
        r#""body": "[redacted:private-key]\n""#,
        r#""signer": "[redacted:private-key]\n""#,
        r#""sessionId": "[redacted]""#,
        r#""hook": "[redacted]""#,
        "issued [redacted:jwt] for you",
        "paid with [redacted:card]",
        r#""ref": "[redacted]""#,
        r#""creds": "[redacted]""#,
        "https://partner.example/cb?state=1&x=[redacted]",
    ] {
        assert!(
            snapshot.contains(placeholder),
            "`{placeholder}` not in the snapshot:\n{snapshot}"
        );
    }

    let found = leaks(&written.0);
    assert!(
        found.is_empty(),
        "{} planted secret(s) written:\n  {}",
        found.len(),
        found.join("\n  ")
    );
}

/// `mock serve` with debug logs: the near-miss 404 it answers a wrong key with, and everything
/// it prints until it stops on SIGINT.
fn mock_serve(project: &Path, written: &mut Written) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(["mock", "serve", "planted-secrets.yaml", "--mock", "partner"])
        .current_dir(project)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
        if line == "ready" {
            break;
        }
        url = line.split_whitespace().nth(1).map(str::to_owned);
    }
    let url = url.expect("`mock serve` printed the mock's URL");
    let host = url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /v1/orders?key=AIzaSyPLANTEDkey0123456789abcdef HTTP/1.1\r\nHost: {host}\r\n\
         X-Api-Key: XKEY-wrong-9b8a7c6d5e4f\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.contains("header `x-api-key`: expected `[redacted]`, got `[redacted]`"),
        "{answer}"
    );
    written
        .0
        .push(("mock serve: the near-miss 404".into(), answer));
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    for line in lines {
        stdout.push_str(&line.unwrap());
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(exit_codes::SUCCESS), "{stderr}");
    assert!(
        stderr.contains("no stub matched"),
        "debug logs on: {stderr}"
    );
    written.0.push(("mock serve: stdout".into(), stdout));
    written.0.push(("mock serve: stderr".into(), stderr));
}
