//! [`EchoProtocol`]: sends back what it receives.

use axon::{Component, Cx, Standard};
use bytes::Bytes;

/// Sends everything it receives on `inbox` back out of `outbox`: Kamaelia's
/// `Kamaelia.Protocol.EchoProtocol`. Any message on `control` ends it, after
/// echoing what had arrived and passing the message on out of `signal`.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): data to echo.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): the echo.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): the message that ended it.
///
/// # Examples
///
/// ```no_run
/// use kamaelia::{EchoProtocol, SimpleServer};
///
/// SimpleServer::new(|| EchoProtocol).port(1500).run()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct EchoProtocol;

impl Component for EchoProtocol {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Standard<Bytes, Bytes>>) {
        loop {
            for data in cx.inbox.drain() {
                cx.outbox.send(data).await;
            }
            if let Some(message) = cx.control.recv() {
                for data in cx.inbox.drain() {
                    cx.outbox.send(data).await;
                }
                cx.signal.send(message).await;
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}
