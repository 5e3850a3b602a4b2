//! The selection flags of `run`, `validate` and `list` ([`SelectArgs`]) turned into the scenarios
//! that run ([`Selection`]): `--tag`, `--severity`, `--provider`, `--ticket`, `--filter`, then
//! `--partition`. The language and the partitions themselves are
//! [`crate::scenario::select`]'s.

use std::path::Path;

use clap::Args;

use crate::scenario::Scenario;
use crate::scenario::select::{
    Facts, Field, Filter, FilterError, Known, Partition, Pattern, known_values_help, parse_filter,
    parse_severities,
};

use super::error::{Problem, Report};
use super::run::relative;
use super::{CliError, ErrorKind};

/// Which of the scenarios found run: flags of one kind are alternatives (`or`), flags of
/// different kinds and `--filter` must all hold (`and`); `--partition` then takes one shard.
#[derive(Debug, Clone, Default, Args)]
pub(super) struct SelectArgs {
    /// Only scenarios with this tag; a glob, repeatable (any of them): `--tag xero --tag 'sso*'`.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only scenarios of this severity or range, repeatable: `--severity sev1..sev2`,
    /// `--severity sev3`.
    #[arg(long = "severity", value_name = "SEV")]
    pub severities: Vec<String>,
    /// Only scenarios with a mock of this provider; a glob, repeatable: `--provider intacct`.
    #[arg(long = "provider", value_name = "PROVIDER")]
    pub providers: Vec<String>,
    /// Only the scenario(s) of this ticket; a glob, repeatable: `--ticket SUP-4821`,
    /// `--ticket 'SUP-51*'`.
    #[arg(long = "ticket", value_name = "TICKET")]
    pub tickets: Vec<String>,
    /// Only scenarios this expression selects (see docs/scenario-format.md, "Selecting
    /// scenarios"): `--filter 'tag(xero) and not severity(sev4) or ticket(SUP-51*)'`.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Run one shard of the selection, as CI machines of a matrix do: `--partition slice:2/4`
    /// (round-robin over the files in path order) or `--partition hash:2/4` (by a stable hash
    /// of the id).
    #[arg(long, value_name = "slice:K/N|hash:K/N")]
    pub partition: Option<Partition>,
}

/// The scenarios a selection keeps, and how many it left out and why.
#[derive(Debug)]
pub(super) struct Selection {
    /// The scenarios to run, sorted by file.
    pub scenarios: Vec<Scenario>,
    /// How many scenario files were found (and loaded).
    pub found: usize,
    /// How many the flags and `--filter` left out.
    pub filtered_out: usize,
    /// How many were in other shards.
    pub partitioned_out: usize,
    /// The shard, when `--partition` was given.
    pub partition: Option<Partition>,
}

impl Selection {
    /// `34 scenario(s) found; 29 left out by the selection, 3 by partition `slice:1/2``, or
    /// `None` when nothing was left out.
    pub(super) fn left_out_line(&self) -> Option<String> {
        let mut why = Vec::new();
        if self.filtered_out > 0 {
            why.push(format!("{} by the selection", self.filtered_out));
        }
        if let Some(partition) = self.partition
            && self.partitioned_out > 0
        {
            why.push(format!(
                "{} by partition `{partition}`",
                self.partitioned_out
            ));
        }
        (!why.is_empty()).then(|| {
            format!(
                "{} of {} scenario(s) selected; left out: {}",
                self.scenarios.len(),
                self.found,
                why.join(", ")
            )
        })
    }
}

impl SelectArgs {
    /// Whether any selection flag was given.
    fn filters(&self) -> bool {
        !(self.tags.is_empty()
            && self.severities.is_empty()
            && self.providers.is_empty()
            && self.tickets.is_empty()
            && self.filter.is_none())
    }

    /// The flags (not `--filter`) as one filter, or every invalid value among them.
    fn flag_filter(&self, known: &Known) -> Result<Filter, Vec<Problem>> {
        let mut all = Vec::new();
        let mut problems = Vec::new();
        let kinds = [
            (Field::Tag, &self.tags),
            (Field::Severity, &self.severities),
            (Field::Provider, &self.providers),
            (Field::Ticket, &self.tickets),
        ];
        for (field, values) in kinds {
            let mut any = Vec::new();
            for value in values {
                let pattern = if field == Field::Severity {
                    match parse_severities(value) {
                        Some((low, high)) => Pattern::Severities(low, high),
                        None => {
                            problems.push(Problem::Error(
                                Report::new(format!("invalid `--severity` value `{value}`"))
                                    .with_help("expected `sev1`..`sev4` or a range such as `sev1..sev2`, `..sev2`, `sev3..`"),
                            ));
                            continue;
                        }
                    }
                } else if value.is_empty() {
                    problems.push(Problem::Error(Report::new(format!(
                        "empty `--{}` value",
                        field.name()
                    ))));
                    continue;
                } else {
                    Pattern::Glob(value.clone())
                };
                any.push(Filter::Test {
                    field,
                    pattern,
                    at: (0, value.len()),
                });
            }
            let checked = Filter::Any(any);
            for err in checked.unknown_values(known) {
                let crate::scenario::select::FilterErrorKind::UnknownValue {
                    value,
                    known: values,
                    ..
                } = &err.kind
                else {
                    continue;
                };
                problems.push(Problem::Error(
                    Report::new(format!("{err} (`--{} {value}`)", field.name()))
                        .with_help(known_values_help(value, values)),
                ));
            }
            if !values.is_empty() {
                all.push(checked);
            }
        }
        if problems.is_empty() {
            Ok(Filter::All(all))
        } else {
            Err(problems)
        }
    }
}

/// The `--filter` problems as located errors under the expression.
fn located(text: &str, errors: Vec<FilterError>) -> Vec<Problem> {
    errors
        .into_iter()
        .map(|err| Problem::Located {
            name: "--filter".to_owned(),
            text: text.to_owned(),
            diagnostic: err.diagnostic(text),
        })
        .collect()
}

/// Apply `args` to the scenarios found (`scenarios`, loaded from under `root`): the flags and
/// `--filter` first, then, over what they kept sorted by file (relative to `root`), the
/// partition.
///
/// Invalid values (a filter that does not parse, a tag or provider no scenario has) are
/// invalid input, all reported at once; a selection that keeps nothing is
/// [`ErrorKind::NoScenarios`].
pub(super) fn select(
    scenarios: Vec<Scenario>,
    args: &SelectArgs,
    root: &Path,
) -> Result<Selection, CliError> {
    let found = scenarios.len();
    let known = Known::of_suite(&scenarios);
    let mut problems = Vec::new();
    let flags = match args.flag_filter(&known) {
        Ok(filter) => Some(filter),
        Err(mut found) => {
            problems.append(&mut found);
            None
        }
    };
    let expression = match &args.filter {
        None => None,
        Some(text) => match parse_filter(text) {
            Ok(filter) => {
                let unknown = filter.unknown_values(&known);
                if unknown.is_empty() {
                    Some(filter)
                } else {
                    problems.extend(located(text, unknown));
                    None
                }
            }
            Err(err) => {
                problems.extend(located(text, vec![err]));
                None
            }
        },
    };
    if !problems.is_empty() {
        problems.push(Problem::Note("nothing was run".to_owned()));
        return Err(CliError::several(ErrorKind::InvalidInput, problems));
    }
    let mut kept: Vec<(String, Scenario)> = scenarios
        .into_iter()
        .filter(|scenario| {
            let facts = Facts::of(scenario);
            flags.as_ref().is_none_or(|f| f.matches(facts))
                && expression.as_ref().is_none_or(|f| f.matches(facts))
        })
        .map(|scenario| (relative(&scenario.source.path, root), scenario))
        .collect();
    let filtered_out = found - kept.len();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    let selected = kept.len();
    let chosen: Vec<Scenario> = match args.partition {
        None => kept.into_iter().map(|(_, s)| s).collect(),
        Some(partition) => kept
            .into_iter()
            .enumerate()
            .filter(|(position, (_, s))| partition.contains(*position, &s.id))
            .map(|(_, (_, s))| s)
            .collect(),
    };
    let selection = Selection {
        partitioned_out: selected - chosen.len(),
        scenarios: chosen,
        found,
        filtered_out,
        partition: args.partition,
    };
    if selection.scenarios.is_empty() {
        let message = if selected == 0 {
            format!("no scenario matches the selection ({found} scenario(s) found)")
        } else {
            format!(
                "partition `{}` holds none of the {selected} selected scenario(s)",
                args.partition.map(|p| p.to_string()).unwrap_or_default()
            )
        };
        let help = if selected == 0 && args.filters() {
            "`reenact list` with the same flags shows what they select; drop a flag to widen it"
        } else {
            "use fewer shards than scenarios, or `hash:K/N` only on suites much larger than N"
        };
        return Err(CliError::of_report(
            ErrorKind::NoScenarios,
            Report::new(message).with_help(help),
        ));
    }
    Ok(selection)
}
