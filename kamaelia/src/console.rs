//! [`ConsoleReader`] and [`ConsoleEchoer`]: a program's terminal as components.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::thread;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, Cx, Standard};
use bytes::Bytes;

axon::boxes! {
    /// The boxes of a [`ConsoleReader`].
    pub struct ConsoleReaderBoxes {
        /// Any message ends the reader (the thread reading the terminal is
        /// left to the end of the process).
        inbox control: Ipc,
        /// Lines from the reading thread (`None`: end of input).
        inbox lines: Option<Bytes>,
        /// Each line read, with its newline.
        outbox outbox: Bytes,
        /// `ProducerFinished` at the end of input.
        outbox signal: Ipc,
    }
}

/// Reads lines from standard input and sends each out of `outbox`, newline
/// included: Kamaelia's `ConsoleReader`.
///
/// Reading blocks, so a thread of its own reads and hands each line to the
/// component (no component ever blocks). At the end of input it sends
/// `ProducerFinished` out of `signal` and ends.
///
/// # Inboxes
///
/// * `control` ([`Ipc`]): any message ends it.
/// * `lines`: internal.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): lines read.
/// * `signal` ([`Ipc`]): `ProducerFinished` at the end of input.
#[derive(Debug, Default)]
pub struct ConsoleReader;

impl Component for ConsoleReader {
    type Boxes = ConsoleReaderBoxes;

    async fn main(self, cx: Cx<ConsoleReaderBoxes>) {
        let Some(lines) = cx.lines.remote_sender() else {
            return;
        };
        let spawned = thread::Builder::new()
            .name("kamaelia-console-reader".into())
            .spawn(move || {
                let stdin = io::stdin();
                let mut input = stdin.lock();
                loop {
                    let mut line = Vec::new();
                    match input.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => lines.send(Some(Bytes::from(line))),
                    }
                }
                lines.send(None);
            });
        if let Err(e) = spawned {
            tracing::error!(target: "kamaelia::console", error = %e, "cannot start the console reader");
            return;
        }
        loop {
            for line in cx.lines.drain() {
                match line {
                    Some(line) => cx.outbox.send(line).await,
                    None => {
                        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
                        return;
                    }
                }
            }
            if cx.control.recv().is_some() {
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}

/// Writes what it receives to standard output: Kamaelia's `ConsoleEchoer`.
///
/// With [`forwarder`](Self::forwarder) it also passes what it receives on out
/// of `outbox`. Any message on `control` ends it, after passing the message on
/// out of `signal`.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): what to write.
/// * `control` ([`Ipc`]): any message ends it.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): what it wrote, if a forwarder.
/// * `signal` ([`Ipc`]): the message that ended it.
#[derive(Default)]
pub struct ConsoleEchoer {
    forwarder: bool,
}

impl ConsoleEchoer {
    /// An echoer that only writes.
    pub fn new() -> Self {
        ConsoleEchoer::default()
    }

    /// Also passes everything on out of `outbox` (Kamaelia's `forwarder=True`).
    pub fn forwarder(mut self) -> Self {
        self.forwarder = true;
        self
    }
}

impl fmt::Debug for ConsoleEchoer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleEchoer")
            .field("forwarder", &self.forwarder)
            .finish()
    }
}

impl Component for ConsoleEchoer {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Standard<Bytes, Bytes>>) {
        loop {
            for data in cx.inbox.drain() {
                let mut out = io::stdout().lock();
                let _ = out.write_all(&data).and_then(|()| out.flush());
                drop(out);
                if self.forwarder {
                    cx.outbox.send(data).await;
                }
            }
            if let Some(message) = cx.control.recv() {
                cx.signal.send(message).await;
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}
