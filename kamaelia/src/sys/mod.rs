//! The fence around the operating system: every call into `rustix`, `polling`
//! and `socket2` is here, so that the components never touch them and no type of
//! theirs appears in a public signature.
//!
//! This is the bottom layer: it imports nothing else of this crate, and takes
//! plain values (addresses, backlogs, flags), never a component's options.
//!
//! Provides:
//!
//! * [`Poller`]: level-triggered readiness notification for sockets, with a
//!   thread-safe wake-up (`Notifier`), and news of a peer's half-close where
//!   the system gives it. Two backends with the same API, one compiled in:
//!   * on Linux, `epoll.rs`: epoll itself, through `rustix`, one system call
//!     per wait and `EPOLLRDHUP` reported (`peer_closed`);
//!   * elsewhere, or on Linux with the `portable-poller` feature, `poller.rs`:
//!     `polling`'s poller (kqueue, epoll, …), which never reports
//!     `peer_closed`. Its `add` is the crate's one `unsafe` call.
//! * [`listen`]: a non-blocking TCP listener with `SO_REUSEADDR` and a real
//!   backlog;
//! * [`connect`]: a non-blocking TCP connect, and [`connect_result`] to learn
//!   how it went;
//! * [`send`]: one or several buffers on a socket, with the socket's own calls.
//! * with the `io-uring` feature, on Linux, `uring.rs`: a `Ring` for one
//!   thread, with buffers it provides to the kernel for receives, and a safe
//!   interface: what the kernel reads or writes is held by the ring until
//!   the operation's completion.

#[cfg(epoll)]
mod epoll;
#[cfg(not(epoll))]
mod poller;
mod socket;
#[cfg(uring)]
pub(crate) mod uring;

#[cfg(epoll)]
pub(crate) use epoll::Poller;
#[cfg(not(epoll))]
pub(crate) use poller::Poller;
pub(crate) use socket::{accept, connect, connect_result, listen, recv, send, send_now, send_some};
