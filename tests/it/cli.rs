//! CLI tests: drive the real `reenact` binary against the real demo target and check what a user
//! sees: exit codes (by name), verdict tables, JSON reports, snapshots, errors and `--help`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{demo, demo_cmd, repo};
use reenact::exit_codes;

pub(crate) fn reenact(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("reenact runs")
}

/// `reenact ARGS` in the repository with `DOCKER_HOST` pointing at no engine.
fn reenact_without_engine(args: &[&str]) -> Output {
    reenact_in_without_engine(repo(), args)
}

/// `reenact ARGS` in `dir` with `DOCKER_HOST` pointing at no engine.
fn reenact_in_without_engine(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env("DOCKER_HOST", "unix:///nonexistent/reenact-test.sock")
        .output()
        .expect("reenact runs")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Replace what changes from run to run: durations, ports, temp and build paths.
pub(crate) fn filtered(output: &str) -> String {
    let rules = [
        (r"\(\d+(\.\d+)?s\)", "([duration])"),
        (r"\(\d+ ms\)", "([duration])"),
        (r"after \d+ attempt", "after [n] attempt"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"/tmp/[A-Za-z0-9._/-]+", "[temp]"),
    ];
    let mut out = output.replace(&demo().display().to_string(), "[demo]");
    for (pattern, replacement) in rules {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, replacement)
            .into_owned();
    }
    out
}

pub(crate) fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

#[test]
fn validate_demo_incidents_are_fixed() {
    let before = demo_cmd("1.4.2");
    let after = demo_cmd("1.4.3");
    let output = reenact(
        repo(),
        &[
            "validate",
            "scenarios/",
            "--before-cmd",
            &before,
            "--after-cmd",
            &after,
            "-j",
            "6",
        ],
    );
    let stdout = text(&output.stdout);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{stdout}\n{}",
        text(&output.stderr)
    );
    insta::assert_snapshot!(filtered(&stdout));
}

#[test]
fn validate_says_not_reproduced_when_the_bug_does_not_show() {
    let before = demo_cmd("1.4.2");
    let after = demo_cmd("1.4.3");
    let output = reenact(
        repo(),
        &[
            "validate",
            "tests/scenarios/not-reproduced",
            "--before-cmd",
            &before,
            "--after-cmd",
            &after,
            "--format",
            "json",
            "--runs",
            "2",
        ],
    );
    assert_eq!(
        code(&output),
        exit_codes::FAILED,
        "{}",
        text(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["command"], "validate");
    assert_eq!(report["runs"], 2);
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0]["verdict"], "not-reproduced");
    assert_eq!(
        scenarios[0]["before"]["behaviours"],
        serde_json::json!(["holds", "holds"])
    );
}

#[test]
fn validate_json_report_for_the_demo() {
    let before = demo_cmd("1.4.2");
    let after = demo_cmd("1.4.3");
    let output = reenact(
        repo(),
        &[
            "validate",
            "scenarios/vendor-sync-stops-at-first-page.yaml",
            "--before-cmd",
            &before,
            "--after-cmd",
            &after,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let item = &report["scenarios"][0];
    assert_eq!(item["id"], "vendor-sync-stops-at-first-page");
    assert_eq!(item["verdict"], "fixed");
    assert_eq!(
        item["diff"]["calls"]["xero"],
        serde_json::json!(["GET /api.xro/2.0/Contacts: 1 → 2"])
    );
}

#[test]
fn run_passes_against_the_fixed_release_with_committed_snapshots() {
    let after = demo_cmd("1.4.3");
    let output = reenact(repo(), &["run", "scenarios/", "--target-cmd", &after]);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// A throwaway project holding one demo scenario and a reenact.toml naming both releases.
fn temp_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("payloads")).unwrap();
    std::fs::copy(
        repo().join("scenarios/vendor-sync-stops-at-first-page.yaml"),
        scenarios.join("vendor-sync-stops-at-first-page.yaml"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("scenarios/payloads/xero-120-suppliers.json"),
        scenarios.join("payloads/xero-120-suppliers.json"),
    )
    .unwrap();
    let toml = format!(
        "[targets.old]\ncommand = [{demo:?}, \"--release\", \"1.4.2\", \"--port\", \"{{{{ target.port }}}}\"]\n\
         [targets.new]\ncommand = [{demo:?}, \"--release\", \"1.4.3\", \"--port\", \"{{{{ target.port }}}}\"]\n\
         [run]\ntarget = \"new\"\n",
        demo = demo().display().to_string()
    );
    std::fs::write(dir.path().join("reenact.toml"), toml).unwrap();
    dir
}

#[test]
fn run_snapshot_lifecycle_new_accept_match_differ_review() {
    let project = temp_project();
    let dir = project.path();
    let snap = dir.join("snapshots/vendor-sync-stops-at-first-page.snap");
    let pending = dir.join("snapshots/vendor-sync-stops-at-first-page.snap.new");

    let first = reenact(dir, &["run"]);
    assert_eq!(
        code(&first),
        exit_codes::FAILED,
        "a new snapshot fails the run"
    );
    assert!(
        text(&first.stdout).contains("snapshot: new"),
        "{}",
        text(&first.stdout)
    );
    assert!(pending.exists() && !snap.exists());

    let rejected = reenact(dir, &["review", "--reject-all"]);
    assert_eq!(code(&rejected), exit_codes::SUCCESS);
    assert!(!pending.exists());

    let accepted = reenact(dir, &["run", "--accept"]);
    assert_eq!(
        code(&accepted),
        exit_codes::SUCCESS,
        "{}",
        text(&accepted.stdout)
    );
    assert!(snap.exists() && !pending.exists());
    // insta reads what reenact wrote
    let stored = insta::Snapshot::from_file(&snap).unwrap();
    let content = stored.contents().as_text().unwrap().to_string();
    assert!(
        content.contains("\"path\": \"/api.xro/2.0/Contacts\"")
            && content.contains("\"page\": \"2\""),
        "{content}"
    );

    let again = reenact(dir, &["run"]);
    assert_eq!(code(&again), exit_codes::SUCCESS, "{}", text(&again.stdout));

    let old = reenact(dir, &["run", "--target", "old"]);
    assert_eq!(code(&old), exit_codes::FAILED);
    let stdout = text(&old.stdout);
    assert!(stdout.contains("snapshot: differs"), "{stdout}");
    assert!(stdout.contains("expectation `"), "{stdout}");
    assert!(pending.exists());

    let interactive = reenact(dir, &["review"]);
    assert_eq!(
        code(&interactive),
        exit_codes::INVALID_INPUT,
        "no TTY: flags needed"
    );
    assert!(text(&interactive.stderr).contains("--accept-all"));

    let review = reenact(dir, &["review", "--accept-all"]);
    assert_eq!(code(&review), exit_codes::SUCCESS);
    assert!(!pending.exists());
    let after_review = reenact(dir, &["run", "--target", "old"]);
    assert_eq!(
        code(&after_review),
        exit_codes::FAILED,
        "the snapshot matches now, but the expectations still fail on the old release"
    );
}

#[test]
fn run_json_report() {
    let project = temp_project();
    let output = reenact(project.path(), &["run", "--accept", "--format", "json"]);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["command"], "run");
    assert_eq!(report["target"], "new");
    assert_eq!(report["scenarios"][0]["outcome"], "passed");
    assert_eq!(report["scenarios"][0]["snapshot"], "accepted");
}

#[test]
fn unknown_target_name_is_invalid_usage_with_a_suggestion() {
    let project = temp_project();
    let output = reenact(project.path(), &["run", "--target", "nwe"]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!(filtered(&text(&output.stderr)));
}

#[test]
fn a_target_that_dies_is_an_environment_failure_with_its_last_lines() {
    let project = temp_project();
    let output = reenact(
        project.path(),
        &[
            "run",
            "--target-cmd",
            "sh -c 'echo starting; echo config missing: DATABASE_URL >&2; exit 7'",
        ],
    );
    assert_eq!(code(&output), exit_codes::ENVIRONMENT);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("exited with exit status: 7"), "{stderr}");
    assert!(stderr.contains("config missing: DATABASE_URL"), "{stderr}");
}

/// A target program that does not exist: the scenario could not run (an environment failure),
/// and its error shows every cause on a line of its own.
#[test]
fn a_missing_target_program_is_an_environment_failure_with_its_causes() {
    let project = temp_project();
    let output = reenact(
        project.path(),
        &[
            "run",
            "--target-cmd",
            "bin/no-such-app --port {{ target.port }}",
        ],
    );
    assert_eq!(code(&output), exit_codes::ENVIRONMENT);
    insta::assert_snapshot!(filtered(&text(&output.stderr)));
}

/// An inline command that does not split into words is invalid usage, with each cause.
#[test]
fn an_inline_command_that_does_not_split_is_invalid_usage() {
    let project = temp_project();
    let output = reenact(
        project.path(),
        &[
            "run",
            "--target-cmd",
            "bin/app --port {{ target.port | shout }}",
        ],
    );
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!(text(&output.stderr));
}

/// A `reenact.toml` that is not UTF-8 stops every command before it starts: invalid input,
/// with the cause and where to read about the file.
#[test]
fn an_unreadable_project_file_is_invalid_input_with_its_cause() {
    let project = temp_project();
    std::fs::write(project.path().join("reenact.toml"), b"[targets.\xff]\n").unwrap();
    let output = reenact(project.path(), &["run"]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr).replace(&project.path().display().to_string(), "[project]");
    insta::assert_snapshot!(stderr);
}

#[test]
fn check_accepts_the_demo_scenarios() {
    let output = reenact(repo(), &["check", "scenarios/", "tests/scenarios/"]);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("0 invalid"));
}

#[test]
fn check_reports_invalid_files_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(
        &file,
        "id: broken\ntitle: Broken\nmocks:\n  erp:\n    stubs:\n      - request: { method: GET, path: /x }\n        respnse: { status: 504 }\nflow:\n  - request: { method: GET, path: /y }\n",
    )
    .unwrap();
    let output = reenact(dir.path(), &["check", "broken.yaml"]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!(text(&output.stderr));
}

/// A project with a mock definition in `mocks/`, a scenario that includes it, one with an error
/// in the definition it includes, and a broken definition.
fn project_with_mock_definitions() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::create_dir_all(root.join("mocks/payloads")).unwrap();
    std::fs::write(root.join("reenact.toml"), "").unwrap();
    std::fs::write(
        root.join("mocks/acme-xero.yaml"),
        "provider: xero\nwith:\n  tenants: [{ id: 3b0f6e1c-2d4a-4f8e-9c71-5a6b7c8d9e01, name: Acme Ltd }]\nstubs:\n  - request: { method: GET, path: /approvals }\n    response: { status: 200, body_file: payloads/approvals.json }\n",
    )
    .unwrap();
    std::fs::write(root.join("mocks/payloads/approvals.json"), "[]").unwrap();
    std::fs::write(
        root.join("mocks/typo.yaml"),
        "provider: xero\nwith:\n  tenants: [{ id: 3b0f6e1c-2d4a-4f8e-9c71-5a6b7c8d9e01, name: Acme Ltd }]\n  curencies: [GBP]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("scenarios/uses-acme.yaml"),
        "id: uses-acme\ntitle: Uses Acme's Xero\nmocks:\n  xero:\n    include: mocks/acme-xero.yaml\n    with: { currencies: [GBP] }\nflow:\n  - request: { method: GET, path: / }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("scenarios/uses-typo.yaml"),
        "id: uses-typo\ntitle: Includes a definition with a typo\nmocks:\n  books:\n    include: mocks/typo.yaml\nflow:\n  - request: { method: GET, path: / }\n",
    )
    .unwrap();
    dir
}

/// Discovery passes `mocks/` by; `check` checks a definition as one, and an error in an included
/// definition points into it and to the `include:` line that brought it in.
#[test]
fn check_tells_mock_definitions_from_scenarios() {
    let dir = project_with_mock_definitions();
    let output = reenact(dir.path(), &["check", "mocks/", "scenarios/"]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!(
        "check_mock_definitions",
        format!(
            "stdout:\n{}\nstderr:\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    );

    // A walk from the project root lists the scenarios only.
    std::fs::remove_file(dir.path().join("scenarios/uses-typo.yaml")).unwrap();
    let output = reenact(dir.path(), &["list", "."]);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        text(&output.stdout),
        "ID         TICKET  SEVERITY  TAGS  PROVIDERS  FILE\nuses-acme  -       -         -     xero       scenarios/uses-acme.yaml\n\n1 scenario(s)\n"
    );

    // Named as a scenario, a definition is an error that says what it is.
    let output = reenact(dir.path(), &["list", "mocks/acme-xero.yaml"]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!("list_mock_definition", text(&output.stderr));
}

/// `check --format json` says which files are mock definitions, and in which file an error of
/// an included definition is.
#[test]
fn check_json_names_the_included_file_of_an_error() {
    let dir = project_with_mock_definitions();
    let output = reenact(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "mocks/acme-xero.yaml",
            "scenarios/uses-typo.yaml",
        ],
    );
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    assert_eq!(files[0]["kind"], "mock_definition");
    assert_eq!(files[0]["valid"], true);
    assert_eq!(files[1]["kind"], "scenario");
    assert_eq!(files[1]["valid"], false);
    let error = &files[1]["errors"][0];
    assert_eq!(error["included_file"], "mocks/typo.yaml");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(error["help"], "did you mean `currencies`?");
}

#[test]
fn invalid_scenarios_stop_run_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "id: bad\ntitle: x\nflow: 3\n").unwrap();
    let output = reenact(
        dir.path(),
        &["run", "bad.yaml", "--target-url", "http://127.0.0.1:9"],
    );
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    assert!(text(&output.stderr).contains("nothing was run"));
}

#[test]
fn schema_is_a_json_schema() {
    let output = reenact(repo(), &["schema"]);
    assert_eq!(code(&output), exit_codes::SUCCESS);
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        schema["$schema"]
            .as_str()
            .unwrap()
            .contains("json-schema.org")
    );
    assert!(schema["properties"]["flow"].is_object());
}

#[test]
fn list_shows_ids_tickets_and_titles() {
    let output = reenact(repo(), &["list"]);
    assert_eq!(code(&output), exit_codes::SUCCESS);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("vendor-sync-stops-at-first-page"),
        "{stdout}"
    );
}

#[test]
fn docker_backend_without_an_engine_is_an_environment_failure_naming_docker_host() {
    // A scenario the docker backend runs: one it cannot would be refused first (exit 2).
    let output = reenact_without_engine(&[
        "run",
        "scenarios/vendor-sync-stops-at-first-page.yaml",
        "--backend",
        "docker",
    ]);
    assert_eq!(code(&output), exit_codes::ENVIRONMENT);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("unix:///nonexistent/reenact-test.sock"),
        "{stderr}"
    );
    assert!(stderr.contains("`DOCKER_HOST`"), "{stderr}");
    assert!(stderr.contains("dockerd"), "{stderr}");
}

#[test]
fn docker_backend_refuses_webhook_steps_before_starting_anything() {
    // Needs no engine: the refusal comes before Docker is contacted, so no webhook fails
    // mid-flow. HTTPS mocks run in containers, so `tls: true` alone is no reason to refuse.
    let output = reenact_without_engine(&[
        "validate",
        "tests/fixtures/valid/webhooks_and_https.yaml",
        "scenarios/webhook-signature-checked-over-reserialized-body.yaml",
        "scenarios/vendor-sync-stops-at-first-page.yaml",
        "--backend",
        "docker",
        "--before-url",
        "http://127.0.0.1:9",
        "--after-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!(filtered(&text(&output.stderr)));
}

#[test]
fn image_of_a_missing_binary_is_invalid_usage() {
    let output = reenact(repo(), &["image", "target/no-such-binary"]);
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no file at `target/no-such-binary`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn image_without_an_engine_is_an_environment_failure_naming_docker_host() {
    let output = reenact_without_engine(&["image", "Cargo.toml"]);
    assert_eq!(code(&output), exit_codes::ENVIRONMENT);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`DOCKER_HOST`"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_container_target_picks_docker_and_refuses_inprocess() {
    // The scenario's own `target.image` (in a folder without reenact.toml, whose default target
    // would win), and an inline image.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/valid/container_target.yaml"),
        dir.path().join("container.yaml"),
    )
    .unwrap();
    let cases: [(&Path, &[&str]); 2] = [
        (dir.path(), &["run", "container.yaml"]),
        (
            repo(),
            &[
                "run",
                "scenarios/vendor-sync-stops-at-first-page.yaml",
                "--target-image",
                "reenact-target-ledger-sync:0a1b",
            ],
        ),
    ];
    for (cwd, args) in cases {
        // With no `--backend`, a container target takes the docker backend (its mocks must
        // share its network): with no engine, that is an environment failure naming it.
        let output = reenact_in_without_engine(cwd, args);
        assert_eq!(code(&output), exit_codes::ENVIRONMENT, "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("`DOCKER_HOST`"), "{stderr}");
        // Asked for in-process, it is refused before anything starts (no build, no engine).
        let inprocess: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--backend", "inprocess"])
            .collect();
        let output = reenact_in_without_engine(cwd, &inprocess);
        assert_eq!(code(&output), exit_codes::INVALID_INPUT, "{inprocess:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("cannot run on the `inprocess` backend")
                && stderr.contains("runs as a container, which needs the `docker` backend")
                && stderr.contains("help: run with `--backend docker`"),
            "{stderr}"
        );
    }
}

#[test]
fn a_scenario_names_its_backend_and_the_command_line_wins() {
    // In a folder without reenact.toml; the target is a URL where nothing listens.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("on-docker.yaml"),
        "id: on-docker\ntitle: Asks for docker\nmocks:\n  erp: {}\ntarget:\n  backend: docker\nflow:\n  - request: { method: GET, path: / }\n",
    )
    .unwrap();
    let url = ["--target-url", "http://127.0.0.1:9"];
    // The scenario's `target.backend` sends it to Docker: with no engine, exit 3 naming it.
    let args: Vec<&str> = ["run", "on-docker.yaml"].into_iter().chain(url).collect();
    let output = reenact_in_without_engine(dir.path(), &args);
    assert_eq!(code(&output), exit_codes::ENVIRONMENT);
    assert!(text(&output.stderr).contains("`DOCKER_HOST`"));
    // `--backend inprocess` wins: the run happens in-process and fails on its own terms (the
    // request finds nothing listening), never reaching for an engine.
    let args: Vec<&str> = args.into_iter().chain(["--backend", "inprocess"]).collect();
    let output = reenact_in_without_engine(dir.path(), &args);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), exit_codes::FAILED, "{stderr}");
    assert!(!stderr.contains("DOCKER_HOST"), "{stderr}");
}

#[test]
fn help_texts() {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["validate", "--help"],
        &["check", "--help"],
        &["review", "--help"],
        &["new", "--help"],
        &["schema", "--help"],
        &["list", "--help"],
        &["mock", "serve", "--help"],
        &["clean", "--help"],
        &["image", "--help"],
        &["report", "merge", "--help"],
        &["report", "html", "--help"],
        &["import", "har", "--help"],
        &["import", "wiremock", "--help"],
        &["record", "--help"],
    ] {
        let output = reenact(repo(), args);
        assert_eq!(code(&output), exit_codes::SUCCESS);
        // `report` and `import` have subcommands: one snapshot each.
        let name = match args {
            [group @ ("report" | "import"), sub, ..] if *sub != "--help" => {
                format!("help_{group}_{sub}")
            }
            _ => format!("help_{}", args[0].trim_start_matches('-')),
        };
        insta::assert_snapshot!(name, text(&output.stdout));
    }
}

/// The regression the issue asks for: a run killed with SIGINT leaves no target process behind.
#[test]
fn sigint_mid_run_leaves_no_target_process() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("target.pid");
    // The target records its pid, then becomes the demo service; the flow polls for a state
    // that never comes, so the run is mid-scenario when it is interrupted.
    std::fs::write(
        dir.path().join("slow.yaml"),
        "id: slow\ntitle: Slow\ntarget:\n  ready: { http: GET /healthz, within: 10s }\nflow:\n  - name: wait forever\n    poll:\n      request: { method: GET, path: /healthz }\n      until: { status: 299 }\n      every: 100ms\n      within: 60s\n",
    )
    .unwrap();
    let script = format!(
        "echo $$ > {pid}; exec {demo} --release 1.4.3 --port {{{{ target.port }}}}",
        pid = pid_file.display(),
        demo = demo().display()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(["run", "slow.yaml", "--target-cmd"])
        .arg(format!("sh -c {}", shell_quote(&script)))
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let target_pid: i32 = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file)
            && let Ok(pid) = text.trim().parse()
        {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the target never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(alive(target_pid), "the target runs while reenact runs");
    // Give the run time to reach the poll, then interrupt it.
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("interrupted"), "{stderr}");
    let gone_by = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(target_pid) && std::time::Instant::now() < gone_by {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !alive(target_pid),
        "target process {target_pid} outlived reenact"
    );
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Whether a process exists and is not a zombie.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Every invalid format fixture, fed to the real binary: exit 2, a located error, no panic.
#[test]
fn check_exits_2_on_every_invalid_fixture() {
    let dir = repo().join("tests/fixtures/invalid");
    let mut checked = 0;
    let mut failed = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let output = reenact(repo(), &["check", path.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        if code(&output) != exit_codes::INVALID_INPUT
            || !stderr.contains("error: ")
            || stderr.contains("panicked")
        {
            failed.push(format!(
                "{} (exit {}): {stderr}",
                path.display(),
                code(&output)
            ));
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} invalid fixtures");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// A target given as the URL of a service already running.
#[test]
fn run_against_a_url_target() {
    let port = crate::support::free_port();
    let mut service = Command::new(demo())
        .args(["--release", "1.4.3", "--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let project = temp_project();
    // The URL target gets no env from reenact, so the scenario's mock URL cannot reach it: use a
    // scenario that needs no mock.
    std::fs::write(
        project.path().join("scenarios/vendor-sync-stops-at-first-page.yaml"),
        "id: health\ntitle: Health answers\ntarget:\n  ready: { http: GET /healthz, within: 5s }\nflow:\n  - name: health\n    request: { method: GET, path: /healthz }\n    expect: { status: 200, json: { status: ok, release: 1.4.3 } }\n",
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let output = reenact(project.path(), &["run", "--accept", "--target-url", &url]);
    let _ = service.kill();
    let _ = service.wait();
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let snap = std::fs::read_to_string(project.path().join("snapshots/health.snap")).unwrap();
    assert!(snap.contains("\"release\": \"1.4.3\""), "{snap}");
}

/// `reenact review` on a terminal: it shows each pending snapshot and asks. A pseudo-terminal
/// from util-linux `script` stands in for the user's.
#[test]
fn review_asks_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed for this test (Debian: bsdutils)");
    }
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    let write = |name: &str, body: &str| {
        std::fs::write(
            snapshots.join(name),
            format!("---\nsource: \"scenarios/{name}.yaml\"\n---\n{body}\n"),
        )
        .unwrap();
    };
    write("kept.snap", "{\n  \"a\": 1\n}");
    write("kept.snap.new", "{\n  \"a\": 2\n}");
    write("dropped.snap.new", "{\n  \"b\": 1\n}");
    let command = format!("{} review --color never", env!("CARGO_BIN_EXE_reenact"));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Pending files are reviewed in name order: dropped.snap.new, then kept.snap.new.
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"r\na\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("(new snapshot)"), "{stdout}");
    assert!(stdout.contains("+  \"a\": 2"), "{stdout}");
    assert!(
        stdout.contains("1 accepted, 1 rejected, 0 skipped"),
        "{stdout}"
    );
    assert!(!snapshots.join("dropped.snap.new").exists());
    assert!(!snapshots.join("dropped.snap").exists());
    assert!(!snapshots.join("kept.snap.new").exists());
    let kept = std::fs::read_to_string(snapshots.join("kept.snap")).unwrap();
    assert!(kept.contains("\"a\": 2"), "{kept}");
}

/// A minimal HTTP/1.1 GET over loopback: `(status, body)`.
fn http_get(url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').map_or((rest, "/"), |(h, p)| (h, p));
    let path = if path == "/" {
        "/".to_owned()
    } else {
        format!("/{path}")
    };
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `mock serve` prints each mock's URLs and `ready`, serves stubs and the control API, and stops
/// gracefully with exit 0 on SIGINT.
#[test]
fn mock_serve_prints_urls_serves_and_stops_on_sigint() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args(["mock", "serve", "benches/hello.yaml"])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut mocks = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        mocks.push(line);
    }
    assert_eq!(mocks.len(), 1, "{mocks:?}");
    let fields: Vec<&str> = mocks[0].split_whitespace().collect();
    assert!(
        matches!(fields[..], ["hello", _, "admin", _]),
        "{}",
        mocks[0]
    );
    let (url, admin) = (fields[1], fields[3]);
    assert_eq!(
        filtered(&mocks[0]),
        "hello  http://127.0.0.1:[port]  admin http://127.0.0.1:[port]"
    );

    let (status, body) = http_get(&format!("{url}/hello"));
    assert_eq!((status, body.as_str()), (200, r#"{"ok":true}"#));
    let (status, body) = http_get(&format!("{admin}/__reenact/journal"));
    assert_eq!(status, 200, "{body}");
    let journal: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(journal["entries"].as_array().unwrap().len(), 1, "{journal}");
    assert_eq!(journal["entries"][0]["path"], "/hello");
    assert_eq!(journal["entries"][0]["status"], 200);

    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(exit_codes::SUCCESS), "{stderr}");
    assert!(stderr.contains("stopping the mocks"), "{stderr}");
    assert!(lines.next().is_none(), "nothing after `ready`");
}

#[test]
fn mock_serve_refuses_an_unknown_mock_and_ports_for_several_mocks() {
    let unknown = reenact(
        repo(),
        &["mock", "serve", "benches/hello.yaml", "--mock", "helo"],
    );
    assert_eq!(code(&unknown), exit_codes::INVALID_INPUT);
    let stderr = text(&unknown.stderr);
    assert!(stderr.contains("no mock `helo`"), "{stderr}");
    assert!(stderr.contains("did you mean `hello`?"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("two.yaml"),
        "id: two\ntitle: Two mocks\nmocks:\n  a: { stubs: [] }\n  b: { stubs: [] }\nflow:\n  - request: { method: GET, path: / }\n",
    )
    .unwrap();
    let ports = reenact(dir.path(), &["mock", "serve", "two.yaml", "--port", "8080"]);
    assert_eq!(code(&ports), exit_codes::INVALID_INPUT);
    assert!(
        text(&ports.stderr).contains("need a single mock"),
        "{}",
        text(&ports.stderr)
    );
}

/// `reenact clean` without a Docker engine (issue 11): it still removes what a dead run
/// recorded (its run folder here), keeps a live run's, says that Docker was not looked at, and
/// with `--all` warns that live runs lose their things too, then removes them.
#[test]
fn clean_without_an_engine_removes_a_dead_runs_folder_and_keeps_a_live_runs() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // The run records live in `$XDG_RUNTIME_DIR/reenact`, private to the user.
    let runtime_dir = tmp.path().join("runtime");
    let records = runtime_dir.join("reenact");
    std::fs::create_dir_all(&records).unwrap();
    std::fs::set_permissions(&records, std::fs::Permissions::from_mode(0o700)).unwrap();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let start_of = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .nth(19)
            .unwrap()
            .parse()
            .unwrap()
    };
    // A dead owner: a pid no process has any more. A live one: this test.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let me = std::process::id();
    for (name, owner, start) in [("dead", dead, 1), ("live", me, start_of(me))] {
        let folder = tmp.path().join(format!("reenact-run-{name}"));
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("ca.pem"), "PEM").unwrap();
        std::fs::write(
            records.join(format!("{name}.run")),
            format!(
                "reenact-run-record 1\nowner {} {owner} {start}\nfolder {}\n",
                boot.trim(),
                folder.display()
            ),
        )
        .unwrap();
    }
    let clean = |all: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reenact"));
        command
            .arg("clean")
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env("TMPDIR", tmp.path())
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("DOCKER_HOST", "unix:///nonexistent/reenact-test.sock");
        if all {
            command.arg("--all");
        }
        command.output().expect("reenact runs")
    };
    let output = clean(false);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    assert!(!tmp.path().join("reenact-run-dead").exists());
    assert!(!records.join("dead.run").exists());
    assert!(tmp.path().join("reenact-run-live").exists());
    assert!(records.join("live.run").exists());
    let all = clean(true);
    assert_eq!(code(&all), exit_codes::SUCCESS, "{}", text(&all.stderr));
    assert!(!tmp.path().join("reenact-run-live").exists());
    assert!(!records.join("live.run").exists());
    insta::assert_snapshot!(
        "clean_without_an_engine",
        filtered(&format!(
            "$ reenact clean\n{}{}\n$ reenact clean --all\n{}{}",
            text(&output.stdout),
            text(&output.stderr),
            text(&all.stdout),
            text(&all.stderr)
        ))
    );
}

/// `--target-cmd "NAME=value program …"` sets variables as a shell would (no shell runs it): the
/// program starts, and the variables reach it, after the scenario's `target.env`.
#[test]
fn an_inline_command_takes_leading_variables_as_a_shell_does() {
    let scenario = "scenarios/vendor-sync-stops-at-first-page.yaml";
    let run = |cmd: &str| {
        reenact(
            repo(),
            &["run", scenario, "--target-cmd", cmd, "--format", "json"],
        )
    };
    let harmless = run(&format!("REENACT_TEST_MARK=1 {}", demo_cmd("1.4.3")));
    assert_eq!(
        code(&harmless),
        exit_codes::SUCCESS,
        "{}",
        text(&harmless.stderr)
    );
    // The scenario points the target at its Xero mock; the command line's variable wins, so the
    // target calls a closed port instead and the scenario fails.
    let elsewhere = run(&format!(
        "ACCOUNTING_API_URL=http://127.0.0.1:9 {}",
        demo_cmd("1.4.3")
    ));
    assert_eq!(
        code(&elsewhere),
        exit_codes::FAILED,
        "{}",
        text(&elsewhere.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&elsewhere.stdout).unwrap();
    assert_eq!(report["scenarios"][0]["outcome"], "failed");
    let only_variables = run("A=1 B=2");
    assert_eq!(code(&only_variables), exit_codes::INVALID_INPUT);
    let stderr = text(&only_variables.stderr);
    assert!(
        stderr.contains("invalid `--target-cmd`: it sets variables but names no program"),
        "{stderr}"
    );
    assert!(stderr.contains("help:"), "{stderr}");
}
