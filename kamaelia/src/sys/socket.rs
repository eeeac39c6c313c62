//! Sockets: a listener, a non-blocking connect, and sending, with the
//! options Kamaelia's servers and clients need.
//!
//! Everything here takes plain values (addresses, a backlog, flags), so that
//! this layer knows nothing of the components that call it.

use std::io::{self, IoSlice};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;

use socket2::{Domain, Protocol, Socket, Type};

/// Binds a non-blocking TCP listener to `address`, with `SO_REUSEADDR` (so a
/// restarted server can bind at once: Kamaelia's `FastRestartServer`), and
/// `SO_REUSEPORT` if `reuse_port`, listening with room for `backlog` waiting
/// connections.
pub(crate) fn listen(
    address: SocketAddr,
    backlog: i32,
    reuse_port: bool,
) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Accepts a waiting connection, already non-blocking: on Linux in the one
/// `accept4` call, elsewhere with `accept` then `ioctl` (a system call more
/// per connection).
pub(crate) fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    #[cfg(target_os = "linux")]
    {
        use rustix::net::{acceptfrom_with, SocketFlags};
        let (fd, peer) = acceptfrom_with(listener, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)?;
        let stream = TcpStream::from(fd);
        let peer = match peer.map(SocketAddr::try_from) {
            Some(Ok(peer)) => peer,
            // A TCP listener's peers are IPv4 or IPv6; should the kernel not
            // say, ask the socket.
            _ => stream.peer_addr()?,
        };
        Ok((stream, peer))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let (stream, peer) = listener.accept()?;
        stream.set_nonblocking(true)?;
        Ok((stream, peer))
    }
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
/// On Linux they are made directly (`rustix`), not through libc's wrappers,
/// which also switch the thread's cancellation state around each call (a
/// chat's sends spent 0.8% of its server's time there).
pub(crate) fn send(stream: impl AsFd, buffers: &[IoSlice<'_>]) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        use rustix::net::{send, sendmsg, SendAncillaryBuffer, SendFlags};
        let sent = match buffers {
            [one] => send(&stream, one, SendFlags::NOSIGNAL),
            many => sendmsg(
                &stream,
                many,
                &mut SendAncillaryBuffer::default(),
                SendFlags::NOSIGNAL,
            ),
        };
        Ok(sent?)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::io::Write;
        let socket = socket2::SockRef::from(&stream);
        match buffers {
            [one] => (&*socket).write(one),
            many => socket.send_vectored(many),
        }
    }
}

/// Sends `buffers` once (again if interrupted) on a non-blocking socket:
/// how many bytes it took, 0 if it is full. (A socket that takes nothing of
/// a non-empty send without being full has failed: `WriteZero`.)
pub(crate) fn send_now(stream: impl AsFd, buffers: &[IoSlice<'_>]) -> io::Result<usize> {
    loop {
        match send(&stream, buffers) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Sends what the non-blocking socket takes of `data` now: how many bytes
/// (fewer than all, or none, once it is full).
pub(crate) fn send_some(stream: impl AsFd, data: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < data.len() {
        match send_now(&stream, &[IoSlice::new(&data[sent..])])? {
            0 => break,
            n => sent += n,
        }
    }
    Ok(sent)
}

/// Receives into `into` from a connected socket: how many bytes (0 at the
/// end of the input). On Linux the call is made directly, as [`send`]'s.
pub(crate) fn recv(stream: impl AsFd, into: &mut [u8]) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let (received, _) = rustix::net::recv(stream, into, rustix::net::RecvFlags::empty())?;
        Ok(received)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::io::Read;
        (&*socket2::SockRef::from(&stream)).read(into)
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
