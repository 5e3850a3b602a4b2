//! `reenact report html`: the real binary renders saved JSON reports (the fixtures of
//! `tests/fixtures/reports/`, which carry every field of `docs/reports.md` and planted markup)
//! into one page, written atomically, and refuses what is not a report with a located error.
//! What the page looks like in a browser is judged by `conformance/html/run.sh` (Chromium).

use std::path::Path;

use reenact::exit_codes;

use crate::cli::{reenact, text};
use crate::support::repo;

fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures/reports")
        .join(name)
        .display()
        .to_string()
}

/// `reenact report html REPORT -o PAGE` in `dir`.
fn render_to(dir: &Path, report: &str, page: &str) -> std::process::Output {
    reenact(dir, &["report", "html", report, "-o", page])
}

/// Every file in `dir`, by name.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder exists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn report_html_renders_both_fixtures_to_a_file_and_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, rows) in [("run", 4), ("validate", 5)] {
        let page_path = format!("pages/{kind}.html");
        let report = fixture(&format!("{kind}.json"));
        let output = reenact(dir.path(), &["report", "html", &report, "-o", &page_path]);
        assert_eq!(
            output.status.code(),
            Some(exit_codes::SUCCESS),
            "{}",
            text(&output.stderr)
        );
        assert!(text(&output.stderr).contains(&format!("({rows} scenarios)")));
        let page = std::fs::read_to_string(dir.path().join(&page_path)).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert_eq!(page.matches("<tr data-status=").count(), rows);
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!page.contains("<img") && !page.contains("<script>window"));
        assert!(page.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
        // The same page on stdout.
        let output = reenact(dir.path(), &["report", "html", &report]);
        assert_eq!(output.status.code(), Some(exit_codes::SUCCESS));
        assert_eq!(text(&output.stdout), page);
    }
    // Written over an existing page, and no temporary file left behind.
    let output = render_to(dir.path(), &fixture("run.json"), "pages/run.html");
    assert_eq!(output.status.code(), Some(exit_codes::SUCCESS));
    assert_eq!(
        names(&dir.path().join("pages")),
        ["run.html", "validate.html"]
    );
}

#[test]
fn report_html_masks_secrets_a_report_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbmFseXN0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    let report = serde_json::json!({
        "version": 1, "command": "run", "target": "t",
        "scenarios": [{"id": "s", "title": "t", "outcome": "failed",
                       "target_log": ["login password=hunter2hunter2", format!("Authorization: Bearer {jwt}")],
                       "timeline": [{"at": null, "kind": "call", "name": format!("GET /x?token={jwt}")}]}]
    });
    std::fs::write(dir.path().join("report.json"), report.to_string()).unwrap();
    let output = reenact(
        dir.path(),
        &["report", "html", "report.json", "-o", "page.html"],
    );
    assert_eq!(
        output.status.code(),
        Some(exit_codes::SUCCESS),
        "{}",
        text(&output.stderr)
    );
    let page = std::fs::read_to_string(dir.path().join("page.html")).unwrap();
    for secret in ["hunter2", jwt, "c2lnbmF0dXJl"] {
        assert!(!page.contains(secret), "`{secret}` in the page");
    }
    assert!(page.contains("password=[redacted]"));
}

#[test]
fn report_html_refuses_what_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        "{\n  \"command\": \"run\",\n  \"scenarios\": [1,]\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("list.json"),
        "{\"version\": 1, \"command\": \"list\"}",
    )
    .unwrap();
    // Larger than 64 MiB (a sparse file: nothing is written).
    let big = std::fs::File::create(dir.path().join("big.json")).unwrap();
    big.set_len(64 * 1024 * 1024 + 1).unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let cases: [(&str, &[&str]); 5] = [
        ("report_html_invalid_json", &["report", "html", "bad.json"]),
        ("report_html_not_a_report", &["report", "html", "list.json"]),
        ("report_html_too_large", &["report", "html", "big.json"]),
        ("report_html_missing", &["report", "html", "missing.json"]),
        (
            "report_html_into_a_folder",
            &["report", "html", "RUN", "-o", "folder"],
        ),
    ];
    for (name, args) in cases {
        let args: Vec<String> = args
            .iter()
            .map(|arg| match *arg {
                "RUN" => fixture("run.json"),
                arg => arg.to_owned(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = reenact(dir.path(), &args);
        assert_eq!(
            output.status.code(),
            Some(exit_codes::INVALID_INPUT),
            "{name}"
        );
        assert!(output.stdout.is_empty(), "{name}: no page on stdout");
        let stderr = text(&output.stderr).replace(&fixture("run.json"), "[run.json]");
        insta::assert_snapshot!(name, stderr);
    }
    // A folder that cannot be made (a file is in the way): the environment failed.
    let output = render_to(dir.path(), &fixture("run.json"), "list.json/page.html");
    assert_eq!(output.status.code(), Some(exit_codes::ENVIRONMENT));
    insta::assert_snapshot!("report_html_unwritable", text(&output.stderr));
    assert_eq!(
        names(dir.path()),
        ["bad.json", "big.json", "folder", "list.json"]
    );
}
