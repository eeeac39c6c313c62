//! Protocol handlers: components that talk to one client of a server, such as
//! [`ServerCore`](crate::chassis::ServerCore) makes for each connection
//! (Kamaelia's `Kamaelia.Protocol` package).
//!
//! * [`EchoProtocol`]: sends back what it receives.
//!
//! A protocol handler is a plain component with `inbox`/`outbox` carrying
//! [`Bytes`](bytes::Bytes) and `control`/`signal` carrying
//! [`Ipc`](axon::ipc::Ipc); it knows nothing of sockets, so this layer stands
//! on `axon` alone.

mod echo;

pub use echo::EchoProtocol;
