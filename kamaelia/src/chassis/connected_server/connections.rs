//! [`Connections`]: the connections a [`ServerCore`](super::ServerCore) has
//! wired, and how the server's shutdown moves them.
//!
//! # Phases
//!
//! | phase | means | moves to |
//! |---|---|---|
//! | `Serving` | accepting; each connection lives until its adapter closes | `Draining` on [`begin_shutdown`](Connections::begin_shutdown) |
//! | `Draining { deadline }` | every handler has been told to finish (`ProducerFinished`), as has each new one, and each adapter whose handler is done (or that runs an inline protocol) to close once flushed ([`CloseWhenFlushed`](crate::ipc::CloseWhenFlushed)), without lingering for its client; waiting for the connections to flush and close | `Forced` on [`force`](Connections::force) at the deadline |
//! | `Forced` | every adapter has been told to close at once (`ShutdownMicroprocess`), as has each new one, and each handler left running is stopped, with every component it made | nothing: the server ends once none is left |
//!
//! # Events, one method each
//!
//! | event | method | cost |
//! |---|---|---|
//! | a new adapter, wired to its handler | [`on_new_csa`](Connections::on_new_csa) | that connection |
//! | an adapter has closed | [`on_closed`](Connections::on_closed) | that connection |
//! | a handler has ended | [`on_handler_done`](Connections::on_handler_done) | that connection |
//! | `ShutdownMicroprocess` on the server's `control` | [`begin_shutdown`](Connections::begin_shutdown) | every connection, once per server |
//! | the shutdown grace has run out | [`force`](Connections::force) | every connection, once per server |
//!
//! Only the two shutdown moves visit every connection, and each happens once
//! in a server's life; every other event costs only the connection it is
//! about (two hash lookups), however many are open.

use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{ComponentId, ComponentRef, Cx, Inbox};
use rustc_hash::FxHashMap;

use super::ServerCoreBoxes;
use crate::internet::messages::close_when_flushed;
use crate::ipc::SocketShutdown;

/// One connection, as the server wired it.
pub(super) struct Connection {
    pub(super) csa: ComponentRef,
    /// The adapter's `control`.
    pub(super) to_csa: Inbox<Ipc>,
    /// The handler component; none for a protocol run inside the adapter.
    /// Boxed: every connection's entry in the server's table is 16 bytes
    /// smaller, and an inline connection, which has none, pays nothing.
    pub(super) handler: Option<Box<Handler>>,
}

/// A connection's handler component, and its `control`.
pub(super) struct Handler {
    pub(super) component: ComponentRef,
    pub(super) control: Inbox<Ipc>,
}

/// Where the server is in its life; see the module's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Serving,
    Draining { deadline: Instant },
    Forced,
}

/// The open connections, by adapter and by handler, and the server's phase.
pub(super) struct Connections {
    /// Adapter -> the connection. Keyed by the adapter's component number
    /// rather than its [`ComponentId`] (which also holds its kind's name):
    /// 16 bytes less in each connection's entry.
    by_csa: FxHashMap<u64, Connection>,
    /// Handler id -> adapter id, so that a finished handler finds its
    /// connection without a scan over every open connection.
    by_handler: FxHashMap<u64, u64>,
    phase: Phase,
}

impl Connections {
    pub(super) fn new() -> Self {
        Connections {
            by_csa: FxHashMap::default(),
            by_handler: FxHashMap::default(),
            phase: Phase::Serving,
        }
    }

    /// How many connections are open.
    pub(super) fn len(&self) -> usize {
        self.by_csa.len()
    }

    /// True while no shutdown has begun.
    pub(super) fn is_serving(&self) -> bool {
        self.phase == Phase::Serving
    }

    /// True once shutting down and every connection has closed.
    pub(super) fn is_done(&self) -> bool {
        !self.is_serving() && self.by_csa.is_empty()
    }

    /// A new connection has been wired and started. One that arrives during a
    /// shutdown is told what the others were: its handler to finish, and, past
    /// the grace, its adapter to close.
    pub(super) fn on_new_csa(&mut self, cx: &Cx<ServerCoreBoxes>, connection: Connection) {
        if self.phase != Phase::Serving {
            self.tell_to_finish(cx, &connection);
        }
        if self.phase == Phase::Forced {
            tell(&connection.to_csa, ShutdownMicroprocess::new().into());
        }
        if let Some(handler) = &connection.handler {
            self.by_handler.insert(
                handler.component.id().number(),
                connection.csa.id().number(),
            );
        }
        self.by_csa.insert(connection.csa.id().number(), connection);
    }

    /// Tells a connection to finish: its handler, which then ends and so
    /// makes its adapter close; or, with an inline protocol, the adapter,
    /// which sends what is queued and closes. One whose handler has already
    /// finished is lingering for its client: with nothing more to send, it
    /// closes now.
    fn tell_to_finish(&self, cx: &Cx<ServerCoreBoxes>, connection: &Connection) {
        match &connection.handler {
            Some(handler) => {
                tell(&handler.control, ProducerFinished::from(cx.id()).into());
                if handler.component.is_finished() {
                    tell(&connection.to_csa, self.finish(cx));
                }
            }
            None => tell(&connection.to_csa, self.finish(cx)),
        }
    }

    /// An adapter has closed its socket: unwire its connection. The handler
    /// hears `SocketShutdown` (and, past the grace, is stopped if still
    /// running). An adapter not (or no longer) known is ignored.
    pub(super) fn on_closed(&mut self, cx: &Cx<ServerCoreBoxes>, shutdown: SocketShutdown) {
        let Some(connection) = self.by_csa.remove(&shutdown.csa.number()) else {
            return;
        };
        // An adapter that has closed has mostly ended too: a message it
        // cannot read would only be queued (an allocation) and dropped.
        if !connection.csa.is_finished() {
            tell(&connection.to_csa, ShutdownMicroprocess::new().into());
        }
        // An adapter running an inline protocol was never made this
        // server's child.
        let Some(handler) = connection.handler else {
            return;
        };
        cx.remove_child(&connection.csa);
        self.by_handler.remove(&handler.component.id().number());
        tell(&handler.control, shutdown.to_ipc(cx.id()));
        cx.remove_child(&handler.component);
        if self.phase == Phase::Forced && !handler.component.is_finished() {
            stop_with_descendants(&handler.component);
        }
    }

    /// A child has ended. If it is a handler (without closing its connection
    /// itself), it is done with the connection: its adapter sends what was
    /// queued, then closes. Any other child is ignored.
    pub(super) fn on_handler_done(&self, cx: &Cx<ServerCoreBoxes>, child: ComponentId) {
        let connection = self
            .by_handler
            .get(&child.number())
            .and_then(|csa| self.by_csa.get(csa));
        if let Some(connection) = connection {
            tell(&connection.to_csa, self.finish(cx));
        }
    }

    /// What tells an adapter whose handler is done to finish: while serving,
    /// a plain `ProducerFinished` (it lingers for the client to close, so
    /// the last bytes are never cut off by a reset); while shutting down, one
    /// that closes as soon as the output is written, since waiting for an
    /// idle client would hold the whole server for its grace period.
    fn finish(&self, cx: &Cx<ServerCoreBoxes>) -> Ipc {
        if self.is_serving() {
            ProducerFinished::from(cx.id()).into()
        } else {
            close_when_flushed(cx.id())
        }
    }

    /// Starts an orderly shutdown (once; later calls do nothing): every
    /// handler is told to finish, and the server is woken when the `grace`
    /// runs out, to [`force`](Self::force) what is left.
    pub(super) fn begin_shutdown(&mut self, cx: &Cx<ServerCoreBoxes>, grace: Duration) {
        if self.phase != Phase::Serving {
            return;
        }
        let deadline = Instant::now() + grace;
        self.phase = Phase::Draining { deadline };
        for connection in self.by_csa.values() {
            self.tell_to_finish(cx, connection);
        }
        cx.wake_at(deadline);
    }

    /// Once the grace has run out (at `now`), tells every adapter still open
    /// to close at once (each once: this acts only on the first call past the
    /// deadline).
    pub(super) fn force(&mut self, now: Instant) {
        let Phase::Draining { deadline } = self.phase else {
            return;
        };
        if now < deadline {
            return;
        }
        self.phase = Phase::Forced;
        for connection in self.by_csa.values() {
            tell(&connection.to_csa, ShutdownMicroprocess::new().into());
        }
    }
}

/// A server stopped from outside (its body dropped before its end, by
/// [`ComponentRef::stop`] or a supervisor) still closes what it had open,
/// as Kamaelia's `ServerCore.stop()` does: each adapter is told to close
/// now, and each handler to stop. At the body's own end none is left.
impl Drop for Connections {
    fn drop(&mut self) {
        for connection in self.by_csa.values() {
            if !connection.csa.is_finished() {
                tell(&connection.to_csa, ShutdownMicroprocess::new().into());
            }
            if let Some(handler) = &connection.handler {
                if !handler.component.is_finished() {
                    tell(&handler.control, ShutdownMicroprocess::new().into());
                }
            }
        }
    }
}

/// Puts `message` into one of a connection's `control` inboxes. They take no
/// size limit from the server, so only an inbox someone limited refuses it;
/// that is logged, and the connection is then closed by its other end.
fn tell(control: &Inbox<Ipc>, message: Ipc) {
    if let Err(refused) = control.deliver(message) {
        tracing::warn!(target: "kamaelia::server_core", inbox = %control.name(), "a connection's control inbox is full: {refused}");
    }
}

/// Stops `component` and everything it made (its children, theirs, …): a
/// handler made of components, stopped past the grace, must not leave them
/// running, waiting for a `control` message that will never come, or the
/// scheduler would never end.
fn stop_with_descendants(component: &ComponentRef) {
    let mut left = vec![component.clone()];
    while let Some(next) = left.pop() {
        left.extend(next.child_components());
        next.stop();
    }
}
