//! [`TcpServer`]: accepts connections and makes an adapter for each.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, ComponentRef, Cx, Inbox};

use super::csa::ConnectedSocketAdapter;
use super::inline_protocol::InlineFactory;
use super::limit::ConnectionLimit;
use super::messages::{ConnectionInfo, SocketActivity, SocketShutdown};
use super::options::{ConnectionOptions, ListenOptions};
use super::selector::{Ready, Selectable, SelectorNotify, Watching};
use crate::sys;

/// How long to wait before accepting again after running out of file
/// descriptors.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Connections accepted per turn, so that a flood of them cannot keep the
/// other components from running.
const ACCEPT_BATCH: usize = 64;

/// Binds a listening socket (non-blocking, `SO_REUSEADDR`) to the first of
/// `address`'s resolved addresses that works.
pub(crate) fn bind(address: &str, port: u16, options: ListenOptions) -> io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let mut last = None;
    for addr in (address, port).to_socket_addrs()? {
        match sys::listen(addr, options.backlog, options.reuse_port) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{address:?} resolves to no address"),
        )
    }))
}

/// Binds `count` listening sockets to one address, all with `SO_REUSEPORT`,
/// for a server that runs one scheduler per core: each scheduler's server
/// takes one, and the kernel spreads new connections across them (by a hash
/// of each connection's addresses and ports), so no scheduler hands
/// connections to another.
///
/// With port 0 the first socket takes a free port and the others bind that
/// one. A count of 1 is a plain listener, without `SO_REUSEPORT` (unless
/// `options` asks for it): while it listens, another server (a second copy
/// started by mistake) cannot bind the port and quietly take half of its
/// connections.
///
/// # Errors
///
/// If the host does not resolve or an address cannot be bound (with
/// `SO_REUSEPORT`, a port another program holds without it is refused).
///
/// # Examples
///
/// ```
/// use kamaelia::internet::{bind_shared, ListenOptions};
///
/// let listeners = bind_shared("127.0.0.1", 0, 2, ListenOptions::default())?;
/// assert_eq!(listeners.len(), 2);
/// assert_eq!(listeners[0].local_addr()?, listeners[1].local_addr()?);
/// # std::io::Result::Ok(())
/// ```
pub fn bind_shared(
    host: &str,
    port: u16,
    count: usize,
    options: ListenOptions,
) -> io::Result<Vec<TcpListener>> {
    let options = ListenOptions {
        reuse_port: options.reuse_port || count > 1,
        ..options
    };
    let first = bind(host, port, options)?;
    let address = first.local_addr()?;
    let mut listeners = Vec::with_capacity(count.max(1));
    listeners.push(first);
    for _ in 1..count {
        listeners.push(sys::listen(address, options.backlog, options.reuse_port)?);
    }
    Ok(listeners)
}

axon::boxes! {
    /// The boxes of a [`TcpServer`].
    pub struct TcpServerBoxes {
        /// From the Selector: connections are waiting to be accepted.
        inbox newconnection: Ready,
        /// Any `ShutdownMicroprocess` (such as [`server_shutdown`](crate::ipc::server_shutdown)):
        /// stop accepting; end once every adapter has closed.
        inbox control: Ipc,
        /// `SocketShutdown` from the adapters this server made
        /// (Kamaelia's `_feedbackFromCSA`).
        inbox feedback_from_csa: SocketShutdown,
        /// A new connection's adapter (not activated), or an adapter that has
        /// closed (Kamaelia's `protocolHandlerSignal`).
        outbox protocol_handler_signal: SocketActivity,
        /// `ProducerFinished` once the server has stopped.
        outbox signal: Ipc,
    }
}

/// Accepts TCP connections: Kamaelia's `TCPServer`.
///
/// For each connection it makes a [`ConnectedSocketAdapter`] (not activated:
/// whoever receives it wires it up first) and sends
/// [`SocketActivity::NewCsa`] out of `protocol_handler_signal`; when an adapter
/// reports that its socket closed, it sends [`SocketActivity::ShutdownCsa`].
/// It accepts every waiting connection (up to 64 per turn, so that a flood
/// cannot starve the other components) each time the Selector says the
/// listener is ready. A socket that cannot be bound is an error from
/// [`TcpServer::bind`], not a silent exit.
///
/// # Inboxes
///
/// * `newconnection` ([`Ready`]): from the Selector.
/// * `control` ([`Ipc`]): `ShutdownMicroprocess` stops accepting.
/// * `feedback_from_csa` ([`SocketShutdown`]): from its adapters, which put
///   it here themselves (nothing is linked: see
///   [`ConnectedSocketAdapter`]).
///
/// # Outboxes
///
/// * `protocol_handler_signal` ([`SocketActivity`]): new and closed connections.
/// * `signal` ([`Ipc`]): `ProducerFinished` when it has stopped.
///
/// Its requests to the Selector go straight into the Selector's `notify`
/// inbox, with no outbox linked to it (Kamaelia's `_selectorSignal`).
///
/// Its children are the adapters still open, and only they: it counts them
/// for the connection limit, and ends, once told to stop, when it has none.
/// Stopped from outside ([`ComponentRef::stop`]), it lets go of its
/// listening socket at once: the port refuses connections from then on.
pub struct TcpServer {
    listener: Rc<TcpListener>,
    options: ConnectionOptions,
    limit: ConnectionLimit,
    inline: Option<InlineFactory>,
}

impl TcpServer {
    /// Binds to `host:port` (port 0: any free port).
    ///
    /// # Errors
    ///
    /// If the address does not resolve or cannot be bound (in use, no
    /// permission, …).
    pub fn bind(host: &str, port: u16, listen: ListenOptions) -> io::Result<Self> {
        Ok(TcpServer::from_listener(bind(host, port, listen)?))
    }

    /// Serves an already bound, non-blocking listener.
    pub fn from_listener(listener: TcpListener) -> Self {
        TcpServer {
            listener: Rc::new(listener),
            options: ConnectionOptions::default(),
            limit: ConnectionLimit::default(),
            inline: None,
        }
    }

    /// Sets how accepted connections are set up.
    pub fn connection_options(mut self, options: ConnectionOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the most connections open at once (default: no limit), and what
    /// a client past it is sent before its connection closes. A refused
    /// connection gets no adapter, so whoever the server announces
    /// connections to never hears of it; it is logged (`info`, with the
    /// client's address).
    pub fn connection_limit(mut self, limit: ConnectionLimit) -> Self {
        self.limit = limit;
        self
    }

    /// Gives each adapter the inline protocol `factory` makes for its
    /// connection (see [`ConnectedSocketAdapter::inline`]): how a
    /// [`ServerCore::inline`](crate::ServerCore::inline) serves.
    pub(crate) fn inline_factory(mut self, factory: InlineFactory) -> Self {
        self.inline = Some(factory);
        self
    }

    /// The address the server listens on.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpServer")
            .field("address", &self.listener.local_addr().ok())
            .finish()
    }
}

impl Component for TcpServer {
    type Boxes = TcpServerBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let TcpServer {
            listener,
            options,
            limit,
            inline,
        } = self;
        let selector = match SelectorNotify::for_scheduler(&cx.scheduler()) {
            Ok(selector) => selector,
            Err(e) => {
                tracing::error!(target: "kamaelia::tcp_server", error = %e, "no selector; not accepting");
                cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
                return;
            }
        };
        let adapters = Adapters {
            options,
            inline,
            listening: listener.local_addr().ok(),
        };
        // The listener and the Selector's watch of it, dropped together once
        // accepting stops (or with this body, if it is stopped from
        // outside): the Selector lets go of the socket, which closes, and the
        // kernel stops completing connections nobody will take.
        let watching = Watching::reading(
            selector,
            Selectable::new(listener.clone()),
            cx.newconnection.clone(),
        );
        let mut accepting = Some((listener, watching));
        let mut retry_at: Option<Instant> = None;
        // True when the last turn accepted a full batch: more may be waiting,
        // so the next turn accepts again without waiting for the Selector.
        let mut more = false;
        loop {
            // Closed connections first, so that their room is free for the
            // connections accepted next.
            for closed in cx.feedback_from_csa.drain() {
                // The adapters still open are this server's children: Axon's
                // table of them is the only one kept.
                if let Some(csa) = cx.child(&closed.csa) {
                    cx.remove_child(&csa);
                }
                cx.protocol_handler_signal
                    .send(SocketActivity::ShutdownCsa {
                        csa: closed.csa,
                        how_died: closed.how_died,
                    })
                    .await;
            }
            let retry_due = retry_at.is_some_and(|t| Instant::now() >= t);
            // While waiting to retry, the Selector's notice is left untaken,
            // which mutes the listener instead of waking this server at every
            // poll for connections it cannot accept yet.
            let notified =
                (retry_at.is_none() || retry_due) && cx.newconnection.drain().count() > 0;
            if let Some((l, _)) = &accepting {
                if notified || retry_due || (more && retry_at.is_none()) {
                    retry_at = None;
                    more = false;
                    match accept_all(&cx, l, &limit, &adapters).await {
                        Ok(full) => more = full,
                        Err(e) => {
                            tracing::warn!(target: "kamaelia::tcp_server", error = %e, "cannot accept now; retrying soon");
                            let at = Instant::now() + ACCEPT_RETRY;
                            retry_at = Some(at);
                            cx.wake_at(at);
                        }
                    }
                }
            }
            if cx.control.drain().any(|m| m.is_shutdown_microprocess())
                && accepting.take().is_some()
            {
                tracing::debug!(target: "kamaelia::tcp_server", server = %cx.id(), "stopped accepting");
            }
            if accepting.is_none() && cx.child_count() == 0 {
                break;
            }
            if more && accepting.is_some() {
                cx.yield_now().await;
            } else {
                cx.idle().await;
            }
        }
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

/// How a TcpServer makes the adapter for each connection it accepts.
struct Adapters {
    options: ConnectionOptions,
    /// Makes the protocol each adapter runs inside itself, if any.
    inline: Option<InlineFactory>,
    /// Where the listener listens.
    listening: Option<SocketAddr>,
}

impl Adapters {
    /// Makes the (not yet activated) adapter for an accepted connection,
    /// telling its close to `report_to`, and says who is connected to what.
    fn make(
        &self,
        report_to: &Inbox<SocketShutdown>,
        socket: TcpStream,
        peer: SocketAddr,
    ) -> io::Result<(ComponentRef, ConnectionInfo)> {
        // A listener bound to one address accepts connections to that
        // address only: asking each socket (`getsockname`) is needed only for
        // a listener bound to all of them.
        let local = match self.listening {
            Some(address) if !address.ip().is_unspecified() => address,
            _ => socket.local_addr()?,
        };
        let info = ConnectionInfo {
            id: ConnectionInfo::next_id(),
            peer: peer.ip(),
            peer_port: peer.port(),
            local_ip: local.ip(),
            local_port: local.port(),
        };
        let inline = self.inline.as_ref().map(|make| make(&info));
        let socket = Rc::new(socket);
        let csa =
            ConnectedSocketAdapter::prepare(socket, &self.options, inline, report_to.clone())?;
        Ok((csa, info))
    }
}

/// Accepts the waiting connections, at most [`ACCEPT_BATCH`]; true if it
/// accepted that many (more may be waiting: the server accepts again next
/// cycle, rather than after the Selector's next poll, which under load comes
/// only every few cycles, while the kernel's backlog fills and drops
/// handshakes). Errors that concern one connection are skipped; one that
/// stops all accepting (no file descriptors left) is returned.
async fn accept_all(
    cx: &Cx<TcpServerBoxes>,
    listener: &TcpListener,
    limit: &ConnectionLimit,
    adapters: &Adapters,
) -> io::Result<bool> {
    for _ in 0..ACCEPT_BATCH {
        match sys::accept(listener) {
            Ok((socket, peer)) if !limit.has_room(cx.child_count()) => {
                limit.refuse(socket, peer, cx.child_count());
            }
            Ok((socket, peer)) => match adapters.make(&cx.feedback_from_csa, socket, peer) {
                Ok((csa, info)) => {
                    cx.add_children([&csa]);
                    cx.protocol_handler_signal
                        .send(SocketActivity::NewCsa { csa, info })
                        .await;
                }
                Err(e) => {
                    tracing::warn!(target: "kamaelia::tcp_server", %peer, error = %e, "dropped a connection that could not be set up");
                }
            },
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(false),
                io::ErrorKind::Interrupted
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset => {}
                _ => return Err(e),
            },
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use axon::Scheduler;

    use super::*;
    use crate::internet::selector::tests::{idle, run_until};

    /// A TcpServer on a free port of 127.0.0.1, not yet activated, and where
    /// it listens.
    fn server() -> (ComponentRef, SocketAddr) {
        let server = TcpServer::bind("127.0.0.1", 0, ListenOptions::default()).expect("bind");
        let address = server.local_addr().expect("bound");
        (ComponentRef::new(server), address)
    }

    /// A TcpServer stopped from outside (its body dropped mid-life, as a
    /// supervisor or `ComponentRef::stop` does) lets go of its listening
    /// socket: the Selector does not keep the port open, and it refuses
    /// connections.
    #[test]
    fn a_stopped_tcp_server_closes_its_listening_socket() {
        let scheduler = Scheduler::new();
        let (server, address) = server();
        server.activate_on(&scheduler);
        run_until(&scheduler, "the server asleep", || server.is_paused());
        for _ in 0..10 {
            scheduler.run_cycle();
        }
        assert!(TcpStream::connect(address).is_ok(), "listening");
        server.stop();
        run_until(&scheduler, "the port closed", || {
            TcpStream::connect(address).is_err()
        });
    }

    /// An adapter stopped from outside still tells its TcpServer of its
    /// close (from the drop of its body, as closed by an error), which tells
    /// of it as of any close, so that its handler hears of it and its place
    /// under the connection limit is free.
    #[test]
    fn a_stopped_adapter_is_told_of_as_closed() {
        let scheduler = Scheduler::new();
        let (server, address) = server();
        let sink = idle::<SocketActivity, ()>(&scheduler);
        server
            .link((&server, "protocol_handler_signal"), (&sink, "inbox"))
            .expect("link");
        server.activate_on(&scheduler);
        let activity = sink.inbox::<SocketActivity>("inbox").expect("inbox");
        let _client = TcpStream::connect(address).expect("connect");
        let mut made = None;
        run_until(&scheduler, "a new connection", || {
            if let Some(SocketActivity::NewCsa { csa, .. }) = activity.recv() {
                made = Some(csa);
            }
            made.is_some()
        });
        let csa = made.expect("an adapter");
        csa.activate_on(&scheduler);
        run_until(&scheduler, "the adapter asleep", || csa.is_paused());
        assert_eq!(server.child_count(), 1);

        csa.stop();
        run_until(&scheduler, "the close told", || {
            matches!(
                activity.recv(),
                Some(SocketActivity::ShutdownCsa { csa: id, how_died: Some(_) }) if id == csa.id()
            )
        });
        assert_eq!(server.child_count(), 0, "its place is free");
    }
}
