//! [`ConnectionLimit`]: how many connections a server holds open at once,
//! and what it tells a client past that number.

use std::io::IoSlice;
use std::net::{Shutdown, SocketAddr, TcpStream};

use bytes::Bytes;

use super::messages::connection_span;
use crate::sys;

/// What a client refused for want of room is sent before its connection
/// closes.
pub const DEFAULT_REFUSAL: &[u8] = b"server busy, try later\r\n";

/// The most connections a server holds open at once, and the line a client
/// past that number is sent before being closed.
///
/// The default is no limit: the process's file-descriptor limit already
/// bounds the connections, and a server out of descriptors holds new clients
/// back in the listen queue until others leave, so a made-up number would
/// only refuse load the machine can carry. Set one to keep room for other
/// work, or to bound what the connections may take between them.
///
/// # Examples
///
/// ```
/// use kamaelia::internet::ConnectionLimit;
///
/// let limit = ConnectionLimit::new(100).refusal(&b"full up\r\n"[..]);
/// assert_eq!(limit.max(), 100);
/// assert!(ConnectionLimit::default().max() == usize::MAX, "no limit");
/// ```
#[derive(Clone, Debug)]
pub struct ConnectionLimit {
    pub(crate) max: usize,
    refusal: Bytes,
}

impl Default for ConnectionLimit {
    fn default() -> Self {
        ConnectionLimit::new(usize::MAX)
    }
}

impl ConnectionLimit {
    /// At most `max` connections at once, refusing others with
    /// [`DEFAULT_REFUSAL`].
    pub fn new(max: usize) -> Self {
        ConnectionLimit {
            max,
            refusal: Bytes::from_static(DEFAULT_REFUSAL),
        }
    }

    /// Sends a refused client `line` (default [`DEFAULT_REFUSAL`]); empty:
    /// nothing, the connection just closes.
    pub fn refusal(mut self, line: impl Into<Bytes>) -> Self {
        self.refusal = line.into();
        self
    }

    /// The most connections held open at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// True if a server holding `open` connections has room for another.
    pub(crate) fn has_room(&self, open: usize) -> bool {
        open < self.max
    }

    /// Refuses a just-accepted connection: sends the refusal line with one
    /// non-blocking write, then closes, whatever the write did. A new
    /// socket's send buffer is empty, so the line fits; but nothing waits on
    /// a client that does not read, and nothing is kept for it.
    pub(crate) fn refuse(&self, socket: TcpStream, peer: SocketAddr, open: usize) {
        let _in_span = connection_span(peer).entered();
        // Accepted non-blocking: the one write never waits.
        let written = if self.refusal.is_empty() {
            Ok(0)
        } else {
            sys::send(&socket, &[IoSlice::new(&self.refusal)])
        };
        match written {
            Ok(_) => {
                tracing::info!(target: "kamaelia::tcp_server", open, max = self.max, "refused a connection: at the maximum")
            }
            Err(e) => {
                tracing::info!(target: "kamaelia::tcp_server", open, max = self.max, error = %e, "refused a connection: at the maximum (the refusal could not be sent)")
            }
        }
        // The FIN now, after the line; dropping the socket closes it.
        let _ = socket.shutdown(Shutdown::Write);
    }
}
