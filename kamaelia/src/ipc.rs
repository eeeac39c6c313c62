//! The messages Kamaelia's networking components exchange: Kamaelia's `IPC`
//! module, gathered in one place.
//!
//! They are defined beside the components that speak them, in
//! [`internet`](crate::internet): the Selector's ([`SelectorRequest`],
//! [`Ready`], [`Selectable`]) and the connections' ([`SocketActivity`],
//! [`SocketShutdown`], [`PeerClosed`], [`CloseWhenFlushed`], [`ConnectionInfo`],
//! [`server_shutdown`]).
//!
//! A protocol handler sees only two of them, both as the payload of an
//! [`axon::ipc::ProducerFinished`] on its `control` inbox:
//!
//! * [`PeerClosed`]: the client has closed its side. Nothing more will arrive,
//!   but what the handler still sends is delivered; the handler should finish
//!   and send `ProducerFinished` out of its `signal` outbox, which closes the
//!   connection.
//! * [`SocketShutdown`]: the connection has closed. Nothing sent now reaches the
//!   client; the handler should end.

pub use crate::internet::messages::{
    server_shutdown, CloseWhenFlushed, ConnectionInfo, PeerClosed, SocketActivity, SocketShutdown,
};
pub use crate::internet::selector::{Ready, Selectable, SelectorRequest};
