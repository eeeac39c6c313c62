//! [`RingCore`]: the scheduler's io_uring, shared by its connections and its
//! park (the `io-uring` feature).
//!
//! With a ring, the scheduler's idle wait is the ring's: one
//! `io_uring_enter` submits what the connections asked in the cycle
//! (receives, sends) and waits for completions. The epoll poller the
//! [`Selector`](super::Selector) keeps for everything else (listening
//! sockets, clients connecting, the cross-thread wake-up) is watched from
//! the ring by a poll of its descriptor: when it is readable, the park
//! collects its events as it would without a ring.
//!
//! Each connection using the ring registers a [`RingUser`]: its completions
//! are noted there, and its adapter woken. Nothing else is woken, and a
//! completion costs what it concerns: one slot looked up.
//!
//! An adapter with an [`InlineProtocol`] lends it to its entry while it
//! sleeps with nothing else to do ([`RingLink::lend`]): then the bytes a
//! receive brings are answered here, as they complete, straight from the
//! ring's buffer, and the answer's send is asked at once. The adapter is
//! not resumed at all for such a round trip; it is woken, and takes its
//! protocol back, for anything else (a receive while a send is in flight,
//! the end of the input, an error, an answer it must queue, the protocol
//! finishing, a message of its own).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::TcpStream;
use std::rc::{Rc, Weak};
use std::time::Duration;

use axon::ComponentRef;
use slab::Slab;

use super::core::SelectorCore;
use crate::internet::inline_protocol::InlineProtocol;
use crate::internet::lent_protocol::{Lent, TakenBack};
use crate::sys::uring::{Done, FileSlot, Received, Ring};

/// The key of the poll of the epoll poller's descriptor (keys are `u32`s
/// to the ring; connections' are their slots in the table).
const POLLER_KEY: usize = u32::MAX as usize;

/// How many received buffers one connection may hold before its receive
/// is cancelled (until its adapter has taken them): a connection whose
/// consumer is full does not take the ring's buffers from the others.
const HELD: usize = 4;

/// The ring and who uses it.
pub(crate) struct RingCore {
    pub(crate) ring: RefCell<Ring>,
    users: RefCell<Slab<RingUser>>,
    /// A poll of the epoll poller's descriptor is in flight.
    poller_watched: Cell<bool>,
}

impl std::fmt::Debug for RingCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingCore")
            .field("users", &self.users.borrow().len())
            .finish_non_exhaustive()
    }
}

/// What the ring has told one connection since its adapter last looked
/// (held in the core's table, not apart: an idle connection's share of the
/// ring is this entry and its receive in flight).
struct RingUser {
    /// Woken at each of its completions (but those its lent protocol
    /// answers, and sends' it does not wait for).
    adapter: ComponentRef,
    /// Its socket, for the sends of the answers made here.
    socket: Rc<TcpStream>,
    /// The adapter's inline protocol, while lent: it answers what is
    /// received, here, as long as nothing else waits.
    lent: Lent,
    /// Bytes received, lent until the adapter takes them, in order: the
    /// first, then the rest (which need room only in a burst).
    received: Option<Received>,
    // Boxed: 8 bytes in every connection's entry instead of 32, for a
    // queue only a burst needs.
    #[allow(clippy::box_collection)]
    more: Option<Box<VecDeque<Received>>>,
    /// The receive in flight (it goes on until cancelled or ended).
    recv: Option<u32>,
    /// Where cancelling its receive stands (it is cancelled when the
    /// connection holds [`HELD`] buffers: taking more than its adapter
    /// does, or when its adapter has no room).
    cancel: Cancel,
    /// The first error of a receive or a send, for the adapter to close on.
    error: Option<io::Error>,
    /// The peer has closed its side: a receive found the end.
    eof: bool,
    /// A send is in flight.
    sending: bool,
    /// Its completion is to wake the adapter, which waits for it (a send of
    /// its was refused meanwhile, or it waits to close). Most
    /// completions of a send find the adapter with nothing more to send,
    /// and would wake it for nothing: an echo's adapter ran three turns per
    /// round trip, one for the request, one for nothing, one for the send's
    /// completion.
    wake_when_sent: bool,
    /// Its socket's slot in the ring's table of files, if it has one.
    slot: Option<FileSlot>,
    /// Its connection has gone: the entry stays (its key taken) until its
    /// last operation has completed, so that no completion of its reaches a
    /// new connection given the same key.
    gone: bool,
}

impl RingUser {
    /// Whether none of its operations is in flight.
    fn idle(&self) -> bool {
        self.recv.is_none() && !self.sending
    }

    /// Notes a completion (for the connection at `key`); what it does not
    /// keep goes back to the ring.
    fn on(&mut self, ring: &mut Ring, key: usize, done: Done) -> Option<Received> {
        if let Done::Recv(_, false) = done {
            self.recv = None;
            self.cancel = Cancel::No;
        }
        let mut wake = true;
        let unwanted = match done {
            // Its connection has gone: the bytes are for no one.
            Done::Recv(Ok(Some(received)), _) if self.gone => Some(received),
            Done::Recv(Ok(Some(received)), _) if self.may_answer() => {
                wake = self.answer(ring, key, received);
                None
            }
            Done::Recv(Ok(Some(received)), _) => {
                let held = match self.received {
                    None => {
                        self.received = Some(received);
                        1
                    }
                    Some(_) => {
                        let more = self.more.get_or_insert_with(Box::default);
                        more.push_back(received);
                        1 + more.len()
                    }
                };
                if self.recv.is_some() && self.cancel == Cancel::No && held >= HELD {
                    self.cancel = Cancel::Wanted;
                }
                None
            }
            Done::Recv(Ok(None), _) => {
                self.eof = true;
                None
            }
            Done::Recv(Err(e), _) => {
                // No buffer was free, or it was cancelled: the adapter
                // receives again when it has room.
                if !matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::ECANCELED)) {
                    self.error.get_or_insert(e);
                }
                None
            }
            Done::Send(result) => {
                self.sending = false;
                // The adapter hears of it if it waits for it, or must hear
                // of its error.
                wake = std::mem::take(&mut self.wake_when_sent) || result.is_err();
                if let Err(e) = result {
                    self.error.get_or_insert(e);
                }
                None
            }
            Done::Poll(_) => None,
        };
        if wake && !self.gone {
            self.adapter.unpause();
        }
        unwanted
    }

    /// Whether its lent protocol may answer a receive now: nothing came
    /// before it that the adapter has not taken, no send is in flight (the
    /// answer would have to wait behind it), nothing has gone wrong, and
    /// the receive goes on (else the adapter must ask again).
    fn may_answer(&self) -> bool {
        self.lent.may_answer()
            && self.received.is_none()
            && !self.sending
            && self.recv.is_some()
            && self.error.is_none()
    }

    /// Answers `received` with the lent protocol, from the ring's buffer,
    /// and asks for the answer's send. Whether the adapter must be woken to
    /// see to something.
    fn answer(&mut self, ring: &mut Ring, key: usize, received: Received) -> bool {
        let mut out = ring.send_buffer();
        let answer = self
            .lent
            .call(&self.adapter, ring.received(&received), &mut out);
        ring.give_back(received);
        let wake = match answer {
            Some(answer) => {
                let (socket, slot, sending) = (&self.socket, self.slot, &mut self.sending);
                self.lent.send(answer, &mut out, |out| {
                    let len = out.len();
                    ring.send_vec(socket, slot, std::mem::take(out), key);
                    *sending = true;
                    Ok(len)
                })
            }
            None => true,
        };
        if out.capacity() > 0 {
            ring.recycle(out);
        }
        wake
    }

    /// The next bytes received, in order.
    fn next_received(&mut self) -> Option<Received> {
        let next = self.received.take();
        if let Some(more) = &mut self.more {
            self.received = more.pop_front();
            if more.is_empty() {
                // Held only through a burst: an idle connection keeps none.
                self.more = None;
            }
        }
        next
    }
}

/// Where cancelling a connection's receive stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cancel {
    No,
    /// To be asked, once the completions in hand are told.
    Wanted,
    Asked,
}

/// A connection's place on the ring: it asks for receives and sends through
/// it, and learns what came of them; it leaves the ring when dropped (with
/// whatever it was lent).
#[derive(Debug)]
pub(crate) struct RingLink {
    core: Weak<SelectorCore>,
    key: usize,
}

/// A place on `core`'s io_uring for the adapter `adapter` of `socket`, if
/// the thread has a ring (the kernel may refuse one: then `None`, and the
/// adapter uses the Selector).
pub(super) fn ring_link(
    core: &Rc<SelectorCore>,
    adapter: ComponentRef,
    socket: &Rc<TcpStream>,
) -> Option<RingLink> {
    RingCore::link(core, adapter, socket)
}

impl RingLink {
    /// Calls `f` with the ring and this connection's entry.
    fn with<R>(&self, f: impl FnOnce(&RefCell<Ring>, &mut RingUser) -> R) -> Option<R> {
        let core = self.core.upgrade()?;
        let ring = core.ring.as_ref()?;
        let mut users = ring.users.borrow_mut();
        let user = users.get_mut(self.key)?;
        Some(f(&ring.ring, user))
    }

    /// Copies the next bytes received, in order, into `into` (grown to
    /// fit), and gives their buffer back to the ring: how many, and whether
    /// more are waiting; or `None` if none came.
    pub(crate) fn take_received(&self, into: &mut Vec<u8>) -> Option<(usize, bool)> {
        self.with(|ring, user| {
            let received = user.next_received()?;
            if into.len() < received.len() {
                into.resize(received.len(), 0);
            }
            let n = ring.borrow_mut().take_received(received, into);
            Some((n, user.received.is_some()))
        })
        .flatten()
    }

    /// What follows the adapter's taking of what came: the first error a
    /// receive or a send met, once; else whether the input has ended (a
    /// receive found the end, and every byte before it has been taken).
    /// Until then, it receives on from `socket` (at most `most` bytes at a
    /// time) if the adapter has `room` for more, or stops receiving if not
    /// (what comes meanwhile stays in the socket). One call, not one for
    /// each of these: each looks the connection's entry up.
    pub(crate) fn receive_on(
        &self,
        socket: &Rc<TcpStream>,
        most: usize,
        room: bool,
    ) -> io::Result<bool> {
        self.with(|ring, user| {
            if let Some(e) = user.error.take() {
                return Err(e);
            }
            if user.eof {
                return Ok(user.received.is_none());
            }
            if !room {
                if let Some(recv) = user.recv.filter(|_| user.cancel != Cancel::Asked) {
                    ring.borrow_mut().cancel(recv as usize);
                    user.cancel = Cancel::Asked;
                }
            } else if user.recv.is_none() && user.received.is_none() {
                let recv = ring.borrow_mut().recv(socket, user.slot, most, self.key);
                user.recv = u32::try_from(recv).ok();
            }
            Ok(false)
        })
        .unwrap_or(Ok(true))
    }

    /// Lends the adapter's inline protocol to the ring, which answers with
    /// it what is received until the adapter takes it back
    /// ([`take_back`](Self::take_back); see [`Lent`]). Given back at once
    /// if the ring has gone.
    pub(crate) fn lend(
        &self,
        protocol: Box<dyn InlineProtocol>,
    ) -> Result<(), Box<dyn InlineProtocol>> {
        let mut protocol = Some(protocol);
        self.with(|_, user| {
            if let Some(protocol) = protocol.take() {
                user.lent.lend(protocol);
            }
        });
        protocol.map_or(Ok(()), Err)
    }

    /// Takes back the protocol lent, with what its answers left.
    pub(crate) fn take_back(&self) -> TakenBack {
        self.with(|_, user| user.lent.take_back())
            .unwrap_or_default()
    }

    /// Whether a send is in flight; if one is, its completion wakes the
    /// adapter, which is waiting for it (to send more, or to close). A send
    /// nobody waits for completes without waking anyone.
    pub(crate) fn wait_for_send(&self) -> bool {
        self.with(|_, user| {
            user.wake_when_sent |= user.sending;
            user.sending
        })
        .unwrap_or(false)
    }

    /// Sends a copy of `slices` on `socket`: true if the ring took it (no
    /// send was in flight).
    pub(crate) fn send(&self, socket: &Rc<TcpStream>, slices: &[std::io::IoSlice<'_>]) -> bool {
        self.start_send(|ring, slot, key| ring.send_copy(socket, slot, slices, key))
    }

    /// Sends `bytes` on `socket` as they are: true if the ring took them.
    pub(crate) fn send_bytes(&self, socket: &Rc<TcpStream>, bytes: bytes::Bytes) -> bool {
        self.start_send(|ring, slot, key| ring.send_bytes(socket, slot, bytes, key))
    }

    /// Starts a send with `send`, unless one is in flight: true if started.
    /// Refused, the adapter is woken when the send in flight completes.
    fn start_send(&self, send: impl FnOnce(&mut Ring, Option<FileSlot>, usize)) -> bool {
        self.with(|ring, user| {
            if user.sending {
                user.wake_when_sent = true;
                return false;
            }
            send(&mut ring.borrow_mut(), user.slot, self.key);
            user.sending = true;
            true
        })
        .unwrap_or(false)
    }
}

impl Drop for RingLink {
    fn drop(&mut self) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        let Some(ring) = core.ring.as_ref() else {
            return;
        };
        let mut users = ring.users.borrow_mut();
        let Some(user) = users.get_mut(self.key) else {
            return;
        };
        let mut ring = ring.ring.borrow_mut();
        while let Some(received) = user.next_received() {
            ring.give_back(received);
        }
        // Its socket is shut down next, which ends the receive; cancelled
        // too, in case it is not.
        if let Some(recv) = user.recv.filter(|_| user.cancel != Cancel::Asked) {
            ring.cancel(recv as usize);
            user.cancel = Cancel::Asked;
        }
        user.gone = true;
        // What was lent goes with the connection.
        user.lent = Lent::default();
        if user.idle() {
            if let Some(slot) = users.remove(self.key).slot {
                ring.unregister(slot);
            }
        }
    }
}

impl RingCore {
    /// A ring for this thread, or the kernel's reason for refusing one.
    pub(super) fn new() -> io::Result<Self> {
        Ok(RingCore {
            ring: RefCell::new(Ring::new()?),
            users: RefCell::new(Slab::new()),
            poller_watched: Cell::new(false),
        })
    }

    /// Registers the adapter `adapter` of `socket` on the ring of `core`
    /// (and the socket in the ring's table of files, if it has room).
    pub(crate) fn link(
        core: &Rc<SelectorCore>,
        adapter: ComponentRef,
        socket: &Rc<TcpStream>,
    ) -> Option<RingLink> {
        let ring = core.ring.as_ref()?;
        let slot = ring.ring.borrow_mut().register(socket);
        let key = ring.users.borrow_mut().insert(RingUser {
            adapter,
            socket: Rc::clone(socket),
            lent: Lent::default(),
            received: None,
            more: None,
            recv: None,
            cancel: Cancel::No,
            error: None,
            eof: false,
            sending: false,
            wake_when_sent: false,
            slot,
            gone: false,
        });
        Some(RingLink {
            core: Rc::downgrade(core),
            key,
        })
    }

    /// The park: submits what was asked, waits (at most `timeout`) for a
    /// completion, and tells each its user. Whether the epoll poller has
    /// events to collect.
    pub(super) fn park(
        &self,
        poller: std::os::fd::BorrowedFd<'_>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        let mut ring = self.ring.borrow_mut();
        if !self.poller_watched.get() {
            ring.poll_readable(poller, POLLER_KEY);
            self.poller_watched.set(true);
        }
        ring.wait(timeout)?;
        let mut users = self.users.borrow_mut();
        let mut poller_ready = false;
        let mut cancels = Vec::new();
        // The slots of the sockets of connections gone and done with: a
        // socket leaves the table only once none of its operations is in
        // flight, since one (the rest of a short send) may be asked again
        // by its slot, which must not name another socket by then.
        let mut unregisters = Vec::new();
        ring.complete(|ring, key, done| {
            if key == POLLER_KEY {
                // An error (the poll refused) is read as ready: collecting
                // the poller's events finds what there is, and the poll is
                // asked again at the next wait.
                if let Done::Poll(Err(e)) = done {
                    tracing::error!(target: "kamaelia::selector", error = %e, "the ring's poll of the poller failed");
                }
                poller_ready = true;
                return None;
            }
            match (users.get_mut(key), done) {
                (Some(user), done) => {
                    let unwanted = user.on(ring, key, done);
                    if let (Cancel::Wanted, Some(recv)) = (user.cancel, user.recv) {
                        cancels.push(recv as usize);
                        user.cancel = Cancel::Asked;
                    }
                    if user.gone && user.idle() {
                        unregisters.extend(users.remove(key).slot);
                    }
                    unwanted
                }
                // Not reached: an entry outlives its operations.
                (None, Done::Recv(Ok(received), _)) => received,
                (None, _) => None,
            }
        });
        for recv in cancels {
            ring.cancel(recv);
        }
        for slot in unregisters {
            ring.unregister(slot);
        }
        if poller_ready {
            self.poller_watched.set(false);
        }
        Ok(poller_ready)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use axon::Scheduler;

    use super::super::tests::{idle, pair};
    use super::*;

    fn core_of(scheduler: &Scheduler) -> Rc<SelectorCore> {
        SelectorCore::for_scheduler(scheduler).expect("a Selector's core")
    }

    /// Whether `link` has a send in flight.
    fn sending(link: &RingLink) -> bool {
        link.with(|_, user| user.sending) == Some(true)
    }

    /// An adapter that only sleeps: what the ring wakes.
    fn adapter(scheduler: &Scheduler) -> ComponentRef {
        idle::<(), ()>(scheduler)
    }

    /// A connection that leaves while its receive is in flight keeps its
    /// key until that receive has ended: the next connection, given
    /// another key, hears nothing of the first one's end.
    #[test]
    fn a_gone_connections_last_completion_reaches_no_one_else() {
        let scheduler = Scheduler::new();
        let (first_socket, first_peer) = pair();
        let Some(first) = ring_link(&core_of(&scheduler), adapter(&scheduler), &first_socket)
        else {
            eprintln!("no io_uring here: skipped");
            return;
        };
        first
            .receive_on(&first_socket, 1024, true)
            .expect("receiving");
        scheduler.run_cycle();
        drop(first);
        drop(first_socket);
        let (second_socket, mut second_peer) = pair();
        let second =
            ring_link(&core_of(&scheduler), adapter(&scheduler), &second_socket).expect("a ring");
        second
            .receive_on(&second_socket, 1024, true)
            .expect("receiving");
        // The first one's receive ends (cancelled, or finding the end).
        drop(first_peer);
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        assert_eq!(
            second.with(|_, user| user.recv.is_some()),
            Some(true),
            "the first connection's last completion ended the second's receive"
        );
        assert_eq!(
            second
                .receive_on(&second_socket, 1024, true)
                .map_err(|e| e.to_string()),
            Ok(false),
            "the first connection's end (or error) reached the second"
        );
        second_peer.write_all(b"mine").expect("write");
        let mut got = Vec::new();
        for _ in 0..1000 {
            scheduler.run_cycle();
            let mut into = Vec::new();
            if let Some((n, _)) = second.take_received(&mut into) {
                got.extend_from_slice(&into[..n]);
                break;
            }
        }
        assert_eq!(got, b"mine");
    }

    /// A connection's socket is in the ring's table of files while it is on
    /// the ring, and taken out when it leaves: the table does not keep it
    /// open, and the peer sees it close.
    #[test]
    fn a_connection_that_leaves_takes_its_socket_out_of_the_table() {
        let scheduler = Scheduler::new();
        let (socket, mut peer) = pair();
        let Some(link) = ring_link(&core_of(&scheduler), adapter(&scheduler), &socket) else {
            eprintln!("no io_uring here: skipped");
            return;
        };
        assert!(
            link.with(|_, user| user.slot.is_some()) == Some(true),
            "registered"
        );
        // Its operations name it by its slot: an echo goes through.
        link.receive_on(&socket, 1024, true).expect("receiving");
        peer.write_all(b"ping").expect("write");
        let mut into = Vec::new();
        let mut n = None;
        for _ in 0..1000 {
            scheduler.run_cycle();
            n = link.take_received(&mut into).map(|(n, _)| n);
            if n.is_some() {
                break;
            }
        }
        assert_eq!(n.map(|n| &into[..n]), Some(&b"ping"[..]));
        assert!(link.send(&socket, &[std::io::IoSlice::new(b"pong")]));
        let mut back = [0; 4];
        peer.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let reader = std::thread::spawn(move || {
            std::io::Read::read_exact(&mut peer, &mut back).expect("the answer");
            assert_eq!(&back, b"pong");
            // Then the end: the socket closed, though it was registered.
            let mut rest = [0; 1];
            std::io::Read::read(&mut peer, &mut rest)
        });
        while sending(&link) {
            scheduler.run_cycle();
        }
        drop(link);
        drop(socket);
        while !reader.is_finished() {
            scheduler.run_cycle();
        }
        let end = reader.join().expect("reader");
        assert_eq!(
            end.map_err(|e| e.kind()).ok(),
            Some(0),
            "the table kept the socket open"
        );
    }

    /// A connection that leaves with a send in flight keeps its socket in
    /// the table until the send has ended: the rest of a short send is
    /// asked again by the socket's slot, which must not name another
    /// socket by then.
    #[test]
    fn a_socket_stays_in_the_table_while_its_send_is_in_flight() {
        let scheduler = Scheduler::new();
        let (socket, mut peer) = pair();
        let Some(link) = ring_link(&core_of(&scheduler), adapter(&scheduler), &socket) else {
            eprintln!("no io_uring here: skipped");
            return;
        };
        let core = link.core.upgrade().expect("the core");
        let registered = || {
            core.ring
                .as_ref()
                .map_or(0, |ring| ring.ring.borrow().registered())
        };
        if registered() == 0 {
            eprintln!("no table of registered files here: skipped");
            return;
        }
        // More than the two sockets' buffers hold: the send waits for the
        // peer to read, and ends in several short sends.
        const SIZE: usize = 32 << 20;
        assert!(link.send_bytes(&socket, bytes::Bytes::from(vec![7u8; SIZE])));
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        assert!(sending(&link), "the send is not done: nothing reads it");
        drop(link);
        drop(socket);
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        assert_eq!(registered(), 1, "taken out while its send was in flight");
        let reader = std::thread::spawn(move || {
            let mut got = 0;
            let mut buffer = vec![0; 64 * 1024];
            while got < SIZE {
                match std::io::Read::read(&mut peer, &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            got
        });
        while !reader.is_finished() {
            scheduler.run_cycle();
        }
        assert_eq!(reader.join().expect("reader"), SIZE, "all of it sent");
        for _ in 0..1000 {
            if registered() == 0 {
                break;
            }
            scheduler.run_cycle();
        }
        assert_eq!(registered(), 0, "taken out once its send had ended");
    }
}
