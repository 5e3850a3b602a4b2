//! A DNS server that knows no name: every query gets `NXDOMAIN` at once.
//!
//! A mock container on the `docker` backend points its DNS at this sink (on its own loopback).
//! Docker's embedded resolver answers the names of the run's network (mock names and
//! `hostnames`) itself and forwards only the rest, to the sink: so a name no mock declares fails
//! to resolve immediately, with the error a missing name gives, instead of leaking to the host's
//! resolver or waiting out a timeout (see `docs/decisions.md`, "Run network isolation").
//! [`answer`] builds the reply; [`serve`] runs the UDP loop.

use std::net::SocketAddr;

use tokio::net::UdpSocket;

/// The reply to `query`: its header and question, flagged as a response with `NXDOMAIN`;
/// `None` for a datagram that is not a DNS query (too short, a response, no question).
pub(crate) fn answer(query: &[u8]) -> Option<Vec<u8>> {
    const HEADER: usize = 12;
    if query.len() < HEADER || query[2] & 0x80 != 0 {
        return None;
    }
    let questions = u16::from_be_bytes([query[4], query[5]]);
    if questions != 1 {
        return None;
    }
    // The question: labels up to the root label, then type and class.
    let mut at = HEADER;
    loop {
        let length = usize::from(*query.get(at)?);
        if length == 0 {
            break;
        }
        if length & 0xc0 != 0 {
            return None;
        }
        at += 1 + length;
    }
    let end = at + 1 + 4;
    if end > query.len() {
        return None;
    }
    let mut reply = query[..end].to_vec();
    // QR = response, keep opcode and RD; RA set; RCODE 3 = NXDOMAIN.
    reply[2] = 0x80 | (query[2] & 0x79);
    reply[3] = 0x80 | 3;
    // One question, no answer, authority or additional records.
    reply[6..12].fill(0);
    Some(reply)
}

/// Answer every query arriving at `addr` with [`answer`], until the task is dropped.
pub(crate) async fn serve(addr: SocketAddr) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let socket = UdpSocket::bind(addr).await?;
    Ok(tokio::spawn(async move {
        let mut buffer = [0u8; 1500];
        loop {
            let Ok((read, from)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            if let Some(reply) = answer(&buffer[..read]) {
                let _ = socket.send_to(&reply, from).await;
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `api.xero.com` A, id 0x1234, recursion desired, with an EDNS record.
    fn query() -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
        for label in ["api", "xero", "com"] {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        q.extend_from_slice(&[0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]);
        q
    }

    #[test]
    fn every_name_is_nxdomain() {
        let q = query();
        let reply = answer(&q).unwrap();
        assert_eq!(&reply[..2], &[0x12, 0x34], "same id");
        assert_eq!(reply[2], 0x81, "a response, recursion desired kept");
        assert_eq!(reply[3] & 0x0f, 3, "NXDOMAIN");
        assert_eq!(&reply[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            &reply[12..],
            &q[12..q.len() - 11],
            "the question, no EDNS record"
        );
    }

    #[test]
    fn what_is_no_query_gets_no_answer() {
        let mut response = query();
        response[2] |= 0x80;
        assert_eq!(answer(&response), None);
        assert_eq!(answer(&[0; 5]), None);
        let q = query();
        assert_eq!(answer(&q[..16]), None, "a cut question");
    }

    #[tokio::test]
    async fn serves_over_udp() {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let task = serve(addr).await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(&query(), addr).await.unwrap();
        let mut buffer = [0u8; 512];
        let (read, _) = client.recv_from(&mut buffer).await.unwrap();
        assert_eq!(buffer[3] & 0x0f, 3);
        assert_eq!(read, query().len() - 11);
        task.abort();
    }
}
