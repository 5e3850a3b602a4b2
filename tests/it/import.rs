//! `reenact import har` through the binary: a browser capture becomes a scenario folder that
//! passes `reenact check`, runs against a stand-in target once the user fills in what the capture
//! could not say, carries none of the capture's secrets, and bad input is refused with help.

use std::path::{Path, PathBuf};
use std::process::Output;

use reenact::exit_codes;

use crate::cli::{reenact, text};
use crate::package::assert_exit;
use crate::support::planted::encodings;
use crate::support::repo;

/// The secrets `tests/fixtures/import/sync-fails.har` carries, and where.
const CAPTURE_SECRETS: &[(&str, &str)] = &[
    (
        "the bearer token of the vendor API",
        "tok-HAR-5e1d9c3b7a2f4e60",
    ),
    (
        "the session cookie sent to the target",
        "sess-HAR-0b7e4d2c9a815f33",
    ),
    (
        "the CSRF token header sent to the target",
        "csrf-HAR-77aa11bb22cc33dd",
    ),
    (
        "the refresh token in a form body",
        "rt-HAR-3c2b1a0f9e8d7c6b",
    ),
    (
        "the new refresh token in a JSON answer",
        "rt-HAR-new-0a1b2c3d4e5f",
    ),
    (
        "the cookie a mock's Set-Cookie sets",
        "cookie-HAR-9f8e7d6c5b4a",
    ),
    ("an account number in a request body", "31926819"),
    ("an IBAN in a vendor's answer", "GB82WEST12345698765432"),
];

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/import").join(name)
}

/// Every file under `dir`, with its path relative to it, sorted.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                found.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn import(dir: &Path) -> Output {
    std::fs::copy(fixture("sync-fails.har"), dir.join("sync-fails.har")).unwrap();
    reenact(
        dir,
        &[
            "import",
            "har",
            "sync-fails.har",
            "--target-host",
            "app.acme.test",
        ],
    )
}

#[test]
fn a_har_capture_becomes_a_scenario_that_checks_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = import(dir.path());
    assert_exit(&output, exit_codes::SUCCESS);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(
            "wrote  sync-fails/sync-fails.yaml (3 steps, 2 mocks with 4 stubs, 7 payload files)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("it passes `reenact check`"), "{stdout}");
    for note in [
        "How the target reaches the mocks",
        "What correct looks like",
        "Secret headers `cookie`, `x-csrf-token` were dropped from 2 requests",
        "`GET /v1/export` to mock `vendor-api` got no answer in the capture",
        "Left out CORS preflights: 1.",
        "Left out answers from the browser's cache: 1.",
        "Left out static assets (scripts, style sheets, images, fonts, media): 2.",
    ] {
        assert!(stdout.contains(note), "no note `{note}` in:\n{stdout}");
    }

    let folder = dir.path().join("sync-fails");
    let written = files(&folder);
    let names: Vec<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "payloads/sync-fails/step-2.json",
            "payloads/sync-fails/step-3.json",
            "payloads/sync-fails/vendor-api-1.json",
            "payloads/sync-fails/vendor-api-2.json",
            "payloads/sync-fails/vendor-api-3.json",
            "payloads/sync-fails/vendor-api-4.json",
            "payloads/sync-fails/vendor-auth-1.json",
            "sync-fails.yaml",
        ]
    );
    let yaml = &written.last().unwrap().1;
    // The repeated request answers what the capture saw, in order; the two pages are told apart
    // by their query; the base64 body of page 2 was decoded.
    assert!(
        yaml.contains("responses:   # what the capture saw, in order"),
        "{yaml}"
    );
    assert!(
        yaml.contains(r#"- { status: 503, headers: { "retry-after": "1", "content-type": "application/json" }"#),
        "{yaml}"
    );
    assert!(yaml.contains(r#"query: { "page": "2" }"#), "{yaml}");
    assert!(written[3].1.contains("\"item-2\""), "{}", written[3].1);
    assert!(
        yaml.contains("clock: { start: 2026-11-30T08:14:02.12Z }"),
        "{yaml}"
    );
    assert!(
        yaml.contains(r#"ready: { http: "GET /", within: 10s }"#),
        "{yaml}"
    );
    assert!(
        !yaml.contains("app.js") && !yaml.contains("logo.png"),
        "{yaml}"
    );

    let check = reenact(dir.path(), &["check", "sync-fails/sync-fails.yaml"]);
    assert_exit(&check, exit_codes::SUCCESS);

    // Fill in what the capture could not say, as the notes ask: how the target reaches the
    // vendor, and what correct looks like. Then the stubs serve a real target.
    let filled = yaml
        .replace(
            "  # env:     # point the target's settings at the mocks, e.g.\n",
            "  env:\n",
        )
        .replace("  #   VENDOR_URL:", "    VENDOR_URL:")
        + "\nexpect:\n  - name: the sync read both pages\n    step: POST /api/sync (2)\n    json: { count: 2 }\n  - name: every request of the target hit a stub\n    mock: vendor-api\n    unmatched: 0\n";
    assert_ne!(&filled, yaml);
    std::fs::write(folder.join("sync-fails.yaml"), filled).unwrap();
    let command = format!(
        "python3 {} {{{{ target.port }}}}",
        fixture("paging-target.py").display()
    );
    let run = reenact(
        dir.path(),
        &[
            "run",
            "sync-fails/sync-fails.yaml",
            "--target-cmd",
            &command,
            "--format",
            "json",
            "--accept",
        ],
    );
    assert_exit(&run, exit_codes::SUCCESS);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let item = &report["scenarios"][0];
    assert_eq!(item["outcome"], "passed", "{item:#}");
    assert_eq!(
        item["expectations"].as_array().map(Vec::len),
        Some(2),
        "{item:#}"
    );
}

#[test]
fn no_secret_of_the_capture_reaches_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let output = import(dir.path());
    assert_exit(&output, exit_codes::SUCCESS);
    let mut written = files(&dir.path().join("sync-fails"));
    written.push(("stdout".into(), text(&output.stdout)));
    written.push(("stderr".into(), text(&output.stderr)));
    let capture = std::fs::read_to_string(fixture("sync-fails.har")).unwrap();
    let mut leaks = Vec::new();
    for (what, value) in CAPTURE_SECRETS {
        assert!(capture.contains(value), "the fixture lost {what}");
        for encoded in encodings(value) {
            for (file, text) in &written {
                if text.contains(&encoded) {
                    leaks.push(format!("{what} `{encoded}` in {file}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "leaked:\n{}", leaks.join("\n"));
    // What is not secret survives: the redaction is not blanket.
    let all: String = written.iter().map(|(_, text)| text.as_str()).collect();
    for kept in [
        "northgate",
        "2026-11-01",
        "item-1",
        "maintenance",
        "\"expires_in\": 1800",
    ] {
        assert!(all.contains(kept), "`{kept}` was lost");
    }
}

#[test]
fn refusals_are_located_with_help_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("sync-fails.har"), dir.path().join("sync-fails.har")).unwrap();
    // `import har FILE --target-host HOST EXTRA…` exits 2 and says each of `says`.
    let refuse = |file: &str, host: &str, extra: &[&str], says: &[&str]| {
        let mut args = vec!["import", "har", file, "--target-host", host];
        args.extend(extra);
        let output = reenact(dir.path(), &args);
        assert_exit(&output, exit_codes::INVALID_INPUT);
        let stderr = text(&output.stderr);
        for said in says {
            assert!(stderr.contains(said), "`{said}` not in:\n{stderr}");
        }
    };
    let capture = "sync-fails.har";
    refuse(
        capture,
        "app.acme.tst",
        &[],
        &[
            "no request of the capture went to `app.acme.tst`",
            "did you mean `--target-host app.acme.test`?",
            "https://api.vendor.test (5)",
        ],
    );
    refuse(
        capture,
        "https://app.acme.test/login",
        &[],
        &["is not a host name", "e.g. `app.acme.test`"],
    );
    refuse(
        capture,
        "app.acme.test",
        &["--id", "Bad Id"],
        &["`--id Bad Id` is not a scenario id"],
    );
    std::fs::write(
        dir.path().join("broken.har"),
        "{\"log\": {\"entries\": [\n  {\"request\": 3}\n]}}",
    )
    .unwrap();
    refuse(
        "broken.har",
        "app.acme.test",
        &[],
        &["not a HAR file", "at line 2, column", "HAR 1.2 file"],
    );
    refuse(
        "missing.har",
        "app.acme.test",
        &[],
        &["cannot read `missing.har`"],
    );
    let leftover: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".har"))
        .collect();
    assert!(leftover.is_empty(), "left behind: {leftover:?}");

    // A folder that holds something is kept unless forced.
    let first = import(dir.path());
    assert_exit(&first, exit_codes::SUCCESS);
    refuse(capture, "app.acme.test", &[], &["--force"]);
    let forced = reenact(
        dir.path(),
        &[
            "import",
            "har",
            "sync-fails.har",
            "--target-host",
            "app.acme.test",
            "--force",
        ],
    );
    assert_exit(&forced, exit_codes::SUCCESS);
}

/// `import wiremock` on mappings that use what reenact cannot carry over: every such field is
/// named with its file, mappings that cannot work are skipped and counted, the rest is imported,
/// and the definition passes `reenact check`. (The real WireMock judges what is imported:
/// `conformance/wiremock`.)
#[test]
fn a_wiremock_folder_becomes_a_definition_and_what_cannot_be_carried_over_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reenact.toml"), "").unwrap();
    let root = fixture("wiremock-gaps");
    let root = root.to_str().unwrap();
    let output = reenact(dir.path(), &["import", "wiremock", root, "--name", "gaps"]);
    assert_exit(&output, exit_codes::SUCCESS);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(
            "wrote  mocks/gaps.yaml (11 stubs, 0 body files; 4 mappings skipped, 6 warnings)"
        ),
        "{stdout}"
    );
    for (file, said) in [
        ("broken.json", "not JSON"),
        (
            "templated.json",
            "`response.body`: the Handlebars expression `{{math 1 '+' 2}}` has no reenact equivalent yet; mapping skipped",
        ),
        (
            "proxy.json",
            "`response.proxyBaseUrl`: reenact never proxies",
        ),
        (
            "java-regex.json",
            "`request.urlPathPattern`: `/(?<=a)b` is not a regex",
        ),
        (
            "dribble.json",
            "`response.chunkedDribbleDelay`: with a delay: reenact fires one fault per request",
        ),
        (
            "cookies.json",
            "`request.host`: reenact has no such matcher yet",
        ),
    ] {
        let line = format!("mappings/{file}: ");
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&line) && l.contains(said)),
            "no warning `{said}` for {file} in:\n{stdout}"
        );
    }
    let definition = std::fs::read_to_string(dir.path().join("mocks/gaps.yaml")).unwrap();
    assert!(definition.contains("# - mappings/cookies.json: `request.host`"));
    // What the engine gained for WireMock carries over without a warning.
    for carried in [
        r#""basic_auth":{"username":"u","password":"p"}"#,
        r#""url":"/exact?x=1""#,
        r#"faults: [{"action":{"malformed_chunk":true}}]"#,
        r#""json_like":{"value":{"lines":[1,2]},"ignore_array_order":true,"ignore_extra_elements":false}"#,
        r#""url_regex":"/report\\?year=[0-9]+""#,
        r#""body":"{\"a\":{\"b\":\"{{not a template}}\"}}","template":false"#,
        r#""headers":{"Set-Cookie":["a=1","b=2"]}"#,
        r#"faults: [{"action":{"delay":{"lognormal":{"median":"80ms","sigma":0.4,"max":"500ms"}}}}]"#,
        r#"faults: [{"action":{"slow_body":{"chunks":5,"over":"1000ms"}}}]"#,
        r#"{{ now | add(1d) | date(\"[year]-[month]-[day]\") }} {{ random(\"hexadecimal\", 6) | lower }} {{ request.body | regex(\"[A-Z]+\") | default(\"[ERROR: Nothing matched [A-Z]+]\") }}"#,
        r#""cookies":{"sid":{"equals":"abc"}}"#,
        r#""multipart":[{"match":"all","headers":{"Content-Disposition":{"contains":"form-data"}},"body_contains":"invoice"}]"#,
    ] {
        assert!(
            definition.contains(carried),
            "no `{carried}` in:\n{definition}"
        );
    }
    for quiet in [
        "basic-auth.json:",
        "whole-url.json:",
        "malformed-chunk.json:",
        "drawn-delay.json:",
        "literal-body.json:",
        "literal-braces.json:",
        "templated-helpers.json:",
    ] {
        assert!(!stdout.contains(quiet), "a warning for {quiet}\n{stdout}");
    }
    // Issue 16: cookies and multipart patterns carry over; only `host` is left out.
    for quiet in ["`request.cookies`", "`request.multipartPatterns"] {
        assert!(!stdout.contains(quiet), "a warning for {quiet}\n{stdout}");
    }
    assert!(
        definition.contains(r#"request: {"method":"GET","path":"/fine"}"#),
        "{definition}"
    );
    let check = reenact(dir.path(), &["check", "mocks/"]);
    assert_exit(&check, exit_codes::SUCCESS);

    // The definition is not replaced without `--force`; with it, it is.
    let again = reenact(dir.path(), &["import", "wiremock", root, "--name", "gaps"]);
    assert_exit(&again, exit_codes::INVALID_INPUT);
    assert!(text(&again.stderr).contains("--force"));
    let forced = reenact(
        dir.path(),
        &["import", "wiremock", root, "--name", "gaps", "--force"],
    );
    assert_exit(&forced, exit_codes::SUCCESS);
    let missing = reenact(dir.path(), &["import", "wiremock", ".", "--name", "x"]);
    assert_exit(&missing, exit_codes::INVALID_INPUT);
    assert!(text(&missing.stderr).contains("has no `mappings` folder"));
}
