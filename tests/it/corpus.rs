//! The bad-input corpus through the real binary: every invalid fixture, and the cases only a
//! test can make (FIFOs, symlink cycles, a link to `/dev/zero`, a huge file, duplicate ids), each
//! run as `reenact check` with a time limit and an address-space limit, as an analyst's CI would
//! meet them. Each must exit 2 with a located error (`--> file:line:col`): no abort, no hang, no
//! memory blow-up, nothing wrongly accepted.
//!
//! The test prints its counts (`located / aborts / hangs / over budget / accepted / unlocated`).
//! `REENACT_CORPUS_BIN=/path/to/reenact cargo test --test it -- corpus:: --nocapture` runs the
//! same corpus against another build (an older one, to compare).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// How long one `check` may take.
const TIME_LIMIT: Duration = Duration::from_secs(10);
/// The address space one `check` may use (a normal check of the demo suite needs about 100 MiB).
const MEMORY_LIMIT: u64 = 512 * 1024 * 1024;

/// One case: the paths given to `check`, the folder it runs in, and what else must hold.
struct Case {
    name: String,
    args: Vec<PathBuf>,
    cwd: PathBuf,
    /// A text the output must contain (e.g. how many files were checked).
    must_say: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Located,
    Abort(String),
    Hang,
    OverBudget,
    Accepted,
    Unlocated(String),
}

/// Run one case under the limits.
fn run(binary: &Path, case: &Case) -> (Outcome, Duration) {
    let mut command = Command::new(binary);
    command
        .arg("check")
        .args(&case.args)
        .current_dir(&case.cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: `setrlimit` is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("start reenact");
    // Read the outputs on threads, so that a full pipe never blocks the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for reenact") {
            break Some(status);
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.join().unwrap()),
        String::from_utf8_lossy(&err.join().unwrap())
    );
    let Some(status) = status else {
        return (Outcome::Hang, elapsed);
    };
    let outcome = if output.contains("memory allocation of") {
        Outcome::OverBudget
    } else if status.code().is_none() || status.code() == Some(134) {
        Outcome::Abort(output.lines().last().unwrap_or_default().to_string())
    } else if status.code() == Some(0) {
        Outcome::Accepted
    } else if status.code() == Some(2) && is_located(&output) {
        match &case.must_say {
            Some(text) if !output.contains(text.as_str()) => {
                Outcome::Unlocated(format!("does not say `{text}`:\n{output}"))
            }
            _ => Outcome::Located,
        }
    } else {
        Outcome::Unlocated(format!("exit {:?}:\n{output}", status.code()))
    };
    (outcome, elapsed)
}

/// Whether the output names a file with a line and column, and every error in it is located.
fn is_located(output: &str) -> bool {
    let arrows: Vec<&str> = output
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("--> "))
        .collect();
    let errors = output
        .lines()
        .filter(|line| line.starts_with("error:"))
        .count();
    !arrows.is_empty()
        && arrows.len() == errors
        && arrows.iter().all(|at| {
            let mut parts = at.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.parse::<usize>().ok());
            let line = parts.next().and_then(|l| l.parse::<usize>().ok());
            col.is_some() && line.is_some()
        })
}

/// Every invalid fixture, one case each.
fn fixture_cases(repo: &Path) -> Vec<Case> {
    let dir = repo.join("tests/fixtures/invalid");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|path| Case {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            args: vec![path.strip_prefix(repo).unwrap().to_path_buf()],
            cwd: repo.to_path_buf(),
            must_say: None,
        })
        .collect()
}

const VALID: &str = "id: ok\ntitle: fine\nflow:\n  - request: { method: GET, path: / }\n";
const INVALID: &str =
    "id: bad\ntitle: one mistake\nflow:\n  - request: { method: GET, path: nope }\n";

/// The cases only a test can make, in folders under `root`.
fn made_cases(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let folder = |name: &str| {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("reenact.toml"), "").unwrap();
        dir
    };
    let case = |name: &str, dir: &Path, args: &[&str], must_say: Option<&str>| Case {
        name: name.to_string(),
        args: args.iter().map(PathBuf::from).collect(),
        cwd: dir.to_path_buf(),
        must_say: must_say.map(str::to_string),
    };

    // A json_file that is a FIFO inside the root blocked forever.
    let dir = folder("fifo_json_file");
    support::make_fifo(&dir.join("payload.json"));
    std::fs::write(
        dir.join("s.yaml"),
        "id: fifo\ntitle: t\nflow:\n  - request: { method: POST, path: /, json_file: payload.json }\n",
    )
    .unwrap();
    cases.push(case(
        "a json_file that is a FIFO",
        &dir,
        &["s.yaml"],
        Some("is a FIFO"),
    ));

    // A FIFO named `*.yaml` in a scenario folder blocked forever.
    let dir = folder("fifo_in_folder");
    std::fs::create_dir(dir.join("scenarios")).unwrap();
    support::make_fifo(&dir.join("scenarios/pipe.yaml"));
    std::fs::write(dir.join("scenarios/ok.yaml"), VALID).unwrap();
    cases.push(case(
        "a FIFO named *.yaml in a folder",
        &dir,
        &["scenarios"],
        Some("is a FIFO"),
    ));
    // The same FIFO named on the command line ("no such file or folder" before).
    cases.push(case(
        "a FIFO named on the command line",
        &dir,
        &["scenarios/pipe.yaml"],
        Some("is a FIFO"),
    ));

    // A symlink to /dev/zero in a folder grew without limit.
    let dir = folder("dev_zero");
    std::fs::create_dir(dir.join("scenarios")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("scenarios/zero.yaml")).unwrap();
    cases.push(case(
        "a link to /dev/zero named *.yaml",
        &dir,
        &["scenarios"],
        Some("is a character device"),
    ));

    // Two symlinks to their own folder and one to its parent: the walk grew exponentially and
    // one invalid scenario was reported once per path (41 copies). Now: one file, once.
    let dir = folder("symlink_cycles");
    std::fs::create_dir_all(dir.join("scenarios/sub")).unwrap();
    std::fs::write(dir.join("scenarios/sub/bad.yaml"), INVALID).unwrap();
    std::os::unix::fs::symlink(".", dir.join("scenarios/self-1")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("scenarios/self-2")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("scenarios/sub/up")).unwrap();
    cases.push(case(
        "symlink cycles",
        &dir,
        &["scenarios"],
        Some("1 file(s) checked: 0 valid, 1 invalid"),
    ));
    // One file named twice, and inside a folder also named: checked once.
    cases.push(case(
        "one file named three ways",
        &dir,
        &[
            "scenarios/sub/bad.yaml",
            "scenarios/sub/bad.yaml",
            "scenarios/sub",
        ],
        Some("1 file(s) checked: 0 valid, 1 invalid"),
    ));

    // A scenario file of 2 MiB (one line).
    let dir = folder("huge_file");
    let mut bytes = b"id: huge\ntitle: t\nnote: ".to_vec();
    bytes.resize(2 * 1024 * 1024, b'x');
    std::fs::write(dir.join("huge.yaml"), bytes).unwrap();
    cases.push(case(
        "a 2 MiB scenario",
        &dir,
        &["huge.yaml"],
        Some("larger than the limit"),
    ));

    // A 600 MB body_file (sparse) was read whole.
    let dir = folder("huge_body_file");
    std::fs::File::create(dir.join("body.bin"))
        .unwrap()
        .set_len(600_000_000)
        .unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "id: big-body\ntitle: t\nflow:\n  - request: { method: POST, path: /, body_file: body.bin }\n",
    )
    .unwrap();
    cases.push(case(
        "a 600 MB body_file",
        &dir,
        &["s.yaml"],
        Some("larger than the limit of 8388608 bytes"),
    ));

    // A 600 KB anchor aliased 99,000 times reached 3.7 GB.
    let dir = folder("alias_bytes");
    std::fs::write(dir.join("s.yaml"), support::alias_bomb_bytes()).unwrap();
    cases.push(case(
        "a 600 KB anchor aliased 99,000 times",
        &dir,
        &["s.yaml"],
        Some("bytes of text"),
    ));

    // Two files with one id: `run` refused it without a location, `check` accepted it.
    let dir = folder("duplicate_ids");
    std::fs::write(dir.join("a.yaml"), VALID).unwrap();
    std::fs::write(dir.join("b.yaml"), VALID).unwrap();
    cases.push(case(
        "two files with one id",
        &dir,
        &["a.yaml", "b.yaml"],
        Some("duplicate id `ok`"),
    ));
    cases
}

/// Every case of the corpus exits 2 with a located error, within the time and memory limits.
#[test]
fn every_bad_input_is_a_located_error_within_budget() {
    let binary = std::env::var_os("REENACT_CORPUS_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_reenact")),
        PathBuf::from,
    );
    let repo = support::repo();
    let made = tempfile::tempdir().unwrap();
    let mut cases = fixture_cases(repo);
    cases.extend(made_cases(made.path()));
    // Two at a time: each case is one short process.
    let results: Vec<(Outcome, Duration)> = std::thread::scope(|scope| {
        let (first, second) = cases.split_at(cases.len() / 2);
        let first = scope.spawn(|| first.iter().map(|c| run(&binary, c)).collect::<Vec<_>>());
        let second = scope.spawn(|| second.iter().map(|c| run(&binary, c)).collect::<Vec<_>>());
        let mut results = first.join().unwrap();
        results.extend(second.join().unwrap());
        results
    });
    let count = |wanted: fn(&Outcome) -> bool| results.iter().filter(|(o, _)| wanted(o)).count();
    let slowest = results
        .iter()
        .zip(&cases)
        .max_by_key(|((_, took), _)| *took)
        .map(|((_, took), case)| format!("{} ({took:.2?})", case.name))
        .unwrap_or_default();
    println!(
        "corpus of {} bad inputs: {} located, {} aborts, {} hangs, {} over budget, {} wrongly accepted, {} unlocated; slowest: {slowest}",
        cases.len(),
        count(|o| *o == Outcome::Located),
        count(|o| matches!(o, Outcome::Abort(_))),
        count(|o| *o == Outcome::Hang),
        count(|o| *o == Outcome::OverBudget),
        count(|o| *o == Outcome::Accepted),
        count(|o| matches!(o, Outcome::Unlocated(_))),
    );
    let failures: Vec<String> = cases
        .iter()
        .zip(&results)
        .filter(|(_, (outcome, _))| *outcome != Outcome::Located)
        .map(|(case, (outcome, took))| format!("{}: {outcome:?} after {took:.2?}", case.name))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases are not a located error within budget:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
