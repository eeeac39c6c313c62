//! [`ConnectedSocketAdapter`]: one TCP connection as a component.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice, Read};
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axon::ipc::Ipc;
use axon::{Component, Cx, Inbox, Outbox};
use bytes::{Buf, Bytes, BytesMut};

use crate::ipc::{peer_closed, Ready, Selectable, SelectorRequest, SocketShutdown};
use crate::selector::link_selector;

/// The default size of a read, and so the largest chunk sent out of `outbox`
/// (Kamaelia's 32768).
pub const DEFAULT_READ_SIZE: usize = 32 * 1024;

/// How many queued buffers one write hands to the socket (one `writev`).
const WRITE_BATCH: usize = 16;

axon::boxes! {
    /// The boxes of a [`ConnectedSocketAdapter`].
    pub struct CsaBoxes {
        /// Bytes to send to the peer. Give it a size limit (ServerCore does) so
        /// that a peer that does not read holds back whoever sends, instead of
        /// filling memory.
        inbox inbox: Bytes,
        /// `ProducerFinished`: send what is queued, then close.
        /// `ShutdownMicroprocess`: close now, dropping what is queued.
        inbox control: Ipc,
        /// From the Selector: the socket may have data to read.
        inbox read_ready: Ready,
        /// From the Selector: the socket may take more data.
        inbox send_ready: Ready,
        /// Bytes received from the peer, in chunks of at most the read size.
        outbox outbox: Bytes,
        /// `ProducerFinished` carrying `PeerClosed` when the peer closes its
        /// side, then carrying `SocketShutdown` once the connection has closed.
        outbox signal: Ipc,
        /// `SocketShutdown` for whoever made this adapter, once the socket has
        /// closed (Kamaelia's `CreatorFeedback`).
        outbox creator_feedback: SocketShutdown,
        /// Requests to the Selector (Kamaelia's `_selectorSignal`).
        outbox selector_signal: SelectorRequest,
    }
}

/// Turns one connected TCP socket into a component: bytes received come out
/// of `outbox`, bytes sent to `inbox` go to the peer. Kamaelia's
/// `ConnectedSocketAdapter` (CSA).
///
/// It asks the [`Selector`](crate::Selector) to tell it when the socket is ready, then reads
/// until the socket has nothing more and writes until it takes no more. It
/// never spins:
///
/// * A write that the socket takes only partly keeps the unsent tail, and the
///   adapter waits to be told the socket is writable.
/// * It takes from `inbox` only what it is about to write, so with a size limit
///   on `inbox` the data waiting to be sent is bounded, and a peer that does not
///   read holds back the sender.
/// * While the consumer of `outbox` is full it stops reading (the peer is then
///   held back by TCP), and resumes when the consumer collects.
///
/// Told to finish (`ProducerFinished` on `control`), it sends everything queued,
/// then shuts its sending side (the peer reads the end of the data), and keeps
/// receiving until the peer closes too, or until its [linger](Self::linger)
/// time has passed: an orderly close that never cuts off the last data sent.
///
/// When the peer closes its side first, the adapter tells whoever is linked to
/// its `signal` outbox (`ProducerFinished` carrying [`PeerClosed`](crate::ipc::PeerClosed))
/// and keeps sending what it is given until told to finish; with nothing
/// linked to `signal` it finishes at once. When it closes (after finishing, on
/// `ShutdownMicroprocess`, or on an error such as a reset), it shuts the socket
/// down, stops watching it, and sends [`SocketShutdown`] out of
/// `creator_feedback` and (inside a `ProducerFinished`) out of `signal`.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): data to send.
/// * `control` ([`Ipc`]): `ProducerFinished` (flush, then close),
///   `ShutdownMicroprocess` (close now).
/// * `read_ready`, `send_ready` ([`Ready`]): from the Selector.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): data received.
/// * `signal` ([`Ipc`]): `ProducerFinished` with `PeerClosed`, then with
///   `SocketShutdown`.
/// * `creator_feedback` ([`SocketShutdown`]): the socket has closed.
/// * `selector_signal` ([`SelectorRequest`]): to the Selector.
pub struct ConnectedSocketAdapter {
    socket: Rc<TcpStream>,
    read_size: usize,
    linger: Option<Duration>,
}

impl ConnectedSocketAdapter {
    /// An adapter for a connected socket, which it makes non-blocking.
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking.
    pub fn new(socket: TcpStream) -> io::Result<Self> {
        ConnectedSocketAdapter::from_shared(Rc::new(socket))
    }

    /// An adapter for a socket that is still shared (with a Selector
    /// registration being withdrawn, say).
    pub(crate) fn from_shared(socket: Rc<TcpStream>) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(ConnectedSocketAdapter {
            socket,
            read_size: DEFAULT_READ_SIZE,
            linger: None,
        })
    }

    /// Sets the size of each read: the largest chunk sent out of `outbox`
    /// (default [`DEFAULT_READ_SIZE`]).
    pub fn read_size(mut self, bytes: usize) -> Self {
        self.read_size = bytes.max(1);
        self
    }

    /// After finishing (everything sent and the sending side shut), how long
    /// to wait for the peer to close before closing anyway. `None` (the
    /// default) waits for as long as the peer keeps the connection open.
    pub fn linger(mut self, linger: Option<Duration>) -> Self {
        self.linger = linger;
        self
    }
}

impl fmt::Debug for ConnectedSocketAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectedSocketAdapter")
            .field("peer", &self.socket.peer_addr().ok())
            .finish()
    }
}

/// How the adapter is ending, if it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Closing {
    No,
    /// Send what is queued, then close.
    Flush,
    /// Close at once.
    Now,
}

/// The socket and what is in flight on it.
struct Connection {
    socket: Rc<TcpStream>,
    read_size: usize,
    read_buf: BytesMut,
    /// Taken from `inbox`, not yet (fully) written.
    pending: VecDeque<Bytes>,
    /// Received but refused by the full consumer: sent before reading more.
    stash: Option<Bytes>,
    can_read: bool,
    can_write: bool,
    /// The peer has closed its side.
    eof: bool,
}

impl Connection {
    /// True if there is anything to write, here or queued in `inbox`.
    fn has_output(&self, inbox: &Inbox<Bytes>) -> bool {
        !self.pending.is_empty() || inbox.data_ready()
    }

    /// Writes what is pending and queued until done or the socket is full.
    fn flush(&mut self, inbox: &Inbox<Bytes>) -> io::Result<()> {
        loop {
            while self.pending.len() < WRITE_BATCH {
                match inbox.recv() {
                    Some(data) if data.is_empty() => {}
                    Some(data) => self.pending.push_back(data),
                    None => break,
                }
            }
            if self.pending.is_empty() {
                return Ok(());
            }
            let mut slices = [IoSlice::new(&[]); WRITE_BATCH];
            for (slice, data) in slices.iter_mut().zip(&self.pending) {
                *slice = IoSlice::new(data);
            }
            let count = self.pending.len().min(WRITE_BATCH);
            match crate::sys::send(&self.socket, &slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(mut written) => {
                    while written > 0 {
                        let front = self.pending.front_mut().expect("written <= pending");
                        if front.len() <= written {
                            written -= front.len();
                            self.pending.pop_front();
                        } else {
                            front.advance(written);
                            written = 0;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.can_write = false;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until the socket has nothing more (or the consumer is full),
    /// sending each chunk out of `outbox`.
    ///
    /// The Selector's notice is taken only here, when the adapter is about to
    /// read: while the consumer is full, or after the end of the input, it
    /// stays in `notices`, and the Selector stops reporting the socket.
    fn receive(&mut self, notices: &Inbox<Ready>, outbox: &Outbox<Bytes>) -> io::Result<()> {
        if let Some(chunk) = self.stash.take() {
            if let Err(full) = outbox.try_send(chunk) {
                self.stash = Some(full.into_inner());
                return Ok(());
            }
        }
        if self.eof {
            return Ok(());
        }
        // The Selector sends a notice only into an empty inbox: one at most.
        if notices.recv().is_some() {
            self.can_read = true;
        }
        while self.can_read {
            if self.read_buf.len() < self.read_size.min(1024) {
                self.read_buf = BytesMut::zeroed(self.read_size);
            }
            let room = self.read_buf.len();
            match (&*self.socket).read(&mut self.read_buf[..]) {
                Ok(0) => {
                    self.eof = true;
                    self.can_read = false;
                }
                Ok(n) => {
                    // A short read has emptied the socket. The Selector is
                    // level-triggered, so more data, or a FIN that came with
                    // this data, is reported at its next wait: no read that
                    // would only find `WouldBlock`.
                    if n < room {
                        self.can_read = false;
                    }
                    let chunk = self.read_buf.split_to(n).freeze();
                    if let Err(full) = outbox.try_send(chunk) {
                        self.stash = Some(full.into_inner());
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.can_read = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Component for ConnectedSocketAdapter {
    type Boxes = CsaBoxes;

    async fn main(self, cx: Cx<CsaBoxes>) {
        let selectable = Selectable::new(self.socket.clone());
        let how_died = match link_selector(&cx) {
            Ok(()) => {
                cx.selector_signal
                    .send(SelectorRequest::NewReader {
                        selectable: selectable.clone(),
                        reply: cx.read_ready.clone(),
                    })
                    .await;
                let connection = Connection {
                    socket: self.socket.clone(),
                    read_size: self.read_size,
                    read_buf: BytesMut::new(),
                    pending: VecDeque::new(),
                    stash: None,
                    can_read: true,
                    can_write: true,
                    eof: false,
                };
                serve(&cx, connection, &selectable, self.linger).await
            }
            Err(e) => Some(e),
        };
        if let Some(e) = &how_died {
            tracing::debug!(target: "kamaelia::csa", csa = %cx.id(), error = %e, "connection closed by an error");
        }
        let _ = self.socket.shutdown(Shutdown::Both);
        cx.selector_signal
            .send(SelectorRequest::RemoveReader {
                selectable: selectable.clone(),
            })
            .await;
        cx.selector_signal
            .send(SelectorRequest::RemoveWriter { selectable })
            .await;
        let shutdown = SocketShutdown {
            csa: cx.id(),
            how_died: how_died.map(Arc::new),
        };
        cx.signal.send(shutdown.to_ipc(cx.id())).await;
        cx.creator_feedback.send(shutdown).await;
    }
}

/// The adapter's life while the socket is open. Returns the error that ended
/// it, if one did.
async fn serve(
    cx: &Cx<CsaBoxes>,
    mut conn: Connection,
    selectable: &Selectable,
    linger: Option<Duration>,
) -> Option<io::Error> {
    let mut closing = Closing::No;
    // Watched for writability only while the socket has refused output: most
    // connections never fill their socket, and need no such notices.
    let mut watching_writes = false;
    let mut told_peer_closed = false;
    // Set once everything has been sent and the sending side shut.
    let mut lingering_until: Option<Option<Instant>> = None;
    loop {
        // Most turns find it empty: look before taking.
        if cx.send_ready.data_ready() {
            conn.can_write |= cx.send_ready.drain().count() > 0;
        }
        if cx.control.data_ready() {
            for message in cx.control.drain() {
                if message.is_shutdown_microprocess() {
                    closing = Closing::Now;
                } else if message.is_producer_finished() && closing == Closing::No {
                    closing = Closing::Flush;
                }
            }
        }
        if closing == Closing::Now {
            return None;
        }
        if conn.can_write {
            if let Err(e) = conn.flush(&cx.inbox) {
                return Some(e);
            }
        }
        let blocked = !conn.can_write && conn.has_output(&cx.inbox);
        if blocked != watching_writes {
            watching_writes = blocked;
            let selectable = selectable.clone();
            let request = if blocked {
                SelectorRequest::NewWriter {
                    selectable,
                    reply: cx.send_ready.clone(),
                }
            } else {
                SelectorRequest::RemoveWriter { selectable }
            };
            cx.selector_signal.send(request).await;
        }
        if !conn.eof || conn.stash.is_some() {
            if let Err(e) = conn.receive(&cx.read_ready, &cx.outbox) {
                return Some(e);
            }
        }
        if conn.eof && conn.stash.is_none() && !told_peer_closed {
            told_peer_closed = true;
            if cx.signal.is_linked() {
                cx.signal.send(peer_closed(cx.id())).await;
            } else if closing == Closing::No {
                closing = Closing::Flush;
            }
        }
        if closing == Closing::Flush && !conn.has_output(&cx.inbox) {
            if conn.eof {
                return None;
            }
            match lingering_until {
                None => {
                    if let Err(e) = conn.socket.shutdown(Shutdown::Write) {
                        return Some(e);
                    }
                    let until = linger.map(|l| Instant::now() + l);
                    if let Some(at) = until {
                        cx.wake_at(at);
                    }
                    lingering_until = Some(until);
                }
                Some(Some(at)) if Instant::now() >= at => return None,
                Some(_) => {}
            }
        }
        let can_read = conn.can_read && !conn.eof && conn.stash.is_none();
        let can_write = conn.can_write && conn.has_output(&cx.inbox);
        if !can_read && !can_write {
            cx.pause();
        }
        cx.yield_now().await;
    }
}
