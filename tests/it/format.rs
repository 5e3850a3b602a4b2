//! Format tests: every fixture under `tests/fixtures/valid` loads and snapshots its parsed
//! scenario; every fixture under `tests/fixtures/invalid` fails to load and snapshots its rendered
//! errors; the JSON Schema accepts every valid scenario and rejects unknown keys.
//!
//! The fixtures are found in their folders: add `tests/fixtures/invalid/NAME.yaml`, run the tests,
//! review the new `it__format__invalid__NAME.snap` with `cargo insta review`. One test per folder
//! checks every fixture in it and names each one that fails.

use std::path::{Path, PathBuf};

use reenact::scenario::{self, LoadError, diagnostic};

use crate::support;

const VALID: &str = "tests/fixtures/valid";
const INVALID: &str = "tests/fixtures/invalid";
const SNAPSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/snapshots");

/// Load `bytes` as the scenario `path` inside `root`; render the errors as the CLI would.
fn load(path: &Path, root: &Path, bytes: &[u8]) -> Result<scenario::Scenario, String> {
    match scenario::load_bytes(path, root, bytes) {
        Ok(scenario) => Ok(scenario),
        Err(LoadError::Invalid {
            path,
            source_text,
            diagnostics,
        }) => {
            assert!(
                !diagnostics.is_empty(),
                "an invalid scenario without errors"
            );
            Err(diagnostic::render(&path, &source_text, &diagnostics, false))
        }
        Err(err) => panic!("unexpected error: {err}"),
    }
}

fn valid(name: &str) {
    let path = PathBuf::from(format!("{VALID}/{name}.yaml"));
    let bytes = std::fs::read(&path).unwrap();
    match load(&path, Path::new(VALID), &bytes) {
        Ok(scenario) => insta::assert_debug_snapshot!(format!("valid__{name}"), scenario),
        Err(rendered) => panic!("{name} should be valid:\n{rendered}"),
    }
}

fn invalid_bytes(name: &str, bytes: &[u8]) -> String {
    let path = PathBuf::from(format!("{INVALID}/{name}.yaml"));
    let rendered = load(&path, Path::new(INVALID), bytes)
        .err()
        .unwrap_or_else(|| panic!("{name} should be invalid"));
    // Every error names the fixture: where it is, or (for an error in a mock definition it
    // includes) where it includes the definition.
    for error in rendered.split("\n\n") {
        assert!(
            error.contains(&format!("--> {INVALID}/{name}.yaml"))
                || error.contains(&format!("::: {INVALID}/{name}.yaml")),
            "{rendered}"
        );
    }
    rendered
}

fn invalid(name: &str) {
    let bytes = std::fs::read(format!("{INVALID}/{name}.yaml")).unwrap();
    let rendered = invalid_bytes(name, &bytes);
    insta::assert_snapshot!(format!("invalid__{name}"), rendered);
}

/// Invalid inputs that are made by the tests below, not read from a fixture file (too deep, not
/// UTF-8, too large, a symlink): their snapshots have no fixture.
const MADE_BY_TESTS: &[&str] = &[
    "deeply_nested",
    "not_utf8",
    "too_large",
    "symlink_escape",
    "alias_expanded_bytes",
    "special_files",
];

/// Every fixture under `tests/fixtures/valid` loads and its parsed scenario matches its snapshot.
#[test]
fn valid_fixtures() {
    check_fixtures("valid", VALID, &[], valid);
}

/// Every fixture under `tests/fixtures/invalid` fails to load, with errors located in it that
/// match its snapshot.
#[test]
fn invalid_fixtures() {
    check_fixtures("invalid", INVALID, MADE_BY_TESTS, invalid);
}

/// Run `check` on every fixture of `dir` (every `*.yaml` file in it: a new fixture needs no new
/// code), each whatever the others do, then fail naming every fixture that failed, every fixture
/// without a snapshot, every snapshot of `kind` without a fixture (but those `made_by_tests`), and
/// every file that is not a fixture.
fn check_fixtures(kind: &str, dir: &str, made_by_tests: &[&str], check: fn(&str)) {
    let mut problems = Vec::new();
    let mut fixtures = Vec::new();
    for path in files_in(Path::new(dir)) {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            fixtures.push(name);
        } else {
            problems.push(format!(
                "{}: not a fixture (fixtures end in `.yaml`)",
                path.display()
            ));
        }
    }
    let prefix = format!("{}__{kind}__", module_path!().replace("::", "__"));
    let snapshots: Vec<String> = files_in(Path::new(SNAPSHOTS))
        .iter()
        .filter_map(|path| {
            path.file_name()?
                .to_str()?
                .strip_prefix(&prefix)?
                .strip_suffix(".snap")
        })
        .map(str::to_owned)
        .collect();
    for name in &fixtures {
        let outcome = std::panic::catch_unwind(|| check(name));
        match (snapshots.contains(name), outcome) {
            (true, Ok(())) => {}
            (true, Err(panic)) => problems.push(format!("{name}: {}", panic_message(&*panic))),
            (false, Ok(())) => problems.push(format!(
                "{name}: had no snapshot (insta wrote one: review it, then commit it)"
            )),
            (false, Err(panic)) => problems.push(format!(
                "{name}: no snapshot (review the pending one with `cargo insta review`): {}",
                panic_message(&*panic)
            )),
        }
    }
    for name in &snapshots {
        if !fixtures.contains(name) && !made_by_tests.contains(&name.as_str()) {
            problems.push(format!(
                "{prefix}{name}.snap: a snapshot without a fixture in {dir}"
            ));
        }
    }
    assert!(!fixtures.is_empty(), "no fixtures in {dir}");
    assert!(
        problems.is_empty(),
        "{} problems with the {} fixtures in {dir}:\n  {}",
        problems.len(),
        fixtures.len(),
        problems.join("\n  ")
    );
}

/// The files (not folders) directly in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// What a panic said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else if let Some(message) = panic.downcast_ref::<&str>() {
        message
    } else {
        "(a panic without a message)"
    }
}

#[test]
fn invalid_deeply_nested() {
    let depth = 200;
    let text = format!(
        "id: deep\ntitle: deep\nflow:\n  - request: {{ method: GET, path: /, json: {}{} }}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let rendered = invalid_bytes("deeply_nested", text.as_bytes());
    insta::assert_snapshot!("invalid__deeply_nested", rendered);
}

#[test]
fn invalid_not_utf8() {
    let bytes = b"id: latin1\ntitle: caf\xe9 cr\xe8me\nflow: []\n";
    let rendered = invalid_bytes("not_utf8", bytes);
    insta::assert_snapshot!("invalid__not_utf8", rendered);
}

#[test]
fn invalid_too_large() {
    let mut bytes = b"id: big\ntitle: big\n".to_vec();
    bytes.resize(scenario::MAX_INPUT_BYTES + 1, b'#');
    let rendered = invalid_bytes("too_large", &bytes);
    insta::assert_snapshot!("invalid__too_large", rendered);
}

/// Regression (issue 11): a 600 KB anchored scalar aliased 99,000 times grew to 3.7 GB and
/// aborted; the expanded-bytes budget stops it at the alias that crosses 4 MiB.
#[test]
fn invalid_alias_expanded_bytes() {
    let rendered = invalid_bytes("alias_expanded_bytes", &support::alias_bomb_bytes());
    insta::assert_snapshot!("invalid__alias_expanded_bytes", rendered);
}

/// Regression (issue 11): a `json_file` that is a FIFO blocked forever, a 600 MB `body_file` was
/// read whole, a link to `/dev/zero` grew without limit. Each is now an error at the scalar
/// naming it, saying what the path is, and nothing is read from a file that is not regular.
#[cfg(unix)]
#[test]
fn invalid_special_files() {
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    support::make_fifo(&dir.join("pipe.json"));
    std::fs::create_dir(dir.join("folder.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.txt")).unwrap();
    // Sparse: 600 MB on paper, nothing on disk.
    let huge = std::fs::File::create(dir.join("huge.bin")).unwrap();
    huge.set_len(600_000_000).unwrap();
    std::fs::write(dir.join("reenact.toml"), "").unwrap();
    let scenario = dir.join("special_files.yaml");
    std::fs::write(
        &scenario,
        "id: special-files\ntitle: files that are not regular or too large\nflow:\n  \
         - request: { method: POST, path: /a, json_file: pipe.json }\n  \
         - request: { method: POST, path: /b, json_file: folder.json }\n  \
         - request: { method: POST, path: /c, body_file: zero.txt }\n  \
         - request: { method: POST, path: /d, body_file: huge.bin }\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let Err(LoadError::Invalid {
        source_text,
        diagnostics,
        ..
    }) = scenario::load(&scenario)
    else {
        panic!("special files must be errors")
    };
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let rendered = diagnostic::render(
        Path::new("special_files.yaml"),
        &source_text,
        &diagnostics,
        false,
    );
    let root = regex_escape(&dir.display().to_string());
    insta::with_settings!({ filters => vec![(root.as_str(), "[ROOT]")] }, {
        insta::assert_snapshot!("invalid__special_files", rendered);
    });
}

#[cfg(unix)]
#[test]
fn invalid_symlink_escape() {
    let project = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), "{\"token\": 1}").unwrap();
    std::fs::write(project.path().join("reenact.toml"), "").unwrap();
    std::fs::create_dir(project.path().join("scenarios")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.json"),
        project.path().join("scenarios/payload.json"),
    )
    .unwrap();
    let scenario = project.path().join("scenarios/symlink_escape.yaml");
    std::fs::write(
        &scenario,
        "id: symlink\ntitle: a payload that links outside\nflow:\n  - request: { method: POST, path: /x, json_file: payload.json }\n",
    )
    .unwrap();
    // `load` finds the root through `reenact.toml`, as the CLI does.
    let Err(LoadError::Invalid {
        source_text,
        diagnostics,
        ..
    }) = scenario::load(&scenario)
    else {
        panic!("a symlink out of the root must be an error")
    };
    let rendered = diagnostic::render(
        Path::new("scenarios/symlink_escape.yaml"),
        &source_text,
        &diagnostics,
        false,
    );
    let root = regex_escape(&project.path().display().to_string());
    insta::with_settings!({ filters => vec![(root.as_str(), "[ROOT]")] }, {
        insta::assert_snapshot!("invalid__symlink_escape", rendered);
    });
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// The multiple-errors fixture reports each of its problems, not only the first.
#[test]
fn all_errors_of_a_file_are_reported() {
    let path = PathBuf::from(format!("{INVALID}/multiple_errors.yaml"));
    let bytes = std::fs::read(&path).unwrap();
    let Err(LoadError::Invalid { diagnostics, .. }) =
        scenario::load_bytes(&path, Path::new(INVALID), &bytes)
    else {
        panic!("multiple_errors.yaml must be invalid")
    };
    let lines: Vec<usize> = diagnostics
        .iter()
        .map(|d| d.span.expect("located").line)
        .collect();
    assert_eq!(lines, [1, 3, 8, 11, 12, 14, 14, 16, 17], "{diagnostics:#?}");
}

/// An include that is a FIFO, a symlink out of the root, or one too many: each an error at the
/// `include:` value, and nothing is read from the FIFO (loading does not block).
#[cfg(unix)]
#[test]
fn includes_that_cannot_be_read_or_exceed_the_budget() {
    let project = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::write(dir.join("reenact.toml"), "").unwrap();
    std::fs::create_dir_all(dir.join("mocks")).unwrap();
    std::fs::write(dir.join("mocks/ok.yaml"), "stubs: []\n").unwrap();
    support::make_fifo(&dir.join("mocks/pipe.yaml"));
    std::fs::write(outside.path().join("secret.yaml"), "stubs: []\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        dir.join("mocks/link.yaml"),
    )
    .unwrap();
    let mut text = String::from(
        "id: includes\ntitle: includes\nmocks:\n  pipe: { include: mocks/pipe.yaml }\n  link: { include: mocks/link.yaml }\n",
    );
    for n in 0..17 {
        text.push_str(&format!("  ok{n}: {{ include: mocks/ok.yaml }}\n"));
    }
    text.push_str("flow:\n  - request: { method: GET, path: / }\n");
    let scenario = dir.join("includes.yaml");
    std::fs::write(&scenario, &text).unwrap();
    let started = std::time::Instant::now();
    let Err(LoadError::Invalid { diagnostics, .. }) = scenario::load(&scenario) else {
        panic!("these includes must be errors")
    };
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let messages: Vec<(usize, &str)> = diagnostics
        .iter()
        .map(|d| (d.span.expect("located").line, d.message.as_str()))
        .collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert_eq!(messages[0].0, 4);
    assert!(
        messages[0]
            .1
            .ends_with("`mocks/pipe.yaml` is a FIFO (named pipe), not a regular file"),
        "{messages:#?}"
    );
    assert_eq!(messages[1].0, 5);
    assert!(
        messages[1]
            .1
            .contains("`mocks/link.yaml` is a symlink that points outside the scenario root"),
        "{messages:#?}"
    );
    // Two includes failed before being read: the 17th `ok` is the 16th read, the limit.
    assert_eq!(
        messages[2],
        (5 + 17, "more than 16 includes in one scenario"),
        "{messages:#?}"
    );
}

/// A scenario's hash (which snapshots record as provenance) covers the scenario file and every
/// file it names: editing either changes it, loading the same files again does not.
#[test]
fn the_scenario_hash_covers_the_files_it_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    let scenario = dir.path().join("s.yaml");
    let payload = dir.path().join("payloads/expense.json");
    let text = "id: s\ntitle: S\nflow:\n  - request: { method: POST, path: /x, json_file: payloads/expense.json }\n";
    std::fs::write(&scenario, text).unwrap();
    std::fs::write(&payload, r#"{"amount": 1}"#).unwrap();
    let hash = || scenario::load(&scenario).unwrap().source.hash;
    let first = hash();
    assert_eq!(first.len(), 64, "{first}");
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()), "{first}");
    assert_eq!(hash(), first);
    std::fs::write(&payload, r#"{"amount": 2}"#).unwrap();
    let second = hash();
    assert_ne!(second, first, "a payload edit changes the hash");
    std::fs::write(&scenario, format!("{text}# a comment\n")).unwrap();
    assert_ne!(hash(), second, "a scenario edit changes the hash");
}
