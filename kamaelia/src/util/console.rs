//! [`ConsoleReader`] and [`ConsoleEchoer`]: a program's terminal as components.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, BufRead, Read, Write};
use std::pin::pin;
use std::task::Poll;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, ComponentId, Cx, Standard, ThreadCx, Threaded, ThreadedComponent};
use bytes::Bytes;

use super::write_through::write_through;

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

/// How many lines the reading thread may read ahead of the component: the
/// length of its threaded component's queues.
const READ_AHEAD: usize = 64;

/// How many chunks the echoer's thread takes ahead of its writing.
const WRITE_AHEAD: usize = 64;

/// The most input sent as one message: a longer line comes in pieces.
const MAX_PIECE: usize = 64 * 1024;

/// Reads lines from standard input and sends each out of `outbox`, newline
/// included: Kamaelia's `ConsoleReader`.
///
/// Reading blocks, so it is a [`ThreadedComponent`]: a thread of its own
/// reads and sends each line (no component on the scheduler's thread ever
/// blocks). The thread reads at most 64 lines ahead of what has gone out of
/// `outbox` (its queues are 64 long), so input piped from a large file is
/// read at the pace of whatever consumes it; a line over 64 KiB comes in
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
///
/// # Examples
///
/// Kamaelia's `Pipeline(ConsoleReader(), ConsoleEchoer())`, wired by hand:
///
/// ```
/// use axon::ComponentRef;
/// use kamaelia::{ConsoleEchoer, ConsoleReader};
///
/// let reader = ComponentRef::new(ConsoleReader::new());
/// let echoer = ComponentRef::new(ConsoleEchoer::new());
/// reader.link((&reader, "outbox"), (&echoer, "inbox"))?;
/// reader.link((&reader, "signal"), (&echoer, "control"))?;
/// assert_eq!(reader.linkages().len(), 2);
/// // `reader.activate(); echoer.activate(); Scheduler::current().run()`
/// // would now copy standard input to standard output, line by line.
/// # Ok::<(), axon::LinkError>(())
/// ```
#[derive(Debug, Default)]
pub struct ConsoleReader;

impl ConsoleReader {
    /// A reader of standard input.
    ///
    /// ```
    /// let reader = axon::ComponentRef::new(kamaelia::ConsoleReader::new());
    /// assert!(reader.has_outbox("outbox") && reader.has_inbox("control"));
    /// ```
    pub fn new() -> Self {
        ConsoleReader
    }
}

impl Component for ConsoleReader {
    type Boxes = ConsoleReaderBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        // The thread never looks at `control`: it may be blocked in a read
        // for ever. The component watches it here instead, and ends on any
        // message, which stops the threaded body (its thread's next send
        // fails, and it returns).
        let control = cx.control.clone();
        let body = ReadLines { id: cx.id() };
        let mut threaded = pin!(Threaded::new(body).queue_length(READ_AHEAD).main(cx));
        poll_fn(|task| {
            if threaded.as_mut().poll(task).is_ready() || control.recv().is_some() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

/// The thread of a [`ConsoleReader`].
struct ReadLines {
    /// The reader's id, for its `ProducerFinished`.
    id: ComponentId,
}

impl ThreadedComponent for ReadLines {
    type Boxes = ConsoleReaderBoxes;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let (Ok(outbox), Ok(signal)) = (cx.outbox::<Bytes>("outbox"), cx.outbox::<Ipc>("signal"))
        else {
            return;
        };
        let mut input = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            let mut piece = input.by_ref().take(MAX_PIECE as u64);
            match piece.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                // Waits while the queue to `outbox` is full: the pacing.
                Ok(_) => {
                    if outbox.send(Bytes::from(line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = signal.send(ProducerFinished::from(self.id).into());
    }
}

/// Writes what it receives to standard output: Kamaelia's `ConsoleEchoer`.
///
/// With [`forwarder`](Self::forwarder) it also passes what it receives on out
/// of `outbox`; with [`tag`](Self::tag) it writes a prefix before each
/// message. Any message on `control` ends it, once everything that arrived
/// on `inbox` before it has been written, after passing the message on out of
/// `signal`.
///
/// Writing to standard output can block (a terminal scrolled back, a full
/// pipe), so the writes are done by a [`ThreadedComponent`] on a thread of its
/// own: the scheduler's thread never waits for them. The thread takes at most
/// 64 messages ahead of its writing; the rest wait in `inbox`.
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
    tag: Bytes,
}

impl ConsoleEchoer {
    /// An echoer that only writes.
    ///
    /// ```
    /// let echoer = axon::ComponentRef::new(kamaelia::ConsoleEchoer::new());
    /// assert!(echoer.has_inbox("inbox") && echoer.has_outbox("signal"));
    /// ```
    pub fn new() -> Self {
        ConsoleEchoer::default()
    }

    /// Also passes everything on out of `outbox` (Kamaelia's `forwarder=True`).
    ///
    /// ```
    /// use axon::Background;
    /// use bytes::Bytes;
    ///
    /// let background = Background::start()?;
    /// let echoer = background.handle(|| kamaelia::ConsoleEchoer::new().forwarder());
    /// echoer.put(Bytes::from_static(b"hello\n")); // written to standard output...
    /// assert_eq!(echoer.get().as_deref(), Some(&b"hello\n"[..])); // ...and passed on
    /// echoer.finish();
    /// assert_eq!(echoer.get(), None);
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn forwarder(mut self) -> Self {
        self.forwarder = true;
        self
    }

    /// Writes `tag` before each message (Kamaelia's `tag`); what is passed
    /// on, if a forwarder, is the message alone.
    ///
    /// ```
    /// use axon::Background;
    /// use bytes::Bytes;
    ///
    /// let background = Background::start()?;
    /// let echoer = background.handle(|| kamaelia::ConsoleEchoer::new().tag("\n").forwarder());
    /// echoer.put(Bytes::from_static(b"BTL")); // "\nBTL" on standard output...
    /// assert_eq!(echoer.get().as_deref(), Some(&b"BTL"[..])); // ..."BTL" passed on
    /// echoer.finish();
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn tag(mut self, tag: impl Into<Bytes>) -> Self {
        self.tag = tag.into();
        self
    }
}

impl fmt::Debug for ConsoleEchoer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleEchoer")
            .field("forwarder", &self.forwarder)
            .field("tag", &self.tag)
            .finish()
    }
}

impl Component for ConsoleEchoer {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let body = Echo {
            forwarder: self.forwarder,
            tag: self.tag,
        };
        Threaded::new(body).queue_length(WRITE_AHEAD).main(cx).await;
    }
}

/// The thread of a [`ConsoleEchoer`]: it does the blocking writes.
struct Echo {
    forwarder: bool,
    tag: Bytes,
}

impl ThreadedComponent for Echo {
    type Boxes = Standard<Bytes, Bytes>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(boxes) = cx.boxes() else {
            return;
        };
        // Everything that arrived on `inbox` before a control message is
        // written first, however far behind the writes are. A console that
        // cannot be written to loses the output, not the data passed on.
        let ended = write_through(&boxes, self.forwarder, |data| {
            let mut out = io::stdout().lock();
            let _ = out
                .write_all(&self.tag)
                .and_then(|()| out.write_all(data))
                .and_then(|()| out.flush());
            Ok(())
        });
        if let Ok(Some(message)) = ended {
            let _ = boxes.signal.send(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::{Duration, Instant};

    use axon::ipc::ShutdownMicroprocess;
    use axon::{ComponentRef, Scheduler};

    use super::*;

    /// More than the echoer's queues hold: `control` must wait behind them.
    const CHUNKS: usize = 5 * WRITE_AHEAD;

    /// Counts what arrives on `inbox` until a message on `control`; records
    /// the count then.
    struct Collector(Rc<Cell<Option<usize>>>);

    impl Component for Collector {
        type Boxes = Standard<Bytes, ()>;

        async fn main(self, cx: Cx<Self::Boxes>) {
            let mut count = 0;
            loop {
                count += cx.inbox.drain().count();
                if cx.control.recv().is_some() {
                    count += cx.inbox.drain().count();
                    self.0.set(Some(count));
                    return;
                }
                cx.idle().await;
            }
        }
    }

    #[test]
    fn a_forwarder_passes_everything_on_before_the_message_that_ends_it() {
        let scheduler = Scheduler::new();
        let echoer = ComponentRef::new(ConsoleEchoer::new().forwarder());
        let seen = Rc::new(Cell::new(None));
        let collector = ComponentRef::new(Collector(seen.clone()));
        echoer
            .link((&echoer, "outbox"), (&collector, "inbox"))
            .and_then(|_| echoer.link((&echoer, "signal"), (&collector, "control")))
            .expect("linked");
        // Empty chunks: nothing shows on the test's output.
        let inbox = echoer.inbox::<Bytes>("inbox").expect("inbox");
        for _ in 0..CHUNKS {
            inbox.deliver(Bytes::new()).expect("delivered");
        }
        echoer
            .inbox::<Ipc>("control")
            .expect("control")
            .deliver(ShutdownMicroprocess::new().into())
            .expect("delivered");
        echoer.activate_on(&scheduler);
        collector.activate_on(&scheduler);
        // A guard against a hang, not a way of waiting.
        let guard = Instant::now() + Duration::from_secs(30);
        while scheduler.run_cycle() {
            assert!(Instant::now() < guard, "the echoer never finished");
        }
        assert_eq!(seen.get(), Some(CHUNKS), "all passed on, then the signal");
        assert!(echoer.is_finished());
    }
}
