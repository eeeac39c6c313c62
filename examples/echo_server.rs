//! `cargo run --example echo_server` — then `nc 127.0.0.1 12345` and type.
//!
//! Kamaelia's SimpleServer with the EchoProtocol of its documentation: every
//! byte a client sends comes back. Ctrl-C shuts the server down in order.
//!
//! With `--inline`, the same echo runs inside each connection's adapter (an
//! [`InlineProtocol`]): one component per connection instead of two.
//!
//! With `--spin-us N`, the scheduler goes on looking for work for N µs
//! before it sleeps ([`axon::Scheduler::set_spin_before_park`]): a lightly
//! loaded server then answers sooner (one client: about a fifth sooner with
//! 50) for more CPU.

mod support;

use std::time::Duration;

use axon::{Component, Cx, Scheduler, Standard};
use bytes::Bytes;
use kamaelia::internet::{InlineProtocol, Reply};
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

/// The same echo, run inside each connection's adapter (`--inline`).
impl InlineProtocol for EchoProtocol {
    fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
        reply.send(data);
    }
}

fn main() -> std::io::Result<()> {
    let options = support::server_options(
        "echo_server",
        "Echoes back what each client sends.",
        12345,
        [
            support::max_connections_option(),
            support::Count {
                name: "spin-us",
                help: "microseconds to look for work before sleeping (0: sleep at once)",
                value: 0,
            },
        ],
        [],
        [support::Flag {
            name: "inline",
            help: "run the echo inside each connection's adapter",
            value: false,
        }],
    );
    let ([max_connections, spin_us], [inline]) = (options.counts, options.flags);
    Scheduler::current().set_spin_before_park(Duration::from_micros(spin_us as u64));
    let server = if inline {
        SimpleServer::inline(|| EchoProtocol)
    } else {
        SimpleServer::new(|| EchoProtocol)
    };
    let server = server
        .host(options.args.host)
        .port(options.args.port)
        .shutdown_on_signals();
    let server = support::limit_connections(server, max_connections).bind()?;
    support::listening("echo_server", server.local_addr());
    server.run()
}
