//! [`ServerCore`] and [`SimpleServer`]: a protocol handler per connection
//! (Kamaelia's `Kamaelia.Chassis.ConnectedServer`).

mod connections;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Component, ComponentRef, Cx, Scheduler};
use bytes::Bytes;

use crate::internet::messages::connection_span;
use crate::internet::{
    inline_factory, ConnectionOptions, InlineFactory, InlineProtocol, ListenOptions, Listening,
};
use crate::ipc::{server_shutdown, ConnectionInfo, SocketActivity, SocketShutdown};

use self::connections::{Connection, Connections, Handler};

/// The port a [`ServerCore`] listens on unless told otherwise (Kamaelia's 1601).
pub const DEFAULT_PORT: u16 = 1601;

/// The default size limit of each protocol handler's `inbox`, in chunks: while
/// it is full the connection's adapter stops reading.
pub const DEFAULT_HANDLER_INBOX_SIZE: usize = 64;

/// How long a controlled shutdown waits for connections to flush and close
/// before closing them anyway.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

type Protocol = Rc<dyn Fn(&ConnectionInfo) -> ComponentRef>;

/// What a [`ServerCore`] runs for each connection.
enum Handlers {
    /// A handler component, made by the factory and wired to the adapter.
    Components(Protocol),
    /// A protocol run inside the adapter, which the TcpServer gives it.
    Inline(InlineFactory),
}

axon::boxes! {
    /// The boxes of a [`ServerCore`].
    pub struct ServerCoreBoxes {
        /// From the TCPServer: new and closed connections (Kamaelia's
        /// `_socketactivity`).
        inbox socketactivity: SocketActivity,
        /// Any `ShutdownMicroprocess` (such as [`server_shutdown`]) or
        /// `ProducerFinished`: shut the server down in an orderly way.
        inbox control: Ipc,
        /// Not used (so that a server can sit in chassis like Seq).
        inbox inbox: Ipc,
        /// Shutdown messages to the TCPServer (Kamaelia's `_serversignal`).
        outbox serversignal: Ipc,
        /// Not used.
        outbox outbox: Ipc,
        /// `ProducerFinished` once the server has shut down; `ErrorInformation`
        /// if it could not start.
        outbox signal: Ipc,
    }
}

/// A TCP server that runs a protocol handler component for each connection:
/// Kamaelia's `ServerCore`.
///
/// Give it a factory that makes a protocol handler for a connection from a
/// [`ConnectionInfo`] (the client's address and port, and the address and
/// port it connected to). The handler receives the client's bytes on its
/// `inbox` and sends bytes to the client from its `outbox`: any component with
/// `inbox`/`outbox` carrying [`Bytes`] and `control`/`signal` carrying [`Ipc`]
/// will do (such as one with [`Standard`](axon::Standard)`<Bytes, Bytes>`). Do
/// not activate it: the server wires it up, then activates it.
///
/// For each connection the server links, as Kamaelia does:
/// adapter `outbox` → handler `inbox`; handler `outbox` → adapter `inbox`;
/// handler `signal` → adapter `control` (so a handler closes its connection by
/// sending `ProducerFinished` or `ShutdownMicroprocess`); adapter `signal` →
/// handler `control` (so the handler hears [`PeerClosed`](crate::ipc::PeerClosed)
/// and [`SocketShutdown`]); and, if the handler has a `serversignal` outbox
/// (it must carry [`Ipc`]), handler `serversignal` → server `control`, so a
/// handler can shut the whole server down. Both inboxes get size limits, so memory per
/// connection is bounded.
///
/// A `ShutdownMicroprocess` (or `ProducerFinished`) on `control` shuts the
/// server down in order: it
/// stops accepting, sends `ProducerFinished` to every handler (which finishes,
/// and so makes its adapter send what is queued and close, without waiting
/// for the client to close too: see
/// [`CloseWhenFlushed`](crate::ipc::CloseWhenFlushed)), waits for the
/// connections to close, and ends. Connections still open after the grace
/// period ([`shutdown_grace`](Self::shutdown_grace)) are closed, and their
/// handlers stopped, with every component the handlers made. Stopped from
/// outside instead ([`ComponentRef::stop`], as a supervisor stops a child
/// past its grace), it does what Kamaelia's `ServerCore.stop()` does, without
/// waiting: every adapter is told to close now, every handler to stop, and
/// the TcpServer to stop accepting, so its port closes.
///
/// A handler that panics, or whose component panics (a chassis whose child
/// panicked stops the rest and ends), has its connection closed after its
/// queued output; the other connections are untouched. Each connection's
/// adapter and handler run in a `connection{peer=ADDR}` `tracing` span, so
/// whatever they log (their panics too) names the client. A limit on the
/// connections open at once is set with
/// [`max_connections`](Self::max_connections).
///
/// # Examples
///
/// ```no_run
/// use axon::{Component, Cx, Standard};
/// use bytes::Bytes;
/// use kamaelia::chassis::ServerCore;
///
/// /// Sends back everything it receives, until the client is done.
/// struct EchoProtocol;
///
/// impl Component for EchoProtocol {
///     type Boxes = Standard<Bytes, Bytes>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(data) = cx.recv_until_finished().await {
///             cx.outbox.send(data).await;
///         }
///     }
/// }
///
/// ServerCore::new(|_info: &kamaelia::ipc::ConnectionInfo| EchoProtocol)
///     .port(12345)
///     .run()?;
/// # std::io::Result::Ok(())
/// ```
///
/// # Inboxes
///
/// * `socketactivity` ([`SocketActivity`]): from the TCPServer.
/// * `control` ([`Ipc`]): `ShutdownMicroprocess` or `ProducerFinished` shuts
///   the server down in order.
/// * `inbox` ([`Ipc`]): not used.
///
/// # Outboxes
///
/// * `serversignal` ([`Ipc`]): to the TCPServer.
/// * `outbox` ([`Ipc`]): not used.
/// * `signal` ([`Ipc`]): `ProducerFinished` when it has shut down.
pub struct ServerCore {
    handlers: Handlers,
    listening: Listening,
    handler_inbox_size: usize,
    shutdown_grace: Duration,
    shutdown_on_signals: bool,
}

impl ServerCore {
    /// A server making each connection's protocol handler with `protocol`.
    /// It listens on the loopback interface only
    /// ([`DEFAULT_HOST`](crate::internet::DEFAULT_HOST)), port [`DEFAULT_PORT`], until
    /// told otherwise.
    pub fn new<F, P>(protocol: F) -> Self
    where
        F: Fn(&ConnectionInfo) -> P + 'static,
        P: Into<ComponentRef>,
    {
        ServerCore::with(Handlers::Components(Rc::new(move |info| {
            protocol(info).into()
        })))
    }

    /// A server running `handlers`, with the defaults.
    fn with(handlers: Handlers) -> Self {
        ServerCore {
            handlers,
            listening: Listening::new(DEFAULT_PORT),
            handler_inbox_size: DEFAULT_HANDLER_INBOX_SIZE,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            shutdown_on_signals: false,
        }
    }

    /// A server running, inside each connection's adapter, the
    /// [`InlineProtocol`] that `protocol` makes for it: one component per
    /// connection instead of two, for a handler that only answers what its
    /// client sends (see [`InlineProtocol`] for what it gives up). Everything
    /// else is as with [`new`](Self::new); the handler options
    /// ([`handler_inbox_size`](Self::handler_inbox_size)) have no handler to
    /// apply to, and what a protocol may queue is bounded by the adapter's
    /// `inbox` size limit ([`ConnectionOptions::csa_inbox_size`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kamaelia::{EchoProtocol, ServerCore};
    ///
    /// ServerCore::inline(|_info: &kamaelia::ipc::ConnectionInfo| EchoProtocol)
    ///     .port(12345)
    ///     .run()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn inline<F, P>(protocol: F) -> Self
    where
        F: Fn(&ConnectionInfo) -> P + 'static,
        P: InlineProtocol,
    {
        ServerCore::with(Handlers::Inline(inline_factory(protocol)))
    }

    /// Listens on this host or address (default
    /// [`DEFAULT_HOST`](crate::internet::DEFAULT_HOST), loopback only; `"0.0.0.0"`
    /// for every interface).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.listening.host = host.into();
        self
    }

    /// Listens on this port (default [`DEFAULT_PORT`]; 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.listening.port = port;
        self
    }

    /// Sets how the listening socket is made (backlog, `SO_REUSEPORT`).
    pub fn listen_options(mut self, options: ListenOptions) -> Self {
        self.listening.listen = options;
        self
    }

    /// Sets how each connection is set up (`TCP_NODELAY`, read size, the size
    /// limit of each adapter's `inbox`).
    pub fn connection_options(mut self, options: ConnectionOptions) -> Self {
        self.listening.connection = options;
        self
    }

    /// Serves at most `max` connections at once (default: no limit but the
    /// process's file descriptors). A client past it is sent the
    /// [`refusal`](Self::refusal) line and closed, and the server serves the
    /// others on; once a connection has closed, a new client is served again.
    /// A refused client gets no protocol handler.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kamaelia::{EchoProtocol, SimpleServer};
    ///
    /// SimpleServer::new(|| EchoProtocol)
    ///     .max_connections(1000)
    ///     .refusal(&b"too many clients; try again later\r\n"[..])
    ///     .run()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.listening.limit.max = max;
        self
    }

    /// Sets what a client refused past [`max_connections`](Self::max_connections)
    /// is sent before its connection closes (default
    /// [`DEFAULT_REFUSAL`](crate::internet::DEFAULT_REFUSAL)). It is written
    /// once, without waiting: keep it short.
    pub fn refusal(mut self, line: impl Into<bytes::Bytes>) -> Self {
        let limit = std::mem::take(&mut self.listening.limit);
        self.listening.limit = limit.refusal(line);
        self
    }

    /// Sets the size limit of each protocol handler's `inbox` (default
    /// [`DEFAULT_HANDLER_INBOX_SIZE`]).
    pub fn handler_inbox_size(mut self, messages: usize) -> Self {
        self.handler_inbox_size = messages.max(1);
        self
    }

    /// Sets how long a controlled shutdown waits for connections to close
    /// before closing them (default [`DEFAULT_SHUTDOWN_GRACE`]).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Shuts the server down in order on SIGINT or SIGTERM (a second signal
    /// exits the process at once).
    pub fn shutdown_on_signals(mut self) -> Self {
        self.shutdown_on_signals = true;
        self
    }

    /// Serves on `listener`, already bound and listening, instead of binding
    /// one: one of [`bind_shared`](crate::internet::bind_shared)'s, for a
    /// server that runs a ServerCore on each of several schedulers (one per
    /// core), or a socket handed over by a service manager. The host and port
    /// are then unused.
    ///
    /// # Examples
    ///
    /// A server on two schedulers, each with its own listening socket on the
    /// same port:
    ///
    /// ```no_run
    /// use kamaelia::internet::{bind_shared, ListenOptions};
    /// use kamaelia::{EchoProtocol, SimpleServer};
    ///
    /// let listeners = bind_shared("127.0.0.1", 12345, 2, ListenOptions::default())?;
    /// axon::run_schedulers(listeners, |listener| {
    ///     SimpleServer::new(|| EchoProtocol).listener(listener).activate()?;
    ///     Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listening.set_listener(listener);
        self
    }

    /// Binds the listening socket now, so that an error (address in use, no
    /// permission, …) is returned here.
    ///
    /// # Errors
    ///
    /// If the host does not resolve or the address cannot be bound.
    pub fn bind(mut self) -> io::Result<Self> {
        self.listening.bind()?;
        Ok(self)
    }

    /// The address the server listens on, once bound.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listening.local_addr()
    }

    /// Binds (if not yet bound) and activates the server on the current
    /// scheduler: Kamaelia's `ServerCore(...).activate()`.
    ///
    /// # Errors
    ///
    /// As [`bind`](Self::bind).
    pub fn activate(self) -> io::Result<ComponentRef> {
        let server = ComponentRef::new(self.bind()?);
        server.activate_on(&Scheduler::current());
        Ok(server)
    }

    /// Binds, activates, and runs the current thread's scheduler until the
    /// server (and everything else on the scheduler) has ended: Kamaelia's
    /// `ServerCore(...).run()`.
    ///
    /// # Errors
    ///
    /// As [`bind`](Self::bind), or an I/O error from the scheduler's wait.
    pub fn run(self) -> io::Result<()> {
        self.activate()?;
        Scheduler::current().run()
    }
}

impl fmt::Debug for ServerCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCore")
            .field("listening", &self.listening)
            .finish_non_exhaustive()
    }
}

/// Makes a [`ServerCore`] whose protocol handlers need nothing about their
/// connection: Kamaelia's `SimpleServer`.
///
/// # Examples
///
/// ```no_run
/// use kamaelia::{EchoProtocol, SimpleServer};
///
/// SimpleServer::new(|| EchoProtocol).port(12345).run()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Debug)]
pub struct SimpleServer;

impl SimpleServer {
    /// A server making each connection's handler with `protocol()`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<F, P>(protocol: F) -> ServerCore
    where
        F: Fn() -> P + 'static,
        P: Into<ComponentRef>,
    {
        ServerCore::new(move |_: &ConnectionInfo| protocol())
    }

    /// A server running, inside each connection's adapter, the inline
    /// protocol `protocol()` makes (see [`ServerCore::inline`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kamaelia::{EchoProtocol, SimpleServer};
    ///
    /// SimpleServer::inline(|| EchoProtocol).port(12345).run()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn inline<F, P>(protocol: F) -> ServerCore
    where
        F: Fn() -> P + 'static,
        P: InlineProtocol,
    {
        ServerCore::inline(move |_: &ConnectionInfo| protocol())
    }
}

impl Component for ServerCore {
    type Boxes = ServerCoreBoxes;

    async fn main(mut self, cx: Cx<ServerCoreBoxes>) {
        let inline = match &self.handlers {
            Handlers::Inline(factory) => Some(factory.clone()),
            Handlers::Components(_) => None,
        };
        let started = self.listening.start_tcp_server(
            &cx,
            &cx.socketactivity,
            &cx.serversignal,
            &cx.signal,
            inline,
        );
        let Some(server) = started.await else {
            return;
        };
        let _stops_accepting = StopsAccepting(server.clone());
        if self.shutdown_on_signals {
            if let Some(control) = cx.control.remote_sender() {
                crate::signals::on_termination(move || control.send(server_shutdown()));
            }
        }

        let mut connections = Connections::new();
        loop {
            for activity in cx.socketactivity.drain() {
                match activity {
                    SocketActivity::NewCsa { csa, info } => match self.connect(&cx, &csa, &info) {
                        Ok(connection) => connections.on_new_csa(&cx, connection),
                        Err(e) => {
                            let _in_span = connection_span(info.peer_addr()).entered();
                            tracing::error!(target: "kamaelia::server_core", %info, error = %e, "cannot set up a connection");
                            // Started told to close, the adapter shuts its
                            // socket and reports back, so the TcpServer does
                            // not wait for it for ever.
                            if let Ok(control) = csa.inbox::<Ipc>("control") {
                                let _ = control.deliver(ShutdownMicroprocess::new().into());
                            }
                            csa.activate_on(&cx.scheduler());
                        }
                    },
                    SocketActivity::ShutdownCsa { csa, how_died } => {
                        let shutdown = SocketShutdown { csa, how_died };
                        connections.on_closed(&cx, shutdown);
                    }
                }
            }
            for child in cx.finished_children() {
                connections.on_handler_done(&cx, child.id());
            }
            // `ProducerFinished` too: a server downstream of something that has
            // finished (a client pipeline's `signal`, say) shuts down with it.
            if connections.is_serving() && cx.control.drain().any(|m| m.is_end_of_stream()) {
                tracing::info!(target: "kamaelia::server_core", server = %cx.id(), open = connections.len(), "shutting down");
                cx.serversignal.send(server_shutdown()).await;
                connections.begin_shutdown(&cx, self.shutdown_grace);
            }
            connections.force(Instant::now());
            if connections.is_done() && server.is_finished() {
                break;
            }
            cx.idle().await;
        }
        cx.remove_child(&server);
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

/// A ServerCore's TcpServer, told to stop accepting if the ServerCore's body
/// is dropped before its end (the ServerCore stopped from outside, as
/// Kamaelia's `ServerCore.stop()` sends `serverShutdown`): its linkage from
/// the ServerCore went with the ServerCore, and the port would stay open,
/// filling its backlog with connections nobody serves. At the body's own end
/// the TcpServer has finished, and is told nothing.
struct StopsAccepting(ComponentRef);

impl Drop for StopsAccepting {
    fn drop(&mut self) {
        if self.0.is_finished() {
            return;
        }
        if let Ok(control) = self.0.inbox::<Ipc>("control") {
            let _ = control.deliver(server_shutdown());
        }
    }
}

impl ServerCore {
    /// Makes and wires the protocol handler for a new connection, and
    /// activates the adapter, then the handler. An adapter that runs an
    /// inline protocol needs no wiring: it is only activated.
    fn connect(
        &self,
        cx: &Cx<ServerCoreBoxes>,
        csa: &ComponentRef,
        info: &ConnectionInfo,
    ) -> Result<Connection, Box<dyn std::error::Error>> {
        let to_csa = csa.inbox::<Ipc>("control")?;
        let Handlers::Components(protocol) = &self.handlers else {
            // The adapter alone: it is the TcpServer's child, and is not
            // made this server's too, as a handler's adapter is (Kamaelia's
            // `addChildren(CSA, pHandler)`): a second parent would cost it
            // a record of its parents, and it has no handler to go with.
            let _in_span = connection_span(info.peer_addr()).entered();
            csa.activate_on(&cx.scheduler());
            tracing::debug!(target: "kamaelia::server_core", %info, "connection");
            return Ok(Connection {
                csa: csa.clone(),
                to_csa,
                handler: None,
            });
        };
        let handler = protocol(info);
        // The server tells the two of a connection to close by putting the
        // message straight into their `control` inboxes. Kamaelia adds an
        // outbox per connection to the server for each, and links it; here
        // that would be two boxes, two linkages and a name each per
        // connection, over a kilobyte, for a message or two in its life.
        let to_handler = handler.inbox::<Ipc>("control")?;
        let wiring = (|| {
            cx.link((csa, "outbox"), (&handler, "inbox"))?;
            cx.link((&handler, "outbox"), (csa, "inbox"))?;
            cx.link((&handler, "signal"), (csa, "control"))?;
            cx.link((csa, "signal"), (&handler, "control"))?;
            // The one optional box, linked as Kamaelia does when
            // `"serversignal" in PH.Outboxes`: a handler that has it can shut
            // the server down. One that carries anything but `Ipc` is refused
            // here (the error names both types), not silently left unlinked.
            if handler.has_outbox("serversignal") {
                cx.link((&handler, "serversignal"), &cx.control)?;
            }
            Ok::<(), axon::LinkError>(())
        })();
        if let Err(e) = wiring {
            cx.unlink_component(csa);
            cx.unlink_component(&handler);
            return Err(e.into());
        }
        if let Ok(inbox) = handler.inbox::<Bytes>("inbox") {
            inbox.set_size(Some(self.handler_inbox_size));
        }
        cx.add_children([csa, &handler]);
        let scheduler = cx.scheduler();
        // Their spans are made inside the connection's: whatever the adapter
        // and the handler (and what the handler makes) log names the client.
        let _in_span = connection_span(info.peer_addr()).entered();
        csa.activate_on(&scheduler);
        handler.activate_on(&scheduler);
        tracing::debug!(target: "kamaelia::server_core", %info, handler = %handler.id(), "connection");
        Ok(Connection {
            csa: csa.clone(),
            to_csa,
            handler: Some(Box::new(Handler {
                component: handler,
                control: to_handler,
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;
    use crate::internet::selector::tests::run_until;
    use crate::protocol::EchoProtocol;

    /// A ServerCore stopped from outside (as a supervisor stops a child past
    /// its grace) closes what it had open, as Kamaelia's `stop()` does: its
    /// clients see their connections end, and its port refuses connections.
    /// Its body, dropped where it was suspended, never reaches its own end.
    #[test]
    fn a_stopped_server_closes_its_connections_and_its_port() {
        for inline in [false, true] {
            let scheduler = Scheduler::new();
            let server = if inline {
                ServerCore::inline(|_: &ConnectionInfo| EchoProtocol)
            } else {
                ServerCore::new(|_: &ConnectionInfo| EchoProtocol)
            };
            let server = server.host("127.0.0.1").port(0).bind().expect("bind");
            let address = server.local_addr().expect("bound");
            let server = ComponentRef::new(server);
            server.activate_on(&scheduler);
            let mut client = TcpStream::connect(address).expect("connect");
            client.set_nonblocking(true).expect("non-blocking");
            client.write_all(b"ping").expect("write");
            let mut echoed = Vec::new();
            let mut buf = [0; 16];
            run_until(&scheduler, "the echo", || {
                if let Ok(n) = client.read(&mut buf) {
                    echoed.extend_from_slice(&buf[..n]);
                }
                echoed == b"ping"
            });

            server.stop();
            run_until(&scheduler, "the client sees the end", || {
                matches!(client.read(&mut buf), Ok(0))
            });
            run_until(&scheduler, "the port closed", || {
                TcpStream::connect(address).is_err()
            });
        }
    }
}
