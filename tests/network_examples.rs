//! The networking and Backplane examples, run as real processes: servers on
//! 127.0.0.1 with an ephemeral port and real TCP clients.
//!
//! A client is subscribed from the moment its connection's Pipeline runs:
//! its first line comes back to it, so joining is one `join N` line, heard
//! back.

mod util;

use std::io::Write;
use std::process::{Command, Stdio};

use util::{assert_exit_ok, run_example, Client, Example};

/// Connects a chat client and makes sure it is in the chat: it says
/// `join n`, and hears `… says join n` back (its own line included, as the
/// original's chat does).
fn join_chat(server: &Example, n: usize) -> Client {
    let mut client = Client::named(server.addr(), &format!("client {n}"));
    let own = format!("join {n}\n");
    client.send(own.as_bytes());
    while !client.read_line().ends_with(own.as_bytes()) {}
    client
}

/// Reads lines until one that is not a `join` line.
fn next_chat_line(client: &mut Client) -> String {
    loop {
        let line = String::from_utf8(client.read_line()).expect("text");
        if !line.contains(" says join ") {
            return line;
        }
    }
}

#[test]
fn introspection_chat_server_sends_every_line_to_every_client_tagged_with_its_sender() {
    let server = Example::server("introspection_chat_server");
    let mut clients: Vec<Client> = (0..3).map(|n| join_chat(&server, n)).collect();
    for sender in 0..3 {
        let port = clients[sender].local_addr().port();
        let text = format!("hello from {sender}\n");
        clients[sender].send(text.as_bytes());
        let expected = format!("127.0.0.1:{port} says {text}");
        for (n, client) in clients.iter_mut().enumerate() {
            assert_eq!(
                next_chat_line(client),
                expected,
                "client {n}, sender {sender}"
            );
        }
    }
}

#[test]
fn introspection_chat_server_cuts_lines_sent_in_pieces_and_batches() {
    let server = Example::server("introspection_chat_server");
    let mut a = join_chat(&server, 0);
    let mut b = join_chat(&server, 1);
    let port = a.local_addr().port();
    a.send(b"one\ntw");
    assert_eq!(
        next_chat_line(&mut b),
        format!("127.0.0.1:{port} says one\n")
    );
    a.send(b"o\nthree\n");
    assert_eq!(
        next_chat_line(&mut b),
        format!("127.0.0.1:{port} says two\n")
    );
    assert_eq!(
        next_chat_line(&mut b),
        format!("127.0.0.1:{port} says three\n")
    );
}

#[test]
fn fortune_cookie_prints_the_fortune_the_server_sent_and_ends() {
    let (status, out, err) = run_example("fortune_cookie", &["--seed", "1"], b"");
    assert!(status.success(), "{status}; stderr:\n{err}");
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("fortune_cookie listening on 127.0.0.1:"),
        "{first:?}"
    );
    let fortune: Vec<&str> = lines.collect();
    assert_eq!(
        fortune,
        [
            "Simple things should be simple, complex things should be possible.",
            "\t\t-- Alan Kay"
        ]
    );
    // Another seed, another fortune.
    let (_, other, _) = run_example("fortune_cookie", &["--seed", "2"], b"");
    assert!(other.contains("-- Kamaelia, in short"), "{other}");
}

#[test]
fn single_server_serves_every_line_to_its_one_client_and_ends() {
    let (status, out, err) = run_example(
        "single_server",
        &[
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--rate",
            "200",
            "--count",
            "12",
        ],
        b"",
    );
    assert!(status.success(), "{status}; stderr:\n{err}");
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("single_server listening on 127.0.0.1:"),
        "{first:?}"
    );
    assert_eq!(lines.collect::<Vec<_>>(), ["Hello World"; 12]);
}

#[test]
fn backplane_forwarding_echoes_each_line_twice_alongside_the_count() {
    let mut example = Example::spawn(
        "backplane_forwarding",
        &["--interval-ms", "20"],
        Stdio::piped(),
    );
    // A number on stdout has gone through the SubscribeTo: it is running.
    // Then wait for a later one, so that it has joined the backplane
    // (it does so in its first turns, long before 20 ms pass).
    assert_eq!(example.next_stdout_line().as_deref(), Some("1\n"));
    assert_eq!(example.next_stdout_line().as_deref(), Some("2\n"));
    let mut stdin = example.take_stdin().expect("piped stdin");
    stdin.write_all(b"hello\nworld\n").expect("write stdin");
    drop(stdin); // the end of input ends the example
    let status = example.wait();
    assert_exit_ok(&example, status);
    let rest = example.rest_of_stdout();
    let lines: Vec<&str> = rest.lines().collect();
    for word in ["hello", "world"] {
        assert_eq!(
            lines.iter().filter(|l| **l == word).count(),
            2,
            "{word} in {rest:?}"
        );
    }
    let numbers: Vec<u64> = lines.iter().filter_map(|l| l.parse().ok()).collect();
    let expected: Vec<u64> = (3..3 + numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "the count goes on in order");
}

#[test]
fn time_server_sends_each_client_the_time_from_one_clock() {
    let mut server = Example::spawn(
        "time_server",
        &["--host", "127.0.0.1", "--port", "0", "--interval-ms", "50"],
        Stdio::null(),
    );
    let first = server.next_stdout_line().expect("the listening line");
    let addr = first
        .trim()
        .strip_prefix("time_server listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{first:?}"));
    let mut a = Client::named(addr, "a");
    let mut b = Client::named(addr, "b");
    for client in [&mut a, &mut b] {
        for _ in 0..2 {
            let line = String::from_utf8(client.read_line()).expect("text");
            // asctime: `Sun Mar 24 12:00:01 2024`
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 5, "{line:?}");
            assert_eq!(line.len(), 25, "{line:?}");
            assert_eq!(fields[3].matches(':').count(), 2, "{line:?}");
        }
    }
    let status = server.terminate();
    assert_exit_ok(&server, status);
    a.drain_until_closed();
}

#[test]
fn chat_graph_draws_the_running_chat_server() {
    let (status, dot, err) = run_example("chat_graph", &["--clients", "3"], b"");
    assert!(status.success(), "{status}; stderr:\n{err}");
    assert!(dot.starts_with("digraph axon {"), "{dot}");
    let clusters = |kind: &str| dot.matches(&format!("label=\"{kind}")).count();
    assert_eq!(clusters("Backplane<"), 1, "{dot}");
    assert_eq!(clusters("PlugSplitter<"), 1);
    assert_eq!(clusters("ServerCore#"), 1);
    assert_eq!(clusters("LineSplitter#"), 3, "one splitter per connection");
    assert_eq!(clusters("SubscribeTo<"), 3);
    assert_eq!(clusters("PublishTo<"), 3);
    assert_eq!(clusters("TcpClient#"), 3);
    // Three connections' Pipelines and three clients'.
    assert_eq!(clusters("Pipeline<"), 6);
    render_png(&dot);
}

/// Renders `dot` with Graphviz and checks that a PNG came out. Without
/// `dot` installed the check is skipped, except under CI.
fn render_png(dot: &str) {
    let child = Command::new("dot")
        .arg("-Tpng")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the rendering: cannot run Graphviz's dot: {e}");
            return;
        }
        Err(e) => panic!("Graphviz's dot is needed under CI: {e}"),
    };
    let mut input = child.stdin.take().expect("piped stdin");
    let text = dot.to_string();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().expect("dot ran");
    writer.join().expect("writer").expect("wrote the graph");
    assert!(
        output.status.success(),
        "dot failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}
