//! [`RedisOut`]: where a bridged backplane's publishers publish.

use std::fmt;
use std::marker::PhantomData;

use axon::ipc::{Ipc, ShutdownMicroprocess};
use axon::{Component, ComponentRef, Cx, Standard};

use super::BridgeStats;

/// Passes each message to the local splitter, then toward the broker (its
/// child, a [`RedisPublisher`](super::publisher::RedisPublisher)); the
/// subscriber's side publishes on the local splitter only, so nothing goes
/// round twice. The bridge's `SpanOut`.
///
/// While the publisher is connected, a full queue toward the broker holds
/// the publishers back (nothing is lost to a burst); while it is not, the
/// message is dropped and counted at once, so an outage never holds up local
/// delivery.
///
/// # Inboxes
///
/// * `inbox` (`T`): messages published on this backplane.
/// * `control` ([`Ipc`]): any message ends it, once what was published
///   before has gone to the publisher, and the publisher has ended.
///
/// # Outboxes
///
/// * `outbox` (`T`): to the local splitter.
/// * `signal` ([`Ipc`]): not used.
pub(crate) struct RedisOut<T> {
    publisher: ComponentRef,
    stats: BridgeStats,
    message: PhantomData<fn(T) -> T>,
}

impl<T> RedisOut<T> {
    pub(crate) fn new(publisher: ComponentRef, stats: BridgeStats) -> Self {
        RedisOut {
            publisher,
            stats,
            message: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RedisOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOut")
            .field("stats", &self.stats)
            .finish()
    }
}

impl<T: Clone + Send + 'static> Component for RedisOut<T> {
    type Boxes = Standard<T, T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let RedisOut {
            publisher, stats, ..
        } = self;
        let broker = cx.add_outbox::<T>("broker", "to the publisher");
        if let Err(e) = cx.link(&broker, (&publisher, "inbox")) {
            tracing::error!("cannot wire the bridge's publisher: {e}");
            return;
        }
        cx.add_children([&publisher]);
        publisher.activate_on(&cx.scheduler());
        // As SpanOut: once told to end, it still passes on what was
        // published before the end, and only that.
        let mut ending: Option<usize> = None;
        loop {
            if ending.is_none() && cx.control.recv().is_some() {
                ending = Some(cx.inbox.len());
            }
            while ending != Some(0) {
                let Some(message) = cx.inbox.recv() else {
                    break;
                };
                match &mut ending {
                    Some(left) => *left -= 1,
                    None => cx.outbox.send(message.clone()).await,
                }
                if stats.is_publishing() {
                    broker.send(message).await;
                } else {
                    stats.add_dropped(1);
                }
            }
            if ending.is_some() {
                break;
            }
            cx.idle().await;
        }
        if let Ok(control) = publisher.inbox::<Ipc>("control") {
            let _ = control.deliver(ShutdownMicroprocess::new().into());
        }
        while !publisher.is_finished() {
            cx.finished_children();
            cx.idle().await;
        }
    }
}
