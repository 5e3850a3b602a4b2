//! WireMock's Handlebars response templates as reenact templates ([`handlebars`]), for the
//! expressions both can say the same way (wiremock.org/docs/response-templating, and the helpers'
//! sources in WireMock 3.13.2: `HandlebarsRandomValuesHelper`, `RegexExtractHelper`,
//! `HandlebarsCurrentDateHelper`, `RenderableDate`, `DateTimeOffset`). Anything else is an error
//! naming it, which the importer turns into a warning: a mapping is never guessed.

use std::sync::OnceLock;

use crate::scenario::template::random::MAX_RANDOM_LENGTH;
use crate::scenario::template::{self, MAX_MONTHS};

/// Longest Handlebars expression read (between `{{` and `}}`).
const MAX_EXPRESSION_BYTES: usize = 2048;

/// Most arguments (positional and `key=value`) one helper call may have.
const MAX_ARGUMENTS: usize = 16;

/// A WireMock Handlebars template as a reenact template: `request.method`, `request.path`,
/// `request.body`, `request.query.NAME`, `request.headers.NAME` (also `request.headers.[NAME]`),
/// `jsonPath request.body '$…'`, `randomValue` (every `type`, `length`, `uppercase`),
/// `regexExtract SUBJECT 'regex'` (with `default`), and `now` (`format`, `offset`, `timezone`
/// UTC). Anything else (block helpers, `{{{ }}}`, other helpers and variables) is an error
/// naming it.
pub(super) fn handlebars(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        // Handlebars reads a `}}` outside an expression as text; reenact escapes it.
        out.push_str(&template::escape(&rest[..start]));
        let after = &rest[start + 2..];
        if after.starts_with('{') {
            return Err(
                "a `{{{ … }}}` (unescaped) Handlebars expression has no reenact equivalent".into(),
            );
        }
        let end = after.find("}}").ok_or("a `{{` without its `}}`")?;
        let expression = after[..end].trim();
        if expression.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "a Handlebars expression of {} bytes is longer than reenact reads ({MAX_EXPRESSION_BYTES})",
                expression.len()
            ));
        }
        let converted = expression_of(expression)?;
        out.push_str("{{ ");
        out.push_str(&converted);
        out.push_str(" }}");
        rest = &after[end + 2..];
    }
    out.push_str(&template::escape(rest));
    crate::scenario::template::Template::parse(&out)
        .map_err(|err| format!("the translated template does not parse: {err}"))?;
    Ok(out)
}

/// One expression (inside `{{ }}`) as the inside of a reenact placeholder.
fn expression_of(expression: &str) -> Result<String, String> {
    static JSON_PATH: OnceLock<regex::Regex> = OnceLock::new();
    let json_path = JSON_PATH.get_or_init(|| {
        regex::Regex::new(r#"^jsonPath\s+request\.body\s+(?:'([^']*)'|"([^"]*)")$"#).expect("valid")
    });
    let unsupported = || {
        format!("the Handlebars expression `{{{{{expression}}}}}` has no reenact equivalent yet")
    };
    if let Some(variable) = variable(expression) {
        return variable.map_err(|e| format!("`{{{{{expression}}}}}`: {e}"));
    }
    if let Some(found) = json_path.captures(expression) {
        let path = found.get(1).or(found.get(2)).map_or("", |m| m.as_str());
        if serde_json_path::JsonPath::parse(path).is_err() {
            return Err(format!(
                "`{{{{{expression}}}}}`: `{path}` is not a JSONPath reenact reads"
            ));
        }
        if path.contains('"') || path.contains("}}") {
            return Err(format!(
                "`{{{{{expression}}}}}`: the JSONPath cannot be written in a reenact filter"
            ));
        }
        return Ok(format!("request.body | jsonpath(\"{path}\")"));
    }
    let Some(call) = Call::parse(expression) else {
        return Err(unsupported());
    };
    let converted = match call.name {
        "randomValue" => random_value(&call),
        "regexExtract" => regex_extract(&call),
        "now" => now(&call),
        _ => return Err(unsupported()),
    };
    converted.map_err(|e| format!("`{{{{{expression}}}}}`: {e}"))
}

/// A request field WireMock and reenact name alike; `None` when `expression` is not one,
/// `Err` when it is one whose name reenact cannot hold.
fn variable(expression: &str) -> Option<Result<String, String>> {
    static FORMS: OnceLock<[regex::Regex; 2]> = OnceLock::new();
    let [plain, named] = FORMS.get_or_init(|| {
        [
            regex::Regex::new(r"^request\.(method|path|body)$").expect("valid"),
            regex::Regex::new(r"^request\.(query|headers)\.(?:\[([^\]]+)\]|([A-Za-z0-9_-]+))$")
                .expect("valid"),
        ]
    });
    if let Some(found) = plain.captures(expression) {
        return Some(Ok(format!("request.{}", &found[1])));
    }
    let found = named.captures(expression)?;
    let name = found.get(2).or(found.get(3)).map_or("", |m| m.as_str());
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Some(Err(format!(
            "the name `{name}` cannot be a reenact variable"
        )));
    }
    Some(Ok(format!("request.{}.{name}", &found[1])))
}

/// An argument of a helper call: a quoted text or a bare word (a number, `true`, a path).
#[derive(Debug, PartialEq)]
enum Arg<'a> {
    Text(&'a str),
    Bare(&'a str),
}

/// A helper call `name arg … key=value …`, as far as the helpers translated here use it.
#[derive(Debug)]
struct Call<'a> {
    name: &'a str,
    positional: Vec<Arg<'a>>,
    hash: Vec<(&'a str, Arg<'a>)>,
}

impl<'a> Call<'a> {
    /// `None` when the expression is not a plain helper call (a block, a subexpression, an
    /// unclosed quote, more than [`MAX_ARGUMENTS`]).
    fn parse(expression: &'a str) -> Option<Call<'a>> {
        let mut words = Vec::new();
        let mut rest = expression.trim();
        while !rest.is_empty() {
            if words.len() > MAX_ARGUMENTS {
                return None;
            }
            let (key, value_start) = match rest.find(['=', ' ', '\t', '\'', '"']) {
                Some(at) if rest.as_bytes()[at] == b'=' => (Some(&rest[..at]), at + 1),
                _ => (None, 0),
            };
            let value = &rest[value_start..];
            let (arg, after) = match value.chars().next()? {
                quote @ ('\'' | '"') => {
                    let close = value[1..].find(quote)? + 1;
                    (Arg::Text(&value[1..close]), &value[close + 1..])
                }
                _ => {
                    let end = value.find(char::is_whitespace).unwrap_or(value.len());
                    (Arg::Bare(&value[..end]), &value[end..])
                }
            };
            if let Arg::Bare(word) = arg
                && (word.is_empty() || word.contains(['(', ')', '#', '/', '\'', '"', '=']))
            {
                return None;
            }
            if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                return None;
            }
            words.push((key, arg));
            rest = after.trim_start();
        }
        let mut words = words.into_iter();
        let (None, Arg::Bare(name)) = words.next()? else {
            return None;
        };
        if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let mut call = Call {
            name,
            positional: Vec::new(),
            hash: Vec::new(),
        };
        for (key, arg) in words {
            match key {
                Some(key) => call.hash.push((key, arg)),
                None if call.hash.is_empty() => call.positional.push(arg),
                // Handlebars takes positional arguments before `key=value` ones.
                None => return None,
            }
        }
        Some(call)
    }

    /// The `key=` argument, if given.
    fn get(&self, key: &str) -> Option<&Arg<'a>> {
        self.hash.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// An error for the first `key=` argument not in `known`, or a positional one when
    /// `positional` is false.
    fn only(&self, known: &[&str], positional: usize) -> Result<(), String> {
        if self.positional.len() > positional {
            return Err(format!(
                "`{}` with {} positional arguments has no reenact equivalent",
                self.name,
                self.positional.len()
            ));
        }
        match self.hash.iter().find(|(k, _)| !known.contains(k)) {
            Some((key, _)) => Err(format!(
                "the `{key}=` argument of `{}` has no reenact equivalent",
                self.name
            )),
            None => Ok(()),
        }
    }
}

/// `randomValue type='…' length=N uppercase=true`: WireMock's alphabets as reenact's
/// `random(…)` kinds, lower-cased unless `uppercase` as WireMock does (`UUID` ignores `length`).
fn random_value(call: &Call<'_>) -> Result<String, String> {
    call.only(&["type", "length", "uppercase"], 0)?;
    let kind = match call.get("type") {
        None => "ALPHANUMERIC",
        Some(Arg::Text(kind)) => kind,
        Some(Arg::Bare(kind)) => return Err(format!("the type `{kind}` is not a quoted text")),
    };
    let length = match call.get("length") {
        None => 36,
        Some(Arg::Bare(n)) => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_RANDOM_LENGTH)
            .ok_or_else(|| {
                format!("the length `{n}` is not a whole number from 0 to {MAX_RANDOM_LENGTH}")
            })?,
        Some(Arg::Text(n)) => return Err(format!("the length `'{n}'` is not a number")),
    };
    let uppercase = match call.get("uppercase") {
        None | Some(Arg::Bare("false")) => false,
        Some(Arg::Bare("true")) => true,
        Some(_) => return Err("`uppercase` is neither `true` nor `false`".into()),
    };
    let case = if uppercase { " | upper" } else { " | lower" };
    let (kind, case) = match kind {
        "UUID" => return Ok(format!("uuid{}", if uppercase { case } else { "" })),
        "NUMERIC" => ("numeric", ""),
        "ALPHANUMERIC" => ("alphanumeric", case),
        "ALPHABETIC" => ("alphabetic", case),
        "HEXADECIMAL" => ("hexadecimal", case),
        "ALPHANUMERIC_AND_SYMBOLS" => ("alphanumeric_and_symbols", case),
        other => {
            return Err(format!(
                "the random value type `{other}` has no reenact equivalent (WireMock makes any ASCII text of it)"
            ));
        }
    };
    Ok(format!("random(\"{kind}\", {length}){case}"))
}

/// `regexExtract SUBJECT 'regex'` (with `default='…'`): the first whole match, as WireMock's
/// one-pattern form returns it; without `default`, the text WireMock renders when nothing
/// matches (`[ERROR: Nothing matched …]`). The form that sets a variable (a third argument) is
/// an error.
fn regex_extract(call: &Call<'_>) -> Result<String, String> {
    if call.positional.len() == 3 {
        return Err(
            "the form of `regexExtract` that sets a variable (`parts.0`, …) has no reenact equivalent"
                .into(),
        );
    }
    call.only(&["default"], 2)?;
    let (Some(Arg::Bare(subject)), Some(Arg::Text(pattern))) =
        (call.positional.first(), call.positional.get(1))
    else {
        return Err("`regexExtract` needs a request field and a quoted regex".into());
    };
    let subject = variable(subject)
        .ok_or_else(|| format!("`{subject}` is not a request field reenact reads"))??;
    crate::scenario::expression::regex(pattern).map_err(|_| {
        format!(
            "`{pattern}` is not a regex reenact can compile (Java and Rust regex syntax differ)"
        )
    })?;
    let fallback = match call.get("default") {
        Some(Arg::Text(text)) => (*text).to_owned(),
        Some(Arg::Bare(word)) => return Err(format!("the default `{word}` is not a quoted text")),
        None => format!("[ERROR: Nothing matched {pattern}]"),
    };
    Ok(format!(
        "{subject} | regex(\"{}\") | default(\"{}\")",
        escape(pattern),
        escape(&fallback)
    ))
}

/// `now` with `format` (`epoch`, `unix` or a `SimpleDateFormat` pattern), `offset` (`3 days`,
/// `-1 hours`, `now +5 minutes`, `1 months`) and `timezone` (UTC only): reenact's `now` (the mock's virtual
/// clock) through `add`/`sub` and `date`/`unix`/`unix_ms`.
fn now(call: &Call<'_>) -> Result<String, String> {
    call.only(&["format", "offset", "timezone"], 0)?;
    let text = |key: &str| match call.get(key) {
        None => Ok(None),
        Some(Arg::Text(text)) => Ok(Some(*text)),
        Some(Arg::Bare(word)) => Err(format!("the {key} `{word}` is not a quoted text")),
    };
    let mut out = "now".to_owned();
    if let Some(offset) = text("offset")? {
        out.push_str(&date_offset(offset)?);
    }
    if let Some(zone) = text("timezone")?
        && !matches!(zone, "UTC" | "GMT" | "Z" | "Etc/UTC" | "Etc/GMT")
    {
        return Err(format!(
            "the time zone `{zone}` has no reenact equivalent (reenact writes times in UTC)"
        ));
    }
    out.push_str(&match text("format")? {
        None => " | date(\"[year]-[month]-[day]T[hour]:[minute]:[second]Z\")".to_owned(),
        Some("epoch") => " | unix_ms".to_owned(),
        Some("unix") => " | unix".to_owned(),
        Some(pattern) => format!(" | date(\"{}\")", escape(&java_date_format(pattern)?)),
    });
    Ok(out)
}

/// A `DateTimeOffset` (`3 days`, `-1 hours`, `now +5 minutes`, `2 months`) as `add(…)`/`sub(…)`,
/// or `add_months(…)` for months and years (calendar arithmetic in UTC, as `ZonedDateTime.plus`).
fn date_offset(offset: &str) -> Result<String, String> {
    let parts: Vec<&str> = offset.split(' ').collect();
    let (amount, unit) = match parts.as_slice() {
        ["now"] | ["NOW"] | ["Now"] => return Ok(String::new()),
        [amount, unit] | [_, amount, unit] => (*amount, *unit),
        _ => return Err(format!("the offset `{offset}` is not `AMOUNT UNIT`")),
    };
    let amount: i32 = amount
        .parse()
        .map_err(|_| format!("the offset amount `{amount}` is not a whole number"))?;
    let unit = match unit.to_ascii_uppercase().as_str() {
        "SECONDS" => "s",
        "MINUTES" => "m",
        "HOURS" => "h",
        "DAYS" => "d",
        calendar @ ("MONTHS" | "YEARS") => {
            let months = if calendar == "YEARS" {
                amount.checked_mul(12)
            } else {
                Some(amount)
            }
            .filter(|n| n.abs() <= MAX_MONTHS)
            .ok_or_else(|| format!("the offset `{offset}` is more than 1,000 years"))?;
            return Ok(match months {
                0 => String::new(),
                n => format!(" | add_months({n})"),
            });
        }
        _ => {
            return Err(format!(
                "the offset unit `{unit}` is not one WireMock knows"
            ));
        }
    };
    Ok(match amount {
        0 => String::new(),
        n if n > 0 => format!(" | add({n}{unit})"),
        n => format!(" | sub({}{unit})", n.unsigned_abs()),
    })
}

/// A Java `SimpleDateFormat` pattern as a `time` format description (version 2), for the
/// pattern letters in common use, in UTC; any other letter is an error naming it.
fn java_date_format(pattern: &str) -> Result<String, String> {
    let mut out = String::new();
    let literal = |out: &mut String, c: char| {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    };
    let chars: Vec<char> = pattern.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c == '\'' {
            // `''` is a quote; `'…'` is quoted text, in which `''` is a quote too.
            if chars.get(at + 1) == Some(&'\'') {
                literal(&mut out, '\'');
                at += 2;
                continue;
            }
            at += 1;
            loop {
                match chars.get(at) {
                    None => return Err(format!("the date format `{pattern}` has an unclosed `'`")),
                    Some('\'') if chars.get(at + 1) == Some(&'\'') => {
                        literal(&mut out, '\'');
                        at += 2;
                    }
                    Some('\'') => {
                        at += 1;
                        break;
                    }
                    Some(&q) => {
                        literal(&mut out, q);
                        at += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            literal(&mut out, c);
            at += 1;
            continue;
        }
        let run = chars[at..].iter().take_while(|&&x| x == c).count();
        let padded = |name: &str| match run {
            1 => Some(format!("[{name} padding:none]")),
            2 => Some(format!("[{name}]")),
            _ => None,
        };
        let component = match c {
            'y' if run == 2 => Some("[year repr:last_two]".to_owned()),
            'y' => Some("[year]".to_owned()),
            'M' => Some(
                match run {
                    1 => "[month padding:none]",
                    2 => "[month]",
                    3 => "[month repr:short]",
                    _ => "[month repr:long]",
                }
                .to_owned(),
            ),
            'd' => padded("day"),
            'H' => padded("hour"),
            'h' => padded("hour repr:12"),
            'm' => padded("minute"),
            's' => padded("second"),
            'S' if run == 3 => Some("[subsecond digits:3]".to_owned()),
            'a' if run == 1 => Some("[period]".to_owned()),
            'E' if run <= 3 => Some("[weekday repr:short]".to_owned()),
            'E' => Some("[weekday]".to_owned()),
            // In UTC: `Z` is `+0000`, `X`, `XX` and `XXX` are `Z`.
            'Z' if run <= 3 => Some("+0000".to_owned()),
            'X' if run <= 3 => Some("Z".to_owned()),
            _ => None,
        };
        let Some(component) = component else {
            return Err(format!(
                "the date format `{pattern}` has the pattern letter `{}` reenact does not translate",
                c.to_string().repeat(run)
            ));
        };
        out.push_str(&component);
        at += run;
    }
    Ok(out)
}

/// `text` inside a reenact filter's double quotes.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlebars_templates_translate_only_what_means_the_same() {
        assert_eq!(
            handlebars("{{request.method}} {{ request.path }} {{request.query.x}}").unwrap(),
            "{{ request.method }} {{ request.path }} {{ request.query.x }}"
        );
        assert_eq!(
            handlebars("{{request.headers.[X-Trace]}}/{{request.headers.Accept}}").unwrap(),
            "{{ request.headers.X-Trace }}/{{ request.headers.Accept }}"
        );
        assert_eq!(
            handlebars("{{jsonPath request.body '$.items[0].id'}}").unwrap(),
            "{{ request.body | jsonpath(\"$.items[0].id\") }}"
        );
        assert_eq!(
            handlebars("id-{{randomValue type='UUID'}}").unwrap(),
            "id-{{ uuid }}"
        );
        assert_eq!(handlebars("no placeholders").unwrap(), "no placeholders");
        // Handlebars keeps `}}` outside an expression as text; so does the translation.
        assert_eq!(
            handlebars(r#"{"a":{"id":"{{request.path}}"}}}"#).unwrap(),
            r#"{"a":{"id":"{{ request.path }}"}{{ "}" }}{{ "}" }}"#
        );
        for unsupported in [
            "{{{request.body}}}",
            "{{#if request.body}}x{{/if}}",
            "{{math 1 '+' 2}}",
            "{{request.url}}",
            "{{jsonPath request.body 'not a path'}}",
            "{{request.path",
            "{{now (parseDate request.body)}}",
        ] {
            assert!(handlebars(unsupported).is_err(), "{unsupported}");
        }
    }

    #[test]
    fn random_values_keep_wiremocks_alphabets_length_and_case() {
        let cases = [
            (
                "{{randomValue}}",
                "{{ random(\"alphanumeric\", 36) | lower }}",
            ),
            (
                "{{randomValue length=8 type='ALPHABETIC' uppercase=true}}",
                "{{ random(\"alphabetic\", 8) | upper }}",
            ),
            (
                "{{randomValue type=\"NUMERIC\" length=4}}",
                "{{ random(\"numeric\", 4) }}",
            ),
            (
                "{{randomValue type='HEXADECIMAL' length=0}}",
                "{{ random(\"hexadecimal\", 0) | lower }}",
            ),
            (
                "{{randomValue type='ALPHANUMERIC_AND_SYMBOLS' length=12}}",
                "{{ random(\"alphanumeric_and_symbols\", 12) | lower }}",
            ),
            (
                "{{randomValue type='UUID' length=4 uppercase=true}}",
                "{{ uuid | upper }}",
            ),
        ];
        for (wiremock, reenact) in cases {
            assert_eq!(handlebars(wiremock).as_deref(), Ok(reenact), "{wiremock}");
        }
        for (wiremock, said) in [
            ("{{randomValue type='BINARY'}}", "type `BINARY`"),
            ("{{randomValue length=4097}}", "length `4097`"),
            ("{{randomValue length=-1}}", "length `-1`"),
            ("{{randomValue length='8'}}", "not a number"),
            ("{{randomValue uppercase=yes}}", "`uppercase`"),
            ("{{randomValue size=2}}", "`size=`"),
        ] {
            let err = handlebars(wiremock).unwrap_err();
            assert!(err.contains(said), "{wiremock}: {err}");
        }
    }

    #[test]
    fn regex_extract_returns_the_first_whole_match_or_wiremocks_fallback() {
        assert_eq!(
            handlebars("{{regexExtract request.body '[A-Z]+'}}").as_deref(),
            Ok(
                "{{ request.body | regex(\"[A-Z]+\") | default(\"[ERROR: Nothing matched [A-Z]+]\") }}"
            )
        );
        assert_eq!(
            handlebars(r#"{{regexExtract request.headers.[X-Id] '\d+"' default='none'}}"#)
                .as_deref(),
            Ok(r#"{{ request.headers.X-Id | regex("\\d+\"") | default("none") }}"#)
        );
        for (wiremock, said) in [
            (
                "{{regexExtract request.body '([a-z]+)' 'parts'}}",
                "sets a variable",
            ),
            ("{{regexExtract request.body '(?<=a)b'}}", "Java and Rust"),
            ("{{regexExtract request.url 'a'}}", "`request.url`"),
            ("{{regexExtract request.body}}", "needs a request field"),
            ("{{regexExtract request.body 'a' default=x}}", "`x`"),
        ] {
            let err = handlebars(wiremock).unwrap_err();
            assert!(err.contains(said), "{wiremock}: {err}");
        }
    }

    #[test]
    fn now_keeps_its_format_offset_and_utc() {
        let cases = [
            (
                "{{now}}",
                "{{ now | date(\"[year]-[month]-[day]T[hour]:[minute]:[second]Z\") }}",
            ),
            (
                "{{now format='yyyy-MM-dd'}}",
                "{{ now | date(\"[year]-[month]-[day]\") }}",
            ),
            (
                "{{now offset='3 days' format=\"yyyy-MM-dd'T'HH:mm:ss'Z'\"}}",
                "{{ now | add(3d) | date(\"[year]-[month]-[day]T[hour]:[minute]:[second]Z\") }}",
            ),
            (
                "{{now offset='-1 hours' format='epoch'}}",
                "{{ now | sub(1h) | unix_ms }}",
            ),
            (
                "{{now offset='now +5 minutes' format='unix' timezone='UTC'}}",
                "{{ now | add(5m) | unix }}",
            ),
            (
                "{{now offset='-2 years' format='yyyy'}}",
                "{{ now | add_months(-24) | date(\"[year]\") }}",
            ),
            (
                "{{now offset='1 Months' format='epoch'}}",
                "{{ now | add_months(1) | unix_ms }}",
            ),
            (
                "{{now format=\"EEE, d MMM yy h:mm a [SSS] XXX Z '''x'''\"}}",
                "{{ now | date(\"[weekday repr:short], [day padding:none] [month repr:short] [year repr:last_two] [hour repr:12 padding:none]:[minute] [period] \\\\[[subsecond digits:3]\\\\] Z +0000 'x'\") }}",
            ),
        ];
        for (wiremock, reenact) in cases {
            assert_eq!(handlebars(wiremock).as_deref(), Ok(reenact), "{wiremock}");
        }
        for (wiremock, said) in [
            ("{{now format='yyyy-ww'}}", "pattern letter `ww`"),
            ("{{now format='ddd'}}", "pattern letter `ddd`"),
            ("{{now format=\"yyyy 'T\"}}", "unclosed"),
            ("{{now offset='2000 years'}}", "more than 1,000 years"),
            ("{{now offset='2 fortnights'}}", "unit `fortnights`"),
            ("{{now offset='soon'}}", "`AMOUNT UNIT`"),
            ("{{now timezone='Europe/Paris'}}", "`Europe/Paris`"),
            ("{{now format=iso}}", "not a quoted text"),
        ] {
            let err = handlebars(wiremock).unwrap_err();
            assert!(err.contains(said), "{wiremock}: {err}");
        }
    }

    /// Generated Handlebars text never panics the translation, and what it translates to is a
    /// reenact template that parses.
    #[test]
    fn any_handlebars_text_translates_or_is_refused() {
        use proptest::prelude::*;
        const TOKENS: &[&str] = &[
            "{{",
            "}}",
            " ",
            "now",
            "randomValue",
            "regexExtract",
            "request.body",
            "request.headers.[A]",
            "format=",
            "offset=",
            "type=",
            "length=",
            "uppercase=",
            "default=",
            "'",
            "\"",
            "yyyy",
            "MM",
            "''",
            "'T'",
            "3 days",
            "-1 hours",
            "2 months",
            "UUID",
            "NUMERIC",
            "12",
            "true",
            "[A-Z]+",
            "(",
            ")",
            "=",
            "#each",
            "/each",
            "\\",
            "x",
            "EEEE",
            "[",
            "]",
        ];
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases: 256,
            failure_persistence: None,
            ..Default::default()
        });
        runner
            .run(
                &proptest::collection::vec(proptest::sample::select(TOKENS), 0..40),
                |tokens| {
                    if let Ok(translated) = handlebars(&tokens.concat()) {
                        prop_assert!(
                            crate::scenario::template::Template::parse(&translated).is_ok(),
                            "{translated}"
                        );
                    }
                    Ok(())
                },
            )
            .unwrap();
    }
}
