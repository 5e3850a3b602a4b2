//! A minimal in-memory tar writer (POSIX ustar) for the few small files reenact copies into a
//! container before it starts (the run's CA for a container target), through the engine's archive
//! API rather than a bind mount, so that a remote `DOCKER_HOST` works too.
//!
//! [`archive`] writes directories and regular files only: one 512-byte header each, the data
//! padded to 512 bytes, and two zero blocks at the end. Names must fit ustar's 100-byte field.

/// One entry of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A directory (`path` without a trailing `/`), mode 0755.
    Dir(&'a str),
    /// A regular file with its contents and mode.
    File {
        /// Path inside the archive, relative (e.g. `reenact/ca.pem`).
        path: &'a str,
        /// Contents.
        data: &'a [u8],
        /// Permission bits, e.g. `0o644`.
        mode: u32,
    },
}

const BLOCK: usize = 512;

/// The tar archive of `entries`, in order. Panics on a path longer than 99 bytes (reenact only
/// archives names it chooses).
pub fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let (name, data, mode, kind) = match entry {
            Entry::Dir(path) => (format!("{path}/"), &[][..], 0o755, b'5'),
            Entry::File { path, data, mode } => ((*path).to_owned(), *data, *mode, b'0'),
        };
        out.extend_from_slice(&header(&name, data.len(), mode, kind));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    out
}

fn header(name: &str, size: usize, mode: u32, kind: u8) -> [u8; BLOCK] {
    assert!(name.len() < 100, "tar entry name too long: {name}");
    let mut header = [0u8; BLOCK];
    let mut put = |offset: usize, bytes: &[u8]| {
        header[offset..offset + bytes.len()].copy_from_slice(bytes);
    };
    put(0, name.as_bytes());
    put(100, format!("{mode:07o}\0").as_bytes());
    put(108, b"0000000\0"); // uid
    put(116, b"0000000\0"); // gid
    put(124, format!("{size:011o}\0").as_bytes());
    put(136, b"00000000000\0"); // mtime
    put(156, &[kind]);
    put(257, b"ustar\0");
    put(263, b"00");
    // The checksum is computed with its own field as eight spaces.
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_ustar_blocks() {
        let data = b"-----BEGIN CERTIFICATE-----\n";
        let tar = archive(&[
            Entry::Dir("reenact"),
            Entry::File {
                path: "reenact/ca.pem",
                data,
                mode: 0o644,
            },
        ]);
        // dir header, file header, one data block, two zero blocks.
        assert_eq!(tar.len(), 5 * BLOCK);
        assert_eq!(&tar[..8], b"reenact/");
        assert_eq!(tar[156], b'5');
        let file = &tar[BLOCK..2 * BLOCK];
        assert_eq!(&file[..14], b"reenact/ca.pem");
        assert_eq!(file[156], b'0');
        assert_eq!(&file[124..136], format!("{:011o}\0", data.len()).as_bytes());
        assert_eq!(&file[257..263], b"ustar\0");
        assert_eq!(&tar[2 * BLOCK..2 * BLOCK + data.len()], data);
        assert!(tar[3 * BLOCK..].iter().all(|&b| b == 0));
        // The checksum field holds the sum of the header with that field read as spaces.
        let stored =
            u32::from_str_radix(std::str::from_utf8(&file[148..154]).unwrap().trim(), 8).unwrap();
        let mut blank = file.to_vec();
        blank[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, blank.iter().map(|&b| u32::from(b)).sum::<u32>());
    }

    #[test]
    fn system_tar_extracts_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("test.tar");
        let data = vec![b'x'; 700];
        std::fs::write(
            &file,
            archive(&[
                Entry::Dir("reenact"),
                Entry::File {
                    path: "reenact/ca.pem",
                    data: &data,
                    mode: 0o600,
                },
            ]),
        )
        .unwrap();
        let status = std::process::Command::new("tar")
            .arg("-xf")
            .arg(&file)
            .current_dir(dir.path())
            .status()
            .expect("tar runs");
        assert!(status.success());
        let extracted = dir.path().join("reenact/ca.pem");
        assert_eq!(std::fs::read(&extracted).unwrap(), data);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&extracted).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
