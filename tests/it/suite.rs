//! Suites: selection (`--tag`, `--severity`, `--provider`, `--ticket`, `--filter`), `reenact
//! list`, sharding (`--partition`), `--fail-fast` and `-j N` isolation, driven through the real
//! binary (and, for isolation, the runner's API).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reenact::exit_codes;
use reenact::run::{self, Control, Job, JobEvent, TargetChoice};
use reenact::scenario::{self, Scenario};
use reenact::verdict::Behaviour;

use crate::cli::{code, filtered, reenact, text};
use crate::support::{demo, demo_cmd, repo};

/// `reenact list ARGS --format json` in the repository: the ids listed, and the document.
fn listed(args: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut all = vec!["list", "--format", "json"];
    all.extend_from_slice(args);
    let output = reenact(repo(), &all);
    let status = code(&output);
    if status != exit_codes::SUCCESS {
        return (status, Vec::new(), serde_json::Value::Null);
    }
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("list --format json prints JSON");
    let ids = document["scenarios"]
        .as_array()
        .expect("a scenarios array")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect();
    (status, ids, document)
}

#[test]
fn list_shows_the_selection_and_how_many_it_left_out() {
    let output = reenact(
        repo(),
        &["list", "--tag", "xero", "--severity", "sev1..sev2"],
    );
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    insta::assert_snapshot!(text(&output.stdout));
}

#[test]
fn flags_of_one_kind_are_alternatives_and_kinds_combine_with_and() {
    let (_, xero, _) = listed(&["--tag", "xero"]);
    let (_, bank, _) = listed(&["--tag", "bank"]);
    let (_, either, _) = listed(&["--tag", "xero", "--tag", "bank"]);
    assert_eq!(either.len(), xero.len() + bank.len(), "{either:?}");
    let (_, sev1, _) = listed(&["--severity", "sev1"]);
    let (_, bank_sev1, doc) = listed(&["--tag", "bank", "--severity", "sev1"]);
    let expected: Vec<&String> = bank.iter().filter(|id| sev1.contains(id)).collect();
    assert!(!expected.is_empty());
    assert_eq!(bank_sev1.iter().collect::<Vec<_>>(), expected);
    assert_eq!(
        doc["left_out"]["selection"].as_u64(),
        Some((doc["found"].as_u64().unwrap()) - bank_sev1.len() as u64)
    );
    // The filter language says the same as the flags.
    let (_, same, _) = listed(&["--filter", "tag(bank) and severity(sev1)"]);
    assert_eq!(same, bank_sev1);
    let (_, by_ticket, _) = listed(&["--ticket", "sup-49*"]);
    assert!(!by_ticket.is_empty());
    let (_, by_provider, _) = listed(&["--provider", "intacct"]);
    assert_eq!(by_provider.len(), 3, "{by_provider:?}");
}

#[test]
fn filter_errors_point_at_the_offending_token() {
    let cases = [
        "tagz(xero) and not severity(sev4)",
        "tag(xero) and (provider(bank)",
        "severity(sev1..sev9)",
        "tag(xero) || tag(bank)",
        "tag(xro) or provider(intact)",
    ];
    let mut shown = String::new();
    for filter in cases {
        let output = reenact(repo(), &["run", "--filter", filter]);
        assert_eq!(code(&output), exit_codes::INVALID_INPUT, "{filter}");
        shown.push_str(&format!(
            "$ reenact run --filter '{filter}'\n{}\n",
            text(&output.stderr)
        ));
    }
    insta::assert_snapshot!(shown);
}

#[test]
fn unknown_flag_values_list_the_known_ones() {
    let output = reenact(
        repo(),
        &[
            "validate",
            "--before",
            "x",
            "--after",
            "y",
            "--provider",
            "xer",
            "--severity",
            "high",
            "--tag",
            "ssso",
        ],
    );
    assert_eq!(code(&output), exit_codes::INVALID_INPUT);
    insta::assert_snapshot!(text(&output.stderr));
}

#[test]
fn a_selection_that_matches_nothing_exits_no_scenarios() {
    let output = reenact(repo(), &["run", "--tag", "xero", "--provider", "bank"]);
    assert_eq!(code(&output), exit_codes::NO_SCENARIOS);
    let output2 = reenact(repo(), &["list", "--ticket", "SUP-0000"]);
    assert_eq!(code(&output2), exit_codes::NO_SCENARIOS);
    insta::assert_snapshot!(format!("{}{}", text(&output.stderr), text(&output2.stderr)));
}

#[test]
fn an_invalid_partition_is_invalid_usage() {
    for (partition, says) in [
        ("slice:0/4", "shard 0 of 4 does not exist"),
        ("slice:5/4", "shard 5 of 4 does not exist"),
        ("count:1/4", "expected `slice:K/N` or `hash:K/N`"),
        ("hash:1/x", "expected two whole numbers"),
    ] {
        let output = reenact(repo(), &["list", "--partition", partition]);
        assert_eq!(code(&output), exit_codes::INVALID_INPUT, "{partition}");
        assert!(
            text(&output.stderr).contains(says),
            "{partition}: {}",
            text(&output.stderr)
        );
    }
}

/// The union of the shards is the whole selection, and no scenario is in two: for both kinds,
/// several shard counts, with a filter applied first.
#[test]
fn shards_are_disjoint_and_their_union_is_the_selection() {
    for selection in [&[][..], &["--filter", "not tag(sftp)"]] {
        let (_, whole, _) = listed(selection);
        assert!(whole.len() >= 30, "{}", whole.len());
        for total in [1, 2, 3, 4, 7] {
            for kind in ["slice", "hash"] {
                let mut seen: Vec<String> = Vec::new();
                for shard in 1..=total {
                    let partition = format!("{kind}:{shard}/{total}");
                    let mut args = selection.to_vec();
                    args.extend(["--partition", &partition]);
                    let (status, ids, doc) = listed(&args);
                    if status == exit_codes::NO_SCENARIOS {
                        continue; // an empty shard (possible with `hash:`)
                    }
                    assert_eq!(status, exit_codes::SUCCESS, "{partition}");
                    assert_eq!(
                        doc["left_out"]["partition"].as_u64(),
                        Some((whole.len() - ids.len()) as u64)
                    );
                    for id in ids {
                        assert!(
                            !seen.contains(&id),
                            "`{id}` is in two shards of {kind}:_/{total}"
                        );
                        seen.push(id);
                    }
                }
                let seen: BTreeSet<&String> = seen.iter().collect();
                let whole_set: BTreeSet<&String> = whole.iter().collect();
                assert_eq!(
                    seen, whole_set,
                    "{kind}:_/{total} do not cover the selection"
                );
            }
        }
        // `slice:` is round-robin in file order: the first shard of 2 has the 1st, 3rd, ….
        let mut args = selection.to_vec();
        args.extend(["--partition", "slice:1/2"]);
        let (_, first, _) = listed(&args);
        let expected: Vec<String> = whole.iter().step_by(2).cloned().collect();
        assert_eq!(first, expected);
    }
}

/// A project in a temp folder holding copies of the demo's scenarios, payloads and snapshots.
pub(crate) fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("scenarios"), &dir.path().join("scenarios"));
    copy_tree(&repo().join("snapshots"), &dir.path().join("snapshots"));
    if repo().join("mocks").is_dir() {
        copy_tree(&repo().join("mocks"), &dir.path().join("mocks"));
    }
    std::fs::write(dir.path().join("reenact.toml"), "").unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else if !path.to_string_lossy().ends_with(".snap.new") {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Processes whose environment holds `TMPDIR=tmp` and a reenact run marker: targets of runs
/// made with that temp folder.
fn targets_with_tmpdir(tmp: &Path) -> Vec<String> {
    let marker = format!("TMPDIR={}", tmp.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let vars: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
        let has = |needle: &[u8]| vars.iter().any(|v| v.starts_with(needle));
        if vars.contains(&marker.as_bytes()) && has(b"REENACT_RUN=") {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

/// `--fail-fast` on the release with the bugs: the first failure stops the suite, what was
/// running finishes, the rest is reported as not run, and nothing is left behind.
#[test]
fn fail_fast_stops_after_the_first_failure_and_leaves_nothing_behind() {
    let project = demo_copy();
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let before = demo_cmd("1.4.2");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_reenact"))
        .args([
            "run",
            "--tag",
            "xero",
            "-j",
            "2",
            "--fail-fast",
            "--format",
            "json",
            "--target-cmd",
            &before,
        ])
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp.path())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("reenact runs");
    assert_eq!(
        code(&output),
        exit_codes::FAILED,
        "{}",
        text(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let items = report["scenarios"].as_array().unwrap();
    let outcome = |item: &serde_json::Value| item["outcome"].as_str().unwrap().to_owned();
    let ran = items.iter().filter(|i| outcome(i) != "not-run").count();
    let not_run: Vec<&serde_json::Value> =
        items.iter().filter(|i| outcome(i) == "not-run").collect();
    assert!(items.len() >= 6, "{}", items.len());
    // With two at once, the first failure stops the suite when at most two have started.
    assert!((1..=2).contains(&ran), "{ran} ran: {items:#?}");
    assert_eq!(ran + not_run.len(), items.len());
    // The reason names the failure that stopped the suite (the first to finish).
    let failed: Vec<String> = items
        .iter()
        .filter(|i| outcome(i) == "failed")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!failed.is_empty());
    let reasons: BTreeSet<&str> = not_run
        .iter()
        .map(|i| i["error"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    let reason = reasons.into_iter().next().unwrap();
    assert!(
        failed
            .iter()
            .any(|id| reason
                == format!("not run: `--fail-fast` stopped the suite after `{id}` failed")),
        "{reason}"
    );
    for item in &not_run {
        assert_eq!(item["snapshot"], "skipped");
    }
    // Nothing left: no target process, no run folder, no run record.
    assert_eq!(targets_with_tmpdir(tmp.path()), Vec::<String>::new());
    let left: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("reenact-run-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let records: Vec<PathBuf> = std::fs::read_dir(runtime.path().join("reenact"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(records.is_empty(), "{records:?}");
}

/// Without a terminal (as in CI) `run` prints one plain line per scenario and no progress bar:
/// no carriage returns or cursor movements in either stream.
#[test]
fn off_a_terminal_run_prints_plain_lines_and_no_progress_bar() {
    let project = demo_copy();
    let before = demo_cmd("1.4.2");
    let output = reenact(
        project.path(),
        &[
            "run",
            "--ticket",
            "SUP-4821",
            "--ticket",
            "SUP-4958",
            "-j",
            "1",
            "--fail-fast",
            "--target-cmd",
            &before,
        ],
    );
    assert_eq!(code(&output), exit_codes::FAILED);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    for stream in [&stdout, &stderr] {
        assert!(
            !stream.contains('\r') && !stream.contains("\x1b["),
            "{stream:?}"
        );
    }
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("FAIL") || l.starts_with("PASS") || l.starts_with("SKIP"))
        .collect();
    insta::assert_snapshot!(filtered(&format!("{}\n---\n{}", lines.join("\n"), stderr)));
}

/// `-j 4` runs share nothing: four copies each of two stateful scenarios run four at a time,
/// each with its own mock and target ports, and each observes exactly what a run alone does (a
/// shared mock state would count the other runs' bills; a shared port would fail to bind).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_runs_have_their_own_ports_and_state() {
    let target = Arc::new(TargetChoice {
        label: "ledger-sync@1.4.3".to_owned(),
        def: Some(reenact::project::TargetDef {
            command: Some(
                [
                    &demo().display().to_string(),
                    "--release",
                    "1.4.3",
                    "--port",
                    "{{ target.port }}",
                ]
                .map(str::to_owned)
                .to_vec(),
            ),
            ..Default::default()
        }),
    });
    let scenarios: Vec<Arc<Scenario>> = [
        "scenarios/accounting-duplicate-bill-after-timeout.yaml",
        "scenarios/quickbooks-stale-synctoken-on-due-date-update.yaml",
    ]
    .iter()
    .map(|file| Arc::new(scenario::load(&repo().join(file)).expect("a demo scenario")))
    .collect();
    let jobs: Vec<Job> = (0..4)
        .flat_map(|_| scenarios.iter())
        .map(|scenario| Job {
            scenario: scenario.clone(),
            target: target.clone(),
            placement: reenact::backend::Placement::InProcess,
        })
        .collect();
    let (mut running, mut most) = (0usize, 0usize);
    let results = run::run_jobs_watched(
        jobs.clone(),
        run::http_client(),
        repo().to_path_buf(),
        4,
        |event| {
            match event {
                JobEvent::Started(_) => running += 1,
                JobEvent::Finished(..) => running -= 1,
            }
            most = most.max(running);
            Control::Continue
        },
    )
    .await;
    assert_eq!(most, 4, "four runs were under way at once");
    let mut urls = BTreeSet::new();
    let mut observed: Vec<Vec<String>> = vec![Vec::new(); scenarios.len()];
    for (index, (job, result)) in jobs.iter().zip(results).enumerate() {
        let run = result
            .expect("every job ran")
            .unwrap_or_else(|e| panic!("{}: {}", job.scenario.id, crate::support::error_chain(&e)));
        assert_eq!(
            run.behaviour,
            Behaviour::Holds,
            "{}: {:?}",
            job.scenario.id,
            run.expectations
        );
        assert!(
            urls.insert(run.observation.target_url.clone()),
            "a target port was shared"
        );
        for url in run.observation.mock_urls.values() {
            assert!(urls.insert(url.clone()), "a mock port was shared: {url}");
        }
        let normalized = reenact::snapshot::normalize(
            &run.observation,
            &run.expectations,
            &job.scenario.snapshot,
        );
        observed[index % scenarios.len()].push(serde_json::to_string_pretty(&normalized).unwrap());
    }
    for (scenario, runs) in scenarios.iter().zip(&observed) {
        assert_eq!(runs.len(), 4);
        assert!(
            runs.windows(2).all(|pair| pair[0] == pair[1]),
            "{}: parallel copies observed different things",
            scenario.id
        );
    }
}

/// `validate --fail-fast`: a verdict other than `fixed` stops the suite; the rest have verdict
/// `null` and say why.
#[test]
fn validate_fail_fast_stops_at_the_first_verdict_that_is_not_fixed() {
    let fixed = demo_cmd("1.4.3");
    let output = reenact(
        repo(),
        &[
            "validate",
            "--tag",
            "xero",
            "-j",
            "1",
            "--fail-fast",
            "--format",
            "json",
            "--before-cmd",
            &fixed,
            "--after-cmd",
            &fixed,
        ],
    );
    assert_eq!(
        code(&output),
        exit_codes::FAILED,
        "{}",
        text(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let items = report["scenarios"].as_array().unwrap();
    assert!(items.len() >= 6);
    assert_eq!(items[0]["verdict"], "not-reproduced");
    let first = items[0]["id"].as_str().unwrap();
    for item in &items[1..] {
        assert_eq!(item["verdict"], serde_json::Value::Null, "{item:#}");
        assert_eq!(
            item["error"].as_str().unwrap(),
            format!("not run: `--fail-fast` stopped the suite after `{first}` failed")
        );
    }
}
