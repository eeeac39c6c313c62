//! `cargo run --example simple_server` — then, in two or more terminals,
//! `nc 127.0.0.1 8000` (or `telnet 127.0.0.1 8000`) and type: each line you
//! send reaches every *other* connected client.
//!
//! The chat server of the circuits guide "How to build a Simple Server", built
//! as Kamaelia builds it: a [`Backplane`] called `"chat"`, and a ServerCore
//! whose per-connection protocol cuts the client's bytes into lines and
//! publishes them with [`PublishTo`], and sends the client what
//! [`SubscribeTo`] brings from the backplane, but for its own lines.
//!
//! Unlike the guide's server, lines keep their newline (so they do not run
//! together), a line is shared by every client it goes to rather than copied
//! (a `Bytes`), and a line over 4096 bytes gets an error and its client is
//! closed. The backplane's flow control does the rest: a client that keeps
//! reading misses no line (the clients sending are slowed to the pace of the
//! slowest reader that is making progress), and a client that stops reading
//! holds the others back for at most [`GRACE`], then is closed when
//! [`MAX_BACKLOG`] bytes wait for it or after [`STALL`], whichever comes
//! first. Ctrl-C shuts down in order.

mod support;

use std::time::Duration;

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Component, ComponentId, ComponentRef, Cx, Standard};
use bytes::Bytes;
use kamaelia::ipc::{PeerClosed, SocketShutdown};
use kamaelia::util::{Backplane, PlugSplitter, PublishTo, SubscribeTo, Weigh};
use kamaelia::ServerCore;

/// The longest line a client may send, newline included.
const MAX_LINE: usize = 4096;

/// How long a client may read nothing while lines wait for it before it is
/// closed.
const STALL: Duration = Duration::from_secs(3);

/// How long the senders wait for a client that reads nothing before they go
/// on without it.
const GRACE: Duration = Duration::from_millis(250);

/// How many bytes of lines the backplane holds for a client that reads
/// before the senders must wait for it.
const PACING: usize = 2 << 20;

/// How many bytes of lines may wait for a client that stopped reading before
/// it is closed.
const MAX_BACKLOG: usize = 8 << 20;

/// How many lines wait for a client in its subscription and protocol, each.
const CLIENT_QUEUE: usize = 256;

/// A line from one client, on its way to the others.
#[derive(Clone, Debug)]
struct ChatLine {
    from: ComponentId,
    text: Bytes,
}

impl Weigh for ChatLine {
    fn weight(&self) -> usize {
        self.text.len()
    }
}

/// One client of the chat: cuts its bytes into lines for the backplane, and
/// writes the other clients' lines to it.
///
/// stand-in until Pipeline/LineSplitter land: this body does the line
/// splitting and the wiring that `Pipeline!(LineSplitter, PublishTo("chat"))`
/// and `Pipeline!(SubscribeTo("chat"), NotMine)` will.
struct ChatProtocol;

axon::boxes! {
    /// Children's ends, as seen from the protocol (stand-in wiring).
    struct Wiring {
        /// Lines from the backplane.
        inbox chat: ChatLine,
        /// How the subscription ended.
        inbox subscription: Ipc,
        /// Lines to the backplane.
        outbox lines: ChatLine,
        /// Ends the publisher.
        outbox stop_publishing: Ipc,
        /// Ends the subscription.
        outbox stop_subscription: Ipc,
    }
}

impl Component for ChatProtocol {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        // stand-in until Pipeline/LineSplitter land: the wiring by hand.
        let publish = ComponentRef::new(PublishTo::<ChatLine>::new("chat"));
        let subscribe = ComponentRef::new(SubscribeTo::<ChatLine>::new("chat").queue(CLIENT_QUEUE));
        let chat = cx.add_inbox::<ChatLine>("chat", "lines from the backplane");
        let subscription = cx.add_inbox::<Ipc>("subscription", "how the subscription ended");
        let lines = cx.add_outbox::<ChatLine>("lines", "lines to the backplane");
        let stop_publishing = cx.add_outbox::<Ipc>("stop_publishing", "ends the publisher");
        let stop_subscription = cx.add_outbox::<Ipc>("stop_subscription", "ends the subscription");
        chat.set_size(Some(CLIENT_QUEUE));
        let wired = cx
            .link(&lines, (&publish, "inbox"))
            .and_then(|_| cx.link(&stop_publishing, (&publish, "control")))
            .and_then(|_| cx.link((&subscribe, "outbox"), &chat))
            .and_then(|_| cx.link((&subscribe, "signal"), &subscription))
            .and_then(|_| cx.link(&stop_subscription, (&subscribe, "control")));
        if let Err(e) = wired {
            tracing::error!("cannot join the chat: {e}");
            return;
        }
        cx.add_children([&publish, &subscribe]);
        publish.activate_on(&cx.scheduler());
        subscribe.activate_on(&cx.scheduler());
        let me = cx.id();
        let mut partial: Vec<u8> = Vec::new();
        // A line the connection had no room for yet.
        let mut unsent: Option<Bytes> = None;
        // Set once the server asked us to finish: the subscription is
        // delivering its tail.
        let mut finishing = false;
        let mut subscribed = true;
        loop {
            // Looked at first: whatever the client sent before it finished is
            // in `inbox` by now, and still reaches the backplane below.
            let finished = if finishing { None } else { cx.control.recv() };
            for data in cx.inbox.drain() {
                for piece in data.split_inclusive(|&b| b == b'\n') {
                    partial.extend_from_slice(piece);
                    if partial.len() > MAX_LINE {
                        let error = format!("error: line longer than {MAX_LINE} bytes; goodbye\n");
                        cx.outbox.send(Bytes::from(error)).await;
                        stop(&stop_publishing, &stop_subscription).await;
                        // Returning lets ServerCore flush the error, then close.
                        return;
                    }
                    if partial.ends_with(b"\n") {
                        let text = Bytes::from(std::mem::take(&mut partial));
                        lines.send(ChatLine { from: me, text }).await;
                    }
                }
            }
            while let Some(text) = unsent.take().or_else(|| {
                std::iter::from_fn(|| chat.recv())
                    .find(|line| line.from != me)
                    .map(|line| line.text)
            }) {
                if let Err(full) = cx.outbox.try_send(text) {
                    unsent = Some(full.into_inner());
                    break;
                }
            }
            if let Some(ended) = subscription.recv() {
                if !finishing || ended.is_shutdown_microprocess() {
                    // Disconnected for not reading (or the chat has ended):
                    // close the client now.
                    tracing::info!(client = %me, "subscription ended; closing the client");
                    cx.signal.send(ShutdownMicroprocess::new().into()).await;
                    stop_publishing.send(ProducerFinished::new().into()).await;
                    return;
                }
                subscribed = false;
            }
            if !subscribed && unsent.is_none() && chat.is_empty() {
                return;
            }
            if let Some(message) = finished {
                let peer_closed = message.finished_with::<PeerClosed>().is_some();
                if peer_closed && !partial.is_empty() {
                    partial.push(b'\n');
                    let text = Bytes::from(std::mem::take(&mut partial));
                    lines.send(ChatLine { from: me, text }).await;
                }
                let gone = peer_closed || message.finished_with::<SocketShutdown>().is_some();
                if gone {
                    stop(&stop_publishing, &stop_subscription).await;
                    return;
                }
                // The server is shutting down: the lines already on the
                // backplane for this client still go out (the server waits
                // for them, up to its grace).
                stop_publishing.send(ProducerFinished::new().into()).await;
                stop_subscription.send(ProducerFinished::new().into()).await;
                finishing = true;
            }
            cx.idle().await;
        }
    }
}

/// Ends the publisher and the subscription at once.
async fn stop(publishing: &axon::Outbox<Ipc>, subscription: &axon::Outbox<Ipc>) {
    publishing.send(ProducerFinished::new().into()).await;
    subscription.send(ShutdownMicroprocess::new().into()).await;
}

fn main() -> std::io::Result<()> {
    let args = support::args(
        "simple_server",
        "A telnet chat server: each line a client sends reaches every other client.",
        "127.0.0.1",
        8000,
    );
    let splitter = PlugSplitter::new()
        .pacing_bytes(PACING)
        .max_backlog_messages(PACING / 16)
        .max_backlog_bytes(MAX_BACKLOG)
        .stall_grace(GRACE)
        .stall_timeout(STALL);
    let backplane = Backplane::<ChatLine>::with_splitter("chat", splitter)
        .activate()
        .map_err(std::io::Error::other)?;
    let server = ServerCore::new(|_: &_| ChatProtocol)
        .host(args.host)
        .port(args.port)
        .shutdown_on_signals()
        .bind()?;
    support::listening("simple_server", server.local_addr());
    let server = server.activate()?;
    // When the server has shut down, its signal ends the backplane too.
    backplane
        .link((&server, "signal"), (&backplane, "control"))
        .map_err(std::io::Error::other)?;
    axon::Scheduler::current().run()
}
