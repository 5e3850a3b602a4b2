//! `reenact package` through the binary: the escalation package of a demo scenario that fails on
//! `ledger-sync@1.4.2` holds every file and says what it should, its README's command reproduces
//! the failure from inside the package, the archive holds the same files, no planted secret
//! reaches any file (in any encoding), and refusals are located, with help, leaving nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use reenact::exit_codes;

use crate::cli::{reenact, text};
use crate::support::planted::leaks;
use crate::support::{demo, demo_cmd, repo};

const SCENARIO: &str = "accounting-429-retry-after-ignored";

/// Fail, showing stdout and stderr, unless `output` exited with `expected`.
pub(crate) fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// A project holding the demo scenario, the mock definition it includes, every payload of the
/// demo (it reads one) and the target `ledger-sync@1.4.2` (the demo binary, by absolute path).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("scenarios/payloads")).unwrap();
    std::fs::create_dir_all(root.join("mocks")).unwrap();
    let file = format!("scenarios/{SCENARIO}.yaml");
    let scenario = std::fs::read_to_string(repo().join(&file)).unwrap();
    let customers = "customers: [Harbour & Finch Architects, Tollgate Logistics]\n";
    assert!(scenario.contains(customers));
    let scenario = scenario.replacen(
        customers,
        &format!("{customers}impact: Month-end close blocked for two customers\n"),
        1,
    );
    std::fs::write(root.join(&file), scenario).unwrap();
    std::fs::copy(
        repo().join("mocks/xero-harbour-finch.yaml"),
        root.join("mocks/xero-harbour-finch.yaml"),
    )
    .unwrap();
    for payload in std::fs::read_dir(repo().join("scenarios/payloads")).unwrap() {
        let payload = payload.unwrap();
        std::fs::copy(
            payload.path(),
            root.join("scenarios/payloads").join(payload.file_name()),
        )
        .unwrap();
    }
    let toml = format!(
        "[targets.\"ledger-sync@1.4.2\"]\nbuild = [\"true\"]\ncommand = [{demo:?}, \"--release\", \"1.4.2\", \"--port\", \"{{{{ target.port }}}}\"]\n",
        demo = demo().display().to_string()
    );
    std::fs::write(root.join("reenact.toml"), toml).unwrap();
    dir
}

/// Every file under `dir`, as paths relative to it with `/`.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            let relative = path.strip_prefix(dir).unwrap();
            found.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    found
}

/// What the package of the demo scenario holds.
fn expected_files() -> BTreeSet<String> {
    [
        "README.md",
        "failing-exchange.json",
        "failing-exchange.md",
        "observation.json",
        "report.html",
        "report.json",
        "scenario/mocks/xero-harbour-finch.yaml",
        "scenario/reenact.toml",
        "scenario/scenarios/accounting-429-retry-after-ignored.yaml",
        "scenario/scenarios/payloads/expense-hotel-harrogate.json",
        "target.log",
        "versions.txt",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// The shell command of the README's "Reproduce" section.
fn readme_command(readme: &str) -> String {
    let section = readme
        .split("## Reproduce")
        .nth(1)
        .expect("a Reproduce section");
    let start = section.find("```sh\n").expect("a shell block") + "```sh\n".len();
    let end = start + section[start..].find("\n```").expect("the block ends");
    section[start..end].to_owned()
}

/// Names in `dir` itself.
fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_package_of_a_failing_scenario_says_what_failed_and_reproduces_it() {
    let project = project();
    let root = project.path();
    let file = format!("scenarios/{SCENARIO}.yaml");
    let output = reenact(root, &["package", &file, "--target", "ledger-sync@1.4.2"]);
    assert_exit(&output, exit_codes::SUCCESS);
    assert_eq!(
        text(&output.stdout),
        format!("wrote {SCENARIO}-package; the scenario failed against `ledger-sync@1.4.2`\n")
    );
    let package = root.join(format!("{SCENARIO}-package"));
    assert_eq!(files_under(&package), expected_files());
    // Nothing was written into the project beside the package: no pending snapshot.
    assert_eq!(
        names_in(root),
        [
            "mocks",
            "reenact.toml",
            "scenarios",
            &format!("{SCENARIO}-package")
        ]
        .into_iter()
        .map(str::to_owned)
        .collect()
    );

    let read = |name: &str| std::fs::read_to_string(package.join(name)).unwrap();
    let readme = read("README.md");
    for expected in [
        "# Card expense exports fail with \"rate limited by accounting system\" during month-end close",
        "| Ticket | SUP-4821 |",
        "| Customers | Harbour & Finch Architects, Tollgate Logistics |",
        "| Impact | Month-end close blocked for two customers |",
        "| Severity | sev2 |",
        "| Target | `ledger-sync@1.4.2` |",
        "| Outcome | **failed** |",
        &format!("| reenact | {} |", env!("CARGO_PKG_VERSION")),
        "- step `wait for the export` failed:",
        "the target's `build` (`true`) ran in the original project",
        "No file of the scenario held one: it runs as copied.",
        "- `failing-exchange.md`:",
    ] {
        assert!(readme.contains(expected), "`{expected}` not in:\n{readme}");
    }
    let command = readme_command(&readme);
    assert_eq!(
        command,
        format!("cd scenario && reenact run scenarios/{SCENARIO}.yaml --target ledger-sync@1.4.2")
    );

    let exchange = read("failing-exchange.md");
    for expected in [
        "Step `wait for the export` (poll) failed",
        "### `xero` (",
        "| `PUT /api.xro/2.0/Invoices` | 429 | provider xero | the minute limit is spent (respond 429) |",
    ] {
        assert!(
            exchange.contains(expected),
            "`{expected}` not in:\n{exchange}"
        );
    }
    let exchange: serde_json::Value = serde_json::from_str(&read("failing-exchange.json")).unwrap();
    assert_eq!(exchange["failed_step"]["name"], "wait for the export");
    let report: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    assert_eq!(report["command"], "run");
    assert_eq!(report["target"], "ledger-sync@1.4.2");
    assert_eq!(report["scenarios"][0]["id"], SCENARIO);
    assert_eq!(report["scenarios"][0]["outcome"], "failed");
    assert_eq!(
        report["scenarios"][0]["failed_step"]["name"],
        "wait for the export"
    );
    let page = read("report.html");
    assert!(
        page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..page.len().min(200)]
    );
    for expected in [SCENARIO, "wait for the export", "ledger-sync@1.4.2"] {
        assert!(page.contains(expected), "`{expected}` not in report.html");
    }
    let observation: serde_json::Value = serde_json::from_str(&read("observation.json")).unwrap();
    assert!(observation["mocks"]["xero"].is_object(), "{observation:#}");
    let versions = read("versions.txt");
    assert!(
        versions.starts_with(&format!(
            "reenact {}\ntarget ledger-sync@1.4.2\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{versions}"
    );
    assert!(versions.contains("\nos "), "{versions}");
    assert!(!read("target.log").is_empty());
    assert_eq!(
        read(&format!("scenario/scenarios/{SCENARIO}.yaml")),
        std::fs::read_to_string(root.join(&file)).unwrap(),
        "a scenario without secrets is copied as it is"
    );

    // The README's command, run from the package's folder (with no project above it), fails the
    // same way.
    let bin = Path::new(env!("CARGO_BIN_EXE_reenact")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    let moved = unpacked.path().join("package");
    std::fs::rename(&package, &moved).unwrap();
    let again = Command::new("sh")
        .args(["-c", &command])
        .current_dir(&moved)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_exit(&again, exit_codes::FAILED);
    let shown = text(&again.stdout);
    assert!(shown.contains(&format!("FAIL   {SCENARIO}")), "{shown}");
    assert!(
        shown.contains("step `wait for the export` failed"),
        "{shown}"
    );
}

/// The files of a `.tar.gz` package: gzip checked and inflated, then the tar read back.
fn archive_files(path: &Path) -> (BTreeSet<String>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8], "a gzip stream");
    let tar = miniz_oxide::inflate::decompress_to_vec(&bytes[10..bytes.len() - 8]).unwrap();
    let size = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
    assert_eq!(size as usize, tar.len(), "the gzip trailer's size");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let names = runtime.block_on(async {
        use futures_util::StreamExt as _;
        let mut archive = tokio_tar::Archive::new(tar.as_slice());
        let mut entries = archive.entries().unwrap();
        let mut names = BTreeSet::new();
        while let Some(entry) = entries.next().await {
            let entry = entry.unwrap();
            if entry.header().entry_type().is_file() {
                names.insert(entry.path().unwrap().to_string_lossy().into_owned());
            }
        }
        names
    });
    (names, tar)
}

#[test]
fn an_archive_package_holds_the_same_files() {
    let project = project();
    let root = project.path();
    let file = format!("scenarios/{SCENARIO}.yaml");
    let cmd = demo_cmd("1.4.2");
    let output = reenact(root, &["package", &file, "--target-cmd", &cmd, "--archive"]);
    assert_exit(&output, exit_codes::SUCCESS);
    let archive = root.join(format!("{SCENARIO}-package.tar.gz"));
    assert!(!root.join(format!("{SCENARIO}-package")).exists());
    let (names, tar) = archive_files(&archive);
    let expected: BTreeSet<String> = expected_files()
        .into_iter()
        .map(|name| format!("{SCENARIO}-package/{name}"))
        .collect();
    assert_eq!(names, expected);
    let tar = text(&tar);
    assert!(
        tar.contains(&format!(
            "cd scenario && reenact run scenarios/{SCENARIO}.yaml --target-cmd '{cmd}'"
        )),
        "the README names the inline target"
    );
    assert!(!names_in(root).iter().any(|name| name.ends_with(".tmp")));

    // An archive that exists is replaced only with `--force`.
    let archive_args = ["package", file.as_str(), "--target-cmd", &cmd, "--archive"];
    let again = reenact(root, &archive_args);
    assert_exit(&again, exit_codes::INVALID_INPUT);
    let forced = reenact(root, &[&archive_args[..], &["--force"]].concat());
    assert_exit(&forced, exit_codes::SUCCESS);
}

/// Every file under `dir`, with its text (lossy).
fn texts_under(dir: &Path) -> Vec<(String, String)> {
    files_under(dir)
        .into_iter()
        .map(|name| {
            let text = text(&std::fs::read(dir.join(&name)).unwrap());
            (name, text)
        })
        .collect()
}

#[test]
fn no_planted_secret_reaches_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fixture = repo().join("tests/fixtures/secret-audit/planted-secrets.yaml");
    std::fs::copy(&fixture, root.join("planted-secrets.yaml")).unwrap();
    std::fs::write(root.join("reenact.toml"), "").unwrap();

    let folder = reenact(root, &["package", "planted-secrets.yaml"]);
    assert_exit(&folder, exit_codes::SUCCESS);
    let archive = reenact(
        root,
        &[
            "package",
            "planted-secrets.yaml",
            "--archive",
            "-o",
            "planted.tar.gz",
        ],
    );
    assert_exit(&archive, exit_codes::SUCCESS);

    let package = root.join("planted-secrets-package");
    let mut written = texts_under(&package);
    let (names, tar) = archive_files(&root.join("planted.tar.gz"));
    assert_eq!(names.len(), written.len(), "{names:?}");
    written.push(("planted.tar.gz (inflated)".into(), text(&tar)));
    for (label, output) in [("folder", &folder), ("archive", &archive)] {
        written.push((format!("{label}: stdout"), text(&output.stdout)));
        written.push((format!("{label}: stderr"), text(&output.stderr)));
    }

    // Where the secrets were, the placeholders are: the package still says what it should.
    let find = |name: &str| {
        written
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_else(|| panic!("no `{name}` in the package"))
    };
    let scenario = find("scenario/planted-secrets.yaml");
    for placeholder in [
        "webhook_key: [redacted]",
        "iban: [redacted]",
        "sftp: { users: [{ username: treasury, password: [redacted] }] }",
        "memo: paid with [redacted:card]",
        "headers: { X-Api-Key: [redacted] }",
    ] {
        assert!(
            scenario.contains(placeholder),
            "`{placeholder}` not in the packaged scenario:\n{scenario}"
        );
    }
    let exchange = find("failing-exchange.md");
    assert!(
        exchange.contains("`GET /geo?key=[redacted]&q=London`"),
        "{exchange}"
    );
    assert!(
        exchange.contains("- `the payee is settled`: json: expected to contain"),
        "{exchange}"
    );
    let readme = find("README.md");
    assert!(
        readme.contains("put the real values back")
            && readme.contains("`scenario/planted-secrets.yaml`"),
        "{readme}"
    );
    assert!(find("report.json").contains(r#"\"iban\":\"[redacted]\""#));

    let found = leaks(&written);
    assert!(
        found.is_empty(),
        "{} planted secret(s) written:\n  {}",
        found.len(),
        found.join("\n  ")
    );
}

#[test]
fn refusals_are_located_with_help_and_leave_nothing() {
    let project = project();
    let root = project.path();
    let file = format!("scenarios/{SCENARIO}.yaml");
    let before = names_in(root);
    let refused = |args: &[&str], code: i32, expected: &[&str]| {
        let output = reenact(root, args);
        assert_exit(&output, code);
        let shown = text(&output.stderr);
        for expected in expected {
            assert!(shown.contains(expected), "`{expected}` not in:\n{shown}");
        }
        assert_eq!(names_in(root), before, "left behind after {args:?}");
    };

    refused(
        &["package", "scenarios/no-such-incident.yaml"],
        exit_codes::INVALID_INPUT,
        &[
            "error: `scenarios/no-such-incident.yaml` does not exist: a package holds one scenario file",
            "help: name one scenario file",
        ],
    );
    refused(
        &["package", "scenarios"],
        exit_codes::INVALID_INPUT,
        &["error: `scenarios` is a folder: a package holds one scenario file"],
    );
    refused(
        &["package", &file, "--target", "ledger-sync@1.4"],
        exit_codes::INVALID_INPUT,
        &[
            "unknown target `ledger-sync@1.4`",
            "help: did you mean `ledger-sync@1.4.2`?",
        ],
    );
    // No target anywhere: the scenario has none and reenact.toml names no default.
    refused(
        &["package", &file],
        exit_codes::ENVIRONMENT,
        &[
            "has no target",
            &format!("help: e.g. `reenact package {file} --target NAME`"),
        ],
    );

    refused(
        &[
            "package",
            &file,
            "--target",
            "ledger-sync@1.4.2",
            "-o",
            "no/such/folder",
        ],
        exit_codes::INVALID_INPUT,
        &[
            "/no/such` to write the package in does not exist",
            "help: create it first",
        ],
    );
    // Not even `--force` replaces the folder that holds the project.
    refused(
        &[
            "package",
            &file,
            "--target",
            "ledger-sync@1.4.2",
            "-o",
            ".",
            "--force",
        ],
        exit_codes::INVALID_INPUT,
        &[
            "a package does not replace it",
            "help: choose a new folder with `-o PATH`",
        ],
    );

    // A folder that holds something is kept, unless `--force`.
    let taken = root.join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let before = names_in(root);
    let into_taken = [
        "package",
        file.as_str(),
        "--target",
        "ledger-sync@1.4.2",
        "-o",
        "taken",
    ];
    let output = reenact(root, &into_taken);
    assert_exit(&output, exit_codes::INVALID_INPUT);
    let shown = text(&output.stderr);
    assert!(
        shown.contains("already exists and is not empty") && shown.contains("`--force`"),
        "{shown}"
    );
    assert_eq!(
        names_in(&taken),
        ["notes.txt".to_owned()].into_iter().collect()
    );
    assert_eq!(names_in(root), before);
    let forced = reenact(root, &[&into_taken[..], &["--force"]].concat());
    assert_exit(&forced, exit_codes::SUCCESS);
    assert_eq!(files_under(&taken), expected_files());
    assert_eq!(names_in(root), before, "no temporary folder is left");
}

#[test]
fn help_package() {
    let output = reenact(repo(), &["package", "--help"]);
    assert_exit(&output, exit_codes::SUCCESS);
    insta::assert_snapshot!("help_package", text(&output.stdout));
}
