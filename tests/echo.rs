//! System tests of the echo server (`examples/echo_server.rs`), run as a real
//! process on 127.0.0.1 with an ephemeral port and real TCP clients.
//!
//! Covers: 8 MiB echoed intact while the client writes and reads at the same
//! time; a client that half-closes still receives all of its echo, then the
//! end of the stream; a client that sends but never reads can push only a
//! bounded amount into the server (back-pressure), and gets it all back once it
//! reads; a server out of file descriptors holds new clients back and serves
//! them once others leave; past `--max-connections` a client is refused with a
//! line, the others served on, and a new client served once one leaves;
//! SIGTERM with a client connected closes it and exits 0; `--help`, a bad
//! argument, and a port already in use. The echo, half-close, back-pressure
//! and SIGTERM tests run against `echo_server --inline` too.

mod util;

use std::fs;
use std::io::{self, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use util::{
    assert_exit_ok, assert_same_bytes, pattern, run_example, set_open_files_limit, Client, Example,
};

fn echo_server() -> Example {
    Example::server("echo_server")
}

/// The same echo, run inside each connection's adapter.
fn inline_echo_server() -> Example {
    Example::server_with("echo_server", &["--inline"], "info")
}

#[test]
fn eight_mib_full_duplex_echo_is_intact() {
    eight_mib_full_duplex(echo_server());
}

#[test]
fn eight_mib_full_duplex_echo_is_intact_inline() {
    eight_mib_full_duplex(inline_echo_server());
}

/// With a spin before the park, the server looks for work between the
/// client's writes rather than sleeping: what it echoes is the same.
#[test]
fn eight_mib_full_duplex_echo_is_intact_inline_spinning() {
    eight_mib_full_duplex(Example::server_with(
        "echo_server",
        &["--inline", "--spin-us", "50"],
        "info",
    ));
}

fn eight_mib_full_duplex(server: Example) {
    const SIZE: usize = 8 * 1024 * 1024;
    let mut client = Client::named(server.addr(), "echo client");
    let data = pattern(SIZE, 0x8_0001);

    // A writer thread sends everything, in chunks of varying sizes, while this
    // thread reads: neither side waits for the other, so the server must
    // carry both directions at once.
    let mut writer = client.stream.try_clone().expect("clone the stream");
    let to_send = data.clone();
    let sender = thread::spawn(move || -> io::Result<()> {
        let sizes = [1, 7, 1000, 4096, 32 * 1024, 65_537, 200_000];
        let mut at = 0;
        let mut turn = 0;
        while at < to_send.len() {
            let end = (at + sizes[turn % sizes.len()]).min(to_send.len());
            writer.write_all(&to_send[at..end])?;
            at = end;
            turn += 1;
        }
        Ok(())
    });

    let echoed = client.read_exact_n(SIZE);
    sender
        .join()
        .expect("the writer thread panicked")
        .expect("writing 8 MiB");
    assert_same_bytes(&echoed, &data, "the 8 MiB echo");
}

#[test]
fn half_close_still_receives_all_the_echo_then_eof() {
    half_close(echo_server());
}

#[test]
fn half_close_still_receives_all_the_echo_then_eof_inline() {
    half_close(inline_echo_server());
}

fn half_close(server: Example) {
    // 256 KiB, a whole number of the server's 32 KiB reads, written at once and
    // followed by the end of the stream.
    let mut client = Client::named(server.addr(), "half-closing client");
    let data = pattern(256 * 1024, 0xa1f);
    client.send(&data);
    client.shutdown_write();
    let echoed = client.read_to_end();
    assert_same_bytes(&echoed, &data, "the echo after a half-close");
}

#[test]
fn half_close_after_a_short_message_still_receives_the_echo_then_eof() {
    let server = echo_server();
    let mut client = Client::named(server.addr(), "half-closing client");
    client.send(b"hello, then goodbye\n");
    client.shutdown_write();
    let echoed = client.read_to_end();
    assert_eq!(
        String::from_utf8_lossy(&echoed),
        "hello, then goodbye\n",
        "the echo after a half-close"
    );
}

#[test]
fn out_of_file_descriptors_the_server_holds_clients_back_and_serves_them_once_others_leave() {
    let mut server = echo_server();
    // One client served first, so that everything the server opens for itself
    // (its poller among them) is open before counting.
    let mut first = Client::named(server.addr(), "first client");
    first.send(b"first\n");
    first.expect_line(b"first\n");
    let open = fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .expect("the server's descriptors")
        .count();
    // Room for exactly one more connection.
    set_open_files_limit(server.pid(), open + 1);

    let mut second = Client::named(server.addr(), "second client");
    second.send(b"second\n");
    second.expect_line(b"second\n");
    // The kernel completes these connections, but the server cannot accept
    // them: accepting fails with EMFILE, and it must carry on.
    let mut waiting: Vec<Client> = (0..3)
        .map(|n| {
            let mut client = Client::named(server.addr(), &format!("waiting client {n}"));
            client.send(format!("waiting {n}\n").as_bytes());
            client
        })
        .collect();

    // Two leave; their descriptors are freed once the server has closed their
    // connections, and it accepts the others on its next try. (With one
    // descriptor left per departure, the three waiting clients are served
    // as the earlier ones leave.)
    drop(first);
    drop(second);
    let last = waiting.pop().expect("three waiting");
    for (n, client) in waiting.iter_mut().enumerate() {
        client.expect_line(format!("waiting {n}\n").as_bytes());
    }
    drop(waiting);
    let mut last = last;
    last.expect_line(b"waiting 2\n");

    // The limit was really reached (or this test proved nothing).
    let status = server.terminate();
    assert_exit_ok(&server, status);
    let stderr = server.whole_stderr();
    assert!(
        stderr.contains("cannot accept now") && stderr.contains("os error 24"),
        "the server never ran out of descriptors:\n{stderr}"
    );
}

#[test]
fn past_max_connections_a_client_is_refused_with_a_line_and_served_again_once_one_leaves() {
    let mut server = Example::server_with("echo_server", &["--max-connections", "3"], "info");
    let mut served: Vec<Client> = (0..3)
        .map(|n| Client::named(server.addr(), &format!("client {n}")))
        .collect();
    for (n, client) in served.iter_mut().enumerate() {
        client.send(format!("hello {n}\n").as_bytes());
        client.expect_line(format!("hello {n}\n").as_bytes());
    }

    let mut fourth = Client::named(server.addr(), "fourth client");
    assert_eq!(fourth.read_to_end(), kamaelia::internet::DEFAULT_REFUSAL);
    server.await_stderr("refused a connection");
    // The three are still served.
    for (n, client) in served.iter_mut().enumerate() {
        client.send(format!("still {n}\n").as_bytes());
        client.expect_line(format!("still {n}\n").as_bytes());
    }

    // One leaves: once it has seen the server close its connection, the
    // adapter has told the TcpServer (in the same turn), which frees the room
    // before it accepts again.
    let leaving = served.remove(0);
    leaving.shutdown_write();
    let mut leaving = leaving;
    leaving.expect_eof();
    let mut next = Client::named(server.addr(), "next client");
    next.send(b"room again\n");
    next.expect_line(b"room again\n");

    let status = server.terminate();
    assert_exit_ok(&server, status);
}

#[test]
fn a_client_that_never_reads_can_only_push_a_bounded_amount_into_the_server() {
    bounded_push(echo_server());
}

#[test]
fn a_client_that_never_reads_can_only_push_a_bounded_amount_into_the_inline_server() {
    // Inline, the answers wait in the adapter's queue (64 chunks), then
    // reading stops: a smaller bound in the server than the handler's.
    bounded_push(inline_echo_server());
}

fn bounded_push(server: Example) {
    // The client writes and never reads. The echo comes back until the
    // client's receive buffer and the server's send buffer are full; then the
    // adapter's inbox (64 chunks) fills, the handler waits, its inbox (64
    // chunks of at most 32 KiB) fills, the adapter stops reading, and TCP
    // holds the client back. So what the client can write is the kernel's
    // buffers on both sides (a few MiB each on loopback, at most ~20 MiB with
    // Linux's default autotuning limits) plus about 4 MiB in the server. A
    // server that kept reading into memory would take everything: the bound is
    // 32 MiB.
    //
    // The client knows the server has stopped taking data when a write makes
    // no progress for STALL. That timeout only ends the writing: a slow server
    // makes the client stop early (a weaker check), never a wrong failure.
    const BOUND: usize = 32 * 1024 * 1024;
    const STALL: Duration = Duration::from_secs(2);
    const CHUNK: usize = 64 * 1024;

    let mut client = Client::named(server.addr(), "client that does not read");
    client
        .stream
        .set_write_timeout(Some(STALL))
        .expect("write timeout");
    let data = pattern(BOUND + CHUNK, 0xb0b);
    let mut written = 0;
    loop {
        match client.stream.write(&data[written..written + CHUNK]) {
            Ok(0) => panic!("the connection closed after {written} bytes"),
            Ok(n) => written += n,
            Err(e) if util::is_timeout(&e) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("write failed after {written} bytes: {e}"),
        }
        assert!(
            written < BOUND,
            "the server took {written} bytes from a client that reads nothing: it is \
             buffering instead of holding the client back"
        );
    }
    assert!(written > 0, "the server took nothing at all");

    // Held back, not dropped: once the client reads, all of it comes back and
    // the server carries on.
    let echoed = client.read_exact_n(written);
    assert_same_bytes(&echoed, &data[..written], "the echo after back-pressure");
    client.send(b"and more\n");
    assert_eq!(client.read_exact_n(9), b"and more\n");
}

#[test]
fn sigterm_with_a_client_connected_closes_it_and_exits_0() {
    sigterm(echo_server());
}

#[test]
fn sigterm_with_a_client_of_the_inline_server_connected_closes_it_and_exits_0() {
    sigterm(inline_echo_server());
}

fn sigterm(mut server: Example) {
    let mut client = Client::named(server.addr(), "echo client");
    client.send(b"ping\n");
    assert_eq!(client.read_exact_n(5), b"ping\n");

    server.signal(libc::SIGTERM);
    client.expect_eof();
    drop(client);
    let status = server.wait();
    assert_exit_ok(&server, status);
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    let (status, out, err) = run_example("echo_server", &["--help"], b"");
    assert!(
        status.success(),
        "--help exited with {status}; stderr:\n{err}"
    );
    assert!(
        out.contains("Usage:") && out.contains("--host") && out.contains("--port"),
        "--help printed no usage: {out:?}"
    );
    assert!(
        !out.contains("listening"),
        "--help started a server: {out:?}"
    );
}

#[test]
fn a_bad_argument_is_reported_and_exits_non_zero() {
    // The usage printed with the error names every option, so the check is
    // for the offending token itself, which the usage does not contain.
    for (args, bad) in [
        (&["--bogus"][..], "--bogus"),
        (&["--port", "not-a-port"][..], "not-a-port"),
    ] {
        let (status, out, err) = run_example("echo_server", args, b"");
        assert!(
            !status.success(),
            "{args:?} exited with {status}; stdout: {out:?}"
        );
        assert!(
            status.code().is_some(),
            "{args:?}: killed by a signal ({status}), not an error exit"
        );
        assert!(
            err.contains(bad),
            "{args:?}: stderr does not name the bad argument {bad:?}: {err:?}"
        );
        assert!(!out.contains("listening"), "{args:?} started a server");
    }
}

#[test]
fn a_port_in_use_is_reported_and_exits_non_zero() {
    // std's listener sets SO_REUSEADDR, as the server's does; on Linux a
    // second bind is still refused while this one listens.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = taken
        .local_addr()
        .expect("local address")
        .port()
        .to_string();
    let (status, out, err) = run_example(
        "echo_server",
        &["--host", "127.0.0.1", "--port", &port],
        b"",
    );
    assert!(
        !status.success(),
        "echo_server on a port in use exited with {status}; stdout: {out:?}"
    );
    assert!(
        status.code().is_some(),
        "killed by a signal ({status}), not an error exit; stderr: {err:?}"
    );
    let lower = err.to_lowercase();
    assert!(
        lower.contains("address already in use") || lower.contains("addrinuse"),
        "stderr does not say the address is in use: {err:?}"
    );
    assert!(
        !out.contains("listening"),
        "echo_server said it listens on a port in use: {out:?}"
    );
    drop(taken);
}
