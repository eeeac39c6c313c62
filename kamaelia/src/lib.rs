//! Kamaelia components built on [`axon`]: TCP servers and clients where each
//! connection is a component, and the Selector that tells them when their
//! sockets are ready.
//!
//! # Serving
//!
//! A [`ServerCore`] listens on a port and, for each connection, makes a
//! protocol handler component with the factory you give it and wires the
//! connection's bytes to the handler's `inbox` and from its `outbox`.
//! [`SimpleServer`] is the same for handlers that need nothing about the
//! connection. This is the echo server of Kamaelia's documentation:
//!
//! ```no_run
//! use axon::{Component, Cx, Standard};
//! use bytes::Bytes;
//! use kamaelia::SimpleServer;
//!
//! /// Echoes back everything it receives, until the connection closes.
//! struct EchoProtocol;
//!
//! impl Component for EchoProtocol {
//!     type Boxes = Standard<Bytes, Bytes>;
//!
//!     async fn main(self, cx: Cx<Standard<Bytes, Bytes>>) {
//!         while !cx.control.data_ready() {
//!             for data in cx.inbox.drain() {
//!                 cx.outbox.send(data).await;
//!             }
//!             cx.pause();
//!             cx.yield_now().await;
//!         }
//!     }
//! }
//!
//! SimpleServer::new(|| EchoProtocol).port(12345).run()?;
//! # std::io::Result::Ok(())
//! ```
//!
//! # How it fits together
//!
//! | component | does |
//! |---|---|
//! | [`Selector`] | watches sockets for components that ask (and is the scheduler's idle wait) |
//! | [`TcpServer`] | accepts connections, making a [`ConnectedSocketAdapter`] for each |
//! | [`ConnectedSocketAdapter`] | one connection: bytes out of `outbox`, bytes in on `inbox` |
//! | [`ServerCore`] | a TcpServer plus a protocol handler per connection, shut down in order on `control` |
//! | [`TcpClient`] | connects to a server; bytes both ways, like an adapter |
//! | [`ConsoleReader`], [`ConsoleEchoer`] | standard input and output as components |
//! | [`EchoProtocol`] | a protocol handler that echoes |
//!
//! The messages between them are in [`ipc`]. Everything is bounded: each
//! adapter's and handler's inbox has a size limit, so a client that sends
//! faster than its handler works, or reads slower than its handler writes, is
//! held back by TCP rather than growing the server's memory.
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
#![cfg(unix)]

mod connected_socket_adapter;
mod console;
mod echo_protocol;
pub mod ipc;
mod selector;
mod server_core;
pub mod signals;
mod sys;
mod tcp_client;
mod tcp_server;

pub use connected_socket_adapter::{ConnectedSocketAdapter, CsaBoxes, DEFAULT_READ_SIZE};
pub use console::{ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes};
pub use echo_protocol::EchoProtocol;
pub use selector::{Selector, SelectorBoxes, SELECTOR_SERVICE, SELECTOR_SHUTDOWN_SERVICE};
pub use server_core::{
    ServerCore, ServerCoreBoxes, SimpleServer, DEFAULT_HANDLER_INBOX_SIZE, DEFAULT_PORT,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use tcp_client::{TcpClient, TcpClientBoxes, DEFAULT_CONNECT_TIMEOUT};
pub use tcp_server::{
    ConnectionOptions, ListenOptions, TcpServer, TcpServerBoxes, DEFAULT_BACKLOG,
    DEFAULT_CSA_INBOX_SIZE, DEFAULT_LINGER,
};
