//! Components that hold and wire other components: Kamaelia's
//! `Kamaelia.Chassis` package.
//!
//! * [`ServerCore`], [`SimpleServer`] (`connected_server/`): a TCP server
//!   that runs a protocol handler component per connection (Kamaelia's
//!   `ConnectedServer` module).
//!
//! This layer stands on [`internet`](crate::internet) (and on
//! [`signals`](crate::signals) for an orderly stop on Ctrl-C).

mod connected_server;

pub use connected_server::{
    ServerCore, ServerCoreBoxes, SimpleServer, DEFAULT_HANDLER_INBOX_SIZE, DEFAULT_PORT,
    DEFAULT_SHUTDOWN_GRACE,
};
