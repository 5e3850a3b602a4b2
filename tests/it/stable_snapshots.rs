//! Snapshots that hold still: a target that numbers its payment runs at random, puts the id in
//! request paths and an XML body with a timestamp, and sends a run's files to the bank in
//! parallel, in an order that changes from run to run. With the captured id named, a timestamp
//! normalizer and the bank's journal unordered, its snapshot is the same on every run; `reenact
//! run` matches it, and says when the scenario changed since the snapshot was accepted.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::reenact;
use crate::support::{load_scenario, run_in_process, serve};

/// Files in one payment run.
const FILES: usize = 3;

/// A payment-run service: `POST /payment-runs` with `{"bank": URL}` makes a run with a random
/// id and sends its files to the bank at the same time, each started a little after the one
/// before it, first to last on even runs and last to first on odd ones; `GET
/// /payment-runs/ID` answers the run.
async fn payment_service() -> String {
    let runs = Arc::new(AtomicUsize::new(0));
    serve(move |path, _headers, body| {
        let runs = runs.clone();
        async move {
            if let Some(id) = path.strip_prefix("/payment-runs/") {
                return (200, json!({ "id": id, "files": FILES }).to_string());
            }
            let request: Value = serde_json::from_slice(&body).unwrap_or_default();
            let bank = request["bank"].as_str().unwrap_or_default().to_string();
            let nth = runs.fetch_add(1, Ordering::SeqCst);
            let id = format!("run-{:016x}", random());
            let created = now_rfc3339();
            let client = reqwest::Client::new();
            let sends = (1..=FILES).map(|file| {
                let place = if nth.is_multiple_of(2) { file } else { FILES + 1 - file };
                let (client, bank, id, created) =
                    (client.clone(), bank.clone(), id.clone(), created.clone());
                async move {
                    tokio::time::sleep(Duration::from_millis(40 * place as u64)).await;
                    client
                        .post(format!("{bank}/runs/{id}/files/{file}"))
                        .header("content-type", "application/xml")
                        .header("x-request-id", format!("{:016x}", random()))
                        .body(format!(
                            "<File><RunId>{id}</RunId><Number>{file}</Number><Created>{created}</Created></File>"
                        ))
                        .send()
                        .await
                        .map(|answer| answer.status().as_u16())
                }
            });
            let sent = futures_util::future::join_all(sends).await;
            if sent.iter().any(|status| !matches!(status, Ok(201))) {
                return (502, json!({ "error": format!("{sent:?}") }).to_string());
            }
            (201, json!({ "id": id, "created": created }).to_string())
        }
    })
    .await
}

/// 64 random bits (a fresh `RandomState` is seeded at random).
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(1);
    hasher.finish()
}

/// The wall-clock time as `2026-12-04T03:30:00.123456Z`.
fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let days = now.as_secs() / 86_400;
    let seconds = now.as_secs() % 86_400;
    // Civil from days (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        now.subsec_micros()
    )
}

/// The scenario against the service at `url`, with `snapshot` as its snapshot block.
fn scenario_yaml(url: &str, snapshot: &str) -> String {
    format!(
        r#"id: payment-run-files
title: A payment run's files reach the bank
mocks:
  bank:
    stubs:
      - name: a payment file
        request: {{ method: POST, path: "/runs/{{run}}/files/{{file}}" }}
        response: {{ status: 201 }}
target:
  url: "{url}"
flow:
  - name: start a payment run
    request:
      method: POST
      path: /payment-runs
      json: {{ bank: "{{{{ mocks.bank.url }}}}" }}
    expect: {{ status: 201 }}
    capture: {{ run_id: $.id }}
  - name: read it back
    request: {{ method: GET, path: "/payment-runs/{{{{ run_id }}}}" }}
    expect: {{ status: 200 }}
{snapshot}"#
    )
}

const STABLE: &str = r#"snapshot:
  normalize:
    - { regex: '\d{4}-\d\d-\d\dT[0-9:.]+Z', as: "[timestamp]" }
    - { regex: '^[0-9a-f]{16}$', as: "[request id]" }
  unordered: [bank]
"#;

/// Run `yaml` `times` times in process: each run's snapshot text and its bank journal's paths.
async fn snapshots(yaml: &str, times: usize) -> Vec<(String, Vec<String>)> {
    let scenario = load_scenario("payment-run-files.yaml", yaml);
    let mut out = Vec::new();
    for _ in 0..times {
        let run = run_in_process(&scenario, Path::new(".")).await;
        assert_eq!(run.failed_step(), None, "{:#?}", run.observation.steps);
        let paths = run.observation.mocks["bank"]
            .entries
            .iter()
            .map(|entry| entry.path.clone())
            .collect();
        let document =
            reenact::snapshot::normalize(&run.observation, &run.expectations, &scenario.snapshot);
        out.push((serde_json::to_string_pretty(&document).unwrap(), paths));
    }
    out
}

#[tokio::test]
async fn a_random_id_parallel_calls_and_timestamps_hold_still_in_the_snapshot() {
    let url = payment_service().await;
    let runs = snapshots(&scenario_yaml(&url, STABLE), 4).await;
    // The target really did vary: other ids, other orders.
    assert_ne!(runs[0].1, runs[1].1, "the ids differ between runs");
    // File 1 is sent 80 ms before file 3 on even runs, 80 ms after it on odd ones.
    let first_before_last = |paths: &[String]| {
        let at = |file: &str| paths.iter().position(|p| p.ends_with(file)).unwrap();
        at("/files/1") < at(&format!("/files/{FILES}"))
    };
    assert!(first_before_last(&runs[0].1), "{:?}", runs[0].1);
    assert!(!first_before_last(&runs[1].1), "{:?}", runs[1].1);
    for (text, _) in &runs[1..] {
        assert_eq!(text, &runs[0].0, "the snapshot moved between runs");
    }
    let text = &runs[0].0;
    for expected in [
        "\"path\": \"/runs/{{ run_id }}/files/1\"",
        "<File><RunId>{{ run_id }}</RunId><Number>2</Number><Created>[timestamp]</Created></File>",
        "\"path\": \"/payment-runs/{{ run_id }}\"",
        "\"x-request-id\": \"[request id]\"",
        "\"run_id\": \"{{ run_id }}\"",
    ] {
        assert!(text.contains(expected), "`{expected}` not in:\n{text}");
    }
    assert!(!text.contains("run-"), "{text}");
}

/// Without the rules the same target's snapshot moves: the test above would see it.
#[tokio::test]
async fn without_the_rules_the_snapshot_moves() {
    let url = payment_service().await;
    let scenario = load_scenario("payment-run-files.yaml", &scenario_yaml(&url, ""));
    assert!(scenario.snapshot.normalize.is_empty());
    let runs = snapshots(&scenario_yaml(&url, ""), 2).await;
    // Captured values are always named; the order and the timestamps still move.
    assert!(
        runs[0].0.contains("/runs/{{ run_id }}/files/"),
        "{}",
        runs[0].0
    );
    assert_ne!(runs[0].0, runs[1].0);
}

/// An empty project (`reenact.toml`, no target) and its `scenarios/` folder.
fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let project = tempfile::tempdir().unwrap();
    let scenarios = project.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(project.path().join("reenact.toml"), "").unwrap();
    (project, scenarios)
}

/// `reenact run` against the service: accepted once, the snapshot matches on the next runs
/// (ids, order and times differ), its file records provenance, and an edit of the scenario is
/// reported (human line and JSON field) while the snapshot still matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reenact_run_matches_its_snapshot_and_says_when_the_scenario_changed() {
    let url = payment_service().await;
    let (project, scenarios) = project();
    let file = scenarios.join("payment-run-files.yaml");
    std::fs::write(&file, scenario_yaml(&url, STABLE)).unwrap();
    let dir = project.path().to_path_buf();
    let run = move |args: &'static [&'static str]| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || reenact(&dir, args))
    };
    let shown = |output: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    let accepted = run(&["run", "--accept"]).await.unwrap();
    assert!(accepted.status.success(), "{}", shown(&accepted));
    let snap =
        std::fs::read_to_string(project.path().join("snapshots/payment-run-files.snap")).unwrap();
    let hash = reenact::scenario::load(&file).unwrap().source.hash;
    assert!(
        snap.contains(&format!(
            "info:\n  scenario_sha256: \"{hash}\"\n  target: \"scenario target\"\n  reenact: \"{}\"\n---\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{snap}"
    );
    for _ in 0..2 {
        let again = run(&["run"]).await.unwrap();
        let text = shown(&again);
        assert!(again.status.success(), "{text}");
        assert!(text.contains("PASS"), "{text}");
        assert!(!text.contains("scenario changed"), "{text}");
    }
    // An edit that changes nothing the run does: still a match, with a note.
    std::fs::write(
        &file,
        format!("{}# reviewed\n", scenario_yaml(&url, STABLE)),
    )
    .unwrap();
    let edited = run(&["run"]).await.unwrap();
    let text = shown(&edited);
    assert!(edited.status.success(), "{text}");
    assert!(
        text.contains("note: the scenario changed since `snapshots/payment-run-files.snap` was accepted (`--accept` records the new one)"),
        "{text}"
    );
    let json = run(&["run", "--format", "json"]).await.unwrap();
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["scenarios"][0]["snapshot"], json!("matches"));
    assert_eq!(
        report["scenarios"][0]["snapshot_scenario_changed"],
        json!(true)
    );
    // `--accept` records the new provenance; the note goes.
    let accepted = run(&["run", "--accept", "--format", "json"]).await.unwrap();
    let report: Value = serde_json::from_slice(&accepted.stdout).unwrap();
    assert_eq!(
        report["scenarios"][0]["snapshot_scenario_changed"],
        json!(false)
    );
    let json = run(&["run", "--format", "json"]).await.unwrap();
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        report["scenarios"][0]["snapshot_scenario_changed"],
        json!(false)
    );
    assert_eq!(report["scenarios"][0]["outcome"], json!("passed"));
}

/// `snapshot: { enabled: false }`: no snapshot file, the report says `off`, and expectations
/// are still judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_without_snapshot_is_still_judged() {
    let url = payment_service().await;
    let (project, scenarios) = project();
    let yaml = scenario_yaml(&url, "snapshot: { enabled: false }\n");
    std::fs::write(scenarios.join("off.yaml"), &yaml).unwrap();
    // The second step expects what the service never answers.
    let failing = yaml
        .replace("id: payment-run-files", "id: off-failing")
        .replace("expect: { status: 200 }", "expect: { status: 204 }");
    std::fs::write(scenarios.join("off-failing.yaml"), failing).unwrap();
    let dir = project.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || reenact(&dir, &["run", "--format", "json"]))
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let by_id = |id: &str| {
        report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("payment-run-files")["snapshot"], json!("off"));
    assert_eq!(by_id("payment-run-files")["outcome"], json!("passed"));
    assert_eq!(by_id("off-failing")["snapshot"], json!("off"));
    assert_eq!(by_id("off-failing")["outcome"], json!("failed"));
    assert!(!project.path().join("snapshots").exists());
}
