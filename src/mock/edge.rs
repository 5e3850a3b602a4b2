//! The connection edge of a mock's traffic listener: [`FaultIo`], the IO type every accepted
//! connection is wrapped in, and [`ConnControl`], the per-connection handle the request handler
//! uses to tell it what to do with the next response.
//!
//! hyper writes the response as usual; `FaultIo` sits between hyper and the connection's
//! [`Transport`] and, when a fault armed it, resets the connection, closes it without a byte,
//! sends garbage instead, cuts the body short or dribbles it. Each of these ends the connection
//! (or, for a dribble, only slows it), so an armed action never leaks into a later request on a
//! keep-alive connection. Unarmed, a write costs one relaxed atomic load on top of the socket's
//! own.
//!
//! On an HTTPS mock the transport is the TLS stream, so `FaultIo` sees the plaintext HTTP bytes
//! and the faults keep their meaning inside the TLS session:
//!
//! - `reset` sets `SO_LINGER 0` on the TCP socket under the TLS session: the client gets a TCP
//!   RST, exactly as over plain HTTP;
//! - `empty` closes the connection after the handshake without a response and without a TLS
//!   `close_notify`, so the client sees an unexpected end of file;
//! - `garbage` sends its bytes encrypted inside the TLS session: the client's TLS layer is fine
//!   and its HTTP parser gets the garbage (not garbage TLS records on the wire);
//! - `truncated` and `slow_body` count and pace plaintext body bytes; a truncated body ends
//!   without `close_notify`, which TLS clients report as a cut-off body.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tokio_rustls::server::TlsStream;

use crate::mock::fault::EdgeAction;

/// The handle a request handler uses to arm a connection-level fault on its connection.
#[derive(Debug, Default)]
pub(crate) struct ConnControl {
    armed: AtomicBool,
    action: Mutex<Option<EdgeAction>>,
}

impl ConnControl {
    /// A handle with nothing armed.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(ConnControl::default())
    }

    /// Apply `action` to the next response written on this connection. `Delay` and `Timeout`
    /// are the handler's to carry out and are ignored here.
    pub(crate) fn arm(&self, action: EdgeAction) {
        if matches!(action, EdgeAction::Delay(_) | EdgeAction::Timeout) {
            return;
        }
        *self.action.lock().unwrap_or_else(PoisonError::into_inner) = Some(action);
        self.armed.store(true, Ordering::Release);
    }

    fn take(&self) -> Option<EdgeAction> {
        // The common case, nothing armed, costs one plain load.
        if !self.armed.load(Ordering::Acquire) || !self.armed.swap(false, Ordering::AcqRel) {
            return None;
        }
        self.action
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The byte stream of one accepted connection: plain TCP, or TLS over TCP on an HTTPS mock.
///
/// Either way the TCP socket underneath is reachable, so a `reset` acts on the socket itself.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The TCP socket the connection runs on.
    fn tcp(&self) -> &TcpStream;
}

impl Transport for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Transport for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// A connection that carries out the connection faults its [`ConnControl`] arms.
#[derive(Debug)]
pub(crate) struct FaultIo<S = TcpStream> {
    stream: S,
    control: Arc<ConnControl>,
    state: WriteState,
}

#[derive(Debug)]
enum WriteState {
    /// Pass writes through.
    Normal,
    /// The fault is done: every write fails, so hyper drops (and closes) the connection.
    Closed,
    /// Write these bytes instead of the response, then close.
    Garbage { bytes: Bytes, sent: usize },
    /// Pass the head through, then `body_left` body bytes, then close.
    Truncated { head: HeadEnd, body_left: usize },
    /// Pass the head through, then the body `chunk` bytes per write, each after `every`; with
    /// `pauses`, that many paced writes are left, the last taking all it is given, and then
    /// writes pass through.
    Slow {
        head: HeadEnd,
        chunk: usize,
        every: Duration,
        pauses: Option<usize>,
        pause: Option<Pin<Box<Sleep>>>,
    },
}

/// Finds the end of an HTTP/1 response head (`\r\n\r\n`) across writes.
#[derive(Debug, Default)]
struct HeadEnd {
    /// How many bytes of `\r\n\r\n` were seen last; 4 once the head is complete.
    seen: usize,
}

impl HeadEnd {
    const END: &[u8; 4] = b"\r\n\r\n";

    fn done(&self) -> bool {
        self.seen == Self::END.len()
    }

    /// How many bytes of `buf` still belong to the head (all of them if it does not end here).
    fn head_len(&self, buf: &[u8]) -> usize {
        let mut seen = self.seen;
        for (i, &byte) in buf.iter().enumerate() {
            if seen == Self::END.len() {
                return i;
            }
            seen = Self::next(seen, byte);
        }
        buf.len()
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.done() {
                return;
            }
            self.seen = Self::next(self.seen, byte);
        }
    }

    fn next(seen: usize, byte: u8) -> usize {
        if byte == Self::END[seen] {
            seen + 1
        } else if byte == b'\r' {
            1
        } else {
            0
        }
    }
}

fn closed_by_fault() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "closed by a fault")
}

impl<S: Transport> FaultIo<S> {
    /// Wrap `stream`; `control` arms faults on it.
    pub(crate) fn new(stream: S, control: Arc<ConnControl>) -> Self {
        FaultIo {
            stream,
            control,
            state: WriteState::Normal,
        }
    }

    /// Start carrying out `action`; returns an error when the connection must end right away.
    fn start(&mut self, action: EdgeAction) -> io::Result<()> {
        self.state = match action {
            EdgeAction::Reset => {
                // SO_LINGER 0: closing the socket sends RST instead of FIN, without blocking.
                socket2::SockRef::from(self.stream.tcp()).set_linger(Some(Duration::ZERO))?;
                self.state = WriteState::Closed;
                return Err(closed_by_fault());
            }
            EdgeAction::Empty => {
                self.state = WriteState::Closed;
                return Err(closed_by_fault());
            }
            EdgeAction::Garbage(bytes) => WriteState::Garbage { bytes, sent: 0 },
            EdgeAction::Truncated { body_bytes } => WriteState::Truncated {
                head: HeadEnd::default(),
                body_left: body_bytes,
            },
            EdgeAction::SlowBody {
                chunk,
                every,
                pauses,
            } => WriteState::Slow {
                head: HeadEnd::default(),
                chunk,
                every,
                pauses,
                pause: None,
            },
            EdgeAction::Delay(_) | EdgeAction::Timeout => WriteState::Normal,
        };
        Ok(())
    }
}

impl<S: Transport> AsyncRead for FaultIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<S: Transport> AsyncWrite for FaultIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if matches!(this.state, WriteState::Normal)
            && let Some(action) = this.control.take()
            && let Err(e) = this.start(action)
        {
            return Poll::Ready(Err(e));
        }
        let stream = &mut this.stream;
        match &mut this.state {
            WriteState::Normal => Pin::new(stream).poll_write(cx, buf),
            WriteState::Closed => Poll::Ready(Err(closed_by_fault())),
            WriteState::Garbage { bytes, sent } => {
                while *sent < bytes.len() {
                    *sent += ready!(Pin::new(&mut *stream).poll_write(cx, &bytes[*sent..]))?;
                }
                // Over TLS, records may still wait in the session: send them before closing.
                ready!(Pin::new(stream).poll_flush(cx))?;
                this.state = WriteState::Closed;
                Poll::Ready(Err(closed_by_fault()))
            }
            WriteState::Truncated { head, body_left } => {
                let head_len = head.head_len(buf);
                let allowed = head_len + (buf.len() - head_len).min(*body_left);
                if allowed == 0 {
                    // Over TLS, records may still wait in the session: send them before closing.
                    ready!(Pin::new(stream).poll_flush(cx))?;
                    this.state = WriteState::Closed;
                    return Poll::Ready(Err(closed_by_fault()));
                }
                let written = ready!(Pin::new(stream).poll_write(cx, &buf[..allowed]))?;
                head.feed(&buf[..written.min(head_len)]);
                *body_left -= written.saturating_sub(head_len);
                Poll::Ready(Ok(written))
            }
            WriteState::Slow {
                head,
                chunk,
                every,
                pauses,
                pause,
            } => {
                let head_len = head.head_len(buf);
                if head_len > 0 {
                    let written = ready!(Pin::new(stream).poll_write(cx, &buf[..head_len]))?;
                    head.feed(&buf[..written]);
                    return Poll::Ready(Ok(written));
                }
                if *pauses == Some(0) || buf.is_empty() {
                    return Pin::new(stream).poll_write(cx, buf);
                }
                let sleep = pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(*every)));
                ready!(sleep.as_mut().poll(cx));
                let take = if *pauses == Some(1) {
                    buf.len()
                } else {
                    buf.len().min(*chunk)
                };
                let written = ready!(Pin::new(stream).poll_write(cx, &buf[..take]))?;
                *pause = None;
                if let Some(left) = pauses {
                    *left -= 1;
                }
                Poll::Ready(Ok(written))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_is_found_across_writes() {
        let mut head = HeadEnd::default();
        let first = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r";
        assert_eq!(head.head_len(first), first.len());
        head.feed(first);
        let second = b"\n\r\nbody";
        assert_eq!(head.head_len(second), 3);
        head.feed(&second[..3]);
        assert!(head.done());
        assert_eq!(head.head_len(b"more"), 0);
    }

    #[test]
    fn head_end_restarts_on_a_lone_carriage_return() {
        let head = HeadEnd::default();
        assert_eq!(head.head_len(b"a\r\r\n\r\nb"), 6);
    }
}
