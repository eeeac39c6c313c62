//! System tests of the clever echo server (`examples/clever_echo_server.rs`),
//! run as a real process on 127.0.0.1 with an ephemeral port.
//!
//! Covers: the greeting's exact text, built from the connection's addresses
//! as the client sees them, with no trailing newline; the echo after it; each
//! client getting its own greeting.

mod util;

use util::{clever_greeting, Client, Example};

/// The greeting a client should get, from its own view of the connection.
fn expected_greeting(client: &Client) -> String {
    clever_greeting(client.peer_addr(), client.local_addr())
}

#[test]
fn greets_with_the_connection_addresses_then_echoes() {
    let server = Example::server("clever_echo_server");
    let mut client = Client::named(server.addr(), "clever echo client");
    let greeting = expected_greeting(&client);

    let got = client.read_exact_n(greeting.len());
    assert_eq!(String::from_utf8_lossy(&got), greeting);

    // No newline (or anything else) follows the greeting: the next byte is
    // the echo of what the client sends now.
    client.send(b"!");
    assert_eq!(
        String::from_utf8_lossy(&client.read_exact_n(1)),
        "!",
        "something followed the greeting"
    );
    client.send(b"hello, clever echo\n");
    assert_eq!(client.read_line(), b"hello, clever echo\n");
}

#[test]
fn each_client_gets_its_own_greeting() {
    let server = Example::server("clever_echo_server");
    let mut clients: Vec<Client> = (0..3)
        .map(|n| Client::named(server.addr(), &format!("client {n}")))
        .collect();
    for (n, client) in clients.iter_mut().enumerate() {
        let greeting = expected_greeting(client);
        let got = client.read_exact_n(greeting.len());
        assert_eq!(String::from_utf8_lossy(&got), greeting, "client {n}");
        let line = format!("client {n} here\n");
        client.send(line.as_bytes());
        assert_eq!(String::from_utf8_lossy(&client.read_line()), line);
    }
}
