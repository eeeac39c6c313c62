//! `cargo run --example clever_echo_server` — then `nc 127.0.0.1 12345`.
//!
//! Kamaelia's ServerCore example: a protocol handler that is told about its
//! connection, greets the client with it, then echoes (as
//! [`kamaelia::EchoProtocol`], to which it hands its boxes after the greeting).

mod support;

use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::ipc::ConnectionInfo;
use kamaelia::{EchoProtocol, ServerCore};

/// Greets the client with where it connected from and to, then echoes.
struct CleverEchoProtocol {
    info: ConnectionInfo,
}

impl Component for CleverEchoProtocol {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let ConnectionInfo {
            peer,
            peer_port,
            local_ip,
            local_port,
            ..
        } = self.info;
        let welcome = format!(
            "Welcome! You have connected to {local_ip} on port {local_port} from {peer} on port {peer_port}"
        );
        cx.outbox.send(Bytes::from(welcome)).await;
        // The rest is plain echoing: hand the same boxes to the one that does it.
        EchoProtocol.main(cx).await;
    }
}

fn main() -> std::io::Result<()> {
    let args = support::args(
        "clever_echo_server",
        "Greets each client with its connection's addresses, then echoes.",
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
