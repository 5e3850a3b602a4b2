//! Property tests of the scenario reader: scenario YAML generated from valid pieces (the valid
//! fixtures and the demo scenarios) and then broken (truncated, nested, sprinkled with random
//! bytes, given deep expressions, huge numbers or alias chains) always loads to a valid scenario
//! or to located errors: no panic, on a tokio worker's 2 MiB stack, within a time budget.
//!
//! 64 cases by default, so that `cargo test` stays fast; a long search:
//! `PROPTEST_CASES=100000 cargo test --test it -- properties::`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reenact::scenario::{self, LoadError};

use crate::support;

/// Most time one generated scenario may take to load (unoptimized build).
const BUDGET: Duration = Duration::from_secs(3);

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One way to break a scenario text; positions are fractions of its length.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep only the start.
    Truncate(f64),
    /// Insert bytes (any bytes: NUL, control characters, invalid UTF-8, YAML punctuation).
    Insert(f64, Vec<u8>),
    /// Open this many `[` or `{` at a position, closing them or not.
    Nest(f64, usize, bool, bool),
    /// Replace the digits after a position with a long run of digits.
    HugeNumber(f64, usize),
    /// Append an anchored list of `width` items aliased `count` times, `levels` deep.
    Aliases(usize, usize, usize),
    /// A small scenario holding generated expressions (XPath, JSONPath, regex, template).
    Expressions(String, String, String, String),
    /// Nothing: the piece as it is (valid pieces must stay valid).
    Unchanged,
}

/// Bytes that break YAML, scenario grammar or expressions in interesting ways.
fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
    let special: &[u8] = b"\0\x01\x1b\x7f\t\r\n :-[]{}&*!|>'\"#%@`,?$\\";
    proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(special),
            any::<u8>(),
            Just(0xc3u8),
            Just(0xffu8)
        ],
        1..12,
    )
}

fn expression(
    tokens: &'static [&'static str],
    open: &'static str,
    close: &'static str,
) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(proptest::sample::select(tokens), 0..40),
        0usize..1200,
    )
        .prop_map(move |(parts, depth)| {
            format!(
                "{}{}{}",
                open.repeat(depth),
                parts.concat(),
                close.repeat(depth)
            )
        })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fraction = 0.0f64..1.0;
    prop_oneof![
        fraction.clone().prop_map(Mutation::Truncate),
        (fraction.clone(), interesting_bytes()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (fraction.clone(), 0usize..3000, any::<bool>(), any::<bool>())
            .prop_map(|(at, n, curly, closed)| Mutation::Nest(at, n, curly, closed)),
        (fraction, 20usize..60).prop_map(|(at, digits)| Mutation::HugeNumber(at, digits)),
        (1usize..2000, 1usize..3000, 1usize..6)
            .prop_map(|(width, count, levels)| Mutation::Aliases(width, count, levels)),
        (
            expression(
                &[
                    "(", ")", "[", "]", "/", "//", "a", "@id", "*", "'x'", " and ", "=", "foo(",
                    "count(", "ns:a", "$v", "-"
                ],
                "(",
                ")"
            ),
            expression(
                &[
                    "$", ".", "..", "a", "*", "[", "]", "?", "@", "(", ")", "==", "&&", "!", "'s'",
                    "1", "length("
                ],
                "[?@",
                "]"
            ),
            expression(
                &[
                    "(", ")", "a", "|", "*", "+", "{1000}", "[a-z]", "\\w", "(?:", "\\"
                ],
                "(",
                ")"
            ),
            expression(
                &[
                    "{{",
                    "}}",
                    " ",
                    "a",
                    "env.A",
                    "now",
                    "|",
                    "upper",
                    "date(\"[year]\")",
                    "(",
                    ")",
                    "\""
                ],
                "",
                ""
            ),
        )
            .prop_map(|(x, j, r, t)| Mutation::Expressions(x, j, r, t)),
        Just(Mutation::Unchanged),
    ]
}

/// `text` as a double-quoted YAML string.
fn quoted(text: &str) -> String {
    format!("{text:?}")
}

fn apply(base: &[u8], mutation: &Mutation) -> Vec<u8> {
    let at = |fraction: f64| ((base.len() as f64) * fraction) as usize;
    match mutation {
        Mutation::Truncate(keep) => base[..at(*keep)].to_vec(),
        Mutation::Insert(position, bytes) => {
            let at = at(*position);
            [&base[..at], bytes, &base[at..]].concat()
        }
        Mutation::Nest(position, levels, curly, closed) => {
            let at = at(*position);
            let (open, close) = if *curly { ("{a: ", "}") } else { ("[", "]") };
            let mut nested = open.repeat(*levels);
            if *closed {
                nested.push('1');
                nested.push_str(&close.repeat(*levels));
            }
            [&base[..at], nested.as_bytes(), &base[at..]].concat()
        }
        Mutation::HugeNumber(position, digits) => {
            let at = at(*position);
            let start = base[at..]
                .iter()
                .position(u8::is_ascii_digit)
                .map_or(base.len(), |offset| at + offset);
            let end = base[start..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(base.len(), |offset| start + offset);
            [&base[..start], "9".repeat(*digits).as_bytes(), &base[end..]].concat()
        }
        Mutation::Aliases(width, count, levels) => {
            let mut text = String::from_utf8_lossy(base).into_owned();
            text.push_str(&format!("\nx0: &x0 [{}]\n", vec!["abcdefgh"; *width].join(", ")));
            for level in 1..*levels {
                let previous = format!("*x{}", level - 1);
                text.push_str(&format!(
                    "x{level}: &x{level} [{}]\n",
                    vec![previous.as_str(); *count].join(", ")
                ));
            }
            text.into_bytes()
        }
        Mutation::Expressions(xpath, jsonpath, regex, template) => format!(
            "id: generated\ntitle: generated expressions\nmocks:\n  m:\n    stubs:\n      - request: {{ xpath: [{}], jsonpath: [{}], path_regex: {} }}\n        response: {{ status: 200, body: {} }}\nflow:\n  - request: {{ method: GET, path: / }}\n    capture: {{ c: {} }}\nsnapshot:\n  redact: [{}]\n",
            quoted(xpath),
            quoted(jsonpath),
            quoted(regex),
            quoted(template),
            quoted(jsonpath),
            quoted(jsonpath),
        )
        .into_bytes(),
        Mutation::Unchanged => base.to_vec(),
    }
}

/// The valid pieces: every valid fixture and demo scenario, with the folder its files resolve
/// in.
fn pieces() -> Vec<(PathBuf, PathBuf, Vec<u8>)> {
    let repo = support::repo();
    let mut pieces = Vec::new();
    for (dir, root) in [
        ("tests/fixtures/valid", "tests/fixtures/valid"),
        ("scenarios", "."),
    ] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(repo.join(dir))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            pieces.push((path, repo.join(root), bytes));
        }
    }
    pieces
}

/// Load `bytes` and check the outcome: a scenario, or errors that are all located.
fn load_checked(path: &Path, root: &Path, bytes: &[u8], must_be_valid: bool) {
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(|| scenario::load_bytes(path, root, bytes));
    let took = started.elapsed();
    let shown = || String::from_utf8_lossy(&bytes[..bytes.len().min(600)]).into_owned();
    let outcome = outcome.unwrap_or_else(|_| panic!("panicked on {}", shown()));
    assert!(took < BUDGET, "took {took:?} on {}", shown());
    match outcome {
        Ok(_) => {}
        Err(LoadError::Invalid { diagnostics, .. }) => {
            assert!(
                !must_be_valid,
                "a valid piece became invalid: {diagnostics:?}"
            );
            assert!(
                !diagnostics.is_empty(),
                "invalid without errors: {}",
                shown()
            );
            for diagnostic in &diagnostics {
                assert!(
                    diagnostic.span.is_some(),
                    "unlocated `{}` on {}",
                    diagnostic.message,
                    shown()
                );
            }
        }
        Err(err) => panic!("{err} on {}", shown()),
    }
}

/// Broken scenarios load to located errors (or still valid scenarios), never panic, in budget.
#[test]
fn broken_scenarios_are_located_errors_within_budget() {
    let pieces = pieces();
    assert!(pieces.len() > 20, "too few valid pieces: {}", pieces.len());
    // The whole search runs on a tokio worker's stack size.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut runner = TestRunner::new(config());
            let strategy = (0..pieces.len(), mutation());
            runner
                .run(&strategy, |(index, mutation)| {
                    let (path, root, base) = &pieces[index];
                    let bytes = apply(base, &mutation);
                    let unchanged = matches!(mutation, Mutation::Unchanged);
                    load_checked(path, root, &bytes, unchanged);
                    Ok(())
                })
                .unwrap();
        })
        .unwrap()
        .join()
        .unwrap();
}
