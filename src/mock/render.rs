//! Response templating of a mock: [`Responder`] answers either a response prepared once (no
//! placeholders: no per-request cost) or one rendered per request from [`RequestVars`].
//!
//! Variables a mock response knows: `request.method`, `request.path`, `request.path.NAME` (path
//! template parameters), `request.query.NAME`, `request.headers.NAME`, `request.json.A.0.B`,
//! `request.body`, `now` (the virtual clock), `uuid` and `random("KIND", LENGTH)` (seeded by mock
//! name, request number and occurrence), `store.KEY`, `state.MACHINE`, `self.url` (the mock's own base URL as the client reached
//! it), `mocks.NAME.url` (any mock of the run, as that client reaches it: see
//! [`crate::mock::RunUrls`]), and in rate-limit answers `retry_after`.

use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::matching::RequestView;
use crate::mock::engine::{
    PreparedResponse, StubError, json_response, parse_header_name, parse_status, prepare_response,
};
use crate::scenario::model::{ResponseBody, ResponseSpec};
use crate::scenario::template::random::Seeded;
use crate::scenario::template::repeat::{
    PayloadBudget, PreparedCount, REPEAT_KEY, repeat_items, repeat_node,
};
use crate::scenario::template::{RandomValue, RenderError, Template, Vars};
use crate::timestamp::format_rfc3339;

/// A response ready to answer: prepared once, or rendered per request.
#[derive(Debug)]
pub(crate) enum Responder {
    /// No placeholders anywhere: the same bytes every time.
    Static(PreparedResponse),
    /// Headers or body hold placeholders.
    Templated(Box<TemplatedResponse>),
}

/// A response with placeholders, parsed once.
#[derive(Debug)]
pub(crate) struct TemplatedResponse {
    status: StatusCode,
    headers: Vec<(HeaderName, Template)>,
    body: BodyTemplate,
}

#[derive(Debug)]
enum BodyTemplate {
    Empty,
    Text(Template),
    Json(JsonTemplate),
}

/// A JSON document whose string leaves may be templates, and whose `$repeat` nodes generate
/// arrays (see [`crate::scenario::template::repeat`]).
#[derive(Debug)]
enum JsonTemplate {
    Plain(Value),
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
    /// A `$repeat` node: its item, rendered this many times.
    Repeat(PreparedCount, Box<JsonTemplate>),
}

impl JsonTemplate {
    fn new(value: &Value) -> Result<JsonTemplate, StubError> {
        if let Value::Object(map) = value
            && let Some((count, item)) = repeat_node(map)
        {
            let count = PreparedCount::new(count).map_err(|error| StubError::JsonTemplate {
                text: map[REPEAT_KEY].to_string(),
                error,
            })?;
            return Ok(JsonTemplate::Repeat(
                count,
                Box::new(JsonTemplate::new(item)?),
            ));
        }
        Ok(match value {
            Value::String(text) if text.contains("{{") => {
                let template = Template::parse(text).map_err(|error| StubError::JsonTemplate {
                    text: text.clone(),
                    error,
                })?;
                JsonTemplate::Text(template)
            }
            Value::Array(items) if !is_plain(value) => JsonTemplate::Array(
                items
                    .iter()
                    .map(JsonTemplate::new)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) if !is_plain(value) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::new(v)?)))
                    .collect::<Result<_, StubError>>()?,
            ),
            other => JsonTemplate::Plain(other.clone()),
        })
    }

    fn render(&self, vars: &dyn Vars, budget: &PayloadBudget) -> Result<Value, RenderError> {
        Ok(match self {
            JsonTemplate::Plain(value) => {
                budget.spend_value(value)?;
                value.clone()
            }
            JsonTemplate::Text(template) => {
                let text = template.render(vars)?;
                budget.spend(text.len() + 2)?;
                Value::String(text)
            }
            JsonTemplate::Array(items) => {
                budget.spend(2)?;
                Value::Array(
                    items
                        .iter()
                        .map(|item| item.render(vars, budget))
                        .collect::<Result<_, _>>()?,
                )
            }
            JsonTemplate::Object(entries) => {
                budget.spend(2)?;
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (key, item) in entries {
                    budget.spend(key.len() + 4)?;
                    map.insert(key.clone(), item.render(vars, budget)?);
                }
                Value::Object(map)
            }
            JsonTemplate::Repeat(count, item) => {
                repeat_items(count.get(vars)?, vars, budget, |vars| {
                    item.render(vars, budget)
                })?
            }
        })
    }
}

/// Whether a JSON value holds no template and no `$repeat` node.
fn is_plain(value: &Value) -> bool {
    match value {
        Value::String(text) => !text.contains("{{"),
        Value::Array(items) => items.iter().all(is_plain),
        Value::Object(map) => repeat_node(map).is_none() && map.values().all(is_plain),
        _ => true,
    }
}

impl Responder {
    /// Prepare a response: static when nothing in it is a template.
    pub(crate) fn prepare(spec: &ResponseSpec) -> Result<Responder, StubError> {
        let templated_headers = spec.headers.iter().any(|(_, v)| v.contains("{{"));
        let templated_body = match &spec.body {
            ResponseBody::Empty | ResponseBody::Raw(_) => false,
            ResponseBody::Text(text) => text.contains("{{"),
            ResponseBody::Json(value) => !is_plain(value),
        };
        if !templated_headers && !templated_body {
            return prepare_response(spec).map(Responder::Static);
        }
        let status = parse_status(spec.status)?;
        let mut headers = Vec::with_capacity(spec.headers.len() + 1);
        for (name, value) in &spec.headers {
            let header = parse_header_name(name)?;
            let template = Template::parse(value).map_err(|error| StubError::HeaderTemplate {
                name: name.clone(),
                value: value.clone(),
                error,
            })?;
            headers.push((header, template));
        }
        let body = match &spec.body {
            ResponseBody::Empty => BodyTemplate::Empty,
            ResponseBody::Raw(text) => BodyTemplate::Text(Template::literal(text)),
            ResponseBody::Text(text) => {
                BodyTemplate::Text(Template::parse(text).map_err(StubError::BodyTemplate)?)
            }
            ResponseBody::Json(value) => {
                if !headers.iter().any(|(name, _)| name == CONTENT_TYPE) {
                    headers.push((CONTENT_TYPE, Template::literal("application/json")));
                }
                BodyTemplate::Json(JsonTemplate::new(value)?)
            }
        };
        Ok(Responder::Templated(Box::new(TemplatedResponse {
            status,
            headers,
            body,
        })))
    }

    /// Whether answering needs request variables.
    pub(crate) fn is_templated(&self) -> bool {
        matches!(self, Responder::Templated(_))
    }

    /// The answer; a template that cannot render gives a `500` naming the problem.
    pub(crate) fn respond(&self, vars: &dyn Vars) -> Response<Bytes> {
        match self {
            Responder::Static(prepared) => prepared.to_response(),
            Responder::Templated(templated) => match templated.render(vars) {
                Ok(response) => response,
                Err(e) => {
                    tracing::debug!(error = %e, "response template failed");
                    json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({ "error": format!("failed to render the response: {e}") }),
                    )
                }
            },
        }
    }
}

impl TemplatedResponse {
    fn render(&self, vars: &dyn Vars) -> Result<Response<Bytes>, RenderError> {
        let body = match &self.body {
            BodyTemplate::Empty => Bytes::new(),
            BodyTemplate::Text(template) => Bytes::from(template.render(vars)?),
            BodyTemplate::Json(template) => Bytes::from(
                template
                    .render(vars, &PayloadBudget::default())?
                    .to_string(),
            ),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        for (name, template) in &self.headers {
            let value = template.render(vars)?;
            match HeaderValue::from_str(&value) {
                Ok(value) => {
                    response.headers_mut().append(name.clone(), value);
                }
                Err(_) => {
                    return Err(RenderError::Filter {
                        filter: "header",
                        value,
                        reason: format!("not a valid value for header `{name}`"),
                        template: template.source().to_owned(),
                    });
                }
            }
        }
        Ok(response)
    }
}

/// The variables of one request, for response, store and rate-limit templates.
pub(crate) struct RequestVars<'a> {
    /// The request.
    pub request: &'a RequestView<'a>,
    /// Path template parameters of the stub that matched.
    pub path_params: Vec<(String, String)>,
    /// The mock's name (seeds `uuid`).
    pub mock: &'a str,
    /// The request's number at this mock since the last reset (seeds `uuid`).
    pub number: u64,
    /// Virtual time.
    pub now: OffsetDateTime,
    /// Seconds until a rate-limit window frees a slot (rate-limit answers only).
    pub retry_after: Option<u64>,
    /// The mock's store, when it has one.
    pub store: Option<&'a BTreeMap<String, String>>,
    /// The mock's state machines, when it has any.
    pub machines: Option<&'a BTreeMap<String, String>>,
    /// How many `uuid`s and `random(…)`s this request rendered so far.
    pub uuids: Cell<u64>,
    /// The mock's base URL as the client reached it (`self.url`): the scheme it was served on
    /// and the request's `Host`; `None` without a `Host` header.
    pub self_url: Option<&'a str>,
    /// The run's mock URLs by name, as the request's client reaches them
    /// (`mocks.NAME.url`); empty until the runner sent them.
    pub mock_urls: &'a BTreeMap<String, String>,
    /// The request's body as JSON, parsed at the first `request.json.*` (once, however many
    /// placeholders and `$repeat` items read it); `None` inside when it is not JSON.
    pub json: OnceCell<Option<Value>>,
}

impl<'a> RequestVars<'a> {
    /// The same variables reading `state`'s store and machines.
    pub(crate) fn with_state(self, state: Option<&'a crate::mock::state::MockState>) -> Self {
        RequestVars {
            store: state.map(|s| &s.store),
            machines: state.map(|s| &s.machines),
            ..self
        }
    }
}

impl Vars for RequestVars<'_> {
    fn lookup(&self, path: &[String]) -> Option<String> {
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        match parts.as_slice() {
            ["now"] => Some(format_rfc3339(self.now)),
            ["uuid"] => {
                let k = self.uuids.get();
                self.uuids.set(k + 1);
                Some(seeded_uuid(self.mock, self.number, k))
            }
            ["retry_after"] => self.retry_after.map(|s| s.to_string()),
            ["self", "url"] => self.self_url.map(str::to_owned),
            ["mocks", name, "url"] => self.mock_urls.get(*name).cloned(),
            ["store", key @ ..] if !key.is_empty() => {
                self.store.and_then(|s| s.get(&key.join("."))).cloned()
            }
            ["state", machine] => Some(
                self.machines
                    .and_then(|m| m.get(*machine))
                    .map_or(crate::scenario::model::INITIAL_STATE, String::as_str)
                    .to_owned(),
            ),
            ["request", "method"] => Some(self.request.method.to_owned()),
            ["request", "path"] => Some(self.request.path.to_owned()),
            ["request", "body"] => Some(String::from_utf8_lossy(self.request.body).into_owned()),
            ["request", "path", name] => self
                .path_params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
            ["request", "query", name] => form_urlencoded::parse(self.request.query.as_bytes())
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned()),
            ["request", "headers", name] => self
                .request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            ["request", "json", rest @ ..] => {
                let mut value = self
                    .json
                    .get_or_init(|| serde_json::from_slice(self.request.body).ok())
                    .as_ref()?;
                for segment in rest {
                    value = match value {
                        Value::Object(map) => map.get(*segment)?,
                        Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                        _ => return None,
                    };
                }
                Some(match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
            }
            _ => None,
        }
    }

    fn stored(&self, key: &str) -> Option<String> {
        self.store.and_then(|s| s.get(key)).cloned()
    }

    fn random(&self, value: RandomValue) -> Option<String> {
        let k = self.uuids.get();
        self.uuids.set(k + 1);
        Some(Seeded::new(self.mock, self.number, k).text(value))
    }
}

/// Whether a template of `spec` (a stub's response or store write, a rate limit's answer) names
/// `mocks.NAME.url`: the runner sends the run's mock URLs to such mocks only.
pub(crate) fn names_mock_urls(spec: &crate::scenario::model::MockSpec) -> bool {
    fn walk(value: &Value) -> bool {
        match value {
            Value::String(text) if text.contains("{{") => Template::parse(text).is_ok_and(|t| {
                t.vars()
                    .any(|var| var.path.first().is_some_and(|p| p == "mocks"))
            }),
            Value::Array(items) => items.iter().any(walk),
            Value::Object(map) => map.values().any(walk),
            _ => false,
        }
    }
    [
        serde_json::to_value(&spec.stubs),
        serde_json::to_value(&spec.rate_limits),
    ]
    .iter()
    .any(|value| value.as_ref().is_ok_and(walk))
}

/// Path parameters of `template` (`/invoices/{id}`) in `path`, when it matches.
pub(crate) fn path_params(template: &str, path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut actual = path.split('/');
    for segment in template.split('/') {
        let Some(part) = actual.next() else {
            return Vec::new();
        };
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            out.push((name.to_owned(), part.to_owned()));
        }
    }
    out
}

/// A version-4-shaped UUID derived from the mock's name, the request number and the occurrence:
/// the same on every run, different for every request and placeholder.
pub(crate) fn seeded_uuid(mock: &str, number: u64, occurrence: u64) -> String {
    let mut seeded = Seeded::new(mock, number, occurrence);
    let high = seeded.next_u64();
    let low = seeded.next_u64();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_uuids_are_stable_and_distinct() {
        let a = seeded_uuid("erp", 1, 0);
        assert_eq!(a, seeded_uuid("erp", 1, 0));
        assert_ne!(a, seeded_uuid("erp", 2, 0));
        assert_ne!(a, seeded_uuid("erp", 1, 1));
        assert_ne!(a, seeded_uuid("crm", 1, 0));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn path_params_follow_the_template() {
        assert_eq!(
            path_params("/orgs/{org}/invoices/{id}", "/orgs/acme/invoices/7"),
            [("org".into(), "acme".into()), ("id".into(), "7".into())]
        );
    }

    #[test]
    fn static_responses_are_prepared_once() {
        let spec = ResponseSpec {
            status: 200,
            headers: vec![("x-a".into(), "b".into())],
            body: ResponseBody::Json(json!({ "ok": true })),
        };
        assert!(!Responder::prepare(&spec).expect("valid").is_templated());
        let spec = ResponseSpec {
            body: ResponseBody::Json(json!({ "id": ["{{ uuid }}"] })),
            ..spec
        };
        assert!(Responder::prepare(&spec).expect("valid").is_templated());
    }

    /// The control API answers a refused configuration with this text: it is pinned here.
    #[test]
    fn responses_that_cannot_be_prepared_say_why() {
        let syntax = Template::parse("{{ nope").unwrap_err();
        let spec = |status, headers: &[(&str, &str)], body| ResponseSpec {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body,
        };
        let cases = [
            (
                spec(42, &[], ResponseBody::Empty),
                "invalid status `42`".to_owned(),
            ),
            (
                spec(200, &[("bad header", "x")], ResponseBody::Empty),
                "invalid header name `bad header`".to_owned(),
            ),
            (
                spec(200, &[("bad header", "{{ uuid }}")], ResponseBody::Empty),
                "invalid header name `bad header`".to_owned(),
            ),
            (
                spec(200, &[("x-a", "a\nb")], ResponseBody::Empty),
                "invalid value `a\nb` for header `x-a`".to_owned(),
            ),
            (
                spec(200, &[("x-a", "{{ nope")], ResponseBody::Empty),
                format!("invalid template `{{{{ nope` for header `x-a`: {syntax}"),
            ),
            (
                spec(200, &[], ResponseBody::Text("{{ nope".to_owned())),
                format!("invalid body template: {syntax}"),
            ),
            (
                spec(200, &[], ResponseBody::Json(json!({ "a": ["{{ nope"] }))),
                format!("invalid template `{{{{ nope`: {syntax}"),
            ),
        ];
        for (spec, expected) in cases {
            let err = Responder::prepare(&spec).unwrap_err();
            assert_eq!(err.to_string(), expected, "{spec:?}");
        }
    }
}
