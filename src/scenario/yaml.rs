//! YAML text to a spanned node tree, with budgets: input size, nesting depth and alias expansion.
//!
//! [`parse`] drives the `saphyr-parser` event stream into a [`Node`] tree where every node keeps
//! its [`Span`] (byte offsets, 1-based line and column). Anchors and aliases are expanded while the
//! tree is built, so later stages never see them; the expansion is bounded by [`MAX_NODES`] and
//! [`MAX_EXPANDED_BYTES`], which turn an alias bomb ("billion laughs", or a large scalar aliased
//! many times) into an error at the alias that crosses the budget instead of a hang or an
//! exhausted memory. Every problem is located: an empty file at its start, a file over the size
//! limit where the limit falls, a control character YAML forbids where it is, an unclosed `[` or
//! `{` where it opens. Plain scalars keep their
//! text and are typed per the YAML 1.2 core schema only on request ([`Node::scalar`]), so the
//! conversion can say "expected a string, found an integer". Problems are [`Diagnostic`]s.
//!
//! The file is over 600 lines with its unit tests (the code is about 590) and stays whole: the
//! tree builder, its budgets and the alias expansion work on one event stream.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::Span;

/// Largest scenario file accepted, in bytes (1 MiB).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;
/// Deepest nesting of lists and mappings accepted.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most nodes a document may hold once aliases are expanded.
pub(crate) const MAX_NODES: usize = 100_000;
/// Most bytes of scalar text a document may hold once aliases are expanded (4 MiB, four times
/// [`MAX_INPUT_BYTES`]): the node budget alone let one 600 KB scalar aliased 99,000 times grow
/// to gigabytes.
pub(crate) const MAX_EXPANDED_BYTES: usize = 4 * MAX_INPUT_BYTES;

/// One YAML node and where it is in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it is; for an expanded alias, where the anchored node is.
    pub span: Span,
}

/// The three kinds of YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar with its text (after unquoting) and how it was written.
    Scalar {
        /// The text.
        text: String,
        /// Plain or quoted.
        style: Style,
    },
    /// A list.
    Sequence(Vec<Node>),
    /// A mapping, in file order; keys are unique.
    Mapping(Vec<(Node, Node)>),
}

/// How a scalar was written, which decides its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Unquoted: typed per the YAML 1.2 core schema (`null`, `true`, `42`, `1.5`, else a string).
    Plain,
    /// Single- or double-quoted, a block scalar (`|`, `>`) or tagged `!!str`: always a string.
    Quoted,
}

/// A scalar typed per the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A positive integer beyond `i64`.
    UInt(u64),
    /// Any other number, including `.inf` and `.nan`.
    Float(f64),
    /// Text.
    Str(&'a str),
}

impl Node {
    /// The scalar's typed value, or `None` for lists and mappings.
    pub(crate) fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.kind {
            NodeKind::Scalar { text, style } => Some(match style {
                Style::Quoted => Scalar::Str(text),
                Style::Plain => resolve_plain(text),
            }),
            _ => None,
        }
    }

    /// The text of a scalar whatever its type, or `None` for lists and mappings.
    pub(crate) fn text(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The text of a scalar that is a string (quoted, or plain and not a null, bool or number).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self.scalar() {
            Some(Scalar::Str(text)) => Some(text),
            _ => None,
        }
    }

    /// Whether the node is a plain scalar of decimal digits with an optional sign, whatever its
    /// size: `99999999999999999999999` is an integer out of range, not "a number".
    pub(crate) fn is_integer_text(&self) -> bool {
        match &self.kind {
            NodeKind::Scalar {
                text,
                style: Style::Plain,
            } => {
                let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        }
    }

    /// What the node is, for messages: `a string`, `an integer`, `a list`, ...
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
            NodeKind::Scalar { .. } => match self.scalar() {
                Some(Scalar::Null) => "null",
                Some(Scalar::Bool(_)) => "a boolean",
                Some(Scalar::Int(_) | Scalar::UInt(_)) => "an integer",
                Some(Scalar::Float(_)) => "a number",
                Some(Scalar::Str(_)) | None => "a string",
            },
        }
    }
}

/// Type a plain scalar per the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Scalar<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse::<i64>() {
            return Scalar::Int(n);
        }
        if let Ok(n) = digits.parse::<u64>()
            && !text.starts_with('-')
        {
            return Scalar::UInt(n);
        }
        return text.parse().map_or(Scalar::Str(text), Scalar::Float);
    }
    for (prefix, radix) in [("0o", 8), ("0x", 16)] {
        if let Some(rest) = text.strip_prefix(prefix)
            && !rest.is_empty()
            && rest.chars().all(|c| c.is_digit(radix))
        {
            return match i64::from_str_radix(rest, radix) {
                Ok(n) => Scalar::Int(n),
                Err(_) => u64::from_str_radix(rest, radix).map_or(Scalar::Str(text), Scalar::UInt),
            };
        }
    }
    if is_core_float(digits) {
        return text.parse().map_or(Scalar::Str(text), Scalar::Float);
    }
    Scalar::Str(text)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema float without its sign.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Parse one YAML document into a node tree. Every problem found is returned; budget overruns,
/// syntax errors and encoding errors stop parsing at once.
pub(crate) fn parse(bytes: &[u8]) -> Result<Node, Vec<Diagnostic>> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(vec![too_large(bytes)]);
    }
    let text = std::str::from_utf8(bytes).map_err(|err| vec![utf8_error(bytes, &err)])?;
    if let Some(diagnostic) = forbidden_character(text) {
        return Err(vec![diagnostic]);
    }
    Builder::new(text).run()
}

/// The span of the byte at `offset` of `bytes` (read lossily where it is not UTF-8).
pub(crate) fn span_at(bytes: &[u8], offset: usize) -> Span {
    let offset = offset.min(bytes.len());
    let line_start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let line = bytes[..line_start].iter().filter(|&&b| b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&bytes[line_start..offset])
        .chars()
        .count()
        + 1;
    Span {
        start: offset,
        end: (offset + 1).min(bytes.len()),
        line,
        col,
    }
}

/// A file over [`MAX_INPUT_BYTES`], located where the limit falls. `bytes` may be a prefix of
/// the file: a reader stops one byte past the limit.
fn too_large(bytes: &[u8]) -> Diagnostic {
    Diagnostic::new(
        format!("the file is larger than the limit of {MAX_INPUT_BYTES} bytes (1 MiB)"),
        Some(span_at(bytes, MAX_INPUT_BYTES)),
    )
    .with_label("the limit is reached here")
    .with_help("a scenario is a short text: move large payloads to `body_file` or `json_file`")
}

/// Whether YAML forbids the character anywhere in a file: C0 controls but tab, line feed and
/// carriage return; DEL; C1 controls but NEL; the noncharacters U+FFFE and U+FFFF (YAML 1.2,
/// `c-printable`).
fn is_forbidden(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' | '\u{85}' => false,
        '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => true,
        _ => false,
    }
}

/// The first character YAML forbids in `text` (a NUL byte, an escape character…), as one
/// diagnostic saying how many there are: the scanner would report each with its own noise.
fn forbidden_character(text: &str) -> Option<Diagnostic> {
    let (offset, c) = text.char_indices().find(|&(_, c)| is_forbidden(c))?;
    let others = text[offset + c.len_utf8()..]
        .chars()
        .filter(|&c| is_forbidden(c))
        .count();
    let name = match c {
        '\0' => "a NUL byte".to_string(),
        '\u{1b}' => "an escape character".to_string(),
        '\u{7f}' => "a DEL character".to_string(),
        _ => format!("the control character U+{:04X}", u32::from(c)),
    };
    let mut span = span_at(text.as_bytes(), offset);
    span.end = offset + c.len_utf8();
    let label = match others {
        0 => "not allowed in YAML".to_string(),
        1 => "not allowed in YAML (1 more follows)".to_string(),
        n => format!("not allowed in YAML ({n} more follow)"),
    };
    Some(
        Diagnostic::new(
            format!(
                "the file holds {name} (line {}, column {}): YAML text may not contain control characters",
                span.line, span.col
            ),
            Some(span),
        )
        .with_label(label)
        .with_help("remove it; in a double-quoted string, write it as an escape such as `\\0` or `\\x1b`"),
    )
}

fn utf8_error(bytes: &[u8], err: &std::str::Utf8Error) -> Diagnostic {
    let offset = err.valid_up_to();
    let before = String::from_utf8_lossy(&bytes[..offset]);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Diagnostic::new(
        format!(
            "the file is not valid UTF-8: byte `0x{:02x}` at byte offset {offset} (line {line}, column {col})",
            bytes[offset]
        ),
        Some(Span {
            start: offset,
            end: offset + 1,
            line,
            col,
        }),
    )
    .with_label("not UTF-8")
    .with_help("save the scenario as UTF-8")
}

/// A list or mapping being built.
struct Frame {
    span: Span,
    anchor: usize,
    nodes_before: usize,
    bytes_before: usize,
    content: FrameContent,
}

enum FrameContent {
    Sequence(Vec<Node>),
    Mapping {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        seen: HashMap<String, usize>,
    },
}

/// An anchored node kept for its aliases, with its size (nodes and scalar bytes) and height for
/// the budgets.
struct Anchored {
    node: Node,
    nodes: usize,
    bytes: usize,
    height: usize,
}

struct Builder<'a> {
    text: &'a str,
    /// Byte offset of each character, when the text is not ASCII (saphyr counts characters).
    char_offsets: Option<Vec<usize>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    /// Bytes of scalar text so far, aliases expanded.
    bytes: usize,
    documents: usize,
    root: Option<Node>,
    errors: Vec<Diagnostic>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        let char_offsets = (!text.is_ascii()).then(|| {
            text.char_indices()
                .map(|(offset, _)| offset)
                .chain([text.len()])
                .collect()
        });
        Builder {
            text,
            char_offsets,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            bytes: 0,
            documents: 0,
            root: None,
            errors: Vec::new(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_offsets {
            Some(offsets) => offsets.get(char_index).copied().unwrap_or(self.text.len()),
            None => char_index.min(self.text.len()),
        }
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span {
            start: self.byte(span.start.index()),
            end: self.byte(span.end.index()),
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }

    fn run(mut self) -> Result<Node, Vec<Diagnostic>> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(event) = parser.next_event() {
            let (event, raw_span) = match event {
                Ok(event) => event,
                Err(err) => {
                    let marker = err.marker();
                    let start = self.byte(marker.index());
                    let span = Span {
                        start,
                        end: start,
                        line: marker.line(),
                        col: marker.col() + 1,
                    };
                    let diagnostic = self.unclosed(span, err.info()).unwrap_or_else(|| {
                        Diagnostic::new(format!("invalid YAML: {}", err.info()), Some(span))
                    });
                    self.errors.push(diagnostic);
                    return Err(self.errors);
                }
            };
            let span = self.span(raw_span);
            if let Err(fatal) = self.event(event, span) {
                self.errors.push(fatal);
                return Err(self.errors);
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let text = self.text;
        self.root.ok_or_else(|| vec![empty(text)])
    }

    /// A syntax error inside a flow collection (`[` or `{`) opened on an earlier line: most
    /// likely it was never closed, and the parser only notices at the end of the file or at the
    /// next block key. Report it where it opens, with what the parser said and where.
    fn unclosed(&self, at: Span, info: &str) -> Option<Diagnostic> {
        let frame = self.stack.last()?;
        let open = self.text.get(frame.span.start..)?.chars().next()?;
        let close = match open {
            '[' => ']',
            '{' => '}',
            _ => return None,
        };
        if frame.span.line >= at.line {
            return None;
        }
        Some(
            Diagnostic::new(
                format!("unclosed `{open}`: expected `{close}`"),
                Some(Span {
                    end: frame.span.start + 1,
                    ..frame.span
                }),
            )
            .with_label(format!("this `{open}` is never closed"))
            .with_help(format!(
                "the YAML parser stopped at line {}, column {}: {info}",
                at.line, at.col
            )),
        )
    }

    /// Handle one event; an `Err` is fatal.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Diagnostic> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::new(
                        "a scenario file holds one YAML document, found a second one",
                        Some(span),
                    )
                    .with_label("second document starts here")
                    .with_help("put each scenario in its own file"));
                }
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(Diagnostic::new("alias to an unknown anchor", Some(span)));
                };
                if self.nodes + anchored.nodes > MAX_NODES {
                    return Err(too_many_nodes(span));
                }
                if self.bytes + anchored.bytes > MAX_EXPANDED_BYTES {
                    return Err(too_many_bytes(span, anchored.bytes));
                }
                if self.stack.len() + anchored.height > MAX_DEPTH {
                    return Err(too_deep(span));
                }
                self.nodes += anchored.nodes;
                self.bytes += anchored.bytes;
                let node = anchored.node.clone();
                self.complete(node);
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(span)?;
                // Unquoting never makes text longer than its source, which the input budget
                // bounds; only aliases can cross this one.
                self.bytes += text.len();
                // saphyr may count the whitespace after a scalar in flow context as part of it.
                let raw = self.text.get(span.start..span.end).unwrap_or_default();
                let span = Span {
                    end: span.start + raw.trim_end().len(),
                    ..span
                };
                let mut style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    _ => Style::Quoted,
                };
                if let Some(tag) = tag {
                    if is_core(&tag, "str") {
                        style = Style::Quoted;
                    } else {
                        self.errors.push(unsupported_tag(&tag, span));
                    }
                }
                let node = Node {
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        style,
                    },
                    span,
                };
                if anchor != 0 {
                    self.anchors.insert(
                        anchor,
                        Anchored {
                            node: node.clone(),
                            nodes: 1,
                            bytes: text_len(&node),
                            height: 0,
                        },
                    );
                }
                self.complete(node);
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(span, anchor, tag, "seq", FrameContent::Sequence(Vec::new()))?;
            }
            Event::MappingStart(anchor, tag) => {
                let content = FrameContent::Mapping {
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                };
                self.open(span, anchor, tag, "map", content)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let kind = match frame.content {
                    FrameContent::Sequence(items) => NodeKind::Sequence(items),
                    FrameContent::Mapping { entries, .. } => NodeKind::Mapping(entries),
                };
                let node = Node {
                    kind,
                    span: Span {
                        end: span.end.max(frame.span.start),
                        ..frame.span
                    },
                };
                if frame.anchor != 0 {
                    let height = height(&node);
                    self.anchors.insert(
                        frame.anchor,
                        Anchored {
                            node: node.clone(),
                            nodes: self.nodes - frame.nodes_before,
                            bytes: self.bytes - frame.bytes_before,
                            height,
                        },
                    );
                }
                self.complete(node);
            }
        }
        Ok(())
    }

    fn count(&mut self, span: Span) -> Result<(), Diagnostic> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(too_many_nodes(span));
        }
        Ok(())
    }

    fn open(
        &mut self,
        span: Span,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        core: &str,
        content: FrameContent,
    ) -> Result<(), Diagnostic> {
        self.count(span)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(span));
        }
        if let Some(tag) = tag
            && !is_core(&tag, core)
        {
            self.errors.push(unsupported_tag(&tag, span));
        }
        self.stack.push(Frame {
            span,
            anchor,
            nodes_before: self.nodes - 1,
            bytes_before: self.bytes,
            content,
        });
        Ok(())
    }

    /// Attach a finished node to its parent, or make it the document root.
    fn complete(&mut self, node: Node) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut frame.content {
            FrameContent::Sequence(items) => items.push(node),
            FrameContent::Mapping { entries, key, seen } => match key.take() {
                None => *key = Some(node),
                Some(key_node) => {
                    if let Some(text) = key_node.text() {
                        if let Some(first_line) = seen.get(text) {
                            self.errors.push(
                                Diagnostic::new(
                                    format!("duplicate key `{text}`"),
                                    Some(key_node.span),
                                )
                                .with_label(format!("`{text}` is already set on line {first_line}"))
                                .with_help("remove one of them"),
                            );
                            return;
                        }
                        seen.insert(text.to_string(), key_node.span.line);
                    }
                    entries.push((key_node, node));
                }
            },
        }
    }
}

fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

fn unsupported_tag(tag: &Tag, span: Span) -> Diagnostic {
    Diagnostic::new(format!("unsupported tag `{tag}`"), Some(span))
        .with_label("tags are not part of the scenario format")
        .with_help("remove the tag; quote the value to make it a string")
}

fn too_many_nodes(span: Span) -> Diagnostic {
    Diagnostic::new(
        format!("the document expands to more than {MAX_NODES} nodes"),
        Some(span),
    )
    .with_label("limit reached here")
    .with_help("aliases are expanded; an alias of an alias multiplies the size (alias bomb)")
}

fn too_many_bytes(span: Span, alias_bytes: usize) -> Diagnostic {
    Diagnostic::new(
        format!("the document expands to more than {MAX_EXPANDED_BYTES} bytes of text (4 MiB)"),
        Some(span),
    )
    .with_label(format!("this alias adds {alias_bytes} more bytes"))
    .with_help("aliases are expanded: each one copies its anchor's text")
}

/// A file with no YAML node: empty, blank, or only comments; located at its start.
fn empty(text: &str) -> Diagnostic {
    let what = if text.is_empty() {
        "the file is empty"
    } else if text.trim().is_empty() {
        "the file holds only whitespace"
    } else if text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        "the file holds only comments"
    } else {
        "the file holds no YAML node"
    };
    Diagnostic::new(
        format!("{what}: a scenario needs at least `id`, `title` and `flow`"),
        Some(Span {
            start: 0,
            end: 0,
            line: 1,
            col: 1,
        }),
    )
    .with_label("no scenario here")
    .with_help("start from `id: my-incident`, `title: …` and a `flow:` with one step")
}

/// Length of a scalar's text; 0 for a list or mapping.
fn text_len(node: &Node) -> usize {
    node.text().map_or(0, str::len)
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        format!("nesting deeper than {MAX_DEPTH} levels"),
        Some(span),
    )
    .with_label("limit reached here")
}

/// Nesting height of a node: 0 for a scalar.
fn height(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar { .. } => 0,
        NodeKind::Sequence(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        NodeKind::Mapping(entries) => {
            1 + entries
                .iter()
                .map(|(key, value)| height(key).max(height(value)))
                .max()
                .unwrap_or(0)
        }
    }
}

/// Convert a node tree to JSON: plain scalars typed per the YAML 1.2 core schema, quoted ones as
/// strings, mappings keep their key order. Keys must be scalars; `.inf` and `.nan` have no JSON
/// form and are errors.
pub(crate) fn to_json(node: &Node) -> Result<serde_json::Value, Diagnostic> {
    use serde_json::Value;
    Ok(match &node.kind {
        NodeKind::Sequence(items) => {
            Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        NodeKind::Mapping(entries) => {
            let mut map = serde_json::Map::with_capacity(entries.len());
            for (key, value) in entries {
                let Some(text) = key.text() else {
                    return Err(Diagnostic::new(
                        format!("expected a string key, found {}", key.describe()),
                        Some(key.span),
                    ));
                };
                map.insert(text.to_string(), to_json(value)?);
            }
            Value::Object(map)
        }
        NodeKind::Scalar { .. } => match node.scalar() {
            Some(Scalar::Null) | None => Value::Null,
            Some(Scalar::Bool(b)) => Value::Bool(b),
            Some(Scalar::Int(n)) => Value::from(n),
            Some(Scalar::UInt(n)) => Value::from(n),
            Some(Scalar::Float(f)) => match serde_json::Number::from_f64(f) {
                Some(number) => Value::Number(number),
                None => {
                    return Err(Diagnostic::new(
                        format!(
                            "`{}` has no JSON representation",
                            node.text().unwrap_or_default()
                        ),
                        Some(node.span),
                    )
                    .with_help("quote it to make it a string"));
                }
            },
            Some(Scalar::Str(text)) => Value::String(text.to_string()),
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json(text: &str) -> serde_json::Value {
        to_json(&parse(text.as_bytes()).unwrap()).unwrap()
    }

    fn first_error(text: &[u8]) -> String {
        parse(text).unwrap_err()[0].message.clone()
    }

    #[test]
    fn types_plain_scalars_per_core_schema() {
        let value = json(
            "a: null\nb: ~\nc:\nd: true\ne: False\nf: 42\ng: -7\nh: 0x1f\ni: 0o17\nj: 1.5\nk: 1e3\nl: .5\nm: yes\nn: '42'\no: \"true\"\np: 1.2.3\nq: !!str 12\nr: 18446744073709551615\n",
        );
        assert_eq!(
            value,
            json!({"a": null, "b": null, "c": null, "d": true, "e": false, "f": 42, "g": -7,
                   "h": 31, "i": 15, "j": 1.5, "k": 1000.0, "l": 0.5, "m": "yes", "n": "42",
                   "o": "true", "p": "1.2.3", "q": "12", "r": 18446744073709551615u64})
        );
    }

    #[test]
    fn keeps_key_order_and_expands_aliases() {
        let value = json("z: 1\na: &x [1, 2]\nm: *x\n");
        assert_eq!(value.to_string(), r#"{"z":1,"a":[1,2],"m":[1,2]}"#);
    }

    #[test]
    fn spans_are_byte_offsets_with_one_based_columns() {
        let text = "é: \"ü\"\nkey: [a, b]\n";
        let node = parse(text.as_bytes()).unwrap();
        let NodeKind::Mapping(entries) = &node.kind else {
            panic!("not a mapping")
        };
        let (key, value) = &entries[0];
        assert_eq!((key.span.start, key.span.end, key.span.col), (0, 2, 1));
        assert_eq!(&text[value.span.start..value.span.end], "\"ü\"");
        assert_eq!(value.span.col, 4);
        let (key, value) = &entries[1];
        assert_eq!((key.span.line, key.span.col), (2, 1));
        assert_eq!(&text[value.span.start..value.span.end], "[a, b]");
    }

    #[test]
    fn rejects_what_the_budgets_and_format_forbid() {
        assert!(first_error(b"").contains("empty"));
        assert!(first_error(b"# only a comment\n").contains("only comments"));
        assert!(first_error(b"a: 1\n---\nb: 2\n").contains("second"));
        assert!(first_error(b"a: 1\na: 2\n").contains("duplicate key `a`"));
        assert!(first_error(b"a: !custom 1\n").contains("unsupported tag `!custom`"));
        assert!(first_error(b"a: b: c\n").contains("invalid YAML"));
        assert!(first_error(b"a: \xff\n").contains("byte offset 3 (line 1, column 4)"));
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(first_error(deep.as_bytes()).contains("nesting deeper"));
        let big = vec![b'#'; MAX_INPUT_BYTES + 1];
        assert!(first_error(&big).contains("larger than the limit"));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(first_error(bomb.as_bytes()).contains("more than 100000 nodes"));
    }

    #[test]
    fn empty_files_are_located_at_their_start_and_say_what_they_hold() {
        for (text, what) in [
            ("", "the file is empty"),
            ("  \n\n\t\n", "only whitespace"),
            ("# a\n  # b\n\n", "only comments"),
        ] {
            let errors = parse(text.as_bytes()).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert!(errors[0].message.contains(what), "{:?}", errors[0]);
            assert!(errors[0].message.contains("`id`, `title` and `flow`"));
            let span = errors[0].span.expect("located");
            assert_eq!((span.line, span.col), (1, 1));
        }
    }

    #[test]
    fn an_unclosed_flow_collection_is_reported_where_it_opens() {
        for (text, open, line, col) in [
            ("a: 1\nb: [x, y,\n\nc: 2\n", '[', 2, 4),
            ("a:\n  b: { x: 1,\n  c: 2\nd: 3\n", '{', 2, 6),
            ("a: [1, [2, 3]\n", '[', 1, 4),
        ] {
            let errors = parse(text.as_bytes()).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(
                errors[0].message,
                format!(
                    "unclosed `{open}`: expected `{}`",
                    if open == '[' { ']' } else { '}' }
                ),
                "{text:?}"
            );
            let span = errors[0].span.expect("located");
            assert_eq!((span.line, span.col), (line, col), "{text:?}");
            assert!(
                errors[0]
                    .help
                    .as_deref()
                    .unwrap()
                    .contains("stopped at line")
            );
        }
    }

    #[test]
    fn control_characters_are_one_located_error() {
        let mut text = b"id: a\ntitle: \"t".to_vec();
        text.extend([0; 50]);
        text.extend(b"\"\nflow: []\n");
        let errors = parse(&text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .starts_with("the file holds a NUL byte (line 2, column 10)"),
            "{:?}",
            errors[0]
        );
        assert_eq!(
            errors[0].label.as_deref(),
            Some("not allowed in YAML (49 more follow)")
        );
        let span = errors[0].span.unwrap();
        assert_eq!((span.start, span.line, span.col), (15, 2, 10));
        assert!(first_error("a: \u{1b}[31m\n".as_bytes()).contains("an escape character"));
        assert!(first_error("a: x\u{9b}\n".as_bytes()).contains("U+009B"));
        // Tab, CR and NEL are allowed.
        assert!(
            parse("a: \"\tb\"\r\nc: \"x\u{85}\"\n".as_bytes()).is_ok(),
            "{:?}",
            parse("a: \"\tb\"\r\nc: \"x\u{85}\"\n".as_bytes())
        );
    }

    #[test]
    fn an_oversized_file_is_located_where_the_limit_falls() {
        let mut bytes = b"id: big\n".to_vec();
        bytes.resize(MAX_INPUT_BYTES + 1, b'#');
        let errors = parse(&bytes).unwrap_err();
        let span = errors[0].span.expect("located");
        assert_eq!(
            (span.start, span.line, span.col),
            (MAX_INPUT_BYTES, 2, MAX_INPUT_BYTES - 8 + 1)
        );
    }

    /// Regression (issue 11): a 600 KB anchored scalar aliased 99,000 times reached 3.7 GB.
    #[test]
    fn aliases_of_a_large_scalar_stop_at_the_expanded_bytes_budget() {
        let mut text = format!("a: &a \"{}\"\nb: [", "x".repeat(600_000));
        for _ in 0..99_000 {
            text.push_str("*a,");
        }
        text.push_str("]\n");
        let errors = parse(text.as_bytes());
        let errors = errors.unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .contains("more than 4194304 bytes of text"),
            "{:?}",
            errors[0]
        );
        let span = errors[0].span.unwrap();
        // The sixth alias crosses 4 MiB (the anchor itself holds 600,000 bytes).
        assert_eq!(span.line, 2);
        assert_eq!(span.col, 5 + 5 * 3);
    }

    #[test]
    fn infinity_has_no_json_form() {
        let node = parse(b"a: .inf\n").unwrap();
        assert!(to_json(&node).unwrap_err().message.contains("no JSON"));
    }
}
