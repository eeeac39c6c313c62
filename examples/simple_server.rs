//! `cargo run --example simple_server` — then, in two or more terminals,
//! `nc 127.0.0.1 8000` (or `telnet 127.0.0.1 8000`) and type: each line you
//! send reaches every *other* connected client.
//!
//! The chat server of the circuits guide "How to build a Simple Server", built
//! from Kamaelia's ServerCore and two components:
//!
//! * a [`ChatHub`], the one place lines meet: it keeps an outbox linked to each
//!   client's handler and copies every line to all but its sender;
//! * a [`ChatProtocol`] per connection: it cuts the client's bytes into lines
//!   and passes them to the hub, and writes the hub's lines to the client.
//!
//! Unlike the guide's server, lines keep their newline (so they do not run
//! together), a line is shared by every client it goes to rather than copied
//! (a `Bytes`), a line over 4096 bytes gets an error and its client is closed,
//! and a client that falls [`CLIENT_QUEUE`] lines behind is closed, so no
//! client can make the server's memory grow. A client that keeps reading misses
//! no line: the hub takes [`HUB_QUEUE`] lines at a time, so a client pasting a
//! thousand lines is slowed to the pace the others read at, rather than
//! outrunning them. Ctrl-C shuts down in order.

mod support;

use std::collections::HashMap;

use axon::ipc::{Ipc, ShutdownMicroprocess};
use axon::{Component, ComponentId, ComponentRef, Cx, Outbox, Scheduler};
use bytes::Bytes;
use kamaelia::ipc::{PeerClosed, SocketShutdown};
use kamaelia::ServerCore;

/// The longest line a client may send, newline included.
const MAX_LINE: usize = 4096;

/// How many lines may wait for a client that is slow to read. One that falls
/// this far behind is closed.
const CLIENT_QUEUE: usize = 1024;

/// How many lines the hub holds before the clients sending them must wait.
const HUB_QUEUE: usize = 64;

/// A line from one client, on its way to the others.
#[derive(Clone, Debug)]
struct ChatLine {
    from: ComponentId,
    text: Bytes,
}

/// A handler joining or leaving the hub.
#[derive(Clone, Debug)]
enum Membership {
    Join(ComponentRef),
    Leave(ComponentId),
}

axon::boxes! {
    /// The boxes of the [`ChatHub`].
    struct HubBoxes {
        /// Lines from the clients' handlers.
        inbox inbox: ChatLine,
        /// Handlers joining and leaving.
        inbox membership: Membership,
        /// Any message stops the hub.
        inbox control: Ipc,
    }
}

/// Copies each line to every client but the one that sent it.
struct ChatHub;

impl Component for ChatHub {
    type Boxes = HubBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut members: HashMap<ComponentId, Outbox<ChatLine>> = HashMap::new();
        cx.inbox.set_size(Some(HUB_QUEUE));
        while cx.control.recv().is_none() {
            for change in cx.membership.drain() {
                match change {
                    Membership::Join(handler) => {
                        let outbox = cx.add_outbox::<ChatLine>("client", "lines for one client");
                        match cx.link(&outbox, (&handler, "chat")) {
                            Ok(_) => {
                                members.insert(handler.id(), outbox);
                            }
                            Err(e) => tracing::error!("cannot add a client: {e}"),
                        }
                    }
                    Membership::Leave(id) => {
                        // Deleting the outbox removes its link too.
                        if let Some(outbox) = members.remove(&id) {
                            let _ = cx.delete_outbox(&outbox.name());
                        }
                    }
                }
            }
            for line in cx.inbox.drain() {
                for (id, outbox) in &members {
                    // A client whose queue is full has stopped reading: it
                    // misses the line, and its handler, finding its queue
                    // full, closes it.
                    if *id != line.from && outbox.try_send(line.clone()).is_err() {
                        tracing::debug!(client = %id, "dropped a line for a slow client");
                    }
                }
            }
            cx.idle().await;
        }
    }
}

axon::boxes! {
    /// The boxes of a [`ChatProtocol`].
    struct ProtocolBoxes {
        /// Bytes from the client.
        inbox inbox: Bytes,
        /// From the connection: `ProducerFinished` when the client is done.
        inbox control: Ipc,
        /// Lines from the other clients, via the hub.
        inbox chat: ChatLine,
        /// Bytes to the client.
        outbox outbox: Bytes,
        /// `ShutdownMicroprocess` closes the connection at once.
        outbox signal: Ipc,
        /// Lines to the hub.
        outbox to_hub: ChatLine,
        /// Joining and leaving the hub.
        outbox hub_membership: Membership,
    }
}

/// One client of the chat: cuts its bytes into lines for the hub, and writes
/// the other clients' lines to it.
struct ChatProtocol {
    hub: ComponentRef,
}

impl Component for ChatProtocol {
    type Boxes = ProtocolBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let joined = cx
            .link(&cx.to_hub, (&self.hub, "inbox"))
            .and_then(|_| cx.link(&cx.hub_membership, (&self.hub, "membership")));
        if let Err(e) = joined {
            tracing::error!("cannot reach the chat hub: {e}");
            return;
        }
        cx.chat.set_size(Some(CLIENT_QUEUE));
        cx.hub_membership
            .send(Membership::Join(cx.component()))
            .await;
        let mut partial: Vec<u8> = Vec::new();
        // A line the connection had no room for yet.
        let mut unsent: Option<Bytes> = None;
        loop {
            // Looked at first: whatever the client sent before it finished is
            // in `inbox` by now, and still reaches the hub below.
            let finished = cx.control.recv();
            for data in cx.inbox.drain() {
                for piece in data.split_inclusive(|&b| b == b'\n') {
                    partial.extend_from_slice(piece);
                    if partial.len() > MAX_LINE {
                        let error = format!("error: line longer than {MAX_LINE} bytes; goodbye\n");
                        cx.outbox.send(Bytes::from(error)).await;
                        leave(&cx).await;
                        // Returning lets ServerCore flush the error, then close.
                        return;
                    }
                    if partial.ends_with(b"\n") {
                        let text = Bytes::from(std::mem::take(&mut partial));
                        let line = ChatLine {
                            from: cx.id(),
                            text,
                        };
                        cx.to_hub.send(line).await;
                    }
                }
            }
            // Full, the hub may have dropped a line for this client: close it
            // rather than let it read on with a gap.
            if cx.chat.len() >= CLIENT_QUEUE {
                tracing::info!(client = %cx.id(), "{CLIENT_QUEUE} lines behind; closing it");
                cx.signal.send(ShutdownMicroprocess::new().into()).await;
                leave(&cx).await;
                return;
            }
            while let Some(text) = unsent.take().or_else(|| cx.chat.recv().map(|l| l.text)) {
                if let Err(full) = cx.outbox.try_send(text) {
                    unsent = Some(full.into_inner());
                    break;
                }
            }
            if let Some(message) = finished {
                let peer_closed = message.finished_with::<PeerClosed>().is_some();
                if peer_closed && !partial.is_empty() {
                    partial.push(b'\n');
                    let line = ChatLine {
                        from: cx.id(),
                        text: Bytes::from(partial),
                    };
                    cx.to_hub.send(line).await;
                }
                leave(&cx).await;
                // Unless the connection has gone, the lines queued for this
                // client still go out (the server's shutdown waits for them,
                // up to its grace).
                if message.finished_with::<SocketShutdown>().is_none() {
                    while let Some(text) = unsent.take().or_else(|| cx.chat.recv().map(|l| l.text))
                    {
                        cx.outbox.send(text).await;
                    }
                }
                return;
            }
            cx.idle().await;
        }
    }
}

/// Tells the hub this client is gone.
async fn leave(cx: &Cx<ProtocolBoxes>) {
    cx.hub_membership.send(Membership::Leave(cx.id())).await;
}

fn main() -> std::io::Result<()> {
    let args = support::args(
        "simple_server",
        "A telnet chat server: each line a client sends reaches every other client.",
        "127.0.0.1",
        8000,
    );
    let hub = ChatHub.activate();
    let for_handlers = hub.clone();
    let server = ServerCore::new(move |_: &_| ChatProtocol {
        hub: for_handlers.clone(),
    })
    .host(args.host)
    .port(args.port)
    .shutdown_on_signals()
    .bind()?;
    support::listening("simple_server", server.local_addr());
    let server = server.activate()?;
    // When the server has shut down, its signal ends the hub too.
    hub.link((&server, "signal"), (&hub, "control"))
        .map_err(std::io::Error::other)?;
    Scheduler::current().run()
}
