//! `cargo run --example echo_server` — then `nc 127.0.0.1 12345` and type.
//!
//! Kamaelia's SimpleServer with the EchoProtocol of its documentation: every
//! byte a client sends comes back. Ctrl-C shuts the server down in order.

mod support;

use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::SimpleServer;

/// Sends back everything it receives, until the client is done.
struct EchoProtocol;

impl Component for EchoProtocol {
    type Boxes = Standard<Bytes, Bytes>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(data) = cx.recv_until_finished().await {
            cx.outbox.send(data).await;
        }
    }
}

fn main() -> std::io::Result<()> {
    let (args, [max_connections]) = support::args_and_counts(
        "echo_server",
        "Echoes back what each client sends.",
        12345,
        [support::max_connections_option()],
    );
    let server = SimpleServer::new(|| EchoProtocol)
        .host(args.host)
        .port(args.port)
        .shutdown_on_signals();
    let server = support::limit_connections(server, max_connections).bind()?;
    support::listening("echo_server", server.local_addr());
    server.run()
}
