//! `cargo run --example introspection_chat_server` — then, in two or more
//! terminals, `nc 127.0.0.1 1500` and type: every line goes to every client,
//! the sender included, as `127.0.0.1:PORT says LINE`.
//!
//! Port of Kamaelia's
//! `Kamaelia/Examples/Introspection/IntrospectionTutorial/ChatServer.py`, the
//! chat server of the introspection tutorial. A [`Backplane`](kamaelia::Backplane)
//! called `CHAT_ONE` is the meeting point; a [`ServerCore`] gives each
//! connection a Pipeline of its own (see `support/chat.rs`):
//!
//! ```text
//! Pipeline![LineSplitter, PureTransformer("PEER:PORT says " + line), PublishTo("CHAT_ONE"), SubscribeTo("CHAT_ONE")]
//! ```
//!
//! The PureTransformer is made with the connection's [`ConnectionInfo`]
//! (`kamaelia::ipc::ConnectionInfo`), so each line is tagged with the client
//! that said it. Nothing in one connection's Pipeline knows about any other:
//! they meet only on the backplane, found by name. Compare
//! `simple_server`, which keeps a client's own lines from it.
//!
//! Unlike the original (which decodes to text), lines stay bytes, and a line
//! over 4096 bytes ends that client's splitter. `cargo run --example
//! chat_graph` draws the running system. Ctrl-C shuts down in order.

mod support;

use kamaelia::ServerCore;

use support::chat;

fn main() -> std::io::Result<()> {
    let args = support::args(
        "introspection_chat_server",
        "A chat server: every line a client sends goes to every client, tagged with who said it.",
        1500,
    );
    let backplane = chat::backplane()?;
    let server = ServerCore::new(chat::protocol)
        .host(args.host)
        .port(args.port)
        .shutdown_on_signals()
        .bind()?;
    support::listening("introspection_chat_server", server.local_addr());
    let server = server.activate()?;
    // When the server has shut down, the backplane ends too.
    backplane
        .link((&server, "signal"), (&backplane, "control"))
        .map_err(std::io::Error::other)?;
    axon::Scheduler::current().run()
}
