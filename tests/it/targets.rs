//! Where a run's target comes from and how a target that fails reads (issue 16): `reenact.toml`
//! is found from the scenarios' folder upward, whatever the working folder, and an error says
//! which file was read or where none was; a target that never became ready is reported with the
//! time waited, the probe, and (on Linux) what it listens on instead.

use crate::cli::{code, reenact, text};
use reenact::exit_codes;

/// A scenario whose flow asks the target, a `url` target that is the scenario's own mock.
const THROUGH_ITS_MOCK: &str = r#"
id: through-its-mock
title: the target is the scenario's mock
mocks:
  api:
    stubs:
      - request: { method: GET, path: /status }
        response: { status: 200, json: { status: ok } }
flow:
  - name: ask
    request: { method: GET, path: /status }
    expect: { status: 200 }
"#;

/// `project/reenact.toml` (target `mock`: the scenario's mock), `project/scenarios/` with the
/// scenario, and an empty `elsewhere/` to run from.
fn project_and_elsewhere() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("project/scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    std::fs::write(
        dir.path().join("project/reenact.toml"),
        "[targets.mock]\nurl = \"{{ mocks.api.url }}\"\n",
    )
    .unwrap();
    std::fs::write(scenarios.join("through-its-mock.yaml"), THROUGH_ITS_MOCK).unwrap();
    dir
}

#[test]
fn reenact_toml_is_found_from_the_scenarios_folder_when_run_from_elsewhere() {
    let dir = project_and_elsewhere();
    let elsewhere = dir.path().join("elsewhere");
    let output = reenact(
        &elsewhere,
        &[
            "-v",
            "run",
            "../project/scenarios/through-its-mock.yaml",
            "--target",
            "mock",
        ],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    // The flow passed; the snapshot is new, so the run fails on it, and it went to the
    // project's `snapshots/`, not the working folder's.
    assert_eq!(code(&output), exit_codes::FAILED, "{stdout}{stderr}");
    assert!(stdout.contains("snapshot: new"), "{stdout}");
    assert!(
        dir.path()
            .join("project/snapshots/through-its-mock.snap.new")
            .is_file()
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    let read = dir.path().join("project/reenact.toml");
    assert!(
        stderr.contains(&format!("read the project file file={}", read.display())),
        "{stderr}"
    );
    let unknown = reenact(
        &elsewhere,
        &["run", "../project/scenarios", "--target", "mokc"],
    );
    assert_eq!(code(&unknown), exit_codes::INVALID_INPUT);
    assert_eq!(
        text(&unknown.stderr),
        format!(
            "error: unknown target `mokc` (`{}` defines: mock)\n  = help: did you mean `mock`?\n",
            read.display()
        )
    );
}

#[test]
fn with_no_reenact_toml_the_error_says_where_none_was_found() {
    let dir = project_and_elsewhere();
    std::fs::remove_file(dir.path().join("project/reenact.toml")).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    let output = reenact(
        &elsewhere,
        &["run", "../project/scenarios/", "--target", "mock"],
    );
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: unknown target `mock` (no reenact.toml in `{}` or `{}` or any folder above them)\n",
            dir.path().join("project/scenarios").display(),
            elsewhere.display()
        )
    );
}

#[test]
fn a_scenario_without_a_target_says_which_project_file_was_read() {
    let dir = project_and_elsewhere();
    let elsewhere = dir.path().join("elsewhere");
    // The project file names targets but no `run.target`, and no `--target` is given.
    let output = reenact(&elsewhere, &["run", "../project/scenarios/"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "help: e.g. `reenact run scenarios/ --target NAME` (`{}` sets no `run.target`)",
            dir.path().join("project/reenact.toml").display()
        )),
        "{stderr}"
    );
    std::fs::remove_file(dir.path().join("project/reenact.toml")).unwrap();
    let output = reenact(&elsewhere, &["run", "../project/scenarios/"]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "(no reenact.toml in `{}` or `{}` or any folder above them)",
            dir.path().join("project/scenarios").display(),
            elsewhere.display()
        )),
        "{stderr}"
    );
}

/// A toy target that listens one port above the one it is told.
/// It ignores `--port` and takes any free port (port + 1 could be another test's), saying which.
const WRONG_PORT_APP: &str = r#"
import http.server, sys
server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
"#;

/// It listens on the port it was told, and answers `404` to the probe.
const RIGHT_PORT_APP: &str = r#"
import http.server, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
print(f"listening on 127.0.0.1:{port}", flush=True)
http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler).serve_forever()
"#;

/// `reenact run` of a scenario `id` whose target is the toy `app` (python3), ready within
/// `within`: its output.
fn run_toy_target(app: &str, id: &str, within: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), app).unwrap();
    std::fs::write(
        dir.path().join(format!("{id}.yaml")),
        format!(
            "id: {id}\ntitle: a toy target\n\
             target: {{ ready: {{ http: GET /healthz, within: {within} }} }}\n\
             flow: [{{ request: {{ method: GET, path: / }} }}]\n"
        ),
    )
    .unwrap();
    reenact(
        dir.path(),
        &[
            "run",
            &format!("{id}.yaml"),
            "--target-cmd",
            "python3 app.py --port {{ target.port }}",
        ],
    )
}

#[cfg(target_os = "linux")]
#[test]
fn a_target_on_the_wrong_port_is_reported_with_the_time_waited_and_what_it_listens_on() {
    let output = run_toy_target(WRONG_PORT_APP, "wrong-port", "1500ms");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(code(&output), exit_codes::ENVIRONMENT, "{stdout}{stderr}");
    // The real time the run took, not `(0 ms)`.
    let took: u64 = regex::Regex::new(r"ERROR  wrong-port  \((\d+) ms\)")
        .unwrap()
        .captures(&stdout)
        .unwrap_or_else(|| panic!("{stdout}"))[1]
        .parse()
        .unwrap();
    assert!(took >= 1500, "{stdout}{stderr}");
    let listened: u16 = regex::Regex::new(r"\| listening on 127\.0\.0\.1:(\d+)")
        .unwrap()
        .captures(&stderr)
        .unwrap_or_else(|| panic!("{stderr}"))[1]
        .parse()
        .unwrap();
    let told: u16 = regex::Regex::new(r"`GET http://127\.0\.0\.1:(\d+)/healthz`")
        .unwrap()
        .captures(&stderr)
        .unwrap_or_else(|| panic!("{stderr}"))[1]
        .parse()
        .unwrap();
    assert!(
        stderr.contains("with 2xx within 1500ms (gave up after 1."),
        "{stderr}"
    );
    assert!(
        listened != told && stderr.contains(&format!("; it listens on 127.0.0.1:{listened}\n")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "= help: it was told to listen on port {told}: is its port set from `{{{{ target.port }}}}`"
        )),
        "{stderr}"
    );
}

/// The same target on the right port but never answering 2xx: no port hint, what it listens on
/// is the port it was told.
#[cfg(target_os = "linux")]
#[test]
fn a_target_on_the_right_port_that_never_answers_2xx_gets_no_port_hint() {
    let output = run_toy_target(RIGHT_PORT_APP, "not-ready", "3s");
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), exit_codes::ENVIRONMENT, "{stderr}");
    assert!(
        stderr.contains("answered 404 Not Found; it listens on 127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("is its port set"), "{stderr}");
}
