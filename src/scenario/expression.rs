//! Budgets of the expression languages a scenario holds (XPath, JSONPath, regex), checked before
//! the text reaches the third-party parser.
//!
//! The parsers recurse once per nesting level, and so do their evaluators, on whatever stack the
//! caller has (2 MiB on a tokio worker): an XPath nested 1,500 deep parsed at `check` on the main
//! thread, then overflowed the stack when a mock evaluated it. JSONPath filters nested in filters
//! take exponential time to parse (`$[?@[?@[?@…`: 25 levels took more than 30 s). So every
//! expression is first scanned here, in one linear pass that never recurses: its length
//! ([`MAX_EXPRESSION_BYTES`]), the nesting of its brackets and parentheses outside string
//! literals ([`MAX_EXPRESSION_DEPTH`]) and, for JSONPath, the nesting of its filters
//! ([`MAX_FILTER_NESTING`]). The XPath scan also finds what only evaluation would reject (and
//! `sxd-xpath` panics on): functions outside the XPath 1.0 core library, variables, and
//! namespace prefixes (no namespaces are declared). Regexes are compiled with the `regex`
//! crate's own size and nesting limits ([`regex`]). Each problem is an [`ExpressionError`] with
//! the byte offset it is at.

use std::fmt;

/// Longest XPath or JSONPath accepted, in bytes.
pub(crate) const MAX_EXPRESSION_BYTES: usize = 1024;
/// Deepest nesting of brackets and parentheses in an XPath or JSONPath, and of groups in a regex.
pub(crate) const MAX_EXPRESSION_DEPTH: usize = 32;
/// Deepest nesting of JSONPath filters (`[?…]` inside `[?…]`): each level doubles the parse time.
pub(crate) const MAX_FILTER_NESTING: usize = 4;
/// Largest compiled regex, in bytes (128 KiB; the `regex` crate's default is 10 MiB). Matching
/// takes time in proportion to the compiled size times the text: `[a-z]{2,5}{1000}` compiles
/// within 1 MiB and took 3 s on 10 KB of text (unoptimized), a case-insensitive mix of `\w`
/// and `[a-z]{1000}` within 256 KiB took 2.6 s. Real matchers compile to a few KiB (a Unicode
/// `\w{300}` or `.{1000}` is over the limit: write `[A-Za-z0-9_]{300}`).
pub(crate) const MAX_REGEX_BYTES: usize = 128 * 1024;

/// The functions of the XPath 1.0 core library, the only ones `sxd-xpath` evaluates.
pub(crate) const XPATH_FUNCTIONS: &[&str] = &[
    "last",
    "position",
    "count",
    "local-name",
    "namespace-uri",
    "name",
    "string",
    "concat",
    "starts-with",
    "contains",
    "substring-before",
    "substring-after",
    "substring",
    "string-length",
    "normalize-space",
    "translate",
    "boolean",
    "not",
    "true",
    "false",
    "number",
    "sum",
    "floor",
    "ceiling",
    "round",
];

/// Node tests written like function calls (`text()`), which are not functions.
const XPATH_NODE_TYPES: &[&str] = &["node", "text", "comment", "processing-instruction"];

/// What is wrong with an expression, and where (byte offset in its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpressionError {
    /// What is wrong.
    pub kind: ExpressionErrorKind,
    /// Byte offset of the problem in the expression.
    pub offset: usize,
}

/// The problems [`check_xpath`] and [`check_jsonpath`] find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpressionErrorKind {
    /// Longer than [`MAX_EXPRESSION_BYTES`].
    TooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// Brackets or parentheses nested deeper than [`MAX_EXPRESSION_DEPTH`].
    TooDeep,
    /// JSONPath filters nested deeper than [`MAX_FILTER_NESTING`].
    TooManyFilters,
    /// An XPath function outside the core library.
    UnknownFunction {
        /// The name as written.
        name: String,
    },
    /// An XPath variable reference: none is ever defined.
    Variable {
        /// The name as written, without `$`.
        name: String,
    },
    /// An XPath name with a namespace prefix: none is ever declared.
    Prefix {
        /// The prefixed name as written.
        name: String,
    },
}

impl fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExpressionErrorKind::TooLong { bytes } => write!(
                f,
                "the expression is {bytes} bytes long, more than the limit of {MAX_EXPRESSION_BYTES}"
            ),
            ExpressionErrorKind::TooDeep => write!(
                f,
                "brackets and parentheses nest deeper than {MAX_EXPRESSION_DEPTH} levels"
            ),
            ExpressionErrorKind::TooManyFilters => {
                write!(f, "filters nest deeper than {MAX_FILTER_NESTING} levels")
            }
            ExpressionErrorKind::UnknownFunction { name } => {
                write!(f, "unknown XPath function `{name}`")
            }
            ExpressionErrorKind::Variable { name } => {
                write!(f, "XPath variable `${name}` is never defined")
            }
            ExpressionErrorKind::Prefix { name } => {
                write!(f, "namespace prefix in `{name}`: no namespace is declared")
            }
        }
    }
}

impl ExpressionError {
    fn new(kind: ExpressionErrorKind, offset: usize) -> Self {
        ExpressionError { kind, offset }
    }

    /// How many bytes of the expression the problem covers, for a caret.
    pub(crate) fn len(&self) -> usize {
        match &self.kind {
            ExpressionErrorKind::TooLong { .. }
            | ExpressionErrorKind::TooDeep
            | ExpressionErrorKind::TooManyFilters => 1,
            ExpressionErrorKind::UnknownFunction { name }
            | ExpressionErrorKind::Prefix { name } => name.len(),
            ExpressionErrorKind::Variable { name } => name.len() + 1,
        }
    }

    /// A hint on what to write instead.
    pub(crate) fn help(&self) -> Option<String> {
        match &self.kind {
            ExpressionErrorKind::UnknownFunction { name } => Some(
                match crate::scenario::suggest::did_you_mean(name, XPATH_FUNCTIONS) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => "XPath 1.0 has `contains`, `starts-with`, `normalize-space`, `count`, `local-name`, `not`, … (the core library)".to_string(),
                },
            ),
            ExpressionErrorKind::Prefix { .. } => Some(
                "match the local name instead: `*[local-name()='Envelope']`".to_string(),
            ),
            ExpressionErrorKind::Variable { .. } => {
                Some("write the value itself, e.g. `'text'` or `42`".to_string())
            }
            ExpressionErrorKind::TooManyFilters => Some(
                "each nested filter doubles the time to read the path: select with fewer levels"
                    .to_string(),
            ),
            ExpressionErrorKind::TooLong { .. } | ExpressionErrorKind::TooDeep => None,
        }
    }
}

fn too_long(text: &str) -> Option<ExpressionError> {
    (text.len() > MAX_EXPRESSION_BYTES).then(|| {
        ExpressionError::new(
            ExpressionErrorKind::TooLong { bytes: text.len() },
            floor_char_boundary(text, MAX_EXPRESSION_BYTES),
        )
    })
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Check a JSONPath against the budgets before it is parsed: length, nesting of brackets and
/// parentheses outside string literals, nesting of filters.
pub(crate) fn check_jsonpath(text: &str) -> Result<(), ExpressionError> {
    if let Some(err) = too_long(text) {
        return Err(err);
    }
    // Open brackets and parentheses; for a `[`, whether it holds a filter selector (`?`).
    let mut open: Vec<(u8, bool)> = Vec::new();
    let mut quote = None;
    let mut escaped = false;
    for (offset, byte) in text.bytes().enumerate() {
        if let Some(q) = quote {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                _ if byte == q => quote = None,
                _ => {}
            }
            continue;
        }
        match byte {
            b'\'' | b'"' => quote = Some(byte),
            b'[' | b'(' => {
                open.push((byte, false));
                if open.len() > MAX_EXPRESSION_DEPTH {
                    return Err(ExpressionError::new(ExpressionErrorKind::TooDeep, offset));
                }
            }
            b']' | b')' => {
                open.pop();
            }
            b'?' => {
                if let Some((b'[', filter)) = open.last_mut() {
                    *filter = true;
                }
                let filters = open.iter().filter(|(_, filter)| *filter).count();
                if filters > MAX_FILTER_NESTING {
                    return Err(ExpressionError::new(
                        ExpressionErrorKind::TooManyFilters,
                        offset,
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Check an XPath against the budgets, and for what only its evaluation would reject, before it
/// is parsed: length, nesting of brackets and parentheses outside string literals, function
/// names (the XPath 1.0 core library), variables and namespace prefixes.
///
/// The scan follows XPath 1.0's lexical rules (section 3.7) closely enough to tell a function
/// call (`name(` where an operand may start) from an operator name (`and`, `or`, `div`, `mod`
/// after an operand) and a node type test (`text()`); whatever it cannot tell is left to the
/// parser, which rejects malformed text.
pub(crate) fn check_xpath(text: &str) -> Result<(), ExpressionError> {
    if let Some(err) = too_long(text) {
        return Err(err);
    }
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Whether the token before was an operand (a name test, literal, number, `)`, `]`, `.`):
    // then a name is an operator and `*` multiplies.
    let mut after_operand = false;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                at += 1;
                continue;
            }
            b'\'' | b'"' => {
                at = text[at + 1..]
                    .find(char::from(byte))
                    .map_or(bytes.len(), |end| at + 1 + end + 1);
                after_operand = true;
                continue;
            }
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_EXPRESSION_DEPTH {
                    return Err(ExpressionError::new(ExpressionErrorKind::TooDeep, at));
                }
                after_operand = false;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                after_operand = true;
            }
            b'$' => {
                let name = name_at(text, at + 1);
                return Err(ExpressionError::new(
                    ExpressionErrorKind::Variable {
                        name: name.to_string(),
                    },
                    at,
                ));
            }
            b'*' => after_operand = !after_operand,
            b'.' if bytes.get(at + 1).is_some_and(u8::is_ascii_digit) => {
                at = number_end(bytes, at);
                after_operand = true;
                continue;
            }
            b'.' => after_operand = true,
            b'0'..=b'9' => {
                at = number_end(bytes, at);
                after_operand = true;
                continue;
            }
            _ if is_name_start(text, at) => {
                let name = name_at(text, at);
                let end = at + name.len();
                let next = text[end..].trim_start();
                if next.starts_with("::") {
                    // An axis name.
                    after_operand = false;
                } else if after_operand && matches!(name, "and" | "or" | "div" | "mod") {
                    after_operand = false;
                } else if text[end..].starts_with('(') && !XPATH_NODE_TYPES.contains(&name) {
                    if !XPATH_FUNCTIONS.contains(&name) {
                        return Err(ExpressionError::new(
                            ExpressionErrorKind::UnknownFunction {
                                name: name.to_string(),
                            },
                            at,
                        ));
                    }
                    after_operand = false;
                } else if name.contains(':') {
                    return Err(ExpressionError::new(
                        ExpressionErrorKind::Prefix {
                            name: name.to_string(),
                        },
                        at,
                    ));
                } else {
                    after_operand = true;
                }
                at = end;
                continue;
            }
            _ => after_operand = false,
        }
        at += 1;
    }
    Ok(())
}

/// The end of the number starting at `at`: digits, then `.` and digits.
fn number_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at].is_ascii_digit() || bytes[at] == b'.') {
        at += 1;
    }
    at
}

fn is_name_start(text: &str, at: usize) -> bool {
    text[at..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// The QName (`name`, `prefix:name` or `prefix:*`) starting at `at`.
fn name_at(text: &str, at: usize) -> &str {
    let rest = &text[at..];
    let ncname = |part: &str| {
        part.char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(part.len(), |(end, _)| end)
    };
    let first = ncname(rest);
    let after = &rest[first..];
    // `prefix:name` or `prefix:*`, but not the axis separator `::`.
    if let Some(local) = after.strip_prefix(':')
        && !local.starts_with(':')
    {
        if local.starts_with('*') {
            return &rest[..first + 2];
        }
        let second = ncname(local);
        if second > 0 {
            return &rest[..first + 1 + second];
        }
    }
    &rest[..first]
}

/// A regex compiled within [`MAX_REGEX_BYTES`] and [`MAX_EXPRESSION_DEPTH`] levels of nesting.
pub(crate) fn regex(source: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(source)
        .size_limit(MAX_REGEX_BYTES)
        .nest_limit(MAX_EXPRESSION_DEPTH as u32)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xpath_error(text: &str) -> ExpressionErrorKind {
        check_xpath(text).unwrap_err().kind
    }

    #[test]
    fn xpaths_of_the_core_library_pass() {
        for text in [
            "/Envelope/Body/Op/@name",
            "//Line",
            "count(//Line) > 2 and not(//Error)",
            "//*[local-name()='Envelope']/*[local-name() = 'Body']",
            "//a[contains(text(), 'x') or starts-with(@id, \"y\")]",
            "child::node()/descendant-or-self::text()",
            "//a[position() = last()] | //b[. = 'div(']",
            "3 div 2 mod 1 * 4",
            "//*[1]",
            "sum(//Amount) - 0.5 > .5",
            "/a/processing-instruction('x')",
            "//node-name",
            "//order-date-div",
        ] {
            assert_eq!(check_xpath(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn xpaths_that_only_evaluation_would_reject_are_found() {
        assert_eq!(
            check_xpath("//a[foo(1)]"),
            Err(ExpressionError::new(
                ExpressionErrorKind::UnknownFunction { name: "foo".into() },
                4
            ))
        );
        assert_eq!(
            xpath_error("matches(//a, 'x')"),
            ExpressionErrorKind::UnknownFunction {
                name: "matches".into()
            }
        );
        assert_eq!(
            xpath_error("/soap:Envelope/Body"),
            ExpressionErrorKind::Prefix {
                name: "soap:Envelope".into()
            }
        );
        assert_eq!(
            xpath_error("//x:*"),
            ExpressionErrorKind::Prefix { name: "x:*".into() }
        );
        assert_eq!(
            xpath_error("fn:count(//a)"),
            ExpressionErrorKind::UnknownFunction {
                name: "fn:count".into()
            }
        );
        assert_eq!(
            xpath_error("//a[@id = $id]"),
            ExpressionErrorKind::Variable { name: "id".into() }
        );
        let help = check_xpath("//a[conatins(., 'x')]").unwrap_err().help();
        assert_eq!(help.as_deref(), Some("did you mean `contains`?"));
    }

    #[test]
    fn expressions_are_bounded_in_length_and_depth() {
        let deep = format!("{}1{}", "(".repeat(33), ")".repeat(33));
        assert_eq!(
            check_xpath(&deep),
            Err(ExpressionError::new(ExpressionErrorKind::TooDeep, 32))
        );
        let ok = format!("{}1{}", "(".repeat(32), ")".repeat(32));
        assert_eq!(check_xpath(&ok), Ok(()));
        let predicates = format!("/a{}{}", "[b".repeat(40), "]".repeat(40));
        assert_eq!(xpath_error(&predicates), ExpressionErrorKind::TooDeep);
        // Brackets inside string literals do not count.
        let quoted = format!("//a[. = '{}']", "[".repeat(100));
        assert_eq!(check_xpath(&quoted), Ok(()));
        let long = format!("/a{}", "/b".repeat(600));
        assert_eq!(
            xpath_error(&long),
            ExpressionErrorKind::TooLong { bytes: 1202 }
        );
        let jsonpath = format!("$[?{}@.a{}]", "(".repeat(40), ")".repeat(40));
        assert_eq!(
            check_jsonpath(&jsonpath).unwrap_err().kind,
            ExpressionErrorKind::TooDeep
        );
        let quoted = format!("$['{}']", "[\\'".repeat(100));
        assert_eq!(check_jsonpath(&quoted), Ok(()));
        // Segments one after another are not nested.
        let segments = format!("$.a{}", "['b']".repeat(40));
        assert_eq!(check_jsonpath(&segments), Ok(()));
    }

    #[test]
    fn jsonpath_filters_nest_at_most_four_deep() {
        let nested = |levels: usize| format!("${}{}", "[?@".repeat(levels), "]".repeat(levels));
        assert_eq!(check_jsonpath(&nested(4)), Ok(()));
        assert_eq!(
            check_jsonpath(&nested(5)),
            Err(ExpressionError::new(
                ExpressionErrorKind::TooManyFilters,
                14
            ))
        );
        // Side by side is not nested.
        let wide = format!("$[?{}]", ["@[?@.a]"; 10].join(" && "));
        assert_eq!(check_jsonpath(&wide), Ok(()));
        assert_eq!(
            check_jsonpath("$.items[?@.lines[?@.amount > 100]].id"),
            Ok(())
        );
        // A `?` in a string is not a filter.
        assert_eq!(check_jsonpath("$[?@.a == '[?[?[?[?[?']"), Ok(()));
    }

    #[test]
    fn regexes_are_compiled_within_limits() {
        assert!(regex("^/v1/(users|teams)/[0-9]+$").is_ok());
        let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert!(regex(&deep).is_err());
        assert!(regex(r"\w{1000}").is_err());
    }
}

/// Property tests: generated expressions never panic, never overflow a worker's stack and stay
/// fast, in the checks and, when the checks accept them, in the third-party parsers and
/// evaluators. `PROPTEST_CASES=100000 cargo test --lib expression::properties` runs a long
/// search (64 cases each by default).
#[cfg(test)]
mod properties {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::scenario::template::Template;

    /// Most time one generated case may take (parse and evaluate, unoptimized build).
    const BUDGET: Duration = Duration::from_secs(2);

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

    /// Text made of `tokens`, up to `max` of them, sometimes nested `depth` levels deep inside
    /// `open` … `close`.
    fn text(
        tokens: &'static [&'static str],
        max: usize,
        open: &'static str,
        close: &'static str,
    ) -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(proptest::sample::select(tokens), 0..max),
            0usize..80,
            any::<bool>(),
        )
            .prop_map(move |(parts, depth, nest)| {
                let body = parts.concat();
                if nest {
                    format!("{}{body}{}", open.repeat(depth), close.repeat(depth))
                } else {
                    body
                }
            })
    }

    /// XPaths from a small grammar of XPath 1.0 (paths, predicates, operators, core functions),
    /// nested up to about 40 levels, sometimes with a stray token spliced in.
    fn xpath() -> impl Strategy<Value = String> {
        let leaf = proptest::sample::select(
            &[
                "a", "//b", "@id", "1", "2.5", "'x'", ".", "..", "text()", "/a/b", "*", "node()",
            ][..],
        )
        .prop_map(str::to_string);
        let tree = leaf.prop_recursive(48, 400, 3, |inner| {
            (inner.clone(), inner, 0usize..12).prop_map(|(a, b, shape)| match shape {
                0 => format!("{a} and {b}"),
                1 => format!("{a} = {b}"),
                2 => format!("{a} | {b}"),
                3 => format!("({a})"),
                4 => format!("count({a})"),
                5 => format!("contains({a}, {b})"),
                6 => format!("//a[{a}]"),
                7 => format!("-{a}"),
                8 => format!("not({a})"),
                9 => format!("{a} + {b} div 2"),
                10 => format!("/a[{a}][{b}]"),
                _ => format!("string-length(concat({a}, {b}))"),
            })
        });
        splice(tree, XPATH)
    }

    /// JSONPaths from a small grammar of RFC 9535 (segments, filters, comparisons, functions).
    fn jsonpath() -> impl Strategy<Value = String> {
        let leaf =
            proptest::sample::select(&["@.a", "@", "@.b[0]", "@..a", "1", "'s'", "true"][..])
                .prop_map(str::to_string);
        let filter = leaf.prop_recursive(24, 300, 3, |inner| {
            (inner.clone(), inner, 0usize..9).prop_map(|(a, b, shape)| match shape {
                0 => format!("{a} == {b}"),
                1 => format!("{a} && {b}"),
                2 => format!("!({a})"),
                3 => format!("({a} || {b})"),
                4 => format!("@[?{a}]"),
                5 => format!("@.a[?{a}].b"),
                6 => format!("length(@.a) > 1 && {a}"),
                7 => format!("count(@[?{a}]) == 1"),
                _ => format!("{a} != {b}"),
            })
        });
        let path = (filter, 0usize..4).prop_map(|(filter, shape)| match shape {
            0 => format!("$[?{filter}]"),
            1 => format!("$.a[?{filter}].b"),
            2 => format!("$..[?{filter}]"),
            _ => format!("$.a[0, ?{filter}]"),
        });
        splice(path, JSONPATH)
    }

    /// `strategy`'s text, or (one time in four) that text with one of `tokens` spliced in.
    fn splice(
        strategy: impl Strategy<Value = String>,
        tokens: &'static [&'static str],
    ) -> impl Strategy<Value = String> {
        (
            strategy,
            proptest::sample::select(tokens),
            0.0f64..1.0,
            0usize..4,
        )
            .prop_map(|(text, token, at, splice)| {
                if splice > 0 {
                    return text;
                }
                let mut at = ((text.len() as f64) * at) as usize;
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                format!("{}{token}{}", &text[..at], &text[at..])
            })
    }

    /// Run `f` on a thread with a tokio worker's 2 MiB stack: a panic is an `Err`, a stack
    /// overflow aborts the test binary (and so fails it), and the time is bounded.
    fn on_worker_stack(what: &str, input: &str, f: impl FnOnce() + Send + 'static) {
        let started = Instant::now();
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .expect("spawn")
            .join();
        assert!(outcome.is_ok(), "{what} panicked on {input:?}");
        assert!(
            started.elapsed() < BUDGET,
            "{what} took {:?} on {input:?}",
            started.elapsed()
        );
    }

    const XPATH: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "/",
        "//",
        "a",
        "b",
        "@id",
        "*",
        ".",
        "..",
        "1",
        "2.5",
        "'x'",
        "\"y\"",
        " and ",
        " or ",
        "=",
        "!=",
        "<",
        ">=",
        "+",
        "-",
        " div ",
        " mod ",
        "|",
        ",",
        "count(",
        "contains(",
        "not(",
        "string-length(",
        "text()",
        "node()",
        "foo(",
        "ns:a",
        "$v",
        "child::",
        "descendant::",
        "::",
        ":",
        " ",
    ];

    const JSONPATH: &[&str] = &[
        "$", ".", "..", "a", "b", "*", "[", "]", "?", "@", "(", ")", "==", "!=", "<", "&&", "||",
        "!", "'s'", "\"t\"", "1", "-1", ",", ":", "length(", "count(", "match(", "search(",
        "value(", " ",
    ];

    const REGEX: &[&str] = &[
        "(", ")", "a", "b", "|", "*", "+", "?", "{1000}", "{2,5}", "{0,}", "[a-z]", "[^x]", "\\w",
        "\\d", "\\s", ".", "^", "$", "(?:", "(?i)", "\\", "]", "[",
    ];

    const TEMPLATE: &[&str] = &[
        "{{",
        "}}",
        " ",
        "a",
        "now",
        ".",
        "|",
        "upper",
        "date(\"[year]\")",
        "date(\"[optional [",
        "]\")",
        "add(1s)",
        "sub(30m)",
        "unix",
        "default(\"x\")",
        "stored(\"k:\")",
        "base64_decode",
        "deflate",
        "inflate",
        "url_decode",
        "xpath(\"/a\")",
        "jsonpath(\"$.a\")",
        "regex(\"a+\")",
        "unix_ms",
        "add_months(-13)",
        "random(\"numeric\", 5)",
        "(",
        ")",
        "\"",
        "\\",
        "{",
        "}",
    ];

    #[test]
    fn xpaths_the_check_accepts_parse_and_evaluate_safely() {
        let mut runner = TestRunner::new(config());
        runner
            .run(
                &prop_oneof![xpath(), text(XPATH, 60, "(", ")")],
                |expression| {
                    let checked = check_xpath(&expression);
                    if checked.is_ok() {
                        let input = expression.clone();
                        on_worker_stack("xpath", &expression, move || {
                            let Ok(Some(xpath)) = sxd_xpath::Factory::new().build(&input) else {
                                return;
                            };
                            let package =
                                sxd_document::parser::parse("<a id='1'><b>x</b><b>y</b></a>")
                                    .expect("a document");
                            let document = package.as_document();
                            let context = sxd_xpath::Context::new();
                            let _ = xpath.evaluate(&context, document.root());
                        });
                    }
                    Ok(())
                },
            )
            .unwrap();
    }

    #[test]
    fn jsonpaths_the_check_accepts_parse_and_query_safely() {
        let mut runner = TestRunner::new(config());
        runner
            .run(
                &prop_oneof![jsonpath(), text(JSONPATH, 60, "[?@", "]")],
                |expression| {
                    if check_jsonpath(&expression).is_ok() {
                        let input = expression.clone();
                        on_worker_stack("jsonpath", &expression, move || {
                            let Ok(path) = serde_json_path::JsonPath::parse(&input) else {
                                return;
                            };
                            let value =
                                serde_json::json!({"a": [1, {"b": [2, {"a": "s"}]}], "t": 1});
                            let _ = path.query(&value).all();
                        });
                    }
                    Ok(())
                },
            )
            .unwrap();
    }

    #[test]
    fn regexes_compile_and_match_within_limits() {
        let mut runner = TestRunner::new(config());
        runner
            .run(&text(REGEX, 40, "(", ")"), |source| {
                let input = source.clone();
                on_worker_stack("regex", &source, move || {
                    if let Ok(regex) = regex(&input) {
                        let haystack = "ab".repeat(5_000);
                        let _ = regex.is_match(&haystack);
                    }
                });
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn templates_parse_and_render_within_limits() {
        let mut runner = TestRunner::new(config());
        runner
            .run(
                &text(TEMPLATE, 60, "{{ now | date(\"[optional [", "]\") }}"),
                |source| {
                    let input = source.clone();
                    on_worker_stack("template", &source, move || {
                        if let Ok(template) = Template::parse(&input) {
                            let lookup = |_: &[String]| Some("2026-05-09T08:00:00Z".to_string());
                            let _ = template.render(&lookup);
                        }
                    });
                    Ok(())
                },
            )
            .unwrap();
    }
}
