//! The examples' defaults: without `--host` a server example listens on the
//! loopback interface only (127.0.0.1), and its `--help` says so, the same
//! way in each (one shared parser); logs written to a pipe carry no ANSI
//! colour codes.

mod util;

use std::net::Ipv4Addr;

use util::{assert_exit_ok, run_example, Client, Example};

/// Every example that listens for clients.
const SERVERS: [&str; 7] = [
    "echo_server",
    "clever_echo_server",
    "introspection_chat_server",
    "time_server",
    "simple_server",
    "single_server",
    "fortune_cookie",
];

#[test]
fn every_server_example_listens_on_127_0_0_1_unless_told_otherwise() {
    for name in SERVERS {
        // Any free port, and nothing about the host: the default decides.
        let server = Example::start(name, &["--port", "0"]);
        assert_eq!(
            server.addr().ip(),
            Ipv4Addr::LOCALHOST,
            "{name} listens on {} by default",
            server.addr()
        );
    }
}

#[test]
fn every_server_example_documents_host_and_its_default_in_its_help() {
    for name in SERVERS {
        let (status, out, err) = run_example(name, &["--help"], b"");
        assert!(status.success(), "{name} --help: {status}; stderr:\n{err}");
        let host = out
            .lines()
            .find(|line| line.trim_start().starts_with("--host HOST"))
            .unwrap_or_else(|| panic!("{name} --help has no --host line:\n{out}"));
        assert!(
            host.contains("[default: 127.0.0.1]") && host.contains("0.0.0.0"),
            "{name} --help: {host:?}"
        );
    }
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    // Debug, so that the log has lines with fields (the connection's), which
    // are what colour codes would decorate.
    let mut server = Example::server_with("echo_server", &[], "debug");
    let mut client = Client::named(server.addr(), "echo client");
    client.send(b"ping\n");
    assert_eq!(client.read_line(), b"ping\n");
    server.await_stderr("connection");
    let status = server.terminate();
    assert_exit_ok(&server, status);
    let log = server.whole_stderr();
    assert!(
        !log.contains('\x1b'),
        "an ESC byte in a log written to a pipe:\n{log:?}"
    );
}
