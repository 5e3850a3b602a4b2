//! `reenact import wiremock`: a mock definition from a WireMock root folder (`mappings/` and
//! `__files/`), keeping WireMock's matching where reenact can express it and warning, by file and
//! field, about everything it cannot, never dropping anything silently.
//!
//! What carries over (WireMock 3 stub mapping JSON, wiremock.org/docs/request-matching and
//! /docs/stubbing):
//! - `url` → `url` (path and query string exactly), `urlPath` → `path`, `urlPathTemplate` →
//!   `path` (same `{name}` syntax), `urlPathPattern` → `path_regex` (WireMock's `matches` is
//!   anchored on the whole value, as `path_regex` is); `basicAuthCredentials` → `basic_auth`;
//! - `queryParameters`, `headers`, `formParameters`: `equalTo` (with `caseInsensitive`),
//!   `contains`, `matches` (anchored for you: reenact's `regex` is not), `doesNotMatch`, `absent`;
//! - `bodyPatterns`: `equalToJson` (`json`, or `json_like` with `ignoreArrayOrder` and
//!   `ignoreExtraElements`), `matchesJsonPath` (an expression, or one with `equalTo`),
//!   `contains`, `matchesXPath` (an expression, or one with `equalTo`/`contains`/`matches`);
//! - `cookies` → `cookies` (the same string matchers); `multipartPatterns` → `multipart`
//!   ([`multipart_pattern`]);
//! - `priority` (the same scale, default 5) and WireMock's tie rule: among equal priorities the
//!   most recently added stub wins, so stubs are written last-loaded first;
//! - `scenarioName` / `requiredScenarioState` / `newScenarioState` → `state`;
//! - `status`, `headers`, `body`, `jsonBody`, `base64Body` (text), `bodyFileName` (copied), and
//!   with `response-template` the Handlebars expressions that mean the same in reenact
//!   ([`handlebars`]);
//! - `fixedDelayMilliseconds` → `delay`; `fault`: `EMPTY_RESPONSE` → `empty`,
//!   `CONNECTION_RESET_BY_PEER` → `reset`, `RANDOM_DATA_THEN_CLOSE` → `garbage`,
//!   `MALFORMED_RESPONSE_CHUNK` → `malformed_chunk`.
//!
//! Mapping files are the user's own fixtures, so matchers and bodies are written as they are (a
//! test credential in a header matcher must still match); what is printed goes through the
//! terminal's redaction.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::quoted;
use super::stubs::holds_braces;
use crate::scenario::paths::{self, MAX_FILE_BYTES, MAX_FILES_TOTAL_BYTES};
use handlebars::handlebars;

mod handlebars;

/// Most mapping files read.
pub(crate) const MAX_MAPPING_FILES: usize = 5_000;

/// Most stubs in all.
pub(crate) const MAX_STUBS: usize = 10_000;

/// What the import made.
pub(crate) struct Converted {
    /// Files relative to the mocks folder: `NAME.yaml` first, then `payloads/NAME/…`.
    pub(crate) files: Vec<(String, String)>,
    /// What could not be carried over exactly, each naming the mapping file and field.
    pub(crate) warnings: Vec<String>,
    /// Stubs written.
    pub(crate) stubs: usize,
    /// Mappings skipped whole.
    pub(crate) skipped: usize,
}

/// Why a folder cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WiremockError {
    /// No `mappings/` folder.
    #[error("`{}` has no `mappings` folder", root.display())]
    NoMappings {
        /// The folder given.
        root: PathBuf,
    },
    /// Reading a file or folder failed.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// What.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Over the limits.
    #[error("{what}: more than {limit}")]
    TooMany {
        /// What there are too many of.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

/// One stub mapping with the file it came from.
struct Mapping {
    file: String,
    value: Map<String, Value>,
}

/// Import the WireMock root `root` as the mock definition `name`.
pub(crate) fn import(root: &Path, name: &str, command: &str) -> Result<Converted, WiremockError> {
    let mappings_dir = root.join("mappings");
    if !mappings_dir.is_dir() {
        return Err(WiremockError::NoMappings {
            root: root.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    let mut not_files = Vec::new();
    list_json(&mappings_dir, &mut files, &mut not_files)?;
    files.sort();
    let mut warnings: Vec<String> = not_files
        .iter()
        .map(|path| {
            let shown = path.strip_prefix(root).unwrap_or(path).display();
            format!(
                "{shown}: not a regular file (a symlink, FIFO or device is never read); skipped"
            )
        })
        .collect();
    let mut mappings = Vec::new();
    let mut skipped = not_files.len();
    for file in &files {
        let shown = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        let bytes = read(file)?;
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(value) => value,
            Err(err) => {
                warnings.push(format!("{shown}: not JSON ({err}); skipped"));
                skipped += 1;
                continue;
            }
        };
        // A file holds one mapping, or `{ "mappings": [ … ] }`.
        let list = match value {
            Value::Object(mut object) if object.contains_key("mappings") => {
                match object.remove("mappings") {
                    Some(Value::Array(items)) => items,
                    _ => {
                        warnings.push(format!("{shown}: `mappings` is not a list; skipped"));
                        skipped += 1;
                        continue;
                    }
                }
            }
            other => vec![other],
        };
        for (index, item) in list.into_iter().enumerate() {
            let file = if index == 0 {
                shown.clone()
            } else {
                format!("{shown}#{index}")
            };
            match item {
                Value::Object(value) => mappings.push(Mapping { file, value }),
                _ => {
                    warnings.push(format!("{file}: a mapping must be an object; skipped"));
                    skipped += 1;
                }
            }
            if mappings.len() > MAX_STUBS {
                return Err(WiremockError::TooMany {
                    what: "stub mappings",
                    limit: MAX_STUBS,
                });
            }
        }
    }
    // WireMock: among equal priorities, the most recently added stub wins; reenact takes the
    // first in the file. Files are read in path order, so the last read is written first.
    mappings.reverse();
    let mut out = Vec::new();
    let mut payload_files: Vec<(String, String)> = Vec::new();
    let mut payload_bytes = 0usize;
    for mapping in &mappings {
        let mut warn = |field: &str, why: String| {
            warnings.push(format!("{}: `{field}`: {why}", mapping.file));
        };
        match stub(
            mapping,
            root,
            name,
            &mut warn,
            &mut payload_files,
            &mut payload_bytes,
        ) {
            Some(stub) => out.push(stub),
            None => skipped += 1,
        }
    }
    let mut text = format!(
        "# Imported by `{command}`: {} stub{} from {} mapping file{}.\n",
        out.len(),
        if out.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    text.push_str(
        "# WireMock prefers the most recently added of equal-priority stubs, reenact the first in\n\
         # the file: the stubs are in reverse load order (files by path) to keep WireMock's choice.\n",
    );
    for warning in &warnings {
        let _ = writeln!(text, "# - {warning}");
    }
    if out.is_empty() {
        text.push_str("stubs: []\n");
    } else {
        text.push_str("stubs:\n");
        for stub in &out {
            write_stub(&mut text, stub);
        }
    }
    let stubs = out.len();
    let mut files_out = vec![(format!("{name}.yaml"), text)];
    files_out.extend(payload_files);
    Ok(Converted {
        files: files_out,
        warnings,
        stubs,
        skipped,
    })
}

/// Every `.json` file under `dir`, recursively, within [`MAX_MAPPING_FILES`]; `.json` entries
/// that are not regular files (symlinks included) go to `not_files`, to be warned about.
fn list_json(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    not_files: &mut Vec<PathBuf>,
) -> Result<(), WiremockError> {
    let entries = std::fs::read_dir(dir).map_err(|source| WiremockError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| WiremockError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|source| WiremockError::Read {
            path: path.clone(),
            source,
        })?;
        let json = path.extension().is_some_and(|ext| ext == "json");
        if kind.is_dir() {
            list_json(&path, out, not_files)?;
        } else if json && kind.is_file() {
            out.push(path);
        } else if json {
            not_files.push(path);
        }
        if out.len() + not_files.len() > MAX_MAPPING_FILES {
            return Err(WiremockError::TooMany {
                what: "mapping files",
                limit: MAX_MAPPING_FILES,
            });
        }
    }
    Ok(())
}

/// A file's bytes, a regular file within [`MAX_FILE_BYTES`].
fn read(path: &Path) -> Result<Vec<u8>, WiremockError> {
    let bytes = paths::read_regular(path, MAX_FILE_BYTES).map_err(|err| WiremockError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::other(err.to_string()),
    })?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(WiremockError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("larger than {MAX_FILE_BYTES} bytes")),
        });
    }
    Ok(bytes)
}

/// One stub, as the JSON of its YAML (flow mappings are JSON), or `None` when the mapping
/// cannot be carried over at all (warned).
fn stub(
    mapping: &Mapping,
    root: &Path,
    name: &str,
    warn: &mut dyn FnMut(&str, String),
    payloads: &mut Vec<(String, String)>,
    payload_bytes: &mut usize,
) -> Option<Map<String, Value>> {
    let value = &mapping.value;
    let mut stub = Map::new();
    let title = value
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| mapping.file.clone());
    stub.insert("name".into(), json!(title));
    for (key, item) in value {
        match key.as_str() {
            "name"
            | "request"
            | "response"
            | "id"
            | "uuid"
            | "metadata"
            | "persistent"
            | "scenarioName"
            | "requiredScenarioState"
            | "newScenarioState"
            | "priority" => {}
            "postServeActions" | "serveEventListeners" => warn(
                key,
                "webhooks and listeners are not imported; declare them as reenact webhooks".into(),
            ),
            other => warn(
                other,
                "not a WireMock mapping field reenact knows; ignored".into(),
            ),
        }
        let _ = item;
    }
    if let Some(priority) = value.get("priority") {
        match priority.as_u64() {
            Some(p @ 1..=255) => {
                stub.insert("priority".into(), json!(p));
            }
            _ => warn(
                "priority",
                format!("{priority} is outside 1 … 255; left at 5"),
            ),
        }
    }
    let request = value.get("request").and_then(Value::as_object)?;
    let matcher = request_matcher(request, warn)?;
    stub.insert("request".into(), Value::Object(matcher));
    let response = value
        .get("response")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (answer, faults) = response_of(&response, root, name, warn, payloads, payload_bytes)?;
    stub.insert("response".into(), Value::Object(answer));
    if let Some(machine) = value.get("scenarioName").and_then(Value::as_str) {
        let mut state = Map::new();
        state.insert("machine".into(), json!(machine));
        if let Some(when) = value.get("requiredScenarioState").and_then(Value::as_str) {
            state.insert("when".into(), json!(when));
        }
        if let Some(set) = value.get("newScenarioState").and_then(Value::as_str) {
            state.insert("set".into(), json!(set));
        }
        stub.insert("state".into(), Value::Object(state));
    }
    if !faults.is_empty() {
        stub.insert("faults".into(), Value::Array(faults));
    }
    Some(stub)
}

/// The request matcher of a mapping's `request`, or `None` when its URL cannot be matched.
fn request_matcher(
    request: &Map<String, Value>,
    warn: &mut dyn FnMut(&str, String),
) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for (key, value) in request {
        let field = format!("request.{key}");
        match key.as_str() {
            "method" => {
                if let Some(method) = value.as_str().filter(|m| *m != "ANY") {
                    out.insert("method".into(), json!(method));
                }
            }
            "urlPath" | "urlPathTemplate" => {
                out.insert("path".into(), value.clone());
            }
            "url" => {
                out.insert("url".into(), value.clone());
            }
            "basicAuthCredentials" => {
                let credentials = value.as_object().and_then(|object| {
                    let username = object.get("username")?.as_str()?;
                    let password = object.get("password")?.as_str()?;
                    Some(json!({ "username": username, "password": password }))
                });
                match credentials {
                    Some(credentials) => {
                        out.insert("basic_auth".into(), credentials);
                    }
                    None => warn(&field, "needs text `username` and `password`; this condition is not imported, so the stub matches more".into()),
                }
            }
            "urlPathPattern" | "urlPattern" => {
                let pattern = value.as_str().unwrap_or_default();
                if regex::Regex::new(pattern).is_err() {
                    warn(
                        &field,
                        format!(
                            "`{pattern}` is not a regex reenact can compile (Java and Rust regex syntax differ); mapping skipped"
                        ),
                    );
                    return None;
                }
                let key = if key == "urlPattern" {
                    "url_regex"
                } else {
                    "path_regex"
                };
                out.insert(key.into(), json!(pattern));
            }
            "queryParameters" | "headers" | "formParameters" => {
                let target = match key.as_str() {
                    "queryParameters" => "query",
                    "headers" => "headers",
                    _ => "form",
                };
                if let Some(converted) = value_matchers(value, &field, warn) {
                    out.insert(target.into(), Value::Object(converted));
                }
            }
            "bodyPatterns" => {
                for (index, pattern) in value.as_array().into_iter().flatten().enumerate() {
                    if let Err(why) = body_pattern(pattern, &mut out) {
                        warn(
                            &format!("{field}[{index}]"),
                            format!(
                                "{why}; this condition is not imported, so the stub matches more"
                            ),
                        );
                    }
                }
                if let Err(why) = finish_jsonpaths(&mut out) {
                    warn(
                        &field,
                        format!(
                            "{why}; the JSONPath conditions are not imported, so the stub matches more"
                        ),
                    );
                }
            }
            "cookies" => {
                if let Some(converted) = value_matchers(value, &field, warn) {
                    out.insert("cookies".into(), Value::Object(converted));
                }
            }
            "multipartPatterns" => {
                let Some(patterns) = value.as_array() else {
                    warn(&field, "not a list; ignored".into());
                    continue;
                };
                let parts: Vec<Value> = patterns
                    .iter()
                    .enumerate()
                    .filter_map(|(index, pattern)| {
                        multipart_pattern(pattern, &format!("{field}[{index}]"), warn)
                    })
                    .collect();
                if !parts.is_empty() {
                    out.insert("multipart".into(), Value::Array(parts));
                }
            }
            "customMatcher" | "host" | "port" | "scheme" | "clientIp" | "pathParameters" => {
                warn(&field, "reenact has no such matcher yet; this condition is not imported, so the stub matches more".into());
            }
            _ => warn(
                &field,
                "not a WireMock request field reenact knows; ignored".into(),
            ),
        }
    }
    Some(out)
}

/// One of WireMock's `multipartPatterns` (`MultipartValuePattern`) as an item of reenact's
/// `multipart`, or `None` when it cannot be (warned). WireMock's `name` is a label it never
/// matches on (its Java builder writes the name as a `Content-Disposition` condition), so it is
/// left out; `matchingType` `ANY` (the default) or `ALL` → `match`; `headers` take the value
/// matchers of request headers; each body pattern a part condition: `equalTo`, `matches`,
/// `doesNotMatch`, `absent` → `body`, `contains`, `equalToJson`, `matchesJsonPath`,
/// `matchesXPath` as for a request body.
fn multipart_pattern(
    pattern: &Value,
    field: &str,
    warn: &mut dyn FnMut(&str, String),
) -> Option<Value> {
    const MATCHES_MORE: &str = "this condition is not imported, so the stub matches more";
    let Some(object) = pattern.as_object() else {
        warn(field, format!("not a mapping; {MATCHES_MORE}"));
        return None;
    };
    let mut part = Map::new();
    for (key, value) in object {
        let inner = format!("{field}.{key}");
        match key.as_str() {
            "name" => {}
            "matchingType" => match value.as_str() {
                Some("ANY") => {
                    part.insert("match".into(), json!("any"));
                }
                Some("ALL") => {
                    part.insert("match".into(), json!("all"));
                }
                _ => {
                    warn(
                        &inner,
                        format!("{value} is neither `ANY` nor `ALL`; {MATCHES_MORE}"),
                    );
                    return None;
                }
            },
            "headers" => {
                if let Some(converted) = value_matchers(value, &inner, warn) {
                    part.insert("headers".into(), Value::Object(converted));
                }
            }
            "bodyPatterns" => {
                for (index, body) in value.as_array().into_iter().flatten().enumerate() {
                    let text = body
                        .as_object()
                        .filter(|object| {
                            ["equalTo", "matches", "doesNotMatch", "absent"]
                                .iter()
                                .any(|key| object.contains_key(*key))
                        })
                        .map(|_| value_matcher(body));
                    let result = match text {
                        Some(Ok(_)) if part.contains_key("body") => {
                            Err("a second text condition on one part".to_owned())
                        }
                        Some(Ok(matcher)) => {
                            part.insert("body".into(), matcher);
                            Ok(())
                        }
                        Some(Err(why)) => Err(why),
                        None => body_pattern(body, &mut part),
                    };
                    if let Err(why) = result {
                        warn(
                            &format!("{inner}[{index}]"),
                            format!("{why}; {MATCHES_MORE}"),
                        );
                    }
                }
                if let Err(why) = finish_jsonpaths(&mut part) {
                    warn(
                        &inner,
                        format!(
                            "{why}; the JSONPath conditions are not imported, so the stub matches more"
                        ),
                    );
                }
            }
            _ => warn(&inner, format!("has no reenact equivalent; {MATCHES_MORE}")),
        }
    }
    Some(Value::Object(part))
}

/// A WireMock mapping name → string-value matcher (`queryParameters`, `headers`,
/// `formParameters`, `cookies`, a multipart pattern's `headers`) as reenact value matchers, each
/// matcher that has no equivalent named; `None` when none is left.
fn value_matchers(
    value: &Value,
    field: &str,
    warn: &mut dyn FnMut(&str, String),
) -> Option<Map<String, Value>> {
    let Some(matchers) = value.as_object() else {
        warn(field, "not a mapping; ignored".into());
        return None;
    };
    let mut converted = Map::new();
    for (name, matcher) in matchers {
        match value_matcher(matcher) {
            Ok(matcher) => {
                converted.insert(name.clone(), matcher);
            }
            Err(why) => warn(
                &format!("{field}.{name}"),
                format!("{why}; this condition is not imported, so the stub matches more"),
            ),
        }
    }
    (!converted.is_empty()).then_some(converted)
}

/// A WireMock string-value matcher as a reenact value matcher.
fn value_matcher(matcher: &Value) -> Result<Value, String> {
    let Some(object) = matcher.as_object() else {
        return Err("not a matcher mapping".into());
    };
    let insensitive = object.get("caseInsensitive").and_then(Value::as_bool) == Some(true);
    let mut converted = None;
    for (key, value) in object {
        let text = value.as_str().map(str::to_owned);
        let this = match (key.as_str(), text) {
            ("caseInsensitive", _) => continue,
            ("equalTo", Some(text)) if insensitive => {
                json!({ "regex": format!("(?i)^(?:{})$", regex::escape(&text)) })
            }
            ("equalTo", Some(text)) => json!({ "equals": text }),
            ("contains", Some(text)) => json!({ "contains": text }),
            ("matches", Some(text)) => json!({ "regex": anchored(&text)? }),
            ("doesNotMatch", Some(text)) => json!({ "not": { "regex": anchored(&text)? } }),
            ("absent", _) if value.as_bool() == Some(true) => json!({ "present": false }),
            (other, _) => return Err(format!("the matcher `{other}` has no reenact equivalent")),
        };
        if converted.replace(this).is_some() {
            return Err("more than one matcher in one mapping".into());
        }
    }
    converted.ok_or_else(|| "no matcher".into())
}

/// `pattern` anchored on the whole value, as WireMock's `matches` is, if it compiles.
fn anchored(pattern: &str) -> Result<String, String> {
    let anchored = format!("^(?:{pattern})$");
    regex::Regex::new(&anchored).map(|_| anchored).map_err(|_| {
        format!(
            "`{pattern}` is not a regex reenact can compile (Java and Rust regex syntax differ)"
        )
    })
}

/// Marks a JSONPath that must only select something, until [`finish_jsonpaths`].
const EXISTS: &str = "$reenact-exists";

/// `jsonpath` as reenact takes it: a list when every path only has to select something, a
/// mapping of expected values when none is; both at once cannot be written (an error).
fn finish_jsonpaths(out: &mut Map<String, Value>) -> Result<(), String> {
    let Some(Value::Object(paths)) = out.get("jsonpath") else {
        return Ok(());
    };
    let exists = |value: &Value| value.get(EXISTS).is_some();
    if paths.values().all(exists) {
        let list: Vec<Value> = paths.keys().map(|path| json!(path)).collect();
        out.insert("jsonpath".into(), Value::Array(list));
        Ok(())
    } else if paths.values().any(exists) {
        out.remove("jsonpath");
        Err("`matchesJsonPath` with and without `equalTo` in one mapping cannot be written as one reenact `jsonpath`".into())
    } else {
        Ok(())
    }
}

/// Add one WireMock body pattern to a reenact request matcher.
fn body_pattern(pattern: &Value, out: &mut Map<String, Value>) -> Result<(), String> {
    let object = pattern.as_object().ok_or("not a mapping")?;
    let flag = |name: &str| object.get(name).and_then(Value::as_bool) == Some(true);
    if let Some(expected) = object.get("equalToJson") {
        let expected = match expected {
            Value::String(text) => serde_json::from_str(text)
                .map_err(|_| "`equalToJson` holds text that is not JSON".to_owned())?,
            other => other.clone(),
        };
        let (key, condition) = match (flag("ignoreArrayOrder"), flag("ignoreExtraElements")) {
            (false, false) => ("json", expected),
            (order, extra) => (
                "json_like",
                json!({ "value": expected, "ignore_array_order": order, "ignore_extra_elements": extra }),
            ),
        };
        if out.insert(key.into(), condition).is_some() {
            return Err(format!("a second `{key}` condition"));
        }
        return Ok(());
    }
    if let Some(path) = object.get("matchesJsonPath") {
        let entry = out
            .entry("jsonpath")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(paths) = entry else {
            return Err("mixed JSONPath forms".into());
        };
        match path {
            // Existence: the list form, kept apart until the stub is done (`finish_jsonpaths`).
            Value::String(expression) => {
                paths.insert(expression.clone(), json!({ EXISTS: true }));
            }
            Value::Object(spec) => {
                let expression = spec
                    .get("expression")
                    .and_then(Value::as_str)
                    .ok_or("`matchesJsonPath` without `expression`")?;
                let equal = spec
                    .get("equalTo")
                    .filter(|_| spec.len() == 2)
                    .ok_or("only `matchesJsonPath` with `equalTo` is imported")?;
                paths.insert(expression.to_owned(), equal.clone());
            }
            _ => return Err("`matchesJsonPath` is neither text nor a mapping".into()),
        }
        return Ok(());
    }
    if let Some(path) = object.get("matchesXPath") {
        let entry = out
            .entry("xpath")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(paths) = entry else {
            return Err("mixed XPath forms".into());
        };
        if object.contains_key("xPathNamespaces") {
            return Err("`xPathNamespaces` has no reenact equivalent (use `local-name()`)".into());
        }
        match path {
            Value::String(expression) => {
                paths.insert(expression.clone(), json!({ "present": true }));
            }
            Value::Object(spec) => {
                let expression = spec
                    .get("expression")
                    .and_then(Value::as_str)
                    .ok_or("`matchesXPath` without `expression`")?;
                let mut rest = spec.clone();
                rest.remove("expression");
                let matcher = value_matcher(&Value::Object(rest))?;
                paths.insert(expression.to_owned(), matcher);
            }
            _ => return Err("`matchesXPath` is neither text nor a mapping".into()),
        }
        return Ok(());
    }
    if let Some(text) = object.get("contains").and_then(Value::as_str) {
        if out.contains_key("body_contains") {
            return Err("a second `contains` on the body".into());
        }
        out.insert("body_contains".into(), json!(text));
        return Ok(());
    }
    let kind = object.keys().next().cloned().unwrap_or_default();
    Err(format!(
        "the body matcher `{kind}` has no reenact equivalent"
    ))
}

/// The stub's response and faults from a mapping's `response`, or `None` when the body cannot
/// be carried over (warned).
fn response_of(
    response: &Map<String, Value>,
    root: &Path,
    name: &str,
    warn: &mut dyn FnMut(&str, String),
    payloads: &mut Vec<(String, String)>,
    payload_bytes: &mut usize,
) -> Option<(Map<String, Value>, Vec<Value>)> {
    let mut out = Map::new();
    let mut fixed_ms = 0u64;
    let mut distribution: Option<Map<String, Value>> = None;
    let mut dribble: Option<Value> = None;
    let mut closing: Option<Value> = None;
    let templated = response
        .get("transformers")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|t| t == "response-template"));
    // Text the answer sends: a Handlebars template translated when `response-template` is on,
    // else literal text (which may not hold `{{`, a reenact placeholder).
    // Header values and `jsonBody` strings are always reenact templates: without the transformer,
    // their braces are written as quoted texts, so they send what WireMock sends.
    let carry = |text: &str| -> Result<String, String> {
        if templated {
            handlebars(text)
        } else {
            Ok(crate::scenario::template::escape(text))
        }
    };
    // A body without the template transformer is sent as written: with braces, `template: false`.
    let literal = std::cell::Cell::new(false);
    let carry_body = |text: &str| -> Result<String, String> {
        if templated {
            handlebars(text)
        } else {
            literal.set(literal.get() || holds_braces(text));
            Ok(text.to_owned())
        }
    };
    for (key, value) in response {
        let field = format!("response.{key}");
        match key.as_str() {
            "status" => {
                out.insert("status".into(), value.clone());
            }
            "statusMessage" => warn(&field, "reenact sends the standard reason phrase".into()),
            "headers" => {
                let mut headers = Map::new();
                for (header, value) in value.as_object().into_iter().flatten() {
                    match value {
                        Value::String(text) => match carry(text) {
                            Ok(text) => {
                                headers.insert(header.clone(), json!(text));
                            }
                            Err(why) => {
                                warn(
                                    &format!("{field}.{header}"),
                                    format!("{why}; mapping skipped"),
                                );
                                return None;
                            }
                        },
                        Value::Array(items) if !items.is_empty() => {
                            let mut values = Vec::with_capacity(items.len());
                            for item in items {
                                let text = item
                                    .as_str()
                                    .map_or_else(|| item.to_string(), str::to_owned);
                                match carry(&text) {
                                    Ok(text) => values.push(json!(text)),
                                    Err(why) => {
                                        warn(
                                            &format!("{field}.{header}"),
                                            format!("{why}; mapping skipped"),
                                        );
                                        return None;
                                    }
                                }
                            }
                            headers.insert(header.clone(), Value::Array(values));
                        }
                        Value::Array(_) => warn(
                            &format!("{field}.{header}"),
                            "an empty list of values; the header is not sent".into(),
                        ),
                        other => {
                            headers.insert(header.clone(), json!(other.to_string()));
                        }
                    }
                }
                if !headers.is_empty() {
                    out.insert("headers".into(), Value::Object(headers));
                }
            }
            "body" => {
                let text = value
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| value.to_string());
                match carry_body(&text) {
                    Ok(text) => {
                        out.insert("body".into(), json!(text));
                    }
                    Err(why) => {
                        warn(&field, format!("{why}; mapping skipped"));
                        return None;
                    }
                }
            }
            "jsonBody" => match map_strings(value, &carry) {
                Ok(json) => {
                    out.insert("json".into(), json);
                }
                Err(why) => {
                    warn(&field, format!("{why}; mapping skipped"));
                    return None;
                }
            },
            "base64Body" => {
                let decoded = value
                    .as_str()
                    .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                    .and_then(|bytes| String::from_utf8(bytes).ok());
                match decoded.as_deref().map(carry_body) {
                    Some(Ok(text)) => {
                        out.insert("body".into(), json!(text));
                    }
                    Some(Err(why)) => {
                        warn(&field, format!("{why}; mapping skipped"));
                        return None;
                    }
                    None => {
                        warn(
                            &field,
                            "not base64 of UTF-8 text: reenact bodies are text; mapping skipped"
                                .into(),
                        );
                        return None;
                    }
                }
            }
            "bodyFileName" => {
                let file = value.as_str().unwrap_or_default();
                let source = match paths::resolve_in_root(&root.join("__files"), file) {
                    Ok(path) => path,
                    Err(err) => {
                        warn(&field, format!("`__files/{file}`: {err}; mapping skipped"));
                        return None;
                    }
                };
                let text = match read(&source).ok().and_then(|b| String::from_utf8(b).ok()) {
                    Some(text) => text,
                    None => {
                        warn(
                            &field,
                            format!(
                                "`__files/{file}` is not readable UTF-8 text within {MAX_FILE_BYTES} bytes; mapping skipped"
                            ),
                        );
                        return None;
                    }
                };
                let text = match carry_body(&text) {
                    Ok(text) => text,
                    Err(why) => {
                        warn(&field, format!("the file: {why}; mapping skipped"));
                        return None;
                    }
                };
                if *payload_bytes + text.len() > MAX_FILES_TOTAL_BYTES {
                    warn(
                        &field,
                        format!(
                            "the body files would pass the {MAX_FILES_TOTAL_BYTES} bytes a scenario may read; mapping skipped"
                        ),
                    );
                    return None;
                }
                *payload_bytes += text.len();
                // WireMock sends a body file's bytes as they are; reenact parses a `.json` body
                // file and sends it re-serialized, so such a file is copied as `.json.raw`.
                let mut target = format!("payloads/{name}/{}", file.trim_start_matches('/'));
                if target.ends_with(".json") {
                    target.push_str(".raw");
                }
                if !payloads.iter().any(|(known, _)| *known == target) {
                    payloads.push((target.clone(), text));
                }
                out.insert("body_file".into(), json!(target));
            }
            "fixedDelayMilliseconds" => match value.as_u64() {
                Some(ms) => fixed_ms = fixed_ms.saturating_add(ms),
                None => warn(&field, "not a number of milliseconds; ignored".into()),
            },
            "delayDistribution" => match delay_distribution(value) {
                Ok(Some(draw)) => distribution = Some(draw),
                Ok(None) => {
                    // `fixed`: its milliseconds add to the fixed delay, as in WireMock.
                    fixed_ms = fixed_ms.saturating_add(
                        value
                            .get("milliseconds")
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                    );
                }
                Err(why) => warn(&field, format!("{why}; the stub answers without it")),
            },
            "chunkedDribbleDelay" => {
                let number = |key| value.get(key).and_then(Value::as_u64);
                match (number("numberOfChunks"), number("totalDuration")) {
                    (Some(chunks), Some(total)) => {
                        // WireMock treats fewer than 1 chunk as 1 (`BodyChunker`).
                        let chunks = chunks.clamp(1, 100_000);
                        dribble = Some(
                            json!({ "slow_body": { "chunks": chunks, "over": format!("{total}ms") } }),
                        );
                    }
                    _ => warn(
                        &field,
                        "needs whole numbers `numberOfChunks` and `totalDuration`; the stub answers at once".into(),
                    ),
                }
            }
            "fault" => {
                let action = match value.as_str() {
                    Some("EMPTY_RESPONSE") => json!({ "empty": true }),
                    Some("CONNECTION_RESET_BY_PEER") => json!({ "reset": true }),
                    Some("RANDOM_DATA_THEN_CLOSE") => json!({ "garbage": {} }),
                    Some("MALFORMED_RESPONSE_CHUNK") => json!({ "malformed_chunk": true }),
                    other => {
                        warn(
                            &field,
                            format!(
                                "{} has no reenact equivalent yet; the stub answers normally",
                                other.unwrap_or("this fault")
                            ),
                        );
                        continue;
                    }
                };
                closing = Some(action);
            }
            "transformers" | "transformerParameters" => {}
            "proxyBaseUrl" | "additionalProxyRequestHeaders" | "removeProxyRequestHeaders" => {
                warn(
                    &field,
                    "reenact never proxies to another host; mapping skipped".into(),
                );
                return None;
            }
            _ => warn(
                &field,
                "not a WireMock response field reenact knows; ignored".into(),
            ),
        }
    }
    // reenact fires one fault per request. A fault that closes the connection makes a delay
    // moot (the client sees the same error, sooner); a dribble takes the place of a delay.
    let delay = match distribution {
        Some(mut draw) => {
            if fixed_ms > 0 {
                draw.insert("fixed".into(), json!(format!("{fixed_ms}ms")));
            }
            Some(json!({ "delay": draw }))
        }
        None => (fixed_ms > 0).then(|| json!({ "delay": format!("{fixed_ms}ms") })),
    };
    let action = match (closing, dribble, delay) {
        (Some(closing), _, _) => Some(closing),
        (None, Some(dribble), Some(_)) => {
            warn(
                "response.chunkedDribbleDelay",
                "with a delay: reenact fires one fault per request, so the body is dribbled and the delay before it is left out".into(),
            );
            Some(dribble)
        }
        (None, dribble, delay) => dribble.or(delay),
    };
    let faults = action
        .into_iter()
        .map(|action| json!({ "action": action }))
        .collect();
    if literal.get() {
        out.insert("template".into(), json!(false));
    }
    Some((out, faults))
}

/// A WireMock `delayDistribution` as the body of a reenact drawn `delay` (`Ok(None)` for the
/// `fixed` type, whose milliseconds simply add up).
fn delay_distribution(value: &Value) -> Result<Option<Map<String, Value>>, String> {
    let number = |key| value.get(key).and_then(Value::as_f64).filter(|n| *n >= 0.0);
    let ms = |n: f64| json!(format!("{}ms", n.round() as u64));
    let draw = match value.get("type").and_then(Value::as_str) {
        Some("fixed") => return Ok(None),
        Some("uniform") => {
            let (Some(lower), Some(upper)) = (number("lower"), number("upper")) else {
                return Err("`uniform` needs numbers `lower` and `upper`".into());
            };
            if lower > upper {
                return Err("`lower` is above `upper`".into());
            }
            json!({ "uniform": { "lower": ms(lower), "upper": ms(upper) } })
        }
        Some("lognormal") => {
            let (Some(median), Some(sigma)) = (number("median"), number("sigma")) else {
                return Err("`lognormal` needs numbers `median` and `sigma`".into());
            };
            if sigma > 10.0 {
                return Err(format!("`sigma` {sigma} is over the 10 reenact takes"));
            }
            let mut lognormal = json!({ "median": ms(median), "sigma": sigma });
            if let Some(max) = number("maxValue") {
                if max < median {
                    return Err("`maxValue` is below `median`".into());
                }
                lognormal["max"] = ms(max);
            }
            json!({ "lognormal": lognormal })
        }
        other => {
            return Err(format!(
                "the type {} is not one WireMock has (`lognormal`, `uniform`, `fixed`)",
                other.map_or_else(|| "(none)".to_owned(), |t| format!("`{t}`"))
            ));
        }
    };
    Ok(draw.as_object().cloned())
}

/// Every string leaf of a JSON value through `convert`.
fn map_strings(
    value: &Value,
    convert: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => Value::String(convert(text)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| map_strings(item, convert))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), map_strings(item, convert)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// One stub, its keys on their own lines, values in JSON flow style (valid YAML).
fn write_stub(out: &mut String, stub: &Map<String, Value>) {
    let mut first = true;
    for (key, value) in stub {
        let lead = if first { "  - " } else { "    " };
        first = false;
        let value = match value {
            Value::String(text) => quoted(text),
            other => other.to_string(),
        };
        let _ = writeln!(out, "{lead}{key}: {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_distributions_become_drawn_delays_or_say_why_not() {
        let draw = |value: Value| delay_distribution(&value).map(|d| d.map(Value::Object));
        assert_eq!(
            draw(json!({ "type": "uniform", "lower": 100, "upper": 200 })),
            Ok(Some(
                json!({ "uniform": { "lower": "100ms", "upper": "200ms" } })
            ))
        );
        assert_eq!(
            draw(json!({ "type": "lognormal", "median": 80, "sigma": 0.4 })),
            Ok(Some(
                json!({ "lognormal": { "median": "80ms", "sigma": 0.4 } })
            ))
        );
        assert_eq!(
            draw(json!({ "type": "fixed", "milliseconds": 30 })),
            Ok(None)
        );
        for (bad, why) in [
            (
                json!({ "type": "uniform", "lower": 300, "upper": 200 }),
                "`lower` is above",
            ),
            (json!({ "type": "uniform", "lower": 1 }), "needs numbers"),
            (
                json!({ "type": "lognormal", "median": 80, "sigma": 0.4, "maxValue": 50 }),
                "below `median`",
            ),
            (
                json!({ "type": "lognormal", "median": 80, "sigma": 12 }),
                "over the 10",
            ),
            (
                json!({ "type": "gamma" }),
                "the type `gamma` is not one WireMock has",
            ),
        ] {
            let said = draw(bad.clone()).unwrap_err();
            assert!(said.contains(why), "{bad}: {said}");
        }
    }

    #[test]
    fn value_matchers_keep_wiremocks_meaning() {
        let convert = |matcher: Value| value_matcher(&matcher);
        assert_eq!(
            convert(json!({ "equalTo": "a" })),
            Ok(json!({ "equals": "a" }))
        );
        assert_eq!(
            convert(json!({ "equalTo": "a.b", "caseInsensitive": true })),
            Ok(json!({ "regex": "(?i)^(?:a\\.b)$" }))
        );
        assert_eq!(
            convert(json!({ "matches": "[0-9]+" })),
            Ok(json!({ "regex": "^(?:[0-9]+)$" }))
        );
        assert_eq!(
            convert(json!({ "doesNotMatch": "admin.*" })),
            Ok(json!({ "not": { "regex": "^(?:admin.*)$" } }))
        );
        assert_eq!(
            convert(json!({ "absent": true })),
            Ok(json!({ "present": false }))
        );
        assert!(
            convert(json!({ "hasExactly": [] }))
                .unwrap_err()
                .contains("`hasExactly`")
        );
        assert!(
            convert(json!({ "matches": "(?<=a)b" }))
                .unwrap_err()
                .contains("Java and Rust")
        );
        assert!(convert(json!({ "equalTo": "a", "contains": "b" })).is_err());
    }

    /// Issue 16: a multipart pattern keeps WireMock's meaning where reenact has it (its `name` is
    /// a label WireMock never matches on) and names each field it leaves out.
    #[test]
    fn multipart_patterns_become_part_conditions_and_the_rest_is_named() {
        let mut warnings = Vec::new();
        let mut warn = |field: &str, why: String| warnings.push(format!("{field}: {why}"));
        let pattern = json!({
            "name": "meta",
            "matchingType": "ALL",
            "headers": {
                "Content-Disposition": { "contains": "name=\"meta\"" },
                "Content-Type": { "hasExactly": [{ "equalTo": "a" }] }
            },
            "bodyPatterns": [
                { "equalTo": "x", "caseInsensitive": true },
                { "matches": "[0-9]+" },
                { "equalToJson": { "id": 7 } },
                { "matchesJsonPath": "$.id" },
                { "binaryEqualTo": "AA==" }
            ],
            "fileName": "a.json"
        });
        let part = multipart_pattern(&pattern, "request.multipartPatterns[0]", &mut warn);
        assert_eq!(
            part,
            Some(json!({
                "match": "all",
                "headers": { "Content-Disposition": { "contains": "name=\"meta\"" } },
                "body": { "regex": "(?i)^(?:x)$" },
                "json": { "id": 7 },
                "jsonpath": ["$.id"]
            }))
        );
        let fields: Vec<&str> = warnings
            .iter()
            .map(|w| w.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "request.multipartPatterns[0].headers.Content-Type",
                "request.multipartPatterns[0].bodyPatterns[1]",
                "request.multipartPatterns[0].bodyPatterns[4]",
                "request.multipartPatterns[0].fileName",
            ],
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("a second text condition"),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .all(|w| w.ends_with("so the stub matches more"))
        );

        let mut warnings = Vec::new();
        let mut warn = |field: &str, why: String| warnings.push(format!("{field}: {why}"));
        let any = multipart_pattern(
            &json!({ "bodyPatterns": [{ "contains": "a" }] }),
            "p",
            &mut warn,
        );
        assert_eq!(any, Some(json!({ "body_contains": "a" })));
        let odd = multipart_pattern(&json!({ "matchingType": "SOME" }), "p", &mut warn);
        assert_eq!(odd, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_mapping_that_is_not_a_regular_file_is_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let mappings = dir.path().join("mappings");
        std::fs::create_dir(&mappings).unwrap();
        let stub =
            r#"{"request": {"method": "GET", "urlPath": "/a"}, "response": {"status": 200}}"#;
        std::fs::write(mappings.join("a.json"), stub).unwrap();
        std::os::unix::fs::symlink(mappings.join("a.json"), mappings.join("link.json")).unwrap();
        let converted = import(dir.path(), "wm", "test").unwrap();
        assert_eq!((converted.stubs, converted.skipped), (1, 1));
        assert_eq!(
            converted.warnings,
            [
                "mappings/link.json: not a regular file (a symlink, FIFO or device is never read); skipped"
            ]
        );
    }

    #[test]
    fn body_patterns_map_to_the_matcher_of_the_same_meaning() {
        let mut out = Map::new();
        body_pattern(&json!({ "equalToJson": "{\"a\": 1}" }), &mut out).unwrap();
        assert_eq!(out["json"], json!({ "a": 1 }));
        let mut loose = Map::new();
        body_pattern(
            &json!({ "equalToJson": { "a": [1] }, "ignoreArrayOrder": true, "ignoreExtraElements": true }),
            &mut loose,
        )
        .unwrap();
        assert_eq!(
            loose["json_like"],
            json!({ "value": { "a": [1] }, "ignore_array_order": true, "ignore_extra_elements": true })
        );
        let mut extra = Map::new();
        body_pattern(
            &json!({ "equalToJson": {}, "ignoreExtraElements": true }),
            &mut extra,
        )
        .unwrap();
        assert_eq!(extra["json_like"]["ignore_array_order"], json!(false));

        let mut paths = Map::new();
        body_pattern(&json!({ "matchesJsonPath": "$.a" }), &mut paths).unwrap();
        body_pattern(&json!({ "matchesJsonPath": "$.b" }), &mut paths).unwrap();
        finish_jsonpaths(&mut paths).unwrap();
        assert_eq!(paths["jsonpath"], json!(["$.a", "$.b"]));
        let mut mixed = Map::new();
        body_pattern(&json!({ "matchesJsonPath": "$.a" }), &mut mixed).unwrap();
        body_pattern(
            &json!({ "matchesJsonPath": { "expression": "$.b", "equalTo": "x" } }),
            &mut mixed,
        )
        .unwrap();
        assert!(finish_jsonpaths(&mut mixed).is_err());
        assert!(!mixed.contains_key("jsonpath"), "nothing half-written");

        let mut xml = Map::new();
        body_pattern(
            &json!({ "matchesXPath": { "expression": "//Id", "matches": "X-.*" } }),
            &mut xml,
        )
        .unwrap();
        assert_eq!(xml["xpath"], json!({ "//Id": { "regex": "^(?:X-.*)$" } }));
        assert!(
            body_pattern(&json!({ "binaryEqualTo": "AA==" }), &mut Map::new())
                .unwrap_err()
                .contains("`binaryEqualTo`")
        );
    }
}
