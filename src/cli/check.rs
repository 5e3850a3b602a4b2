//! `reenact check`: load and validate scenario files (and mock definitions, files in the
//! project's `mocks/` folder, each on its own), run nothing.

use std::path::Path;

use clap::Args;
use serde_json::json;

use crate::scenario::{self, LoadError};

use super::output::Style;
use super::scenarios::{files, report_load_error};
use super::{CliError, ErrorKind, Format, Outcome, Output};

/// Arguments of `check`.
#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    #[command(flatten)]
    paths: super::scenarios::PathsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Run `check`.
pub(super) fn check(args: CheckArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let (_, files) = files(&args.paths.paths, cwd)?;
    let mut invalid = 0;
    let mut items = Vec::new();
    // A mock definition (under the project's `mocks/`) is checked as one; everything else is a
    // scenario.
    let definitions: Vec<bool> = files
        .iter()
        .map(|file| scenario::is_mock_definition(file))
        .collect();
    let mut results: Vec<Result<Option<scenario::Scenario>, LoadError>> = files
        .iter()
        .zip(&definitions)
        .map(|(file, &definition)| {
            if definition {
                scenario::load_mock_definition(file).map(|_| None)
            } else {
                scenario::load(file).map(Some)
            }
        })
        .collect();
    // A file whose id an earlier file has is invalid too, located at its `id`.
    let loaded: Vec<&scenario::Scenario> = results
        .iter()
        .filter_map(|r| r.as_ref().ok()?.as_ref())
        .collect();
    let duplicates = scenario::duplicate_ids(&loaded);
    for duplicate in duplicates {
        let LoadError::Invalid { path, .. } = &duplicate else {
            continue;
        };
        if let Some(result) = results
            .iter_mut()
            .find(|r| matches!(r, Ok(Some(s)) if &s.source.path == path))
        {
            *result = Err(duplicate);
        }
    }
    for ((file, result), definition) in files.iter().zip(results).zip(definitions) {
        let kind = if definition {
            "mock_definition"
        } else {
            "scenario"
        };
        match result {
            Ok(loaded) => {
                items.push(match &loaded {
                    Some(loaded) => json!({ "file": file, "kind": kind, "id": loaded.id, "valid": true, "errors": [] }),
                    None => json!({ "file": file, "kind": kind, "valid": true, "errors": [] }),
                });
                if args.format == Format::Human {
                    out.stdout(&format!(
                        "{}  {}{}",
                        out.paint(Style::Green, "ok     "),
                        file.display(),
                        if definition { " (mock definition)" } else { "" }
                    ));
                }
            }
            Err(err) => {
                invalid += 1;
                let errors: Vec<serde_json::Value> = match &err {
                    LoadError::Invalid { diagnostics, .. } => diagnostics
                        .iter()
                        .map(|d| {
                            let mut error = json!({
                                "message": d.message,
                                "line": d.span.map(|s| s.line),
                                "column": d.span.map(|s| s.col),
                                "help": d.help,
                            });
                            // Line and column are then in the included mock definition.
                            if let Some(included) = &d.included {
                                error["included_file"] = json!(included.path);
                            }
                            error
                        })
                        .collect(),
                    LoadError::Io { .. } => {
                        vec![json!({ "message": crate::errors::one_line(&err) })]
                    }
                };
                items.push(json!({ "file": file, "kind": kind, "valid": false, "errors": errors }));
                if args.format == Format::Human {
                    out.stdout(&format!(
                        "{}  {}{}",
                        out.paint(Style::Red, "invalid"),
                        file.display(),
                        if definition { " (mock definition)" } else { "" }
                    ));
                    report_load_error(&err, out);
                }
            }
        }
    }
    match args.format {
        Format::Json => out.stdout(
            &serde_json::to_string_pretty(
                &json!({ "version": 1, "command": "check", "files": items }),
            )
            .unwrap_or_default(),
        ),
        Format::Human => out.stdout(&format!(
            "{} file(s) checked: {} valid, {invalid} invalid",
            files.len(),
            files.len() - invalid
        )),
    }
    Ok(if invalid > 0 {
        Outcome::ErrorsInReport(ErrorKind::InvalidInput)
    } else {
        Outcome::Success
    })
}
