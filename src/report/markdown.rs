//! A Markdown summary of a run or validate report, fit for a CI step summary or a ticket
//! comment: a counts line, a table (verdict or outcome, id, ticket, severity, one-line reason),
//! then for each scenario that did not pass a `<details>` block with its failed steps and
//! expectations, the call changes in words and the diff (fenced, at most 200 lines).

use std::fmt::Write;

use serde_json::Value;

use super::summary::{self, Status, text};

/// At most this many lines of a diff in a `<details>` block.
const DIFF_LINES: usize = 200;

/// The counts line: what ran against what, and how it ended.
pub(crate) fn counts_line(report: &Value) -> String {
    let what = if summary::is_validate(report) {
        format!(
            "reenact validate: `{}` → `{}`",
            cell(text(report, "before")),
            cell(text(report, "after"))
        )
    } else {
        format!("reenact run: `{}`", cell(text(report, "target")))
    };
    format!("**{what}**: {}", summary::counts(report))
}

/// `report` (a run or validate report as JSON) as Markdown.
pub(crate) fn render(report: &Value) -> String {
    let validate = summary::is_validate(report);
    let items = report["scenarios"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let mut md = String::new();
    let _ = writeln!(md, "{}\n", counts_line(report));
    let _ = writeln!(
        md,
        "| {} | scenario | ticket | severity | reason |",
        if validate { "verdict" } else { "outcome" }
    );
    md.push_str("| --- | --- | --- | --- | --- |\n");
    for item in items {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | {} | {} |",
            summary::label(item, validate),
            cell(text(item, "id")),
            cell(text(item, "ticket")),
            cell(text(item, "severity")),
            cell(&summary::reason(item, validate))
        );
    }
    for item in items {
        if matches!(
            summary::status(item, validate),
            Status::Passed | Status::Skipped
        ) {
            continue;
        }
        details(&mut md, item, validate);
    }
    let _ = writeln!(
        md,
        "\n<sub>reenact {} · {}</sub>",
        cell(text(report, "reenact")),
        cell(text(report, "date"))
    );
    md
}

fn details(md: &mut String, item: &Value, validate: bool) {
    let _ = writeln!(
        md,
        "\n<details><summary><code>{}</code>: {}</summary>\n",
        html(text(item, "id")),
        html(&summary::label(item, validate))
    );
    let mut lines = summary::failure_lines(item, validate);
    if summary::status(item, validate) == Status::Error {
        lines.insert(0, text(item, "error").to_owned());
    }
    for line in lines {
        let _ = writeln!(md, "- {}", cell(&line));
    }
    if let Some(diff) = summary::diff(item, validate) {
        let diff = summary::truncated(diff, DIFF_LINES);
        let fence = "`".repeat(longest_backtick_run(&diff).max(2) + 1);
        let _ = writeln!(md, "\n{fence}diff\n{diff}\n{fence}");
    }
    md.push_str("\n</details>\n");
}

/// Text for a table cell or a list item: one line, with `|`, backticks and HTML escaped.
pub(crate) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            _ => push_html(&mut out, c),
        }
    }
    out
}

/// Text inside HTML (`<summary>`): markup characters escaped.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_html(&mut out, c);
    }
    out
}

fn push_html(out: &mut String, c: char) {
    match super::markup_entity(c) {
        Some(entity) => out.push_str(entity),
        None => out.push(c),
    }
}

/// The longest run of backticks in `text` (a fence must be longer).
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_escape_pipes_backticks_and_html() {
        assert_eq!(
            cell("a|b `c` <d>\nnext \\"),
            "a\\|b \\`c\\` &lt;d&gt; next \\\\"
        );
    }

    #[test]
    fn a_failure_gets_a_row_and_a_details_block_with_a_bounded_diff() {
        let diff: String = (0..250).map(|n| format!("+line {n}\n")).collect();
        let report = json!({
            "version": 1, "command": "run", "reenact": "0.1.0", "date": "2026-12-04T16:20:00Z",
            "target": "ledger-sync@1.4.3",
            "scenarios": [
                {"id": "ok", "ticket": "SUP-1", "severity": "sev2", "outcome": "passed"},
                {"id": "bad", "ticket": "SUP-2", "severity": null, "outcome": "failed",
                 "failed_step": {"name": "export", "reason": "got 500 | not 202"},
                 "expectations": [], "snapshot": "differs", "snapshot_diff": format!("```\n{diff}")}
            ]
        });
        let md = render(&report);
        assert!(md.starts_with(
            "**reenact run: `ledger-sync@1.4.3`**: 2 scenario(s): 1 passed, 1 failed\n"
        ));
        assert!(md.contains("| passed | `ok` | SUP-1 | sev2 |  |\n"), "{md}");
        assert!(
            md.contains(
                "| failed | `bad` | SUP-2 |  | step \\`export\\` failed: got 500 \\| not 202 |\n"
            ),
            "{md}"
        );
        assert!(md.contains("<details><summary><code>bad</code>: failed</summary>"));
        assert!(md.contains("\n````diff\n```\n+line 0\n"), "{md}");
        assert!(md.contains("+line 198\n… 51 more lines left out"), "{md}");
        assert!(!md.contains("+line 199"));
    }
}
