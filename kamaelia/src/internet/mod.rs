//! Sockets as components: Kamaelia's `Kamaelia.Internet` package.
//!
//! | component | does |
//! |---|---|
//! | [`Selector`] | watches sockets for components that ask (and is the scheduler's idle wait) |
//! | [`TcpServer`] | accepts connections, making a [`ConnectedSocketAdapter`] for each |
//! | [`ConnectedSocketAdapter`] | one connection: bytes out of `outbox`, bytes in on `inbox` |
//! | [`TcpClient`] | connects to a server; bytes both ways, like an adapter |
//! | [`SingleServer`] | listens and serves one client at a time, as its own `inbox` and `outbox` |
//!
//! They talk in the messages of [`crate::ipc`]: a component asks the Selector
//! to watch a socket with a [`SelectorRequest`](crate::ipc::SelectorRequest)
//! and is answered with [`Ready`](crate::ipc::Ready) notices; a TcpServer
//! announces each connection to whoever wires it up (a
//! [`ServerCore`](crate::chassis::ServerCore), say) with a
//! [`SocketActivity`](crate::ipc::SocketActivity).
//!
//! This layer stands on [`sys`](crate) alone (the crate's fence around the
//! operating system): no component here calls `polling` or `socket2`.
//!
//! | file | holds |
//! |---|---|
//! | `selector/` | the [`Selector`] component, its core (what is watched), its park (the scheduler's wait), its messages and the re-arm queue behind its notices |
//! | `csa/` | the [`ConnectedSocketAdapter`] component, its socket I/O, and its lifecycle |
//! | `inline_protocol.rs` | [`InlineProtocol`]: a protocol handler run inside its adapter, and the [`Reply`] it answers through |
//! | `lent_protocol.rs` | an inline protocol lent by its sleeping adapter to the Selector or the ring, which answer with it |
//! | `tcp_server.rs`, `tcp_client.rs` | [`TcpServer`], [`TcpClient`] |
//! | `single_server.rs` | [`SingleServer`] |
//! | `listening.rs` | where and how a server listens, and starting its [`TcpServer`] (shared by [`SingleServer`] and `ServerCore`) |
//! | `options.rs` | [`ListenOptions`], [`ConnectionOptions`] and the defaults |
//! | `messages.rs` | the connection messages: [`SocketActivity`](crate::ipc::SocketActivity), [`SocketShutdown`](crate::ipc::SocketShutdown), … |

mod csa;
mod inline_protocol;
mod lent_protocol;
mod limit;
mod listening;
pub(crate) mod messages;
mod options;
pub(crate) mod selector;
mod single_server;
mod tcp_client;
mod tcp_server;

pub use csa::{ConnectedSocketAdapter, CsaBoxes};
pub(crate) use inline_protocol::{inline_factory, InlineFactory};
pub use inline_protocol::{InlineProtocol, Reply};
pub use limit::{ConnectionLimit, DEFAULT_REFUSAL};
pub use options::{
    ConnectionOptions, ListenOptions, DEFAULT_BACKLOG, DEFAULT_CSA_INBOX_SIZE, DEFAULT_HOST,
    DEFAULT_LINGER, DEFAULT_READ_SIZE,
};
pub use selector::{Selector, SelectorBoxes, SELECTOR_SERVICE, SELECTOR_SHUTDOWN_SERVICE};
pub use single_server::{SingleServer, SingleServerBoxes, DEFAULT_SINGLE_SERVER_PORT};
pub use tcp_client::{TcpClient, TcpClientBoxes, DEFAULT_CONNECT_TIMEOUT};
pub use tcp_server::{bind_shared, TcpServer, TcpServerBoxes};

pub(crate) use listening::Listening;
