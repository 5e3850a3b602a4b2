//! Bad inputs the format, corpus and property tests make at test time (too large for a fixture
//! file, or not files at all): an alias bomb in bytes, FIFOs.

use std::path::Path;

/// A scenario whose 600 KB anchored scalar is aliased 99,000 times (issue 11: 3.7 GB expanded),
/// within the 1 MiB input limit.
pub fn alias_bomb_bytes() -> Vec<u8> {
    let mut text = format!(
        "id: alias-expanded-bytes\ntitle: one large scalar aliased many times\nbig: &a \"{}\"\nflow:\n  - request: {{ method: GET, path: /, json: [",
        "x".repeat(600_000)
    );
    for _ in 0..99_000 {
        text.push_str("*a,");
    }
    text.push_str("] }\n");
    text.into_bytes()
}

/// Make a FIFO (named pipe) at `path`.
#[cfg(unix)]
pub fn make_fifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system entry.
    let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo {}", path.display());
}
