//! System tests of servers whose protocol runs inside each connection's
//! adapter (`ServerCore::inline`, `SimpleServer::inline`), in-process, with
//! real TCP clients on 127.0.0.1.
//!
//! Covers: an inline echo sends back every byte, across chunks far larger
//! than a read, and closes once the client has closed; what a protocol sends
//! when told the client has closed is the last the client gets; a protocol
//! that finishes has what it sent delivered, then the connection closes, and
//! what the client sends after is not given to it; what is sent whole and
//! what is copied go out in order; the factory gets the
//! connection's `ConnectionInfo`; an orderly shutdown closes inline
//! connections after their output; a panic in one connection's protocol
//! closes that connection alone, and the server still shuts down in order
//! (its adapter reported the close).

mod util;

use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use kamaelia::internet::{InlineProtocol, Reply};
use kamaelia::ipc::ConnectionInfo;
use kamaelia::{EchoProtocol, ServerCore, SimpleServer, DEFAULT_READ_SIZE};
use util::{assert_same_bytes, pattern, Client, InProcessServer};

/// Starts `make`'s server, runs `check` against it, then shuts it down in
/// order and waits for it to finish.
fn with_server(
    make: impl FnOnce() -> ServerCore + Send + 'static,
    check: impl FnOnce(&InProcessServer),
) {
    let mut server = InProcessServer::start(make);
    check(&server);
    server.shutdown();
    server.expect_finished_signal();
    server.thread.join_ok();
}

#[test]
fn an_inline_echo_sends_back_every_byte_then_closes_after_the_client() {
    with_server(
        || SimpleServer::inline(|| EchoProtocol),
        |server| {
            let mut client = Client::named(server.addr, "client");
            client.send(b"hello\n");
            client.expect_line(b"hello\n");
            // Many reads' worth, sent before anything is read back: the
            // adapter queues what the socket will not take yet, and stops
            // reading while its queue is full, without losing a byte.
            let data = pattern(8 * DEFAULT_READ_SIZE, 7);
            let writer = {
                let mut stream = client.stream.try_clone().expect("clone");
                let data = data.clone();
                std::thread::spawn(move || {
                    std::io::Write::write_all(&mut stream, &data).expect("write");
                    stream
                        .shutdown(std::net::Shutdown::Write)
                        .expect("shutdown");
                })
            };
            let echoed = client.read_to_end();
            writer.join().expect("the writer");
            assert_same_bytes(&echoed, &data, "the echo");
        },
    );
}

/// Counts the bytes it is given, and says how many once the client closes.
struct Count(usize);

impl InlineProtocol for Count {
    fn on_data(&mut self, data: &[u8], _reply: &mut Reply<'_>) {
        self.0 += data.len();
    }

    fn on_peer_closed(&mut self, reply: &mut Reply<'_>) {
        reply.send(format!("{} bytes\n", self.0).as_bytes());
    }
}

#[test]
fn what_a_protocol_sends_when_the_client_closes_is_the_last_it_gets() {
    with_server(
        || SimpleServer::inline(|| Count(0)),
        |server| {
            let mut client = Client::named(server.addr, "client");
            client.send(&pattern(100_000, 3));
            client.shutdown_write();
            client.expect_line(b"100000 bytes\n");
            client.expect_eof();
        },
    );
}

/// Echoes lines until `quit`, then says goodbye and finishes; reports every
/// call it gets.
struct Quitter {
    calls: mpsc::Sender<Vec<u8>>,
}

impl InlineProtocol for Quitter {
    fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
        let _ = self.calls.send(data.to_vec());
        if data.starts_with(b"quit") {
            reply.send(b"bye\n");
            reply.finish();
        } else {
            reply.send(data);
        }
    }
}

#[test]
fn a_protocol_that_finishes_has_its_output_sent_then_the_connection_closes() {
    util::logs::capture();
    let (calls_tx, calls) = mpsc::channel();
    with_server(
        move || {
            SimpleServer::inline(move || Quitter {
                calls: calls_tx.clone(),
            })
        },
        |server| {
            let mut client = Client::named(server.addr, "client");
            client.send(b"one\n");
            client.expect_line(b"one\n");
            client.send(b"quit\n");
            client.expect_line(b"bye\n");
            // The server has shut its sending side; what the client sends
            // now is read (so that it is not held up) but not given to the
            // protocol, and the connection closes when the client does.
            client.send(b"ignored\n");
            client.expect_eof();
            client.shutdown_write();
            // The adapter closes once it has read to the client's close, so
            // past `ignored`: only then can the calls be counted.
            let peer = format!("peer={}", client.local_addr());
            util::logs::await_line("the connection's close", |line| {
                line.contains("connection closed") && line.contains(&peer)
            });
            drop(client);
            let given: Vec<Vec<u8>> = calls.try_iter().collect();
            assert_eq!(given, [&b"one\n"[..], &b"quit\n"[..]]);
        },
    );
}

/// Answers each read with its bytes in three parts, the middle one sent
/// whole (not copied).
struct Parts;

impl InlineProtocol for Parts {
    fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
        reply.send(b"<");
        reply.send_bytes(Bytes::copy_from_slice(
            data.strip_suffix(b"\n").unwrap_or(data),
        ));
        reply.send(b">\n");
    }
}

#[test]
fn what_is_sent_whole_and_what_is_copied_go_out_in_order() {
    with_server(
        || SimpleServer::inline(|| Parts),
        |server| {
            let mut client = Client::named(server.addr, "client");
            for n in 0..3 {
                client.send(format!("part {n}\n").as_bytes());
                client.expect_line(format!("<part {n}>\n").as_bytes());
            }
        },
    );
}

/// Says who its client is.
struct Greeter(ConnectionInfo);

impl InlineProtocol for Greeter {
    fn on_data(&mut self, _data: &[u8], reply: &mut Reply<'_>) {
        reply.send(format!("{}:{}\n", self.0.peer, self.0.peer_port).as_bytes());
    }
}

#[test]
fn the_inline_factory_gets_the_connection_info() {
    with_server(
        || ServerCore::inline(|info: &ConnectionInfo| Greeter(*info)),
        |server| {
            let mut client = Client::named(server.addr, "client");
            client.send(b"who am I?\n");
            let expected = format!("{}\n", client.local_addr());
            client.expect_line(expected.as_bytes());
        },
    );
}

#[test]
fn shutdown_closes_inline_connections_after_their_output() {
    let mut server = InProcessServer::start(|| SimpleServer::inline(|| EchoProtocol));
    let mut clients: Vec<Client> = (0..3)
        .map(|n| Client::named(server.addr, &format!("client {n}")))
        .collect();
    for (n, client) in clients.iter_mut().enumerate() {
        let line = format!("line {n}\n");
        client.send(line.as_bytes());
        client.expect_line(line.as_bytes());
    }
    server.shutdown();
    // Closed without waiting for the clients to close first, as a component
    // handler's connection is once its handler finishes.
    for client in &mut clients {
        client.expect_eof();
    }
    server.expect_finished_signal();
    drop(clients);
    server.thread.join_ok();
}

/// Echoes, but panics on `panic`.
struct Touchy;

impl InlineProtocol for Touchy {
    fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
        // What it gathered before the panic must go nowhere.
        reply.send(b"half an answer ");
        assert!(!data.starts_with(b"panic"), "told to panic");
        reply.send(data);
    }
}

#[test]
fn a_panicking_inline_protocol_closes_only_its_own_connection() {
    util::logs::capture();
    with_server(
        // A grace far past the test's wait for the server to finish: only
        // a connection that was never reported closed would use it.
        || SimpleServer::inline(|| Touchy).shutdown_grace(Duration::from_secs(3600)),
        |server| {
            let mut a = Client::named(server.addr, "client A");
            let mut b = Client::named(server.addr, "client B");
            for (client, line) in [(&mut a, "a 1\n"), (&mut b, "b 1\n")] {
                client.send(line.as_bytes());
                client.expect_line(format!("half an answer {line}").as_bytes());
            }
            a.send(b"panic\n");
            // Closed at once, with nothing of what the protocol had
            // gathered before it panicked.
            assert_eq!(a.drain_until_closed(), 0, "bytes after the panic");
            let peer = format!("peer={}", a.local_addr());
            util::logs::await_line("the close, naming the client and the panic", |line| {
                line.contains("inline protocol panicked") && line.contains(&peer)
            });
            // The answer buffer the adapters share holds nothing of it either.
            b.send(b"b 2\n");
            b.expect_line(b"half an answer b 2\n");
            let mut c = Client::named(server.addr, "client C");
            c.send(b"c 1\n");
            c.expect_line(b"half an answer c 1\n");
        },
    );
    // `with_server` has seen the server finish: the panicked connection was
    // reported closed, or the server would have waited out its grace.
}
