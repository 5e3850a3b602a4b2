//! `reenact new`: the scenario it writes for every provider passes `reenact check`; bad input is
//! refused with help; a file is never replaced without `--force`; and on a pseudo-terminal it asks
//! for what the flags did not say (driven by python3's `pty`, so no crate is needed; python3 is
//! required, as `.ci/run` installs it).

use std::path::Path;

use crate::cli::{code, reenact, text};
use reenact::exit_codes;

/// Every name `--provider` takes.
const PROVIDERS: [&str; 8] = [
    "xero",
    "quickbooks",
    "intacct",
    "sage",
    "oidc",
    "saml",
    "bank",
    "stubs",
];

#[test]
fn new_then_check_passes_for_every_provider_alone_and_all_together() {
    let dir = tempfile::tempdir().unwrap();
    for provider in PROVIDERS {
        let file = format!("{provider}.yaml");
        let output = reenact(
            dir.path(),
            &[
                "new",
                "--ticket",
                "SUP-1234",
                "--provider",
                provider,
                "-o",
                &file,
            ],
        );
        assert_eq!(
            code(&output),
            exit_codes::SUCCESS,
            "{}",
            text(&output.stderr)
        );
        let check = reenact(dir.path(), &["check", &file]);
        assert_eq!(
            code(&check),
            exit_codes::SUCCESS,
            "{provider}: {}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
        let written = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        if provider != "stubs" {
            assert!(
                written.contains(&format!("provider: {provider}\n")),
                "{written}"
            );
            assert!(
                written.contains(&format!("docs/providers/{provider}.md")),
                "{written}"
            );
        }
    }
    let mut args = vec![
        "new",
        "--ticket",
        "SUP-1234",
        "--title",
        "Bills exported twice: \"again\"",
        "--customer",
        "Acme Corp",
        "--severity",
        "sev2",
    ];
    for provider in PROVIDERS {
        args.extend(["--provider", provider]);
    }
    let output = reenact(dir.path(), &args);
    assert_eq!(
        code(&output),
        exit_codes::SUCCESS,
        "{}",
        text(&output.stderr)
    );
    let file = "sup-1234-bills-exported-twice-again.yaml";
    assert!(text(&output.stdout).contains(&format!("wrote `{file}`")));
    let check = reenact(dir.path(), &["check", file, "--format", "json"]);
    assert_eq!(code(&check), exit_codes::SUCCESS, "{}", text(&check.stdout));
    let list = reenact(dir.path(), &["list", file, "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let scenario = &listed["scenarios"][0];
    assert_eq!(scenario["title"], "Bills exported twice: \"again\"");
    assert_eq!(scenario["severity"], "sev2");
    // Every provider but `stubs`, which is a plain mock.
    assert_eq!(scenario["providers"], serde_json::json!(PROVIDERS[..7]));
}

#[test]
fn new_refuses_bad_input_with_help() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["new", "--ticket", "SUP-1", "--provider", "quickbook"],
            "error: unknown provider `quickbook`\n  = help: did you mean `quickbooks`? providers: xero, quickbooks, intacct, sage, oidc, saml, bank, stubs\n",
        ),
        (
            &["new", "--ticket", "SUP-1"],
            "error: missing `--provider`, and no terminal to ask on\n  = help: e.g. `reenact new --ticket SUP-1234 --provider xero --provider oidc`\n",
        ),
        (
            &["new"],
            "error: missing `--ticket` and `--provider`, and no terminal to ask on\n",
        ),
        (
            &["new", "--ticket", "###", "--provider", "xero"],
            "error: ticket `###` has no letter or digit to name the scenario by\n",
        ),
        (
            &[
                "new",
                "--ticket",
                "SUP-1",
                "--provider",
                "xero",
                "-o",
                "missing/x.yaml",
            ],
            "error: no folder `",
        ),
    ];
    for (args, expected) in cases {
        let output = reenact(dir.path(), args);
        assert_eq!(code(&output), exit_codes::INVALID_INPUT, "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn new_never_replaces_a_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    let args = [
        "new",
        "--ticket",
        "SUP-9",
        "--provider",
        "stubs",
        "-o",
        "scenarios",
    ];
    let first = reenact(dir.path(), &args);
    assert_eq!(code(&first), exit_codes::SUCCESS, "{}", text(&first.stderr));
    let file = dir.path().join("scenarios/sup-9.yaml");
    std::fs::write(&file, "# mine\n").unwrap();
    let again = reenact(dir.path(), &args);
    assert_eq!(code(&again), exit_codes::INVALID_INPUT);
    assert_eq!(
        text(&again.stderr),
        "error: `scenarios/sup-9.yaml` already exists\n  = help: pass `--force` to replace it, or `-o FILE` to write elsewhere\n"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");
    let forced = reenact(dir.path(), &[&args[..], &["--force"]].concat());
    assert_eq!(code(&forced), exit_codes::SUCCESS);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("# Written by `reenact new`")
    );
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sup-9.yaml"]);
}

/// The driver of the interactive test: runs `reenact new` on a pseudo-terminal, answers each
/// prompt when it appears, and prints the whole terminal output then the exit code.
const PTY_DRIVER: &str = r#"
import os, pty, select, sys, time
binary, folder = sys.argv[1], sys.argv[2]
answers = [(b"Ticket", b"SUP-4242"), (b"Title", b"Okta login loops"),
           (b"Providers, numbers", b"5 stubs"), (b"Customer", b"Acme Corp"), (b"Severity", b"sev5"),
           (b"Severity", b"2")]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(folder)
    os.environ["NO_COLOR"] = "1"
    os.execv(binary, [binary, "new"])
seen = b""
deadline = time.time() + 30
def read_some():
    global seen
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        seen += chunk
    return True
asked = 0
for prompt, answer in answers:
    while prompt not in seen[asked:]:
        if time.time() > deadline or not read_some():
            sys.stdout.write(seen.decode(errors="replace"))
            print("\nTIMEOUT waiting for", prompt)
            sys.exit(1)
    asked = seen.index(prompt, asked) + len(prompt)
    os.write(fd, answer + b"\n")
while time.time() < deadline and read_some():
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
print("\nEXIT", os.waitstatus_to_exitcode(status))
"#;

#[test]
fn new_asks_on_a_terminal_for_what_the_flags_did_not_say() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new("python3")
        .args(["-c", PTY_DRIVER, env!("CARGO_BIN_EXE_reenact")])
        .arg(dir.path())
        .output()
        .unwrap();
    let terminal = text(&output.stdout).replace("\r\n", "\n");
    assert!(
        output.status.success(),
        "{terminal}{}",
        text(&output.stderr)
    );
    assert!(terminal.contains("  5. oidc "), "{terminal}");
    assert!(
        terminal.contains("unknown severity `sev5`; severities: sev1 (worst) … sev4"),
        "{terminal}"
    );
    assert!(
        terminal.contains("wrote `sup-4242-okta-login-loops.yaml` (oidc, stubs)"),
        "{terminal}"
    );
    assert!(terminal.trim_end().ends_with("EXIT 0"), "{terminal}");
    let file = Path::new("sup-4242-okta-login-loops.yaml");
    let written = std::fs::read_to_string(dir.path().join(file)).unwrap();
    assert!(written.contains("customers: [\"Acme Corp\"]"), "{written}");
    assert!(written.contains("severity: sev2"), "{written}");
    let check = reenact(dir.path(), &["check", file.to_str().unwrap()]);
    assert_eq!(code(&check), exit_codes::SUCCESS, "{}", text(&check.stdout));
}
