//! System tests of the chat server (`examples/simple_server.rs`), run as a
//! real process on 127.0.0.1 with an ephemeral port and real TCP clients.
//!
//! Covers: each line reaches every other client and not its sender; a line
//! split across writes arrives whole; lines batched in one write arrive as
//! separate, newline-terminated lines; binary bytes pass intact; a client's
//! reset does not disturb the others; an over-long line gets an error line and
//! its client is closed; a client that never reads is closed while the others
//! carry on, and the server's memory stays bounded; SIGTERM closes the
//! clients (delivering what was pending) and exits 0.
//!
//! Ordering argument used throughout: the hub handles lines one at a time in
//! the order it receives them, and each client's lines are written to it in
//! that order. So once a line L sent by A has reached the other clients, any
//! line M sent afterwards is handled after L; if A's next line is M, the hub
//! did not send L back to A (it would have arrived before M). No test waits
//! for "nothing to arrive".

mod util;

use util::{
    assert_exit_ok, assert_same_bytes, join_chat, run_example, Client, Example, LOG_CONNECTIONS,
};

/// The longest line the chat server accepts, newline included.
const MAX_LINE: usize = 4096;

/// Starts the chat server.
fn chat_server() -> Example {
    Example::server_with("simple_server", &[], LOG_CONNECTIONS)
}

#[test]
fn each_line_reaches_every_other_client_but_not_its_sender() {
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    c[0].send(b"hello from 0\n");
    c[1].expect_line(b"hello from 0\n");
    c[2].expect_line(b"hello from 0\n");

    c[2].send(b"hello from 2\n");
    // Client 0's next line is client 2's: its own line did not come back.
    c[0].expect_line(b"hello from 2\n");
    c[1].expect_line(b"hello from 2\n");

    c[1].send(b"hello from 1\n");
    c[0].expect_line(b"hello from 1\n");
    // Client 2's next line is client 1's: its own did not come back.
    c[2].expect_line(b"hello from 1\n");

    // And client 1's own line did not come back either.
    c[0].send(b"bye from 0\n");
    c[1].expect_line(b"bye from 0\n");
    c[2].expect_line(b"bye from 0\n");
}

#[test]
fn a_line_split_across_writes_arrives_whole() {
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    // Client 0 writes its line in three pieces. Between the pieces a whole
    // round trip of another client's line passes through the server (client 0
    // receives it), so the server has the first piece long before the next is
    // written; it cannot see the pieces as one read.
    c[0].send(b"a line ");
    c[1].send(b"meanwhile 1\n");
    c[0].expect_line(b"meanwhile 1\n");
    c[2].expect_line(b"meanwhile 1\n");

    c[0].send(b"in three");
    c[2].send(b"meanwhile 2\n");
    c[0].expect_line(b"meanwhile 2\n");
    c[1].expect_line(b"meanwhile 2\n");

    c[0].send(b" pieces\n");
    c[1].expect_line(b"a line in three pieces\n");
    c[2].expect_line(b"a line in three pieces\n");
}

#[test]
fn lines_batched_in_one_write_arrive_as_separate_lines() {
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    c[0].send(b"one\ntwo\nthree\n");
    for reader in [1, 2] {
        c[reader].expect_line(b"one\n");
        c[reader].expect_line(b"two\n");
        c[reader].expect_line(b"three\n");
    }
    // Lines from different clients do not run together either.
    c[1].send(b"four\n");
    c[0].expect_line(b"four\n");
    c[2].expect_line(b"four\n");
}

#[test]
fn a_large_batch_of_lines_in_one_write_reaches_every_other_client() {
    // A client pasting many lines at once (here 200, more than the hub or a
    // connection holds at a time) is not a slow reader: the others read
    // everything, so each must get every line.
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    let lines: Vec<String> = (0..200).map(|n| format!("batched line {n}\n")).collect();
    c[0].send(lines.concat().as_bytes());
    for reader in [1, 2] {
        for (n, line) in lines.iter().enumerate() {
            let got = c[reader]
                .try_read_line()
                .unwrap_or_else(|e| panic!("line {n} of {}: {e}", lines.len()));
            assert_eq!(
                String::from_utf8_lossy(&got),
                line.as_str(),
                "client {reader}: line {n} of the batch"
            );
        }
    }
    c[2].send(b"after the batch\n");
    c[0].expect_line(b"after the batch\n");
    c[1].expect_line(b"after the batch\n");
}

#[test]
fn binary_bytes_pass_through_intact() {
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    // Every byte value but the newline, then bytes that are not UTF-8.
    let mut line: Vec<u8> = (0u8..=255).filter(|&b| b != b'\n').collect();
    line.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0x00, b'\r']);
    line.push(b'\n');
    c[0].send(&line);
    c[1].expect_line(&line);
    c[2].expect_line(&line);
}

#[test]
fn an_unterminated_last_line_is_delivered_with_a_newline() {
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    c[0].send(b"no newline at the end");
    c[0].shutdown_write();
    c[1].expect_line(b"no newline at the end\n");
    c[2].expect_line(b"no newline at the end\n");
    // The client is done: the server closes it.
    c[0].expect_eof();
}

#[test]
fn a_client_that_resets_does_not_disturb_the_others() {
    let server = chat_server();
    let mut c = join_chat(&server, 4);

    // Client 3 has a line waiting that it never reads, and resets.
    c[0].send(b"before the reset\n");
    for reader in [1, 2] {
        c[reader].expect_line(b"before the reset\n");
    }
    let reset = c.pop().expect("four clients");
    reset.reset();

    // The others keep chatting, both ways.
    c[1].send(b"after the reset\n");
    c[0].expect_line(b"after the reset\n");
    c[2].expect_line(b"after the reset\n");
    c[2].send(b"still here\n");
    c[0].expect_line(b"still here\n");
    c[1].expect_line(b"still here\n");

    // And the server still takes new clients.
    let mut newcomer = Client::named(server.addr(), "newcomer");
    newcomer.send(b"new here\n");
    for client in &mut c {
        client.expect_line(b"new here\n");
    }
    c[0].send(b"welcome\n");
    newcomer.expect_line(b"welcome\n");
}

#[test]
fn an_over_long_line_gets_an_error_line_and_its_client_is_closed() {
    let server = chat_server();
    let mut c = join_chat(&server, 3);

    // The longest line allowed (newline included) goes through.
    let mut longest = vec![b'a'; MAX_LINE - 1];
    longest.push(b'\n');
    c[0].send(&longest);
    c[1].expect_line(&longest);
    c[2].expect_line(&longest);

    // One byte more is refused: an error line, then the connection closes.
    let mut too_long = vec![b'b'; MAX_LINE];
    too_long.push(b'\n');
    c[0].send(&too_long);
    let error = c[0].read_line();
    let text = String::from_utf8_lossy(&error);
    assert!(
        text.starts_with("error: ") && text.ends_with('\n'),
        "expected an `error: …` line, got {text:?}"
    );
    c[0].expect_eof();

    // The others are unaffected, and nothing of the refused line reached them:
    // their next line is the one sent after it.
    c[1].send(b"carry on\n");
    c[2].expect_line(b"carry on\n");
    c[2].send(b"carrying on\n");
    c[1].expect_line(b"carrying on\n");
}

/// 20 MiB without a newline: the server refuses the line at its limit and
/// closes the client, reading no further, so its memory never holds the
/// line (a server that collected it would peak above 20 MiB).
#[test]
fn a_20_mib_line_without_a_newline_does_not_grow_the_servers_memory() {
    const SIZE: usize = 20 << 20;
    let server = chat_server();
    let mut c = join_chat(&server, 2);
    let before = server.peak_memory();
    let chunk = vec![b'z'; 64 * 1024];
    let mut written = 0;
    // Ends with the whole line written (into the kernel's buffers) or with
    // the server's close refusing the rest.
    while written < SIZE {
        match std::io::Write::write(&mut c[0].stream, &chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n,
        }
    }
    // Having refused the line, the server reads on and drops the rest, so
    // the client can say all it wanted and then see the close, rather than
    // be held by full buffers until the server's linger runs out.
    assert_eq!(
        written, SIZE,
        "the client could write only {written} bytes after its line was refused"
    );
    c[0].shutdown_write();
    let got = c[0].drain_until_closed();
    assert!(got > 0, "the client got no error line before the close");
    if let (Some(before), Some(peak)) = (before, server.peak_memory()) {
        assert!(
            peak < before + (8 << 20),
            "the server's peak memory went from {before} to {peak} bytes while a client \
             sent a {written}-byte line"
        );
    }
    // The others are still served.
    let mut other = Client::named(server.addr(), "other");
    other.send(b"hello\n");
    c[1].expect_line(b"hello\n");
}

#[test]
fn an_over_long_line_without_a_newline_is_refused_too() {
    let server = chat_server();
    let mut c = join_chat(&server, 2);

    // Far past the limit, never ending: the server must not keep collecting.
    c[0].send(&vec![b'z'; 3 * MAX_LINE]);
    let error = c[0].read_line();
    assert!(
        error.starts_with(b"error: "),
        "expected an `error: …` line, got {:?}",
        String::from_utf8_lossy(&error)
    );
    c[0].expect_eof();

    let mut other = Client::named(server.addr(), "other");
    other.send(b"hello\n");
    c[1].expect_line(b"hello\n");
}

/// The length of each line [`send_in_batches`] sends, newline included.
const LINE: usize = 4000;

/// How many lines [`send_in_batches`] sends at a time: below every queue on
/// the way, so a client that reads each batch keeps up.
const BATCH: usize = 32;

/// Client `writer` sends `batches` batches of [`BATCH`] numbered lines of
/// [`LINE`] bytes; client `reader` reads each whole batch before the next is
/// sent. Returns everything sent. (When `reader` has a batch, the hub has
/// handled every line of it, for every client.)
fn send_in_batches(c: &mut [Client], writer: usize, reader: usize, batches: usize) -> Vec<u8> {
    let mut sent = Vec::with_capacity(batches * BATCH * LINE);
    for b in 0..batches {
        let mut batch = Vec::with_capacity(BATCH * LINE);
        for n in b * BATCH..(b + 1) * BATCH {
            let mut line = format!("{n:06} ").into_bytes();
            line.resize(LINE - 1, b'.');
            line.push(b'\n');
            batch.extend_from_slice(&line);
        }
        c[writer].send(&batch);
        let got = c[reader].read_exact_n(batch.len());
        assert_same_bytes(
            &got,
            &batch,
            &format!("batch {b} as client {reader} read it"),
        );
        sent.extend_from_slice(&batch);
    }
    sent
}

#[test]
fn a_client_that_never_reads_is_closed_and_the_server_stays_bounded() {
    // Client 0 writes, client 1 reads everything, client 2 never reads. The
    // server may hold only a bounded queue for client 2 (1024 lines in its
    // handler, 64 chunks in its connection, plus the kernel's socket buffers, a
    // few MiB on loopback); once that is full it must close client 2 rather
    // than buffer more. So client 2, reading only at the end, gets far less than
    // was sent, then the end of the connection.
    const FLOOD: usize = 64 * 1024 * 1024;
    const BOUND: usize = 32 * 1024 * 1024;

    let server = chat_server();
    let mut c = join_chat(&server, 3);

    let sent = send_in_batches(&mut c, 0, 1, FLOOD / (BATCH * LINE) + 1).len();

    // The writer and the reader are still served.
    c[1].send(b"still chatting\n");
    c[0].expect_line(b"still chatting\n");

    let received = c[2].drain_until_closed();
    assert!(
        received < BOUND && received < sent,
        "the client that never read got {received} of {sent} bytes: the server kept \
         buffering for it instead of closing it"
    );
    if let Some(peak) = server.peak_memory() {
        assert!(
            peak < (48 << 20),
            "the server's peak memory reached {peak} bytes while {sent} bytes went to a \
             client that did not read"
        );
    }
}

#[test]
fn sigterm_closes_every_client_after_its_pending_output_and_exits_0() {
    // Client 0 sends, client 2 reads everything, and client 1 reads nothing
    // until the server is told to stop. Once client 2 has the last batch, the
    // hub has handled every line, so all of them are pending for client 1:
    // 1216 lines (4.9 MB), more than the kernel's buffers and the
    // connection's queue (64 chunks) hold, so some wait in client 1's chat
    // handler, and fewer than the 1024 lines it may hold before closing a
    // client that does not read. All of it must arrive, then the end of the
    // stream.
    const BATCHES: usize = 1216 / BATCH;
    let mut server = chat_server();
    let mut c = join_chat(&server, 3);

    let sent = send_in_batches(&mut c, 0, 2, BATCHES);
    server.signal(libc::SIGTERM);
    let received = c[1].read_to_end();
    assert_same_bytes(
        &received,
        &sent,
        "what was pending for client 1 when the server was told to stop",
    );
    c[0].expect_eof();
    c[2].expect_eof();
    drop(c);
    let status = server.wait();
    assert_exit_ok(&server, status);
}

#[test]
fn a_second_server_on_the_same_port_is_refused() {
    // One scheduler: a plain listener, so a second copy started by mistake
    // is told the port is taken instead of sharing it (SO_REUSEPORT).
    let server = chat_server();
    let port = server.addr().port().to_string();
    let (status, out, err) = run_example(
        "simple_server",
        &["--host", "127.0.0.1", "--port", &port],
        b"",
    );
    assert!(
        !status.success(),
        "a second simple_server on port {port} exited with {status}; stdout: {out:?}"
    );
    let lower = err.to_lowercase();
    assert!(
        lower.contains("address already in use") || lower.contains("addrinuse"),
        "stderr does not say the address is in use: {err:?}"
    );
}
