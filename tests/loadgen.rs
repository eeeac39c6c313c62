//! Tests of the load generator's ping-pong engines (`examples/loadgen`,
//! which `benches/echo.rs` measures servers with): each engine, against the
//! echo server run as a process, counts round trips for messages that come
//! back whole and for messages that come back in pieces; and each engine
//! fails, with an error that says why, against a server that answers with
//! other bytes and one that closes (and the ring against one that answers
//! with more bytes than it was sent). The chat load hears every line from
//! the chat server, with a write per line and pasted, and fails on a line
//! damaged or out of order.

#[path = "../examples/loadgen/chat.rs"]
#[allow(dead_code)] // what the chat load measures is the benches'
mod chat;
#[path = "../examples/loadgen/load.rs"]
#[allow(dead_code)] // the example's printing uses parts these tests do not
mod load;
mod util;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chat::Writes;
use load::{Engine, Load};
use util::Example;

/// Every engine this machine has.
fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Poller];
    if Engine::best() == Engine::Ring {
        engines.push(Engine::Ring);
    } else {
        eprintln!("no io_uring here: the ring engine is not tested");
    }
    engines
}

fn load(address: SocketAddr, connections: usize, size: usize, engine: Engine) -> Load {
    Load {
        address,
        connections,
        size,
        warmup: Duration::ZERO,
        duration: Duration::from_millis(300),
        engine,
    }
}

#[test]
fn each_engine_counts_checked_round_trips_against_the_echo_server() {
    let server = Example::server_with("echo_server", &["--inline"], "warn");
    for engine in engines() {
        let measured = load::run(&load(server.addr(), 100, 64, engine))
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        assert!(measured.fewest >= 1, "{engine:?}: {measured:?}");
        assert!(measured.p99 >= measured.p50, "{engine:?}: {measured:?}");
    }
}

/// A message larger than a provided buffer (2 KiB) and than one segment
/// comes back in several receives, each copied into its place. With 200
/// such echoes on their way at once, the ring's 512 buffers run out: a
/// receive that stops for want of one is armed again.
#[test]
fn each_engine_gathers_an_echo_that_comes_back_in_pieces() {
    let server = Example::server_with("echo_server", &["--inline"], "warn");
    for engine in engines() {
        let measured = load::run(&load(server.addr(), 200, 64 * 1024, engine))
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        assert!(measured.fewest >= 1, "{engine:?}: {measured:?}");
    }
}

/// A server on its own thread that answers each connection's first message
/// with `answer(message)`, then waits for the client to go; or, if the
/// answer is empty, closes the connection.
fn answering(answer: fn(Vec<u8>) -> Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("its address");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            thread::spawn(move || {
                let mut message = vec![0; 64];
                if stream.read_exact(&mut message).is_ok() {
                    let answer = answer(message);
                    if answer.is_empty() {
                        return;
                    }
                    let _ = stream.write_all(&answer);
                    // Until the client closes.
                    while let Ok(1..) = stream.read(&mut [0; 64]) {}
                }
            });
        }
    });
    address
}

fn fails_with(address: SocketAddr, what: &str) {
    for engine in engines() {
        let outcome = load::run(&load(address, 1, 64, engine));
        let error: io::Error = match outcome {
            Ok(measured) => panic!("{engine:?}: measured {measured:?}, expected {what:?}"),
            Err(e) => e,
        };
        assert!(
            error.to_string().contains(what),
            "{engine:?}: {error}, expected {what:?}"
        );
    }
}

#[test]
fn each_engine_fails_on_an_echo_of_other_bytes() {
    fails_with(
        answering(|mut message| {
            message[10] ^= 1;
            message
        }),
        "differs from the message",
    );
}

/// The ring's receives take what has come, so it sees bytes past the
/// message. (The poller reads at most the rest of the message at a time:
/// extra bytes would be the start of the next echo, and it would wait for
/// the rest of it.)
#[test]
fn the_ring_fails_on_an_echo_longer_than_the_message() {
    if Engine::best() != Engine::Ring {
        eprintln!("no io_uring here: nothing to test");
        return;
    }
    let address = answering(|mut message| {
        message.extend_from_slice(b"and more");
        message
    });
    let error = load::run(&load(address, 1, 64, Engine::Ring))
        .expect_err("an echo with bytes after the message");
    assert!(
        error.to_string().contains("longer than the message"),
        "{error}"
    );
}

#[test]
fn each_engine_fails_when_the_server_closes() {
    fails_with(answering(|_| Vec::new()), "closed the connection");
}

#[test]
fn the_chat_load_hears_every_line_from_the_chat_server_both_ways() {
    let server = Example::server("simple_server");
    for writes in [Writes::PerLine, Writes::Pasted] {
        let outcome = chat::run(server.addr(), 6, 50, writes, || Duration::ZERO)
            .unwrap_or_else(|e| panic!("{}: {e}", writes.name()));
        assert_eq!(outcome.expected, 6 * 5 * 50, "{}", writes.name());
        assert_eq!(outcome.delivered, outcome.expected, "{}", writes.name());
    }
}

/// A chat server on its own threads that sends every line a client says to
/// every other client, after `alter` has had its way with it.
fn relaying(alter: fn(&mut Vec<u8>)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("its address");
    let everyone: Arc<Mutex<Vec<(usize, TcpStream)>>> = Arc::default();
    thread::spawn(move || {
        for (me, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { return };
            let Ok(writer) = stream.try_clone() else {
                return;
            };
            everyone.lock().expect("not poisoned").push((me, writer));
            let everyone = Arc::clone(&everyone);
            thread::spawn(move || {
                let mut lines = BufReader::new(stream);
                let mut line = Vec::new();
                while matches!(lines.read_until(b'\n', &mut line), Ok(1..)) {
                    alter(&mut line);
                    for (them, stream) in everyone.lock().expect("not poisoned").iter_mut() {
                        if *them != me {
                            let _ = stream.write_all(&line);
                        }
                    }
                    line.clear();
                }
            });
        }
    });
    address
}

#[test]
fn the_chat_load_fails_on_a_damaged_line() {
    let address = relaying(|line| {
        if line.starts_with(b"client 0002 line 000007") {
            line[30] = b'y';
        }
    });
    let error =
        chat::run(address, 4, 20, Writes::PerLine, || Duration::ZERO).expect_err("a damaged line");
    assert!(
        error.to_string().contains("expected line 7 of client 2"),
        "{error}"
    );
}

#[test]
fn the_chat_load_fails_on_a_line_out_of_order() {
    let address = relaying(|line| {
        // Line 3 of client 1 is said as line 4, skipping one.
        if line.starts_with(b"client 0001 line 000003") {
            line[22] = b'4';
        }
    });
    let error = chat::run(address, 3, 10, Writes::Pasted, || Duration::ZERO)
        .expect_err("a line out of order");
    assert!(
        error.to_string().contains("expected line 3 of client 1"),
        "{error}"
    );
}
