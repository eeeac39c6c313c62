//! [`RedisSubscriber`]: the thread that reads the broker's channel and
//! delivers other bridges' messages to the local backplane.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon::ipc::Ipc;
use axon::{Standard, ThreadCx, ThreadInbox, ThreadOutbox, ThreadedComponent};
use redis::{Connection, RedisError};

use super::backoff::Backoff;
use super::broker::Broker;
use super::frame::{self, Origin};
use super::{BridgeStats, Marshall};

/// How often a thread blocked on the broker looks at its `control`: the
/// most it takes to end once told to.
const TICK: Duration = Duration::from_millis(100);

/// Sends out, in order, every message another bridge published on the
/// channel; drops its own bridge's (they reached the local subscribers
/// already, so nothing goes round twice), and counts what is not a frame or
/// does not demarshall.
///
/// When the connection is lost it logs it, tells the publisher (which may be
/// idle, and would otherwise find out only with its next message), and
/// subscribes again with back-off, logging when it has. What is published
/// while it is away is missed: Redis's pub/sub keeps nothing for a
/// subscriber that is not there.
///
/// # Inboxes
///
/// * `inbox` (`()`): not used.
/// * `control` ([`Ipc`]): any message ends it (within [`TICK`]).
///
/// # Outboxes
///
/// * `outbox` (`T`): to the local splitter.
/// * `signal` ([`Ipc`]): not used.
pub(crate) struct RedisSubscriber<T> {
    pub(crate) broker: Broker,
    pub(crate) origin: Origin,
    /// The connection made (and subscribed) at the start, if the broker
    /// answered then.
    pub(crate) connection: Option<Connection>,
    pub(crate) stats: BridgeStats,
    pub(crate) backoff: Backoff,
    pub(crate) message: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for RedisSubscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSubscriber")
            .field("broker", &self.broker)
            .field("origin", &self.origin)
            .finish()
    }
}

/// Why listening stopped.
enum Stop {
    /// Told to end, or stopped.
    Ended,
    Lost(RedisError),
}

impl<T: Marshall + Send + 'static> ThreadedComponent for RedisSubscriber<T> {
    type Boxes = Standard<(), T>;

    fn main(mut self, cx: ThreadCx<Self::Boxes>) {
        let (Ok(outbox), Ok(control)) = (cx.outbox::<T>("outbox"), cx.inbox::<Ipc>("control"))
        else {
            return;
        };
        let mut connection = self.connection.take();
        let mut since = Instant::now();
        loop {
            if let Some(mut con) = connection.take() {
                self.stats.set_subscribed(true);
                match self.listen(&cx, &mut con, &outbox, &control) {
                    Stop::Ended => return,
                    Stop::Lost(e) => {
                        self.stats.set_subscribed(false);
                        self.stats.subscriber_lost();
                        since = Instant::now();
                        tracing::warn!(
                            broker = %self.broker,
                            "lost the subscription to the broker ({e}): messages from other \
                             servers are missed until it is back"
                        );
                    }
                }
            }
            loop {
                cx.pause_timeout(self.backoff.next_wait());
                if control.data_ready() || cx.is_stopped() {
                    return;
                }
                match self.broker.subscriber() {
                    Ok(con) => {
                        tracing::info!(
                            broker = %self.broker,
                            "subscribed again to the broker after {:.1} s",
                            since.elapsed().as_secs_f64()
                        );
                        self.backoff.reset();
                        connection = Some(con);
                        break;
                    }
                    Err(e) => tracing::debug!(broker = %self.broker, "cannot subscribe yet: {e}"),
                }
            }
        }
    }
}

impl<T: Marshall + Send + 'static> RedisSubscriber<T> {
    /// Delivers what arrives on `con` until it is lost or the component is
    /// told to end.
    fn listen(
        &self,
        cx: &ThreadCx<Standard<(), T>>,
        con: &mut Connection,
        outbox: &ThreadOutbox<T>,
        control: &ThreadInbox<Ipc>,
    ) -> Stop {
        let mut pubsub = con.as_pubsub();
        if let Err(e) = pubsub.set_read_timeout(Some(TICK)) {
            return Stop::Lost(e);
        }
        loop {
            if control.data_ready() || cx.is_stopped() {
                return Stop::Ended;
            }
            let message = match pubsub.get_message() {
                Ok(message) => message,
                Err(e) if e.is_timeout() => continue,
                Err(e) => return Stop::Lost(e),
            };
            let Some(message) = self.open(message.get_payload_bytes()) else {
                continue;
            };
            // Waits while the backplane is full (holding the broker back,
            // which buffers for a subscriber up to its
            // client-output-buffer-limit), but not past the end.
            let mut message = message;
            loop {
                match outbox.try_send(message) {
                    Ok(()) => break,
                    Err(_) if control.data_ready() || cx.is_stopped() => return Stop::Ended,
                    Err(refused) => {
                        message = refused;
                        cx.pause_timeout(TICK);
                    }
                }
            }
            self.stats.add_received();
        }
    }

    /// The message in a payload from the channel, if it is another bridge's
    /// and demarshalls.
    fn open(&self, payload: &[u8]) -> Option<T> {
        match frame::read(payload) {
            Ok(frame) if frame.origin == self.origin => None,
            Ok(frame) => {
                let message = T::demarshall(frame.payload);
                if message.is_none() {
                    self.stats.add_refused();
                    tracing::debug!(
                        broker = %self.broker,
                        origin = %frame.origin,
                        "a message on the channel does not demarshall: refused"
                    );
                }
                message
            }
            Err(why) => {
                self.stats.add_refused();
                tracing::debug!(broker = %self.broker, "refused a payload on the channel: {why}");
                None
            }
        }
    }
}
