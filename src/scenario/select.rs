//! Which scenarios of a suite run: the filter language of `--filter` ([`Filter`]), the facts it
//! looks at ([`Facts`]), and deterministic sharding ([`Partition`]).
//!
//! # The filter language
//!
//! ```text
//! expr    := and ( "or" and )*
//! and     := unary ( "and" unary )*
//! unary   := "not" unary | "(" expr ")" | call
//! call    := NAME "(" value ")"              NAME: tag, severity, provider, ticket, id, customer
//! value   := WORD | "quoted text"            WORD: letters, digits and `_ . - * ? : / @ +`
//! ```
//!
//! `not` binds tighter than `and`, which binds tighter than `or`, as in most languages:
//! `tag(xero) and not severity(sev4) or ticket(SUP-51*)` is
//! `(tag(xero) and (not severity(sev4))) or ticket(SUP-51*)`. A value is a glob (`*` any run of
//! characters, `?` one character), matched against the whole of each tag, ticket, id, customer
//! or provider name, ignoring ASCII case. `severity(..)` takes one severity (`sev2`) or an
//! inclusive range (`sev1..sev2`; either end may be left out: `..sev2`, `sev3..`).
//!
//! Budgets keep any input cheap: at most [`MAX_FILTER_BYTES`] bytes and [`MAX_FILTER_DEPTH`]
//! levels of parentheses and `not`s (the parser recurses once per level, nothing else does).
//! Every error is a [`FilterError`] with the byte range it is about, for a caret under it.
//!
//! # Partitions
//!
//! `slice:K/N` and `hash:K/N` follow cargo-nextest's `--partition` (<https://nexte.st/docs/ci-features/partitioning>):
//! after every other filter, the selection sorted by scenario file goes round-robin into `N`
//! slices (the i-th file, counting from 0, is in slice `i mod N + 1`); `hash:K/N` keeps the
//! scenarios whose id hashes to bucket `K` ([`stable_hash`], FNV-1a 64: identical on every
//! machine and Rust version, and a scenario stays in its bucket when others come and go).

use std::fmt;

use super::model::{Scenario, Severity};
use super::suggest::did_you_mean;

/// Longest `--filter` accepted, in bytes.
pub(crate) const MAX_FILTER_BYTES: usize = 1024;
/// Deepest nesting of parentheses and `not`s in a `--filter`.
pub(crate) const MAX_FILTER_DEPTH: usize = 32;

/// The functions of the filter language, in the order help lists them.
pub(crate) const FUNCTIONS: &[&str] = &["tag", "severity", "provider", "ticket", "id", "customer"];

/// What a filter function looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// `tag(..)`: one of the scenario's `tags`.
    Tag,
    /// `severity(..)`: its `severity`.
    Severity,
    /// `provider(..)`: the `provider` of one of its mocks.
    Provider,
    /// `ticket(..)`: its `ticket`.
    Ticket,
    /// `id(..)`: its `id`.
    Id,
    /// `customer(..)`: one of its `customers`.
    Customer,
}

impl Field {
    /// The field a function name stands for.
    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "tag" => Field::Tag,
            "severity" => Field::Severity,
            "provider" => Field::Provider,
            "ticket" => Field::Ticket,
            "id" => Field::Id,
            "customer" => Field::Customer,
            _ => return None,
        })
    }

    /// The function name (also the flag name, `--tag`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Tag => "tag",
            Field::Severity => "severity",
            Field::Provider => "provider",
            Field::Ticket => "ticket",
            Field::Id => "id",
            Field::Customer => "customer",
        }
    }
}

/// What one test of a filter accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// A glob over a text field.
    Glob(String),
    /// An inclusive range of severities (`sev1..sev2`; one severity is a range of one).
    Severities(u8, u8),
}

/// A parsed `--filter` (or the conjunction the selection flags make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `NAME(value)`; `at` is the byte range of the value in the expression.
    Test {
        /// What it looks at.
        field: Field,
        /// What it accepts.
        pattern: Pattern,
        /// Where the value is in the expression text.
        at: (usize, usize),
    },
    /// `not ..`.
    Not(Box<Filter>),
    /// `.. and ..` (two or more).
    All(Vec<Filter>),
    /// `.. or ..` (two or more).
    Any(Vec<Filter>),
}

/// What a filter can know about a scenario.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    scenario: &'a Scenario,
}

impl<'a> Facts<'a> {
    /// The facts of `scenario`.
    pub(crate) fn of(scenario: &'a Scenario) -> Self {
        Facts { scenario }
    }

    /// Its values of a text field (every tag, every provider, …).
    fn values(self, field: Field) -> Vec<&'a str> {
        let s = self.scenario;
        match field {
            Field::Tag => s.tags.iter().map(String::as_str).collect(),
            Field::Customer => s.customers.iter().map(String::as_str).collect(),
            Field::Provider => providers(s),
            Field::Ticket => s.ticket.as_deref().into_iter().collect(),
            Field::Id => vec![s.id.as_str()],
            Field::Severity => s.severity.map(severity_name).into_iter().collect(),
        }
    }
}

/// The providers of a scenario's mocks, each once, in mock order.
pub(crate) fn providers(scenario: &Scenario) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for mock in &scenario.mocks {
        if let Some(provider) = &mock.provider
            && !names.contains(&provider.name())
        {
            names.push(provider.name());
        }
    }
    names
}

/// `sev1` .. `sev4`.
pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Sev1 => "sev1",
        Severity::Sev2 => "sev2",
        Severity::Sev3 => "sev3",
        Severity::Sev4 => "sev4",
    }
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Sev1 => 1,
        Severity::Sev2 => 2,
        Severity::Sev3 => 3,
        Severity::Sev4 => 4,
    }
}

impl Filter {
    /// Whether the scenario these facts describe is selected.
    pub(crate) fn matches(&self, facts: Facts<'_>) -> bool {
        match self {
            Filter::Test {
                field: Field::Severity,
                pattern: Pattern::Severities(low, high),
                ..
            } => facts
                .scenario
                .severity
                .is_some_and(|s| (*low..=*high).contains(&severity_rank(s))),
            Filter::Test {
                field,
                pattern: Pattern::Glob(glob),
                ..
            } => facts
                .values(*field)
                .iter()
                .any(|value| glob_matches(glob, value)),
            Filter::Test { .. } => false,
            Filter::Not(inner) => !inner.matches(facts),
            Filter::All(all) => all.iter().all(|f| f.matches(facts)),
            Filter::Any(any) => any.iter().any(|f| f.matches(facts)),
        }
    }

    /// Every test of the filter whose glob matches none of `known` values of its field (for
    /// the fields [`Filter::unknown_values`] checks), as errors with help.
    pub(crate) fn unknown_values(&self, known: &Known) -> Vec<FilterError> {
        let mut found = Vec::new();
        self.collect_unknown(known, &mut found);
        found
    }

    fn collect_unknown(&self, known: &Known, found: &mut Vec<FilterError>) {
        match self {
            Filter::Test {
                field,
                pattern: Pattern::Glob(glob),
                at,
            } => {
                let Some(values) = known.of(*field) else {
                    return;
                };
                if !values.iter().any(|value| glob_matches(glob, value)) {
                    found.push(FilterError {
                        kind: FilterErrorKind::UnknownValue {
                            field: *field,
                            value: glob.clone(),
                            known: values.clone(),
                        },
                        start: at.0,
                        end: at.1,
                    });
                }
            }
            Filter::Test { .. } => {}
            Filter::Not(inner) => inner.collect_unknown(known, found),
            Filter::All(list) | Filter::Any(list) => {
                for filter in list {
                    filter.collect_unknown(known, found);
                }
            }
        }
    }
}

/// The values a suite knows, for the fields whose unknown values are errors: tags (of the
/// scenarios found) and providers (built in). Tickets, ids and customers are not checked: a
/// value matching none of them simply selects nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// Every tag of the scenarios found, sorted, each once.
    pub tags: Vec<String>,
    /// Every provider reenact has.
    pub providers: Vec<String>,
}

impl Known {
    /// What `scenarios` know.
    pub(crate) fn of_suite(scenarios: &[Scenario]) -> Known {
        let mut tags: Vec<String> = scenarios.iter().flat_map(|s| s.tags.clone()).collect();
        tags.sort();
        tags.dedup();
        Known {
            tags,
            providers: super::convert::PROVIDERS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
        }
    }

    fn of(&self, field: Field) -> Option<&Vec<String>> {
        match field {
            Field::Tag => Some(&self.tags),
            Field::Provider => Some(&self.providers),
            _ => None,
        }
    }
}

/// Whether `glob` (`*` any run of characters, `?` one) matches the whole of `text`, ignoring
/// ASCII case. Linear backtracking over the last `*`: at most `glob.len() * text.len()` steps.
pub(crate) fn glob_matches(glob: &str, text: &str) -> bool {
    let pattern: Vec<char> = glob.chars().map(|c| c.to_ascii_lowercase()).collect();
    let text: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// What is wrong with a filter, and where (byte range in its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilterError {
    /// What is wrong.
    pub kind: FilterErrorKind,
    /// Byte offset of the first character it is about.
    pub start: usize,
    /// Byte offset one past the last.
    pub end: usize,
}

/// The problems a filter can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FilterErrorKind {
    /// Longer than [`MAX_FILTER_BYTES`].
    TooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// Nested deeper than [`MAX_FILTER_DEPTH`].
    TooDeep,
    /// A character no token starts with.
    UnexpectedChar(char),
    /// Something other than what the grammar allows here.
    Expected {
        /// What would be allowed, e.g. "`(`".
        expected: &'static str,
        /// What is there (`end of filter` at the end).
        found: String,
    },
    /// A name that is not a function.
    UnknownFunction(String),
    /// A `"` with no closing one.
    UnclosedQuote,
    /// An empty value (`tag()` or `tag("")`).
    EmptyValue,
    /// A `severity(..)` value that is not a severity or range.
    BadSeverity(String),
    /// A tag or provider no scenario (or no provider) has.
    UnknownValue {
        /// Which field.
        field: Field,
        /// The value as written.
        value: String,
        /// The values there are.
        known: Vec<String>,
    },
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FilterErrorKind::TooLong { bytes } => write!(
                f,
                "filter is {bytes} bytes long, more than the limit of {MAX_FILTER_BYTES}"
            ),
            FilterErrorKind::TooDeep => write!(
                f,
                "filter nests parentheses and `not` more than {MAX_FILTER_DEPTH} deep"
            ),
            FilterErrorKind::UnexpectedChar(c) => write!(f, "unexpected character `{c}` in filter"),
            FilterErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected} in filter, found {found}")
            }
            FilterErrorKind::UnknownFunction(name) => {
                write!(f, "unknown filter function `{name}`")
            }
            FilterErrorKind::UnclosedQuote => write!(f, "unclosed `\"` in filter"),
            FilterErrorKind::EmptyValue => write!(f, "empty value in filter"),
            FilterErrorKind::BadSeverity(text) => write!(f, "invalid severity `{text}`"),
            FilterErrorKind::UnknownValue {
                field: Field::Provider,
                value,
                ..
            } => write!(f, "unknown provider `{value}`"),
            FilterErrorKind::UnknownValue { field, value, .. } => {
                write!(f, "no scenario has {} `{value}`", field.name())
            }
        }
    }
}

impl std::error::Error for FilterError {}

impl FilterError {
    /// The short text shown under the caret.
    pub(crate) fn label(&self) -> Option<String> {
        match &self.kind {
            FilterErrorKind::UnknownFunction(_) => Some(format!(
                "expected one of {}",
                FUNCTIONS
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            FilterErrorKind::BadSeverity(_) => {
                Some("expected `sev1`..`sev4` or a range such as `sev1..sev2`".to_owned())
            }
            FilterErrorKind::UnclosedQuote => Some("opened here".to_owned()),
            _ => None,
        }
    }

    /// The error as a located diagnostic in `text` (the filter it was found in), for the
    /// caret rendering of [`crate::scenario::diagnostic::render`].
    pub(crate) fn diagnostic(&self, text: &str) -> super::Diagnostic {
        let mut span = super::yaml::span_at(text.as_bytes(), self.start);
        span.end = self.end.max(self.start + 1);
        let mut diagnostic = super::Diagnostic::new(self.to_string(), Some(span));
        diagnostic.label = self.label();
        diagnostic.help = self.help();
        diagnostic
    }

    /// The `help:` line: a did-you-mean, the values there are, or how to stay in budget.
    pub(crate) fn help(&self) -> Option<String> {
        match &self.kind {
            FilterErrorKind::UnknownFunction(name) => {
                did_you_mean(name, FUNCTIONS).map(|s| format!("did you mean `{s}`?"))
            }
            FilterErrorKind::UnknownValue { value, known, .. } => {
                Some(known_values_help(value, known))
            }
            FilterErrorKind::TooLong { .. } | FilterErrorKind::TooDeep => Some(
                "split the selection over flags (`--tag`, `--severity`, …), which combine with `and`"
                    .to_owned(),
            ),
            FilterErrorKind::UnexpectedChar('|' | '&' | '!') => {
                Some("write `or`, `and` and `not` as words".to_owned())
            }
            FilterErrorKind::Expected { .. } => Some(
                "a filter is calls such as `tag(xero)` joined by `and`, `or`, `not` and parentheses"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// Most known values a help line lists.
const MAX_KNOWN_LISTED: usize = 20;

/// `did you mean `x`? known: `a`, `b`, …` for a value no scenario has.
pub(crate) fn known_values_help(value: &str, known: &[String]) -> String {
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut listed = if known.is_empty() {
        "none".to_owned()
    } else {
        names
            .iter()
            .take(MAX_KNOWN_LISTED)
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if known.len() > MAX_KNOWN_LISTED {
        listed.push_str(&format!(
            " and {} more (`reenact list` shows them)",
            known.len() - MAX_KNOWN_LISTED
        ));
    }
    match did_you_mean(value, &names) {
        Some(suggestion) => format!("did you mean `{suggestion}`? known: {listed}"),
        None => format!("known: {listed}"),
    }
}

/// A severity value or range: `sev2`, `sev1..sev2`, `..sev2`, `sev3..`; ranks 1..=4.
pub(crate) fn parse_severities(text: &str) -> Option<(u8, u8)> {
    let one = |t: &str| -> Option<u8> {
        match t.to_ascii_lowercase().as_str() {
            "sev1" => Some(1),
            "sev2" => Some(2),
            "sev3" => Some(3),
            "sev4" => Some(4),
            _ => None,
        }
    };
    match text.split_once("..") {
        None => one(text).map(|s| (s, s)),
        Some((low, high)) => {
            let low = if low.is_empty() { Some(1) } else { one(low) }?;
            let high = if high.is_empty() { Some(4) } else { one(high) }?;
            (low <= high && text != "..").then_some((low, high))
        }
    }
}

/// One token of a filter, with its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    /// A bare word (a name, a keyword or a value).
    Word(String),
    /// A quoted value, without its quotes.
    Quoted(String),
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-*?:/@+".contains(c)
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize, usize)>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            let token = if c == '(' { Token::Open } else { Token::Close };
            tokens.push((token, start, start + 1));
        } else if c == '"' {
            chars.next();
            let mut end = None;
            for (at, c) in chars.by_ref() {
                if c == '"' {
                    end = Some(at);
                    break;
                }
            }
            let Some(end) = end else {
                return Err(FilterError {
                    kind: FilterErrorKind::UnclosedQuote,
                    start,
                    end: start + 1,
                });
            };
            tokens.push((
                Token::Quoted(text[start + 1..end].to_owned()),
                start,
                end + 1,
            ));
        } else if is_word_char(c) {
            let mut end = start;
            while let Some(&(at, c)) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                end = at + c.len_utf8();
                chars.next();
            }
            tokens.push((Token::Word(text[start..end].to_owned()), start, end));
        } else {
            return Err(FilterError {
                kind: FilterErrorKind::UnexpectedChar(c),
                start,
                end: start + c.len_utf8(),
            });
        }
    }
    Ok(tokens)
}

/// Parse a `--filter` expression (see the module docs for the grammar and budgets).
pub(crate) fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(FilterError {
            kind: FilterErrorKind::TooLong { bytes: text.len() },
            start: MAX_FILTER_BYTES,
            end: text.len(),
        });
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        end: text.len(),
    };
    let filter = parser.or(0)?;
    if let Some((_, start, end)) = parser.tokens.get(parser.next) {
        return Err(parser.expected_at("`and`, `or` or the end of the filter", *start, *end));
    }
    Ok(filter)
}

struct Parser {
    tokens: Vec<(Token, usize, usize)>,
    next: usize,
    /// Length of the text (where `end of filter` is).
    end: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.next), Some((Token::Word(w), _, _)) if w == word)
    }

    fn expected_at(&self, expected: &'static str, start: usize, end: usize) -> FilterError {
        let found = match self.tokens.iter().find(|(_, s, _)| *s == start) {
            Some((Token::Open, ..)) => "`(`".to_owned(),
            Some((Token::Close, ..)) => "`)`".to_owned(),
            Some((Token::Word(w), ..)) => format!("`{w}`"),
            Some((Token::Quoted(q), ..)) => format!("`\"{q}\"`"),
            None => "the end of the filter".to_owned(),
        };
        FilterError {
            kind: FilterErrorKind::Expected { expected, found },
            start,
            end: end.max(start + 1),
        }
    }

    /// An error that `expected` is missing at the next token (or at the end).
    fn expected(&self, expected: &'static str) -> FilterError {
        match self.tokens.get(self.next) {
            Some((_, start, end)) => self.expected_at(expected, *start, *end),
            None => self.expected_at(expected, self.end, self.end + 1),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Filter, FilterError> {
        self.joined(depth, "or", Parser::and, Filter::Any)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        self.joined(depth, "and", Parser::unary, Filter::All)
    }

    /// `operand ( keyword operand )*`, flat: one filter, or `join` of two or more (a long chain
    /// costs no recursion).
    fn joined(
        &mut self,
        depth: usize,
        keyword: &str,
        operand: fn(&mut Parser, usize) -> Result<Filter, FilterError>,
        join: fn(Vec<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut operands = vec![operand(self, depth)?];
        while self.peek_word(keyword) {
            self.next += 1;
            operands.push(operand(self, depth)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            join(operands)
        })
    }

    fn deeper(&self, depth: usize) -> Result<usize, FilterError> {
        if depth >= MAX_FILTER_DEPTH {
            let (_, start, end) = self.tokens[self.next];
            return Err(FilterError {
                kind: FilterErrorKind::TooDeep,
                start,
                end,
            });
        }
        Ok(depth + 1)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let Some((token, start, end)) = self.tokens.get(self.next).cloned() else {
            return Err(self.expected("a function call such as `tag(xero)`, `not` or `(`"));
        };
        match token {
            Token::Word(word) if word == "not" => {
                let depth = self.deeper(depth)?;
                self.next += 1;
                Ok(Filter::Not(Box::new(self.unary(depth)?)))
            }
            Token::Open => {
                let depth = self.deeper(depth)?;
                self.next += 1;
                let inner = self.or(depth)?;
                if !matches!(self.tokens.get(self.next), Some((Token::Close, ..))) {
                    return Err(self.expected("`)`"));
                }
                self.next += 1;
                Ok(inner)
            }
            Token::Word(name) if name != "and" && name != "or" => {
                let Some(field) = Field::from_name(&name) else {
                    return Err(FilterError {
                        kind: FilterErrorKind::UnknownFunction(name),
                        start,
                        end,
                    });
                };
                self.next += 1;
                self.call(field)
            }
            _ => Err(self.expected("a function call such as `tag(xero)`, `not` or `(`")),
        }
    }

    /// The `(value)` after a function name.
    fn call(&mut self, field: Field) -> Result<Filter, FilterError> {
        if !matches!(self.tokens.get(self.next), Some((Token::Open, ..))) {
            return Err(self.expected("`(`"));
        }
        self.next += 1;
        let (value, start, end) = match self.tokens.get(self.next).cloned() {
            Some((Token::Word(value) | Token::Quoted(value), start, end)) => (value, start, end),
            Some((Token::Close, start, end)) => {
                return Err(FilterError {
                    kind: FilterErrorKind::EmptyValue,
                    start,
                    end,
                });
            }
            _ => return Err(self.expected("a value")),
        };
        if value.is_empty() {
            return Err(FilterError {
                kind: FilterErrorKind::EmptyValue,
                start,
                end,
            });
        }
        self.next += 1;
        if !matches!(self.tokens.get(self.next), Some((Token::Close, ..))) {
            return Err(self.expected("`)`"));
        }
        self.next += 1;
        let pattern = if field == Field::Severity {
            let Some((low, high)) = parse_severities(&value) else {
                return Err(FilterError {
                    kind: FilterErrorKind::BadSeverity(value),
                    start,
                    end,
                });
            };
            Pattern::Severities(low, high)
        } else {
            Pattern::Glob(value)
        };
        Ok(Filter::Test {
            field,
            pattern,
            at: (start, end),
        })
    }
}

/// A deterministic shard of a suite: `slice:K/N` or `hash:K/N` (1 ≤ K ≤ N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Partition {
    /// Round-robin over the selection sorted by file: the i-th (from 0) is in slice `i % N + 1`.
    Slice {
        /// This shard, from 1.
        shard: u64,
        /// How many shards.
        total: u64,
    },
    /// By [`stable_hash`] of the id: in bucket `hash % N + 1`.
    Hash {
        /// This shard, from 1.
        shard: u64,
        /// How many shards.
        total: u64,
    },
}

/// Why a `--partition` value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PartitionError {
    /// Neither `slice:` nor `hash:`.
    #[error("invalid partition `{0}`: expected `slice:K/N` or `hash:K/N`")]
    Kind(String),
    /// `K/N` is not two numbers.
    #[error("invalid partition `{0}`: expected two whole numbers `K/N` after the `:`")]
    Numbers(String),
    /// `N` is 0, or `K` is not in `1..=N`.
    #[error("invalid partition `{0}`: shard {1} of {2} does not exist (K counts from 1 to N)")]
    Range(String, u64, u64),
}

impl std::str::FromStr for Partition {
    type Err = PartitionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, numbers) = text
            .split_once(':')
            .ok_or_else(|| PartitionError::Kind(text.to_owned()))?;
        let (shard, total) = numbers
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
            .ok_or_else(|| PartitionError::Numbers(text.to_owned()))?;
        if shard == 0 || total == 0 || shard > total {
            return Err(PartitionError::Range(text.to_owned(), shard, total));
        }
        match kind {
            "slice" => Ok(Partition::Slice { shard, total }),
            "hash" => Ok(Partition::Hash { shard, total }),
            _ => Err(PartitionError::Kind(text.to_owned())),
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partition::Slice { shard, total } => write!(f, "slice:{shard}/{total}"),
            Partition::Hash { shard, total } => write!(f, "hash:{shard}/{total}"),
        }
    }
}

impl Partition {
    /// Whether the scenario with `id` at `position` (from 0, in the selection sorted by file)
    /// is in this shard.
    pub(crate) fn contains(self, position: usize, id: &str) -> bool {
        match self {
            Partition::Slice { shard, total } => position as u64 % total + 1 == shard,
            Partition::Hash { shard, total } => stable_hash(id.as_bytes()) % total + 1 == shard,
        }
    }
}

/// FNV-1a, 64 bits (<http://www.isthe.com/chongo/tech/comp/fnv/>): fixed by its definition,
/// unlike `std`'s `DefaultHasher`, so every machine puts a scenario in the same bucket.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(
        id: &str,
        tags: &[&str],
        severity: Option<Severity>,
        ticket: Option<&str>,
    ) -> Scenario {
        let yaml = format!(
            "id: {id}\ntitle: t\n{}{}tags: [{}]\ntarget: {{ url: http://127.0.0.1:1 }}\nflow:\n  - name: s\n    request: {{ method: GET, path: / }}\n",
            severity
                .map(|s| format!("severity: {}\n", severity_name(s)))
                .unwrap_or_default(),
            ticket.map(|t| format!("ticket: {t}\n")).unwrap_or_default(),
            tags.join(", ")
        );
        crate::scenario::load_bytes(
            std::path::Path::new("t.yaml"),
            std::path::Path::new("."),
            yaml.as_bytes(),
        )
        .expect("valid scenario")
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let parsed = parse_filter("tag(xero) and not severity(sev4) or ticket(SUP-51*)").unwrap();
        let Filter::Any(any) = &parsed else {
            panic!("or at the top: {parsed:?}")
        };
        assert_eq!(any.len(), 2);
        let Filter::All(all) = &any[0] else {
            panic!("and under or: {parsed:?}")
        };
        assert!(matches!(all[1], Filter::Not(_)), "{parsed:?}");
        let cases = [
            (scenario("a", &["xero"], Some(Severity::Sev2), None), true),
            (scenario("b", &["xero"], Some(Severity::Sev4), None), false),
            (
                scenario("c", &["bank"], Some(Severity::Sev4), Some("SUP-5120")),
                true,
            ),
            (
                scenario("d", &["bank"], Some(Severity::Sev1), Some("SUP-61")),
                false,
            ),
        ];
        for (s, expected) in cases {
            assert_eq!(parsed.matches(Facts::of(&s)), expected, "{}", s.id);
        }
    }

    #[test]
    fn parentheses_change_grouping() {
        let s = scenario("c", &["bank"], Some(Severity::Sev4), Some("SUP-5120"));
        let grouped =
            parse_filter("tag(xero) and (not severity(sev4) or ticket(SUP-51*))").unwrap();
        assert!(!grouped.matches(Facts::of(&s)));
    }

    #[test]
    fn globs_match_whole_values_ignoring_case() {
        let cases = [
            ("SUP-51*", "SUP-5120", true),
            ("sup-51*", "SUP-5120", true),
            ("SUP-51*", "XSUP-5120", false),
            ("*", "", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*x*y*", "axbyc", true),
            ("*x*y", "axbyc", false),
            ("xero", "xero-sync", false),
            ("**a", "ba", true),
        ];
        for (glob, text, expected) in cases {
            assert_eq!(glob_matches(glob, text), expected, "{glob} ~ {text}");
        }
    }

    #[test]
    fn severity_values_and_ranges() {
        let cases = [
            ("sev2", Some((2, 2))),
            ("SEV2", Some((2, 2))),
            ("sev1..sev2", Some((1, 2))),
            ("..sev2", Some((1, 2))),
            ("sev3..", Some((3, 4))),
            ("sev3..sev1", None),
            ("..", None),
            ("sev5", None),
            ("high", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_severities(text), expected, "{text}");
        }
    }

    /// Each bad filter, the text under its caret, and its message.
    #[test]
    fn errors_are_located() {
        let cases = [
            ("tags(xero)", "tags", "unknown filter function `tags`"),
            (
                "tag(xero) and",
                "",
                "expected a function call such as `tag(xero)`, `not` or `(` in filter, found the end of the filter",
            ),
            (
                "tag(xero) tag(bank)",
                "tag",
                "expected `and`, `or` or the end of the filter in filter, found `tag`",
            ),
            (
                "(tag(xero)",
                "",
                "expected `)` in filter, found the end of the filter",
            ),
            ("tag xero", "xero", "expected `(` in filter, found `xero`"),
            ("tag()", ")", "empty value in filter"),
            ("severity(sev9)", "sev9", "invalid severity `sev9`"),
            ("tag(\"xero)", "\"", "unclosed `\"` in filter"),
            (
                "tag(xero) & tag(bank)",
                "&",
                "unexpected character `&` in filter",
            ),
        ];
        for (text, marked, message) in cases {
            let err = parse_filter(text).unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
            let shown = text.get(err.start..err.end.min(text.len())).unwrap_or("");
            assert_eq!(shown, marked, "{text}: {err:?}");
        }
        let err = parse_filter("tagg(x)").unwrap_err();
        assert_eq!(err.help().as_deref(), Some("did you mean `tag`?"));
    }

    #[test]
    fn budgets_bound_length_and_depth() {
        let long = format!("tag({})", "a".repeat(MAX_FILTER_BYTES));
        assert!(matches!(
            parse_filter(&long).unwrap_err().kind,
            FilterErrorKind::TooLong { .. }
        ));
        let deep = format!(
            "{}tag(a){}",
            "(".repeat(MAX_FILTER_DEPTH + 1),
            ")".repeat(MAX_FILTER_DEPTH + 1)
        );
        let err = parse_filter(&deep).unwrap_err();
        assert_eq!(err.kind, FilterErrorKind::TooDeep);
        assert_eq!(err.start, MAX_FILTER_DEPTH, "the first `(` over the limit");
        let nots = format!("{}tag(a)", "not ".repeat(MAX_FILTER_DEPTH + 1));
        assert_eq!(
            parse_filter(&nots).unwrap_err().kind,
            FilterErrorKind::TooDeep
        );
        let within = format!(
            "{}tag(a){}",
            "(".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        assert!(parse_filter(&within).is_ok());
        // A long flat chain stays cheap: no recursion per `and`.
        let chain = vec!["tag(a)"; 90].join(" and ");
        assert!(chain.len() <= MAX_FILTER_BYTES);
        assert!(matches!(parse_filter(&chain).unwrap(), Filter::All(v) if v.len() == 90));
    }

    #[test]
    fn unknown_tags_and_providers_are_reported_with_the_known_ones() {
        let suite = [scenario("a", &["xero", "exports"], None, None)];
        let known = Known::of_suite(&suite);
        let filter =
            parse_filter("tag(xro) or provider(xero) or provider(qb*) or ticket(NOPE-1)").unwrap();
        let errors = filter.unknown_values(&known);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].to_string(), "no scenario has tag `xro`");
        assert_eq!(
            errors[0].help().as_deref(),
            Some("did you mean `xero`? known: `exports`, `xero`")
        );
        assert_eq!(errors[1].to_string(), "unknown provider `qb*`");
    }

    #[test]
    fn partitions_parse_and_refuse_what_does_not_exist() {
        assert_eq!(
            "slice:1/3".parse(),
            Ok(Partition::Slice { shard: 1, total: 3 })
        );
        assert_eq!(
            "hash:3/3".parse(),
            Ok(Partition::Hash { shard: 3, total: 3 })
        );
        let errors = [
            (
                "count:1/2",
                "invalid partition `count:1/2`: expected `slice:K/N` or `hash:K/N`",
            ),
            (
                "slice",
                "invalid partition `slice`: expected `slice:K/N` or `hash:K/N`",
            ),
            (
                "slice:1",
                "invalid partition `slice:1`: expected two whole numbers `K/N` after the `:`",
            ),
            (
                "slice:a/2",
                "invalid partition `slice:a/2`: expected two whole numbers `K/N` after the `:`",
            ),
            (
                "slice:0/2",
                "invalid partition `slice:0/2`: shard 0 of 2 does not exist (K counts from 1 to N)",
            ),
            (
                "hash:3/2",
                "invalid partition `hash:3/2`: shard 3 of 2 does not exist (K counts from 1 to N)",
            ),
            (
                "hash:1/0",
                "invalid partition `hash:1/0`: shard 1 of 0 does not exist (K counts from 1 to N)",
            ),
        ];
        for (text, message) in errors {
            assert_eq!(text.parse::<Partition>().unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_selection() {
        let ids: Vec<String> = (0..97).map(|i| format!("scenario-{i}")).collect();
        for total in 1..=7u64 {
            for kind in ["slice", "hash"] {
                let mut owner = vec![0u64; ids.len()];
                for shard in 1..=total {
                    let partition: Partition = format!("{kind}:{shard}/{total}").parse().unwrap();
                    for (position, id) in ids.iter().enumerate() {
                        if partition.contains(position, id) {
                            assert_eq!(owner[position], 0, "{id} in two {kind} shards of {total}");
                            owner[position] = shard;
                        }
                    }
                }
                assert!(
                    owner.iter().all(|s| *s != 0),
                    "{kind}:_/{total} leaves some out"
                );
            }
        }
    }

    #[test]
    fn the_hash_is_fnv1a_64() {
        // The published FNV-1a 64 test vectors: any change would move scenarios between shards.
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    proptest::proptest! {
        /// Any text, however malformed, parses or fails with an error located inside it (or
        /// just past its end), and renders with its caret, without a panic.
        #[test]
        fn any_text_parses_or_fails_located(text in "(tag|not|and|or|severity|\\(|\\)|\"|[a-z*?.:]{1,4}| |sev[0-9]|\\.\\.|[|&!é]){0,40}") {
            match parse_filter(&text) {
                Ok(filter) => {
                    let s = scenario("a", &["xero"], Some(Severity::Sev2), Some("SUP-1"));
                    let _ = filter.matches(Facts::of(&s));
                }
                Err(err) => {
                    proptest::prop_assert!(err.start <= err.end && err.end <= text.len() + 1, "{err:?}");
                    proptest::prop_assert!(text.is_char_boundary(err.start.min(text.len())));
                    let rendered = super::super::diagnostic::render(
                        std::path::Path::new("--filter"),
                        &text,
                        &[err.diagnostic(&text)],
                        false,
                    );
                    // An empty text has no line to put a caret under.
                    proptest::prop_assert!(text.is_empty() || rendered.contains('^'), "{rendered}");
                }
            }
        }
    }
}
