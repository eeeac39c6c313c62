//! System tests of `TcpClient`, in-process on a scheduler thread of its own
//! against servers on 127.0.0.1, and of the `tcp_client` example binary.
//!
//! Covers: a refused connect ends the client with one `ProducerFinished`
//! carrying a `SocketShutdown` whose `how_died` is `ConnectionRefused`; data
//! and `ProducerFinished` given to the client before it connects are kept
//! until it is connected, round-trip through an echo server, and the client
//! ends with `how_died: None`; a server that closes ends the client the same
//! way; a client for "localhost" looks the name up (on the resolver's
//! thread) and round-trips the same way; the client sends nothing after its
//! final signal; the binary prints the clever echo
//! server's greeting and the echo of its input and exits 0, and reports a
//! refused connect on stderr with exit status 1.

mod util;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{ComponentRef, Handle, RemoteSender};
use bytes::Bytes;
use kamaelia::ipc::SocketShutdown;
use kamaelia::TcpClient;
use util::{
    assert_same_bytes, clever_greeting, closed_port, one_connection_server, pattern, run_example,
    Example, SchedulerThread, HANG_GUARD,
};

/// A `TcpClient` on a background scheduler, driven through an
/// [`axon::Handle`]: what it sends out of `outbox` and `signal` comes to the
/// test.
struct ClientRig {
    inbox: RemoteSender<Bytes>,
    handle: Handle<Bytes, Bytes>,
    thread: SchedulerThread,
}

impl ClientRig {
    /// Starts a `TcpClient` for 127.0.0.1:`port`.
    fn start(port: u16) -> ClientRig {
        ClientRig::launch("127.0.0.1", port, None)
    }

    /// Starts a `TcpClient` for `host`:`port`.
    fn start_at(host: &'static str, port: u16) -> ClientRig {
        ClientRig::launch(host, port, None)
    }

    /// Starts a `TcpClient` for 127.0.0.1:`port` that, before it runs at
    /// all, has `input` in its `inbox` and `ProducerFinished` on its
    /// `control`: everything it is given arrives before its connection is
    /// made.
    fn start_given_all_of(port: u16, input: Vec<Bytes>) -> ClientRig {
        ClientRig::launch("127.0.0.1", port, Some(input))
    }

    fn launch(host: &'static str, port: u16, given: Option<Vec<Bytes>>) -> ClientRig {
        let (thread, handle) = SchedulerThread::start(move || {
            let client = ComponentRef::new(TcpClient::new(host, port));
            let inbox = client.inbox::<Bytes>("inbox").expect("the client's inbox");
            if let Some(input) = given {
                for chunk in input {
                    inbox
                        .deliver(chunk)
                        .expect("the client's inbox takes the input");
                }
                client
                    .inbox::<Ipc>("control")
                    .expect("the client's control")
                    .deliver(ProducerFinished::new().into())
                    .expect("the client's control takes ProducerFinished");
            }
            Handle::<Bytes, Bytes>::new(&client).expect("a client's boxes")
        });
        ClientRig {
            inbox: handle.sender(),
            handle,
            thread,
        }
    }

    /// Collects what the client received until its final signal; returns
    /// both.
    fn collect_until_signal(&self) -> (Vec<u8>, Ipc) {
        let mut received = Vec::new();
        // The client sends its final signal and ends: everything it
        // received has come once its `outbox` channel closes.
        loop {
            match self.handle.get_timeout(HANG_GUARD) {
                Ok(data) => received.extend_from_slice(&data),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!(
                    "the client did not end ({e}) after receiving {} bytes",
                    received.len()
                ),
            }
        }
        match self.handle.get_signal_timeout(HANG_GUARD) {
            Ok(signal) => (received, signal),
            Err(e) => panic!("the client sent no final signal ({e})"),
        }
    }

    /// Waits for the scheduler to finish (the forwarder ends only once the
    /// client has), and asserts that the client sent nothing after its final
    /// signal.
    fn finish(mut self) {
        self.thread.join_ok();
        let late = self.handle.try_get_signal();
        assert!(
            matches!(late, Err(TryRecvError::Disconnected)),
            "the client signalled again after its final signal: {late:?}"
        );
    }
}

/// The `SocketShutdown` in a client's final signal.
fn final_shutdown(signal: &Ipc) -> SocketShutdown {
    signal
        .finished_with::<SocketShutdown>()
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the client's final signal is not ProducerFinished with SocketShutdown: {signal:?}"
            )
        })
}

#[test]
fn a_refused_connect_ends_the_client_with_connection_refused() {
    let nobody = closed_port();
    let rig = ClientRig::start(nobody.port());
    let (received, signal) = rig.collect_until_signal();
    assert!(received.is_empty(), "data from a refused connection?");
    let shutdown = final_shutdown(&signal);
    let error = shutdown
        .how_died
        .as_ref()
        .expect("a refused connect reports why");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    rig.finish();
}

#[test]
fn data_round_trips_and_producer_finished_closes_in_order() {
    const SIZE: usize = 1024 * 1024;
    // A std echo server: echoes until the end of the stream, then closes.
    let (addr, echoed_count) = one_connection_server(|stream| {
        let mut reader = stream.try_clone().expect("clone");
        let mut writer = stream;
        let count = io::copy(&mut reader, &mut writer);
        let _ = writer.shutdown(Shutdown::Both);
        count.map_err(|e| e.to_string())
    });
    let data = pattern(SIZE, 0x7c9);
    // All of it, and the end of it, given before the client has even started
    // to connect: the client keeps it until it is connected.
    let chunks = data.chunks(64 * 1024).map(Bytes::copy_from_slice).collect();
    let rig = ClientRig::start_given_all_of(addr.port(), chunks);

    let (received, signal) = rig.collect_until_signal();
    assert_same_bytes(&received, &data, "the echo through TcpClient");
    let shutdown = final_shutdown(&signal);
    assert!(
        shutdown.how_died.is_none(),
        "an orderly close reported an error: {:?}",
        shutdown.how_died
    );
    let count = echoed_count
        .recv_timeout(HANG_GUARD)
        .expect("the echo server did not finish");
    assert_eq!(count, Ok(SIZE as u64), "what the echo server received");
    rig.finish();
}

#[test]
fn a_server_that_closes_ends_the_client_without_an_error() {
    let (addr, served) = one_connection_server(|mut stream| {
        // Wait for the client's hello, answer, and close.
        let mut hello = [0u8; 6];
        stream.read_exact(&mut hello).expect("the client's hello");
        stream.write_all(b"bye\n").expect("write");
        hello
    });
    let rig = ClientRig::start(addr.port());
    rig.inbox.send(Bytes::from_static(b"hello\n"));
    let (received, signal) = rig.collect_until_signal();
    assert_eq!(String::from_utf8_lossy(&received), "bye\n");
    let shutdown = final_shutdown(&signal);
    assert!(
        shutdown.how_died.is_none(),
        "the server's orderly close reported an error: {:?}",
        shutdown.how_died
    );
    assert_eq!(
        &served.recv_timeout(HANG_GUARD).expect("the server"),
        b"hello\n"
    );
    rig.finish();
}

#[test]
fn a_client_for_localhost_looks_the_name_up_and_round_trips() {
    // The server is on 127.0.0.1; "localhost" may give ::1 first, refused,
    // and then 127.0.0.1.
    let (addr, served) = one_connection_server(|mut stream| {
        let mut hello = [0u8; 6];
        stream.read_exact(&mut hello).expect("the client's hello");
        stream.write_all(b"bye\n").expect("write");
        hello
    });
    let rig = ClientRig::start_at("localhost", addr.port());
    rig.inbox.send(Bytes::from_static(b"hello\n"));
    let (received, signal) = rig.collect_until_signal();
    assert_eq!(String::from_utf8_lossy(&received), "bye\n");
    let shutdown = final_shutdown(&signal);
    assert!(
        shutdown.how_died.is_none(),
        "the server's orderly close reported an error: {:?}",
        shutdown.how_died
    );
    assert_eq!(
        &served.recv_timeout(HANG_GUARD).expect("the server"),
        b"hello\n"
    );
    rig.finish();
}

#[test]
fn the_binary_prints_the_clever_greeting_and_the_echo_then_exits_0() {
    let server = Example::server("clever_echo_server");
    let port = server.addr().port().to_string();
    let (status, out, err) = run_example(
        "tcp_client",
        &["--host", "127.0.0.1", "--port", &port],
        b"hello\n",
    );
    assert!(
        status.success(),
        "tcp_client exited with {status}; stderr:\n{err}"
    );
    // The client's port is tcp_client's own: read it from the greeting, then
    // check the whole output against the greeting for that port.
    let (_, after) = out
        .rsplit_once(" on port ")
        .unwrap_or_else(|| panic!("tcp_client printed {out:?}, not the greeting"));
    let digits = after.chars().take_while(char::is_ascii_digit).count();
    assert!(
        (1..=5).contains(&digits),
        "no client port in the greeting: {out:?}"
    );
    let client_port: u16 = after[..digits]
        .parse()
        .unwrap_or_else(|e| panic!("the client port in {out:?}: {e}"));
    let client = SocketAddr::from(([127, 0, 0, 1], client_port));
    assert_eq!(
        out,
        format!("{}hello\n", clever_greeting(server.addr(), client)),
        "the greeting, then the echo"
    );
}

#[test]
fn the_binary_sends_all_of_a_large_input_and_prints_all_of_the_echo() {
    // Much more than the console reader reads ahead (64 lines) or the
    // connection holds, and one line far longer than the 64 KiB pieces the
    // reader sends it in: all of it must come back, in order, unchanged.
    let mut input = Vec::new();
    for n in 0..50_000 {
        input.extend_from_slice(format!("line {n}\n").as_bytes());
    }
    input.extend(std::iter::repeat_n(b'x', 300_000));
    input.push(b'\n');
    input.extend_from_slice(b"last line, no newline");

    let server = Example::server("echo_server");
    let port = server.addr().port().to_string();
    let (status, out, err) = run_example(
        "tcp_client",
        &["--host", "127.0.0.1", "--port", &port],
        &input,
    );
    assert!(
        status.success(),
        "tcp_client exited with {status}; stderr:\n{err}"
    );
    assert_eq!(out.len(), input.len(), "bytes echoed and printed");
    assert!(
        out.as_bytes() == input.as_slice(),
        "the echo differs from the input"
    );
}

#[test]
fn the_binary_reports_a_refused_connect_and_exits_1() {
    let nobody = closed_port();
    let port = nobody.port().to_string();
    let (status, out, err) =
        run_example("tcp_client", &["--host", "127.0.0.1", "--port", &port], b"");
    assert_eq!(
        status.code(),
        Some(1),
        "tcp_client to a closed port exited with {status}; stderr:\n{err}"
    );
    assert!(
        err.to_lowercase().contains("refused"),
        "stderr does not say the connection was refused: {err:?}"
    );
    assert!(out.is_empty(), "stdout: {out:?}");
}
