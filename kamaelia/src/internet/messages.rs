//! The messages about connections: what TcpServer, ConnectedSocketAdapter,
//! ServerCore, TcpClient and protocol handlers tell each other (the connection
//! half of Kamaelia's `IPC` module; the Selector's half is with the Selector).
//! All are public as [`crate::ipc`], whose doc says which a protocol handler
//! sees.
//!
//! | message | from → to |
//! |---|---|
//! | [`SocketActivity`] | TcpServer `protocol_handler_signal` → ServerCore `socketactivity` |
//! | [`SocketShutdown`] | adapter `creator_feedback` → its maker; inside `ProducerFinished`, adapter `signal` → handler `control`, and a TcpClient's last `signal` |
//! | [`PeerClosed`] | inside `ProducerFinished`, adapter `signal` → handler `control` |
//! | [`CloseWhenFlushed`] | inside `ProducerFinished`, ServerCore (shutting down) → adapter `control` |
//! | [`ConnectionInfo`] | ServerCore → the handler factory |
//! | [`server_shutdown`] | anyone → ServerCore or TcpServer `control` |

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axon::ipc::{Ipc, Payload, ProducerFinished, ShutdownMicroprocess};
use axon::{ComponentId, ComponentRef};

/// Where a connection runs between: what ServerCore passes to a protocol
/// handler's factory (Kamaelia's `peer`, `peerport`, `localip`, `localport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionInfo {
    /// A number no other connection accepted in this process has had (from
    /// 1 up, whatever the server or scheduler): a key for the connection,
    /// cheaper to compare than its address (a chat's test of whether a line
    /// is a client's own, made once per line per client).
    pub id: u64,
    /// The client's address.
    pub peer: IpAddr,
    /// The client's port.
    pub peer_port: u16,
    /// The address the client connected to.
    pub local_ip: IpAddr,
    /// The port the client connected to.
    pub local_port: u16,
}

impl ConnectionInfo {
    /// The next connection's [`id`](Self::id).
    pub(crate) fn next_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// The client's address and port.
    pub fn peer_addr(&self) -> SocketAddr {
        SocketAddr::new(self.peer, self.peer_port)
    }
}

/// The span a connection's components run in (`connection{peer=ADDR}`):
/// their own spans are made inside it, so that whatever they log names the
/// client. The same for a connection refused before it had any.
pub(crate) fn connection_span(peer: SocketAddr) -> tracing::Span {
    tracing::info_span!(target: "kamaelia::connection", "connection", %peer)
}

impl fmt::Display for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} -> {}:{}",
            self.peer, self.peer_port, self.local_ip, self.local_port
        )
    }
}

/// "The client has closed its side": the payload of the `ProducerFinished` a
/// protocol handler receives when the client half-closes. What the handler
/// still sends is delivered before the connection closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerClosed;

/// "Send what is queued, then close without waiting for the peer": the
/// payload of a `ProducerFinished` to a
/// [`ConnectedSocketAdapter`](super::ConnectedSocketAdapter)'s `control`.
///
/// A plain `ProducerFinished` makes the adapter send what is queued, shut its
/// sending side, then linger until the peer closes too (or its linger runs
/// out). With this, it closes as soon as everything is written: the kernel
/// still delivers what was written, then the FIN, but an idle peer that
/// keeps its side open is not waited for. ServerCore sends it while shutting
/// down, so that a server exits as soon as its output is out.
///
/// # Examples
///
/// ```
/// use axon::ipc::{Ipc, Payload, ProducerFinished};
/// use kamaelia::ipc::CloseWhenFlushed;
///
/// let finish: Ipc = ProducerFinished::new()
///     .with_message(Payload::new(CloseWhenFlushed))
///     .into();
/// assert!(finish.finished_with::<CloseWhenFlushed>().is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseWhenFlushed;

/// The `ProducerFinished` telling an adapter to send what is queued, then
/// close without lingering.
pub(crate) fn close_when_flushed(caller: ComponentId) -> Ipc {
    ProducerFinished::from(caller)
        .with_message(Payload::new(CloseWhenFlushed))
        .into()
}

/// "The connection has closed": Kamaelia's `socketShutdown`.
///
/// A ConnectedSocketAdapter sends it to whoever made it (on its
/// `creator_feedback` outbox); a protocol handler receives it as the payload of
/// a `ProducerFinished` on `control`; a TCPClient ends with it as the payload
/// of its final `ProducerFinished`.
#[derive(Clone, Debug)]
pub struct SocketShutdown {
    /// The adapter whose socket closed.
    pub csa: ComponentId,
    /// Why, if it was an error (Kamaelia's `howDied`): a refused or timed-out
    /// connect, a reset, … `None` for an orderly close.
    pub how_died: Option<Arc<io::Error>>,
}

impl SocketShutdown {
    /// The `ProducerFinished` that carries this to a protocol handler.
    pub fn to_ipc(&self, caller: ComponentId) -> Ipc {
        ProducerFinished::from(caller)
            .with_message(Payload::new(self.clone()))
            .into()
    }
}

/// The `ProducerFinished` telling a protocol handler that its client closed
/// its side.
pub(crate) fn peer_closed(caller: ComponentId) -> Ipc {
    ProducerFinished::from(caller)
        .with_message(Payload::new(PeerClosed))
        .into()
}

/// "Stop the server": Kamaelia's `serverShutdown`, a `ShutdownMicroprocess`.
/// ServerCore and TCPServer stop on any `ShutdownMicroprocess`; this names the
/// intent.
pub fn server_shutdown() -> Ipc {
    ShutdownMicroprocess::new().into()
}

/// What TCPServer tells ServerCore about connections (on its
/// `protocol_handler_signal` outbox): Kamaelia's `newCSA` and `shutdownCSA`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SocketActivity {
    /// A connection was accepted; its adapter is made but not activated.
    NewCsa {
        /// The adapter for the new connection.
        csa: ComponentRef,
        /// Where the connection runs between.
        info: ConnectionInfo,
    },
    /// A connection's adapter has closed its socket.
    ShutdownCsa {
        /// The adapter.
        csa: ComponentId,
        /// Why it closed, if it was an error.
        how_died: Option<Arc<io::Error>>,
    },
}
