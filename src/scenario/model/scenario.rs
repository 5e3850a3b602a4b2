//! The top level of a scenario, [`Scenario`]: its identity and classification ([`Severity`],
//! [`RootCause`]), where it was loaded from ([`Source`], positions in it as [`Span`]s), its virtual
//! clock ([`ClockSpec`]) and its snapshot options ([`SnapshotSpec`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Expectation, MockSpec, Pattern, Step, TargetSpec};
use crate::scenario::template::Template;

/// A position in a scenario file: byte offsets plus 1-based line and column of the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub col: usize,
}

/// One incident: its customer environment, the failing flow and what correct looks like.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Unique id; also the snapshot file name (`snapshots/<id>.snap`).
    pub id: String,
    /// Ticket-style one-line title.
    pub title: String,
    /// Support ticket reference, e.g. `SUP-4821`.
    pub ticket: Option<String>,
    /// Customers affected.
    pub customers: Vec<String>,
    /// What the incident does to them, in a sentence or two (READMEs of escalation packages).
    pub impact: Option<String>,
    /// `sev1` .. `sev4`.
    pub severity: Option<Severity>,
    /// Free-form tags for selection and reports.
    pub tags: Vec<String>,
    /// Classification of the root cause.
    pub root_cause: Option<RootCause>,
    /// Virtual clock settings shared by the mocks of a run.
    pub clock: ClockSpec,
    /// The mocks to start, in file order; names are unique.
    pub mocks: Vec<MockSpec>,
    /// How the system under test is started and reached; a target named on the command line or
    /// in `reenact.toml` supplies the launch when the scenario has none.
    pub target: TargetSpec,
    /// The ordered steps to replay.
    pub flow: Vec<Step>,
    /// Checks that hold when the incident is fixed.
    pub expect: Vec<Expectation>,
    /// Snapshot settings.
    pub snapshot: SnapshotSpec,
    /// Where the scenario came from.
    #[serde(skip)]
    pub source: Source,
}

/// Where a scenario was loaded from. Its `Debug` form leaves the hash out: it changes with every
/// edit of the file, which says nothing about how the scenario reads.
#[derive(Clone, Default)]
pub struct Source {
    /// The scenario file, as given (relative paths stay relative for display).
    pub path: PathBuf,
    /// The folder files named by the scenario must stay inside.
    pub root: PathBuf,
    /// Every other file the scenario was loaded from, once each, in the order read: the mock
    /// definitions it includes and the payload files (`body_file`, `json_file`, …) it and they
    /// name. With `path`, all a scenario's behaviour depends on.
    pub files: Vec<PathBuf>,
    /// SHA-256 (hex) of what the scenario was loaded from: the scenario file's bytes and the
    /// name and bytes of every file it names, in the order they were read. Snapshots record it
    /// to tell when a scenario changed since its snapshot was accepted.
    pub hash: String,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .field("root", &self.root)
            .field("files", &self.files)
            .finish()
    }
}

/// Incident severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Outage or data loss for many customers.
    Sev1,
    /// A major feature broken for a customer.
    Sev2,
    /// Degraded behaviour with a workaround.
    Sev3,
    /// Cosmetic or minor.
    Sev4,
}

/// Root cause classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootCause {
    /// A bug in the product.
    ProductDefect,
    /// The customer's or our configuration.
    Configuration,
    /// Bad data.
    Data,
    /// The third party misbehaved.
    ExternalDependency,
    /// Not known yet.
    Unknown,
}

/// Virtual clock settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClockSpec {
    /// Virtual time at the start of the run, as RFC 3339 (`2026-10-31T23:00:00Z`). `None` means
    /// the wall-clock time when the run starts.
    pub start: Option<String>,
}

/// Snapshot settings. Its `Debug` form shows how many secrets it declares, never one.
#[derive(Clone, Default, Serialize)]
pub struct SnapshotSpec {
    /// `enabled: false`: the scenario keeps no snapshot (its expectations are still judged).
    pub disabled: bool,
    /// JSONPath expressions (RFC 9535) whose values are replaced by `[redacted]` everywhere in the
    /// observation before it is stored or compared.
    pub redact: Vec<String>,
    /// JSONPath expressions (RFC 9535) whose values are removed from the observation before it
    /// is stored or compared (an object member goes, an array item goes).
    pub exclude: Vec<String>,
    /// Regex normalizers applied, in order, to every string of the observation.
    pub normalize: Vec<Normalizer>,
    /// Mocks whose requests are compared as a multiset: stored in a canonical order.
    pub unordered: Vec<String>,
    /// Values the scenario declares secret (`snapshot.secrets`), as templates of `env.NAME` and
    /// captures: masked in everything reenact writes. Never serialized.
    #[serde(skip)]
    pub secrets: Vec<Template>,
}

/// One `snapshot.normalize` entry: every match of `regex` becomes `as` (literally; `$` has no
/// meaning in it).
#[derive(Debug, Clone, Serialize)]
pub struct Normalizer {
    /// The pattern, compiled within the expression budgets.
    pub regex: Pattern,
    /// The replacement text.
    #[serde(rename = "as")]
    pub replacement: String,
}

impl std::fmt::Debug for SnapshotSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("SnapshotSpec");
        if self.disabled {
            out.field("disabled", &true);
        }
        out.field("redact", &self.redact);
        if !self.exclude.is_empty() {
            out.field("exclude", &self.exclude);
        }
        if !self.normalize.is_empty() {
            out.field("normalize", &self.normalize);
        }
        if !self.unordered.is_empty() {
            out.field("unordered", &self.unordered);
        }
        if !self.secrets.is_empty() {
            out.field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            );
        }
        out.finish()
    }
}
