//! The fence around the operating system: every call into `polling` and
//! `socket2` is here, so that the components never touch them and no type of
//! theirs appears in a public signature.
//!
//! Provides:
//!
//! * [`Poller`]: level-triggered readiness notification for sockets (epoll,
//!   kqueue, …), with a thread-safe wake-up;
//! * [`listen`]: a non-blocking TCP listener with `SO_REUSEADDR` and a real
//!   backlog;
//! * [`connect`]: a non-blocking TCP connect, and [`connect_result`] to learn
//!   how it went;
//! * [`send`]: one or several buffers on a socket, with the socket's own calls.

use std::fmt;
use std::io::{self, IoSlice};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::Duration;

use polling::{Event, Events, PollMode};
use socket2::{Domain, Protocol, Socket, Type};

use crate::tcp_server::ListenOptions;

/// Readiness notification for registered sockets.
///
/// # Invariant
///
/// Every source registered with [`add`](Self::add) stays open until it has
/// been [`delete`](Self::delete)d: the caller (the Selector) keeps a strong
/// reference to each registered source until it deletes it, and deletes every
/// source before dropping the poller.
pub(crate) struct Poller {
    poller: Arc<polling::Poller>,
    events: Events,
}

/// Level-triggered: a socket is reported for as long as it is ready, so a
/// reader may stop after a short read (a FIN that came with the data is still
/// reported), and the Selector mutes a socket whose owner is not taking
/// notices, instead of the poller forgetting it.
const MODE: PollMode = PollMode::Level;

impl Poller {
    pub(crate) fn new() -> io::Result<Self> {
        let poller = polling::Poller::new()?;
        Ok(Poller {
            poller: Arc::new(poller),
            events: Events::with_capacity(NonZeroUsize::new(1024).expect("1024 is not zero")),
        })
    }

    /// Watches `source` for the given readiness, reporting it under `key`.
    pub(crate) fn add(
        &self,
        source: &dyn AsFd,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        // SAFETY: by this type's invariant, the source stays open until it is
        // deleted from the poller.
        unsafe {
            self.poller.add_with_mode(
                source.as_fd().as_raw_fd(),
                Event::new(key, readable, writable),
                MODE,
            )
        }
    }

    /// Changes what `source` is watched for.
    pub(crate) fn modify(
        &self,
        source: &dyn AsFd,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        self.poller
            .modify_with_mode(source.as_fd(), Event::new(key, readable, writable), MODE)
    }

    /// Stops watching `source`.
    pub(crate) fn delete(&self, source: &dyn AsFd) -> io::Result<()> {
        self.poller.delete(source.as_fd())
    }

    /// Waits for readiness (at most `timeout`; `None` waits until something
    /// happens or [`Notifier::notify`] is called) and calls `ready` for each
    /// event with its key and whether it is readable and writable.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        mut ready: impl FnMut(usize, bool, bool),
    ) -> io::Result<()> {
        self.events.clear();
        self.poller.wait(&mut self.events, timeout)?;
        for event in self.events.iter() {
            // An error or hang-up is reported as both: the owner's next read or
            // write finds out what happened.
            let broken = event.is_err().unwrap_or(false) || event.is_interrupt();
            ready(
                event.key,
                event.readable || broken,
                event.writable || broken,
            );
        }
        Ok(())
    }

    /// A handle that wakes a waiting [`wait`](Self::wait) from any thread.
    pub(crate) fn notifier(&self) -> Notifier {
        Notifier(self.poller.clone())
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller").field("mode", &MODE).finish()
    }
}

/// Wakes a [`Poller`] from any thread.
#[derive(Clone)]
pub(crate) struct Notifier(Arc<polling::Poller>);

impl Notifier {
    pub(crate) fn notify(&self) {
        if let Err(e) = self.0.notify() {
            tracing::error!(target: "kamaelia::selector", error = %e, "could not wake the poller");
        }
    }
}

/// Binds a non-blocking TCP listener to `address`, with `SO_REUSEADDR` (so a
/// restarted server can bind at once: Kamaelia's `FastRestartServer`).
pub(crate) fn listen(address: SocketAddr, options: &ListenOptions) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if options.reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(options.backlog)?;
    Ok(socket.into())
}

/// Starts a non-blocking connect to `address`. The stream is writable once the
/// attempt has ended; [`connect_result`] then says how.
pub(crate) fn connect(address: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    match socket.connect(&address.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// Sends `buffers` on a connected socket, returning how many bytes it took.
///
/// One buffer goes with `send`, several with `sendmsg`: both are the socket's
/// own calls, cheaper than `write`/`writev`, which pass through the file layer.
pub(crate) fn send(stream: &TcpStream, buffers: &[IoSlice<'_>]) -> io::Result<usize> {
    use std::io::Write;
    match buffers {
        [one] => (&*stream).write(one),
        many => socket2::SockRef::from(stream).send_vectored(many),
    }
}

/// How a non-blocking connect ended: `Ok` if connected.
pub(crate) fn connect_result(stream: &TcpStream) -> io::Result<()> {
    if let Some(error) = socket2::SockRef::from(stream).take_error()? {
        return Err(error);
    }
    // No pending error but not connected yet means the attempt is still running.
    stream.peer_addr().map(drop)
}
