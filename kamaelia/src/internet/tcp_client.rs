//! [`TcpClient`]: a TCP connection to a server, as a component.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, Payload, ProducerFinished};
use axon::{Component, ComponentRef, Cx, Standard, ThreadCx, Threaded, ThreadedComponent};
use bytes::Bytes;

use super::csa::ConnectedSocketAdapter;
use super::messages::SocketShutdown;
use super::options::ConnectionOptions;
use super::selector::{Ready, Selectable, SelectorNotify, Watching};
use crate::sys;

/// How long a connect may take unless told otherwise (Kamaelia's 60 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

axon::boxes! {
    /// The boxes of a [`TcpClient`].
    pub struct TcpClientBoxes {
        /// Bytes to send to the server (kept until connected).
        inbox inbox: Bytes,
        /// `ProducerFinished`: send what is queued (connecting first, if need
        /// be), then close. `ShutdownMicroprocess`: close now, or abandon the
        /// connect.
        inbox control: Ipc,
        /// From the Selector, while connecting.
        inbox connect_ready: Ready,
        /// From the connection's adapter when the socket has closed
        /// (Kamaelia's `_socketFeedback`).
        inbox socket_feedback: SocketShutdown,
        /// Bytes received from the server.
        outbox outbox: Bytes,
        /// When the client ends, whatever the reason: `ProducerFinished`
        /// carrying a [`SocketShutdown`] whose `how_died` says why (`None` for
        /// an orderly close).
        outbox signal: Ipc,
    }
}

/// Connects to a TCP server and carries bytes both ways: Kamaelia's
/// `TCPClient`.
///
/// A host name is looked up on a thread of its own (a threaded component,
/// the client's child while it works), so a slow lookup holds up nothing
/// else on the scheduler; a literal IP address needs no lookup.
///
/// Bytes sent to `inbox` go to the server (those sent before the connection is
/// made wait for it); bytes from the server come out of `outbox`. However it
/// ends (the connection refused, the connect timing out, the server closing,
/// or told to close on `control`), it sends one `ProducerFinished` out of
/// `signal` carrying a [`SocketShutdown`] with the reason, and ends.
///
/// A `ProducerFinished` on `control` means "no more to send": the client
/// connects if it has not yet, sends what it was given, then closes. A
/// `ShutdownMicroprocess` closes at once, abandoning a connect under way.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): data to send.
/// * `control` ([`Ipc`]): `ProducerFinished` or `ShutdownMicroprocess` closes.
/// * `connect_ready` ([`Ready`]), `socket_feedback` ([`SocketShutdown`]): internal.
/// * `resolved`: internal, added only while a host name is looked up.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): data received.
/// * `signal` ([`Ipc`]): the final `ProducerFinished`.
///
/// Its requests to the Selector go straight into the Selector's `notify`
/// inbox, with no outbox linked to it.
pub struct TcpClient {
    host: String,
    port: u16,
    connect_timeout: Duration,
    delay: Duration,
    options: ConnectionOptions,
    /// Addresses to use instead of resolving `host`, for tests.
    #[cfg(test)]
    addresses: Option<Vec<SocketAddr>>,
    /// A lookup to run on the resolver's thread instead of the system's,
    /// for tests.
    #[cfg(test)]
    lookup: Option<TestLookup>,
}

/// A lookup standing in for the system's, in tests.
#[cfg(test)]
type TestLookup = Arc<dyn Fn() -> Lookup + Send + Sync>;

/// What a host-name lookup gives.
type Lookup = io::Result<Vec<SocketAddr>>;

impl TcpClient {
    /// A client for `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        TcpClient {
            host: host.into(),
            port,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            delay: Duration::ZERO,
            options: ConnectionOptions::default(),
            #[cfg(test)]
            addresses: None,
            #[cfg(test)]
            lookup: None,
        }
    }

    /// Gives up connecting after this long (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Waits this long before connecting (Kamaelia's `delay`).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sets how the connection is set up (`TCP_NODELAY`, read size, the size
    /// limit of the adapter's `inbox`).
    pub fn connection_options(mut self, options: ConnectionOptions) -> Self {
        self.options = options;
        self
    }
}

impl fmt::Debug for TcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Component for TcpClient {
    type Boxes = TcpClientBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        if !self.delay.is_zero() {
            cx.sleep(self.delay).await;
        }
        let outcome = self.connect(&cx).await;
        let shutdown = match outcome {
            Ok(csa) => {
                // Connected: the adapter does the work; wait for it to close.
                let shutdown = cx.socket_feedback.next().await;
                cx.remove_child(&csa);
                shutdown
            }
            Err(e) => SocketShutdown {
                csa: cx.id(),
                how_died: Some(Arc::new(e)),
            },
        };
        if let Some(e) = &shutdown.how_died {
            tracing::debug!(target: "kamaelia::tcp_client", host = %self.host, port = self.port, error = %e, "client ended");
        }
        cx.signal
            .send(
                ProducerFinished::from(cx.id())
                    .with_message(Payload::new(shutdown))
                    .into(),
            )
            .await;
    }
}

impl TcpClient {
    /// Connects to the first of the host's addresses that accepts, within
    /// the connect timeout, then wires in an adapter for the connection.
    async fn connect(&self, cx: &Cx<TcpClientBoxes>) -> io::Result<ComponentRef> {
        let deadline = Instant::now() + self.connect_timeout;
        cx.wake_at(deadline);
        let selector = SelectorNotify::for_scheduler(&cx.scheduler())?;
        // Messages for the connection, kept until it exists.
        let mut held = Vec::new();
        let mut last = None;
        for address in self.resolve(cx, deadline, &mut held).await? {
            let attempt = match sys::connect(address) {
                Ok(stream) => {
                    let stream = Rc::new(stream);
                    self.wait_connected(cx, &selector, &stream, deadline, &mut held)
                        .await
                        .map(|()| stream)
                }
                Err(e) => Err(e),
            };
            match attempt {
                Ok(stream) => return self.adopt(cx, stream, held),
                // Out of time, or told to stop: no other address is tried.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) =>
                {
                    return Err(e)
                }
                Err(e) => {
                    tracing::debug!(target: "kamaelia::tcp_client", %address, error = %e, "connect failed; trying the next address");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{:?} resolves to no address", self.host),
            )
        }))
    }

    /// The host's addresses: a literal IP address at once, a name looked up
    /// by a [`Resolver`] child on a thread of its own while this client
    /// sleeps, keeping in `held` what arrives on `control` meanwhile.
    async fn resolve(
        &self,
        cx: &Cx<TcpClientBoxes>,
        deadline: Instant,
        held: &mut Vec<Ipc>,
    ) -> io::Result<Vec<SocketAddr>> {
        #[cfg(test)]
        if let Some(addresses) = &self.addresses {
            return Ok(addresses.clone());
        }
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        let resolver = Resolver {
            host: self.host.clone(),
            port: self.port,
            #[cfg(test)]
            lookup: self.lookup.clone(),
        };
        let resolver = ComponentRef::new(Threaded::new(resolver).queue_length(1));
        let resolved = cx.add_inbox::<Lookup>(RESOLVED, "The host's addresses, from the resolver.");
        if let Err(e) = cx.link((&resolver, "outbox"), &resolved) {
            let _ = cx.delete_inbox(RESOLVED);
            return Err(io::Error::other(e));
        }
        cx.add_children([&resolver]);
        resolver.activate_on(&cx.scheduler());
        let result = loop {
            if let Some(lookup) = resolved.recv() {
                break lookup;
            }
            if take_control(cx, held) {
                break Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "host-name lookup abandoned: told to shut down",
                ));
            }
            if Instant::now() >= deadline {
                break Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "looking up {:?} timed out after {:?}",
                        self.host, self.connect_timeout
                    ),
                ));
            }
            cx.idle().await;
        };
        // Abandoned, the lookup's thread runs on, and its result is dropped.
        resolver.stop();
        cx.remove_child(&resolver);
        let _ = cx.delete_inbox(RESOLVED);
        result
    }

    /// Waits for a non-blocking connect to end, keeping in `held` what
    /// arrives on `control` meanwhile.
    async fn wait_connected(
        &self,
        cx: &Cx<TcpClientBoxes>,
        selector: &SelectorNotify,
        stream: &Rc<TcpStream>,
        deadline: Instant,
        held: &mut Vec<Ipc>,
    ) -> io::Result<()> {
        let watching = Watching::writing(
            selector.clone(),
            Selectable::new(stream.clone()),
            cx.connect_ready.clone(),
        );
        let result = loop {
            if cx.connect_ready.drain().count() > 0 {
                match sys::connect_result(stream) {
                    Ok(()) => break Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => break Err(e),
                }
            }
            if take_control(cx, held) {
                break Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "connect abandoned: told to shut down",
                ));
            }
            if Instant::now() >= deadline {
                break Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect timed out after {:?}", self.connect_timeout),
                ));
            }
            cx.idle().await;
        };
        drop(watching);
        result
    }

    /// Wires an adapter for the connected `stream` between this client's
    /// boxes, hands it what was held, and starts it.
    fn adopt(
        &self,
        cx: &Cx<TcpClientBoxes>,
        stream: Rc<TcpStream>,
        held: Vec<Ipc>,
    ) -> io::Result<ComponentRef> {
        // The client waits for the server to close, however long it takes.
        let options = ConnectionOptions {
            linger: None,
            ..self.options
        };
        let csa =
            ConnectedSocketAdapter::prepare(stream, &options, None, cx.socket_feedback.clone())?;
        cx.link((&csa, "outbox"), &cx.outbox)
            .and_then(|_| cx.link(&cx.inbox, (&csa, "inbox")))
            .and_then(|_| cx.link(&cx.control, (&csa, "control")))
            .map_err(io::Error::other)?;
        // Now linked through to the adapter: what arrived while connecting
        // goes on to it.
        for message in held {
            let _ = cx.control.deliver(message);
        }
        cx.add_children([&csa]);
        csa.activate_on(&cx.scheduler());
        Ok(csa)
    }
}

/// The name of the inbox a client's [`Resolver`] answers on, while it works.
const RESOLVED: &str = "resolved";

/// Takes what arrived on `control` while connecting: true if told to shut
/// down, anything else kept in `held` for the connection.
fn take_control(cx: &Cx<TcpClientBoxes>, held: &mut Vec<Ipc>) -> bool {
    let mut abandon = false;
    for message in cx.control.drain() {
        if message.is_shutdown_microprocess() {
            abandon = true;
        } else {
            held.push(message);
        }
    }
    abandon
}

/// Looks a host name up (`getaddrinfo`, which blocks) on a thread of its
/// own, sends the result out of `outbox`, and ends.
struct Resolver {
    host: String,
    port: u16,
    #[cfg(test)]
    lookup: Option<TestLookup>,
}

impl ThreadedComponent for Resolver {
    type Boxes = Standard<(), Lookup>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(outbox) = cx.outbox::<Lookup>("outbox") else {
            return;
        };
        #[cfg(test)]
        if let Some(lookup) = &self.lookup {
            let _ = outbox.send(lookup());
            return;
        }
        let lookup = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map(Iterator::collect);
        // Fails only if the client stopped waiting.
        let _ = outbox.send(lookup);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::net::TcpListener;

    use axon::Scheduler;

    use super::*;
    use crate::internet::selector::tests::run_until;

    #[test]
    fn an_address_that_refuses_is_followed_by_the_next() {
        let refusing = TcpListener::bind("127.0.0.1:0").expect("bind");
        let closed = refusing.local_addr().expect("bound");
        drop(refusing);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let mut client = TcpClient::new("unused", 0);
        client.addresses = Some(vec![closed, listener.local_addr().expect("bound")]);

        let scheduler = Scheduler::new();
        let client = ComponentRef::new(client);
        client.activate_on(&scheduler);
        for _ in 0..1000 {
            if listener.accept().is_ok() {
                assert!(!client.is_finished(), "connected, so still running");
                return;
            }
            assert!(
                !client.is_finished(),
                "the client gave up after the first address"
            );
            scheduler.run_cycle();
        }
        panic!("the second address was never tried");
    }

    /// A client whose adapter is stopped from outside still hears of the
    /// close (the adapter tells it from the drop of its body, as closed by
    /// an error), and ends, instead of waiting for news for ever.
    #[test]
    fn a_client_whose_adapter_is_stopped_ends() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = TcpClient::new("unused", 0);
        client.addresses = Some(vec![listener.local_addr().expect("bound")]);
        let scheduler = Scheduler::new();
        let client = ComponentRef::new(client);
        client.activate_on(&scheduler);
        run_until(&scheduler, "connected, with an adapter", || {
            client.child_count() == 1
        });
        let _accepted = listener.accept().expect("accept");
        let adapter = client.child_components().remove(0);
        run_until(&scheduler, "the adapter asleep", || adapter.is_paused());

        adapter.stop();
        run_until(&scheduler, "the client ended", || client.is_finished());
    }

    /// How many turns the [`Ticker`] takes.
    const TICKS: u32 = 100;

    /// Counts its turns, up to [`TICKS`], then ends.
    struct Ticker(Rc<Cell<u32>>);

    impl Component for Ticker {
        type Boxes = axon::NoBoxes;

        async fn main(self, cx: Cx<Self::Boxes>) {
            while self.0.get() < TICKS {
                self.0.set(self.0.get() + 1);
                cx.yield_now().await;
            }
        }
    }

    #[test]
    fn the_scheduler_runs_on_while_a_host_name_is_looked_up() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let address = listener.local_addr().expect("bound");
        // The lookup tells the test it has begun, then blocks until let go.
        let (began, has_begun) = std::sync::mpsc::channel();
        let (let_go, gate) = std::sync::mpsc::channel::<()>();
        let gate = std::sync::Mutex::new(gate);
        let mut client = TcpClient::new("a.name.that.is.never.looked.up", 0);
        client.lookup = Some(Arc::new(move || {
            let _ = began.send(());
            let _ = gate.lock().expect("the gate").recv();
            Ok(vec![address])
        }));

        let scheduler = Scheduler::new();
        let client = ComponentRef::new(client);
        client.activate_on(&scheduler);
        // A guard against a hang, not a way of waiting: each step below is
        // driven by what the test sees.
        let guard = Instant::now() + Duration::from_secs(30);
        while has_begun.try_recv().is_err() {
            assert!(Instant::now() < guard, "the lookup never began");
            scheduler.run_cycle();
        }
        // The lookup is blocked for as long as the test likes; another
        // component runs on meanwhile (were the scheduler's thread blocked,
        // this test would hang).
        let ticks = Rc::new(Cell::new(0));
        ComponentRef::new(Ticker(ticks.clone())).activate_on(&scheduler);
        for _ in 0..1000 {
            if ticks.get() == TICKS {
                break;
            }
            assert!(scheduler.run_cycle(), "the client is still there");
        }
        assert_eq!(ticks.get(), TICKS, "the ticker ran to its end");
        assert!(!client.is_finished(), "the client waits for its lookup");
        assert!(
            listener.accept().is_err(),
            "no connection before the lookup's answer"
        );

        let_go.send(()).expect("the lookup waits");
        loop {
            if listener.accept().is_ok() {
                assert!(!client.is_finished(), "connected, so still running");
                return;
            }
            assert!(
                Instant::now() < guard,
                "the client never connected to the looked-up address"
            );
            assert!(!client.is_finished(), "the client gave up");
            scheduler.run_cycle();
        }
    }
}
