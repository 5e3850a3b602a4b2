//! The library's modules depend on each other one way: a `use` of a module above fails here.
//!
//! The layers, bottom first: neutral helpers; the observation's data (`observe`) and the
//! scenario format; the shared meaning of matchers and checks; the mock engine; the judges
//! (verdict, snapshot, report); the runtime (backend, target, flow); the orchestrator (`run`);
//! the command line. [`MODULES`] lists, for every module, the modules it may use besides the
//! helpers; each may name only modules listed before it, so the graph has no cycle by
//! construction. A new top-level module must be placed here before its first test run passes.
//!
//! The check reads `src/` as text: every `crate::NAME` path outside comments (grouped `use
//! crate::{a::x, b}` included) and every `super::` that climbs out of its top-level module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Neutral helpers: any module may use them, and they use nothing of the crate.
const HELPERS: &[&str] = &[
    "errors",
    "exit_codes",
    "json_compare",
    "leftovers",
    "money",
    "pem",
    "secrets",
    "timestamp",
];

/// Every other module, bottom first, with the modules it may use besides the helpers.
const MODULES: &[(&str, &[&str])] = &[
    // Plain data: what a run saw, what a mock journaled, what a webhook delivery got.
    ("observe", &[]),
    // The scenario format: YAML → validated model. Imports no runtime module.
    ("scenario", &[]),
    // `reenact.toml`: named targets.
    ("project", &["scenario"]),
    // `reenact new`'s starting scenarios: text written for the scenario format.
    ("scaffold", &["scenario"]),
    // The meaning of request matchers and response checks, shared by engine, flow and verdict.
    ("matching", &["observe", "scenario"]),
    // The mock engine and its providers: reads the scenario model, records the observation's types.
    ("mock", &["matching", "observe", "scenario"]),
    // Judges: pure functions of the observation and the scenario.
    ("verdict", &["matching", "observe", "scenario"]),
    ("snapshot", &["observe", "scenario", "verdict"]),
    ("report", &["observe", "snapshot", "verdict"]),
    // The runtime: where mocks run, the system under test, the replay of the flow.
    ("backend", &["mock", "observe", "scenario"]),
    ("target", &["backend", "scenario"]),
    (
        "flow",
        &["matching", "mock", "observe", "scenario", "target"],
    ),
    // One run of one scenario, start to verdict.
    (
        "run",
        &[
            "backend", "flow", "matching", "mock", "observe", "project", "report", "scenario",
            "snapshot", "target", "verdict",
        ],
    ),
    // Escalation packages: the files of one run put together, redacted, written atomically.
    ("import", &["run", "scenario"]),
    (
        "package",
        &["observe", "report", "run", "scenario", "verdict"],
    ),
    // The command line (in the binary): everything below.
    (
        "cli",
        &[
            "backend", "flow", "import", "matching", "mock", "observe", "package", "project",
            "report", "run", "scaffold", "scenario", "snapshot", "target", "verdict",
        ],
    ),
];

/// A use of one top-level module by another, where it was found.
#[derive(Debug)]
struct Edge {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
}

#[test]
fn modules_depend_on_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|file| module_path(file.strip_prefix(&src).ok()?).first().cloned())
        .collect();
    let mut edges = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("inside src");
        let module = module_path(relative);
        let Some(top) = module.first() else {
            continue; // lib.rs and main.rs declare the modules
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        edges.extend(
            uses(&text, &module, &modules)
                .into_iter()
                .map(|(to, line)| Edge {
                    from: top.clone(),
                    to,
                    file: relative.to_path_buf(),
                    line,
                }),
        );
    }

    let mut problems = Vec::new();
    for module in &modules {
        if !HELPERS.contains(&module.as_str()) && !MODULES.iter().any(|(name, _)| name == module) {
            problems.push(format!(
                "module `{module}` is in no layer: add it to HELPERS or MODULES in {}",
                file!()
            ));
        }
    }
    for edge in &edges {
        if let Some(why) = forbidden(&edge.from, &edge.to) {
            problems.push(format!(
                "src/{}:{}: `{}` uses `{}`: {why}",
                edge.file.display(),
                edge.line,
                edge.from,
                edge.to
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the module layers are broken:\n  {}",
        problems.join("\n  ")
    );
    // The check saw the crate: a broken walk must not pass vacuously.
    assert!(
        edges.len() > 50,
        "only {} uses found under src/",
        edges.len()
    );
}

#[test]
fn the_layers_are_ordered_bottom_first() {
    for (index, (name, allowed)) in MODULES.iter().enumerate() {
        for used in *allowed {
            assert!(
                MODULES[..index].iter().any(|(below, _)| below == used),
                "`{name}` may use `{used}`, which is not listed before it"
            );
        }
    }
}

#[test]
fn the_check_finds_grouped_inline_and_climbing_uses() {
    let text = "use crate::{scenario::model::{A, B}, observe};\n\
                // use crate::run;\n\
                fn f() { crate::mock::clock::now(); }\n\
                use super::super::target::X;\n\
                mod tests { use super::Verdict; use super::super::helper; }\n";
    let modules = ["flow", "mock", "observe", "scenario", "target"]
        .map(String::from)
        .into();
    let found: Vec<_> = uses(text, &["flow".into(), "inner".into()], &modules)
        .into_iter()
        .map(|(to, line)| format!("{to}:{line}"))
        .collect();
    assert_eq!(found, ["scenario:1", "observe:1", "mock:3", "target:4"]);
    assert_eq!(
        forbidden("mock", "run").as_deref(),
        Some("`mock` may use only the helpers and `matching`, `observe`, `scenario`")
    );
    assert!(forbidden("money", "scenario").is_some());
    assert!(forbidden("verdict", "timestamp").is_none());
}

/// Why `from` may not use `to`, or `None` when it may.
fn forbidden(from: &str, to: &str) -> Option<String> {
    if from == to {
        return None;
    }
    if HELPERS.contains(&from) {
        return Some(format!(
            "`{from}` is a neutral helper and uses nothing of the crate"
        ));
    }
    if HELPERS.contains(&to) {
        return None;
    }
    let (_, allowed) = MODULES.iter().find(|(name, _)| *name == from)?;
    if allowed.contains(&to) {
        return None;
    }
    let list = allowed
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(if list.is_empty() {
        format!("`{from}` may use only the helpers")
    } else {
        format!("`{from}` may use only the helpers and {list}")
    })
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file under `src/`: `mock/providers/mod.rs` → `[mock, providers]`;
/// `lib.rs` and `main.rs` → `[]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The top-level modules `text` (the file of `module`) uses, with 1-based line numbers. A `super`
/// chain counts when it may reach the crate root and names one of the crate's `modules` (an
/// inline `mod tests` makes `super` ambiguous from the text alone).
fn uses(text: &str, module: &[String], modules: &BTreeSet<String>) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    // Comments are dropped line by line, keeping the line count.
    let code: String = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("//") {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut add = |name: &str, at: usize| {
        if !name.is_empty() && module.first().map(String::as_str) != Some(name) {
            found.push((name.to_owned(), line_of(at)));
        }
    };
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in macros and identifiers ending in `crate` are not paths to this crate.
        if code[..at].ends_with(|c: char| c == '$' || c == '_' || c.is_alphanumeric()) {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            for name in top_level_names(group) {
                add(name, at);
            }
        } else {
            add(leading_name(rest), at);
        }
    }
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("super::") {
            continue; // counted from the first `super::` of a chain
        }
        let mut rest = &code[at..];
        let mut climbs = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = after;
        }
        // A file's own module is the last element of its path; `super` from it goes one up.
        let name = leading_name(rest);
        if climbs >= module.len() && modules.contains(name) {
            add(name, at);
        }
    }
    found
}

/// The names at the top level of a `use` group: `a::{x, y}, b }` → `[a, b]`.
fn top_level_names(group: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                names.push(leading_name(group[start..index].trim_start()));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                names.push(leading_name(group[start..index].trim_start()));
                start = index + 1;
            }
            _ => {}
        }
    }
    names
}

fn leading_name(path: &str) -> &str {
    let end = path
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(path.len());
    &path[..end]
}
