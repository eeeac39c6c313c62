//! Each example stops cleanly (exit status 0) on SIGINT and on SIGTERM: the
//! servers through ServerCore's orderly shutdown, with a client connected and
//! served (it sees the end of the stream), and the TCP client by closing its
//! connection in order.
//!
//! A server does not wait for an idle client: with nothing pending for it,
//! the client is sent the end of the stream and closed, and the server exits
//! while the client still holds its side open, well before the shutdown
//! grace (which it would otherwise spend waiting for the client to close).

mod util;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use kamaelia::DEFAULT_SHUTDOWN_GRACE;
use util::{assert_exit_ok, one_connection_server, Client, Example, HANG_GUARD};

/// How long a server told to stop may take to exit when nothing is pending
/// for its clients: well inside the shutdown grace, so that a server that
/// waits out the grace for an idle client fails, with room for a slow debug
/// build. (The exit is an event awaited; this only bounds it.)
const PROMPT_EXIT: Duration = DEFAULT_SHUTDOWN_GRACE.saturating_sub(Duration::from_secs(2));

/// Starts the server example `name`, connects clients and proves they are
/// served, sends `signal`, and checks that the clients are closed and the
/// server exits 0, promptly, while the (now idle) clients keep their side
/// open.
fn server_exits_0_on(name: &str, signal: libc::c_int) {
    let mut server = Example::server(name);
    let mut clients = Vec::new();
    match name {
        "simple_server" => {
            // A chat line from one client reaching the other proves both are
            // in the chat.
            let mut a = Client::named(server.addr(), "chat client a");
            let mut b = Client::named(server.addr(), "chat client b");
            b.send(b"hi\n");
            a.expect_line(b"hi\n");
            clients.extend([a, b]);
        }
        "clever_echo_server" => {
            let mut client = Client::named(server.addr(), "clever echo client");
            let greeting = client.read_exact_n(b"Welcome!".len());
            assert_eq!(greeting, b"Welcome!");
            clients.push(client);
        }
        _ => {
            let mut client = Client::named(server.addr(), "echo client");
            client.send(b"ping\n");
            assert_eq!(client.read_line(), b"ping\n");
            clients.push(client);
        }
    }

    server.signal(signal);
    for client in &mut clients {
        // Anything still on its way (the rest of the greeting) comes first.
        let _ = client.read_to_end();
    }
    let status = server.wait_within(PROMPT_EXIT);
    drop(clients);
    assert_exit_ok(&server, status);
}

#[test]
fn simple_server_exits_0_on_sigint() {
    server_exits_0_on("simple_server", libc::SIGINT);
}

#[test]
fn simple_server_exits_0_on_sigterm() {
    server_exits_0_on("simple_server", libc::SIGTERM);
}

#[test]
fn echo_server_exits_0_on_sigint() {
    server_exits_0_on("echo_server", libc::SIGINT);
}

#[test]
fn echo_server_exits_0_on_sigterm() {
    server_exits_0_on("echo_server", libc::SIGTERM);
}

#[test]
fn clever_echo_server_exits_0_on_sigint() {
    server_exits_0_on("clever_echo_server", libc::SIGINT);
}

#[test]
fn clever_echo_server_exits_0_on_sigterm() {
    server_exits_0_on("clever_echo_server", libc::SIGTERM);
}

/// Runs `tcp_client` against a server of the test's own (its stdin left open),
/// proves it is connected and printing, sends `signal`, and checks that it
/// closes its connection in order and exits 0.
fn tcp_client_exits_0_on(signal: libc::c_int) {
    let (addr, accepted) = one_connection_server(|stream| stream);
    let port = addr.port().to_string();
    let mut client = Example::spawn(
        "tcp_client",
        &["--host", "127.0.0.1", "--port", &port],
        Stdio::piped(),
    );
    let mut connection = accepted
        .recv_timeout(HANG_GUARD)
        .expect("tcp_client did not connect");
    std::io::Write::write_all(&mut connection, b"from the server\n").expect("write");
    assert_eq!(
        client.next_stdout_line().as_deref(),
        Some("from the server\n"),
        "tcp_client did not print what the server sent"
    );

    client.signal(signal);
    // It closes its side in order: the server reads the end of the stream.
    let mut rest = Vec::new();
    connection
        .read_to_end(&mut rest)
        .expect("the client's end of stream");
    assert!(
        rest.is_empty(),
        "tcp_client sent {rest:?} with nothing typed"
    );
    drop(connection);
    let status = client.wait();
    assert_exit_ok(&client, status);
}

#[test]
fn tcp_client_exits_0_when_the_server_closes_even_with_stdin_open() {
    let (addr, served) = one_connection_server(|mut stream| {
        std::io::Write::write_all(&mut stream, b"bye\n").expect("write");
    });
    let port = addr.port().to_string();
    let mut client = Example::spawn(
        "tcp_client",
        &["--host", "127.0.0.1", "--port", &port],
        Stdio::piped(),
    );
    served
        .recv_timeout(HANG_GUARD)
        .expect("tcp_client did not connect");
    assert_eq!(client.next_stdout_line().as_deref(), Some("bye\n"));
    // The server has closed; nothing was typed and stdin stays open.
    let status = client.wait();
    assert_exit_ok(&client, status);
}

#[test]
fn tcp_client_exits_0_on_sigint() {
    tcp_client_exits_0_on(libc::SIGINT);
}

#[test]
fn tcp_client_exits_0_on_sigterm() {
    tcp_client_exits_0_on(libc::SIGTERM);
}
