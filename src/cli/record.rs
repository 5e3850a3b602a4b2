//! `reenact record`: a recording proxy in front of vendor sandboxes the user names
//! ([`crate::import::record`]); on Ctrl-C or SIGTERM each becomes a mock definition in the
//! project's `mocks/` folder, redacted, checked as `reenact check mocks/` would.

use std::path::{Path, PathBuf};

use clap::Args;
use reqwest::Url;

use crate::import::record::{Recorder, Recording};
use crate::package::Package;

use super::mock::Signals;
use super::output::Style;
use super::package::destination_error;
use super::{CliError, ErrorKind, Outcome, Output};

/// Arguments of `record`.
#[derive(Debug, Args)]
pub(super) struct RecordArgs {
    /// A sandbox to record: NAME=URL (repeatable). NAME becomes the mock (`mocks/NAME.yaml`);
    /// requests to its proxy go to URL and nowhere else.
    #[arg(long = "upstream", value_name = "NAME=URL", required = true)]
    upstreams: Vec<String>,
    /// The proxy's port on 127.0.0.1 (default: a free one); only with one upstream.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// The folder of mock definitions to write into.
    #[arg(long, value_name = "DIR", default_value = "mocks")]
    mocks: PathBuf,
    /// Replace `mocks/NAME.yaml` and `mocks/payloads/NAME/` if they exist.
    #[arg(long)]
    force: bool,
    /// Also trust the CA certificates in this PEM file for `https` upstreams (a sandbox behind a
    /// private or corporate CA); the system's roots stay trusted.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

/// The largest `--ca` file read.
const MAX_CA_BYTES: usize = 1024 * 1024;

/// The run's HTTP client ([`crate::run::http_client_with_roots`]), also trusting the
/// certificates of the PEM file `path` (`shown` as the user wrote it).
fn trusting(path: &Path, shown: &Path) -> Result<reqwest::Client, CliError> {
    let bad = |why: String| {
        CliError::invalid_input(format!("invalid `--ca {}`: {why}", shown.display())).with_help(
            "give a PEM file of `-----BEGIN CERTIFICATE-----` blocks: the CA that signed the sandbox's certificate",
        )
    };
    let pem = crate::scenario::paths::read_regular(path, MAX_CA_BYTES)
        .map_err(|err| bad(err.to_string()))?;
    if pem.len() > MAX_CA_BYTES {
        return Err(bad(format!("larger than {} KiB", MAX_CA_BYTES / 1024)));
    }
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|err| bad(format!("not PEM certificates ({err})")))?;
    if certificates.is_empty() {
        return Err(bad("it holds no certificate".into()));
    }
    crate::run::http_client_with_roots(certificates)
        .map_err(|err| bad(format!("the client cannot use it ({err})")))
}

/// One `--upstream`, checked.
struct Upstream {
    name: String,
    url: Url,
}

/// Run `record`.
pub(super) async fn record(
    args: RecordArgs,
    cwd: &Path,
    out: &Output,
) -> Result<Outcome, CliError> {
    let signals = Signals::new().map_err(|err| {
        CliError::new(ErrorKind::Internal, "failed to listen for signals").with_source(err)
    })?;
    let upstreams = args
        .upstreams
        .iter()
        .map(|value| upstream(value))
        .collect::<Result<Vec<_>, _>>()?;
    for (index, one) in upstreams.iter().enumerate() {
        if upstreams[..index]
            .iter()
            .any(|other| other.name == one.name)
        {
            return Err(CliError::invalid_input(format!(
                "`--upstream {}` is given twice",
                one.name
            ))
            .with_help("give each sandbox its own name"));
        }
    }
    if args.port.is_some() && upstreams.len() > 1 {
        return Err(
            CliError::invalid_input("`--port` needs a single `--upstream`")
                .with_help("leave `--port` out: each proxy gets a free port, printed at start"),
        );
    }
    let client = match &args.ca {
        Some(file) => trusting(&cwd.join(file), file)?,
        None => crate::run::http_client(),
    };
    let mocks = cwd.join(&args.mocks);
    // Refuse before recording, not after: nothing recorded may be lost to an existing file.
    for one in &upstreams {
        let file = mocks.join(format!("{}.yaml", one.name));
        if file.exists() && !args.force {
            return Err(CliError::invalid_input(format!(
                "`{}` exists",
                args.mocks.join(format!("{}.yaml", one.name)).display()
            ))
            .with_help("choose another name, or replace it with `--force`"));
        }
        crate::package::write::check_destination(
            &mocks.join("payloads").join(&one.name),
            args.force,
            false,
        )
        .map_err(destination_error)?;
    }

    let mut recorders = Vec::new();
    for one in upstreams {
        let recorder = Recorder::start(
            one.name.clone(),
            one.url,
            args.port.unwrap_or(0),
            client.clone(),
        )
        .await
        .map_err(|err| {
            CliError::environment(format!("failed to listen for `{}`", one.name))
                .with_source(err)
                .with_help("leave `--port` out to take a free port")
        })?;
        recorders.push(recorder);
    }
    let width = recorders.iter().map(|r| r.name().len()).max().unwrap_or(0);
    let mut listing = String::new();
    for recorder in &recorders {
        listing.push_str(&format!(
            "{:width$}  {}  -> {}\n",
            recorder.name(),
            recorder.url(),
            recorder.upstream()
        ));
    }
    listing.push_str("ready");
    out.stdout(&listing);
    out.stderr(&format!(
        "recording: point the target at the URLs above instead of the sandboxes'; Ctrl-C writes \
         the mocks to `{}/`",
        args.mocks.display()
    ));

    let mut signals = signals;
    let received = signals.next().await;
    out.stderr(&format!(
        "reenact: {}; writing what was recorded",
        received.name()
    ));
    let command = format!(
        "reenact record {}",
        args.upstreams
            .iter()
            .map(|u| format!("--upstream {u}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    std::fs::create_dir_all(mocks.join("payloads")).map_err(|err| {
        CliError::environment(format!("cannot create `{}`", args.mocks.display())).with_source(err)
    })?;
    let mut invalid = Vec::new();
    for recorder in recorders {
        let name = recorder.name().to_owned();
        let recording = recorder.finish(&command);
        out.learn(&recording.secrets);
        write(&recording, &name, &mocks, &args.mocks)?;
        let shown = args.mocks.join(format!("{name}.yaml"));
        out.stdout(&format!(
            "{}  {} ({} stub{} from {} request{})",
            out.paint(Style::Green, "wrote"),
            shown.display(),
            recording.stubs,
            if recording.stubs == 1 { "" } else { "s" },
            recording.requests,
            if recording.requests == 1 { "" } else { "s" },
        ));
        for note in &recording.notes {
            out.stdout(&format!("  - {note}"));
        }
        if let Err(err) = crate::scenario::load_mock_definition(&mocks.join(format!("{name}.yaml")))
        {
            invalid.push((shown, err));
        }
    }
    if let Some((shown, err)) = invalid.into_iter().next() {
        return Err(super::import::unchecked("reenact record", &shown, err));
    }
    Ok(Outcome::Success)
}

/// Write one recording: its payloads as a folder (built beside, renamed into place), then its
/// definition, atomically; both redacted with what the recording learned.
fn write(recording: &Recording, name: &str, mocks: &Path, shown: &Path) -> Result<(), CliError> {
    let mut payloads = Package::new(recording.secrets.clone());
    let mut definition = None;
    let prefix = format!("payloads/{name}/");
    for (path, text) in &recording.files {
        match path.strip_prefix(&prefix) {
            Some(inside) if inside.ends_with(".json") => match serde_json::from_str(text) {
                Ok(document) => payloads.add_json(inside.to_owned(), &document),
                Err(_) => payloads.add(inside.to_owned(), text),
            },
            Some(inside) => payloads.add(inside.to_owned(), text),
            None => definition = Some(payloads.redact(text)),
        }
    }
    if recording.files.len() > 1 {
        payloads
            .write_folder(&mocks.join("payloads").join(name), true)
            .map_err(destination_error)?;
    }
    let file = mocks.join(format!("{name}.yaml"));
    crate::report::write_atomically(&file, definition.unwrap_or_default().as_bytes()).map_err(
        |err| {
            CliError::environment(format!(
                "cannot write `{}`",
                shown.join(format!("{name}.yaml")).display()
            ))
            .with_source(err)
        },
    )
}

/// `NAME=URL`, checked: a mock name, and an `http`/`https` URL with a host and no credentials.
fn upstream(value: &str) -> Result<Upstream, CliError> {
    let example = "e.g. `--upstream xero=https://api.xero.com`";
    let Some((name, url)) = value.split_once('=') else {
        return Err(
            CliError::invalid_input(format!("`--upstream {value}` has no `=`"))
                .with_help(format!("give NAME=URL, {example}")),
        );
    };
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_name {
        return Err(CliError::invalid_input(format!(
            "`{name}` in `--upstream {value}` is not a mock name"
        ))
        .with_help(format!(
            "use lower-case letters, digits, `-` and `_`, starting with a letter, {example}"
        )));
    }
    let parsed = Url::parse(url).ok().filter(|url| {
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())
    });
    let Some(parsed) = parsed else {
        return Err(CliError::invalid_input(format!(
            "`{url}` in `--upstream {name}=…` is not an http or https URL"
        ))
        .with_help(format!("give the sandbox's base URL, {example}")));
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(CliError::invalid_input(format!(
            "the URL of `--upstream {name}` holds credentials"
        ))
        .with_help("leave them out: the target sends its own credentials, and they would be recorded in the mock's header"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(CliError::invalid_input(format!(
            "the URL of `--upstream {name}` has a query or a fragment"
        ))
        .with_help(
            "give the base URL only: the target's requests add their own paths and queries",
        ));
    }
    Ok(Upstream {
        name: name.to_owned(),
        url: parsed,
    })
}
