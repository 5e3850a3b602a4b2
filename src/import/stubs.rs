//! Stubs of what a vendor answered, assembled request by request and written as YAML: what the
//! HAR importer and the recorder share. Requests group by method, path and query into one stub;
//! a group whose answers differ answers them in order.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use reqwest::Url;
use serde_json::Value;

use super::quoted;
use crate::scenario::paths::{MAX_FILE_BYTES, MAX_FILES_TOTAL_BYTES};
use crate::secrets::is_secret_param;

/// A body as a scenario carries it.
pub(crate) enum Body {
    /// JSON: a `json_file` (flow) or a `.json` `body_file` (stub).
    Json(Value),
    /// Text: a `body_file` with this extension.
    Text(String, &'static str),
}

/// One answer of a stub.
#[derive(PartialEq)]
pub(crate) struct Answer {
    /// Status code, 100 … 599.
    pub(crate) status: u16,
    /// Headers kept ([`keep_response_header`]), lower-case names.
    pub(crate) headers: Vec<(String, String)>,
    /// The body file's text and extension, before it is written.
    pub(crate) body: Option<(String, &'static str)>,
}

/// A stub being assembled: the requests of one method, path and query, and what each got.
pub(crate) struct StubPlan {
    method: String,
    path: String,
    /// Query parameters: name and value (`None` for secret parameters: matched by presence).
    query: Vec<(String, Option<String>)>,
    answers: Vec<Answer>,
}

/// A mock being assembled.
pub(crate) struct MockPlan {
    /// Its name in the scenario (or its definition file's name).
    pub(crate) name: String,
    /// Where the requests went: `scheme://host[:port]`.
    pub(crate) host: String,
    stubs: Vec<StubPlan>,
}

impl MockPlan {
    /// A mock with no stubs yet.
    pub(crate) fn new(name: String, host: String) -> MockPlan {
        MockPlan {
            name,
            host,
            stubs: Vec::new(),
        }
    }

    /// How many stubs it has.
    pub(crate) fn stub_count(&self) -> usize {
        self.stubs.len()
    }

    /// Every answer of every stub, to adjust before they are written.
    pub(crate) fn answers_mut(&mut self) -> impl Iterator<Item = &mut Answer> {
        self.stubs
            .iter_mut()
            .flat_map(|stub| stub.answers.iter_mut())
    }

    /// Record that `method url` was answered `answer`: a new stub, or the next answer of the
    /// stub of the same method, path and query.
    pub(crate) fn add(&mut self, method: String, url: &Url, answer: Answer) {
        let path = url.path().to_owned();
        let query: Vec<(String, Option<String>)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = (!is_secret_param(&name)).then(|| value.into_owned());
                (name.into_owned(), value)
            })
            .collect();
        match self
            .stubs
            .iter_mut()
            .find(|stub| stub.method == method && stub.path == path && stub.query == query)
        {
            Some(stub) => stub.answers.push(answer),
            None => self.stubs.push(StubPlan {
                method,
                path,
                query,
                answers: vec![answer],
            }),
        }
    }
}

/// Response headers a stub keeps: those a client acts on (type, redirects, retries, rate
/// limits, versions, pages, authentication challenges). Dates, lengths, caches and servers are
/// the vendor's plumbing.
pub(crate) fn keep_response_header(name: &str) -> bool {
    matches!(
        name,
        "content-type" | "location" | "retry-after" | "etag" | "link" | "www-authenticate"
    ) || name.starts_with("x-ratelimit")
        || name.starts_with("ratelimit")
        || name.starts_with("x-rate-limit")
}

/// A body as a scenario can carry it, or `None` (with a note in `notes`) when it cannot: too
/// large. A body holding `{{` or `}}` ([`holds_braces`]) stays text, to be sent as written
/// (`template: false`), never parsed as a JSON document whose strings would be templates.
pub(crate) fn usable(
    text: String,
    mime: &str,
    what: &str,
    notes: &mut Vec<String>,
    payload_bytes: &mut usize,
) -> Option<Body> {
    if text.len() > MAX_FILE_BYTES {
        notes.push(format!(
            "{what}: {} bytes, more than the {MAX_FILE_BYTES} a payload file may hold",
            text.len()
        ));
        return None;
    }
    if *payload_bytes + text.len() > MAX_FILES_TOTAL_BYTES {
        notes.push(format!(
            "{what}: the payloads would pass the {MAX_FILES_TOTAL_BYTES} bytes a scenario may read"
        ));
        return None;
    }
    *payload_bytes += text.len();
    let mime = mime.to_ascii_lowercase();
    if !holds_braces(&text)
        && (mime.contains("json") || mime.is_empty())
        && let Ok(value) = serde_json::from_str::<Value>(&text)
        && (value.is_object() || value.is_array())
    {
        return Some(Body::Json(value));
    }
    let ext = if mime.contains("xml") {
        "xml"
    } else if mime.contains("html") {
        "html"
    } else if mime.contains("x-www-form-urlencoded") {
        "form"
    } else if mime.contains("json") {
        "json.txt"
    } else {
        "txt"
    };
    Some(Body::Text(text, ext))
}

/// Whether `text` holds `{{` or `}}`, which a template would read as a placeholder: a stub answer
/// holding them is sent as written (`template: false`).
pub(crate) fn holds_braces(text: &str) -> bool {
    text.contains("{{") || text.contains("}}")
}

/// A JSON document pretty-printed, with a final newline.
pub(crate) fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Give each stub answer's body its payload file under `folder` (`payloads/<id>`); returns the
/// file of each answer, by mock, stub and answer. A stub whose answers are all the same keeps one.
pub(crate) fn write_stub_payloads(
    mocks: &mut [MockPlan],
    folder: &str,
    files: &mut Vec<(String, String)>,
) -> Vec<Vec<Vec<Option<String>>>> {
    let mut out = Vec::new();
    for mock in mocks.iter_mut() {
        let mut count = 0;
        let mut by_stub = Vec::new();
        for stub in &mut mock.stubs {
            if stub.answers.windows(2).all(|pair| pair[0] == pair[1]) {
                stub.answers.truncate(1);
            }
            let mut by_answer = Vec::new();
            for answer in &stub.answers {
                by_answer.push(answer.body.as_ref().map(|(text, ext)| {
                    count += 1;
                    let file = format!("{folder}/{}-{count}.{ext}", mock.name);
                    files.push((file.clone(), text.clone()));
                    file
                }));
            }
            by_stub.push(by_answer);
        }
        out.push(by_stub);
    }
    out
}

/// The YAML list of a mock's stubs, each line starting with `indent`; `files` as
/// [`write_stub_payloads`] gave them; `source` names what saw the answers (`the capture`).
///
/// A query parameter another stub of the same method and path has and this one lacks is matched
/// as absent, so `?page=1`, `?page=2` and no page each get their own answer.
pub(crate) fn stubs_yaml(
    mock: &MockPlan,
    files: &[Vec<Option<String>>],
    indent: &str,
    source: &str,
) -> String {
    let mut out = String::new();
    for (stub, files) in mock.stubs.iter().zip(files) {
        let others = mock
            .stubs
            .iter()
            .filter(|other| other.method == stub.method && other.path == stub.path)
            .flat_map(|other| other.query.iter().map(|(name, _)| name.clone()))
            .collect::<BTreeSet<String>>();
        let mut query: Vec<String> = stub
            .query
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!("{}: {}", quoted(name), quoted(value)),
                None => format!("{}: {{ present: true }}", quoted(name)),
            })
            .collect();
        for name in &others {
            if !stub.query.iter().any(|(own, _)| own == name) {
                query.push(format!("{}: {{ present: false }}", quoted(name)));
            }
        }
        let name = match stub.query.is_empty() {
            true => format!("{} {}", stub.method, stub.path),
            false => format!(
                "{} {}?{}",
                stub.method,
                stub.path,
                stub.query
                    .iter()
                    .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("…")))
                    .collect::<Vec<_>>()
                    .join("&")
            ),
        };
        let _ = writeln!(out, "{indent}- name: {}", quoted(&name));
        let mut request = format!(
            "method: {}, path: {}",
            quoted(&stub.method),
            quoted(&stub.path)
        );
        if !query.is_empty() {
            let _ = write!(request, ", query: {{ {} }}", query.join(", "));
        }
        let _ = writeln!(out, "{indent}  request: {{ {request} }}");
        if let [answer] = stub.answers.as_slice() {
            let _ = writeln!(
                out,
                "{indent}  response: {}",
                answer_text(answer, &files[0])
            );
        } else {
            let _ = writeln!(
                out,
                "{indent}  responses:   # what {source} saw, in order; the last one repeats"
            );
            for (answer, file) in stub.answers.iter().zip(files) {
                let _ = writeln!(out, "{indent}    - {}", answer_text(answer, file));
            }
        }
    }
    out
}

/// One stub answer in flow style.
fn answer_text(answer: &Answer, file: &Option<String>) -> String {
    let mut text = format!("{{ status: {}", answer.status);
    if !answer.headers.is_empty() {
        let headers: Vec<String> = answer
            .headers
            .iter()
            .map(|(name, value)| format!("{}: {}", quoted(name), quoted(value)))
            .collect();
        let _ = write!(text, ", headers: {{ {} }}", headers.join(", "));
    }
    if let Some(file) = file {
        let _ = write!(text, ", body_file: {}", quoted(file));
        if answer
            .body
            .as_ref()
            .is_some_and(|(body, _)| holds_braces(body))
        {
            text.push_str(", template: false");
        }
    }
    text.push_str(" }");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_too_large_is_noted_and_one_holding_braces_stays_text() {
        let mut notes = Vec::new();
        let mut bytes = 0;
        // Braces: text as written, even when it is JSON (whose strings would be templates).
        assert!(matches!(
            usable(
                r#"{"a": {"b": "{{ x }}"}}"#.into(),
                "application/json",
                "the body",
                &mut notes,
                &mut bytes
            ),
            Some(Body::Text(_, "json.txt"))
        ));
        let big = "a".repeat(MAX_FILE_BYTES + 1);
        assert!(usable(big, "text/plain", "the big body", &mut notes, &mut bytes).is_none());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(matches!(
            usable("[1]".into(), "application/json", "", &mut notes, &mut bytes),
            Some(Body::Json(_))
        ));
        assert!(matches!(
            usable("<a/>".into(), "application/xml", "", &mut notes, &mut bytes),
            Some(Body::Text(_, "xml"))
        ));
        assert_eq!(
            bytes, 30,
            "what was written counts toward the scenario's budget"
        );
    }

    #[test]
    fn requests_group_by_method_path_and_query_and_pages_are_told_apart() {
        let answer = |status| Answer {
            status,
            headers: Vec::new(),
            body: None,
        };
        let url = |text: &str| Url::parse(text).unwrap();
        let mut mock = MockPlan::new("vendor".into(), "https://api.vendor.test".into());
        mock.add(
            "GET".into(),
            &url("https://api.vendor.test/items?page=1"),
            answer(200),
        );
        mock.add(
            "GET".into(),
            &url("https://api.vendor.test/items"),
            answer(200),
        );
        mock.add(
            "GET".into(),
            &url("https://api.vendor.test/items?page=1"),
            answer(503),
        );
        mock.add(
            "GET".into(),
            &url("https://api.vendor.test/items?token=a1&x=1"),
            answer(200),
        );
        mock.add(
            "GET".into(),
            &url("https://api.vendor.test/items?token=b2&x=1"),
            answer(200),
        );
        assert_eq!(mock.stub_count(), 3);
        let mut files = Vec::new();
        let by_mock = write_stub_payloads(std::slice::from_mut(&mut mock), "payloads", &mut files);
        let yaml = stubs_yaml(&mock, &by_mock[0], "", "the capture");
        assert!(
            yaml.contains(
                r#"query: { "page": "1", "token": { present: false }, "x": { present: false } }"#
            ),
            "{yaml}"
        );
        assert!(yaml.contains(r#"query: { "page": { present: false }, "token": { present: false }, "x": { present: false } }"#), "{yaml}");
        assert!(
            yaml.contains(
                r#"query: { "token": { present: true }, "x": "1", "page": { present: false } }"#
            ),
            "{yaml}"
        );
        assert!(
            yaml.contains("responses:   # what the capture saw"),
            "{yaml}"
        );
        assert!(!yaml.contains("a1") && !yaml.contains("b2"), "{yaml}");
    }
}
