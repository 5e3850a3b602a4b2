//! `reenact import`: write a scenario folder from what a team already has (a HAR capture), with
//! every file redacted, and check it as `reenact check` would before saying it is done.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::import::har::{self, HarError, Options, TargetHost};
use crate::import::wiremock::{self, WiremockError};
use crate::package::Package;
use crate::scenario::paths;
use crate::scenario::{self, suggest};

use super::output::Style;
use super::package::destination_error;
use super::{CliError, ErrorKind, Outcome, Output};

/// The importers.
#[derive(Debug, Subcommand)]
pub(super) enum ImportCommand {
    /// A scenario from a HAR capture (a browser's developer tools: "Save all as HAR with
    /// content"): requests to the target become the flow, requests to other hosts become mocks.
    #[command(
        after_help = "Examples:\n  reenact import har support/SUP-4821.har --target-host app.acme.test\n  reenact import har capture.har --target-host localhost:8080 --id checkout-fails -o scenarios/checkout-fails\n\nWrites a folder (default `./<id>/`) with `<id>.yaml` and `payloads/<id>/`: one flow step per\nrequest to the target host, one mock per other host with a stub per method, path and query\n(repeated requests answer in the capture's order). Static assets, CORS preflights and cached\nanswers are left out. Secrets are redacted as in snapshots, and secret request headers are\ndropped. The scenario's header comment lists what the capture could not say (how the target\nreaches the mocks, what correct looks like); the result passes `reenact check`. See\ndocs/import.md."
    )]
    Har(HarArgs),
    /// A mock definition from a WireMock root folder (`mappings/` and `__files/`), keeping
    /// WireMock's matching where reenact can express it and warning about the rest.
    #[command(
        after_help = "Examples:\n  reenact import wiremock wiremock/ --name vendor\n  reenact import wiremock src/test/resources/wiremock --name xero --mocks mocks --force\n\nWrites `mocks/NAME.yaml` (a mock definition; `include: mocks/NAME.yaml` in a scenario) and copies\nbody files to `mocks/payloads/NAME/`. Stubs are written in reverse load order so that, as in\nWireMock, the most recently added of equal-priority stubs wins. Every field that cannot be\ncarried over exactly is listed by mapping file and field, on the terminal and in the file's\nheader; nothing is dropped silently. See docs/import.md."
    )]
    Wiremock(WiremockArgs),
}

/// Arguments of `import wiremock`.
#[derive(Debug, Args)]
pub(super) struct WiremockArgs {
    /// The WireMock root folder: the one holding `mappings/` (and `__files/`).
    root: PathBuf,
    /// The mock's name: the definition is `mocks/NAME.yaml`.
    #[arg(long)]
    name: String,
    /// The folder of mock definitions to write into.
    #[arg(long, value_name = "DIR", default_value = "mocks")]
    mocks: PathBuf,
    /// Replace `mocks/NAME.yaml` and `mocks/payloads/NAME/` if they exist.
    #[arg(long)]
    force: bool,
}

/// Arguments of `import har`.
#[derive(Debug, Args)]
pub(super) struct HarArgs {
    /// The HAR file.
    file: PathBuf,
    /// The host of the system under test (`app.acme.test`, `localhost:8080`): its requests
    /// become the flow; every other host becomes a mock.
    #[arg(long, value_name = "HOST[:PORT]")]
    target_host: String,
    /// The scenario's id, also its file and payload folder's name [default: from the HAR's file
    /// name].
    #[arg(long)]
    id: Option<String>,
    /// The folder to write [default: `./<id>`].
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Replace the folder if it holds something.
    #[arg(long)]
    force: bool,
}

/// Run an importer.
pub(super) fn import(
    command: ImportCommand,
    cwd: &Path,
    out: &Output,
) -> Result<Outcome, CliError> {
    match command {
        ImportCommand::Har(args) => import_har(args, cwd, out),
        ImportCommand::Wiremock(args) => import_wiremock(args, cwd, out),
    }
}

fn import_har(args: HarArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let target = TargetHost::parse(&args.target_host).ok_or_else(|| {
        CliError::invalid_input(format!(
            "`--target-host {}` is not a host name",
            args.target_host
        ))
        .with_help("give the host the capture's requests to the system under test went to, e.g. `app.acme.test` or `localhost:8080`")
    })?;
    let source = args
        .file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.file.display().to_string());
    let id = match &args.id {
        Some(id) => {
            if crate::import::slug(id).as_deref() != Some(id.as_str()) {
                return Err(CliError::invalid_input(format!("`--id {id}` is not a scenario id"))
                    .with_help("use lower-case letters, digits and `-`, starting with a letter, e.g. `--id checkout-fails`"));
            }
            id.clone()
        }
        None => {
            let stem = args
                .file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            crate::import::slug(&stem).unwrap_or_else(|| "imported".to_owned())
        }
    };
    let path = cwd.join(&args.file);
    let bytes = paths::read_regular(&path, har::MAX_HAR_BYTES).map_err(|err| {
        CliError::invalid_input(format!("cannot read `{}`", args.file.display()))
            .with_source(err)
            .with_help("name a HAR file, e.g. one saved with the browser's \"Save all as HAR with content\"")
    })?;
    if bytes.len() > har::MAX_HAR_BYTES {
        return Err(CliError::invalid_input(format!(
            "`{}` is larger than {} MiB",
            args.file.display(),
            har::MAX_HAR_BYTES / (1024 * 1024)
        ))
        .with_help("save a shorter capture: only the requests of the incident"));
    }
    let parsed = har::parse(&bytes).map_err(|err| har_error(err, &args.file))?;
    let command = format!(
        "reenact import har {source} --target-host {}",
        args.target_host
    );
    let options = Options {
        target,
        id: id.clone(),
        source,
        command,
    };
    let (imported, secrets) =
        har::import(&parsed, &options).map_err(|err| har_error(err, &args.file))?;
    out.learn(&secrets);

    let dest = cwd.join(args.output.clone().unwrap_or_else(|| PathBuf::from(&id)));
    let mut package = Package::new(secrets);
    for (path, text) in &imported.files {
        if path.ends_with(".json") {
            match serde_json::from_str(text) {
                Ok(document) => {
                    let document = package.redact_json(&document);
                    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
                    text.push('\n');
                    package.add(path.clone(), &text);
                }
                Err(_) => package.add(path.clone(), text),
            }
        } else {
            package.add(path.clone(), text);
        }
    }
    package
        .write_folder(&dest, args.force)
        .map_err(destination_error)?;

    let scenario_path = dest.join(&imported.scenario);
    let shown = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(&id))
        .join(&imported.scenario);
    out.stdout(&format!(
        "{}  {} ({})",
        out.paint(Style::Green, "wrote"),
        shown.display(),
        imported.summary
    ));
    if let Err(err) = scenario::load(&scenario_path) {
        return Err(unchecked("reenact import har", &shown, err));
    }
    out.stdout(&format!(
        "{}  it passes `reenact check`; what the capture could not say ({} note{}, also at the top of the file):",
        out.paint(Style::Green, "ok   "),
        imported.notes.len(),
        if imported.notes.len() == 1 { "" } else { "s" }
    ));
    for note in &imported.notes {
        out.stdout(&format!("  - {note}"));
    }
    Ok(Outcome::Success)
}

/// What a command that wrote a file `check` rejects reports: a bug of that command (an internal
/// error), with the files kept for a look.
pub(super) fn unchecked(command: &str, shown: &Path, err: scenario::LoadError) -> CliError {
    CliError::new(
        ErrorKind::Internal,
        format!(
            "`{}`, written by `{command}`, does not pass `reenact check`",
            shown.display()
        ),
    )
    .with_source(err)
    .with_help(format!(
        "this is a bug in `{command}`; the files were kept: please report it with the message above"
    ))
}

fn har_error(err: HarError, file: &Path) -> CliError {
    let help = match &err {
        HarError::Syntax { .. } => format!(
            "`{}` must be a HAR 1.2 file: a JSON object with `log.entries`, as a browser's \"Save all as HAR\" writes",
            file.display()
        ),
        HarError::TooManyEntries { .. } => {
            "save a shorter capture: only the requests of the incident".to_owned()
        }
        HarError::NoTargetRequests { host, hosts } => {
            let names: Vec<String> = hosts.iter().map(|(host, _)| host.clone()).collect();
            let listed: Vec<String> = hosts
                .iter()
                .take(8)
                .map(|(host, count)| format!("{host} ({count})"))
                .collect();
            let bare: Vec<&str> = names
                .iter()
                .filter_map(|name| name.split("://").nth(1))
                .collect();
            match suggest::did_you_mean(host, &bare) {
                Some(close) => format!(
                    "did you mean `--target-host {close}`? The capture reached {}",
                    listed.join(", ")
                ),
                None if listed.is_empty() => "the capture holds no HTTP request".to_owned(),
                None => format!("the capture reached {}", listed.join(", ")),
            }
        }
        HarError::TooLarge { .. } => "import a shorter capture, or split it in two".to_owned(),
    };
    CliError::from_error(ErrorKind::InvalidInput, err).with_help(help)
}

fn import_wiremock(args: WiremockArgs, cwd: &Path, out: &Output) -> Result<Outcome, CliError> {
    let name = &args.name;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(CliError::invalid_input(format!("`--name {name}` is not a mock name"))
            .with_help("use lower-case letters, digits, `-` and `_`, starting with a letter, e.g. `--name vendor`"));
    }
    let mocks = cwd.join(&args.mocks);
    let definition = mocks.join(format!("{name}.yaml"));
    let payloads = mocks.join("payloads").join(name);
    if !args.force {
        let taken = definition.exists()
            || std::fs::read_dir(&payloads).is_ok_and(|mut entries| entries.next().is_some());
        if taken {
            return Err(CliError::invalid_input(format!(
                "`{}` or `{}` exists",
                args.mocks.join(format!("{name}.yaml")).display(),
                args.mocks.join("payloads").join(name).display()
            ))
            .with_help("choose another `--name`, or replace them with `--force`"));
        }
    }
    let command = format!(
        "reenact import wiremock {} --name {name}",
        args.root.display()
    );
    let converted = wiremock::import(&cwd.join(&args.root), name, &command).map_err(|err| {
        let help = match &err {
            WiremockError::NoMappings { .. } => {
                "name the WireMock root: the folder that holds `mappings/` (and `__files/`)"
            }
            WiremockError::Read { .. } => "check that the files are readable regular files",
            WiremockError::TooMany { .. } => "import the mappings in parts",
        };
        CliError::from_error(ErrorKind::InvalidInput, err).with_help(help)
    })?;
    let environment = |path: &Path, err: std::io::Error| {
        CliError::environment(format!("cannot write `{}`", path.display())).with_source(err)
    };
    if args.force && payloads.exists() {
        std::fs::remove_dir_all(&payloads).map_err(|err| environment(&payloads, err))?;
    }
    for (path, text) in &converted.files {
        let target = mocks.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|err| environment(parent, err))?;
        }
        crate::report::write_atomically(&target, text.as_bytes())
            .map_err(|err| environment(&target, err))?;
    }
    let shown = args.mocks.join(format!("{name}.yaml"));
    out.stdout(&format!(
        "{}  {} ({} stub{}, {} body file{}; {} mapping{} skipped, {} warning{})",
        out.paint(Style::Green, "wrote"),
        shown.display(),
        converted.stubs,
        if converted.stubs == 1 { "" } else { "s" },
        converted.files.len() - 1,
        if converted.files.len() == 2 { "" } else { "s" },
        converted.skipped,
        if converted.skipped == 1 { "" } else { "s" },
        converted.warnings.len(),
        if converted.warnings.len() == 1 {
            ""
        } else {
            "s"
        },
    ));
    for warning in &converted.warnings {
        out.stdout(&format!("  - {warning}"));
    }
    if let Err(err) = scenario::load_mock_definition(&definition) {
        return Err(unchecked("reenact import wiremock", &shown, err));
    }
    Ok(Outcome::Success)
}
