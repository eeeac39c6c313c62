//! The examples' defaults: without `--host` a server example listens on the
//! loopback interface only (127.0.0.1), and its `--help` says so, the same
//! way in each (one shared parser); logs written to a pipe carry no ANSI
//! colour codes, and on a terminal they do unless `NO_COLOR` is set.

mod util;

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use util::{assert_exit_ok, example_path, run_example, Client, Example};

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

/// What `fortune_cookie` (which logs, then ends by itself) writes when its
/// stdout and stderr are a terminal: `script` gives it one, and copies what
/// it writes there. `no_color` sets `NO_COLOR=1`.
fn logged_on_a_terminal(no_color: bool) -> String {
    let example = example_path("fortune_cookie");
    let mut script = Command::new("script");
    script
        .args([
            "-qec",
            &format!("'{}' --port 0", example.display()),
            "/dev/null",
        ])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let output = script
        .output()
        .unwrap_or_else(|e| panic!("cannot run script(1) (util-linux) for a terminal: {e}"));
    assert!(
        output.status.success(),
        "fortune_cookie under script: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn on_a_terminal_logs_are_coloured_unless_no_color_is_set() {
    let coloured = logged_on_a_terminal(false);
    assert!(
        coloured.contains("listening") && coloured.contains('\x1b'),
        "no colour in a log written to a terminal:\n{coloured:?}"
    );
    let plain = logged_on_a_terminal(true);
    assert!(
        plain.contains("listening") && !plain.contains('\x1b'),
        "colour codes with NO_COLOR set:\n{plain:?}"
    );
}
