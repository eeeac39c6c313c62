//! System tests of the chat server bridged across processes through Redis
//! (`simple_server --backplane redis://…`): two server processes on one
//! broker share one chat; the broker's death and return mid-chat; a broker
//! unreachable at the start; bytes that are not UTF-8; a bridged server's
//! orderly shutdown.
//!
//! Each test starts its own `redis-server` (it must be installed: `.ci/run`
//! installs it) on a free loopback port, and kills it at the end.
//!
//! Ordering arguments used throughout: a bridge PUBLISHes its server's lines
//! in the order they were said, and Redis hands a channel's messages to each
//! subscriber in the order it took them, so the lines of one sender reach
//! every other server in order. A line said on server A reaches A's clients
//! directly, and B's through the broker. So "the next line a client reads is
//! X" proves that nothing (a duplicate, a line that should have been
//! dropped) came before X on that path.

mod util;

use util::redis::RedisServer;
use util::{
    assert_exit_ok, assert_same_bytes, chat_client, closed_port, pattern, run_example, Client,
    Example, LOG_CONNECTIONS,
};

/// A chat server bridged to `url`, with `more` arguments.
fn bridged_server(url: &str, more: &[&str]) -> Example {
    let mut args = vec!["--backplane", url];
    args.extend_from_slice(more);
    Example::server_with("simple_server", &args, LOG_CONNECTIONS)
}

/// The line client `sender` says `n`th.
fn said(sender: usize, n: usize) -> Vec<u8> {
    format!("client {sender} line {n}\n").into_bytes()
}

#[test]
fn every_line_reaches_every_other_client_on_both_servers_once_and_in_order() {
    const LINES: usize = 20;
    let broker = RedisServer::start();
    let servers = [
        bridged_server(&broker.url("chat"), &[]),
        bridged_server(&broker.url("chat"), &[]),
    ];
    // Clients 0 and 1 on the first server, 2 and 3 on the second.
    let mut clients: Vec<Client> = (0..4)
        .map(|n| chat_client(&servers[n / 2], &format!("client {n}")))
        .collect();
    for n in 0..LINES {
        for (sender, client) in clients.iter_mut().enumerate() {
            client.send(&said(sender, n));
        }
    }
    for (me, client) in clients.iter_mut().enumerate() {
        let mut next = [0usize; 4];
        for _ in 0..3 * LINES {
            let line = client.read_line();
            let sender = (0..4)
                .find(|&s| line.starts_with(format!("client {s} ").as_bytes()))
                .unwrap_or_else(|| panic!("client {me} got {:?}", String::from_utf8_lossy(&line)));
            assert_ne!(sender, me, "client {me} got its own line back");
            assert_same_bytes(&line, &said(sender, next[sender]), "the sender's next line");
            next[sender] += 1;
        }
        let mut expected = [LINES; 4];
        expected[me] = 0;
        assert_eq!(next, expected, "client {me}: lines from each sender");
    }
    // A fence from each server: its line reaches every other client after
    // everything the broker carried before it, so a duplicate (a server's
    // own line coming back through the broker) would show up first.
    for fence in [0, 2] {
        let line = format!("fence from client {fence}\n").into_bytes();
        clients[fence].send(&line);
        for (n, client) in clients.iter_mut().enumerate() {
            if n != fence {
                client.expect_line(&line);
            }
        }
    }
}

#[test]
fn the_broker_restarting_mid_chat_costs_only_the_remote_lines_said_while_it_was_down() {
    let mut broker = RedisServer::start();
    let port = broker.port();
    let a = bridged_server(&broker.url("chat"), &[]);
    let b = bridged_server(&broker.url("chat"), &[]);
    let mut on_a = [chat_client(&a, "a0"), chat_client(&a, "a1")];
    let mut on_b = chat_client(&b, "b0");

    on_a[0].send(b"before\n");
    on_a[1].expect_line(b"before\n");
    on_b.expect_line(b"before\n");

    broker.kill();
    for server in [&a, &b] {
        server.await_stderr("lost the subscription to the broker");
        // The subscriber's loss makes the idle publisher look at its own.
        server.await_stderr("lost the connection publishing to the broker");
    }
    // Local delivery goes on while the broker is down.
    for n in 0..3 {
        let line = format!("during {n}\n").into_bytes();
        on_a[0].send(&line);
        on_a[1].expect_line(&line);
    }

    let _broker = RedisServer::start_on(port);
    // Both connections of both servers come back by themselves; the
    // publisher says how many lines it dropped meanwhile.
    a.await_stderr("dropped 3 messages while the broker was down");
    b.await_stderr("dropped 0 messages while the broker was down");
    a.await_stderr("subscribed again to the broker");
    b.await_stderr("subscribed again to the broker");

    // Cross-server delivery resumes; and b0's next line after "before" is
    // this one: the lines said during the outage never reached it.
    on_a[1].send(b"after, from a\n");
    on_b.expect_line(b"after, from a\n");
    on_a[0].expect_line(b"after, from a\n");
    on_b.send(b"after, from b\n");
    for client in &mut on_a {
        client.expect_line(b"after, from b\n");
    }
}

#[test]
fn a_broker_unreachable_at_the_start_is_a_clear_error() {
    let nobody = closed_port();
    let url = format!("redis://127.0.0.1:{}/chat", nobody.port());
    let args = ["--host", "127.0.0.1", "--port", "0", "--backplane", &url];
    let (status, out, err) = run_example("simple_server", &args, b"");
    assert!(!status.success(), "it ran without its broker: {status}");
    assert!(
        err.contains(&format!(
            "simple_server: cannot reach the Redis broker at {url}"
        )) && err.contains("refused"),
        "the error names neither the broker nor the cause:\n{err}"
    );
    assert!(!out.contains("listening"), "it listened: {out}");

    let args = ["--port", "0", "--backplane", "redis://nowhere"];
    let (status, _, err) = run_example("simple_server", &args, b"");
    assert!(!status.success(), "a URL without a channel was taken");
    assert!(err.contains("no channel"), "{err}");
}

#[test]
fn with_the_broker_optional_an_unreachable_one_leaves_a_local_chat_until_it_answers() {
    let nobody = closed_port();
    let port = nobody.port();
    let url = format!("redis://127.0.0.1:{port}/chat");
    let server = bridged_server(&url, &["--backplane-optional"]);
    server.await_stderr("local-only until it answers");
    let mut clients = [chat_client(&server, "c0"), chat_client(&server, "c1")];
    clients[0].send(b"local only\n");
    clients[1].expect_line(b"local only\n");

    // Once the broker is there, the chat is bridged.
    drop(nobody);
    let broker = RedisServer::start_on(port);
    server.await_stderr("dropped 1 messages while the broker was down");
    server.await_stderr("subscribed again to the broker");
    let other = bridged_server(&broker.url("chat"), &[]);
    let mut there = chat_client(&other, "there");
    there.send(b"bridged now\n");
    for client in &mut clients {
        client.expect_line(b"bridged now\n");
    }
}

#[test]
fn bytes_that_are_not_utf8_cross_the_bridge_intact() {
    let broker = RedisServer::start();
    let mut servers = [
        bridged_server(&broker.url("chat"), &[]),
        bridged_server(&broker.url("chat"), &[]),
    ];
    let mut a = chat_client(&servers[0], "a");
    let mut b = chat_client(&servers[1], "b");
    // Every byte value but the newline, then the newline that ends the line.
    let mut line: Vec<u8> = pattern(1000, 7)
        .into_iter()
        .filter(|&x| x != b'\n')
        .collect();
    line.extend((0..=255u8).filter(|&x| x != b'\n'));
    line.push(b'\n');
    assert!(
        std::str::from_utf8(&line).is_err(),
        "the test line is UTF-8"
    );
    a.send(&line);
    assert_same_bytes(&b.read_line(), &line, "the line on the other server");
    b.send(&line[500..]);
    assert_same_bytes(&a.read_line(), &line[500..], "the line back");

    // A bridged server still shuts down in order, its bridge with it (its
    // clients gone, so that it has none to wait for).
    drop((a, b));
    for server in &mut servers {
        let status = server.terminate();
        assert_exit_ok(server, status);
    }
}
