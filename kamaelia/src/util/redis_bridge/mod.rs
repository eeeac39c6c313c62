//! [`RedisBridge`]: a [`Backplane`](crate::util::Backplane) joined to the
//! backplanes on the same Redis channel in other processes, on other
//! machines (the `redis` feature). With
//! [`Backplane::bridged`](crate::util::Backplane::bridged), what is published
//! on any of them reaches the subscribers of all.
//!
//! # How it works
//!
//! The bridge is the [`BackplaneSpan`](crate::util::BackplaneSpan)'s idea
//! across processes, on a broker: Redis's pub/sub, through the `redis`
//! crate's blocking client, in two threaded components.
//!
//! * Publishers publish to a component that passes each message to the
//!   local splitter, then to the publisher thread, which PUBLISHes it on the
//!   channel (pipelined: one round trip for what has queued up).
//! * The subscriber thread, SUBSCRIBEd to the channel on a connection of its
//!   own, publishes what other bridges sent on the local splitter only.
//!   Each frame carries its bridge's random origin id, so a bridge drops its
//!   own frames when the broker hands them back: nothing is delivered twice.
//!
//! # Frames
//!
//! A message on the channel is a frame: a 27-byte header, then the message's
//! bytes as its [`Marshall`] impl writes them (any bytes: UTF-8 or not).
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 2 | magic, `b"KB"` |
//! | 2 | 1 | version, `1` |
//! | 3 | 16 | origin: the sending bridge's id, 128 random bits |
//! | 19 | 8 | sequence number, big-endian, from 0 for each origin |
//! | 27 | … | payload |
//!
//! A payload that is not a frame of this version, or does not demarshall, is
//! delivered to no one, and counted ([`BridgeStats::refused`]).
//!
//! # Faults
//!
//! Both connections come back by themselves after the broker goes: each
//! tries again after 100 ms, then twice as long each time up to 5 s
//! ([`RedisBridge::backoff`]), logging (with `tracing`) each loss at `warn`
//! and each return at `info`. Meanwhile local delivery goes on; messages
//! published here are dropped for the other processes (not queued: the
//! queue toward the broker is bounded, [`RedisBridge::queue`]), counted in
//! [`BridgeStats::dropped`], and the return's log line says how many were
//! dropped during the outage. Messages the other processes publish while
//! this one's subscription is down are missed: Redis pub/sub delivers at
//! most once, to whoever is subscribed at the time.
//!
//! Ordering is per publisher: the messages of one bridge reach every other
//! bridge in the order it sent them; those of two bridges may interleave
//! differently in different processes.

mod backoff;
mod broker;
mod frame;
mod marshall;
mod out;
mod publisher;
mod stats;
mod subscriber;

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon::{ComponentRef, Threaded};
use redis::Connection;

pub use marshall::Marshall;
pub use stats::BridgeStats;

use backoff::Backoff;
use broker::Broker;
use frame::Origin;
use out::RedisOut;
use publisher::RedisPublisher;
use subscriber::RedisSubscriber;

/// How many messages may wait for the publisher thread by default (see
/// [`RedisBridge::queue`]).
pub const DEFAULT_BRIDGE_QUEUE: usize = 1024;

/// How many messages wait in the publisher's inbox, before its thread's
/// queue.
const PUBLISHER_INBOX: usize = 64;

/// The first wait before trying a lost broker again, by default.
pub const DEFAULT_BACKOFF_FIRST: Duration = Duration::from_millis(100);

/// The longest wait between attempts to reach a lost broker, by default.
pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(5);

/// A connection to a Redis broker's channel, to bridge a
/// [`Backplane`](crate::util::Backplane) with
/// [`bridged`](crate::util::Backplane::bridged): see the
/// [module](self) for how, and for the frames it sends.
///
/// The URL is `redis://[user[:password]@]host[:port]/channel`: the path
/// names the pub/sub channel (every process bridging a backplane to the same
/// channel of the same broker shares it). Give each backplane a bridge of
/// its own: the origin id, which keeps a bridge from delivering its own
/// messages again, is the bridge's.
///
/// # Examples
///
/// Two chat servers on one broker: run this in each.
///
/// ```no_run
/// use kamaelia::util::{Backplane, RedisBridge};
///
/// let bridge = RedisBridge::<String>::connect("redis://127.0.0.1:6379/chat")?;
/// let stats = bridge.stats();
/// Backplane::<String>::new("chat").bridged(bridge)?.activate()?;
/// // … a server publishing to and subscribing to "chat" …
/// # axon::Scheduler::current().run()?;
/// println!("dropped while the broker was down: {}", stats.dropped());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisBridge<T> {
    broker: Broker,
    origin: Origin,
    publisher: Option<Connection>,
    subscriber: Option<Connection>,
    queue: usize,
    backoff: Backoff,
    stats: BridgeStats,
    made: Instant,
    message: PhantomData<fn(T) -> T>,
}

impl<T: Marshall + Clone + Send + 'static> RedisBridge<T> {
    /// Connects to the broker at `url` (both connections, subscribed to the
    /// channel once this returns).
    ///
    /// # Errors
    ///
    /// [`BridgeError::Url`] for a URL that is not
    /// `redis://HOST[:PORT]/CHANNEL`; [`BridgeError::Unreachable`], naming
    /// the URL and the cause, if the broker does not answer within 2 s.
    pub fn connect(url: &str) -> Result<Self, BridgeError> {
        let broker = Broker::parse(url)?;
        let publisher = broker.publisher().map_err(|e| broker.unreachable(&e))?;
        let subscriber = broker.subscriber().map_err(|e| broker.unreachable(&e))?;
        let bridge = RedisBridge::with(broker, Some(publisher), Some(subscriber));
        tracing::info!(broker = %bridge.broker, origin = %bridge.origin, "bridged to the broker");
        Ok(bridge)
    }

    /// As [`connect`](Self::connect), but a broker that does not answer is
    /// not an error: the bridge starts local-only (logged as a warning) and
    /// keeps trying, as after losing the broker.
    ///
    /// # Errors
    ///
    /// [`BridgeError::Url`] for a URL that is not
    /// `redis://HOST[:PORT]/CHANNEL`.
    pub fn connect_optional(url: &str) -> Result<Self, BridgeError> {
        let broker = Broker::parse(url)?;
        let connected = broker
            .publisher()
            .and_then(|publisher| Ok((publisher, broker.subscriber()?)));
        match connected {
            Ok((publisher, subscriber)) => {
                let bridge = RedisBridge::with(broker, Some(publisher), Some(subscriber));
                tracing::info!(broker = %bridge.broker, origin = %bridge.origin, "bridged to the broker");
                Ok(bridge)
            }
            Err(e) => {
                tracing::warn!(
                    broker = %broker,
                    "{}: local-only until it answers",
                    broker.unreachable(&e)
                );
                Ok(RedisBridge::with(broker, None, None))
            }
        }
    }

    fn with(broker: Broker, publisher: Option<Connection>, subscriber: Option<Connection>) -> Self {
        let stats = BridgeStats::default();
        // Said now, not when the publisher's thread starts: what is published
        // before then goes to its queue, not to the drop count.
        stats.set_publishing(publisher.is_some());
        stats.set_subscribed(subscriber.is_some());
        RedisBridge {
            broker,
            origin: Origin::random(),
            publisher,
            subscriber,
            queue: DEFAULT_BRIDGE_QUEUE,
            backoff: Backoff::new(DEFAULT_BACKOFF_FIRST, DEFAULT_BACKOFF_CAP),
            stats,
            made: Instant::now(),
            message: PhantomData,
        }
    }

    /// Sets how many messages may wait for the publisher thread (at least
    /// 1; default [`DEFAULT_BRIDGE_QUEUE`]). While the broker is up, a full
    /// queue holds the backplane's publishers back; while it is down, the
    /// queue is emptied and new messages are dropped, so it bounds the
    /// bridge's memory however long the outage.
    pub fn queue(mut self, messages: usize) -> Self {
        self.queue = messages.max(1);
        self
    }

    /// Sets the back-off for reaching a lost broker again: the first wait,
    /// doubled at each failure up to `cap` (defaults
    /// [`DEFAULT_BACKOFF_FIRST`] and [`DEFAULT_BACKOFF_CAP`]).
    pub fn backoff(mut self, first: Duration, cap: Duration) -> Self {
        self.backoff = Backoff::new(first, cap);
        self
    }

    /// The bridge's counters, which go on counting once it is running.
    pub fn stats(&self) -> BridgeStats {
        self.stats.clone()
    }

    /// The channel's name.
    pub fn channel(&self) -> &str {
        self.broker.channel()
    }

    /// The bridge's two ends, for its backplane: where the publishers
    /// publish (with an inbox of `inbox_size`), and where what other
    /// bridges published comes out.
    pub(crate) fn into_ends(self, inbox_size: usize) -> (ComponentRef, ComponentRef) {
        let publisher = RedisPublisher::<T> {
            broker: self.broker.clone(),
            origin: self.origin,
            connection: self.publisher,
            stats: self.stats.clone(),
            backoff: self.backoff.clone(),
            made: self.made,
            message: PhantomData,
        };
        let publisher = ComponentRef::new(Threaded::new(publisher).queue_length(self.queue));
        // Bounded on both sides of the thread's queue: a slow broker holds
        // the publishers back rather than growing this inbox.
        if let Ok(inbox) = publisher.inbox::<T>("inbox") {
            inbox.set_size(Some(PUBLISHER_INBOX));
        }
        let out = ComponentRef::new(RedisOut::<T>::new(publisher, self.stats.clone()));
        if let Ok(inbox) = out.inbox::<T>("inbox") {
            inbox.set_size(Some(inbox_size));
        }
        let subscriber = RedisSubscriber::<T> {
            broker: self.broker,
            origin: self.origin,
            connection: self.subscriber,
            stats: self.stats,
            backoff: self.backoff,
            message: PhantomData,
        };
        (out, ComponentRef::new(Threaded::new(subscriber)))
    }
}

impl<T> fmt::Debug for RedisBridge<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBridge")
            .field("broker", &self.broker)
            .field("origin", &self.origin)
            .field("connected", &self.publisher.is_some())
            .field("queue", &self.queue)
            .finish()
    }
}

/// Why a [`RedisBridge`] could not be made, or a backplane not bridged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeError {
    /// The URL is not `redis://[user[:password]@]host[:port]/channel`.
    Url {
        /// The URL (without its password).
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The broker did not answer.
    Unreachable {
        /// The broker's URL (without its password).
        url: String,
        /// The connection's error.
        cause: String,
    },
    /// The backplane spans schedulers already: bridge each scheduler's
    /// backplane instead (each with a bridge of its own), not both.
    Spanning,
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Url { url, why } => write!(f, "bad broker URL {url}: {why}"),
            BridgeError::Unreachable { url, cause } => {
                write!(f, "cannot reach the Redis broker at {url}: {cause}")
            }
            BridgeError::Spanning => f.write_str(
                "a backplane that spans schedulers cannot be bridged as well: bridge each \
                 scheduler's backplane instead",
            ),
        }
    }
}

impl std::error::Error for BridgeError {}
