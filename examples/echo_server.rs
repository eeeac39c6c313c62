//! `cargo run --example echo_server` — then `nc 127.0.0.1 12345` and type.
//!
//! Kamaelia's SimpleServer with the EchoProtocol of its documentation: every
//! byte a client sends comes back. Ctrl-C shuts the server down in order.

mod support;

use axon::ipc::Ipc;
use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::SimpleServer;

/// Sends back everything it receives, until told the client is done.
struct EchoProtocol;

impl Component for EchoProtocol {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Standard<Bytes, Bytes>>) {
        loop {
            // Whatever the client sent before it finished is already in
            // `inbox`, so look at `control` first and still echo the rest.
            let finished = shutdown(&cx);
            for data in cx.inbox.drain() {
                cx.outbox.send(data).await;
            }
            if finished {
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}

/// True once a `ProducerFinished` has arrived on `control`.
fn shutdown(cx: &Cx<Standard<Bytes, Bytes>>) -> bool {
    cx.control
        .drain()
        .any(|msg: Ipc| msg.is_producer_finished())
}

fn main() -> std::io::Result<()> {
    let args = support::args(
        "echo_server",
        "Echoes back what each client sends.",
        "0.0.0.0",
        12345,
    );
    let server = SimpleServer::new(|| EchoProtocol)
        .host(args.host)
        .port(args.port)
        .shutdown_on_signals()
        .bind()?;
    support::listening("echo_server", server.local_addr());
    server.run()
}
