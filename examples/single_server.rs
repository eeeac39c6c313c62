//! `cargo run --example single_server` — serves twelve `Hello World` lines,
//! two a second, to the one client it accepts, and in the same program runs
//! that client, which prints them; then both end.
//!
//! Port of Kamaelia's `Kamaelia/Examples/TCP_Systems/SingleServerExample.py`:
//!
//! ```text
//! Pipeline![Cat(12 × "Hello World"), MessageRateLimit(2, 1), SingleServer(port)]
//! Pipeline![TcpClient("127.0.0.1", port), ConsoleEchoer]
//! ```
//!
//! A [`SingleServer`] is a server for one client at a time whose own `inbox`
//! goes to the client, so it can sit at the end of a Pipeline like any other
//! component: here the lines are paced by a [`MessageRateLimit`] (`--rate`
//! lines a second) on their way. Lines that come before the client has
//! connected wait for it.
//!
//! Where the original's `Cat` then waits for ever, this one says it has
//! finished, which runs down the Pipeline: the SingleServer sends the client
//! the rest and closes the connection, the client's Pipeline ends, and so
//! does the program. Each line ends with a newline here.

mod support;

use axon::ipc::ProducerFinished;
use axon::{Component, ComponentRef, Cx, Standard};
use bytes::Bytes;
use kamaelia::{ConsoleEchoer, MessageRateLimit, Pipeline, SingleServer, TcpClient};

/// Sends each of its messages, then says it has finished (the example's own
/// component in the original, too).
struct Cat {
    messages: Vec<Bytes>,
}

impl Component for Cat {
    type Boxes = Standard<(), Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        for message in self.messages {
            cx.outbox.send(message).await;
        }
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

fn main() -> std::io::Result<()> {
    let (args, [count, rate]) = support::args_and_counts(
        "single_server",
        "Serves Hello World lines at a steady rate to one client, which prints them.",
        1602,
        [
            support::Count {
                name: "count",
                help: "how many lines to send",
                value: 12,
            },
            support::Count {
                name: "rate",
                help: "lines a second",
                value: 2,
            },
        ],
    );
    if rate == 0 {
        eprintln!("single_server: --rate must be at least 1");
        std::process::exit(2);
    }
    let server = SingleServer::new().host(args.host).port(args.port).bind()?;
    let address = server
        .local_addr()
        .ok_or_else(|| std::io::Error::other("the server has no address"))?;
    support::listening("single_server", Some(address));

    let hello = Bytes::from_static(b"Hello World\n");
    ComponentRef::new(Pipeline![
        Cat {
            messages: vec![hello; count],
        },
        MessageRateLimit::new(rate as f64, 1),
        server,
    ])
    .activate();
    ComponentRef::new(Pipeline![
        TcpClient::new(address.ip().to_string(), address.port()),
        ConsoleEchoer::new(),
    ])
    .activate();
    axon::Scheduler::current().run()
}
