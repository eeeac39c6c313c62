//! `cargo run --example chat_graph > chat.dot && dot -Tpng chat.dot > chat.png`
//! — draws the introspection chat server as it runs, with `--clients N`
//! clients connected.
//!
//! Kamaelia's introspection tutorial (`Introspection/IntrospectionTutorial/
//! IntrospectingChatServer.py`) runs `ChatServer.py` with an Introspector
//! feeding a topology visualiser. This runs the same chat server (the
//! protocol of `introspection_chat_server`, from `support/chat.rs`), and, in
//! the same program, N [`TcpClient`]s that each say hello. Once every client
//! has heard its own hello back (so every connection's Pipeline is up and
//! subscribed), it takes a [`snapshot`] of the scheduler and prints it as a
//! Graphviz graph: the `CHAT_ONE` Backplane and its PlugSplitter, the
//! ServerCore with its TcpServer, and per connection an adapter and a
//! Pipeline of LineSplitter, PureTransformer, PublishTo and SubscribeTo (fed
//! through its `outbox` by one of the splitter's Feeders); and the clients.
//! Then it shuts everything down.

mod support;

use std::collections::HashSet;
use std::io::Write;

use axon::{Component, ComponentRef, Cx, Postoffice, Standard};
use bytes::Bytes;
use kamaelia::ipc::server_shutdown;
use kamaelia::util::introspector::snapshot;
use kamaelia::{Pipeline, PureTransformer, ServerCore, TcpClient};

use support::chat;

/// What client `n` says.
fn hello(n: usize) -> String {
    format!("hello from client {n}\n")
}

/// Collects what each client hears; once every client has heard its own
/// hello (so every connection is in the chat), prints the snapshot and tells
/// the server to shut down (out of `signal`).
struct Photographer {
    /// How many clients there are.
    clients: usize,
}

impl Component for Photographer {
    type Boxes = Standard<(usize, Bytes), ()>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let clients = self.clients;
        let mut partial: Vec<Vec<u8>> = vec![Vec::new(); clients];
        let mut joined: HashSet<usize> = HashSet::new();
        while joined.len() < clients {
            for (n, chunk) in cx.inbox.drain() {
                partial[n].extend_from_slice(&chunk);
                let mut lines = partial[n].split_inclusive(|&b| b == b'\n');
                let heard_own = lines.any(|line| line.ends_with(hello(n).as_bytes()));
                if heard_own {
                    joined.insert(n);
                }
                // Only whole lines matter; keep the unfinished tail.
                let whole = partial[n]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |at| at + 1);
                partial[n].drain(..whole);
            }
            if joined.len() < clients {
                cx.idle().await;
            }
        }
        let dot = snapshot(&cx.scheduler()).to_dot();
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(dot.as_bytes()).and_then(|()| out.flush()) {
            eprintln!("chat_graph: cannot write the graph: {e}");
        }
        cx.signal.send(server_shutdown()).await;
    }
}

fn main() -> std::io::Result<()> {
    let [clients_wanted] = support::counts(
        "chat_graph",
        "Runs the chat server with N clients and prints its graph (Graphviz DOT).",
        [support::Count {
            name: "clients",
            help: "how many clients connect",
            value: 3,
        }],
    );
    let backplane = chat::backplane()?;
    let server = ServerCore::new(chat::protocol)
        .host("127.0.0.1")
        .port(0)
        .bind()?;
    let address = server
        .local_addr()
        .ok_or_else(|| std::io::Error::other("the server has no address"))?;
    let server = server.activate()?;
    let wiring = Postoffice::new();
    let wire =
        |result: Result<_, axon::LinkError>| result.map(|_| ()).map_err(std::io::Error::other);
    wire(wiring.link((&server, "signal"), (&backplane, "control")))?;
    let mut clients = Vec::new();
    for n in 0..clients_wanted {
        let client = ComponentRef::new(Pipeline![
            TcpClient::new(address.ip().to_string(), address.port()),
            PureTransformer::new(move |heard: Bytes| Some((n, heard))),
        ]);
        // Sent once connected.
        client
            .inbox::<Bytes>("inbox")
            .map_err(std::io::Error::other)?
            .deliver(Bytes::from(hello(n)))
            .map_err(|_| std::io::Error::other("a client's inbox is full"))?;
        clients.push(client);
    }
    let photographer = ComponentRef::new(Photographer {
        clients: clients_wanted,
    });
    wire(wiring.link((&photographer, "signal"), (&server, "control")))?;
    for client in &clients {
        wire(wiring.link((client, "outbox"), (&photographer, "inbox")))?;
        client.clone().activate();
    }
    photographer.activate();
    axon::Scheduler::current().run()
}
