//! The one small template language of reenact: `{{ name.path | filter }}` placeholders in strings.
//!
//! A [`Template`] is parsed once at load time (so a malformed placeholder or filter is a load
//! error with a position) and rendered at run time against a [`Vars`] lookup. Variables are
//! dotted paths: `mocks.NAME.url`, `target.url`, `target.port`, `env.NAME`, the bare names of
//! captures, and in mock responses `request.*`, `now`, `uuid`, `store.*`, `state.*`.
//!
//! A placeholder may pass its value through [`Filter`]s, left to right:
//! `{{ now | add(30m) | date("[year]-[month]-[day]") }}`. The filters are `date`, `unix`,
//! `unix_ms`, `add`, `sub`, `add_months`, `default`, `stored`, `upper`, `lower`, `regex("…")`, and the
//! protocol filters of [`codec`]: `base64`, `base64_decode`, `base64url`, `base64url_decode`,
//! `deflate`, `inflate`, `url_encode`, `url_decode`, `xpath("…")` and `jsonpath("…")`. Instead
//! of a variable, a placeholder may start with the one function, `random("KIND", LENGTH)`
//! ([`random`], mock responses only), or with a quoted text, `{{ "{{" }}`: that is how a
//! template holds a `{{` or `}}` of its own (`}}` as `}{{ "}" }}`, since no placeholder can hold
//! `}}`). There are no other expressions: text outside `{{ }}` is copied as it is.
//!
//! The file is over 700 lines with its unit tests and stays whole: the parser, the filters and
//! the renderer are one small grammar; the protocol filters' codecs live in [`codec`], and
//! repeated items of JSON payloads (`{"$repeat": N, "item": …}`) in [`repeat`].

pub(crate) mod codec;
pub(crate) mod random;
pub(crate) mod repeat;

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::OwnedFormatItem;
use time::format_description::well_known::Rfc3339;

use serde::{Serialize, Serializer};

use crate::scenario::model::Pattern;

pub(crate) use random::RandomValue;

/// Most placeholders one template may hold.
pub(crate) const MAX_PLACEHOLDERS: usize = 1000;

/// Most filters one placeholder may apply.
pub(crate) const MAX_FILTERS: usize = 16;

/// Most calendar months `add_months` moves an instant by, either way (1,000 years).
pub(crate) const MAX_MONTHS: i32 = 12_000;

/// Largest text a template may render to (16 MiB): a template repeating a large value (a
/// request body, a capture) must not grow without bound.
pub(crate) const MAX_RENDERED_BYTES: usize = 16 * 1024 * 1024;

/// A parsed template string.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text copied as it is.
    Literal(String),
    /// A placeholder.
    Var(Var),
}

/// A placeholder: a dotted variable path, its filters and where it sits in the template source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// The path segments, e.g. `["mocks", "xero", "url"]`.
    pub path: Vec<String>,
    /// Byte offset of the variable name (after `{{` and spaces) in the template source.
    pub offset: usize,
    /// Filters applied to the value, in order.
    pub filters: Vec<Filter>,
    /// When the placeholder starts with `random("KIND", LENGTH)` (its path is then `random`).
    pub random: Option<RandomValue>,
    /// When the placeholder starts with a quoted text, `{{ "}" }}`: that text (its path is then
    /// `text`). It is how a template holds a `{{` or `}}` of its own.
    pub text: Option<String>,
}

/// One filter of a placeholder, e.g. `date("[year]")`, and where its name sits in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// What the filter does.
    pub kind: FilterKind,
    /// Byte offset of the filter name in the template source.
    pub offset: usize,
}

/// Names of the filters, for messages and did-you-mean.
pub(crate) const FILTER_NAMES: &[&str] = &[
    "date",
    "unix",
    "unix_ms",
    "add",
    "sub",
    "add_months",
    "default",
    "stored",
    "upper",
    "lower",
    "regex",
    "base64",
    "base64_decode",
    "base64url",
    "base64url_decode",
    "deflate",
    "inflate",
    "url_encode",
    "url_decode",
    "xpath",
    "jsonpath",
];

/// What a filter does to the value before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterKind {
    /// `date("[year]-[month]-[day]")`: format an RFC 3339 instant with a `time` format
    /// description (checked at load time).
    Date(Box<OwnedFormatItem>),
    /// `unix`: an RFC 3339 instant as whole seconds since 1970-01-01 UTC.
    Unix,
    /// `unix_ms`: an RFC 3339 instant as whole milliseconds since 1970-01-01 UTC.
    UnixMs,
    /// `add(30m)`: an RFC 3339 instant moved forward by a duration.
    Add(Duration),
    /// `sub(1h)`: an RFC 3339 instant moved back by a duration.
    Sub(Duration),
    /// `add_months(-1)`: an RFC 3339 instant moved by calendar months (at most
    /// [`MAX_MONTHS`] either way), the day kept or, past the month's end, its last day.
    AddMonths(i32),
    /// `default("none")`: this text when the value is missing or empty.
    Default(String),
    /// `stored("bill:")`: the mock store's value under the key `bill:` + the value.
    Stored(String),
    /// `upper`: upper case.
    Upper,
    /// `lower`: lower case.
    Lower,
    /// `regex("[A-Z]+")`: the first match of a regex (compiled at load time within
    /// [`crate::scenario::expression::regex`]'s limits), the whole match; nothing when none.
    Regex(Box<Pattern>),
    /// `base64`: base64 with padding (RFC 4648 §4).
    Base64,
    /// `base64_decode`: decode base64, padded or not.
    Base64Decode,
    /// `base64url`: base64url without padding (RFC 4648 §5).
    Base64Url,
    /// `base64url_decode`: decode base64url, padded or not.
    Base64UrlDecode,
    /// `deflate`: raw DEFLATE (RFC 1951).
    Deflate,
    /// `inflate`: inflate raw DEFLATE, at most [`MAX_RENDERED_BYTES`].
    Inflate,
    /// `url_encode`: percent-encode all but RFC 3986's unreserved characters.
    UrlEncode,
    /// `url_decode`: decode `%XX` escapes and `+` as a space.
    UrlDecode,
    /// `xpath("//*[local-name()='MsgId']")`: the string value of an XPath 1.0 expression
    /// (checked at load time) on the value read as an XML document.
    XPath(String),
    /// `jsonpath("$.a[0].b")`: what a JSONPath (compiled at load time) selects in the value
    /// read as a JSON document.
    JsonPath(Box<serde_json_path::JsonPath>, String),
}

impl FilterKind {
    /// The filter's name as written.
    pub fn name(&self) -> &'static str {
        match self {
            FilterKind::Date(_) => "date",
            FilterKind::Unix => "unix",
            FilterKind::UnixMs => "unix_ms",
            FilterKind::Add(_) => "add",
            FilterKind::Sub(_) => "sub",
            FilterKind::AddMonths(_) => "add_months",
            FilterKind::Default(_) => "default",
            FilterKind::Stored(_) => "stored",
            FilterKind::Upper => "upper",
            FilterKind::Lower => "lower",
            FilterKind::Regex(_) => "regex",
            FilterKind::Base64 => "base64",
            FilterKind::Base64Decode => "base64_decode",
            FilterKind::Base64Url => "base64url",
            FilterKind::Base64UrlDecode => "base64url_decode",
            FilterKind::Deflate => "deflate",
            FilterKind::Inflate => "inflate",
            FilterKind::UrlEncode => "url_encode",
            FilterKind::UrlDecode => "url_decode",
            FilterKind::XPath(_) => "xpath",
            FilterKind::JsonPath(..) => "jsonpath",
        }
    }
}

impl Var {
    /// The dotted name, e.g. `mocks.xero.url`.
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

/// Why a template string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateSyntaxError {
    /// What is wrong.
    pub message: String,
    /// Byte offset in the template source where the problem is.
    pub offset: usize,
    /// A did-you-mean or hint, when there is one.
    pub help: Option<String>,
}

impl TemplateSyntaxError {
    fn new(message: impl Into<String>, offset: usize) -> Self {
        TemplateSyntaxError {
            message: message.into(),
            offset,
            help: None,
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A variable is not known.
    #[error(transparent)]
    Unknown(#[from] UnknownVariable),
    /// The rendered text would be larger than 16 MiB.
    #[error("template `{template}` renders to more than {MAX_RENDERED_BYTES} bytes (16 MiB)")]
    TooLarge {
        /// The template source.
        template: String,
    },
    /// A JSON payload would render to more than 16 MiB.
    #[error("the JSON payload renders to more than {MAX_RENDERED_BYTES} bytes (16 MiB)")]
    PayloadTooLarge,
    /// The `$repeat` nodes of a JSON payload would make more than 100,000 items.
    #[error(
        "the `$repeat` nodes of the JSON payload make more than {} items",
        repeat::MAX_REPEAT_ITEMS
    )]
    TooManyItems,
    /// A `$repeat` count template did not render to a whole number within 100,000.
    #[error(
        "the `$repeat` count `{value}` (from `{template}`) is not a whole number from 0 to {}",
        repeat::MAX_REPEAT_ITEMS
    )]
    RepeatCount {
        /// What the count rendered to.
        value: String,
        /// The count's template.
        template: String,
    },
    /// The items of a `$repeat` read more than 64 MiB of values.
    #[error(
        "the items of `$repeat` read more than {} bytes (64 MiB) of values: `{name}` in template `{template}` is read once for every item",
        repeat::MAX_ITEM_READ_BYTES
    )]
    TooMuchRead {
        /// The variable whose read crossed the budget.
        name: String,
        /// The template source.
        template: String,
    },
    /// A filter could not use its input.
    #[error("filter `{filter}` cannot use `{value}` in template `{template}`: {reason}")]
    Filter {
        /// The filter's name.
        filter: &'static str,
        /// Its input.
        value: String,
        /// Why.
        reason: String,
        /// The template source.
        template: String,
    },
}

/// A variable a template names that the lookup does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable `{name}` in template `{template}`")]
pub struct UnknownVariable {
    /// The dotted name.
    pub name: String,
    /// The template source.
    pub template: String,
}

/// Looks variables up by path while rendering.
pub trait Vars {
    /// The value of the variable, if known.
    fn lookup(&self, path: &[String]) -> Option<String>;

    /// The value stored under `key` in a mock's store (the `stored` filter); none by default.
    fn stored(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }

    /// Account for `bytes` of a value a placeholder read; `false` when the reads of this
    /// rendering are over their budget (the items of a `$repeat`: [`repeat::ItemVars`]).
    /// Unbounded by default.
    fn charge(&self, bytes: usize) -> bool {
        let _ = bytes;
        true
    }

    /// A random text for `random("KIND", LENGTH)`; none by default (only mock responses make
    /// them).
    fn random(&self, value: RandomValue) -> Option<String> {
        let _ = value;
        None
    }
}

impl<F: Fn(&[String]) -> Option<String>> Vars for F {
    fn lookup(&self, path: &[String]) -> Option<String> {
        self(path)
    }
}

/// Template text that renders as `text`: each `{{` becomes the quoted text `{{ "{{" }}`, and each
/// `}` that follows a `}` becomes `{{ "}" }}` (no placeholder can hold `}}`); all else is kept.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut previous = None;
    while let Some(c) = chars.next() {
        if c == '{' && chars.peek() == Some(&'{') {
            chars.next();
            out.push_str(r#"{{ "{{" }}"#);
            previous = Some('{');
            continue;
        }
        if c == '}' && previous == Some('}') {
            out.push_str(r#"{{ "}" }}"#);
        } else {
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

impl Template {
    /// Parse a template. Placeholders are `{{ a.b.c }}` (segments of letters, digits, `_` and
    /// `-`), optionally followed by filters: `{{ now | add(30m) | unix }}`.
    pub fn parse(source: &str) -> Result<Template, TemplateSyntaxError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut consumed = 0;
        let mut placeholders = 0;
        while let Some(open) = rest.find("{{") {
            if placeholders == MAX_PLACEHOLDERS {
                return Err(TemplateSyntaxError::new(
                    format!("more than {MAX_PLACEHOLDERS} placeholders in one template"),
                    consumed + open,
                ));
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                return Err(TemplateSyntaxError::new(
                    "unclosed `{{`: expected `}}`",
                    consumed + open,
                ));
            };
            let inner = &after_open[..close];
            let inner_offset = consumed + open + 2;
            let mut pieces = split_pipes(inner).into_iter();
            let (head_start, head) = pieces.next().unwrap_or((0, inner));
            let leading = head.len() - head.trim_start().len();
            let name = head.trim();
            let name_offset = inner_offset + head_start + leading;
            if name.is_empty() {
                return Err(TemplateSyntaxError::new(
                    if inner.trim().is_empty() {
                        "empty placeholder `{{ }}`: expected a variable name"
                    } else {
                        "missing variable name before `|`"
                    },
                    consumed + open,
                ));
            }
            let text = if name.starts_with('"') {
                string_arg(Some(name), name_offset).transpose()?
            } else {
                None
            };
            let random = if text.is_none() && name.contains('(') {
                Some(random::parse_call(name, name_offset)?)
            } else {
                None
            };
            let path: Vec<String> = if random.is_some() {
                vec!["random".to_owned()]
            } else if text.is_some() {
                vec!["text".to_owned()]
            } else {
                name.split('.').map(str::to_string).collect()
            };
            if let Some(bad) = path.iter().find(|segment| !valid_segment(segment)) {
                return Err(TemplateSyntaxError::new(
                    format!(
                        "invalid variable name `{name}`: segment `{bad}` may only hold letters, digits, `_` and `-`"
                    ),
                    name_offset,
                ));
            }
            let filters = pieces
                .map(|(start, text)| parse_filter(text, inner_offset + start))
                .collect::<Result<Vec<_>, _>>()?;
            if filters.len() > MAX_FILTERS {
                return Err(TemplateSyntaxError::new(
                    format!("more than {MAX_FILTERS} filters in one placeholder"),
                    filters[MAX_FILTERS].offset,
                ));
            }
            parts.push(Part::Var(Var {
                path,
                offset: name_offset,
                filters,
                random,
                text,
            }));
            placeholders += 1;
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        if let Some(stray) = rest.find("}}") {
            return Err(TemplateSyntaxError::new(
                "`}}` without a matching `{{`",
                consumed + stray,
            ));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
        })
    }

    /// Whether the template has no placeholders (it renders to its source).
    pub fn is_literal(&self) -> bool {
        self.vars().next().is_none()
    }

    /// A template without placeholders.
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.to_string(),
            parts: if text.is_empty() {
                Vec::new()
            } else {
                vec![Part::Literal(text.to_string())]
            },
        }
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The placeholders, in order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.parts.iter().filter_map(|part| match part {
            Part::Var(var) => Some(var),
            Part::Literal(_) => None,
        })
    }

    /// Render with the given variables; the first unknown variable or failing filter is an
    /// error. A missing value is an unknown variable unless a `default` filter supplies one.
    pub fn render(&self, vars: &dyn Vars) -> Result<String, RenderError> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Var(var) => out.push_str(&self.render_var(var, vars)?),
            }
            if out.len() > MAX_RENDERED_BYTES {
                return Err(RenderError::TooLarge {
                    template: self.source.clone(),
                });
            }
        }
        Ok(out)
    }

    fn render_var(&self, var: &Var, vars: &dyn Vars) -> Result<String, RenderError> {
        let unknown = || {
            RenderError::Unknown(UnknownVariable {
                name: var.name(),
                template: self.source.clone(),
            })
        };
        // Bytes, so that a chain carries binary data (`deflate | base64`); the filters that read
        // text, and the rendered value, need UTF-8.
        let mut value = match (&var.text, var.random) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(random)) => vars.random(random),
            (None, None) => vars.lookup(&var.path),
        }
        .map(String::into_bytes);
        if let Some(read) = &value
            && !vars.charge(read.len())
        {
            return Err(RenderError::TooMuchRead {
                name: var.name(),
                template: self.source.clone(),
            });
        }
        // Why a filter lost the value (an XPath that selected nothing), for the error.
        let mut lost = None;
        for filter in &var.filters {
            let fail = |value: &[u8], reason: String| RenderError::Filter {
                filter: filter.kind.name(),
                value: clip(&String::from_utf8_lossy(value)),
                reason,
                template: self.source.clone(),
            };
            let Some(v) = value.take() else {
                match &filter.kind {
                    FilterKind::Default(text) => {
                        value = Some(text.clone().into_bytes());
                        lost = None;
                        continue;
                    }
                    _ => return Err(lost.unwrap_or_else(unknown)),
                }
            };
            let codec = |f: fn(&[u8]) -> Result<Vec<u8>, codec::CodecError>| {
                f(&v).map_err(|e| fail(&v, e.to_string()))
            };
            value = match &filter.kind {
                FilterKind::Default(text) if v.is_empty() => Some(text.clone().into_bytes()),
                FilterKind::Default(_) => Some(v),
                FilterKind::Base64 => Some(codec(codec::base64)?),
                FilterKind::Base64Decode => Some(codec(codec::base64_decode)?),
                FilterKind::Base64Url => Some(codec(codec::base64url)?),
                FilterKind::Base64UrlDecode => Some(codec(codec::base64url_decode)?),
                FilterKind::Deflate => Some(codec(codec::deflate)?),
                FilterKind::Inflate => Some(codec(codec::inflate)?),
                FilterKind::UrlEncode => Some(codec(codec::url_encode)?),
                FilterKind::UrlDecode => Some(codec(codec::url_decode)?),
                FilterKind::XPath(_) | FilterKind::JsonPath(..) | FilterKind::Regex(_) => {
                    let read = match &filter.kind {
                        FilterKind::XPath(source) => codec::xpath(source, &v),
                        FilterKind::JsonPath(path, source) => codec::jsonpath(path, source, &v),
                        FilterKind::Regex(pattern) => first_match(&pattern.0, &v),
                        _ => unreachable!("matched above"),
                    };
                    match read {
                        Ok(out) => Some(out),
                        Err(e @ codec::CodecError::Nothing(_)) => {
                            lost = Some(fail(&v, e.to_string()));
                            None
                        }
                        Err(e) => return Err(fail(&v, e.to_string())),
                    }
                }
                kind => {
                    let text = std::str::from_utf8(&v)
                        .map_err(|_| fail(&v, "not UTF-8 text".to_owned()))?;
                    text_filter(kind, text, vars).map_err(|reason| fail(&v, reason))?
                }
            };
        }
        let bytes = value.ok_or_else(|| lost.unwrap_or_else(unknown))?;
        String::from_utf8(bytes).map_err(|e| RenderError::Filter {
            filter: var.filters.last().map_or("value", |f| f.kind.name()),
            value: clip(&String::from_utf8_lossy(e.as_bytes())),
            reason: "the result is not UTF-8 text: end with `base64` to send binary data"
                .to_owned(),
            template: self.source.clone(),
        })
    }
}

/// The first match of `regex` in `value` read as text, the whole match.
fn first_match(regex: &regex::Regex, value: &[u8]) -> Result<Vec<u8>, codec::CodecError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| codec::CodecError::Invalid("not UTF-8 text".to_owned()))?;
    regex
        .find(text)
        .map(|found| found.as_str().as_bytes().to_vec())
        .ok_or_else(|| {
            codec::CodecError::Nothing(format!("regex `{}` matched nothing", regex.as_str()))
        })
}

/// Apply a filter that reads text: `stored`, `upper`, `lower` and the date filters; `None` when
/// the value goes missing (nothing stored), `Err` with the reason it cannot.
fn text_filter(kind: &FilterKind, v: &str, vars: &dyn Vars) -> Result<Option<Vec<u8>>, String> {
    let out = match kind {
        FilterKind::Stored(prefix) => {
            return Ok(vars.stored(&format!("{prefix}{v}")).map(String::into_bytes));
        }
        FilterKind::Upper => v.to_uppercase(),
        FilterKind::Lower => v.to_lowercase(),
        kind => {
            let at = OffsetDateTime::parse(v, &Rfc3339)
                .map_err(|_| "not an RFC 3339 instant".to_owned())?;
            match kind {
                FilterKind::Date(format) => {
                    at.format(format.as_ref()).map_err(|e| e.to_string())?
                }
                FilterKind::Unix => at.unix_timestamp().to_string(),
                FilterKind::UnixMs => (at.unix_timestamp_nanos() / 1_000_000).to_string(),
                FilterKind::Add(by) | FilterKind::Sub(by) => {
                    let by = time::Duration::try_from(*by).map_err(|e| e.to_string())?;
                    let moved = if matches!(kind, FilterKind::Add(_)) {
                        at.checked_add(by)
                    } else {
                        at.checked_sub(by)
                    };
                    let moved = moved.ok_or_else(|| "the result is out of range".to_owned())?;
                    crate::timestamp::format_rfc3339(moved)
                }
                FilterKind::AddMonths(months) => crate::timestamp::format_rfc3339(
                    add_months(at, *months)
                        .ok_or_else(|| "the result is out of range".to_owned())?,
                ),
                _ => v.to_owned(),
            }
        }
    };
    Ok(Some(out.into_bytes()))
}

/// `at` moved by calendar `months`, the day of the month kept or, past the end of the month,
/// its last day (as `java.time`'s `plusMonths` does: January 31 plus one month is February 28).
fn add_months(at: OffsetDateTime, months: i32) -> Option<OffsetDateTime> {
    let index = at.year() * 12 + i32::from(u8::from(at.month())) - 1 + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let day = at.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(at.replace_date(date))
}

/// A filter's input as an error quotes it: at most 200 bytes (a request body may be megabytes).
fn clip(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Split the inside of a placeholder at `|` outside double quotes, with each piece's offset.
fn split_pipes(inner: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '|' if !quoted => {
                pieces.push((start, &inner[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, &inner[start..]));
    pieces
}

/// Parse one filter, `name` or `name(arg)`; `offset` is where `text` starts in the source.
fn parse_filter(text: &str, offset: usize) -> Result<Filter, TemplateSyntaxError> {
    let leading = text.len() - text.trim_start().len();
    let offset = offset + leading;
    let text = text.trim();
    if text.is_empty() {
        return Err(TemplateSyntaxError::new(
            "empty filter after `|`: expected a filter name",
            offset,
        ));
    }
    let (name, arg) = match text.find('(') {
        Some(open) => {
            let Some(inner) = text[open + 1..].strip_suffix(')') else {
                return Err(TemplateSyntaxError::new(
                    format!("unclosed `(` in filter `{text}`: expected `)`"),
                    offset + open,
                ));
            };
            (text[..open].trim_end(), Some(inner.trim()))
        }
        None => (text, None),
    };
    let arg_offset = offset + text.find('(').map_or(0, |open| open + 1);
    let needs =
        |what: &str| TemplateSyntaxError::new(format!("filter `{name}` needs {what}"), offset);
    let takes_none = |kind: FilterKind| match arg {
        None => Ok(kind),
        Some(_) => Err(TemplateSyntaxError::new(
            format!("filter `{name}` takes no argument"),
            offset,
        )),
    };
    let kind = match name {
        "unix" => takes_none(FilterKind::Unix)?,
        "unix_ms" => takes_none(FilterKind::UnixMs)?,
        "regex" => {
            let source = string_arg(arg, arg_offset)
                .ok_or_else(|| needs("a quoted regex, e.g. `regex(\"[A-Z]+\")`"))??;
            let compiled = crate::scenario::expression::regex(&source).map_err(|e| {
                TemplateSyntaxError::new(
                    format!("invalid regex `{source}`: {}", regex_reason(&e)),
                    arg_offset,
                )
            })?;
            FilterKind::Regex(Box::new(Pattern(compiled)))
        }
        "upper" => takes_none(FilterKind::Upper)?,
        "lower" => takes_none(FilterKind::Lower)?,
        "base64" => takes_none(FilterKind::Base64)?,
        "base64_decode" => takes_none(FilterKind::Base64Decode)?,
        "base64url" => takes_none(FilterKind::Base64Url)?,
        "base64url_decode" => takes_none(FilterKind::Base64UrlDecode)?,
        "deflate" => takes_none(FilterKind::Deflate)?,
        "inflate" => takes_none(FilterKind::Inflate)?,
        "url_encode" => takes_none(FilterKind::UrlEncode)?,
        "url_decode" => takes_none(FilterKind::UrlDecode)?,
        "xpath" => {
            let source = string_arg(arg, arg_offset).ok_or_else(|| {
                needs("a quoted XPath, e.g. `xpath(\"//*[local-name()='MsgId']\")`")
            })??;
            // Offsets inside the quotes hold when the argument has no escapes.
            codec::check_xpath(&source).map_err(|(message, at)| {
                TemplateSyntaxError::new(
                    format!("invalid XPath `{source}`: {message}"),
                    arg_offset + 1 + at,
                )
            })?;
            FilterKind::XPath(source)
        }
        "jsonpath" => {
            let source = string_arg(arg, arg_offset)
                .ok_or_else(|| needs("a quoted JSONPath, e.g. `jsonpath(\"$.a[0].b\")`"))??;
            let path = codec::compile_jsonpath(&source).map_err(|(message, at)| {
                TemplateSyntaxError::new(
                    format!("invalid JSONPath `{source}`: {message}"),
                    arg_offset + 1 + at,
                )
            })?;
            FilterKind::JsonPath(Box::new(path), source)
        }
        "date" => {
            let format = string_arg(arg, arg_offset)
                .ok_or_else(|| needs("a quoted format, e.g. `date(\"[year]-[month]-[day]\")`"))??;
            let item = time::format_description::parse_owned::<2>(&format).map_err(|e| {
                TemplateSyntaxError::new(format!("invalid date format `{format}`: {e}"), arg_offset)
            })?;
            FilterKind::Date(Box::new(item))
        }
        "add" | "sub" => {
            let text = arg
                .map(|a| a.trim_matches('"'))
                .filter(|a| !a.is_empty())
                .ok_or_else(|| needs("a duration, e.g. `add(30m)`"))?;
            let by = crate::scenario::duration::parse(text).map_err(|e| {
                TemplateSyntaxError::new(format!("invalid duration `{text}`: {e}"), arg_offset)
            })?;
            if name == "add" {
                FilterKind::Add(by)
            } else {
                FilterKind::Sub(by)
            }
        }
        "add_months" => {
            let text =
                arg.ok_or_else(|| needs("a whole number of months, e.g. `add_months(-1)`"))?;
            let months = text
                .parse::<i32>()
                .ok()
                .filter(|n| n.abs() <= MAX_MONTHS)
                .ok_or_else(|| {
                    TemplateSyntaxError::new(
                        format!(
                            "invalid number of months `{text}`: expected a whole number from -{MAX_MONTHS} to {MAX_MONTHS}"
                        ),
                        arg_offset,
                    )
                })?;
            FilterKind::AddMonths(months)
        }
        "default" => FilterKind::Default(
            string_arg(arg, arg_offset)
                .ok_or_else(|| needs("a quoted text, e.g. `default(\"none\")`"))??,
        ),
        "stored" => FilterKind::Stored(
            string_arg(arg, arg_offset)
                .ok_or_else(|| needs("a quoted key prefix, e.g. `stored(\"bill:\")`"))??,
        ),
        _ => {
            let mut error = TemplateSyntaxError::new(
                format!(
                    "unknown filter `{name}`: expected one of {}",
                    FILTER_NAMES
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                offset,
            );
            if let Some(suggestion) = crate::scenario::suggest::did_you_mean(name, FILTER_NAMES) {
                error.help = Some(format!("did you mean `{suggestion}`?"));
            }
            return Err(error);
        }
    };
    Ok(Filter { kind, offset })
}

/// The last line of a `regex` error (the first ones repeat the pattern with a caret).
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// A double-quoted argument with `\"` and `\\` escapes; `None` when there is no argument.
fn string_arg(arg: Option<&str>, offset: usize) -> Option<Result<String, TemplateSyntaxError>> {
    let arg = arg?;
    let Some(inner) = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) else {
        return Some(Err(TemplateSyntaxError::new(
            format!("expected a double-quoted text, found `{arg}`"),
            offset,
        )));
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    Some(Ok(out))
}

fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Render every string leaf of a JSON value as a template, and expand its `$repeat` nodes
/// ([`repeat`]), within 16 MiB. Strings that do not parse are kept as they are (load time
/// already rejected malformed placeholders in scenario bodies).
pub(crate) fn render_json(
    value: &serde_json::Value,
    vars: &dyn Vars,
) -> Result<serde_json::Value, RenderError> {
    repeat::render_json_within(value, vars, &repeat::PayloadBudget::default())
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(path: &[String]) -> Option<String> {
        match path.join(".").as_str() {
            "mocks.xero.url" => Some("http://127.0.0.1:4000".to_string()),
            "export_id" => Some("42".to_string()),
            _ => None,
        }
    }

    #[test]
    fn templates_are_bounded() {
        let many = "{{ a }}".repeat(MAX_PLACEHOLDERS);
        assert!(Template::parse(&many).is_ok());
        let err = Template::parse(&format!("{many}{{{{ b }}}}")).unwrap_err();
        assert_eq!(err.offset, many.len());
        assert!(err.message.contains("more than 1000 placeholders"), "{err}");
        let filters = format!("{{{{ now{} }}}}", " | upper".repeat(MAX_FILTERS + 1));
        let err = Template::parse(&filters).unwrap_err();
        assert!(err.message.contains("more than 16 filters"), "{err}");
        // A date format nested 5,000 deep is an error, not a crash, on a worker's 2 MiB stack.
        let format = format!(
            "{{{{ now | date(\"{}[year]{}\") }}}}",
            "[optional [".repeat(5000),
            "]]".repeat(5000)
        );
        let parsed = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || Template::parse(&format).is_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(parsed);
        let big = "x".repeat(1 << 20);
        let template = Template::parse(&"{{ big }}".repeat(17)).unwrap();
        let lookup = |_: &[String]| Some(big.clone());
        assert!(matches!(
            template.render(&lookup),
            Err(RenderError::TooLarge { .. })
        ));
    }

    #[test]
    fn renders_placeholders_and_keeps_literals() {
        let template = Template::parse("{{ mocks.xero.url }}/exports/{{export_id}}?x=1").unwrap();
        assert_eq!(
            template.render(&vars).unwrap(),
            "http://127.0.0.1:4000/exports/42?x=1"
        );
        let names: Vec<String> = template.vars().map(Var::name).collect();
        assert_eq!(names, ["mocks.xero.url", "export_id"]);
    }

    /// Any text, escaped, parses as a template that renders as that text.
    #[test]
    fn escaped_text_renders_as_itself() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases: 512,
            failure_persistence: None,
            ..Default::default()
        });
        let pieces =
            proptest::sample::select(&["{", "}", "{{", "}}", "\"", "\\", "x", " ", "|", "é"][..]);
        runner
            .run(&proptest::collection::vec(pieces, 0..30), |pieces| {
                let text = pieces.concat();
                let template = Template::parse(&escape(&text))
                    .map_err(|err| TestCaseError::fail(format!("{text:?}: {err}")))?;
                prop_assert_eq!(template.render(&|_: &[String]| None).unwrap(), text);
                Ok(())
            })
            .unwrap();
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn a_quoted_text_holds_the_braces_a_template_cannot() {
        // `{"a":{"id":"42"}}` as a template: the trailing `}}` written as `}` and a quoted `}`.
        let template =
            Template::parse(r#"{{ "{{" }}a{"a":{"id":"{{ export_id }}"}{{ "}" }}"#).unwrap();
        assert_eq!(template.render(&vars).unwrap(), r#"{{a{"a":{"id":"42"}}"#);
        // Filters apply; a quote inside is escaped; it names no variable to check.
        let upper = Template::parse(r#"{{ "say \"hi\" | ok" | upper }}"#).unwrap();
        assert_eq!(upper.render(&vars).unwrap(), r#"SAY "HI" | OK"#);
        assert!(upper.vars().all(|var| var.text.is_some()));
        for bad in [r#"{{ "open }}"#, r#"{{ "a" b }}"#] {
            let err = Template::parse(bad).unwrap_err();
            assert!(
                err.message.contains("double-quoted"),
                "{bad}: {}",
                err.message
            );
        }
    }

    #[test]
    fn syntax_errors_carry_offsets() {
        let cases = [
            ("abc {{ x", 4, "unclosed"),
            ("{{ }}", 0, "empty placeholder"),
            ("a {{ x y }}", 5, "invalid variable name"),
            ("a }} b", 2, "without a matching"),
            ("{{ a..b }}", 3, "segment ``"),
        ];
        for (source, offset, needle) in cases {
            let err = Template::parse(source).unwrap_err();
            assert_eq!(err.offset, offset, "{source}");
            assert!(err.message.contains(needle), "{source}: {}", err.message);
        }
    }

    #[test]
    fn unknown_variable_is_an_error() {
        let template = Template::parse("{{ mocks.erp.url }}").unwrap();
        let err = template.render(&vars).unwrap_err();
        assert!(
            matches!(&err, RenderError::Unknown(u) if u.name == "mocks.erp.url"),
            "{err}"
        );
    }

    #[test]
    fn renders_json_leaves() {
        let value = serde_json::json!({"id": "{{ export_id }}", "n": 1, "list": ["{{export_id}}"]});
        let rendered = render_json(&value, &vars).unwrap();
        assert_eq!(
            rendered,
            serde_json::json!({"id": "42", "n": 1, "list": ["42"]})
        );
    }

    #[test]
    fn filters_apply_left_to_right() {
        let now = |path: &[String]| match path.join(".").as_str() {
            "now" => Some("2026-10-31T23:00:00Z".to_string()),
            "name" => Some("Acme".to_string()),
            "empty" => Some(String::new()),
            _ => None,
        };
        let cases = [
            ("{{ now | unix }}", "1793487600"),
            ("{{ now | add(90m) }}", "2026-11-01T00:30:00Z"),
            ("{{ now | sub(1d) | date(\"[day]/[month]\") }}", "30/10"),
            ("{{ name | upper }}-{{ name|lower }}", "ACME-acme"),
            ("{{ missing | default(\"none\") }}", "none"),
            ("{{ empty | default(\"a \\\"b\\\" | c\") }}", "a \"b\" | c"),
        ];
        for (source, expected) in cases {
            let template = Template::parse(source).unwrap();
            assert_eq!(template.render(&now).unwrap(), expected, "{source}");
        }
        let err = Template::parse("{{ name | unix }}")
            .unwrap()
            .render(&now)
            .unwrap_err();
        assert!(err.to_string().contains("not an RFC 3339 instant"), "{err}");
    }

    #[test]
    fn protocol_filters_chain_through_bytes() {
        let xml =
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_a1\"/>";
        let packed = {
            let template = Template::parse("{{ xml | deflate | base64 | url_encode }}").unwrap();
            template
                .render(&|path: &[String]| (path[0] == "xml").then(|| xml.to_owned()))
                .unwrap()
        };
        let lookup = |path: &[String]| match path.join(".").as_str() {
            "query" => Some(packed.clone()),
            "pain" => Some("<Document><GrpHdr><MsgId>M-1</MsgId></GrpHdr></Document>".to_owned()),
            "json" => Some(r#"{"a": [{"b": "x y"}]}"#.to_owned()),
            "bad" => Some("%%%".to_owned()),
            _ => None,
        };
        let cases = [
            (
                "{{ query | url_decode | base64_decode | inflate | xpath(\"/*/@ID\") }}",
                "_a1",
            ),
            ("{{ pain | xpath(\"//*[local-name()='MsgId']\") }}", "M-1"),
            ("{{ pain | xpath(\"//Nope\") | default(\"none\") }}", "none"),
            ("{{ json | jsonpath(\"$.a[0].b\") | url_encode }}", "x%20y"),
            ("{{ json | jsonpath(\"$.a[0].b\") | base64url }}", "eCB5"),
            (
                "{{ json | jsonpath(\"$.a[0].b\") | base64 | base64_decode }}",
                "x y",
            ),
            (
                "{{ json | base64url | base64url_decode | jsonpath(\"$.a\") }}",
                r#"[{"b":"x y"}]"#,
            ),
        ];
        for (source, expected) in cases {
            let template = Template::parse(source).unwrap();
            assert_eq!(template.render(&lookup).unwrap(), expected, "{source}");
        }
        let render_error = |source: &str| {
            let err = Template::parse(source)
                .unwrap()
                .render(&lookup)
                .unwrap_err();
            let RenderError::Filter { filter, reason, .. } = err else {
                panic!("{source}: {err}");
            };
            (filter, reason)
        };
        let (filter, reason) = render_error("{{ bad | base64_decode }}");
        assert_eq!(filter, "base64_decode");
        assert!(reason.starts_with("not base64"), "{reason}");
        assert_eq!(render_error("{{ bad | url_decode }}").0, "url_decode");
        assert_eq!(render_error("{{ bad | inflate }}").0, "inflate");
        assert_eq!(
            render_error("{{ pain | xpath(\"//Nope\") }}"),
            ("xpath", "XPath `//Nope` selected nothing".to_owned())
        );
        assert_eq!(render_error("{{ pain | jsonpath(\"$.a\") }}").0, "jsonpath");
        // Binary data must be encoded before it is rendered.
        let (filter, reason) = render_error("{{ pain | deflate }}");
        assert_eq!(filter, "deflate");
        assert!(reason.contains("end with `base64`"), "{reason}");
        assert_eq!(
            render_error("{{ pain | deflate | upper }}").1,
            "not UTF-8 text"
        );
    }

    #[test]
    fn regex_unix_ms_and_random_render() {
        let lookup = |path: &[String]| match path.join(".").as_str() {
            "now" => Some("2026-10-31T23:00:00.123456Z".to_string()),
            "body" => Some("order ABC-12 and XY-9".to_string()),
            _ => None,
        };
        let cases = [
            ("{{ now | unix_ms }}", "1793487600123"),
            ("{{ now | add_months(1) }}", "2026-11-30T23:00:00.123456Z"),
            ("{{ now | add_months(-8) }}", "2026-02-28T23:00:00.123456Z"),
            ("{{ now | add_months(-20) | unix_ms }}", "1740783600123"),
            ("{{ now | add_months(-32) }}", "2024-02-29T23:00:00.123456Z"),
            ("{{ now | add_months(14) }}", "2027-12-31T23:00:00.123456Z"),
            ("{{ body | regex(\"[A-Z]+-\\\\d+\") }}", "ABC-12"),
            ("{{ body | regex(\"([A-Z])Y\") }}", "XY"),
            ("{{ body | regex(\"nope\") | default(\"none\") }}", "none"),
        ];
        for (source, expected) in cases {
            let template = Template::parse(source).unwrap();
            assert_eq!(template.render(&lookup).unwrap(), expected, "{source}");
        }
        let err = Template::parse("{{ body | regex(\"nope\") }}")
            .unwrap()
            .render(&lookup)
            .unwrap_err();
        assert!(
            matches!(&err, RenderError::Filter { filter: "regex", reason, .. } if reason == "regex `nope` matched nothing"),
            "{err}"
        );
        // `random(…)` is a function: a lookup without it cannot render it.
        let template = Template::parse("id-{{ random(\"numeric\", 6) | default(\"x\") }}").unwrap();
        let var = template.vars().next().unwrap();
        assert_eq!(var.path, ["random"]);
        assert_eq!(
            var.random,
            Some(RandomValue {
                kind: random::RandomKind::Numeric,
                length: 6
            })
        );
        assert_eq!(template.render(&lookup).unwrap(), "id-x");
        struct Fixed;
        impl Vars for Fixed {
            fn lookup(&self, _: &[String]) -> Option<String> {
                None
            }
            fn random(&self, value: RandomValue) -> Option<String> {
                Some("7".repeat(value.length))
            }
        }
        assert_eq!(template.render(&Fixed).unwrap(), "id-777777");
    }

    #[test]
    fn filter_syntax_errors_carry_offsets_and_suggestions() {
        let cases = [
            ("{{ now | dat }}", 9, "unknown filter `dat`"),
            ("{{ now | unix(1) }}", 9, "takes no argument"),
            ("{{ now | date }}", 9, "needs a quoted format"),
            ("{{ now | date(\"[nope]\") }}", 14, "invalid date format"),
            ("{{ now | add(x) }}", 13, "invalid duration"),
            ("{{ now | default(none) }}", 17, "double-quoted"),
            ("{{ now | add(1s }}", 12, "unclosed `(`"),
            ("{{ | unix }}", 0, "missing variable name"),
            ("{{ b | base64(1) }}", 7, "takes no argument"),
            ("{{ b | xpath }}", 7, "needs a quoted XPath"),
            ("{{ b | xpath(\"//a[\") }}", 14, "invalid XPath `//a[`"),
            (
                "{{ b | xpath(\"//a[foo()]\") }}",
                18,
                "unknown XPath function `foo`",
            ),
            (
                "{{ b | jsonpath(\"$.a[\") }}",
                17,
                "invalid JSONPath `$.a[`",
            ),
            ("{{ b | jsonpath(a) }}", 16, "double-quoted"),
            ("{{ b | regex }}", 7, "needs a quoted regex"),
            ("{{ b | regex(\"(a\") }}", 13, "invalid regex `(a`"),
            ("{{ b | regex(\"\\\\w{1000}\") }}", 13, "invalid regex"),
            ("{{ b | unix_ms(1) }}", 7, "takes no argument"),
            ("{{ b | add_months }}", 7, "needs a whole number of months"),
            (
                "{{ b | add_months(1.5) }}",
                18,
                "invalid number of months `1.5`",
            ),
            (
                "{{ b | add_months(12001) }}",
                18,
                "invalid number of months",
            ),
            ("{{ random(\"hex\", 1) }}", 10, "unknown random kind"),
            ("{{ rnd(\"numeric\", 1) }}", 3, "unknown function `rnd`"),
        ];
        for (source, offset, needle) in cases {
            let err = Template::parse(source).unwrap_err();
            assert_eq!(err.offset, offset, "{source}: {}", err.message);
            assert!(err.message.contains(needle), "{source}: {}", err.message);
        }
        let err = Template::parse("{{ now | dat }}").unwrap_err();
        assert_eq!(err.help.as_deref(), Some("did you mean `date`?"));
        for (typo, meant) in [
            ("base46", "base64"),
            ("inflat", "inflate"),
            ("url_decod", "url_decode"),
            ("xpth", "xpath"),
        ] {
            let err = Template::parse(&format!("{{{{ b | {typo} }}}}")).unwrap_err();
            assert_eq!(err.help, Some(format!("did you mean `{meant}`?")), "{typo}");
        }
    }
}
