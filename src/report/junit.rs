//! JUnit XML of a run or validate report, for CI systems: one `<testsuite>` per report, one
//! `<testcase>` per scenario (named by id, classname its ticket or else its file). A failure
//! is a `<failure>` with the reasons, `not-run` a `<skipped>`, a scenario that could not run an
//! `<error>`; the target's log goes to `<system-out>`. It keeps to the Jenkins JUnit schema
//! (`conformance/reports` validates it with `xmllint`), and every text is escaped and stripped
//! of what XML 1.0 cannot hold.

use std::fmt::Write;

use serde_json::Value;

use super::summary::{self, Status, text};

/// At most this many lines of a diff in a `<failure>`.
const DIFF_LINES: usize = 200;

/// `report` (a run or validate report as JSON) as JUnit XML.
pub(crate) fn render(report: &Value) -> String {
    let validate = summary::is_validate(report);
    let items = report["scenarios"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let count = |wanted: Status| {
        items
            .iter()
            .filter(|item| summary::status(item, validate) == wanted)
            .count()
    };
    let (failures, errors, skipped) = (
        count(Status::Failed),
        count(Status::Error),
        count(Status::Skipped),
    );
    let seconds: f64 = items
        .iter()
        .filter_map(|item| item["duration_ms"].as_u64())
        .map(|ms| ms as f64 / 1000.0)
        .sum();
    let name = if validate {
        format!(
            "reenact validate: {} → {}",
            text(report, "before"),
            text(report, "after")
        )
    } else {
        format!("reenact run: {}", text(report, "target"))
    };
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{seconds:.3}\">",
        escape(&name),
        items.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{seconds:.3}\" timestamp=\"{}\">",
        escape(&name),
        items.len(),
        escape(text(report, "date"))
    );
    xml.push_str("    <properties>\n");
    let mut properties = vec![("reenact", text(report, "reenact").to_owned())];
    if validate {
        properties.push(("before", text(report, "before").to_owned()));
        properties.push(("after", text(report, "after").to_owned()));
        properties.push(("runs", report["runs"].to_string()));
        properties.push(("after_runs", report["after_runs"].to_string()));
    } else {
        properties.push(("target", text(report, "target").to_owned()));
    }
    for (name, value) in properties {
        let _ = writeln!(
            xml,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape(&value)
        );
    }
    xml.push_str("    </properties>\n");
    for item in items {
        testcase(&mut xml, item, validate);
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn testcase(xml: &mut String, item: &Value, validate: bool) {
    let classname = match item["ticket"].as_str() {
        Some(ticket) if !ticket.is_empty() => ticket,
        _ => text(item, "file"),
    };
    let time = item["duration_ms"]
        .as_u64()
        .map(|ms| format!(" time=\"{:.3}\"", ms as f64 / 1000.0))
        .unwrap_or_default();
    let _ = write!(
        xml,
        "    <testcase name=\"{}\" classname=\"{}\"{time}",
        escape(text(item, "id")),
        escape(classname)
    );
    let status = summary::status(item, validate);
    let log: Vec<&str> = if validate {
        // The build whose failure matters most: after the fix, else before it.
        ["after", "before"]
            .iter()
            .find_map(|build| item[build]["target_log"].as_array())
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    } else {
        item["target_log"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    if status == Status::Passed && log.is_empty() {
        xml.push_str("/>\n");
        return;
    }
    xml.push_str(">\n");
    let reason = summary::reason(item, validate);
    match status {
        Status::Passed => {}
        Status::Skipped => {
            let _ = writeln!(xml, "      <skipped>{}</skipped>", escape(&reason));
        }
        Status::Error => {
            let _ = writeln!(
                xml,
                "      <error type=\"error\" message=\"{}\">{}</error>",
                escape(&reason),
                escape(&reason)
            );
        }
        Status::Failed => {
            let mut body = summary::failure_lines(item, validate).join("\n");
            if let Some(diff) = summary::diff(item, validate) {
                body.push_str("\n\n");
                body.push_str(&summary::truncated(diff, DIFF_LINES));
            }
            let _ = writeln!(
                xml,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                escape(&summary::label(item, validate)),
                escape(&reason),
                escape(&body)
            );
        }
    }
    if !log.is_empty() {
        let _ = writeln!(
            xml,
            "      <system-out>{}</system-out>",
            escape(&log.join("\n"))
        );
    }
    xml.push_str("    </testcase>\n");
}

/// `text` for an XML attribute or element: markup characters escaped, and characters XML 1.0
/// does not allow (control characters such as a log's ANSI escapes, lone surrogates cannot occur
/// in a `str`, U+FFFE/U+FFFF) replaced by U+FFFD. Escaping `>` too means no `]]>` can appear.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(entity) = super::markup_entity(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept as references: an attribute value's raw newlines and tabs would be normalized
            // to spaces by an XML parser.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if allowed(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document (`Char` production, tab and line ends aside).
fn allowed(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_escaped_and_invalid_characters_replaced() {
        assert_eq!(
            escape("a<b>&\"c\"]]>\u{1b}[31m\u{0}\u{FFFF}ok\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;]]&gt;\u{FFFD}[31m\u{FFFD}\u{FFFD}ok&#10;"
        );
    }

    #[test]
    fn a_run_report_becomes_one_suite_with_a_case_per_scenario() {
        let report = json!({
            "version": 1, "command": "run", "reenact": "0.1.0", "date": "2026-12-04T16:20:00Z",
            "target": "ledger-sync@1.4.3",
            "scenarios": [
                {"id": "ok", "ticket": "SUP-1", "file": "scenarios/ok.yaml", "outcome": "passed",
                 "duration_ms": 1500, "target_log": []},
                {"id": "bad", "ticket": null, "file": "scenarios/bad.yaml", "outcome": "failed",
                 "duration_ms": 250, "failed_step": null, "snapshot": "differs",
                 "snapshot_diff": "-a\n+b", "expectations": [
                     {"name": "one <bill>", "passed": false, "detail": "2 bills"}],
                 "target_log": ["\u{1b}[1mstarted\u{1b}[0m"]},
                {"id": "later", "file": "scenarios/later.yaml", "outcome": "not-run",
                 "error": "not run: `--fail-fast` stopped the suite after `bad` failed"}
            ]
        });
        let xml = render(&report);
        let document = sxd_document::parser::parse(&xml).expect("well-formed XML");
        let document = document.as_document();
        let value = |xpath: &str| {
            sxd_xpath::evaluate_xpath(&document, xpath)
                .unwrap()
                .string()
        };
        assert_eq!(value("/testsuites/testsuite/@tests"), "3");
        assert_eq!(value("/testsuites/testsuite/@failures"), "1");
        assert_eq!(value("/testsuites/testsuite/@skipped"), "1");
        assert_eq!(value("/testsuites/testsuite/@time"), "1.750");
        assert_eq!(value("//testcase[@name='ok']/@classname"), "SUP-1");
        assert_eq!(
            value("//testcase[@name='bad']/@classname"),
            "scenarios/bad.yaml"
        );
        assert_eq!(
            value("//testcase[@name='bad']/failure/@message"),
            "expectation `one <bill>` failed: 2 bills"
        );
        assert!(value("//testcase[@name='bad']/failure").contains("-a\n+b"));
        assert_eq!(
            value("//testcase[@name='bad']/system-out"),
            "\u{FFFD}[1mstarted\u{FFFD}[0m"
        );
        assert!(value("//testcase[@name='later']/skipped").starts_with("not run:"));
    }
}
