//! [`EchoProtocol`]: sends back what it receives.

use std::future::Future;

use axon::{Component, Cx, Standard};
use bytes::Bytes;

use crate::internet::{InlineProtocol, Reply};

/// Sends everything it receives on `inbox` back out of `outbox`: Kamaelia's
/// `Kamaelia.Protocol.EchoProtocol`, written as the echo server of its
/// documentation is. It ends once a message has arrived on `control` (the
/// connection's `ProducerFinished`, say) and everything that arrived on
/// `inbox` before it has been echoed, however far behind it was: see
/// [`Cx::recv_until_finished`](axon::Cx::recv_until_finished).
///
/// Unlike Kamaelia's, it does not pass the `control` message on out of
/// `signal`: ending is enough, since a [`ServerCore`](crate::ServerCore)
/// closes the connection of a handler that has finished, once what it sent
/// has gone.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): data to echo.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it, once `inbox`
///   is empty.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): the echo.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): not used.
///
/// It is also an [`InlineProtocol`], for a server that runs it inside each
/// connection's adapter ([`SimpleServer::inline`](crate::SimpleServer::inline)):
/// the same echo, one component per connection instead of two.
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
    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            while let Some(data) = cx.recv_until_finished().await {
                cx.outbox.send(data).await;
            }
        }
    }
}

impl InlineProtocol for EchoProtocol {
    fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
        reply.send(data);
    }
}
