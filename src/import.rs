//! Importers (`reenact import`): turn what a team already has into a scenario folder that
//! `reenact check` accepts, redacted as snapshots are, with what could not be inferred said
//! rather than guessed.
//!
//! [`har`] reads a browser's HAR capture: requests to the system under test become the flow,
//! requests to every other host become mocks with stubs of what they answered. An importer
//! returns an [`Imported`]: the files to write (through [`crate::package::Package`], which
//! redacts and writes atomically) and the notes on what the user must still fill in.

pub(crate) mod har;
pub(crate) mod record;
pub(crate) mod stubs;
pub(crate) mod wiremock;

/// What an importer made: files (paths relative to the output folder, text) and notes.
#[derive(Debug, Default)]
pub(crate) struct Imported {
    /// The scenario file's name in the output folder, e.g. `checkout-fails.yaml`.
    pub(crate) scenario: String,
    /// Every file: path relative to the output folder, and its text (not yet redacted).
    pub(crate) files: Vec<(String, String)>,
    /// What the source could not say, or what was left out and why, one sentence each.
    pub(crate) notes: Vec<String>,
    /// One line saying what was made, e.g. `6 steps, 2 mocks with 5 stubs, 7 payloads`.
    pub(crate) summary: String,
}

/// Learn the secrets a body carries: secret JSON keys, secret form fields, and secret pairs and
/// shapes in text.
pub(crate) fn learn_body(secrets: &mut crate::secrets::Secrets, text: &str) {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => secrets.add_json(&value),
        Err(_) => {
            secrets.add_form(text);
            secrets.add_text(text);
        }
    }
}

/// A YAML scalar for any string: a JSON string literal, which YAML reads as a double-quoted
/// scalar with the same escapes.
pub(crate) fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// `text` as a name of lower-case letters, digits and `-`, starting with a letter
/// (`Api.Xero.com` → `api-xero-com`), or `None` when nothing is left.
pub(crate) fn slug(text: &str) -> Option<String> {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let start = out.find(|c: char| c.is_ascii_lowercase())?;
    let out = &out[start..];
    (!out.is_empty()).then(|| {
        out.chars()
            .take(60)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_and_digits_and_start_with_a_letter() {
        assert_eq!(slug("Api.Xero.com").as_deref(), Some("api-xero-com"));
        assert_eq!(
            slug("2024 export (final).har").as_deref(),
            Some("export-final-har")
        );
        assert_eq!(slug("--"), None);
        assert_eq!(slug("123"), None);
    }

    #[test]
    fn quoted_strings_are_yaml_double_quoted_scalars() {
        assert_eq!(quoted("a: b # c"), "\"a: b # c\"");
        assert_eq!(quoted("line\n\"q\""), "\"line\\n\\\"q\\\"\"");
    }
}
