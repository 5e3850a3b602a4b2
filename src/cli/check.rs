//! `reenact check`: load and validate scenario files, run nothing.

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
    let mut results: Vec<Result<scenario::Scenario, LoadError>> =
        files.iter().map(|file| scenario::load(file)).collect();
    // A file whose id an earlier file has is invalid too, located at its `id`.
    let loaded: Vec<&scenario::Scenario> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let duplicates = scenario::duplicate_ids(&loaded);
    for duplicate in duplicates {
        let LoadError::Invalid { path, .. } = &duplicate else {
            continue;
        };
        if let Some(result) = results
            .iter_mut()
            .find(|r| r.as_ref().is_ok_and(|s| &s.source.path == path))
        {
            *result = Err(duplicate);
        }
    }
    for (file, result) in files.iter().zip(results) {
        match result {
            Ok(loaded) => {
                items.push(json!({ "file": file, "id": loaded.id, "valid": true, "errors": [] }));
                if args.format == Format::Human {
                    out.stdout(&format!(
                        "{}  {}",
                        out.paint(Style::Green, "ok     "),
                        file.display()
                    ));
                }
            }
            Err(err) => {
                invalid += 1;
                let errors: Vec<serde_json::Value> = match &err {
                    LoadError::Invalid { diagnostics, .. } => diagnostics
                        .iter()
                        .map(|d| {
                            json!({
                                "message": d.message,
                                "line": d.span.map(|s| s.line),
                                "column": d.span.map(|s| s.col),
                                "help": d.help,
                            })
                        })
                        .collect(),
                    LoadError::Io { .. } => {
                        vec![json!({ "message": crate::errors::one_line(&err) })]
                    }
                };
                items.push(json!({ "file": file, "valid": false, "errors": errors }));
                if args.format == Format::Human {
                    out.stdout(&format!(
                        "{}  {}",
                        out.paint(Style::Red, "invalid"),
                        file.display()
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
