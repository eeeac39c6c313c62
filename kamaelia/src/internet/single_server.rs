//! [`SingleServer`]: a TCP server for one client at a time, whose bytes are
//! the component's own `inbox` and `outbox` (Kamaelia's
//! `Kamaelia.Internet.SingleServer`).

use std::fmt;
use std::io;
use std::net::SocketAddr;

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Component, ComponentRef, Cx};
use bytes::Bytes;

use super::listening::Listening;
use super::messages::{server_shutdown, SocketActivity, SocketShutdown};
use super::options::{ConnectionOptions, ListenOptions, DEFAULT_CSA_INBOX_SIZE};

/// The port a [`SingleServer`] listens on unless told otherwise (Kamaelia's
/// 1601).
pub const DEFAULT_SINGLE_SERVER_PORT: u16 = 1601;

axon::boxes! {
    /// The boxes of a [`SingleServer`].
    pub struct SingleServerBoxes {
        /// Bytes for the client: held (up to the inbox's size limit) until
        /// one connects.
        inbox inbox: Bytes,
        /// `ProducerFinished`: no more data; the client is sent what is
        /// queued, then closed, and the server ends. `ShutdownMicroprocess`:
        /// close and end now.
        inbox control: Ipc,
        /// From the TcpServer: new and closed connections (Kamaelia's
        /// `_oobinfo`).
        inbox socketactivity: SocketActivity,
        /// Bytes the client sent.
        outbox outbox: Bytes,
        /// `ProducerFinished` carrying a [`SocketShutdown`] each time the
        /// client disconnects; `ShutdownMicroprocess` if told to stop;
        /// `ErrorInformation` if it could not listen.
        outbox signal: Ipc,
        /// Shutdown messages to the TcpServer.
        outbox serversignal: Ipc,
        /// Finish or close messages to the client's adapter (Kamaelia's
        /// `_CSA_signal`).
        outbox csa_signal: Ipc,
    }
}

/// Listens on a port and serves one client at a time, as the component's
/// own boxes: what arrives on `inbox` is sent to the client, and what the
/// client sends comes out of `outbox`. Kamaelia's `SingleServer`.
///
/// It is a [`TcpServer`](super::TcpServer) whose first connection's
/// [`ConnectedSocketAdapter`](super::ConnectedSocketAdapter) is linked
/// straight to the server's boxes (passthroughs: a message makes one hop). A
/// connection that arrives while a client is connected is closed at once.
/// When the client disconnects, `ProducerFinished` (carrying the
/// [`SocketShutdown`]) goes out of `signal`, and the next client to connect
/// is served.
///
/// Bytes sent before any client has connected wait in `inbox`, which is
/// bounded ([`inbox_size`](Self::inbox_size)): a sender waits while it is
/// full, and the first client receives them all.
///
/// `ProducerFinished` on `control` means "no more data": the client (or, if
/// none has connected yet, the first one to connect) is sent everything
/// queued and then closed, and the server stops listening and ends.
/// `ShutdownMicroprocess` closes the client at once and ends, passing the
/// message on out of `signal`.
///
/// **Where it differs from Kamaelia's**: the original reads nothing on
/// `control`, and drops what was sent before the client connected.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): data for the client.
/// * `control` ([`Ipc`]): `ProducerFinished` (finish, then end) or
///   `ShutdownMicroprocess` (end now).
/// * `socketactivity` ([`SocketActivity`]): internal, from the TcpServer.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): data from the client.
/// * `signal` ([`Ipc`]): `ProducerFinished` when a client disconnects, or
///   the `ShutdownMicroprocess` that stopped it.
/// * `serversignal`, `csa_signal` ([`Ipc`]): internal.
///
/// # Examples
///
/// Greets the first client, then closes, while a [`TcpClient`](super::TcpClient)
/// in the same system connects and collects what it is sent:
///
/// ```
/// use axon::{Background, ComponentRef, Handle};
/// use bytes::Bytes;
/// use kamaelia::{SingleServer, TcpClient};
///
/// let background = Background::start()?;
/// let (server, client) = background.run_on(|| {
///     let server = SingleServer::new().host("127.0.0.1").port(0).bind()?;
///     let port = server.local_addr().map_or(0, |a| a.port());
///     let server = Handle::<Bytes, Bytes>::new(&ComponentRef::new(server));
///     let client = Handle::<Bytes, Bytes>::new(&ComponentRef::new(TcpClient::new("127.0.0.1", port)));
///     std::io::Result::Ok((server, client))
/// })?;
/// let (server, client) = (server?, client?);
/// server.put(Bytes::from_static(b"hello, first client\n"));
/// server.finish(); // no more: send it, close, end
/// let got: Vec<Bytes> = std::iter::from_fn(|| client.get()).collect();
/// assert_eq!(got.concat(), b"hello, first client\n");
/// background.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SingleServer {
    listening: Listening,
    inbox_size: usize,
}

impl Default for SingleServer {
    fn default() -> Self {
        SingleServer::new()
    }
}

impl SingleServer {
    /// A server on the loopback interface ([`DEFAULT_HOST`](crate::internet::DEFAULT_HOST)), port
    /// [`DEFAULT_SINGLE_SERVER_PORT`], until told otherwise.
    pub fn new() -> Self {
        SingleServer {
            listening: Listening::new(DEFAULT_SINGLE_SERVER_PORT),
            inbox_size: DEFAULT_CSA_INBOX_SIZE,
        }
    }

    /// Listens on this host or address (default
    /// [`DEFAULT_HOST`](crate::internet::DEFAULT_HOST), loopback only; `"0.0.0.0"`
    /// for every interface).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.listening.host = host.into();
        self
    }

    /// Listens on this port (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.listening.port = port;
        self
    }

    /// Sets how the listening socket is made.
    pub fn listen_options(mut self, options: ListenOptions) -> Self {
        self.listening.listen = options;
        self
    }

    /// Sets how each connection is set up.
    pub fn connection_options(mut self, options: ConnectionOptions) -> Self {
        self.listening.connection = options;
        self
    }

    /// How many chunks may wait in `inbox` for a client to connect (at least
    /// 1; default [`DEFAULT_CSA_INBOX_SIZE`]).
    pub fn inbox_size(mut self, chunks: usize) -> Self {
        self.inbox_size = chunks.max(1);
        self
    }

    /// Binds the listening socket now, so that an error is returned here.
    ///
    /// # Errors
    ///
    /// If the host does not resolve or the address cannot be bound.
    pub fn bind(mut self) -> io::Result<Self> {
        self.listening.bind()?;
        Ok(self)
    }

    /// The address it listens on, once bound.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listening.local_addr()
    }
}

impl fmt::Debug for SingleServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleServer")
            .field("listening", &self.listening)
            .finish_non_exhaustive()
    }
}

/// Where the server is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Serving clients one after another.
    Serving,
    /// Told that no more data comes: the current (or next) client gets what
    /// is queued, is closed, and then the server ends.
    Finishing,
    /// Stopping: the listener is closed; waiting for the TcpServer to end.
    Stopping,
}

impl Component for SingleServer {
    type Boxes = SingleServerBoxes;

    async fn main(mut self, cx: Cx<SingleServerBoxes>) {
        cx.inbox.set_size(Some(self.inbox_size));
        let started = self.listening.start_tcp_server(
            &cx,
            &cx.socketactivity,
            &cx.serversignal,
            &cx.signal,
            None,
        );
        let Some(server) = started.await else {
            return;
        };

        let mut client: Option<ComponentRef> = None;
        let mut phase = Phase::Serving;
        let mut stopped_by: Option<Ipc> = None;
        loop {
            for activity in cx.socketactivity.drain() {
                match activity {
                    SocketActivity::NewCsa { csa, info } => {
                        if client.is_some() || phase == Phase::Stopping {
                            tracing::info!(target: "kamaelia::single_server", %info, "busy: closing a second connection");
                            if let Ok(control) = csa.inbox::<Ipc>("control") {
                                let _ = control.deliver(ShutdownMicroprocess::new().into());
                            }
                            csa.activate_on(&cx.scheduler());
                            continue;
                        }
                        if let Err(e) = attach(&cx, &csa) {
                            tracing::error!(target: "kamaelia::single_server", %info, error = %e, "cannot wire a connection");
                            cx.unlink_component(&csa);
                            if let Ok(control) = csa.inbox::<Ipc>("control") {
                                let _ = control.deliver(ShutdownMicroprocess::new().into());
                            }
                            csa.activate_on(&cx.scheduler());
                            continue;
                        }
                        tracing::debug!(target: "kamaelia::single_server", %info, "serving");
                        csa.activate_on(&cx.scheduler());
                        if phase == Phase::Finishing {
                            cx.csa_signal
                                .send(ProducerFinished::from(cx.id()).into())
                                .await;
                        }
                        client = Some(csa);
                    }
                    SocketActivity::ShutdownCsa { csa, how_died } => {
                        // A rejected connection's close concerns nobody.
                        if client.as_ref().map(ComponentRef::id) != Some(csa) {
                            continue;
                        }
                        if let Some(gone) = client.take() {
                            cx.unlink_component(&gone);
                        }
                        if stopped_by.is_none() {
                            let shutdown = SocketShutdown { csa, how_died };
                            cx.signal.send(shutdown.to_ipc(cx.id())).await;
                        }
                        if phase == Phase::Finishing {
                            phase = Phase::Stopping;
                            cx.serversignal.send(server_shutdown()).await;
                        }
                    }
                }
            }
            if phase != Phase::Stopping {
                for message in cx.control.drain() {
                    if message.is_shutdown_microprocess() {
                        if client.is_some() {
                            cx.csa_signal.send(ShutdownMicroprocess::new().into()).await;
                        }
                        cx.serversignal.send(server_shutdown()).await;
                        phase = Phase::Stopping;
                        stopped_by = Some(message);
                        break;
                    }
                    if message.is_producer_finished() && phase == Phase::Serving {
                        phase = Phase::Finishing;
                        if client.is_some() {
                            cx.csa_signal
                                .send(ProducerFinished::from(cx.id()).into())
                                .await;
                        }
                    }
                }
            }
            if phase == Phase::Stopping && server.is_finished() {
                break;
            }
            cx.idle().await;
        }
        cx.remove_child(&server);
        if let Some(message) = stopped_by {
            cx.signal.send(message).await;
        }
    }
}

/// Links a client's adapter to the server's own boxes: its `outbox` out of
/// the server's, the server's `inbox` into its own (so what waited for a
/// client moves there), and `csa_signal` to its `control`.
fn attach(cx: &Cx<SingleServerBoxes>, csa: &ComponentRef) -> Result<(), axon::LinkError> {
    cx.link((csa, "outbox"), &cx.outbox)?;
    cx.link(&cx.inbox, (csa, "inbox"))?;
    cx.link(&cx.csa_signal, (csa, "control"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use axon::{Background, Handle, Scheduler};

    use super::*;

    /// Turns a hang into a failure; never used to let something happen.
    const GUARD: Duration = Duration::from_secs(10);

    /// A SingleServer on 127.0.0.1, any port, on a background scheduler.
    fn start(
        make: impl FnOnce(SingleServer) -> SingleServer + Send + 'static,
    ) -> (Background, Handle<Bytes, Bytes>, SocketAddr) {
        let background = Background::start().expect("a background scheduler");
        let (handle, addr) = background.run_on(move || {
            let server = make(SingleServer::new().host("127.0.0.1").port(0))
                .bind()
                .expect("bind 127.0.0.1:0");
            let addr = server.local_addr().expect("bound");
            let handle = Handle::new(&ComponentRef::new(server)).expect("its boxes");
            (handle, addr)
        });
        (background, handle, addr)
    }

    fn connect(addr: SocketAddr) -> TcpStream {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(GUARD)).expect("read timeout");
        stream
    }

    fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read to the end");
        got
    }

    /// Reads until `n` bytes have come.
    fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut got = vec![0; n];
        stream.read_exact(&mut got).expect("read");
        got
    }

    fn signal(handle: &Handle<Bytes, Bytes>) -> Ipc {
        handle.get_signal_timeout(GUARD).expect("a signal")
    }

    #[test]
    fn what_was_sent_before_a_client_connected_reaches_the_first_client() {
        let (background, server, addr) = start(|s| s);
        server.put(Bytes::from_static(b"one "));
        server.put(Bytes::from_static(b"two "));
        server.finish();
        let mut client = connect(addr);
        assert_eq!(read_to_end(&mut client), b"one two ");
        drop(client);
        let ended = signal(&server);
        assert!(
            ended.finished_with::<SocketShutdown>().is_some(),
            "{ended:?}"
        );
        assert_eq!(server.get(), None, "the server has ended");
        background.join_timeout(GUARD).expect("everything ended");
    }

    #[test]
    fn the_client_talks_through_the_servers_own_boxes() {
        let (background, server, addr) = start(|s| s);
        let mut client = connect(addr);
        client.write_all(b"ping").expect("write");
        let mut got = Vec::new();
        while got.len() < 4 {
            got.extend_from_slice(&server.get_timeout(GUARD).expect("bytes from the client"));
        }
        assert_eq!(got, b"ping");
        server.put(Bytes::from_static(b"pong"));
        assert_eq!(read_n(&mut client, 4), b"pong");
        server.put_control(ShutdownMicroprocess::new().into());
        assert!(signal(&server).is_shutdown_microprocess());
        assert_eq!(read_to_end(&mut client), b"", "closed");
        background.join_timeout(GUARD).expect("everything ended");
    }

    #[test]
    fn a_second_client_is_turned_away_while_the_first_is_served() {
        let (background, server, addr) = start(|s| s);
        let mut first = connect(addr);
        // Proves the first is the served one before the second connects.
        server.put(Bytes::from_static(b"hi"));
        assert_eq!(read_n(&mut first, 2), b"hi");
        let mut second = connect(addr);
        assert_eq!(
            read_to_end(&mut second),
            b"",
            "the second is closed at once"
        );
        server.put(Bytes::from_static(b"still yours"));
        server.finish();
        assert_eq!(read_to_end(&mut first), b"still yours");
        drop(first);
        assert!(signal(&server).is_producer_finished());
        background.join_timeout(GUARD).expect("everything ended");
    }

    #[test]
    fn after_a_client_leaves_the_next_one_is_served() {
        let (background, server, addr) = start(|s| s);
        let first = connect(addr);
        first.shutdown(std::net::Shutdown::Both).expect("close");
        drop(first);
        assert!(signal(&server).is_producer_finished(), "the first left");
        let mut second = connect(addr);
        server.put(Bytes::from_static(b"next"));
        server.finish();
        assert_eq!(read_to_end(&mut second), b"next");
        drop(second);
        assert!(signal(&server).is_producer_finished());
        background.join_timeout(GUARD).expect("everything ended");
    }

    #[test]
    fn waiting_data_is_bounded_by_the_inbox_size() {
        let scheduler = Scheduler::new();
        let server = SingleServer::new()
            .host("127.0.0.1")
            .port(0)
            .inbox_size(2)
            .bind()
            .expect("bind");
        let server = ComponentRef::new(server);
        server.activate_on(&scheduler);
        // Its body has run once it has started its TcpServer.
        while server.child_components().is_empty() {
            assert!(scheduler.run_cycle(), "the server ended");
        }
        let inbox = server.inbox::<Bytes>("inbox").expect("inbox");
        assert!(inbox.deliver(Bytes::from_static(b"1")).is_ok());
        assert!(inbox.deliver(Bytes::from_static(b"2")).is_ok());
        assert!(inbox.deliver(Bytes::from_static(b"3")).is_err(), "full");
        server.stop();
    }

    #[test]
    fn a_port_in_use_is_an_error_from_bind() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("address").port();
        let error = SingleServer::new().host("127.0.0.1").port(port).bind();
        assert!(error.is_err());
    }
}
