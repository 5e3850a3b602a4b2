//! Reports through the real binary on demo scenarios: `--report KIND=PATH` and `--format
//! junit|markdown`, the JUnit counts and the Markdown rows, `reenact schema report` against real
//! outputs, and `reenact report merge` of `--partition` shards (and its errors).

use std::path::Path;
use std::process::Output;

use reenact::exit_codes;
use serde_json::Value;

use crate::cli::{code, reenact, text};
use crate::suite::demo_copy;
use crate::support::demo_cmd;

const VENDOR_SYNC: &str = "scenarios/vendor-sync-stops-at-first-page.yaml";
const DUPLICATE_BILL: &str = "scenarios/accounting-duplicate-bill-after-timeout.yaml";
const LOCK_DATE: &str = "scenarios/xero-lock-date-utc-day.yaml";

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}):\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

fn assert_code(output: &Output, expected: i32) {
    assert_eq!(
        code(output),
        expected,
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// `reenact ARGS` in `dir`, which must exit `expected` and print a JSON report.
fn report_of(dir: &Path, args: &[&str], expected: i32) -> Value {
    let output = reenact(dir, args);
    assert_code(&output, expected);
    json_of(&output)
}

/// The value of an XPath expression over an XML document.
fn xpath(xml: &str, expression: &str) -> String {
    let package = sxd_document::parser::parse(xml).expect("well-formed XML");
    let document = package.as_document();
    sxd_xpath::evaluate_xpath(&document, expression)
        .unwrap()
        .string()
}

fn schema() -> jsonschema::Validator {
    let output = reenact(crate::support::repo(), &["schema", "report"]);
    assert_code(&output, exit_codes::SUCCESS);
    jsonschema::validator_for(&json_of(&output)).expect("a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, label: &str, report: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{label}: {errors:#?}\n{report:#}");
}

/// `run --fail-fast -j 1` on the release with the bugs: one failure, the rest not run. Every
/// kind is written, the printed JSON is the written one, the JUnit counts and the Markdown rows
/// agree with it, and it keeps to the report schema.
#[test]
fn every_kind_of_report_is_written_and_agrees_with_the_json() {
    let project = demo_copy();
    let dir = project.path();
    std::fs::create_dir(dir.join("out")).unwrap();
    let before = demo_cmd("1.4.2");
    let output = reenact(
        dir,
        &[
            "run",
            VENDOR_SYNC,
            DUPLICATE_BILL,
            LOCK_DATE,
            "-j",
            "1",
            "--fail-fast",
            "--target-cmd",
            &before,
            "--format",
            "json",
            "--report",
            "json=out/report.json",
            "--report",
            "junit=out/junit.xml",
            "--report",
            "markdown=out/summary.md",
            "--report",
            "html=out/report.html",
        ],
    );
    assert_code(&output, exit_codes::FAILED);
    let printed = json_of(&output);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(printed, written);
    assert_eq!(written["reenact"], env!("CARGO_PKG_VERSION"));
    assert_valid(&schema(), "run --fail-fast", &written);
    let items = written["scenarios"].as_array().unwrap();
    let outcomes: Vec<&str> = items
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["failed", "not-run", "not-run"], "{written:#}");
    let failed = &items[0];
    assert_eq!(failed["severity"], "sev2");
    assert!(failed["tags"].as_array().unwrap().contains(&"xero".into()));
    let timeline = failed["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|e| e["kind"] == "step")
            && timeline.iter().any(|e| e["kind"] == "fault"),
        "{timeline:#?}"
    );
    // Not every fault is a failure of the flow, but a fault is a failed entry.
    assert!(
        timeline
            .iter()
            .filter(|e| e["kind"] == "fault")
            .all(|e| e["failed"] == true)
    );

    let junit = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    assert_eq!(xpath(&junit, "count(//testsuite)"), "1");
    assert_eq!(xpath(&junit, "count(//testcase)"), "3");
    assert_eq!(xpath(&junit, "//testsuite/@tests"), "3");
    assert_eq!(xpath(&junit, "//testsuite/@failures"), "1");
    assert_eq!(xpath(&junit, "//testsuite/@skipped"), "2");
    assert_eq!(xpath(&junit, "//testsuite/@errors"), "0");
    assert_eq!(xpath(&junit, "count(//testcase/failure)"), "1");
    assert_eq!(xpath(&junit, "count(//testcase/skipped)"), "2");
    let id = failed["id"].as_str().unwrap();
    assert_eq!(
        xpath(&junit, &format!("//testcase[@name='{id}']/@classname")),
        failed["ticket"].as_str().unwrap()
    );
    assert!(!xpath(&junit, &format!("//testcase[@name='{id}']/system-out")).is_empty());

    let markdown = std::fs::read_to_string(dir.join("out/summary.md")).unwrap();
    assert!(
        markdown.contains("**: 3 scenario(s): 0 passed, 1 failed, 2 not-run\n"),
        "{markdown}"
    );
    for item in items {
        let row = format!(
            "| {} | `{}` | {} | {} |",
            item["outcome"].as_str().unwrap(),
            item["id"].as_str().unwrap(),
            item["ticket"].as_str().unwrap(),
            item["severity"].as_str().unwrap()
        );
        assert!(markdown.contains(&row), "`{row}` not in:\n{markdown}");
    }
    assert!(markdown.contains(&format!(
        "<details><summary><code>{id}</code>: failed</summary>"
    )));

    let page = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for item in items {
        let id = item["id"].as_str().unwrap();
        assert!(page.contains(id), "`{id}` not in the page");
    }

    // The same report on stdout, by `--format`.
    for (format, starts) in [("junit", "<?xml"), ("markdown", "**reenact run")] {
        let output = reenact(
            dir,
            &[
                "run",
                VENDOR_SYNC,
                "--target-cmd",
                &before,
                "--format",
                format,
            ],
        );
        assert_code(&output, exit_codes::FAILED);
        assert!(
            text(&output.stdout).starts_with(starts),
            "{}",
            text(&output.stdout)
        );
    }
}

/// A passing run, a fixed validate and a validate whose build after the fix cannot start all
/// keep to the schema; a document with an unknown field or a wrong enum value does not.
#[test]
fn the_report_schema_holds_for_real_reports_and_rejects_others() {
    let project = demo_copy();
    let dir = project.path();
    let (before, after) = (demo_cmd("1.4.2"), demo_cmd("1.4.3"));
    let validator = schema();
    let run = report_of(
        dir,
        &[
            "run",
            VENDOR_SYNC,
            "--target-cmd",
            &after,
            "--format",
            "json",
        ],
        exit_codes::SUCCESS,
    );
    assert_valid(&validator, "run", &run);
    let validate = report_of(
        dir,
        &[
            "validate",
            VENDOR_SYNC,
            "--before-cmd",
            &before,
            "--after-cmd",
            &after,
            "--format",
            "json",
        ],
        exit_codes::SUCCESS,
    );
    assert_valid(&validator, "validate", &validate);
    let build = &validate["scenarios"][0]["before"];
    assert!(
        !build["timeline"].as_array().unwrap().is_empty(),
        "{build:#}"
    );
    assert!(
        !build["target_log"].as_array().unwrap().is_empty(),
        "{build:#}"
    );
    let erred = reenact(
        dir,
        &[
            "validate",
            VENDOR_SYNC,
            "--before-cmd",
            &before,
            "--after-cmd",
            "/nonexistent/reenact-test-target --port {{ target.port }}",
            "--format",
            "junit",
            "--report",
            "json=validate-error.json",
        ],
    );
    assert_code(&erred, exit_codes::ENVIRONMENT);
    assert_eq!(xpath(&text(&erred.stdout), "//testsuite/@errors"), "1");
    let erred: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("validate-error.json")).unwrap())
            .unwrap();
    assert!(erred["scenarios"][0]["verdict"].is_null(), "{erred:#}");
    assert_valid(&validator, "validate with an error", &erred);

    let mut unknown = run.clone();
    unknown["scenarios"][0]["colour"] = "red".into();
    let mut wrong = validate.clone();
    wrong["scenarios"][0]["verdict"] = "mostly-fixed".into();
    let mut no_date = run.clone();
    no_date.as_object_mut().unwrap().remove("date");
    for (label, document) in [
        ("unknown field", unknown),
        ("wrong enum", wrong),
        ("missing date", no_date),
    ] {
        assert!(!validator.is_valid(&document), "{label} accepted");
    }
}

fn shard(dir: &Path, partition: Option<&str>, target: &str, out: &str) -> Value {
    let mut args = vec!["run", "--tag", "xero", "-j", "2", "--target-cmd", target];
    let report = format!("json={out}");
    args.extend(["--format", "human", "--report", &report]);
    if let Some(partition) = partition {
        args.extend(["--partition", partition]);
    }
    let output = reenact(dir, &args);
    assert_code(&output, exit_codes::SUCCESS);
    serde_json::from_str(&std::fs::read_to_string(dir.join(out)).unwrap()).unwrap()
}

/// What differs between two runs of the same scenarios: when, how long, the target's ports in
/// its log, wall-clock virtual times of scenarios without `clock.start`, and how many times a
/// poll asked before the target was done.
fn stable(report: &Value) -> Value {
    let mut report = report.clone();
    report.as_object_mut().unwrap().remove("date");
    for item in report["scenarios"].as_array_mut().unwrap() {
        let item = item.as_object_mut().unwrap();
        item.remove("duration_ms");
        item.remove("target_log");
        for entry in item["timeline"].as_array_mut().unwrap() {
            let entry = entry.as_object_mut().unwrap();
            entry.remove("at");
            let detail = entry["detail"].as_str().unwrap().to_owned();
            if let Some((request, _)) = detail.split_once(" (")
                && detail.ends_with(" attempts)")
            {
                entry["detail"] = request.into();
            }
        }
    }
    report
}

/// Two `--partition` shards merged are the unsharded run; the exit code is the run's.
#[test]
fn merged_shards_equal_the_unsharded_run() {
    let project = demo_copy();
    let dir = project.path();
    let after = demo_cmd("1.4.3");
    let whole = shard(dir, None, &after, "whole.json");
    let first = shard(dir, Some("hash:1/2"), &after, "shard-1.json");
    let second = shard(dir, Some("hash:2/2"), &after, "shard-2.json");
    assert!(!first["scenarios"].as_array().unwrap().is_empty());
    assert!(!second["scenarios"].as_array().unwrap().is_empty());
    let output = reenact(
        dir,
        &[
            "report",
            "merge",
            "shard-2.json",
            "shard-1.json",
            "-o",
            "merged.json",
            "--report",
            "junit=merged.xml",
        ],
    );
    assert_code(&output, exit_codes::SUCCESS);
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("merged.json")).unwrap()).unwrap();
    assert_eq!(stable(&merged), stable(&whole));
    let latest = [&first, &second]
        .iter()
        .map(|shard| shard["date"].as_str().unwrap())
        .max()
        .unwrap()
        .to_owned();
    assert_eq!(merged["date"], latest.as_str());
    let count = whole["scenarios"].as_array().unwrap().len().to_string();
    let junit = std::fs::read_to_string(dir.join("merged.xml")).unwrap();
    assert_eq!(xpath(&junit, "//testsuite/@tests"), count);
    assert_valid(&schema(), "merged", &merged);
}

/// Merge errors name the file (and for JSON, its line and column), exit 2, and write nothing.
#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let item = |id: &str| serde_json::json!({"id": id, "file": format!("scenarios/{id}.yaml"), "outcome": "passed"});
    let report = |target: &str, ids: &[&str]| {
        serde_json::json!({"version": 1, "command": "run", "reenact": "0.1.0",
            "date": "2026-12-04T16:20:00Z", "target": target,
            "scenarios": ids.iter().map(|id| item(id)).collect::<Vec<_>>()})
    };
    let write = |name: &str, value: &Value| {
        std::fs::write(dir.join(name), value.to_string()).unwrap();
    };
    write("a.json", &report("ledger-sync@1.4.3", &["a", "b"]));
    write("b.json", &report("ledger-sync@1.4.2", &["c"]));
    write("c.json", &report("ledger-sync@1.4.3", &["b"]));
    std::fs::write(
        dir.join("broken.json"),
        "{\n  \"command\": \"run\",\n  oops\n}",
    )
    .unwrap();
    write(
        "list.json",
        &serde_json::json!({"version": 1, "command": "list", "scenarios": []}),
    );
    for (shards, says) in [
        (
            &["a.json", "b.json"][..],
            "shard `b.json` has target `ledger-sync@1.4.2`, but `a.json` has `ledger-sync@1.4.3`",
        ),
        (
            &["a.json", "c.json"][..],
            "scenario `b` is in shard `a.json` and in shard `c.json`",
        ),
        (
            &["a.json", "broken.json"][..],
            "report `broken.json` is not valid JSON: key must be a string\n --> broken.json:3:3",
        ),
        (
            &["list.json"][..],
            "shard `list.json` is not a report of `run` or `validate`: its `command` is `list`",
        ),
        (
            &["a.json", "missing.json"][..],
            "failed to read report `missing.json`",
        ),
    ] {
        let mut args = vec!["report", "merge"];
        args.extend_from_slice(shards);
        args.extend(["-o", "merged.json"]);
        let output = reenact(dir, &args);
        assert_code(&output, exit_codes::INVALID_INPUT);
        let stderr = text(&output.stderr);
        assert!(stderr.contains(says), "{shards:?}: {stderr}");
        assert!(
            stderr.contains("help:") || stderr.contains("caused by"),
            "{stderr}"
        );
        assert!(!dir.join("merged.json").exists());
    }
}

/// A bad `--report` is invalid usage, found before anything runs.
#[test]
fn a_bad_report_flag_stops_before_anything_runs() {
    let project = demo_copy();
    let dir = project.path();
    let after = demo_cmd("1.4.3");
    for (flag, says, help) in [
        (
            "xml=out.xml",
            "unknown report kind `xml`",
            "KIND is one of `json`, `junit`, `markdown`",
        ),
        (
            "junitt=out.xml",
            "unknown report kind `junitt`",
            "did you mean `junit`?",
        ),
        (
            "junit",
            "expected KIND=PATH",
            "--report junit=reports/junit.xml",
        ),
        ("junit=missing/out.xml", "does not exist", "mkdir -p"),
        ("junit=scenarios", "is a folder", "name a file in it"),
    ] {
        let output = reenact(
            dir,
            &["run", VENDOR_SYNC, "--target-cmd", &after, "--report", flag],
        );
        assert_code(&output, exit_codes::INVALID_INPUT);
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!("invalid `--report {flag}`")),
            "{stderr}"
        );
        assert!(
            stderr.contains(says) && stderr.contains(help),
            "{flag}: {stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{flag} ran: {}",
            text(&output.stdout)
        );
    }
}
