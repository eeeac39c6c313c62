//! [`BridgeStats`]: what a bridge has done, readable from any thread.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

/// A bridge's counters, shared by its components and whoever holds this
/// handle (from [`RedisBridge::stats`](super::RedisBridge::stats)).
///
/// # Examples
///
/// ```
/// use kamaelia::util::BridgeStats;
///
/// // A bridge's own handle counts what it does; a new one counts nothing.
/// let stats = BridgeStats::default();
/// assert_eq!((stats.published(), stats.received(), stats.dropped()), (0, 0, 0));
/// assert!(!stats.is_publishing());
/// ```
#[derive(Clone, Default)]
pub struct BridgeStats(Arc<Counters>);

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
    publishing: AtomicBool,
    subscribed: AtomicBool,
    /// How often the subscriber has lost the broker: the publisher, which
    /// may be idle, checks its own connection when this moves.
    losses: AtomicU64,
    publisher: OnceLock<Thread>,
}

impl BridgeStats {
    /// How many messages the broker has taken from this bridge.
    pub fn published(&self) -> u64 {
        self.0.published.load(Ordering::Relaxed)
    }

    /// How many messages from other bridges this one has delivered to its
    /// backplane.
    pub fn received(&self) -> u64 {
        self.0.received.load(Ordering::Relaxed)
    }

    /// How many messages published here were not passed to the broker,
    /// because it was unreachable (they still reached this backplane's own
    /// subscribers).
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// How many payloads on the channel were not a bridge's frame, or did
    /// not demarshall: delivered to no one.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }

    /// Whether the publishing connection is up.
    pub fn is_publishing(&self) -> bool {
        self.0.publishing.load(Ordering::Acquire)
    }

    /// Whether the subscribing connection is up.
    pub fn is_subscribed(&self) -> bool {
        self.0.subscribed.load(Ordering::Acquire)
    }

    pub(crate) fn add_published(&self, n: u64) {
        self.0.published.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_received(&self) {
        self.0.received.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_dropped(&self, n: u64) {
        self.0.dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_refused(&self) {
        self.0.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_publishing(&self, up: bool) {
        self.0.publishing.store(up, Ordering::Release);
    }

    pub(crate) fn set_subscribed(&self, up: bool) {
        self.0.subscribed.store(up, Ordering::Release);
    }

    /// The publisher's thread, to wake when the subscriber loses the broker.
    pub(crate) fn set_publisher_thread(&self, thread: Thread) {
        let _ = self.0.publisher.set(thread);
    }

    /// The subscriber lost the broker: the publisher should look at its own
    /// connection now rather than at its next message.
    pub(crate) fn subscriber_lost(&self) {
        self.0.losses.fetch_add(1, Ordering::AcqRel);
        if let Some(publisher) = self.0.publisher.get() {
            publisher.unpark();
        }
    }

    pub(crate) fn losses(&self) -> u64 {
        self.0.losses.load(Ordering::Acquire)
    }
}

impl fmt::Debug for BridgeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BridgeStats")
            .field("published", &self.published())
            .field("received", &self.received())
            .field("dropped", &self.dropped())
            .field("refused", &self.refused())
            .field("publishing", &self.is_publishing())
            .field("subscribed", &self.is_subscribed())
            .finish()
    }
}
