//! What TCP addresses a target's process group listens on, as Linux shows it: each process of
//! the group (`/proc/PID/stat`), its sockets (`/proc/PID/fd` links `socket:[INODE]`), and the
//! LISTEN rows of `/proc/net/tcp` and `/proc/net/tcp6` with those inodes. Used to say why a
//! target never became ready ("it listens on 127.0.0.1:8081"). Everything here is best effort and
//! bounded: what cannot be read is skipped, and `None` means "could not be seen" (another
//! system, no `/proc`).

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// Most `/proc` entries looked at for processes of the group.
const MAX_PROCESSES: usize = 65_536;
/// Most descriptors looked at per process.
const MAX_FDS: usize = 4_096;
/// Most bytes read of one `/proc` file.
const MAX_READ: u64 = 8 * 1024 * 1024;
/// The `st` column of a listening socket.
const LISTEN: &str = "0A";

/// The addresses the processes of group `pgid` listen on, sorted; `None` when `/proc` cannot be
/// read (not Linux).
pub(crate) fn listening(pgid: i32) -> Option<Vec<SocketAddr>> {
    listening_in(Path::new("/proc"), pgid)
}

/// [`listening`], reading the `/proc` found at `proc`.
fn listening_in(proc: &Path, pgid: i32) -> Option<Vec<SocketAddr>> {
    let entries = std::fs::read_dir(proc).ok()?;
    let mut inodes = BTreeSet::new();
    for entry in entries.take(MAX_PROCESSES).flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Some(stat) = read_bounded(&proc.join(pid.to_string()).join("stat")) else {
            continue;
        };
        if process_group(&stat) != Some(pgid) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(proc.join(pid.to_string()).join("fd")) else {
            continue;
        };
        for fd in fds.take(MAX_FDS).flatten() {
            if let Some(inode) = std::fs::read_link(fd.path())
                .ok()
                .and_then(|link| socket_inode(&link.to_string_lossy()))
            {
                inodes.insert(inode);
            }
        }
    }
    let mut addresses = BTreeSet::new();
    for table in ["net/tcp", "net/tcp6"] {
        if let Some(text) = read_bounded(&proc.join(table)) {
            addresses.extend(listening_rows(&text, &inodes));
        }
    }
    Some(addresses.into_iter().collect())
}

/// At most [`MAX_READ`] bytes of a file, as text; `None` when it cannot be read.
fn read_bounded(path: &Path) -> Option<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_READ)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The process group of a `/proc/PID/stat` line: the 5th field, the 3rd after the command
/// name (in parentheses, which may hold spaces and parentheses itself).
fn process_group(stat: &str) -> Option<i32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(2)?.parse().ok()
}

/// The inode of a descriptor's link text `socket:[12345]`.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The local addresses of the LISTEN rows of a `/proc/net/tcp{,6}` table whose inode is one of
/// `inodes`.
fn listening_rows<'a>(
    table: &'a str,
    inodes: &'a BTreeSet<u64>,
) -> impl Iterator<Item = SocketAddr> + 'a {
    table.lines().skip(1).filter_map(move |row| {
        let columns: Vec<&str> = row.split_whitespace().collect();
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        let (local, state, inode) = (columns.get(1)?, columns.get(3)?, columns.get(9)?);
        if *state != LISTEN || !inodes.contains(&inode.parse().ok()?) {
            return None;
        }
        local_address(local)
    })
}

/// A table's `ADDRESS:PORT` in hex: the address as 32-bit words printed in host order (so their
/// native-endian bytes are the address's bytes in network order), the port as a number.
fn local_address(text: &str) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    if address.len() % 8 != 0 {
        return None;
    }
    let mut bytes = Vec::with_capacity(address.len() / 2);
    for i in 0..address.len() / 8 {
        let word = u32::from_str_radix(address.get(i * 8..i * 8 + 8)?, 16).ok()?;
        bytes.extend(word.to_ne_bytes());
    }
    let ip: std::net::IpAddr = match bytes.len() {
        4 => Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).into(),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            let ip = Ipv6Addr::from(octets);
            ip.to_ipv4_mapped().map_or(ip.into(), Into::into)
        }
        _ => return None,
    };
    Some(SocketAddr::from((ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_group_of_a_stat_line_whatever_the_name() {
        assert_eq!(
            process_group("4242 (python3) S 1 4242 4242 0 -1"),
            Some(4242)
        );
        assert_eq!(process_group("77 (a) b (c) R 5 70 70 0"), Some(70));
        assert_eq!(process_group("garbage"), None);
    }

    #[test]
    fn reads_socket_links() {
        assert_eq!(socket_inode("socket:[123456]"), Some(123_456));
        assert_eq!(socket_inode("pipe:[123456]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn reads_listening_rows_of_our_sockets_only() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 556 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 557 1 0000000000000000 20 4 30 10 -1
";
        let tcp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 558 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 559 1 0000000000000000 100 0 0 10 0
";
        let ours: BTreeSet<u64> = [555, 557, 558, 559].into();
        let found: Vec<String> = listening_rows(tcp, &ours)
            .chain(listening_rows(tcp6, &ours))
            .map(|a| a.to_string())
            .collect();
        assert_eq!(found, ["127.0.0.1:8081", "[::1]:8082", "127.0.0.1:8083"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sees_what_this_process_listens_on() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let address = listener.local_addr().unwrap();
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() };
        let seen = listening(group).expect("Linux has /proc");
        assert!(seen.contains(&address), "{seen:?} lacks {address}");
    }
}
