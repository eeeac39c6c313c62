//! How sockets are set up: [`ListenOptions`] for a server's listening
//! socket, [`ConnectionOptions`] for each connection (a server's or a
//! client's), and their defaults.

use std::time::Duration;

/// Where a server listens unless told otherwise: the loopback interface
/// only, so that a server opens no port to the network until its `host` says
/// so (Kamaelia listened on every interface; `"0.0.0.0"` still does).
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// The default size of a read, and so the largest chunk a
/// [`ConnectedSocketAdapter`](super::ConnectedSocketAdapter) sends out of
/// `outbox` (Kamaelia's 32768).
pub const DEFAULT_READ_SIZE: usize = 32 * 1024;

/// The default listen backlog. (Kamaelia's was 5, and 50 simultaneous
/// connects took it 8 seconds.)
pub const DEFAULT_BACKLOG: i32 = 1024;

/// The default size limit of each adapter's `inbox`, in messages.
pub const DEFAULT_CSA_INBOX_SIZE: usize = 64;

/// How long a server's connection, having sent everything, waits for the
/// client to close before closing anyway.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(5);

/// How each connection is set up (a server's, as it accepts them, or a
/// [`TcpClient`](super::TcpClient)'s).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionOptions {
    /// Disable Nagle's algorithm (`TCP_NODELAY`), so that small replies go out
    /// at once. Default: on.
    pub nodelay: bool,
    /// The size of each read (see [`ConnectedSocketAdapter::read_size`](super::ConnectedSocketAdapter::read_size)).
    pub read_size: usize,
    /// The size limit of each adapter's `inbox`, in messages: with the read
    /// size of whoever fills it, this bounds the data waiting to be sent.
    pub csa_inbox_size: usize,
    /// After finishing, how long an adapter waits for the peer to close (see
    /// [`ConnectedSocketAdapter::linger`](super::ConnectedSocketAdapter::linger)). Default: [`DEFAULT_LINGER`] for a
    /// server's connections; a [`TcpClient`](super::TcpClient) waits for the
    /// server whatever this says.
    pub linger: Option<Duration>,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            nodelay: true,
            read_size: DEFAULT_READ_SIZE,
            csa_inbox_size: DEFAULT_CSA_INBOX_SIZE,
            linger: Some(DEFAULT_LINGER),
        }
    }
}

/// How a listening socket is made.
#[derive(Clone, Copy, Debug)]
pub struct ListenOptions {
    /// The listen backlog (the kernel may cap it). Default [`DEFAULT_BACKLOG`].
    pub backlog: i32,
    /// Set `SO_REUSEPORT`, so that several sockets (say, one per scheduler)
    /// can listen on the same port. Default: off.
    pub reuse_port: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
        }
    }
}
