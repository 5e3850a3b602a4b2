//! The entry point, [`convert`], and the top level of a scenario → [`Scenario`]: its id, title,
//! ticket, customers, severity, tags, root cause and clock, and each part handed to its grammar
//! area's module.

use std::path::Path;

use super::{Cx, include, present};
use crate::scenario::LoadError;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    ClockSpec, MockSpec, RootCause, Scenario, Severity, Source, StepAction,
};
use crate::scenario::yaml::{self, Node, NodeKind};

/// Convert the scenario `bytes` read from `path` (its files resolve inside `root`): the validated
/// scenario, or every problem found, in file order.
pub(crate) fn convert(path: &Path, root: &Path, bytes: &[u8]) -> Result<Scenario, LoadError> {
    let source_text = String::from_utf8_lossy(bytes).into_owned();
    let invalid = |diagnostics: Vec<Diagnostic>, source_text: String| LoadError::Invalid {
        path: path.to_path_buf(),
        source_text,
        diagnostics,
    };
    let node = match yaml::parse(bytes) {
        Ok(node) => node,
        Err(diagnostics) => return Err(invalid(diagnostics, source_text)),
    };
    let mut cx = Cx::new(path, root, &source_text);
    let scenario = cx.scenario(&node);
    let mut errors = cx.errors;
    let includes = cx.includes;
    match scenario {
        Some(scenario) if errors.is_empty() => Ok(scenario),
        _ => {
            if errors.is_empty() {
                errors.push(Diagnostic::new("invalid scenario", Some(node.span)));
            }
            // File order; file-level problems first. The sort is stable, so problems at the same
            // place keep the order they were found in.
            // Problems in included files come after the scenario's (their spans are shifted
            // past it), one file after the other, then move back into their files.
            errors.sort_by_key(|d| d.span.map(|s| (s.start, s.line)));
            include::attribute(&mut errors, &includes);
            Err(invalid(errors, source_text))
        }
    }
}

/// Check the mock definition `bytes` read from `path` (files it names resolve relative to it,
/// inside `root`) on its own, as a scenario that includes it and overrides nothing would: the
/// mock, named after the file, or every problem found, in file order.
pub(crate) fn convert_definition(
    path: &Path,
    root: &Path,
    bytes: &[u8],
) -> Result<MockSpec, LoadError> {
    let source_text = String::from_utf8_lossy(bytes).into_owned();
    let mut cx = Cx::new(path, root, &source_text);
    let name = definition_mock_name(path);
    cx.mocks.push(name.clone());
    let mock = cx
        .definition(bytes, 0)
        .and_then(|node| cx.mock(&name, &node));
    let mut errors = cx.errors;
    match mock {
        Some(mock) if errors.is_empty() => Ok(mock),
        _ => {
            if errors.is_empty() {
                errors.push(Diagnostic::new("invalid mock definition", None));
            }
            errors.sort_by_key(|d| d.span.map(|s| (s.start, s.line)));
            Err(LoadError::Invalid {
                path: path.to_path_buf(),
                source_text,
                diagnostics: errors,
            })
        }
    }
}

/// The mock name a definition checked on its own gets: its file name without the extension,
/// lowercased, other characters than letters, digits, `_` and `-` made `-`; `mock` when that
/// does not start with a letter.
fn definition_mock_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name
    } else {
        "mock".to_string()
    }
}

/// Top-level keys.
pub(super) const TOP_KEYS: &[&str] = &[
    "id",
    "title",
    "ticket",
    "customers",
    "impact",
    "severity",
    "tags",
    "root_cause",
    "clock",
    "mocks",
    "target",
    "flow",
    "expect",
    "snapshot",
];
pub(super) const CLOCK_KEYS: &[&str] = &["start"];

/// Longest id accepted, in characters: the id names snapshot files (`<id>.snap.new`), and file
/// names are limited (255 bytes on most file systems).
pub(crate) const MAX_ID_CHARS: usize = 100;

fn is_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

impl Cx<'_> {
    fn scenario(&mut self, node: &Node) -> Option<Scenario> {
        let context = "at the top level";
        let NodeKind::Mapping(_) = node.kind else {
            self.error(
                Diagnostic::new(
                    format!(
                        "expected a mapping at the top level, found {}",
                        node.describe()
                    ),
                    Some(node.span),
                )
                .with_help("a scenario is a mapping with at least `id`, `title` and `flow`"),
            );
            return None;
        };
        let fields = self.fields(node, TOP_KEYS, "scenario", context)?;
        for key in ["id", "title", "flow"] {
            if !fields.has(key) {
                self.missing(&fields, key, context);
            }
        }
        let id = fields.get("id").and_then(|value| {
            let id = self.string(value, "id", context)?;
            if id.len() > MAX_ID_CHARS {
                self.error(
                    Diagnostic::new(
                        format!(
                            "the id is {} characters long, more than the limit of {MAX_ID_CHARS}",
                            id.chars().count()
                        ),
                        Some(value.span),
                    )
                    .with_label("too long")
                    .with_help("the id names the scenario's snapshot file: keep it short"),
                );
                return None;
            }
            if is_id(&id) {
                return Some(id);
            }
            self.error(
                Diagnostic::new(format!("invalid id `{id}`"), Some(value.span))
                    .with_label("expected lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit"),
            );
            None
        });
        let title = fields
            .get("title")
            .and_then(|value| self.string(value, "title", context));
        let ticket = fields
            .get("ticket")
            .map(|value| self.string(value, "ticket", context));
        let customers = fields
            .get("customers")
            .map(|value| self.string_list(value, "customers", context));
        let impact = fields
            .get("impact")
            .map(|value| self.string(value, "impact", context));
        let tags = fields
            .get("tags")
            .map(|value| self.string_list(value, "tags", context));
        let severity = fields.get("severity").map(|value| self.severity(value));
        let root_cause = fields.get("root_cause").map(|value| self.root_cause(value));
        let clock = fields.get("clock").map(|value| self.clock(value));
        let mocks = fields.get("mocks").map(|value| self.mocks(value));
        let target = fields.get("target").map(|value| self.target(value));
        let flow = fields.get("flow").and_then(|value| self.flow(value));
        let expect = fields
            .get("expect")
            .map(|value| self.expectations(value, flow.as_deref().unwrap_or(&[])));
        let captures: Vec<String> = flow
            .iter()
            .flatten()
            .flat_map(|step| match &step.action {
                StepAction::Request { capture, .. }
                | StepAction::Poll { capture, .. }
                | StepAction::SsoLogin { capture, .. } => capture.as_slice(),
                StepAction::Webhook { .. } | StepAction::AdvanceClock { .. } => &[],
            })
            .map(|capture| capture.name.clone())
            .collect();
        let snapshot = fields
            .get("snapshot")
            .map(|value| self.snapshot(value, &captures));

        Some(Scenario {
            id: id?,
            title: title?,
            ticket: present(ticket)?,
            customers: present(customers)?.unwrap_or_default(),
            impact: present(impact)?,
            severity: present(severity)?,
            tags: present(tags)?.unwrap_or_default(),
            root_cause: present(root_cause)?,
            clock: present(clock)?.unwrap_or_default(),
            mocks: present(mocks)?.unwrap_or_default(),
            target: present(target)?.unwrap_or_default(),
            flow: flow?,
            expect: present(expect)?.unwrap_or_default(),
            snapshot: present(snapshot)?.unwrap_or_default(),
            source: Source {
                path: self.path.to_path_buf(),
                root: self.root.to_path_buf(),
                files: std::mem::take(&mut self.files),
                hash: hex(&sha2::Digest::finalize(self.hash.clone())),
            },
        })
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        self.choice(
            node,
            "severity",
            "at the top level",
            &[
                ("sev1", Severity::Sev1),
                ("sev2", Severity::Sev2),
                ("sev3", Severity::Sev3),
                ("sev4", Severity::Sev4),
            ],
        )
    }

    fn root_cause(&mut self, node: &Node) -> Option<RootCause> {
        self.choice(
            node,
            "root_cause",
            "at the top level",
            &[
                ("product-defect", RootCause::ProductDefect),
                ("configuration", RootCause::Configuration),
                ("data", RootCause::Data),
                ("external-dependency", RootCause::ExternalDependency),
                ("unknown", RootCause::Unknown),
            ],
        )
    }

    fn clock(&mut self, node: &Node) -> Option<ClockSpec> {
        let context = "in `clock`";
        let fields = self.fields(node, CLOCK_KEYS, "clock", context)?;
        let Some(start) = fields.get("start") else {
            return Some(ClockSpec::default());
        };
        let text = self.string(start, "start", context)?;
        let format = time::format_description::well_known::Rfc3339;
        match time::OffsetDateTime::parse(&text, &format) {
            Ok(_) => Some(ClockSpec { start: Some(text) }),
            Err(err) => {
                self.error(
                    Diagnostic::new(format!("invalid `clock.start` `{text}`"), Some(start.span))
                        .with_label(format!("expected an RFC 3339 instant: {err}"))
                        .with_help("write e.g. `2026-10-31T23:00:00Z`"),
                );
                None
            }
        }
    }
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::scenario::model::{DEFAULT_REQUEST_TIMEOUT, StepAction};

    fn load(text: &str) -> Result<Scenario, Vec<Diagnostic>> {
        match convert(Path::new("s.yaml"), &PathBuf::from("."), text.as_bytes()) {
            Ok(scenario) => Ok(scenario),
            Err(LoadError::Invalid { diagnostics, .. }) => Err(diagnostics),
            Err(err) => panic!("{err}"),
        }
    }

    #[test]
    fn minimal_scenario_loads_with_defaults() {
        let scenario =
            load("id: a\ntitle: t\nflow:\n  - request: { method: get, path: / }\n").unwrap();
        assert_eq!(scenario.flow[0].name, "step 1");
        let StepAction::Request { request, .. } = &scenario.flow[0].action else {
            panic!("not a request")
        };
        assert_eq!(request.method, "GET");
        assert_eq!(request.timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn template_errors_point_inside_the_string() {
        let errors =
            load("id: a\ntitle: t\nflow:\n  - request: { method: GET, path: \"/x/{{ nope }}\" }\n")
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        let span = errors[0].span.unwrap();
        assert_eq!((span.line, span.col), (4, 42));
        assert_eq!(span.end - span.start, 4);
    }

    #[test]
    fn captures_are_known_only_after_their_step() {
        let text = "id: a\ntitle: t\nflow:\n  - request: { method: GET, path: \"/{{ x }}\" }\n    capture: { x: $.id }\n  - request: { method: GET, path: \"/{{ x }}\" }\n";
        let errors = load(text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].span.unwrap().line, 4);
    }
}
