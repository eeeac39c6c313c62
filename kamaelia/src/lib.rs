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
//! /// Sends back everything it receives, until the client is done.
//! struct EchoProtocol;
//!
//! impl Component for EchoProtocol {
//!     type Boxes = Standard<Bytes, Bytes>;
//!     async fn main(self, cx: Cx<Self::Boxes>) {
//!         while let Some(data) = cx.recv_until_finished().await {
//!             cx.outbox.send(data).await;
//!         }
//!     }
//! }
//!
//! SimpleServer::new(|| EchoProtocol).port(12345).run()?;
//! # std::io::Result::Ok(())
//! ```
//!
//! [`recv_until_finished`](axon::Cx::recv_until_finished) gives the handler
//! each chunk the client sent, sleeping while there is none, and `None` once
//! the client is done (a message on `control`) and every chunk sent before
//! that has been taken, however far behind the handler was. (This is
//! [`EchoProtocol`] itself.)
//!
//! A handler that only answers what its client sends can instead be an
//! [`InlineProtocol`](internet::InlineProtocol), a plain value run inside the
//! connection's adapter ([`SimpleServer::inline`], [`ServerCore::inline`]):
//! one component per connection instead of two, and no allocation per
//! round trip. [`EchoProtocol`] is both.
//!
//! # Where things are
//!
//! The modules are Kamaelia's packages, and every component is also at the
//! crate root:
//!
//! | module | Kamaelia's | holds |
//! |---|---|---|
//! | [`internet`] | `Kamaelia.Internet` | [`Selector`], [`TcpServer`], [`ConnectedSocketAdapter`], [`TcpClient`], [`SingleServer`] |
//! | [`chassis`] | `Kamaelia.Chassis` | [`ServerCore`], [`SimpleServer`], [`Pipeline`](struct@Pipeline) ([`Pipeline!`]), [`Graphline`](struct@Graphline) ([`Graphline!`]), [`Par`], [`Carousel`], [`Seq`], [`Supervisor`] |
//! | [`protocol`] | `Kamaelia.Protocol` | [`EchoProtocol`] |
//! | [`util`] | `Kamaelia.Util` | [`ConsoleReader`], [`ConsoleEchoer`], [`PassThrough`], [`PureTransformer`], [`OneShot`], [`Chargen`], [`LineSplitter`], [`MessageRateLimit`], [`PeriodicTick`], [`SingleTick`], [`Introspector`], [`PlugSplitter`], [`Plug`], [`Backplane`], [`PublishTo`], [`SubscribeTo`] |
//! | [`file`](mod@file) | `Kamaelia.File` | [`SimpleReader`], [`Append`] |
//! | [`ipc`] | `Kamaelia.IPC` | the messages between them |
//! | [`signals`] | | SIGINT and SIGTERM, for an orderly stop |
//!
//! Everything is bounded: each adapter's and handler's inbox has a size
//! limit, so a client that sends faster than its handler works, or reads
//! slower than its handler writes, is held back by TCP rather than growing the
//! server's memory.
//!
//! # Layers
//!
//! The modules stand on each other in layers, and a module imports only from
//! its own layer or a lower one (`tests/layers.rs` at the workspace root
//! checks the code):
//!
//! | layer | imports of this crate |
//! |---|---|
//! | `chassis` | `internet`, `protocol`, `util`, `file`, `signals`, `sys` |
//! | `protocol`, `util`, `file` | `internet`, `signals`, `sys` |
//! | `internet` (and its message index `ipc`) | `sys` |
//! | `sys`, `signals` | none: the operating system (`rustix`, `polling`, `socket2`, `signal-hook`) |
//!
//! `sys` is the fence around the operating system: every call into `rustix`,
//! `polling` and `socket2` is there. So is the crate's `unsafe` code:
//! registering a socket with `polling`'s poller (which Linux uses only with
//! the `portable-poller` feature: by default it has its own epoll poller, with
//! safe calls), and the poller's invariant, which the Selector keeps; and,
//! with the `io-uring` feature, the ring (`sys/uring.rs`), whose safe
//! interface holds what the kernel reads or writes until it is done with it.
//!
//! # Features
//!
//! * `portable-poller`: on Linux, the Selector watches sockets with the
//!   `polling` crate's poller, as on every other system, instead of epoll
//!   directly. That costs five system calls per wait instead of one, and the
//!   news that a peer has half-closed (so its adapter reads once more, to
//!   find the 0). For comparison, and to keep the portable poller tested.
//! * `io-uring` (Linux): each scheduler thread has an io_uring, and its
//!   connections' adapters read and write through it: a receive that goes
//!   on (multishot) into buffers the ring provides, and one send in flight
//!   per connection, all submitted with the one `io_uring_enter` the
//!   scheduler waits in; each socket is registered in the ring's table of
//!   files, so the kernel does not look its descriptor up per operation.
//!   The Selector's epoll poller is watched from the
//!   ring, for listening sockets and clients connecting. The ring takes
//!   4 MiB of buffers per scheduler; where the kernel refuses a ring (an old
//!   kernel, a container's seccomp policy), connections use epoll, and a
//!   warning says why. Faster on many connections (see
//!   `docs/PERFORMANCE.md`); off by default while it is new.
//! * `redis`: `Backplane::bridged` and `util::RedisBridge`, a backplane
//!   joined to the backplanes of other processes, on other machines, through
//!   a Redis broker's pub/sub (the `redis` crate's blocking client, in two
//!   threaded components). Off by default: the client brings a URL parser
//!   with Unicode tables that a server on one machine does not need.
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![cfg(unix)]

pub mod chassis;
pub mod file;
pub mod internet;
pub mod ipc;
pub mod protocol;
pub mod signals;
mod sys;
pub mod util;

pub use chassis::{
    Carousel, CarouselBoxes, ChassisError, Graphline, Par, Pipeline, Seq, Supervisor,
};
pub use chassis::{
    ServerCore, ServerCoreBoxes, SimpleServer, DEFAULT_HANDLER_INBOX_SIZE, DEFAULT_PORT,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use file::{Append, SimpleReader};
pub use internet::{
    ConnectedSocketAdapter, ConnectionOptions, CsaBoxes, ListenOptions, Selector, SelectorBoxes,
    TcpClient, TcpClientBoxes, TcpServer, TcpServerBoxes, DEFAULT_BACKLOG, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_CSA_INBOX_SIZE, DEFAULT_HOST, DEFAULT_LINGER, DEFAULT_READ_SIZE, SELECTOR_SERVICE,
    SELECTOR_SHUTDOWN_SERVICE,
};
pub use internet::{SingleServer, SingleServerBoxes, DEFAULT_SINGLE_SERVER_PORT};
pub use protocol::EchoProtocol;
pub use util::{
    Backplane, Chargen, ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes, Introspector,
    LineSplitter, LineTooLong, MessageRateLimit, OneShot, PassThrough, PeriodicTick, Plug,
    PlugSplitter, PublishTo, PureTransformer, SingleTick, SubscribeTo,
};
