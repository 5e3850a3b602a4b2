//! The repository root and the demo target (`examples/ledger-sync`), for tests that run it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The demo target binary of this profile, built once per test run when it is missing or older
/// than its sources: `cargo test` builds the example's unit tests, not the binary.
pub fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let profile_dir = Path::new(env!("CARGO_BIN_EXE_reenact"))
            .parent()
            .expect("the binary sits in a profile folder");
        let path = profile_dir.join("examples").join("ledger-sync");
        if !newer_than_sources(&path) {
            let mut cargo = Command::new(env!("CARGO"));
            cargo
                .args(["build", "--example", "ledger-sync"])
                .current_dir(repo());
            // The folder of the dev (and test) profile is `debug`; any other is the profile's.
            let profile = profile_dir.file_name().expect("a profile folder");
            if profile != "debug" {
                cargo.arg("--profile").arg(profile);
            }
            // Cargo sets these for the test process, and build scripts watch some of them (ring
            // watches `CARGO_MANIFEST_DIR`): passed on, they would rebuild ring and all that
            // depends on it here, and again in the next `cargo test`.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                if name.starts_with("CARGO_PKG_")
                    || name.starts_with("CARGO_MANIFEST_")
                    || ["CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "OUT_DIR"].contains(&&*name)
                {
                    cargo.env_remove(&*name);
                }
            }
            let status = cargo.status().expect("cargo runs");
            assert!(status.success(), "building the demo target failed");
        }
        path
    })
}

/// Whether the demo binary at `path` exists and is newer than every file of
/// `examples/ledger-sync`. Asking cargo instead would rebuild the demo after every change to
/// `src/` (an example depends on the library, although this one does not use it).
fn newer_than_sources(path: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified());
    let Ok(built) = modified(path) else {
        return false;
    };
    std::fs::read_dir(repo().join("examples/ledger-sync"))
        .expect("the demo's sources")
        .all(|entry| {
            entry
                .and_then(|entry| modified(&entry.path()))
                .is_ok_and(|m| m <= built)
        })
}

/// The inline command of the demo target at `release`, listening where reenact says.
pub fn demo_cmd(release: &str) -> String {
    format!(
        "{} --release {release} --port {{{{ target.port }}}}",
        demo().display()
    )
}
