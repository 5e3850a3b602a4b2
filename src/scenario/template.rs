//! The one small template language of reenact: `{{ name.path }}` placeholders inside strings.
//!
//! A [`Template`] is parsed once at load time (so a malformed placeholder is a load error with a
//! position) and rendered at run time against a [`Vars`] lookup. Variables are dotted paths:
//! `mocks.NAME.url`, `target.url`, `target.port`, `env.NAME`, and the bare names of captures.
//! There are no expressions, filters or escapes: text outside `{{ }}` is copied as it is.

use std::fmt;

use serde::{Serialize, Serializer};

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

/// A placeholder: a dotted variable path and where it sits in the template source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// The path segments, e.g. `["mocks", "xero", "url"]`.
    pub path: Vec<String>,
    /// Byte offset of the variable name (after `{{` and spaces) in the template source.
    pub offset: usize,
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
}

impl<F: Fn(&[String]) -> Option<String>> Vars for F {
    fn lookup(&self, path: &[String]) -> Option<String> {
        self(path)
    }
}

impl Template {
    /// Parse a template. Placeholders are `{{ a.b.c }}`: segments of letters, digits, `_` and `-`.
    pub fn parse(source: &str) -> Result<Template, TemplateSyntaxError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                return Err(TemplateSyntaxError {
                    message: "unclosed `{{`: expected `}}`".to_string(),
                    offset: consumed + open,
                });
            };
            let inner = &after_open[..close];
            let leading = inner.len() - inner.trim_start().len();
            let name = inner.trim();
            let name_offset = consumed + open + 2 + leading;
            if name.is_empty() {
                return Err(TemplateSyntaxError {
                    message: "empty placeholder `{{ }}`: expected a variable name".to_string(),
                    offset: consumed + open,
                });
            }
            let path: Vec<String> = name.split('.').map(str::to_string).collect();
            if let Some(bad) = path.iter().find(|segment| !valid_segment(segment)) {
                return Err(TemplateSyntaxError {
                    message: format!(
                        "invalid variable name `{name}`: segment `{bad}` may only hold letters, digits, `_` and `-`"
                    ),
                    offset: name_offset,
                });
            }
            parts.push(Part::Var(Var {
                path,
                offset: name_offset,
            }));
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        if let Some(stray) = rest.find("}}") {
            return Err(TemplateSyntaxError {
                message: "`}}` without a matching `{{`".to_string(),
                offset: consumed + stray,
            });
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
        })
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

    /// Render with the given variables; the first unknown variable is an error.
    pub fn render(&self, vars: &dyn Vars) -> Result<String, UnknownVariable> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Var(var) => match vars.lookup(&var.path) {
                    Some(value) => out.push_str(&value),
                    None => {
                        return Err(UnknownVariable {
                            name: var.name(),
                            template: self.source.clone(),
                        });
                    }
                },
            }
        }
        Ok(out)
    }
}

fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Render every string leaf of a JSON value as a template. Strings that do not parse are kept as
/// they are (load time already rejected malformed placeholders in scenario bodies).
pub fn render_json(
    value: &serde_json::Value,
    vars: &dyn Vars,
) -> Result<serde_json::Value, UnknownVariable> {
    use serde_json::Value;
    Ok(match value {
        Value::String(text) if text.contains("{{") => match Template::parse(text) {
            Ok(template) => Value::String(template.render(vars)?),
            Err(_) => value.clone(),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_json(item, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), render_json(item, vars)?)))
                .collect::<Result<_, UnknownVariable>>()?,
        ),
        other => other.clone(),
    })
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
    fn renders_placeholders_and_keeps_literals() {
        let template = Template::parse("{{ mocks.xero.url }}/exports/{{export_id}}?x=1").unwrap();
        assert_eq!(
            template.render(&vars).unwrap(),
            "http://127.0.0.1:4000/exports/42?x=1"
        );
        let names: Vec<String> = template.vars().map(Var::name).collect();
        assert_eq!(names, ["mocks.xero.url", "export_id"]);
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
        assert_eq!(err.name, "mocks.erp.url");
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
}
