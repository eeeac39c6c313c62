//! System tests of `ServerCore` run in-process, on a scheduler thread of its
//! own, with protocol handlers written here, and real TCP clients on 127.0.0.1.
//!
//! Covers: a bind failure is reported (as an error from `bind`, and on
//! `signal` when the server binds as it starts); an orderly shutdown (through
//! the server's `control`) delivers all pending output before closing, and
//! `run()` returns Ok; the handler factory gets the connection's
//! `ConnectionInfo`; a handler with a `serversignal` outbox can shut the server
//! down; a handler that sends `ProducerFinished` on its `signal` has its
//! connection closed after its queued output; a handler told `PeerClosed` can
//! still send everything before the connection closes; a client that sends
//! more than its handler's inbox holds and half-closes while its handler is
//! behind gets every byte back before the end of the stream; a client's reset
//! reaches its handler as a `SocketShutdown` with `ConnectionReset`, and the
//! server carries on; a panic in a handler (or in a component inside it)
//! closes only its own connection, and is logged naming the component and
//! the client; a handler's log lines name the handler and its client; past
//! the shutdown grace a handler is stopped with every component inside it.

mod util;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, ComponentRef, Cx, Handle, Standard};
use bytes::Bytes;
use kamaelia::ipc::{server_shutdown, ConnectionInfo, PeerClosed, SocketShutdown};
use kamaelia::util::PassThrough;
use kamaelia::{
    EchoProtocol, ServerCore, SimpleServer, DEFAULT_HANDLER_INBOX_SIZE, DEFAULT_READ_SIZE,
};
use util::{
    assert_same_bytes, pattern, Client, InProcessServer, SchedulerThread, HANG_GUARD,
    SLOW_HANG_GUARD,
};

/// True if `message` is the `ProducerFinished` carrying `PeerClosed`.
fn is_peer_closed(message: &Ipc) -> bool {
    message.finished_with::<PeerClosed>().is_some()
}

/// The `SocketShutdown` a message carries, if it does.
fn socket_shutdown(message: &Ipc) -> Option<SocketShutdown> {
    message.finished_with::<SocketShutdown>().cloned()
}

#[test]
fn bind_failure_is_reported_as_address_in_use() {
    // std's listener sets SO_REUSEADDR, as ServerCore's does; on Linux a second
    // bind is still refused while the first socket listens.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = taken.local_addr().expect("local address").port();
    let result = ServerCore::new(|_: &ConnectionInfo| EchoProtocol)
        .host("127.0.0.1")
        .port(port)
        .bind();
    match result {
        Err(e) => assert_eq!(
            e.kind(),
            io::ErrorKind::AddrInUse,
            "binding a port in use failed, but not with AddrInUse: {e}"
        ),
        Ok(server) => panic!(
            "bound {:?}, a port another socket listens on",
            server.local_addr()
        ),
    }
    // The first listener is untouched: it still accepts connections.
    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect to the first listener");
    let (accepted, from) = taken.accept().expect("the first listener accepts");
    assert_eq!(from, client.local_addr().expect("the client's address"));
    drop((accepted, client));
}

#[test]
fn bind_failure_when_starting_unbound_is_reported_on_signal() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = taken.local_addr().expect("local address").port();
    let (mut thread, server) = SchedulerThread::start(move || {
        // Not bound beforehand: the server binds as it starts, and fails.
        let server = ComponentRef::new(
            ServerCore::new(|_: &ConnectionInfo| EchoProtocol)
                .host("127.0.0.1")
                .port(port),
        );
        Handle::<Ipc, Ipc>::new(&server).expect("a server's boxes")
    });
    match server.get_signal_timeout(HANG_GUARD) {
        Ok(Ipc::ErrorInformation(info)) => {
            let error = info
                .exception
                .as_ref()
                .expect("ErrorInformation carries the error");
            let io_error = error
                .downcast_ref::<io::Error>()
                .unwrap_or_else(|| panic!("the error is not an io::Error: {error}"));
            assert_eq!(io_error.kind(), io::ErrorKind::AddrInUse, "{io_error}");
        }
        other => panic!("expected ErrorInformation on the server's signal, got {other:?}"),
    }
    thread.join_ok();
    drop(taken);
}

/// Sends `size` bytes of a pattern as soon as it starts (telling the test it
/// has started), then waits for any message on `control` and ends.
struct Blaster {
    size: usize,
    seed: u64,
    started: mpsc::Sender<()>,
}

impl Component for Blaster {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let _ = self.started.send(());
        let data = Bytes::from(pattern(self.size, self.seed));
        let mut at = 0;
        while at < data.len() {
            let end = (at + 64 * 1024).min(data.len());
            cx.outbox.send(data.slice(at..end)).await;
            at = end;
        }
        cx.control.next().await;
    }
}

#[test]
fn shutdown_delivers_pending_output_then_closes_and_run_returns_ok() {
    // The handler queues 8 MiB for a client that has read nothing; the server
    // is then told to shut down. Everything queued must still reach the
    // client, then the end of the stream, and the scheduler must finish.
    const SIZE: usize = 8 * 1024 * 1024;
    const SEED: u64 = 0x5eed;
    let (started_tx, started) = mpsc::channel();
    let mut server = InProcessServer::start(move || {
        ServerCore::new(move |_: &ConnectionInfo| Blaster {
            size: SIZE,
            seed: SEED,
            started: started_tx.clone(),
        })
        // Long enough that only a hang would force the connection closed.
        .shutdown_grace(SLOW_HANG_GUARD)
    });
    let mut client = Client::named(server.addr, "client that reads late");
    started
        .recv_timeout(HANG_GUARD)
        .expect("the connection's handler never started");

    server.shutdown();
    let received = client.read_to_end();
    assert_same_bytes(
        &received,
        &pattern(SIZE, SEED),
        "the output pending at shutdown",
    );
    drop(client);

    server.expect_finished_signal();
    server.thread.join_ok();
    // The listener has closed with the server.
    let refused = TcpStream::connect(server.addr);
    assert!(
        refused.is_err(),
        "the port still accepts connections after the server finished"
    );
}

#[test]
fn the_handler_factory_gets_the_connection_info() {
    let (tx, infos) = mpsc::channel();
    let mut server = InProcessServer::start(move || {
        ServerCore::new(move |info: &ConnectionInfo| {
            let _ = tx.send(*info);
            EchoProtocol
        })
    });
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for n in 0..2 {
        let mut client = Client::named(server.addr, &format!("client {n}"));
        let info = infos
            .recv_timeout(HANG_GUARD)
            .expect("the factory was not called for a connection");
        assert!(
            info.id > 0 && !ids.contains(&info.id),
            "client {n}: id {} after {ids:?}",
            info.id
        );
        ids.push(info.id);
        let me = client.local_addr();
        assert_eq!(
            info,
            ConnectionInfo {
                id: info.id,
                peer: me.ip(),
                peer_port: me.port(),
                local_ip: server.addr.ip(),
                local_port: server.addr.port(),
            },
            "client {n}: the factory's ConnectionInfo does not match the connection"
        );
        // The handler made for it serves it.
        client.send(b"echo\n");
        assert_eq!(client.read_line(), b"echo\n");
        clients.push(client);
    }

    server.shutdown();
    for client in &mut clients {
        client.expect_eof();
    }
    drop(clients);
    server.expect_finished_signal();
    server.thread.join_ok();
}

axon::boxes! {
    /// The boxes of a [`Stopper`]: the standard four and `serversignal`.
    struct StopperBoxes {
        /// Bytes from the client.
        inbox inbox: Bytes,
        /// From the server and the connection.
        inbox control: Ipc,
        /// Bytes to the client.
        outbox outbox: Bytes,
        /// To the connection.
        outbox signal: Ipc,
        /// To the server's `control`.
        outbox serversignal: Ipc,
    }
}

/// Echoes; on a line `stop` it answers `stopping` and shuts the whole server
/// down through `serversignal`. Ends on any message on `control`.
struct Stopper;

impl Component for Stopper {
    type Boxes = StopperBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            // Looked at first: what the client sent before it finished is in
            // `inbox` by then, and is still answered.
            let finished = cx.control.recv().is_some();
            for data in cx.inbox.drain() {
                if &data[..] == b"stop\n" {
                    cx.outbox.send(Bytes::from_static(b"stopping\n")).await;
                    cx.serversignal.send(server_shutdown()).await;
                } else {
                    cx.outbox.send(data).await;
                }
            }
            if finished {
                return;
            }
            cx.idle().await;
        }
    }
}

#[test]
fn a_handler_can_shut_the_server_down_through_serversignal() {
    let mut server = InProcessServer::start(|| ServerCore::new(|_: &ConnectionInfo| Stopper));
    let mut bystander = Client::named(server.addr, "bystander");
    bystander.send(b"hello\n");
    assert_eq!(bystander.read_line(), b"hello\n");
    let mut stopper = Client::named(server.addr, "stopper");
    stopper.send(b"stop\n");
    assert_eq!(stopper.read_line(), b"stopping\n");

    // The whole server shuts down: every client is closed, the server signals
    // that it has finished, and the scheduler's run returns.
    stopper.expect_eof();
    bystander.expect_eof();
    drop((stopper, bystander));
    server.expect_finished_signal();
    server.thread.join_ok();
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "the port still accepts connections after the server shut down"
    );
}

axon::boxes! {
    /// A handler's boxes with a `serversignal` of the wrong type.
    struct WrongSignalBoxes {
        /// Bytes from the client.
        inbox inbox: Bytes,
        /// From the server and the connection.
        inbox control: Ipc,
        /// Bytes to the client.
        outbox outbox: Bytes,
        /// To the connection.
        outbox signal: Ipc,
        /// Not `Ipc`: the server cannot link it to its `control`.
        outbox serversignal: String,
    }
}

/// Would echo, if the server could wire it (it used to, leaving its
/// `serversignal` silently unlinked).
struct WrongSignal;

impl Component for WrongSignal {
    type Boxes = WrongSignalBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while cx.control.is_empty() {
            for data in cx.inbox.drain() {
                cx.outbox.send(data).await;
            }
            cx.idle().await;
        }
    }
}

#[test]
fn a_serversignal_of_the_wrong_type_closes_the_connection_and_the_server_goes_on() {
    let mut server = InProcessServer::start(|| ServerCore::new(|_: &ConnectionInfo| WrongSignal));
    for name in ["first", "second"] {
        let mut client = Client::named(server.addr, name);
        client.send(b"echo?\n");
        client.expect_eof();
    }
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

/// Sends `size` bytes, then `ProducerFinished` on `signal` (closing its
/// connection), then reports every `control` message to the test until the
/// connection has closed.
struct SayAndClose {
    size: usize,
    seed: u64,
    control: mpsc::Sender<Ipc>,
}

impl Component for SayAndClose {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let data = Bytes::from(pattern(self.size, self.seed));
        for chunk in data.chunks(100_000) {
            cx.outbox.send(data.slice_ref(chunk)).await;
        }
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
        report_control_until_closed(&cx, &self.control, false).await;
    }
}

/// Sends every message on a handler's `control` to `tx`, until the one that
/// says its connection has closed (`SocketShutdown`). If `close_when_told`,
/// the first other message (`PeerClosed`, or the server's `ProducerFinished`)
/// makes the handler close its connection (`ProducerFinished` on `signal`).
async fn report_control_until_closed(
    cx: &Cx<Standard<Bytes, Bytes>>,
    tx: &mpsc::Sender<Ipc>,
    close_when_told: bool,
) {
    let mut closing = !close_when_told;
    loop {
        for message in cx.control.drain() {
            let closed = socket_shutdown(&message).is_some();
            let _ = tx.send(message);
            if closed {
                return;
            }
            if !closing {
                closing = true;
                cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
            }
        }
        cx.idle().await;
    }
}

/// Waits for the `SocketShutdown` a handler reports (see
/// [`report_control_until_closed`]); a `PeerClosed` before it is allowed.
fn reported_shutdown(control: &mpsc::Receiver<Ipc>) -> SocketShutdown {
    loop {
        let message = control
            .recv_timeout(HANG_GUARD)
            .expect("the handler was not told its connection closed");
        if let Some(shutdown) = socket_shutdown(&message) {
            return shutdown;
        }
        assert!(
            is_peer_closed(&message),
            "unexpected message on the handler's control: {message:?}"
        );
    }
}

#[test]
fn producer_finished_on_a_handlers_signal_closes_the_connection_after_its_output() {
    const SIZE: usize = 2 * 1024 * 1024;
    const SEED: u64 = 0xc105e;
    let (tx, control) = mpsc::channel();
    let mut server = InProcessServer::start(move || {
        ServerCore::new(move |_: &ConnectionInfo| SayAndClose {
            size: SIZE,
            seed: SEED,
            control: tx.clone(),
        })
    });
    let mut client = Client::named(server.addr, "client");
    let received = client.read_to_end();
    assert_same_bytes(&received, &pattern(SIZE, SEED), "the handler's output");
    drop(client);

    // The handler hears that its connection closed in order.
    let shutdown = reported_shutdown(&control);
    assert!(
        shutdown.how_died.is_none(),
        "an orderly close reported an error: {:?}",
        shutdown.how_died
    );

    // The server itself is still up.
    let mut second = Client::named(server.addr, "second client");
    assert_eq!(second.read_exact_n(16), pattern(SIZE, SEED)[..16]);
    drop(second);
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

#[test]
fn after_peer_closed_a_handler_still_sends_everything_then_the_connection_closes() {
    // With a handler that echoes what is left when told PeerClosed, a client
    // that writes and half-closes gets all of it back, then the end of the
    // stream. Both a whole number of the adapter's 32 KiB reads and an odd size.
    let mut server = InProcessServer::start(|| SimpleServer::new(|| EchoProtocol));
    for (size, seed) in [(256 * 1024, 1), (100_003, 2), (6, 3)] {
        let mut client = Client::named(server.addr, &format!("client sending {size} bytes"));
        let data = pattern(size, seed);
        client.send(&data);
        client.shutdown_write();
        let echoed = client.read_to_end();
        assert_same_bytes(&echoed, &data, &format!("the echo of {size} bytes"));
    }
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

#[test]
fn a_client_that_half_closes_while_its_handler_is_behind_gets_every_byte_back() {
    // Four times what the handler's inbox holds (DEFAULT_HANDLER_INBOX_SIZE
    // chunks of at most one DEFAULT_READ_SIZE read each), written at once and
    // followed by the end of the stream, while the client reads the echo back
    // 1 KiB at a time. The client is the slowest part, so the echo backs up
    // into the handler: its inbox fills and its adapter holds back reading.
    // When the adapter at last reads the end of the stream and tells the
    // handler (`PeerClosed` on its `control`), the handler is usually still
    // chunks behind (nothing here forces it; with the handler instrumented,
    // 9 runs in 10 were, by 5 to 53 chunks). It must echo all of them before
    // it finishes, and the connection must close only after that. (The
    // reader that is behind for certain is in axon's `inbox_reading` tests.)
    const SIZE: usize = 4 * DEFAULT_HANDLER_INBOX_SIZE * DEFAULT_READ_SIZE;
    const SEED: u64 = 0xbe_41d;
    let mut server = InProcessServer::start(|| SimpleServer::new(|| EchoProtocol));
    let mut client = Client::named(server.addr, "client that half-closes a burst");
    let data = pattern(SIZE, SEED);

    let mut writer = client.stream.try_clone().expect("clone the stream");
    let to_send = data.clone();
    let sender = thread::spawn(move || -> io::Result<()> {
        writer.write_all(&to_send)?;
        writer.shutdown(Shutdown::Write)
    });

    let mut echoed = Vec::with_capacity(SIZE);
    let mut piece = [0u8; 1024];
    loop {
        match client.stream.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => echoed.extend_from_slice(&piece[..n]),
            Err(e) => panic!(
                "reading the echo after {} of {SIZE} bytes: {e}",
                echoed.len()
            ),
        }
    }
    sender
        .join()
        .expect("the writer thread panicked")
        .expect("writing the burst, then the end of the stream");
    assert_same_bytes(&echoed, &data, "the echo of a burst behind a half-close");
    drop(client);

    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

/// Says `hello`, then reports every `control` message to the test until its
/// connection has closed; closes the connection when told the client has
/// closed its side.
struct HelloAndReport {
    control: mpsc::Sender<Ipc>,
}

impl Component for HelloAndReport {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.outbox.send(Bytes::from_static(b"hello\n")).await;
        report_control_until_closed(&cx, &self.control, true).await;
    }
}

#[test]
fn a_client_reset_is_reported_to_the_handler_as_connection_reset() {
    let (tx, control) = mpsc::channel();
    let mut server = InProcessServer::start(move || {
        ServerCore::new(move |_: &ConnectionInfo| HelloAndReport {
            control: tx.clone(),
        })
    });
    let mut client = Client::named(server.addr, "client that resets");
    // Its handler runs and its connection is served: the reset comes on an
    // established connection.
    assert_eq!(client.read_line(), b"hello\n");
    client.reset();

    let shutdown = reported_shutdown(&control);
    let error = shutdown
        .how_died
        .as_ref()
        .expect("a reset connection reports why it died");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");

    // The server still serves a new client, which closes in order.
    let mut second = Client::named(server.addr, "second client");
    assert_eq!(second.read_line(), b"hello\n");
    second.shutdown_write();
    second.expect_eof();
    let shutdown = reported_shutdown(&control);
    assert!(
        shutdown.how_died.is_none(),
        "the second client's orderly close reported an error: {:?}",
        shutdown.how_died
    );
    drop(second);

    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

/// Has no use for bytes: its boxes cannot be wired to a connection.
struct Mismatched;

impl Component for Mismatched {
    type Boxes = Standard<u32, u32>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

#[test]
fn a_connection_whose_handler_cannot_be_wired_is_closed_and_shutdown_completes() {
    let mut server = InProcessServer::start(|| ServerCore::new(|_: &ConnectionInfo| Mismatched));
    let mut client = Client::named(server.addr, "client of an unwirable handler");
    // Its adapter is started told to close: the client sees the end at once.
    client.expect_eof();
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

/// Echoes what it receives, logging each chunk, and panics on a chunk that
/// starts with `panic`; passes on what ended it, so that it can stand in a
/// Pipeline.
struct Touchy;

impl Component for Touchy {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(data) = cx.recv_until_finished().await {
            tracing::info!(text = %String::from_utf8_lossy(&data).trim_end(), "echoing");
            assert!(!data.starts_with(b"panic"), "told to panic");
            cx.outbox.send(data).await;
        }
        for message in cx.control.drain() {
            cx.signal.send(message).await;
        }
    }
}

/// Proves that a panic in one connection's handler (`Touchy`, or a
/// component inside the handler) closes that connection alone, promptly, and
/// is logged with the panicking component's name and id: clients B and C,
/// mid-conversation, keep their echoes, and a new client is served.
fn a_panic_closes_only_its_own_connection(server: &InProcessServer) {
    util::logs::capture();
    let mut b = Client::named(server.addr, "client B");
    let mut c = Client::named(server.addr, "client C");
    let mut a = Client::named(server.addr, "client A");
    for (client, line) in [(&mut b, "b 1\n"), (&mut c, "c 1\n"), (&mut a, "a 1\n")] {
        client.send(line.as_bytes());
        client.expect_line(line.as_bytes());
    }

    a.send(b"panic\n");
    // Closed in order (the end of the stream), or reset: either way at once,
    // not after a linger or a timeout.
    let _ = a.drain_until_closed();
    let peer = format!("peer={}", a.local_addr());
    util::logs::await_line("the panic, naming the component and the client", |line| {
        line.contains("component panicked")
            && line.contains("component{id=Touchy#")
            && line.contains(&peer)
    });

    for (client, line) in [(&mut b, "b 2\n"), (&mut c, "c 2\n")] {
        client.send(line.as_bytes());
        client.expect_line(line.as_bytes());
    }
    let mut d = Client::named(server.addr, "client D");
    d.send(b"d 1\n");
    d.expect_line(b"d 1\n");
}

#[test]
fn a_handler_that_panics_closes_only_its_own_connection() {
    let mut server = InProcessServer::start(|| ServerCore::new(|_: &ConnectionInfo| Touchy));
    a_panic_closes_only_its_own_connection(&server);
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

#[test]
fn a_panic_inside_a_handler_closes_only_its_own_connection() {
    // The handler is a Pipeline; the component inside it panics, and the
    // Pipeline must not run on, holding the connection open, without it.
    let mut server = InProcessServer::start(|| {
        ServerCore::new(|_: &ConnectionInfo| {
            kamaelia::Pipeline![Touchy, PassThrough::<Bytes>::new()]
        })
    });
    a_panic_closes_only_its_own_connection(&server);
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

#[test]
fn a_handlers_log_lines_name_the_handler_and_its_client() {
    util::logs::capture();
    let mut server = InProcessServer::start(|| ServerCore::new(|_: &ConnectionInfo| Touchy));
    let mut clients: Vec<Client> = (0..2)
        .map(|n| Client::named(server.addr, &format!("client {n}")))
        .collect();
    for (n, client) in clients.iter_mut().enumerate() {
        let text = format!("line from client {n} on {}", client.local_addr());
        client.send(format!("{text}\n").as_bytes());
        client.expect_line(format!("{text}\n").as_bytes());
        // The handler logged only the text; the spans it runs in add who it
        // is and whom it serves.
        let line = util::logs::await_line("the handler's line", |line| {
            line.contains("echoing") && line.contains(&text)
        });
        let peer = format!("connection{{peer={}}}", client.local_addr());
        assert!(
            line.contains(&peer) && line.contains("component{id=Touchy#"),
            "the handler's line does not say which handler and client: {line}"
        );
    }
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

/// Ignores everything, for ever: a stage that never hears it should end.
struct Deaf;

impl Component for Deaf {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.idle().await;
        }
    }
}

#[test]
fn past_the_grace_a_handler_is_stopped_with_every_component_inside_it() {
    util::logs::capture();
    let mut server = InProcessServer::start(|| {
        ServerCore::new(|_: &ConnectionInfo| kamaelia::Pipeline![PassThrough::<Bytes>::new(), Deaf])
            // The timer that ends the grace, not a wait for anything.
            .shutdown_grace(std::time::Duration::from_millis(50))
    });
    let client = Client::named(server.addr, "client of a deaf handler");
    let peer = format!("info={} ->", client.local_addr());
    util::logs::await_line("the connection set up", |line| {
        line.contains("kamaelia::server_core: connection") && line.contains(&peer)
    });

    server.shutdown();
    server.expect_finished_signal();
    // Every component has ended, Deaf too: the scheduler has nothing left.
    server.thread.join_ok();
    drop(client);
}
