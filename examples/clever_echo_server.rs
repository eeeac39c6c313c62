//! `cargo run --example clever_echo_server` — then `nc 127.0.0.1 12345`.
//!
//! Kamaelia's ServerCore example: a protocol handler that is told about its
//! connection, greets the client with it, then echoes.

mod support;

use axon::ipc::Ipc;
use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::ipc::ConnectionInfo;
use kamaelia::ServerCore;

/// Greets the client with where it connected from and to, then echoes.
struct CleverEchoProtocol {
    info: ConnectionInfo,
}

impl Component for CleverEchoProtocol {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Standard<Bytes, Bytes>>) {
        let ConnectionInfo {
            peer,
            peer_port,
            local_ip,
            local_port,
        } = self.info;
        let welcome = format!(
            "Welcome! You have connected to {local_ip} on port {local_port} from {peer} on port {peer_port}"
        );
        cx.outbox.send(Bytes::from(welcome)).await;
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
        "clever_echo_server",
        "Greets each client with its connection's addresses, then echoes.",
        "0.0.0.0",
        12345,
    );
    let server = ServerCore::new(|info: &ConnectionInfo| CleverEchoProtocol { info: *info })
        .host(args.host)
        .port(args.port)
        .shutdown_on_signals()
        .bind()?;
    support::listening("clever_echo_server", server.local_addr());
    server.run()
}
