//! [`ConnectedSocketAdapter`]: one TCP connection as a component (Kamaelia's
//! `Kamaelia.Internet.ConnectedSocketAdapter`).
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the component: its boxes, its setup, its turn |
//! | `connection.rs` | the socket and the bytes in flight: reading, writing |
//! | `lifecycle.rs` | how the connection ends: Open → PeerClosed → Flushing → Lingering → Closed |

mod connection;
mod lifecycle;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axon::ipc::Ipc;
use axon::{CollectionWake, Component, ComponentRef, Cx, Inbox};
use bytes::Bytes;

use self::connection::{Connection, Handler};
use self::lifecycle::{AfterFlush, Lifecycle, Linger};
use super::inline_protocol::InlineProtocol;
use super::messages::{peer_closed, CloseWhenFlushed, SocketShutdown};
use super::options::{ConnectionOptions, DEFAULT_CSA_INBOX_SIZE, DEFAULT_READ_SIZE};
use super::selector::{Ready, Selectable, SelectorAccess, Watching};

axon::boxes! {
    /// The boxes of a [`ConnectedSocketAdapter`].
    pub struct CsaBoxes {
        /// Bytes to send to the peer. Give it a size limit (ServerCore does) so
        /// that a peer that does not read holds back whoever sends, instead of
        /// filling memory.
        inbox inbox: Bytes,
        /// `ProducerFinished`: send what is queued, then close (carrying
        /// `CloseWhenFlushed`: without waiting for the peer to close).
        /// `ShutdownMicroprocess`: close now, dropping what is queued.
        inbox control: Ipc,
        /// From the Selector: the socket may have data to read.
        inbox read_ready: Ready,
        /// From the Selector: the socket may take more data.
        inbox send_ready: Ready,
        /// Bytes received from the peer, in chunks of at most the read size.
        outbox outbox: Bytes,
        /// `ProducerFinished` carrying `PeerClosed` when the peer closes its
        /// side, then carrying `SocketShutdown` once the connection has closed.
        outbox signal: Ipc,
        /// `SocketShutdown` for whoever made this adapter, once the socket has
        /// closed (Kamaelia's `CreatorFeedback`).
        outbox creator_feedback: SocketShutdown,
    }
}

/// Turns one connected TCP socket into a component: bytes received come out
/// of `outbox`, bytes sent to `inbox` go to the peer. Kamaelia's
/// `ConnectedSocketAdapter` (CSA).
///
/// It asks the [`Selector`](super::Selector) to tell it when the socket is ready, then reads
/// until the socket has nothing more and writes until it takes no more. It
/// never spins:
///
/// * A write that the socket takes only partly keeps the unsent tail, and the
///   adapter waits to be told the socket is writable.
/// * It takes from `inbox` only what it is about to write, so with a size limit
///   on `inbox` the data waiting to be sent is bounded, and a peer that does not
///   read holds back the sender.
/// * While the consumer of `outbox` is full it stops reading (the peer is then
///   held back by TCP), and resumes when the consumer collects.
/// * Collections wake only who waits for room
///   ([`CollectionWake::WhenRefused`] on `inbox` and `outbox`): the adapter is
///   not resumed each time its consumer takes a chunk, nor the sender of
///   `inbox` each time the adapter takes what it writes. Under Axon's rule an
///   echo round trip resumed the handler twice, the second time for nothing.
///
/// Told to finish (`ProducerFinished` on `control`), it sends everything queued,
/// then shuts its sending side (the peer reads the end of the data), and keeps
/// receiving until the peer closes too, or until its [linger](Self::linger)
/// time has passed: an orderly close that never cuts off the last data sent.
///
/// Given an [`InlineProtocol`] ([`inline`](Self::inline)), the adapter calls
/// it with the bytes of each read instead of sending them out of `outbox`,
/// and writes its answers in the same turn; the protocol finishing, or the
/// peer closing, finishes the adapter as a handler's `ProducerFinished`
/// would. Nothing need be linked to `outbox`, `inbox` or `signal` then.
///
/// When the peer closes its side first, the adapter tells whoever is linked to
/// its `signal` outbox (`ProducerFinished` carrying [`PeerClosed`](crate::ipc::PeerClosed))
/// and keeps sending what it is given until told to finish; with nothing
/// linked to `signal` it finishes at once. When it closes (after finishing, on
/// `ShutdownMicroprocess`, or on an error such as a reset), it stops
/// watching the socket and closes it (shutting it down first, as Kamaelia's
/// adapter does, unless the peer's end was read and it holds the socket
/// alone), and sends [`SocketShutdown`] out of
/// `creator_feedback` and (inside a `ProducerFinished`) out of `signal`. An
/// adapter made by a [`TcpServer`](super::TcpServer) or
/// [`TcpClient`](super::TcpClient) also puts it straight into its maker's
/// inbox: they link nothing to `creator_feedback` (Kamaelia's TCPServer
/// links `CreatorFeedback`; here that linkage cost 350 bytes of heap per
/// connection, measured).
///
/// Stopped from outside instead ([`ComponentRef::stop`](axon::ComponentRef::stop),
/// a supervisor), it still lets go of the socket (the Selector, or the ring,
/// stops watching it, and it is closed: the peer sees the end of the
/// connection) and still tells its maker, a TcpServer or TcpClient, of the
/// close, as closed by an error; it sends nothing out of its outboxes.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): data to send.
/// * `control` ([`Ipc`]): `ProducerFinished` (flush, then close),
///   `ProducerFinished` carrying [`CloseWhenFlushed`](crate::ipc::CloseWhenFlushed)
///   (flush, then close without lingering), `ShutdownMicroprocess` (close now).
/// * `read_ready`, `send_ready` ([`Ready`]): from the Selector.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): data received.
/// * `signal` ([`Ipc`]): `ProducerFinished` with `PeerClosed`, then with
///   `SocketShutdown`.
/// * `creator_feedback` ([`SocketShutdown`]): the socket has closed.
///
/// Its requests to the Selector go straight into the Selector's `notify`
/// inbox, with no outbox linked to it (Kamaelia's `_selectorSignal`); its
/// last, to stop reading the socket, is applied there and then once the
/// first has been, so that the socket closes with the adapter's last
/// reference to it, and the Selector need not be woken for it.
pub struct ConnectedSocketAdapter {
    socket: Rc<TcpStream>,
    read_size: usize,
    linger: Option<Duration>,
    /// The protocol run inside the adapter, if it has one; see
    /// [`inline`](Self::inline).
    inline: Option<Box<dyn InlineProtocol>>,
    /// Its maker's inbox for [`SocketShutdown`], if its maker gave it one:
    /// told there directly, with no linkage to make and unmake.
    report_to: Option<Inbox<SocketShutdown>>,
}

impl ConnectedSocketAdapter {
    /// An adapter for a connected socket, which it makes non-blocking.
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking.
    pub fn new(socket: TcpStream) -> io::Result<Self> {
        ConnectedSocketAdapter::from_shared(Rc::new(socket))
    }

    /// An adapter for a socket that is still shared (with a Selector
    /// registration being withdrawn, say).
    pub(crate) fn from_shared(socket: Rc<TcpStream>) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(ConnectedSocketAdapter {
            socket,
            read_size: DEFAULT_READ_SIZE,
            linger: None,
            inline: None,
            report_to: None,
        })
    }

    /// Sets up a connected socket, already non-blocking (accepted or
    /// connected by [`sys`](crate::sys)), as `options` say, and makes its
    /// adapter (not activated), with the size limit on its `inbox`, the
    /// `inline` protocol if given, and its maker's inbox for the
    /// [`SocketShutdown`] it sends when it closes (`report_to`): a TcpServer
    /// or TcpClient hears of the close there, with no linkage to its
    /// `creator_feedback` (for a server, a record, two link lists and the
    /// linking and unlinking per connection: 350 bytes and about 3,600
    /// instructions, measured).
    ///
    /// The adapter looks the Selector up itself when it starts, rather than
    /// being given its maker's: a Selector ends once it watches nothing,
    /// which a TcpClient's, having watched only the connect, may just have.
    pub(crate) fn prepare(
        socket: Rc<TcpStream>,
        options: &ConnectionOptions,
        inline: Option<Box<dyn InlineProtocol>>,
        report_to: Inbox<SocketShutdown>,
    ) -> io::Result<ComponentRef> {
        // Off is the kernel's default: no call needed for it.
        if options.nodelay {
            socket.set_nodelay(true)?;
        }
        let csa = ComponentRef::new(
            ConnectedSocketAdapter {
                socket,
                read_size: DEFAULT_READ_SIZE,
                linger: None,
                inline,
                report_to: Some(report_to),
            }
            .read_size(options.read_size)
            .linger(options.linger),
        );
        csa.inbox::<Bytes>("inbox")
            .map_err(io::Error::other)?
            .set_size(Some(options.csa_inbox_size));
        Ok(csa)
    }

    /// Sets the size of each read: the largest chunk sent out of `outbox`
    /// (default [`DEFAULT_READ_SIZE`]).
    pub fn read_size(mut self, bytes: usize) -> Self {
        self.read_size = bytes.max(1);
        self
    }

    /// After finishing (everything sent and the sending side shut), how long
    /// to wait for the peer to close before closing anyway. `None` (the
    /// default) waits for as long as the peer keeps the connection open.
    pub fn linger(mut self, linger: Option<Duration>) -> Self {
        self.linger = linger;
        self
    }

    /// Runs `protocol` inside the adapter: each chunk read is given to it,
    /// and what it answers is written in the same turn, instead of leaving
    /// by `outbox` and coming back on `inbox` from a handler component (see
    /// [`InlineProtocol`]). The `inbox` size limit then bounds what the
    /// protocol may queue before the adapter stops reading. The adapter
    /// finishes when the protocol does, or when the peer closes.
    pub fn inline(mut self, protocol: impl InlineProtocol) -> Self {
        self.inline = Some(Box::new(protocol));
        self
    }
}

impl fmt::Debug for ConnectedSocketAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectedSocketAdapter")
            .field("peer", &self.socket.peer_addr().ok())
            .finish()
    }
}

impl Component for ConnectedSocketAdapter {
    type Boxes = CsaBoxes;

    // A function returning an `async move` block, not an `async fn`: an
    // async fn moves its arguments into locals of its generator, which then
    // holds `self` and `cx` twice (rust-lang/rust#62958), 128 bytes more per
    // connection.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            cx.inbox.set_collection_wake(CollectionWake::WhenRefused);
            cx.outbox.set_collection_wake(CollectionWake::WhenRefused);
            let mut report = ReportsClose {
                cx: &cx,
                maker: self.report_to.as_ref(),
            };
            // Through the thread's io_uring if it has one; otherwise told by
            // the Selector when the socket is ready (and only then is a
            // Selector started: one that is never asked anything would keep
            // the scheduler running). Found before `serve` is awaited, so
            // that no temporary of the look-up is kept in the generator while
            // the connection lives.
            let scheduler = cx.scheduler();
            let (ring, watching, selector_lend, how_died) =
                match SelectorAccess::for_scheduler(&scheduler) {
                    Ok(access) => match access.ring_link(cx.component(), &self.socket) {
                        Some(ring) => (Some(ring), None, None, None),
                        None => match access.notify(&scheduler) {
                            // On epoll, an inline protocol is lent to the
                            // Selector while the adapter sleeps (on the ring,
                            // to the ring).
                            Ok(selector) => (
                                None,
                                Some(Watching::reading(
                                    selector,
                                    Selectable::new(self.socket.clone()),
                                    cx.read_ready.clone(),
                                )),
                                self.inline.is_some().then(|| access.lend_place()),
                                None,
                            ),
                            Err(e) => (None, None, None, Some(e)),
                        },
                    },
                    Err(e) => (None, None, None, Some(e)),
                };
            drop(scheduler);
            // (As one `match` over the lookup's result, the idle inline
            // connection of tests/connection_memory.rs measured 15 bytes
            // more.)
            let (how_died, read_to_end) = if how_died.is_none() {
                let handler = match self.inline {
                    Some(protocol) => Handler::Inline {
                        protocol,
                        limit: cx.inbox.size().unwrap_or(DEFAULT_CSA_INBOX_SIZE),
                    },
                    None => Handler::Linked,
                };
                let connection = Connection::new(
                    self.socket.clone(),
                    self.read_size,
                    handler,
                    ring,
                    selector_lend,
                );
                match serve(&cx, connection, watching.as_ref(), self.linger).await {
                    Ok(read_to_end) => (None, read_to_end),
                    Err(e) => (Some(e), false),
                }
            } else {
                (how_died, false)
            };
            match &how_died {
                Some(e) => {
                    tracing::debug!(target: "kamaelia::csa", error = %e, "connection closed by an error")
                }
                None => tracing::debug!(target: "kamaelia::csa", "connection closed"),
            }
            // The Selector lets go of the socket (and if this body is
            // dropped before its end, the drop does the same): at once on
            // epoll, unless it is still watched for writes.
            drop(watching);
            // Shut, as Kamaelia's adapter does (`shutdown(2)`), so that the
            // peer reads the end before anything else. Except in the usual
            // close: the peer's end has been read (nothing unread, which
            // would make the close a reset) and nothing else holds the
            // socket; then it closes as this body is dropped at its end, in
            // this turn, which sends the FIN: one system call less. Shut
            // anyway if something else holds it (a write watch being
            // withdrawn, the ring's operations in flight, its maker), or if
            // the end would wait for a full consumer of `signal` or
            // `creator_feedback`, so that the FIN goes at once. (Moving the
            // socket out of `self` to close it here cost 9 bytes of every
            // connection's generator; sending with `try_send` first, 54.)
            if !read_to_end
                || Rc::strong_count(&self.socket) > 1
                || cx.signal.is_full()
                || cx.creator_feedback.is_full()
            {
                let _ = self.socket.shutdown(Shutdown::Both);
            }
            let shutdown = SocketShutdown {
                csa: cx.id(),
                how_died: how_died.map(Arc::new),
            };
            cx.signal.send(shutdown.to_ipc(cx.id())).await;
            report.send(shutdown.clone());
            cx.creator_feedback.send(shutdown).await;
        }
    }
}

/// The news of an adapter's close for its maker (a TcpServer or TcpClient,
/// which waits for it), told once: at the adapter's end, or, if its body is
/// dropped before (the adapter stopped from outside), from the drop, as a
/// close by an error. Without it a stopped adapter's TcpServer would count
/// it against the connection limit for ever, and its TcpClient would wait
/// for ever.
///
/// It borrows what it needs from the adapter's body: an idle inline
/// connection measured 1,790 bytes of heap with it, 1,812 with it owning the
/// maker's inbox and the adapter's id, 1,777 without it
/// (`tests/connection_memory.rs`).
struct ReportsClose<'a> {
    cx: &'a Cx<CsaBoxes>,
    maker: Option<&'a Inbox<SocketShutdown>>,
}

impl ReportsClose<'_> {
    fn send(&mut self, shutdown: SocketShutdown) {
        if let Some(maker) = self.maker.take() {
            if let Err(refused) = maker.deliver(shutdown) {
                tracing::error!(target: "kamaelia::csa", "its maker did not take the news of its close: {refused}");
            }
        }
    }
}

impl Drop for ReportsClose<'_> {
    fn drop(&mut self) {
        // Told already, at the end: nothing to make.
        if self.maker.is_none() {
            return;
        }
        let how_died = io::Error::other("the adapter was stopped before its connection closed");
        self.send(SocketShutdown {
            csa: self.cx.id(),
            how_died: Some(Arc::new(how_died)),
        });
    }
}

/// The adapter's life while the socket is open: each turn takes the events
/// that came (notices, `control`, the socket's own news) and hands each to the
/// [`Lifecycle`]. Returns whether the peer's end of the input had been read
/// (nothing is left unread), or the error that ended it.
#[allow(clippy::manual_async_fn)] // see `main`
fn serve<'a>(
    cx: &'a Cx<CsaBoxes>,
    mut conn: Connection,
    watching: Option<&'a Watching>,
    mut linger: Option<Duration>,
) -> impl Future<Output = io::Result<bool>> + 'a {
    // An `async move` block for the reason given at `main`: `conn` once.
    async move {
        let mut life = Lifecycle::Open;
        loop {
            // Most turns find it empty: look before taking.
            if cx.send_ready.data_ready() {
                conn.can_write |= cx.send_ready.drain().count() > 0;
            }
            conn.turn_start()?;
            if cx.control.data_ready() {
                for message in cx.control.drain() {
                    if message.is_shutdown_microprocess() {
                        life.on_shutdown();
                    } else if message.finished_with::<CloseWhenFlushed>().is_some() {
                        // What was sent is in the kernel's hands once written:
                        // it goes out, then the FIN, after the socket closes.
                        linger = Some(Duration::ZERO);
                        life.on_finish_without_linger(Instant::now());
                    } else if message.is_producer_finished() {
                        life.on_finish();
                    }
                }
            }
            if life.is_closed() {
                return Ok(conn.eof);
            }
            if life.is_finishing() {
                // Told to finish, an inline protocol is done: what it answered
                // is sent, and it is given nothing more.
                conn.finish_inline();
            }
            // Read before writing: an inline protocol's answer to what is read
            // goes out in the same turn.
            if !conn.peer_done() {
                let lingering = life.is_lingering();
                conn.receive(&cx.read_ready, &cx.outbox, lingering)?;
            }
            if conn.peer_done() {
                conn.on_peer_done()?;
                if life.on_peer_closed(cx.signal.is_linked()) {
                    // Boxed: the send's future is 88 bytes, which every
                    // idle connection's generator would hold for a message
                    // sent once in its life.
                    Box::pin(cx.signal.send(peer_closed(cx.id()))).await;
                }
            }
            if conn.inline_done() {
                life.on_finish();
            }
            if conn.can_write {
                conn.flush(&cx.inbox)?;
            }
            if let (Some(watch), Some(watching)) = (conn.write_watch_change(&cx.inbox), watching) {
                if watch {
                    watching.watch_writes(cx.send_ready.clone());
                } else {
                    watching.unwatch_writes();
                }
            }
            if life.is_finishing() && !conn.has_output(&cx.inbox) {
                match life.on_flushed(conn.eof, linger, Instant::now()) {
                    AfterFlush::Nothing => {}
                    AfterFlush::ShutWrite(linger) => {
                        conn.socket.shutdown(Shutdown::Write)?;
                        if let Linger::Until(at) = linger {
                            cx.wake_at(at);
                        }
                    }
                }
                if life.is_closed() {
                    return Ok(conn.eof);
                }
            }
            let turn = if conn.has_work(&cx.inbox, &cx.read_ready) {
                cx.yield_now()
            } else {
                conn.lend_protocol(&cx.inbox, || cx.component());
                cx.idle()
            };
            turn.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use axon::ipc::Ipc;
    use axon::{Scheduler, Standard};

    use super::connection::counted;
    use super::*;
    use crate::internet::messages::PeerClosed;
    use crate::internet::selector::tests::run_until;

    /// A connected pair on 127.0.0.1: the peer's end, then ours.
    fn connected_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("bound")).expect("connect");
        let (ours, _) = listener.accept().expect("accept");
        (peer, ours)
    }

    /// Appends to `into` what the non-blocking `peer` has been sent, if
    /// anything.
    fn read_available(peer: &mut TcpStream, into: &mut Vec<u8>) {
        use std::io::Read;

        let mut buf = [0; 64];
        if let Ok(got) = peer.read(&mut buf) {
            into.extend_from_slice(&buf[..got]);
        }
    }

    /// Stays paused for ever; only its boxes are used.
    struct Idle;

    impl Component for Idle {
        type Boxes = Standard<Bytes, ()>;

        async fn main(self, cx: Cx<Self::Boxes>) {
            loop {
                cx.idle().await;
            }
        }
    }

    /// Echoes what it receives, counting the turns it is resumed for.
    struct CountingEcho(Rc<std::cell::Cell<u32>>);

    impl Component for CountingEcho {
        type Boxes = Standard<Bytes, Bytes>;

        async fn main(self, cx: Cx<Self::Boxes>) {
            loop {
                while let Some(data) = cx.inbox.recv() {
                    cx.outbox.send(data).await;
                }
                cx.idle().await;
                self.0.set(self.0.get() + 1);
            }
        }
    }

    /// A round trip through the adapter resumes its handler once: the
    /// adapter's collection of the reply does not wake the handler again, as
    /// Axon's rule would ([`CollectionWake::WhenRefused`] on its `inbox`).
    /// Writes `round_trips` lines from `peer`, each once the last one's
    /// echo is back, then runs `settle` cycles more after each echo.
    fn echo_round_trips(
        scheduler: &Scheduler,
        peer: &mut TcpStream,
        round_trips: u32,
        settle: usize,
    ) {
        use std::io::Write;

        for n in 0..round_trips {
            let line = format!("round trip {n}\n");
            peer.write_all(line.as_bytes()).expect("write");
            let mut echoed = Vec::new();
            run_until(scheduler, "the echo", || {
                read_available(peer, &mut echoed);
                echoed == line.as_bytes()
            });
            for _ in 0..settle {
                scheduler.run_cycle();
            }
        }
    }

    #[test]
    fn an_echo_round_trip_resumes_the_handler_once() {
        let (mut peer, ours) = connected_pair();
        peer.set_nonblocking(true).expect("non-blocking");
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(ConnectedSocketAdapter::new(ours).expect("adapter"));
        let turns = Rc::new(std::cell::Cell::new(0));
        let handler = ComponentRef::new(CountingEcho(turns.clone()));
        csa.link((&csa, "outbox"), (&handler, "inbox"))
            .expect("link");
        csa.link((&handler, "outbox"), (&csa, "inbox"))
            .expect("link");
        handler.activate_on(&scheduler);
        csa.activate_on(&scheduler);
        run_until(&scheduler, "both asleep", || {
            csa.is_paused() && handler.is_paused()
        });
        let before = turns.get();
        const ROUND_TRIPS: u32 = 20;
        // Whatever the adapter's collection would wake runs in the next two
        // cycles.
        echo_round_trips(&scheduler, &mut peer, ROUND_TRIPS, 2);
        assert_eq!(turns.get() - before, ROUND_TRIPS, "one turn per round trip");
    }

    /// An inline echo's round trip costs the adapter no turn: asleep with
    /// nothing queued, it has lent its protocol to what sees the bytes
    /// arrive (the ring, or the Selector), which answers with it. On the
    /// ring it is lent from the first turn; on epoll from the turn after the
    /// Selector has begun watching the socket (in its own turn), so the
    /// first request costs one.
    #[test]
    fn an_inline_echo_round_trip_costs_the_adapter_no_turn() {
        let (mut peer, ours) = connected_pair();
        peer.set_nonblocking(true).expect("non-blocking");
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(
            ConnectedSocketAdapter::new(ours)
                .expect("adapter")
                .inline(crate::protocol::EchoProtocol),
        );
        csa.activate_on(&scheduler);
        run_until(&scheduler, "the adapter asleep", || csa.is_paused());
        // The Selector, if there is one, settles too.
        for _ in 0..10 {
            scheduler.run_cycle();
        }
        // Only the adapter runs now: each cycle counted is one of its turns.
        let before = scheduler.cycles();
        const ROUND_TRIPS: u32 = 20;
        // Whatever the send's completion would wake runs meanwhile.
        echo_round_trips(&scheduler, &mut peer, ROUND_TRIPS, 10);
        let turns: u64 = if cfg!(uring) { 0 } else { 1 };
        assert_eq!(
            scheduler.cycles() - before,
            turns,
            "turns of the adapter for {ROUND_TRIPS} round trips"
        );
    }

    /// Answers made with the lent protocol for the adapter, answers handed
    /// back to it (sent whole), and answers the adapter made itself (a
    /// request that came while an answer's send was in flight, on the ring)
    /// go out in the order of their requests, each whole; and most calls
    /// of the protocol cost the adapter no turn.
    #[test]
    fn answers_made_for_the_adapter_and_by_it_keep_their_order() {
        use std::io::Write;

        let (mut peer, ours) = connected_pair();
        peer.set_nonblocking(true).expect("non-blocking");
        let calls = Rc::new(std::cell::Cell::new(0));
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(ConnectedSocketAdapter::new(ours).expect("adapter").inline(
            crate::internet::lent_protocol::tests::Brackets(calls.clone()),
        ));
        csa.activate_on(&scheduler);
        run_until(&scheduler, "the adapter asleep", || csa.is_paused());
        let before = scheduler.cycles();
        let mut sent = Vec::new();
        let mut got = Vec::new();
        for round in 0..40 {
            // One request alone (the ring answers it if the protocol is
            // lent), then a few at once (some come while a send is in
            // flight, for the adapter), some to be sent whole.
            for n in 0..1 + round % 4 {
                let request = if (round + n) % 3 == 0 {
                    format!("{round}.{n}!")
                } else {
                    format!("{round}.{n}")
                };
                peer.write_all(request.as_bytes()).expect("write");
                sent.extend_from_slice(request.as_bytes());
            }
            let mut unbracketed = 0;
            run_until(&scheduler, "the answers", || {
                read_available(&mut peer, &mut got);
                unbracketed = got.iter().filter(|b| !matches!(b, b'<' | b'>')).count();
                unbracketed == sent.len() && got.last() == Some(&b'>')
            });
        }
        // Each answer whole: brackets alternate, never empty.
        let mut open = false;
        for pair in got.windows(2) {
            assert_ne!(pair, b"<>", "an empty answer");
        }
        for &b in &got {
            match b {
                b'<' => assert!(!std::mem::replace(&mut open, true), "answers interleaved"),
                b'>' => assert!(std::mem::replace(&mut open, false), "answers interleaved"),
                _ => assert!(open, "a byte outside its answer"),
            }
        }
        let inside: Vec<u8> = got
            .into_iter()
            .filter(|b| !matches!(b, b'<' | b'>'))
            .collect();
        assert_eq!(
            String::from_utf8_lossy(&inside),
            String::from_utf8_lossy(&sent),
            "the answers, in order"
        );
        let turns = scheduler.cycles() - before;
        assert!(
            turns < calls.get(),
            "{turns} turns of the adapter for {} calls: none was answered for it",
            calls.get()
        );
    }

    /// Empty chunks in a burst are dropped, not sent: a burst of nothing
    /// but empty chunks leaves the connection open (a send of nothing would
    /// read as the peer's end), and what comes after still arrives.
    /// An adapter stopped from outside (its body dropped mid-life, as a
    /// supervisor or `ComponentRef::stop` does) closes its socket: the peer
    /// sees the end, and nothing of the connection stays with the Selector
    /// or the ring, which would hold the socket open for ever.
    #[test]
    fn a_stopped_adapter_closes_its_socket() {
        use std::io::Read;

        for inline in [false, true] {
            let (mut peer, ours) = connected_pair();
            peer.set_nonblocking(true).expect("non-blocking");
            let scheduler = Scheduler::new();
            let adapter = ConnectedSocketAdapter::new(ours).expect("adapter");
            let adapter = if inline {
                adapter.inline(crate::protocol::EchoProtocol)
            } else {
                adapter
            };
            let csa = ComponentRef::new(adapter);
            csa.activate_on(&scheduler);
            run_until(&scheduler, "the adapter asleep", || csa.is_paused());
            for _ in 0..10 {
                scheduler.run_cycle();
            }
            csa.stop();
            let mut buf = [0; 16];
            run_until(&scheduler, "the peer sees the close", || {
                matches!(peer.read(&mut buf), Ok(0))
            });
        }
    }

    /// Links `csa`'s `outbox` to the `inbox` of an idle component whose
    /// inbox holds one message, `filler`, and no more: a consumer with no
    /// room. Returns that inbox.
    fn full_consumer<T: 'static>(
        scheduler: &Scheduler,
        csa: &ComponentRef,
        outbox: &'static str,
        inbox: &'static str,
        filler: T,
    ) -> Inbox<T> {
        let consumer = ComponentRef::new(Idle);
        consumer.activate_on(scheduler);
        let full = consumer.inbox::<T>(inbox).expect("inbox");
        full.set_size(Some(1));
        assert!(full.deliver(filler).is_ok(), "room for one");
        csa.link((csa, outbox), (&consumer, inbox)).expect("link");
        full
    }

    /// Another connection's adapter, as a server's listener would, keeps the
    /// Selector watching something once the one under test has gone: the
    /// Selector then lets go of that one at once, and its adapter holds the
    /// socket alone. Returns the other connection's peer, to keep open.
    fn another_connection(scheduler: &Scheduler) -> TcpStream {
        let (peer, other) = connected_pair();
        ComponentRef::new(ConnectedSocketAdapter::new(other).expect("adapter"))
            .activate_on(scheduler);
        peer
    }

    /// Tells `csa` to close now (`ShutdownMicroprocess`).
    fn tell_to_shut_down(csa: &ComponentRef) {
        csa.inbox::<Ipc>("control")
            .expect("control")
            .deliver(axon::ipc::ShutdownMicroprocess::new().into())
            .expect("delivered");
    }

    /// An adapter told to close whose `signal` leads to a full inbox waits
    /// to send its `SocketShutdown` there, but its peer sees the end at once:
    /// the socket is shut, not left to close as the adapter ends.
    #[test]
    fn a_close_that_waits_for_a_full_consumer_still_ends_the_connection_at_once() {
        use std::io::Read;

        let (mut peer, ours) = connected_pair();
        peer.set_nonblocking(true).expect("non-blocking");
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(ConnectedSocketAdapter::new(ours).expect("adapter"));
        let control = full_consumer(
            &scheduler,
            &csa,
            "signal",
            "control",
            Ipc::from(axon::ipc::ProducerFinished::new()),
        );
        csa.activate_on(&scheduler);
        let _other_peer = another_connection(&scheduler);
        run_until(&scheduler, "the adapter asleep", || csa.is_paused());
        for _ in 0..10 {
            scheduler.run_cycle();
        }
        tell_to_shut_down(&csa);
        let mut buf = [0; 16];
        run_until(&scheduler, "the peer sees the close", || {
            matches!(peer.read(&mut buf), Ok(0))
        });
        assert!(!csa.is_finished(), "its SocketShutdown waits for room");
        assert!(control.recv().is_some());
        run_until(&scheduler, "the adapter's end", || csa.is_finished());
        assert!(
            control
                .recv()
                .is_some_and(|m| m.finished_with::<SocketShutdown>().is_some()),
            "its SocketShutdown"
        );
    }

    /// An adapter told to close while the peer's data waits unread shuts
    /// the socket before closing it: the peer reads the end of the stream,
    /// where a close alone would have reset the connection.
    #[test]
    fn a_close_with_data_unread_ends_the_stream_rather_than_resetting_it() {
        use std::io::{Read, Write};

        let (mut peer, ours) = connected_pair();
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(
            ConnectedSocketAdapter::new(ours)
                .expect("adapter")
                .read_size(4),
        );
        // A consumer with no room: the adapter reads one chunk and stops.
        full_consumer(
            &scheduler,
            &csa,
            "outbox",
            "inbox",
            Bytes::from_static(b"full"),
        );
        csa.activate_on(&scheduler);
        let _other_peer = another_connection(&scheduler);
        peer.write_all(&[b'x'; 100]).expect("write");
        // It reads a chunk, cannot pass it on, and sleeps; the Selector
        // applies its request to watch the socket meanwhile.
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        assert!(csa.is_paused(), "asleep, a chunk held back");
        tell_to_shut_down(&csa);
        run_until(&scheduler, "the adapter's end", || csa.is_finished());
        let mut rest = Vec::new();
        match peer.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "the adapter sent {rest:?}"),
            Err(e) => panic!("the peer did not see the end of the stream: {e}"),
        }
    }

    #[test]
    fn empty_chunks_in_a_burst_are_skipped() {
        let (mut peer, ours) = connected_pair();
        peer.set_nonblocking(true).expect("non-blocking");
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(ConnectedSocketAdapter::new(ours).expect("adapter"));
        let inbox = csa.inbox::<Bytes>("inbox").expect("inbox");
        csa.activate_on(&scheduler);
        let mut received = Vec::new();
        for (burst, expected) in [
            (&[&b""[..], b"ab", b"", b"cd", b""][..], &b"abcd"[..]),
            (&[&b""[..], b""][..], b"abcd"),
            (&[&b""[..], b"", b"ef"][..], b"abcdef"),
        ] {
            for chunk in burst {
                inbox.deliver(Bytes::from_static(chunk)).expect("room");
            }
            run_until(&scheduler, "the burst written", || {
                read_available(&mut peer, &mut received);
                csa.is_paused() && inbox.is_empty() && received.len() >= expected.len()
            });
            assert!(!csa.is_finished(), "the connection stays open");
            assert_eq!(received, expected);
        }
    }

    /// A burst of small chunks, large ones and empty ones goes out in one
    /// write, in order: each run of small chunks copied together into one
    /// buffer, each large chunk as it is, the empty ones dropped.
    #[test]
    fn a_burst_goes_out_in_one_write_with_its_small_chunks_gathered() {
        let (mut peer, ours) = connected_pair();
        peer.set_nonblocking(true).expect("non-blocking");
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(ConnectedSocketAdapter::new(ours).expect("adapter"));
        let inbox = csa.inbox::<Bytes>("inbox").expect("inbox");
        inbox.set_size(Some(1_000));
        let line = |n: usize| Bytes::from(format!("line {n:05} {}\n", "x".repeat(52)));
        let large = |byte: u8, len: usize| Bytes::from(vec![byte; len]);
        let mut burst: Vec<Bytes> = (0..100).map(line).collect();
        burst.push(large(b'a', 4096));
        burst.extend((100..150).map(line));
        burst.extend([Bytes::new(), Bytes::new()]);
        burst.push(large(b'b', 2048));
        burst.push(Bytes::new());
        let expected: Vec<u8> = burst.iter().flat_map(|c| c.iter().copied()).collect();
        for chunk in burst {
            inbox.deliver(chunk).expect("room");
        }
        let before = counted::writes();
        csa.activate_on(&scheduler);
        let mut received = Vec::new();
        run_until(&scheduler, "the burst written", || {
            read_available(&mut peer, &mut received);
            received.len() >= expected.len()
        });
        assert_eq!(received, expected);
        let writes = counted::writes();
        assert_eq!(
            (writes.calls - before.calls, writes.buffers - before.buffers),
            (1, 4),
            "one write: the first run of lines, the 4 KiB, the second run, the 2 KiB"
        );
    }

    /// Answers each chunk with 64 KiB, counting the bytes it was given.
    struct Amplifier(Rc<std::cell::Cell<usize>>);

    impl InlineProtocol for Amplifier {
        fn on_data(&mut self, data: &[u8], reply: &mut crate::internet::Reply<'_>) {
            self.0.set(self.0.get() + data.len());
            reply.send(&[b'a'; 64 * 1024]);
        }
    }

    /// A peer that sends and does not read makes an inline protocol's
    /// answers pile up; the adapter stops reading once `inbox`'s size limit
    /// of them wait, and sleeps: the rest of what the peer sent stays in
    /// the kernel, and the memory held is bounded by the limit.
    #[test]
    fn an_inline_protocol_that_is_not_read_stops_the_reading() {
        use std::io::Write;

        const LIMIT: usize = 4;
        const READ: usize = 1024;
        let (mut peer, ours) = connected_pair();
        // Small kernel buffers, so that little of the answers fits there.
        socket2::SockRef::from(&peer)
            .set_recv_buffer_size(4096)
            .expect("SO_RCVBUF");
        socket2::SockRef::from(&ours)
            .set_send_buffer_size(4096)
            .expect("SO_SNDBUF");
        peer.set_nonblocking(true).expect("non-blocking");
        let given = Rc::new(std::cell::Cell::new(0));
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(
            ConnectedSocketAdapter::new(ours)
                .expect("adapter")
                .read_size(READ)
                .inline(Amplifier(given.clone())),
        );
        csa.inbox::<Bytes>("inbox")
            .expect("inbox")
            .set_size(Some(LIMIT));
        csa.activate_on(&scheduler);
        let mut sent = 0;
        let chunk = [b'x'; READ];
        while sent < 1024 * READ {
            match peer.write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("write: {e}"),
            }
        }
        run_until(&scheduler, "the adapter to answer, then sleep", || {
            given.get() > 0 && csa.is_paused()
        });
        let at_rest = given.get();
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        assert_eq!(given.get(), at_rest, "asleep, it read no more");
        // Answers to the limit, and what the two small kernel buffers took;
        // through the ring, one more: the answer its send holds.
        let in_flight = usize::from(cfg!(uring));
        let most = (LIMIT + 4 + in_flight) * READ;
        assert!(
            at_rest <= most,
            "it read {at_rest} bytes of the {sent} sent (at most {most} expected)"
        );
        assert!(sent > most, "the peer sent only {sent} bytes");
    }

    /// The peer of [`a_notice_that_came_while_the_answers_were_full_is_taken_once_they_are_sent`]:
    /// a component, always runnable (as a busy server's other components
    /// are), so that the scheduler polls its park only every so many cycles.
    /// It writes pieces until one stays unread, then reads until all has come
    /// back, or gives up; then stops the scheduler.
    #[cfg(all(target_os = "linux", not(uring)))]
    struct PushThenRead {
        peer: TcpStream,
        ours: Rc<TcpStream>,
        stop: axon::Remote,
        outcome: Rc<std::cell::RefCell<Option<Pushed>>>,
    }

    /// What [`PushThenRead`] found.
    #[cfg(all(target_os = "linux", not(uring)))]
    struct Pushed {
        /// Bytes our socket held unread when the peer stopped writing.
        left_unread: usize,
        sent: Vec<u8>,
        got: Vec<u8>,
    }

    #[cfg(all(target_os = "linux", not(uring)))]
    impl Component for PushThenRead {
        type Boxes = Standard<(), ()>;

        async fn main(mut self, cx: Cx<Self::Boxes>) {
            use std::io::{Read, Write};

            // Shorter than a read: each piece is read alone, by a short read.
            const PIECE: usize = 8000;
            let unread = |ours: &TcpStream| rustix::io::ioctl_fionread(ours).expect("FIONREAD");
            let mut sent = Vec::new();
            let mut left_unread = 0;
            while sent.len() < 64 << 20 {
                let piece = [b'a' + (sent.len() / PIECE % 26) as u8; PIECE];
                self.peer.write_all(&piece).expect("write");
                sent.extend_from_slice(&piece);
                // Long enough for several polls of the Selector.
                for _ in 0..4 * axon::DEFAULT_IO_POLL_INTERVAL {
                    cx.yield_now().await;
                }
                left_unread = unread(&self.ours) as usize;
                if left_unread > 0 {
                    break;
                }
            }
            let mut got = Vec::new();
            let mut buf = vec![0; 64 * 1024];
            // A bound on a hang, not a measure: TCP's own timers on loopback
            // take milliseconds.
            let give_up = Instant::now() + Duration::from_secs(10);
            while got.len() < sent.len() && Instant::now() < give_up {
                while let Ok(n) = self.peer.read(&mut buf) {
                    got.extend_from_slice(&buf[..n]);
                }
                cx.yield_now().await;
            }
            *self.outcome.borrow_mut() = Some(Pushed {
                left_unread,
                sent,
                got,
            });
            self.stop.stop();
        }
    }

    /// An inline protocol's answers fill its queue on a short read, so the
    /// adapter stops reading; then more comes, and its notice waits, untaken.
    /// Then the peer reads, and one write empties the queue, in a turn that
    /// began full. The adapter must go back to the notice that waits: the
    /// Selector does not report the socket again until it is taken, and
    /// what came would never be answered. (It was, if the Selector happened
    /// to poll before it stopped watching for writes, which the adapter asks
    /// once its queue is empty: a write notice came then, and woke the
    /// adapter. In a busy server it does not poll at every cycle: about one
    /// run in 25 of `tests/echo.rs`'s bounded push hung, under load.)
    // Through the ring, there is no notice to wait: a receive is asked for
    // in the turn after there is room.
    #[test]
    #[cfg(all(target_os = "linux", not(uring)))]
    fn a_notice_that_came_while_the_answers_were_full_is_taken_once_they_are_sent() {
        use socket2::{Domain, Socket, Type};

        // Kernel buffers small enough to fill soon, set before the
        // connection is made (the accepted socket inherits the listener's),
        // and large enough for loopback's 64 KiB segments: smaller, TCP
        // drops segments and waits seconds to send them again.
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        listener.set_send_buffer_size(64 * 1024).expect("SO_SNDBUF");
        let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
        listener.bind(&loopback.into()).expect("bind");
        listener.listen(1).expect("listen");
        let peer = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        peer.set_recv_buffer_size(256 * 1024).expect("SO_RCVBUF");
        // Each piece goes at once: no waiting for an acknowledgement.
        peer.set_tcp_nodelay(true).expect("TCP_NODELAY");
        peer.connect(&listener.local_addr().expect("bound"))
            .expect("connect");
        let peer: TcpStream = peer.into();
        let ours: TcpStream = listener.accept().expect("accept").0.into();
        peer.set_nonblocking(true).expect("non-blocking");
        let ours = Rc::new(ours);

        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(
            ConnectedSocketAdapter::from_shared(ours.clone())
                .expect("adapter")
                .inline(crate::protocol::EchoProtocol),
        );
        csa.inbox::<Bytes>("inbox")
            .expect("inbox")
            .set_size(Some(4));
        csa.activate_on(&scheduler);
        let outcome = Rc::new(std::cell::RefCell::new(None));
        ComponentRef::new(PushThenRead {
            peer,
            ours,
            stop: scheduler.remote(),
            outcome: outcome.clone(),
        })
        .activate_on(&scheduler);
        scheduler.run().expect("run");

        let Pushed {
            left_unread,
            sent,
            got,
        } = outcome.borrow_mut().take().expect("the peer finished");
        assert!(left_unread > 0, "the adapter never stopped reading");
        assert_eq!(
            got.len(),
            sent.len(),
            "answers to {} bytes of the {} sent came back",
            got.len(),
            sent.len()
        );
        assert!(got == sent, "the answers are not what was sent");
    }

    /// Data and the FIN in one go: the adapter passes the data, then its
    /// `PeerClosed`, after one read that returns the data, and (with epoll,
    /// which says the FIN had come) no read to find the 0.
    #[test]
    #[cfg(target_os = "linux")]
    fn data_and_fin_together_take_one_read() {
        use std::io::Write;

        use rustix::event::{poll, PollFd, PollFlags};

        let (mut peer, ours) = connected_pair();
        let ours = Rc::new(ours);
        let scheduler = Scheduler::new();
        let csa = ComponentRef::new(
            ConnectedSocketAdapter::from_shared(ours.clone())
                .expect("adapter")
                .read_size(64),
        );
        let handler = ComponentRef::new(Idle);
        handler.activate_on(&scheduler);
        let received = handler.inbox::<Bytes>("inbox").expect("inbox");
        let control = handler.inbox::<Ipc>("control").expect("control");
        csa.link((&csa, "outbox"), (&handler, "inbox"))
            .expect("link");
        csa.link((&csa, "signal"), (&handler, "control"))
            .expect("link");
        csa.activate_on(&scheduler);
        // Asleep, it has read (finding nothing) and waits for a notice.
        run_until(&scheduler, "the adapter asleep", || csa.is_paused());
        let before = counted::reads();
        // Through the ring there is no read to count: a receive waits in
        // the kernel, and comes back with the data or the end.
        let reads_counted = !cfg!(uring);
        if reads_counted {
            assert_eq!((before.data, before.zero), (0, 0), "nothing came yet");
            assert!(before.failed >= 1, "it read, and found nothing");
        }

        peer.write_all(b"last words").expect("write");
        peer.shutdown(Shutdown::Write).expect("shutdown");
        // Both are in our socket before the Selector next looks.
        let mut fds = [PollFd::new(&*ours, PollFlags::RDHUP)];
        poll(&mut fds, None).expect("poll");
        assert!(fds[0].revents().contains(PollFlags::RDHUP));

        run_until(&scheduler, "the data and PeerClosed", || {
            control.data_ready()
        });
        let message = control.recv().expect("a message");
        assert!(
            message.finished_with::<PeerClosed>().is_some(),
            "{message:?}"
        );
        assert_eq!(received.recv().as_deref(), Some(&b"last words"[..]));
        assert!(received.is_empty());

        let after = counted::reads();
        let zero_reads = after.zero - before.zero;
        if !reads_counted {
            assert_eq!(after, before, "no read made");
        } else if !cfg!(epoll) {
            assert_eq!(after.data - before.data, 1, "one read returned the data");
            // The poller does not say the FIN had come: the adapter reads
            // again, a poll cycle later, to find the 0.
            assert_eq!(zero_reads, 1, "one read of 0");
        } else {
            assert_eq!(after.data - before.data, 1, "one read returned the data");
            assert_eq!(zero_reads, 0, "no read of 0");
        }

        // Its handler is told; the adapter waits for the handler to finish,
        // sending what it is given meanwhile.
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        assert!(!csa.is_finished(), "closed before its handler finished");
        csa.inbox::<Bytes>("inbox")
            .expect("inbox")
            .deliver(Bytes::from_static(b"the answer"))
            .expect("delivered");
        peer.set_nonblocking(true).expect("non-blocking");
        let mut answer = Vec::new();
        run_until(&scheduler, "the answer", || {
            read_available(&mut peer, &mut answer);
            answer == b"the answer"
        });
        // The adapter closes in order once told to finish.
        csa.inbox::<Ipc>("control")
            .expect("control")
            .deliver(axon::ipc::ProducerFinished::new().into())
            .expect("delivered");
        run_until(&scheduler, "the adapter to close", || csa.is_finished());
    }
}
