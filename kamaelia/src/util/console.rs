//! [`ConsoleReader`] and [`ConsoleEchoer`]: a program's terminal as components.

use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{self, TryRecvError};
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
        /// Each line read, with its newline.
        outbox outbox: Bytes,
        /// `ProducerFinished` at the end of input.
        outbox signal: Ipc,
    }
}

/// How many lines the reading thread may read ahead of the component.
const READ_AHEAD: usize = 64;

/// The most input sent as one message: a longer line comes in pieces.
const MAX_PIECE: usize = 64 * 1024;

/// Reads lines from standard input and sends each out of `outbox`, newline
/// included: Kamaelia's `ConsoleReader`.
///
/// Reading blocks, so a thread of its own reads and hands each line to the
/// component (no component ever blocks). The thread reads at most 64 lines
/// ahead of what the component has sent on, so input piped from a large file
/// is read at the pace of whatever consumes it; a line over 64 KiB comes in
/// pieces. At the end of input it sends `ProducerFinished` out of `signal` and
/// ends.
///
/// # Inboxes
///
/// * `control` ([`Ipc`]): any message ends it.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): lines read.
/// * `signal` ([`Ipc`]): `ProducerFinished` at the end of input.
#[derive(Debug, Default)]
pub struct ConsoleReader;

impl Component for ConsoleReader {
    type Boxes = ConsoleReaderBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let Some(waker) = cx.component().remote_waker() else {
            return;
        };
        let (lines, read) = mpsc::sync_channel::<Bytes>(READ_AHEAD);
        let spawned = thread::Builder::new()
            .name("kamaelia-console-reader".into())
            .spawn(move || {
                let mut input = io::stdin().lock();
                loop {
                    let mut line = Vec::new();
                    let mut piece = input.by_ref().take(MAX_PIECE as u64);
                    match piece.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            // Blocks while the component is READ_AHEAD behind.
                            if lines.send(Bytes::from(line)).is_err() {
                                return;
                            }
                            waker.wake();
                        }
                    }
                }
                drop(lines);
                waker.wake();
            });
        if let Err(e) = spawned {
            tracing::error!(target: "kamaelia::console", error = %e, "cannot start the console reader");
            return;
        }
        loop {
            loop {
                match read.try_recv() {
                    Ok(line) => cx.outbox.send(line).await,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
                        return;
                    }
                }
            }
            if cx.control.recv().is_some() {
                return;
            }
            cx.idle().await;
        }
    }
}

/// Writes what it receives to standard output: Kamaelia's `ConsoleEchoer`.
///
/// With [`forwarder`](Self::forwarder) it also passes what it receives on out
/// of `outbox`. Any message on `control` ends it, once everything that arrived
/// on `inbox` before it has been written, after passing the message on out of
/// `signal`.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): what to write.
/// * `control` ([`Ipc`]): any message ends it, once `inbox` is empty.
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

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(data) = cx.recv_until_finished().await {
            let mut out = io::stdout().lock();
            let _ = out.write_all(&data).and_then(|()| out.flush());
            drop(out);
            if self.forwarder {
                cx.outbox.send(data).await;
            }
        }
        // The message that ended it, left on `control`: passed on.
        if let Some(message) = cx.control.recv() {
            cx.signal.send(message).await;
        }
    }
}
