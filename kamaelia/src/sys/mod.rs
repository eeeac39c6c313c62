//! The fence around the operating system: every call into `polling` and
//! `socket2` is here, so that the components never touch them and no type of
//! theirs appears in a public signature.
//!
//! This is the bottom layer: it imports nothing else of this crate, and takes
//! plain values (addresses, backlogs, flags), never a component's options.
//!
//! Provides:
//!
//! * [`Poller`]: level-triggered readiness notification for sockets (epoll,
//!   kqueue, …), with a thread-safe wake-up ([`Notifier`](poller::Notifier)). Its
//!   [`add`](Poller::add) is the crate's one `unsafe` call.
//! * [`listen`]: a non-blocking TCP listener with `SO_REUSEADDR` and a real
//!   backlog;
//! * [`connect`]: a non-blocking TCP connect, and [`connect_result`] to learn
//!   how it went;
//! * [`send`]: one or several buffers on a socket, with the socket's own calls.

mod poller;
mod socket;

pub(crate) use poller::Poller;
pub(crate) use socket::{connect, connect_result, listen, send};
