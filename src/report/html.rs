//! The HTML report: one self-contained page of a `run` or `validate` report ([`render`]).
//!
//! The page is rendered here, in Rust, from the report's JSON (the shapes of `docs/reports.md`),
//! so it reads without JavaScript; one inline script only adds the verdict table's filters. It is
//! one file with nothing to fetch: inline style and script, no URL of any kind, and a
//! Content-Security-Policy of `default-src 'none'` that allows only that style and that script,
//! by their SHA-256 hashes. Every value taken from the report goes through [`Escaped`], in text
//! and in attributes alike.
//!
//! Rendering tolerates any JSON: missing fields, fields of the wrong type and unknown fields are
//! shown as absent or ignored, and an unknown `command` gives a page that says so. It walks the
//! report's fixed shape only (no recursion on the input's depth), and its work and output grow
//! linearly with the report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::summary::{RUN_STATUSES, VALIDATE_STATUSES};

/// The page's style sheet.
const CSS: &str = include_str!("html.css");
/// The page's script: the filters of the verdict table.
const JS: &str = include_str!("html.js");

/// The whole HTML page of a run or validate report (as JSON).
pub(crate) fn render(report: &Value) -> String {
    let command = text_of(report, "command");
    let mut page = Page::default();
    match command.as_deref() {
        Some("run") => page.run_report(report),
        Some("validate") => page.validate_report(report),
        other => page.unknown_report(other),
    }
    page.finish(report)
}

/// Text that is HTML-escaped when formatted: `&`, `<`, `>`, `"` and `'` become character
/// references, so it is safe in element text and in quoted attribute values.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// Text with its backticked parts (`POST /bills`) as `<code>`, everything escaped.
struct WithCode<'a>(&'a str);

impl fmt::Display for WithCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self.0.split('`').collect();
        // An odd count of backticks leaves the last one as it is.
        let paired = parts.len() % 2 == 1;
        for (index, part) in parts.iter().enumerate() {
            let last = index + 1 == parts.len();
            if index % 2 == 1 && (paired || !last) {
                write!(f, "<code>{}</code>", Escaped(part))?;
            } else {
                if index % 2 == 1 {
                    f.write_str("`")?;
                }
                write!(f, "{}", Escaped(part))?;
            }
        }
        Ok(())
    }
}

/// The base64 SHA-256 of an inline style or script, as a CSP source (`'sha256-…'`).
fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The string at `key`, or a scalar there written as text; `None` when absent or `null`.
fn text_of(value: &Value, key: &str) -> Option<String> {
    scalar_text(value.get(key)?)
}

/// A scalar as text (strings as they are, numbers and booleans as JSON); `None` for `null`,
/// arrays and objects.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The array at `key`, empty when absent or not an array.
fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The scalar items of the array at `key`, as text.
fn texts(value: &Value, key: &str) -> Vec<String> {
    list(value, key).iter().filter_map(scalar_text).collect()
}

/// The object at `key` as (name, value) pairs, empty when absent or not an object.
fn entries<'a>(value: &'a Value, key: &str) -> Vec<(&'a String, &'a Value)> {
    value
        .get(key)
        .and_then(Value::as_object)
        .map(|object| object.iter().collect())
        .unwrap_or_default()
}

/// The status a table row is filtered by: a run item's `outcome`; a validate item's `verdict`,
/// or `not-run` / `error` when it is `null`.
fn status_of(item: &Value, validate: bool) -> String {
    if validate {
        if let Some(verdict) = text_of(item, "verdict") {
            return verdict;
        }
        let not_run = text_of(item, "error").is_some_and(|error| error.starts_with("not run"));
        return if not_run { "not-run" } else { "error" }.to_owned();
    }
    text_of(item, "outcome").unwrap_or_else(|| "unknown".to_owned())
}

/// A status as a CSS class suffix: known statuses as they are, anything else `other`.
fn status_class(status: &str) -> &str {
    if RUN_STATUSES.contains(&status) || VALIDATE_STATUSES.contains(&status) {
        status
    } else {
        "other"
    }
}

/// The page being written: the body's HTML and the title.
#[derive(Default)]
struct Page {
    title: String,
    body: String,
}

impl Page {
    /// Close the page: head (title, policy, style), body, script.
    fn finish(self, report: &Value) -> String {
        let mut html = String::with_capacity(self.body.len() + CSS.len() + JS.len() + 1024);
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"reenact {}\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            csp_hash(CSS),
            csp_hash(JS),
            Escaped(&text_of(report, "reenact").unwrap_or_default()),
            Escaped(&self.title),
        );
        html.push_str(&self.body);
        let _ = write!(html, "<script>{JS}</script>\n</body>\n</html>\n");
        html
    }

    /// A page for a report that is neither `run` nor `validate`.
    fn unknown_report(&mut self, command: Option<&str>) {
        self.title = "reenact report".to_owned();
        let what = match command {
            Some(command) => format!("`{command}`"),
            None => "no `command`".to_owned(),
        };
        let _ = write!(
            self.body,
            "<header class=\"page\"><h1>reenact report</h1></header>\n<main>\n\
             <p class=\"error-text\" id=\"unknown-report\">This is not a report of \
             <code>reenact run</code> or <code>reenact validate</code>: it has {}. \
             Only those two reports render as a page.</p>\n</main>\n",
            Escaped(&what)
        );
    }

    /// The header: what ran, against what, when, and the count of each status.
    fn header(&mut self, report: &Value, heading: &str, facts: &[(&str, Option<String>)]) {
        let _ = write!(
            self.body,
            "<header class=\"page\">\n<h1>{}</h1>\n",
            Escaped(heading)
        );
        let general = [
            ("reenact", text_of(report, "reenact")),
            ("date", text_of(report, "date")),
            ("report version", text_of(report, "version")),
        ];
        self.facts(facts.iter().cloned().chain(general));
    }

    /// A list of facts, `name: value` (`—` when absent).
    fn facts<'a>(&mut self, facts: impl IntoIterator<Item = (&'a str, Option<String>)>) {
        self.body.push_str("<dl class=\"facts\">");
        for (name, value) in facts {
            let _ = write!(
                self.body,
                "<dt>{}</dt><dd>{}</dd>",
                Escaped(name),
                Escaped(value.as_deref().unwrap_or("—"))
            );
        }
        self.body.push_str("</dl>\n");
    }

    /// The counts of each status, as badges.
    fn counts(&mut self, total: usize, counts: &BTreeMap<String, usize>, order: &[&str]) {
        let _ = write!(
            self.body,
            "<div class=\"counts\" id=\"counts\"><span class=\"badge\">{total} scenario{}</span>",
            if total == 1 { "" } else { "s" }
        );
        for status in ordered(counts, order) {
            let _ = write!(
                self.body,
                "<span class=\"badge st-{}\">{} {}</span>",
                status_class(status),
                counts[status],
                Escaped(status)
            );
        }
        self.body.push_str("</div>\n</header>\n");
    }

    /// The verdict table's filters (shown by the script; without it every row shows).
    fn filters(
        &mut self,
        counts: &BTreeMap<String, usize>,
        order: &[&str],
        severities: &BTreeSet<String>,
    ) {
        self.body
            .push_str("<div class=\"filters\" id=\"filters\" hidden>\n<span>show:</span>");
        for status in ordered(counts, order) {
            let _ = write!(
                self.body,
                "<label><input type=\"checkbox\" value=\"{0}\" checked> \
                 <span class=\"badge st-{1}\">{0}</span> ({2})</label>",
                Escaped(status),
                status_class(status),
                counts[status]
            );
        }
        self.body.push_str(
            "\n<label>severity <select id=\"filter-severity\"><option value=\"\">any</option>",
        );
        for severity in severities {
            let _ = write!(
                self.body,
                "<option value=\"{0}\">{0}</option>",
                Escaped(severity)
            );
        }
        self.body.push_str(
            "</select></label>\n<label>search <input type=\"search\" id=\"filter-text\" \
             placeholder=\"id, ticket, title or tag\"></label>\n\
             <span id=\"filter-shown\"></span>\n</div>\n",
        );
    }

    /// `reenact run`: header, verdict table, one section per scenario.
    fn run_report(&mut self, report: &Value) {
        let target = text_of(report, "target");
        self.title = format!(
            "reenact run · {}",
            target.as_deref().unwrap_or("unknown target")
        );
        let items = list(report, "scenarios");
        self.header(report, "reenact run", &[("target", target)]);
        self.table(items, false);
        self.body.push_str("<h2>Scenarios</h2>\n");
        for (index, item) in items.iter().enumerate() {
            self.run_item(index, item);
        }
        self.body.push_str("</main>\n");
    }

    /// `reenact validate`: header, verdict table, one section per scenario.
    fn validate_report(&mut self, report: &Value) {
        let (before, after) = (text_of(report, "before"), text_of(report, "after"));
        self.title = format!(
            "reenact validate · {} → {}",
            before.as_deref().unwrap_or("?"),
            after.as_deref().unwrap_or("?")
        );
        let items = list(report, "scenarios");
        self.header(
            report,
            "reenact validate",
            &[
                ("before", before),
                ("after", after),
                ("runs before", text_of(report, "runs")),
                ("runs after", text_of(report, "after_runs")),
            ],
        );
        self.table(items, true);
        self.body.push_str("<h2>Scenarios</h2>\n");
        for (index, item) in items.iter().enumerate() {
            self.validate_item(index, item);
        }
        self.body.push_str("</main>\n");
    }

    /// The counts, filters and verdict table of the header; each row links to its section.
    fn table(&mut self, items: &[Value], validate: bool) {
        let order = if validate {
            VALIDATE_STATUSES
        } else {
            RUN_STATUSES
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut severities = BTreeSet::new();
        for item in items {
            *counts.entry(status_of(item, validate)).or_default() += 1;
            severities.insert(text_of(item, "severity").unwrap_or_else(|| "none".to_owned()));
        }
        self.counts(items.len(), &counts, order);
        self.body.push_str("<main>\n<h2>Verdicts</h2>\n");
        self.filters(&counts, order, &severities);
        let _ = write!(
            self.body,
            "<table id=\"verdict-table\">\n<thead><tr><th>{}</th><th>scenario</th><th>ticket</th>\
             <th>title</th><th>severity</th><th>tags</th>{}</tr></thead>\n<tbody>\n",
            if validate { "verdict" } else { "outcome" },
            if validate { "" } else { "<th>time</th>" }
        );
        for (index, item) in items.iter().enumerate() {
            self.row(index, item, validate);
        }
        self.body.push_str("</tbody>\n</table>\n");
    }

    /// One row of the verdict table.
    fn row(&mut self, index: usize, item: &Value, validate: bool) {
        let status = status_of(item, validate);
        let id = text_of(item, "id").unwrap_or_default();
        let ticket = text_of(item, "ticket").unwrap_or_default();
        let title = text_of(item, "title").unwrap_or_default();
        let severity = text_of(item, "severity");
        let tags = texts(item, "tags");
        let search = format!("{id} {ticket} {title} {}", tags.join(" ")).to_lowercase();
        let _ = write!(
            self.body,
            "<tr data-status=\"{}\" data-severity=\"{}\" data-search=\"{}\">\
             <td><span class=\"badge st-{}\">{}</span></td>\
             <td><a href=\"#s-{index}\" class=\"mono\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"tags\">",
            Escaped(&status),
            Escaped(severity.as_deref().unwrap_or("none")),
            Escaped(&search),
            status_class(&status),
            Escaped(&status),
            Escaped(&id),
            Escaped(&ticket),
            Escaped(&title),
            Escaped(severity.as_deref().unwrap_or("")),
        );
        for tag in &tags {
            let _ = write!(self.body, "<span class=\"badge\">{}</span>", Escaped(tag));
        }
        self.body.push_str("</td>");
        if !validate {
            let _ = write!(
                self.body,
                "<td class=\"num\">{}</td>",
                Escaped(
                    &text_of(item, "duration_ms")
                        .map(|ms| format!("{ms} ms"))
                        .unwrap_or_default()
                )
            );
        }
        self.body.push_str("</tr>\n");
    }

    /// The opening of a scenario's section: status, id, title, and its facts.
    fn section_head(&mut self, index: usize, item: &Value, status: &str, facts: &[(&str, String)]) {
        let _ = write!(
            self.body,
            "<section class=\"scenario\" id=\"s-{index}\" data-status=\"{}\">\n<h2>\
             <span class=\"badge st-{}\">{}</span> <span class=\"mono\">{}</span> \
             <span class=\"title\">{}</span></h2>\n",
            Escaped(status),
            status_class(status),
            Escaped(status),
            Escaped(&text_of(item, "id").unwrap_or_default()),
            Escaped(&text_of(item, "title").unwrap_or_default()),
        );
        let tags = texts(item, "tags");
        let general = [
            ("ticket", text_of(item, "ticket")),
            ("severity", text_of(item, "severity")),
            ("tags", (!tags.is_empty()).then(|| tags.join(", "))),
            ("file", text_of(item, "file")),
        ];
        self.facts(
            general.into_iter().chain(
                facts
                    .iter()
                    .map(|(name, value)| (*name, Some(value.clone()))),
            ),
        );
        if let Some(error) = text_of(item, "error") {
            let _ = write!(
                self.body,
                "<h3>Error</h3>\n<pre class=\"error-text\">{}</pre>\n",
                Escaped(&error)
            );
        }
    }

    /// One scenario of a run report.
    fn run_item(&mut self, index: usize, item: &Value) {
        let mut facts = Vec::new();
        if let Some(ms) = text_of(item, "duration_ms") {
            facts.push(("duration", format!("{ms} ms")));
        }
        if let Some(snapshot) = text_of(item, "snapshot") {
            facts.push(("snapshot", snapshot));
        }
        if item.get("snapshot_scenario_changed") == Some(&Value::Bool(true)) {
            facts.push((
                "scenario changed",
                "the scenario changed since its snapshot was accepted".to_owned(),
            ));
        }
        self.section_head(index, item, &status_of(item, false), &facts);
        self.failed_step(item);
        self.expectations(item);
        if let Some(diff) = text_of(item, "snapshot_diff") {
            self.body.push_str("<h3>Snapshot diff</h3>\n");
            self.diff(&diff);
        }
        let dropped: Vec<String> = entries(item, "journal_dropped")
            .into_iter()
            .filter_map(|(mock, count)| Some(format!("{mock}: {}", scalar_text(count)?)))
            .collect();
        if !dropped.is_empty() {
            self.body.push_str(
                "<h3>Requests past the journal limit</h3>\n<p class=\"note\">not in the \
                 observation: ",
            );
            let _ = writeln!(self.body, "{}</p>", Escaped(&dropped.join(", ")));
        }
        self.body.push_str("<h3>Timeline</h3>\n");
        self.timeline(item.get("timeline"));
        self.logs(item);
        self.body.push_str("</section>\n");
    }

    /// One scenario of a validate report.
    fn validate_item(&mut self, index: usize, item: &Value) {
        self.section_head(index, item, &status_of(item, true), &[]);
        let null = Value::Null;
        let before = item.get("before").unwrap_or(&null);
        let after = item.get("after").unwrap_or(&null);
        let builds = [("Before the fix", before), ("After the fix", after)];
        self.body.push_str("<div class=\"builds\">\n");
        for (heading, build) in builds {
            let _ = write!(self.body, "<div>\n<h3>{heading}</h3>\n");
            self.build_summary(build);
            self.body.push_str("</div>\n");
        }
        self.body.push_str("</div>\n");
        if let Some(diff) = item.get("diff").filter(|diff| diff.is_object()) {
            self.behaviour_diff(diff);
        }
        self.body
            .push_str("<h3>Timelines</h3>\n<div class=\"builds timelines\">\n");
        for (heading, build) in builds {
            let _ = write!(self.body, "<div>\n<h4>{heading}</h4>\n");
            self.timeline(build.get("timeline"));
            self.body.push_str("</div>\n");
        }
        self.body
            .push_str("</div>\n<h3>Logs</h3>\n<div class=\"builds\">\n");
        for (heading, build) in builds {
            let _ = write!(self.body, "<div>\n<h4>{heading}</h4>\n");
            self.logs(build);
            self.body.push_str("</div>\n");
        }
        self.body.push_str("</div>\n</section>\n");
    }

    /// One build of a validate item: behaviour per run, expectations, failed step,
    /// disagreements.
    fn build_summary(&mut self, build: &Value) {
        if !build.is_object() {
            self.body
                .push_str("<p class=\"note\">this build did not run</p>\n");
            return;
        }
        let behaviours = texts(build, "behaviours");
        self.body.push_str("<p>runs: ");
        if behaviours.is_empty() {
            self.body.push_str("<span class=\"note\">none</span>");
        }
        for (run, behaviour) in behaviours.iter().enumerate() {
            let class = match behaviour.as_str() {
                "holds" => "ok",
                "fails" => "bad",
                _ => "",
            };
            let _ = write!(
                self.body,
                "<span class=\"badge {class}\">run {}: {}</span> ",
                run + 1,
                Escaped(behaviour)
            );
        }
        self.body.push_str("</p>\n");
        self.failed_step(build);
        self.expectations(build);
        let disagreements = texts(build, "disagreements");
        if !disagreements.is_empty() {
            self.body
                .push_str("<h4>Runs disagreed on</h4>\n<ul class=\"plain\">");
            for disagreement in &disagreements {
                let _ = write!(
                    self.body,
                    "<li class=\"warn\">{}</li>",
                    WithCode(disagreement)
                );
            }
            self.body.push_str("</ul>\n");
        }
    }

    /// What changed between the builds: calls in words, noise, and the diff.
    fn behaviour_diff(&mut self, diff: &Value) {
        self.body.push_str("<h3>What the fix changed</h3>\n");
        let summary = entries(diff, "call_summary");
        let calls = if summary.is_empty() {
            entries(diff, "calls")
        } else {
            summary
        };
        if calls.is_empty() {
            self.body
                .push_str("<p class=\"note\">no change in the calls to the mocks</p>\n");
        } else {
            self.body.push_str("<ul class=\"plain call-summary\">");
            for (mock, lines) in calls {
                for line in lines
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(scalar_text)
                {
                    let _ = write!(
                        self.body,
                        "<li><span class=\"mock\">{}</span>: {}</li>",
                        Escaped(mock),
                        WithCode(&line)
                    );
                }
            }
            self.body.push_str("</ul>\n");
        }
        let noise = texts(diff, "noise");
        if !noise.is_empty() {
            self.body.push_str(
                "<h4>Noise (differed between runs of one build; masked, not counted as change)\
                 </h4>\n<ul class=\"plain mono\">",
            );
            for pointer in &noise {
                let _ = write!(self.body, "<li>{}</li>", Escaped(pointer));
            }
            self.body.push_str("</ul>\n");
        }
        match text_of(diff, "text").filter(|text| !text.is_empty()) {
            Some(text) => {
                self.body.push_str("<h4>Observation, before → after</h4>\n");
                self.diff(&text);
            }
            None => self
                .body
                .push_str("<p class=\"note\">the observations are the same</p>\n"),
        }
    }

    /// The first failed step, when there is one.
    fn failed_step(&mut self, item: &Value) {
        let Some(step) = item.get("failed_step").filter(|step| step.is_object()) else {
            return;
        };
        let _ = write!(
            self.body,
            "<h4>Failed step</h4>\n<p class=\"failed-step\"><span class=\"badge bad\">{}</span> \
             {}</p>\n",
            Escaped(&text_of(step, "name").unwrap_or_default()),
            WithCode(&text_of(step, "reason").unwrap_or_default())
        );
    }

    /// The expectation results, as a table.
    fn expectations(&mut self, item: &Value) {
        let expectations = list(item, "expectations");
        if expectations.is_empty() {
            return;
        }
        self.body.push_str(
            "<h4>Expectations</h4>\n<table class=\"expectations\"><thead><tr><th></th>\
             <th>expectation</th><th>detail</th></tr></thead><tbody>",
        );
        for expectation in expectations {
            let passed = expectation.get("passed") == Some(&Value::Bool(true));
            let _ = write!(
                self.body,
                "<tr><td><span class=\"badge {}\">{}</span></td><td>{}</td><td>{}</td></tr>",
                if passed { "ok" } else { "bad" },
                if passed { "held" } else { "failed" },
                Escaped(&text_of(expectation, "name").unwrap_or_default()),
                WithCode(&text_of(expectation, "detail").unwrap_or_default())
            );
        }
        self.body.push_str("</tbody></table>\n");
    }

    /// A unified diff, one coloured line each.
    fn diff(&mut self, text: &str) {
        self.body.push_str("<pre class=\"diff\">");
        for line in text.lines() {
            let class = if line.starts_with("+++") || line.starts_with("---") {
                "file"
            } else if line.starts_with('+') {
                "add"
            } else if line.starts_with('-') {
                "del"
            } else if line.starts_with("@@") {
                "hunk"
            } else {
                "ctx"
            };
            let _ = write!(
                self.body,
                "<span class=\"{class}\">{}\n</span>",
                Escaped(line)
            );
        }
        self.body.push_str("</pre>\n");
    }

    /// The timeline of one run on the virtual clock: each entry's offset from the first
    /// timestamped one, a marker where the clock jumped, faults and failures highlighted.
    fn timeline(&mut self, timeline: Option<&Value>) {
        let entries = timeline
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if entries.is_empty() {
            self.body
                .push_str("<p class=\"note no-timeline\">no timeline recorded</p>\n");
            return;
        }
        let clock_start = entries
            .iter()
            .filter_map(|entry| text_of(entry, "at"))
            .find(|at| OffsetDateTime::parse(at, &Rfc3339).is_ok());
        if let Some(at) = clock_start {
            let _ = writeln!(
                self.body,
                "<p class=\"note\">virtual clock from <span class=\"mono\">{}</span></p>",
                Escaped(&at)
            );
        }
        let _ = writeln!(
            self.body,
            "<ol class=\"timeline\" data-count=\"{}\">",
            entries.len()
        );
        let mut start: Option<OffsetDateTime> = None;
        let mut previous: Option<OffsetDateTime> = None;
        for entry in entries {
            let at_text = text_of(entry, "at");
            let at = at_text
                .as_deref()
                .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok());
            let offset = match (at, start) {
                (Some(at), None) => {
                    start = Some(at);
                    offset_text(0)
                }
                (Some(at), Some(start)) => offset_text((at - start).whole_milliseconds()),
                (None, _) => String::new(),
            };
            if let (Some(at), Some(before)) = (at, previous) {
                let jump = (at - before).whole_milliseconds();
                if jump >= 1000 {
                    let _ = writeln!(
                        self.body,
                        "<li class=\"tl-gap\">virtual clock {} later</li>",
                        offset_text(jump).trim_start_matches('+')
                    );
                }
            }
            if at.is_some() {
                previous = at;
            }
            self.timeline_entry(entry, at_text.as_deref(), &offset);
        }
        self.body.push_str("</ol>\n");
    }

    /// One timeline entry: `at`, kind, mock, name (→ status), detail.
    fn timeline_entry(&mut self, entry: &Value, at: Option<&str>, offset: &str) {
        let kind = text_of(entry, "kind").unwrap_or_else(|| "event".to_owned());
        let known = ["step", "call", "fault", "delivery"];
        let kind_class = if known.contains(&kind.as_str()) {
            kind.as_str()
        } else {
            "other"
        };
        let failed = entry.get("failed") == Some(&Value::Bool(true));
        let _ = write!(
            self.body,
            "<li class=\"tl-entry kind-{kind_class}{}\"><span class=\"at mono\" title=\"{}\">{}\
             </span><span class=\"kind\">{}</span><span class=\"what\">",
            if failed { " failed" } else { "" },
            Escaped(at.unwrap_or("no time recorded")),
            Escaped(offset),
            Escaped(&kind),
        );
        if let Some(mock) = text_of(entry, "mock") {
            let _ = write!(self.body, "<span class=\"mock\">{}</span> ", Escaped(&mock));
        }
        let _ = write!(
            self.body,
            "<span class=\"mono\">{}</span>",
            Escaped(&text_of(entry, "name").unwrap_or_default())
        );
        if let Some(status) = text_of(entry, "status") {
            let _ = write!(
                self.body,
                " → <span class=\"status-{}\">{}</span>",
                Escaped(&status.chars().next().map(String::from).unwrap_or_default()),
                Escaped(&status)
            );
        }
        if failed {
            self.body
                .push_str(" <span class=\"badge bad\">failed</span>");
        }
        if let Some(detail) = text_of(entry, "detail").filter(|detail| !detail.is_empty()) {
            let _ = write!(
                self.body,
                "<span class=\"detail\">{}</span>",
                Escaped(&detail)
            );
        }
        self.body.push_str("</span></li>\n");
    }

    /// The target's last output lines and each mock container's.
    fn logs(&mut self, item: &Value) {
        let target_log = texts(item, "target_log");
        self.body.push_str("<h4>Target log</h4>\n");
        if target_log.is_empty() {
            self.body
                .push_str("<p class=\"note\">no output recorded</p>\n");
        } else {
            let _ = writeln!(
                self.body,
                "<pre class=\"log target-log\">{}</pre>",
                Escaped(&target_log.join("\n"))
            );
        }
        for (mock, lines) in entries(item, "mock_logs") {
            let lines: Vec<String> = lines
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(scalar_text)
                .collect();
            let _ = write!(
                self.body,
                "<h4>Mock <span class=\"mono\">{}</span> log</h4>\n\
                 <pre class=\"log mock-log\">{}</pre>\n",
                Escaped(mock),
                Escaped(&lines.join("\n"))
            );
        }
    }
}

/// The statuses counted, in `order` first, then any other (as the report has them, sorted).
fn ordered<'a>(counts: &'a BTreeMap<String, usize>, order: &[&str]) -> Vec<&'a str> {
    let known = order
        .iter()
        .filter_map(|status| counts.get_key_value(*status).map(|(key, _)| key.as_str()));
    let other = counts
        .keys()
        .map(String::as_str)
        .filter(|status| !order.contains(status));
    known.chain(other).collect()
}

/// Milliseconds on the virtual clock as `+1.250s`, `+2m 03.000s`, `+1h 02m 03s` or `+3d 04h`.
fn offset_text(ms: i128) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    let ms = ms.unsigned_abs();
    let (seconds, millis) = (ms / 1000, ms % 1000);
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    if days > 0 {
        format!("{sign}{days}d {:02}h", hours % 24)
    } else if hours > 0 {
        format!("{sign}{hours}h {:02}m {:02}s", minutes % 60, seconds % 60)
    } else if minutes > 0 {
        format!("{sign}{minutes}m {:02}.{millis:03}s", seconds % 60)
    } else {
        format!("{sign}{seconds}.{millis:03}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Text planted in every field a report can carry, to check it never reaches the page raw.
    const PLANTED: &str =
        "<script>window.__pwned=1</script>\"><img src=x onerror=\"window.__pwned=2\">'&";

    fn run_report(title: &str) -> Value {
        json!({
            "version": 1, "command": "run", "reenact": "0.1.0", "date": "2026-12-04T16:20:00Z",
            "target": title,
            "scenarios": [
                {
                    "id": "a", "title": title, "ticket": title, "file": title,
                    "severity": title, "tags": [title],
                    "outcome": "failed",
                    "expectations": [{"name": title, "passed": false, "detail": title}],
                    "failed_step": {"name": title, "reason": title},
                    "snapshot": "differs", "snapshot_diff": format!("--- a\n+++ b\n-{title}\n+{title}"),
                    "snapshot_scenario_changed": true,
                    "error": title, "journal_dropped": {title: 2},
                    "target_log": [title], "mock_logs": {title: [title]},
                    "timeline": [
                        {"at": "2026-12-04T10:00:00Z", "kind": "step", "name": title,
                         "detail": title, "mock": null, "status": null, "failed": false},
                        {"at": "2026-12-04T10:30:00.250Z", "kind": "fault", "name": title,
                         "detail": title, "mock": title, "status": 503, "failed": false},
                        {"at": null, "kind": title, "name": title, "detail": title,
                         "mock": title, "status": title, "failed": true}
                    ],
                    "duration_ms": 12
                },
                {"id": "b", "title": "b", "outcome": "not-run", "error": "not run: stopped"}
            ]
        })
    }

    fn validate_report(title: &str) -> Value {
        let build = json!({
            "behaviours": ["fails", title], "expectations": [{"name": title, "passed": true, "detail": title}],
            "failed_step": {"name": title, "reason": title}, "disagreements": [title],
            "target_log": [title], "mock_logs": {title: [title]},
            "timeline": [{"at": "2026-12-04T10:00:00Z", "kind": "call", "name": title,
                          "detail": title, "mock": title, "status": 200, "failed": false}]
        });
        json!({
            "version": 1, "command": "validate", "reenact": title, "date": title,
            "before": title, "after": title, "runs": 2, "after_runs": 1,
            "scenarios": [
                {"id": title, "title": title, "ticket": title, "file": title, "severity": null,
                 "tags": [title], "verdict": "fixed", "error": null,
                 "before": build, "after": build,
                 "diff": {"noise": [title], "calls": {title: [title]},
                          "call_summary": {title: [title]}, "text": format!("@@ -1 +1 @@\n-{title}\n+{title}")}},
                {"id": "e", "title": "e", "verdict": null, "error": title,
                 "before": null, "after": null, "diff": null}
            ]
        })
    }

    /// The page's body with the fixed script and style removed: what comes from the report.
    fn report_part(page: &str) -> &str {
        let start = page.find("<body>").expect("a body");
        let end = page.rfind("<script>").expect("the script");
        &page[start..end]
    }

    #[test]
    fn planted_markup_is_escaped_everywhere() {
        for report in [run_report(PLANTED), validate_report(PLANTED)] {
            let page = render(&report);
            for raw in [
                "<script>window",
                "</script>\"",
                "\"><img",
                "<img",
                "onerror=\"",
                "'&",
            ] {
                assert!(!page.contains(raw), "`{raw}` reached the page raw");
            }
            assert!(
                page.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;&quot;&gt;&lt;img")
            );
            // The only script element is the page's own, at the end.
            assert_eq!(page.matches("<script").count(), 1);
            assert!(page.contains(&format!("<script>{JS}</script>")));
        }
    }

    #[test]
    fn escaped_covers_the_five_characters_and_keeps_the_rest() {
        assert_eq!(
            Escaped("a<b>c&d\"e'f—g").to_string(),
            "a&lt;b&gt;c&amp;d&quot;e&#39;f—g"
        );
        assert_eq!(Escaped("").to_string(), "");
    }

    #[test]
    fn backticked_parts_become_code_and_stay_escaped() {
        let cases = [
            ("sends `POST /a` twice", "sends <code>POST /a</code> twice"),
            ("`<b>` and `x", "<code>&lt;b&gt;</code> and `x"),
            ("no code", "no code"),
            ("``", "<code></code>"),
        ];
        for (text, html) in cases {
            assert_eq!(WithCode(text).to_string(), html);
        }
    }

    #[test]
    fn no_url_in_the_page_but_escaped_report_text() {
        for report in [run_report("t"), validate_report("t")] {
            let page = render(&report);
            for url in ["http://", "https://", "//", "src=", "href=\"http", "url("] {
                assert!(!page.contains(url), "`{url}` in the page");
            }
        }
        // Report text with a URL is text, or the value of an attribute that loads nothing.
        let page = render(&run_report("see https://evil.example/x.js"));
        let inert = [
            "title",
            "value",
            "data-search",
            "data-severity",
            "data-status",
        ];
        let mut seen = 0;
        for (at, _) in page.match_indices("https://") {
            seen += 1;
            let before = &page[..at];
            let (open, close) = (before.rfind('<'), before.rfind('>'));
            if open.is_some_and(|open| close.is_none_or(|close| close < open)) {
                let name_end = before.rfind("=\"").expect("inside an attribute value");
                let name_start = before[..name_end].rfind(' ').map_or(0, |space| space + 1);
                let name = &before[name_start..name_end];
                assert!(inert.contains(&name), "a URL in attribute `{name}`");
            }
        }
        assert!(seen > 5, "the planted URL shows");
        for attribute in [" src=", " srcset=", " action=", " formaction=", "url("] {
            assert!(!page.contains(attribute), "`{attribute}` in the page");
        }
        for (at, _) in page.match_indices(" href=\"") {
            assert!(page[at + 7..].starts_with("#s-"), "a link out of the page");
        }
    }

    #[test]
    fn the_policy_pins_the_inline_style_and_script() {
        let page = render(&run_report("t"));
        assert!(page.contains("default-src 'none'"));
        assert!(page.contains(&format!("style-src {}", csp_hash(CSS))));
        assert!(page.contains(&format!("script-src {}", csp_hash(JS))));
        assert!(page.contains(&format!("<style>{CSS}</style>")));
        // The policy forbids style attributes: the page has none.
        assert!(!page.contains(" style="));
        // A known digest: SHA-256 of the empty string.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    #[test]
    fn both_reports_render_their_table_sections_and_timelines() {
        let page = render(&run_report("t"));
        assert_eq!(report_part(&page).matches("<tr data-status=").count(), 2);
        assert!(page.contains("<tr data-status=\"failed\" data-severity=\"t\""));
        assert!(page.contains("<tr data-status=\"not-run\" data-severity=\"none\""));
        assert!(page.contains("id=\"s-0\"") && page.contains("href=\"#s-1\""));
        assert_eq!(page.matches("class=\"tl-entry").count(), 3);
        assert!(page.contains("virtual clock 30m 00.250s later"));
        assert!(page.contains("+30m 00.250s"));
        assert!(page.contains("<li class=\"tl-entry kind-fault\">"));
        assert!(page.contains("<li class=\"tl-entry kind-other failed\">"));
        assert!(
            page.contains("no timeline recorded"),
            "the not-run item has none"
        );
        assert!(page.contains("<span class=\"del\">-t\n</span><span class=\"add\">+t\n</span>"));

        let page = render(&validate_report("t"));
        assert_eq!(report_part(&page).matches("<tr data-status=").count(), 2);
        assert!(page.contains("<tr data-status=\"fixed\""));
        assert!(page.contains("<tr data-status=\"error\""));
        assert_eq!(
            page.matches("class=\"tl-entry").count(),
            2,
            "before and after"
        );
        assert!(page.contains("<li><span class=\"mock\">t</span>: t</li>"));
        assert!(page.contains("<span class=\"hunk\">@@ -1 +1 @@\n</span>"));
        assert!(page.contains("this build did not run"));
    }

    #[test]
    fn missing_and_mistyped_fields_are_tolerated() {
        let cases = [
            json!(null),
            json!([]),
            json!("run"),
            json!({}),
            json!({"command": "list"}),
            json!({"command": 7}),
            json!({"command": "run"}),
            json!({"command": "validate"}),
            json!({"command": "run", "scenarios": [null, 1, "x", {}, {"timeline": "x"},
                   {"timeline": [null, 1, {}], "expectations": [null], "tags": [null, {}]}]}),
            json!({"command": "validate", "scenarios": [{}, {"before": 1, "after": [],
                   "diff": {"calls": [], "call_summary": {"m": "x"}, "noise": {}, "text": 1}}]}),
            json!({"command": "run", "scenarios": [{"timeline": [{"at": "not a time"},
                   {"at": "2026-12-04T10:00:00Z"}, {"at": "2026-12-04T09:00:00Z"}]}]}),
        ];
        for report in &cases {
            let page = render(report);
            assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        }
        let page = render(&json!({"command": "list"}));
        assert!(page.contains("id=\"unknown-report\"") && page.contains("`list`"));
        assert!(render(&json!({})).contains("no `command`"));
        let page = render(&cases[10]);
        assert!(
            page.contains("-1h 00m 00s"),
            "a clock going back shows as such"
        );
    }

    #[test]
    fn a_large_report_renders_in_bounded_size() {
        let item = |index: usize| {
            json!({"id": format!("s{index}"), "title": "t", "outcome": "passed",
                   "expectations": [{"name": "n", "passed": true, "detail": "d"}],
                   "timeline": [{"at": "2026-12-04T10:00:00Z", "kind": "call", "name": "GET /x",
                                 "status": 200}]})
        };
        let scenarios: Vec<Value> = (0..10_000).map(item).collect();
        let mut report = json!({"command": "run", "target": "t", "scenarios": scenarios});
        report["scenarios"][0]["snapshot_diff"] = Value::String("+<x>\n".repeat(200_000));
        let input = report.to_string().len();
        let started = std::time::Instant::now();
        let page = render(&report);
        let elapsed = started.elapsed();
        assert_eq!(page.matches("<tr data-status=").count(), 10_000);
        // Escaping at most sextuples a character (`'` → `&#39;` plus markup per line).
        assert!(
            page.len() < 8 * input + 64 * 1024,
            "{} bytes of page for {input} of report",
            page.len()
        );
        assert!(elapsed.as_secs() < 20, "took {elapsed:?}");
    }

    #[test]
    fn offsets_read_on_the_virtual_clock() {
        let cases: &[(i128, &str)] = &[
            (0, "+0.000s"),
            (1_250, "+1.250s"),
            (123_000, "+2m 03.000s"),
            (3_723_000, "+1h 02m 03s"),
            (273_600_000, "+3d 04h"),
            (-2_000, "-2.000s"),
        ];
        for (ms, text) in cases {
            assert_eq!(offset_text(*ms), *text);
        }
    }
}
