//! `reenact new`: write a commented starting scenario for a ticket and its providers
//! ([`crate::scaffold`]), from flags or, on a terminal, from answers to plain line prompts.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::scaffold::{self, Provider, Scaffold, ScaffoldError};

use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `new`.
#[derive(Debug, Args)]
pub(super) struct NewArgs {
    /// The support ticket, e.g. `SUP-1234` (names the scenario and its file).
    #[arg(long)]
    ticket: Option<String>,
    /// A provider the incident involves (repeatable): xero, quickbooks, intacct, sage, oidc,
    /// saml, bank, or stubs for any other HTTP API.
    #[arg(long = "provider", value_name = "PROVIDER")]
    providers: Vec<String>,
    /// The one-line title: what the customer saw.
    #[arg(long)]
    title: Option<String>,
    /// The customer affected.
    #[arg(long)]
    customer: Option<String>,
    /// The severity: sev1 (worst) … sev4.
    #[arg(long)]
    severity: Option<String>,
    /// Where to write: a file, or a folder for the default name [default:
    /// `<ticket>-<title>.yaml` in the current folder].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
}

/// How the answers are read when a required flag is missing.
const EXAMPLE: &str = "e.g. `reenact new --ticket SUP-1234 --provider xero --provider oidc`";

/// Run `new`.
pub(super) fn new(args: NewArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let providers = args
        .providers
        .iter()
        .map(|name| Provider::parse(name))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let complete = args.ticket.is_some() && !providers.is_empty();
    let scaffold = if complete {
        Scaffold::new(
            args.ticket.as_deref().unwrap_or_default(),
            args.title.as_deref(),
            &providers,
            args.customer.as_deref(),
            args.severity.as_deref(),
        )
        .map_err(invalid)?
    } else if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        let given = Given {
            ticket: args.ticket.clone(),
            title: args.title.clone(),
            providers,
            customer: args.customer.clone(),
            severity: args.severity.clone(),
        };
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut prompts = std::io::stdout();
        ask(given, &mut input, &mut prompts).map_err(|err| match err {
            AskError::Io(err) => {
                CliError::environment("failed to read the answers").with_source(err)
            }
            AskError::Closed => {
                CliError::invalid_input("the input ended before every answer").with_help(EXAMPLE)
            }
            AskError::GaveUp(err) => invalid(err),
        })?
    } else {
        let missing = match (&args.ticket, args.providers.is_empty()) {
            (None, true) => "`--ticket` and `--provider`",
            (None, false) => "`--ticket`",
            _ => "`--provider`",
        };
        return Err(CliError::invalid_input(format!(
            "missing {missing}, and no terminal to ask on"
        ))
        .with_help(EXAMPLE));
    };
    let (path, shown) = destination(args.output.as_deref(), cwd, &scaffold.file_name());
    write_new(&path, &shown, scaffold.render().as_bytes(), args.force)?;
    out.stdout(&format!(
        "wrote `{}` ({}): fill in its TODOs, then `reenact check {}`",
        shown.display(),
        scaffold
            .providers
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
        shown.display()
    ));
    Ok(Outcome::Success)
}

/// A bad input as a usage error with its help.
fn invalid(err: ScaffoldError) -> CliError {
    let help = err.help();
    CliError::from_error(ErrorKind::InvalidInput, err).with_help(help)
}

/// Where the scenario goes (as written to, as shown): `output` as given (a folder gets the
/// default name), else the default name in `cwd`.
fn destination(output: Option<&Path>, cwd: &Path, default: &str) -> (PathBuf, PathBuf) {
    let shown = match output {
        Some(output) if cwd.join(output).is_dir() => output.join(default),
        Some(output) => output.to_path_buf(),
        None => PathBuf::from(default),
    };
    (cwd.join(&shown), shown)
}

/// Write `bytes` to `path` atomically (a temporary file in its folder, then a rename), never
/// over an existing file unless `force`.
fn write_new(path: &Path, shown: &Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    let exists = || {
        CliError::invalid_input(format!("`{}` already exists", shown.display()))
            .with_help("pass `--force` to replace it, or `-o FILE` to write elsewhere")
    };
    if path.is_dir() || path.file_name().is_none() {
        return Err(
            CliError::invalid_input(format!("`{}` names no file", shown.display()))
                .with_help("e.g. `-o scenarios/sup-1234.yaml`"),
        );
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(CliError::invalid_input(format!(
            "no folder `{}` to write `{}` in",
            folder.display(),
            shown.display()
        ))
        .with_help("create it first, or name another with `-o`"));
    }
    let failed = |err: std::io::Error| {
        CliError::environment(format!("failed to write `{}`", shown.display()))
            .with_source(err)
            .with_help("check that the folder is writable and the disk not full")
    };
    let mut file = tempfile::Builder::new()
        .prefix(".reenact-new.")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(failed)?;
    // A scenario is for committing: readable as any file the user writes (a temporary file is
    // private to its owner).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(failed)?;
    }
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(failed)?;
    let persisted = if force {
        file.persist(path)
    } else {
        // Another writer may have made the file since the check above: never replace it.
        file.persist_noclobber(path)
    };
    persisted.map_err(|err| {
        if err.error.kind() == std::io::ErrorKind::AlreadyExists {
            exists()
        } else {
            failed(err.error)
        }
    })?;
    Ok(())
}

/// What the flags already said; the prompts ask only for the rest.
#[derive(Debug, Default)]
pub(super) struct Given {
    ticket: Option<String>,
    title: Option<String>,
    providers: Vec<Provider>,
    customer: Option<String>,
    severity: Option<String>,
}

/// Why the prompts gave no scaffold.
#[derive(Debug)]
pub(super) enum AskError {
    /// Reading or writing the terminal failed.
    Io(std::io::Error),
    /// The input ended (Ctrl-D) before every answer.
    Closed,
    /// [`MAX_TRIES`] answers in a row to one question were invalid: the last one's problem.
    GaveUp(ScaffoldError),
}

impl From<std::io::Error> for AskError {
    fn from(err: std::io::Error) -> Self {
        AskError::Io(err)
    }
}

/// Invalid answers to one question before the prompts give up.
const MAX_TRIES: usize = 3;
/// Longest answer line read (bytes); the rest of a longer line is read and dropped.
const MAX_ANSWER: u64 = 1024;

/// Ask on `prompts` for what `given` lacks, reading one line per answer from `input`: ticket
/// (required), title, providers (numbers from the list shown, or names; required), customer
/// and severity (empty skips). An invalid answer says why and asks again, [`MAX_TRIES`] times.
pub(super) fn ask(
    given: Given,
    input: &mut impl BufRead,
    prompts: &mut impl Write,
) -> Result<Scaffold, AskError> {
    let ticket = match given.ticket {
        Some(ticket) => ticket,
        None => question(
            input,
            prompts,
            "Ticket (e.g. SUP-1234): ",
            scaffold::check_ticket,
        )?,
    };
    let title = match given.title {
        Some(title) => Some(title),
        None => question(
            input,
            prompts,
            "Title, what the customer saw (empty: later): ",
            |answer| scaffold::clean_text("title", answer, scaffold::MAX_TEXT),
        )?,
    };
    let providers = if given.providers.is_empty() {
        writeln!(prompts, "Providers:")?;
        for (number, provider) in Provider::ALL.iter().enumerate() {
            writeln!(
                prompts,
                "  {}. {:<10} {}",
                number + 1,
                provider.name(),
                provider.summary()
            )?;
        }
        question(
            input,
            prompts,
            "Providers, numbers or names separated by spaces or commas (e.g. 1 5): ",
            parse_providers,
        )?
    } else {
        given.providers
    };
    let customer = match given.customer {
        Some(customer) => Some(customer),
        None => question(input, prompts, "Customer (empty: none): ", |answer| {
            scaffold::clean_text("customer", answer, scaffold::MAX_TEXT)
        })?,
    };
    let severity = match given.severity {
        Some(severity) => Some(severity),
        None => question(
            input,
            prompts,
            "Severity, sev1 (worst) … sev4 (empty: none): ",
            |answer| {
                if answer.trim().is_empty() {
                    Ok(None)
                } else {
                    scaffold::parse_severity(answer).map(|s| Some(s.to_owned()))
                }
            },
        )?,
    };
    // Flags are checked here too (a bad `--severity` given beside a missing `--ticket`).
    Scaffold::new(
        &ticket,
        title.as_deref(),
        &providers,
        customer.as_deref(),
        severity.as_deref(),
    )
    .map_err(AskError::GaveUp)
}

/// Providers from an answer: numbers of the list or names, separated by spaces or commas.
fn parse_providers(answer: &str) -> Result<Vec<Provider>, ScaffoldError> {
    let mut providers = Vec::new();
    for word in answer
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let provider = match word.parse::<usize>() {
            Ok(number) => number
                .checked_sub(1)
                .and_then(|index| Provider::ALL.get(index).copied())
                .ok_or_else(|| ScaffoldError::UnknownProvider {
                    name: word.to_owned(),
                    suggestion: None,
                })?,
            Err(_) => Provider::parse(word)?,
        };
        providers.push(provider);
    }
    if providers.is_empty() {
        return Err(ScaffoldError::NoProvider);
    }
    Ok(providers)
}

/// Ask `prompt` until `parse` takes the answer, [`MAX_TRIES`] times at most.
fn question<T>(
    input: &mut impl BufRead,
    prompts: &mut impl Write,
    prompt: &str,
    parse: impl Fn(&str) -> Result<T, ScaffoldError>,
) -> Result<T, AskError> {
    let mut tries = 0;
    loop {
        write!(prompts, "{prompt}")?;
        prompts.flush()?;
        let answer = read_answer(input)?.ok_or(AskError::Closed)?;
        match parse(answer.trim()) {
            Ok(value) => return Ok(value),
            Err(err) => {
                tries += 1;
                if tries == MAX_TRIES {
                    return Err(AskError::GaveUp(err));
                }
                writeln!(prompts, "  {err}; {}", err.help())?;
            }
        }
    }
}

/// One line of `input` without its line end, at most [`MAX_ANSWER`] bytes kept; `None` at the
/// end of the input.
fn read_answer(input: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = input
        .by_ref()
        .take(MAX_ANSWER)
        .read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        // Drop the rest of an overlong line, up to its end.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let more = input
                .by_ref()
                .take(MAX_ANSWER)
                .read_until(b'\n', &mut rest)?;
            if more == 0 || rest.ends_with(b"\n") {
                break;
            }
        }
    }
    Ok(Some(
        String::from_utf8_lossy(&line)
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_prompts(given: Given, answers: &str) -> (Result<Scaffold, AskError>, String) {
        let mut input = std::io::Cursor::new(answers.as_bytes().to_vec());
        let mut prompts = Vec::new();
        let result = ask(given, &mut input, &mut prompts);
        (result, String::from_utf8(prompts).unwrap())
    }

    #[test]
    fn the_prompts_ask_for_everything_missing() {
        let (result, prompts) =
            run_prompts(Given::default(), "SUP-77\nBills twice\n1, oidc\nAcme\n2\n");
        let scaffold = result.unwrap();
        assert_eq!(scaffold.ticket, "SUP-77");
        assert_eq!(scaffold.title.as_deref(), Some("Bills twice"));
        assert_eq!(scaffold.providers, [Provider::Xero, Provider::Oidc]);
        assert_eq!(scaffold.customer.as_deref(), Some("Acme"));
        assert_eq!(scaffold.severity.as_deref(), Some("sev2"));
        assert!(prompts.contains("  1. xero "), "{prompts}");
        assert!(prompts.contains("  8. stubs "), "{prompts}");
    }

    #[test]
    fn flags_given_are_not_asked_and_empty_answers_skip() {
        let given = Given {
            providers: vec![Provider::Bank],
            ..Given::default()
        };
        let (result, prompts) = run_prompts(given, "SUP-1\n\n\n\n");
        let scaffold = result.unwrap();
        assert_eq!(scaffold.providers, [Provider::Bank]);
        assert_eq!(
            (scaffold.title, scaffold.customer, scaffold.severity),
            (None, None, None)
        );
        assert!(!prompts.contains("Providers:"), "{prompts}");
    }

    #[test]
    fn an_invalid_answer_is_asked_again_then_given_up() {
        let (result, prompts) = run_prompts(Given::default(), "SUP-1\n\nquickbook\n9\nsage\n\n\n");
        assert_eq!(result.unwrap().providers, [Provider::Sage]);
        assert!(
            prompts.contains("unknown provider `quickbook`; did you mean `quickbooks`?"),
            "{prompts}"
        );
        assert!(
            prompts.contains("unknown provider `9`; providers: "),
            "{prompts}"
        );
        let (result, _) = run_prompts(Given::default(), "SUP-1\n\nx\ny\nz\n");
        assert!(matches!(
            result,
            Err(AskError::GaveUp(ScaffoldError::UnknownProvider { .. }))
        ));
    }

    #[test]
    fn the_end_of_the_input_stops_the_prompts() {
        let (result, _) = run_prompts(Given::default(), "SUP-1\n");
        assert!(matches!(result, Err(AskError::Closed)));
    }

    #[test]
    fn an_overlong_answer_is_cut_and_refused_not_kept() {
        let long = "t".repeat(5000);
        let (result, prompts) =
            run_prompts(Given::default(), &format!("SUP-1\n{long}\nok\n8\n\n\n"));
        assert_eq!(result.unwrap().title.as_deref(), Some("ok"));
        assert!(
            prompts.contains("the title is 1024 characters long, more than 200"),
            "{prompts}"
        );
    }
}
