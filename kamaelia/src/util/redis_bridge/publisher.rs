//! [`RedisPublisher`]: the thread that PUBLISHes a bridge's messages.

use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

use axon::ipc::Ipc;
use axon::{Standard, ThreadCx, ThreadInbox, ThreadedComponent};
use redis::Connection;

use super::backoff::Backoff;
use super::broker::Broker;
use super::frame::{self, Origin};
use super::{BridgeStats, Marshall};

/// At most this many messages go to the broker in one write (a pipeline of
/// PUBLISH commands, one round trip), so a burst costs few round trips.
const BATCH: usize = 64;

/// Publishes each message it receives on the broker's channel, in a frame
/// from its bridge's origin; reconnects with back-off when the broker goes.
///
/// While there is no connection, what it receives is dropped and counted
/// (the local subscribers had it already): a message is worth delivering to
/// other servers now, not after an outage of unknown length, and the queue
/// toward the broker stays bounded however long that is. Each loss and each
/// return is logged, the return with the number dropped in between.
///
/// # Inboxes
///
/// * `inbox` (`T`): messages to publish.
/// * `control` ([`Ipc`]): any message ends it, once it has published (or
///   dropped) what its inbox holds.
///
/// # Outboxes
///
/// * `outbox` (`()`), `signal` ([`Ipc`]): not used.
pub(crate) struct RedisPublisher<T> {
    pub(crate) broker: Broker,
    pub(crate) origin: Origin,
    /// The connection made at the start, if the broker answered then.
    pub(crate) connection: Option<Connection>,
    pub(crate) stats: BridgeStats,
    pub(crate) backoff: Backoff,
    /// When the bridge was made.
    pub(crate) made: Instant,
    pub(crate) message: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for RedisPublisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPublisher")
            .field("broker", &self.broker)
            .field("origin", &self.origin)
            .finish()
    }
}

/// An outage as the publisher sees it: since when, and the drop count when
/// it began.
struct Outage {
    since: Instant,
    dropped_before: u64,
}

impl<T: Marshall + Send + 'static> ThreadedComponent for RedisPublisher<T> {
    type Boxes = Standard<T, ()>;

    fn main(mut self, cx: ThreadCx<Self::Boxes>) {
        let (Ok(inbox), Ok(control)) = (cx.inbox::<T>("inbox"), cx.inbox::<Ipc>("control")) else {
            return;
        };
        self.stats.set_publisher_thread(std::thread::current());
        let mut connection = self.connection.take();
        // Without a connection from the start, the outage began when the
        // bridge was made: what was dropped before this thread ran counts.
        let mut outage = connection.is_none().then_some(Outage {
            since: self.made,
            dropped_before: 0,
        });
        let mut next_try = Instant::now();
        let mut sequence = 0u64;
        let mut frame = Vec::new();
        // From 0, not from the count now: a loss the subscriber saw before
        // this thread ran is still looked into.
        let mut losses_seen = 0;
        loop {
            let ending = control.data_ready();
            let Some(con) = &mut connection else {
                while inbox.try_recv().is_some() {
                    self.stats.add_dropped(1);
                }
                if ending && inbox.is_exhausted() {
                    return;
                }
                let now = Instant::now();
                if now < next_try {
                    cx.pause_timeout(next_try - now);
                    continue;
                }
                match self.broker.publisher() {
                    Ok(con) => {
                        if let Some(outage) = outage.take() {
                            self.report_return(&outage);
                        }
                        self.backoff.reset();
                        self.stats.set_publishing(true);
                        losses_seen = self.stats.losses();
                        connection = Some(con);
                    }
                    Err(e) => {
                        tracing::debug!(broker = %self.broker, "cannot publish yet: {e}");
                        next_try = Instant::now() + self.backoff.next_wait();
                    }
                }
                continue;
            };
            let dropped_before = self.stats.dropped();
            let mut sent = self.publish_batch(&inbox, con, &mut frame, &mut sequence);
            if matches!(sent, Ok(0)) && self.stats.losses() != losses_seen {
                // The subscriber lost the broker: has this connection gone
                // too? Asked now, not when the next message fails.
                losses_seen = self.stats.losses();
                sent = redis::cmd("PING").query::<String>(con).map(|_| 0);
            }
            match sent {
                Ok(0) if ending && inbox.is_exhausted() => return,
                Ok(0) => cx.pause(),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(
                        broker = %self.broker,
                        "lost the connection publishing to the broker ({e}): messages for other \
                         servers are dropped until it is back (local delivery goes on)"
                    );
                    connection = None;
                    self.stats.set_publishing(false);
                    next_try = Instant::now() + self.backoff.next_wait();
                    outage = Some(Outage {
                        since: Instant::now(),
                        dropped_before,
                    });
                }
            }
        }
    }
}

impl<T: Marshall + Send + 'static> RedisPublisher<T> {
    /// Publishes up to [`BATCH`] waiting messages in one round trip: how
    /// many. A failed batch is counted as dropped (the broker may have taken
    /// some of it, but it promises at most once, and this cannot tell).
    fn publish_batch(
        &mut self,
        inbox: &ThreadInbox<T>,
        con: &mut Connection,
        frame: &mut Vec<u8>,
        sequence: &mut u64,
    ) -> redis::RedisResult<usize> {
        let mut pipe = redis::pipe();
        let mut n = 0;
        while n < BATCH {
            let Some(message) = inbox.try_recv() else {
                break;
            };
            frame::start(frame, self.origin, *sequence);
            *sequence += 1;
            message.marshall(frame);
            pipe.cmd("PUBLISH")
                .arg(self.broker.channel())
                .arg(&frame[..])
                .ignore();
            n += 1;
        }
        if n == 0 {
            return Ok(0);
        }
        match pipe.query::<()>(con) {
            Ok(()) => {
                self.stats.add_published(n as u64);
                Ok(n)
            }
            Err(e) => {
                self.stats.add_dropped(n as u64);
                Err(e)
            }
        }
    }

    /// Logs the end of an outage, with what it cost.
    fn report_return(&self, outage: &Outage) {
        let dropped = self.stats.dropped().saturating_sub(outage.dropped_before);
        tracing::info!(
            broker = %self.broker,
            "publishing again to the broker after {:.1} s; dropped {dropped} messages while \
             the broker was down",
            outage.since.elapsed().as_secs_f64()
        );
    }
}
