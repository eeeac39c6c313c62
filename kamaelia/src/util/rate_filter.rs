//! [`MessageRateLimit`]: messages passed on no faster than a given rate.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon::ipc::Ipc;
use axon::{Component, Cx, Standard};

/// Passes messages from `inbox` to `outbox` at most `messages_per_second`
/// a second: Kamaelia's `MessageRateLimit` (in `Kamaelia.Util.RateFilter`).
///
/// As in the original, it first waits until `buffer` messages are queued,
/// then passes the first at once and each after it a full interval
/// (`1 / messages_per_second`) after the one before. It waits on axon's
/// timers ([`Cx::wake_at`]), costing nothing between messages. A late
/// scheduler does not bring a burst to catch up: the interval is counted from
/// when the last message actually went.
///
/// `ProducerFinished` (or the legacy `Shutdown`) on `control` ends it once
/// everything queued before it has been passed on at the same pace, and it
/// is then passed on out of `signal`; if fewer than `buffer` messages ever
/// came, they are passed on all the same. `ShutdownMicroprocess` ends it at
/// once, leaving what is queued, and is passed on.
///
/// **Where it differs from Kamaelia's**: the original never ends and reads
/// no control messages; it runs about 10% faster than asked
/// (`1 / (1.1 × messages_per_second)`), and waits by being scheduled every
/// timeslice. This one keeps the rate asked for and sleeps.
///
/// # Inboxes
///
/// * `inbox` (`T`): the messages.
/// * `control` ([`Ipc`]): `ProducerFinished` ends it when `inbox` is
///   empty; `ShutdownMicroprocess` ends it at once.
///
/// # Outboxes
///
/// * `outbox` (`T`): the same messages, paced.
/// * `signal` ([`Ipc`]): the control message that ended it.
///
/// # Panics
///
/// [`new`](Self::new) panics unless `messages_per_second` is a positive,
/// finite number.
///
/// # Examples
///
/// SingleServerExample's `MessageRateLimit(2, 1)`: two messages a second,
/// starting as soon as there is one.
///
/// ```
/// use axon::Background;
/// use kamaelia::MessageRateLimit;
///
/// let background = Background::start()?;
/// let limit = background.handle(|| MessageRateLimit::new(20.0, 1));
/// let start = std::time::Instant::now();
/// for n in 0..3 {
///     limit.put(n);
/// }
/// limit.finish();
/// assert_eq!(std::iter::from_fn(|| limit.get()).collect::<Vec<_>>(), [0, 1, 2]);
/// assert!(start.elapsed() >= std::time::Duration::from_millis(100)); // two intervals
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct MessageRateLimit<T> {
    interval: Duration,
    buffer: usize,
    types: PhantomData<fn(T) -> T>,
}

impl<T: 'static> MessageRateLimit<T> {
    /// A limit of `messages_per_second`, starting once `buffer` messages are
    /// queued.
    pub fn new(messages_per_second: f64, buffer: usize) -> Self {
        assert!(
            messages_per_second.is_finite() && messages_per_second > 0.0,
            "MessageRateLimit: messages_per_second must be positive and finite, not {messages_per_second}"
        );
        MessageRateLimit {
            interval: Duration::from_secs_f64(1.0 / messages_per_second),
            buffer,
            types: PhantomData,
        }
    }
}

impl<T> fmt::Debug for MessageRateLimit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageRateLimit")
            .field("interval", &self.interval)
            .field("buffer", &self.buffer)
            .finish()
    }
}

impl<T: 'static> Component for MessageRateLimit<T> {
    type Boxes = Standard<T, T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        // The `ProducerFinished` (or `Shutdown`) to end on once `inbox` is empty.
        let mut finish = None;
        let mut started = false;
        // When the next message may go, and the timer already asked for it.
        let mut next = Instant::now();
        let mut armed = None;
        loop {
            while let Some(message) = cx.control.recv() {
                match message {
                    Ipc::ShutdownMicroprocess(_) => {
                        cx.signal.send(message).await;
                        return;
                    }
                    Ipc::ProducerFinished(_) | Ipc::Shutdown(_) => {
                        finish.get_or_insert(message);
                    }
                    _ => {}
                }
            }
            if !started {
                started = cx.inbox.len() >= self.buffer || finish.is_some();
                next = Instant::now();
            }
            if !started || (cx.inbox.is_empty() && finish.is_none()) {
                cx.idle().await;
                continue;
            }
            if cx.inbox.is_empty() {
                if let Some(message) = finish {
                    cx.signal.send(message).await;
                }
                return;
            }
            if Instant::now() < next {
                if armed != Some(next) {
                    cx.wake_at(next);
                    armed = Some(next);
                }
                cx.idle().await;
                continue;
            }
            if let Some(message) = cx.inbox.recv() {
                cx.outbox.send(message).await;
                next = Instant::now() + self.interval;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::{ProducerFinished, ShutdownMicroprocess};

    use super::*;
    use crate::util::rig::Rig;

    #[test]
    fn waits_for_its_buffer_then_passes_one_message_per_interval() {
        // 50 a second: 20 ms apart.
        let rig = Rig::<u32, u32>::new(MessageRateLimit::new(50.0, 3));
        rig.put(0);
        rig.put(1);
        for _ in 0..10 {
            rig.scheduler.run_cycle();
        }
        assert_eq!(rig.waiting(), 0, "two queued, three needed");
        rig.put(2);
        rig.put(3);
        rig.control(ProducerFinished::new().into());
        let start = Instant::now();
        rig.run();
        // Four messages: the first at once, three intervals after it.
        assert!(
            start.elapsed() >= Duration::from_millis(60),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(rig.take(), [0, 1, 2, 3]);
        assert!(matches!(rig.signals()[..], [Ipc::ProducerFinished(_)]));
    }

    #[test]
    fn producer_finished_before_the_buffer_fills_still_passes_everything() {
        let rig = Rig::<u32, u32>::new(MessageRateLimit::new(1000.0, 60));
        rig.put(7);
        rig.control(ProducerFinished::new().into());
        rig.run();
        assert_eq!(rig.take(), [7]);
    }

    #[test]
    fn shutdown_microprocess_ends_it_at_once() {
        // One a day: only the first message could go.
        let rig = Rig::<u32, u32>::new(MessageRateLimit::new(1.0 / 86_400.0, 1));
        rig.put(1);
        rig.put(2);
        rig.cycle_until(|rig| rig.waiting() == 1);
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert_eq!(rig.take(), [1]);
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
    }

    #[test]
    #[should_panic(expected = "positive and finite")]
    fn a_rate_of_zero_is_refused() {
        let _ = MessageRateLimit::<u32>::new(0.0, 1);
    }
}
