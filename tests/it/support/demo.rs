//! The repository root and the demo target (`examples/ledger-sync`), for tests that run it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The demo target binary of this profile. `cargo test` builds examples; a filtered test run
/// may not have, so build it then.
pub fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let bin = Path::new(env!("CARGO_BIN_EXE_reenact"));
        let path = bin
            .parent()
            .expect("the binary sits in a profile folder")
            .join("examples")
            .join("ledger-sync");
        if !path.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--example", "ledger-sync"])
                .current_dir(repo())
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the demo target failed");
        }
        path
    })
}

/// The inline command of the demo target at `release`, listening where reenact says.
pub fn demo_cmd(release: &str) -> String {
    format!(
        "{} --release {release} --port {{{{ target.port }}}}",
        demo().display()
    )
}
