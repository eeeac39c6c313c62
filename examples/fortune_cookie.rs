//! `cargo run --example fortune_cookie` — starts a fortune cookie server and,
//! in the same program, a client that connects to it and prints the fortune
//! it is sent; then both end. `--seed N` picks another fortune.
//!
//! Port of Kamaelia's `Kamaelia/Examples/TCP_Systems/FortuneCookie_ServerClient.py`:
//! a server and a client sharing one scheduler (and one Selector). The server
//! is a [`SimpleServer`] whose protocol, `FortuneCookieProtocol`, sends a
//! fortune and then says it has finished, which closes the connection; the
//! client is Kamaelia's
//!
//! ```text
//! Pipeline![TcpClient("127.0.0.1", port), ConsoleEchoer]
//! ```
//!
//! Where the original runs the `fortune` program, this one has a fixed list
//! of fortunes, given out in turn starting at `--seed`. Where the original
//! runs for ever on a random port, this one listens on any free port
//! (`--port` to choose), and when the client has finished (the server closed
//! the connection and the fortune is printed) the client Pipeline's `signal`
//! tells the server to shut down, so the program ends.

mod support;

use std::cell::Cell;

use axon::ipc::ProducerFinished;
use axon::{Component, ComponentRef, Cx, Standard};
use bytes::Bytes;
use kamaelia::{ConsoleEchoer, Pipeline, SimpleServer, TcpClient};

/// The fortunes, standing in for `fortune -a`.
const FORTUNES: [&str; 4] = [
    "\"I love Saturday morning cartoons, what classic humour! This is what\n\
     entertainment is all about ... Idiots, explosives and falling anvils.\"\n\
     \t\t-- Calvin and Hobbes, Bill Watterson\n",
    "Simple things should be simple, complex things should be possible.\n\
     \t\t-- Alan Kay\n",
    "A program is a set of small components that talk to each other.\n\
     \t\t-- Kamaelia, in short\n",
    "Concurrency is easy. Well, easier.\n\
     \t\t-- Kamaelia's motto\n",
];

/// Sends one fortune to the client, then finishes, which closes the
/// connection: Kamaelia's `FortuneCookieProtocol`.
struct FortuneCookieProtocol {
    fortune: &'static str,
}

impl Component for FortuneCookieProtocol {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.outbox
            .send(Bytes::from_static(self.fortune.as_bytes()))
            .await;
        // Linked to the connection's `control`: send what is queued, then close.
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

fn main() -> std::io::Result<()> {
    let (args, [seed]) = support::args_and_counts(
        "fortune_cookie",
        "A fortune cookie server, and a client that prints the fortune it is sent.",
        0,
        [support::Count {
            name: "seed",
            help: "which fortune the first client gets",
            value: 0,
        }],
    );
    // Each connection gets the next fortune.
    let next = Cell::new(seed);
    let server = SimpleServer::new(move || {
        let n = next.get();
        next.set(n.wrapping_add(1));
        FortuneCookieProtocol {
            fortune: FORTUNES[n % FORTUNES.len()],
        }
    })
    .host(args.host)
    .port(args.port)
    .bind()?;
    let address = server
        .local_addr()
        .ok_or_else(|| std::io::Error::other("the server has no address"))?;
    support::listening("fortune_cookie", Some(address));
    let server = server.activate()?;

    let client = ComponentRef::new(Pipeline![
        TcpClient::new(address.ip().to_string(), address.port()),
        ConsoleEchoer::new(),
    ]);
    // The client's end (its `ProducerFinished`) shuts the server down.
    client
        .link((&client, "signal"), (&server, "control"))
        .map_err(std::io::Error::other)?;
    client.activate();
    axon::Scheduler::current().run()
}
