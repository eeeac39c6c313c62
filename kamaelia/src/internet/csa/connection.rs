//! [`Connection`]: the adapter's socket and the bytes in flight on it.
//!
//! Reading, writing, and what the socket is known to allow; nothing here
//! decides when the connection ends (that is the [lifecycle](super::lifecycle)).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::TcpStream;
use std::rc::Rc;

use axon::{ComponentRef, Inbox, Outbox};
use bytes::{Buf, Bytes};

use crate::internet::inline_protocol::{self, InlineProtocol, Reply};
use crate::internet::lent_protocol::TakenBack;
use crate::internet::selector::Ready;
use crate::internet::selector::{RingLink, SelectorLend};
use crate::sys;

/// How many queued buffers one write hands to the socket (one `writev`),
/// as many as the default `inbox` holds.
const WRITE_BATCH: usize = 64;

/// Queued chunks smaller than this are copied together and written as one
/// buffer. The kernel's work per buffer of a `writev` costs more than
/// copying a small one: a chat's burst of 65-byte lines, 50 to 60 to a
/// `writev`, spent a sixth of the server's time in the kernel's copy from
/// the buffers, against a fiftieth for tokio's chat, which copies its lines
/// into one buffer (`BufWriter`) first.
const GATHER_BELOW: usize = 1024;

/// The most one write gathers (see [`GATHER_BELOW`]).
const GATHER_MAX: usize = 64 * 1024;

/// The most of its capacity the thread's answer buffer keeps between
/// answers: one protocol's large answer must not hold memory for good.
const OUT_KEPT: usize = 64 * 1024;

thread_local! {
    /// The buffer every adapter on this thread reads into. A read's bytes are
    /// copied out into a chunk of their own size (or given to an inline
    /// protocol as they are), so an idle connection holds no read buffer at
    /// all (ten thousand idle connections used to hold, and zero, 32 KiB
    /// each).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The buffer an inline protocol's answer to one read is gathered in,
    /// and written from; and small queued chunks, gathered to be written as
    /// one (never both at once: an answer is written, or queued, before
    /// the call that made it returns).
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Who is given what the adapter reads.
pub(super) enum Handler {
    /// Whoever is linked to `outbox` (a component handler).
    Linked,
    /// An inline protocol, called with each chunk read; it may queue at most
    /// `limit` chunks before the adapter stops reading.
    Inline {
        protocol: Box<dyn InlineProtocol>,
        limit: usize,
    },
    /// An inline protocol lent to the ring or the Selector while the
    /// adapter sleeps (see [`Connection::lend_protocol`]); taken back at
    /// its next turn.
    Lent { limit: usize },
    /// An inline protocol that has finished (or heard that the peer
    /// closed): what is read now is dropped.
    InlineDone,
}

/// The socket and what is in flight on it.
pub(super) struct Connection {
    pub(super) socket: Rc<TcpStream>,
    read_size: usize,
    handler: Handler,
    /// Taken from `inbox`, not yet (fully) written.
    pending: VecDeque<Bytes>,
    /// Received but refused by the full consumer: sent before reading more.
    pub(super) stash: Option<Bytes>,
    /// Reading may find data (a notice came, and no read has come up short
    /// since).
    pub(super) can_read: bool,
    /// The socket may take more (no write has been refused since the last
    /// notice).
    pub(super) can_write: bool,
    /// The peer has closed its side (a read returned 0, or came up short
    /// after a notice said the peer had closed).
    pub(super) eof: bool,
    /// A notice taken said the peer had closed its side: nothing will follow
    /// what is in the socket, so a short read is the end of the input.
    peer_closed: bool,
    /// The Selector has been asked to say when the socket is writable.
    watching_writes: bool,
    /// The thread's io_uring, if the connection reads and writes through it
    /// instead of being told by the Selector when the socket is ready.
    ring: Option<RingLink>,
    /// Where an inline protocol is lent on epoll (on the ring, the ring).
    selector_lend: Option<SelectorLend>,
}

impl Connection {
    /// A connection on `socket`, assumed readable and writable until the
    /// socket says otherwise; reading and writing through the thread's
    /// io_uring if given a place on it.
    pub(super) fn new(
        socket: Rc<TcpStream>,
        read_size: usize,
        handler: Handler,
        ring: Option<RingLink>,
        selector_lend: Option<SelectorLend>,
    ) -> Self {
        Connection {
            socket,
            read_size,
            handler,
            pending: VecDeque::new(),
            stash: None,
            can_read: true,
            can_write: true,
            eof: false,
            peer_closed: false,
            watching_writes: false,
            ring,
            selector_lend,
        }
    }

    /// Whether it reads and writes through the ring.
    pub(super) fn on_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// At the start of a turn: a protocol lent comes back, with what its
    /// answers queued meanwhile (sent before anything else), or the error
    /// that ended the connection meanwhile. Through the ring, a send is
    /// always worth asking for: the ring takes it unless one is in flight;
    /// if one is, the refusal asks that its completion wake the adapter.
    #[inline]
    pub(super) fn turn_start(&mut self) -> io::Result<()> {
        self.can_write |= self.on_ring();
        match self.handler {
            Handler::Lent { limit } => self.take_back(limit),
            _ => Ok(()),
        }
    }

    /// Takes back the protocol lent (see [`turn_start`](Self::turn_start)).
    fn take_back(&mut self, limit: usize) -> io::Result<()> {
        let taken = match (&self.ring, &self.selector_lend) {
            (Some(link), _) => link.take_back(),
            (None, Some(lend)) => lend.take_back(&self.socket),
            (None, None) => TakenBack::default(),
        };
        self.handler = match taken.protocol {
            Some(protocol) => Handler::Inline { protocol, limit },
            None => Handler::InlineDone,
        };
        self.pending.extend(taken.queued);
        taken.error.map_or(Ok(()), Err)
    }

    /// At the end of a turn, with nothing to do: an inline protocol with
    /// nothing queued is lent to what sees the connection's bytes arrive
    /// (the ring, or the Selector), which answers what comes with it as it
    /// comes, without resuming the adapter: an echo's round trip then costs
    /// the adapter no turn. (`adapter` is asked for the adapter's handle if
    /// the Selector needs it.) It comes back at the next turn's start.
    #[inline]
    pub(super) fn lend_protocol(
        &mut self,
        inbox: &Inbox<Bytes>,
        adapter: impl FnOnce() -> ComponentRef,
    ) {
        // A component handler's adapter (the most turns) learns it has
        // nothing to lend from the first test.
        let Handler::Inline { limit, .. } = self.handler else {
            return;
        };
        if !self.pending.is_empty() || self.eof || inbox.data_ready() {
            return;
        }
        let Handler::Inline { protocol, .. } =
            std::mem::replace(&mut self.handler, Handler::Lent { limit })
        else {
            return;
        };
        let lent = match (&self.ring, &self.selector_lend) {
            (Some(link), _) => link.lend(protocol),
            (None, Some(lend)) => lend.lend(&self.socket, adapter, self.read_size, protocol),
            (None, None) => Err(protocol),
        };
        if let Err(protocol) = lent {
            self.handler = Handler::Inline { protocol, limit };
        }
    }

    /// The peer has closed its side, and everything it sent has been passed
    /// on.
    pub(super) fn peer_done(&self) -> bool {
        self.eof && self.stash.is_none()
    }

    /// Whether the Selector should be asked to start (`Some(true)`) or stop
    /// (`Some(false)`) saying when the socket is writable: it is watched only
    /// while the socket has refused output, as most connections never fill
    /// their socket and need no such notices.
    pub(super) fn write_watch_change(&mut self, inbox: &Inbox<Bytes>) -> Option<bool> {
        if self.on_ring() {
            return None;
        }
        let blocked = !self.can_write && self.has_output(inbox);
        if blocked == self.watching_writes {
            return None;
        }
        self.watching_writes = blocked;
        Some(blocked)
    }

    /// True if an inline protocol has finished (or been told the peer
    /// closed): the connection is to send what is queued and close.
    pub(super) fn inline_done(&self) -> bool {
        matches!(self.handler, Handler::InlineDone)
    }

    /// The peer's end of data has been reached: an inline protocol hears of
    /// it (once) and sends its last.
    pub(super) fn on_peer_done(&mut self) -> io::Result<()> {
        self.answer(|protocol, reply| protocol.on_peer_closed(reply))?;
        self.finish_inline();
        Ok(())
    }

    /// Calls the inline protocol (if it is still running) through a
    /// [`Reply`], then writes its answer at once if nothing is queued before
    /// it and the socket takes it; what the socket does not take is queued.
    fn answer(
        &mut self,
        call: impl FnOnce(&mut dyn InlineProtocol, &mut Reply<'_>),
    ) -> io::Result<()> {
        let (mut protocol, limit) = match std::mem::replace(&mut self.handler, Handler::InlineDone)
        {
            Handler::Inline { protocol, limit } => (protocol, limit),
            other => {
                self.handler = other;
                return Ok(());
            }
        };
        let finished = OUT.with(|out| {
            let mut out = out.borrow_mut();
            let called = inline_protocol::answer(&mut *protocol, &mut out, &mut self.pending, call);
            let written = called.and_then(|finished| self.write_out(&out).map(|()| finished));
            out.clear();
            if out.capacity() > OUT_KEPT {
                *out = Vec::new();
            }
            written
        })?;
        if !finished {
            self.handler = Handler::Inline { protocol, limit };
        }
        Ok(())
    }

    /// Writes `out` if nothing is queued before it and the socket will take
    /// it (the usual case: one system call, no allocation); queues what it
    /// does not take.
    fn write_out(&mut self, out: &[u8]) -> io::Result<()> {
        let mut sent = 0;
        if self.pending.is_empty() {
            while sent < out.len() && self.can_write {
                let slice = [IoSlice::new(&out[sent..])];
                sent += send(
                    &self.socket,
                    self.ring.as_ref(),
                    &slice,
                    &mut self.can_write,
                )?;
            }
        }
        if sent < out.len() {
            self.pending.push_back(Bytes::copy_from_slice(&out[sent..]));
        }
        Ok(())
    }

    /// Ends an inline protocol without telling it: the connection is
    /// finishing, and what is read from now on is dropped.
    pub(super) fn finish_inline(&mut self) {
        if let Handler::Inline { .. } = self.handler {
            self.handler = Handler::InlineDone;
        }
    }

    /// True while an inline protocol has queued as much as it may: reading
    /// waits until some of it is written.
    fn inline_full(&self) -> bool {
        matches!(self.handler, Handler::Inline { limit, .. } if self.pending.len() >= limit)
    }

    /// True if there is something to do now without a new notice: data to
    /// read (and room for it), or output the socket will take. (A send the
    /// ring has in flight is not work: there is nothing to do until it
    /// completes, and only if the adapter waits for it is it woken then.)
    ///
    /// A notice in `notices` counts as data to read: one that came while
    /// there was no room was left there (see [`receive`](Self::receive)),
    /// and the Selector says nothing more of the socket until it is taken;
    /// a write later in the turn may have made room since.
    pub(super) fn has_work(&self, inbox: &Inbox<Bytes>, notices: &Inbox<Ready>) -> bool {
        let can_read = (self.can_read || notices.data_ready())
            && !self.eof
            && self.stash.is_none()
            && !self.inline_full();
        let to_write = !self.pending.is_empty() || inbox.data_ready();
        can_read || (self.can_write && to_write)
    }

    /// True if there is anything to write, here or queued in `inbox`, or
    /// still being sent by the ring (whose completion then wakes the
    /// adapter).
    pub(super) fn has_output(&self, inbox: &Inbox<Bytes>) -> bool {
        !self.pending.is_empty() || inbox.data_ready() || self.ring_sending()
    }

    /// True while the ring has a send of this connection's in flight: what
    /// it was given is not yet in the socket. The adapter is waiting for it:
    /// its completion wakes the adapter.
    fn ring_sending(&self) -> bool {
        self.ring.as_ref().is_some_and(RingLink::wait_for_send)
    }

    /// Writes what is pending and queued until done or the socket is full.
    pub(super) fn flush(&mut self, inbox: &Inbox<Bytes>) -> io::Result<()> {
        loop {
            if self.pending.len() < WRITE_BATCH {
                match inbox.len() {
                    0 => {}
                    // The usual case for a request and its reply: a drain
                    // would leave the inbox a new, empty queue, to allocate
                    // again at the next message.
                    1 => self.pending.extend(inbox.recv().filter(|d| !d.is_empty())),
                    // A burst (a chat's lines) is taken at once, one
                    // collection for the batch rather than one per message,
                    // and moved in one go (a swap when nothing is pending:
                    // pushing each chunk cost a chat 51 instructions per
                    // line). The inbox's size limit bounds it. Empty chunks
                    // come along, to be dropped when gathered.
                    _ => inbox.drain().append_to(&mut self.pending),
                }
            }
            if self.pending.is_empty() {
                return Ok(());
            }
            let written = match self.pending.as_slices() {
                // One buffer, the usual case for a request and its reply:
                // no array of slices to fill (64 of them cost more than the
                // rest of this function).
                ([one], []) | ([], [one]) if !one.is_empty() => {
                    send_one(&self.socket, self.ring.as_ref(), one, &mut self.can_write)?
                }
                _ => match self.write_batch()? {
                    Some(written) => written,
                    None => continue,
                },
            };
            if !self.can_write {
                return Ok(());
            }
            self.consume(written);
        }
    }

    /// Writes the front of what is pending in one `writev`: each large
    /// chunk from where it is, each run of small ones copied together into
    /// one buffer (see [`GATHER_BELOW`]); at most [`WRITE_BATCH`] buffers,
    /// and [`GATHER_MAX`] bytes copied. How many bytes the socket took, or
    /// `None` if the chunks were all empty (dropped: a send of nothing would
    /// read as the peer's end).
    fn write_batch(&mut self) -> io::Result<Option<usize>> {
        /// One buffer of the write: a run of the gathered bytes, or a
        /// pending chunk as it is (by its place in the queue).
        #[derive(Clone, Copy)]
        enum Part {
            Gathered { from: usize, to: usize },
            Chunk(usize),
        }
        OUT.with(|out| {
            let mut out = out.borrow_mut();
            let mut parts = [Part::Chunk(0); WRITE_BATCH];
            let mut count = 0;
            let mut chunks = 0;
            // The run of small chunks being gathered: its part, and where
            // it starts in `out`.
            let mut run: Option<(usize, usize)> = None;
            for chunk in &self.pending {
                if chunk.len() < GATHER_BELOW {
                    if out.len() + chunk.len() > GATHER_MAX {
                        break;
                    }
                    if run.is_none() && !chunk.is_empty() {
                        if count == WRITE_BATCH {
                            break;
                        }
                        run = Some((count, out.len()));
                        count += 1;
                    }
                    out.extend_from_slice(chunk);
                } else {
                    if count == WRITE_BATCH {
                        break;
                    }
                    if let Some((part, from)) = run.take() {
                        parts[part] = Part::Gathered {
                            from,
                            to: out.len(),
                        };
                    }
                    parts[count] = Part::Chunk(chunks);
                    count += 1;
                }
                chunks += 1;
            }
            if let Some((part, from)) = run {
                parts[part] = Part::Gathered {
                    from,
                    to: out.len(),
                };
            }
            let mut slices = [IoSlice::new(&[]); WRITE_BATCH];
            for (slice, part) in slices.iter_mut().zip(&parts[..count]) {
                *slice = match *part {
                    Part::Gathered { from, to } => IoSlice::new(&out[from..to]),
                    Part::Chunk(at) => IoSlice::new(&self.pending[at]),
                };
            }
            let written = if count == 0 {
                self.pending.drain(..chunks);
                None
            } else {
                Some(send(
                    &self.socket,
                    self.ring.as_ref(),
                    &slices[..count],
                    &mut self.can_write,
                ))
            };
            out.clear();
            written.transpose()
        })
    }

    /// Drops from the front of what is pending the `written` bytes the
    /// socket took (never more than it was given): the chunks it took whole,
    /// in one go, then the start of the next.
    fn consume(&mut self, mut written: usize) {
        let mut whole = 0;
        for data in &self.pending {
            if data.len() > written {
                break;
            }
            written -= data.len();
            whole += 1;
        }
        match whole {
            0 => {}
            1 => drop(self.pending.pop_front()),
            _ => drop(self.pending.drain(..whole)),
        }
        if written > 0 {
            if let Some(front) = self.pending.front_mut() {
                front.advance(written);
            }
        }
    }

    /// Reads until the socket has nothing more (or the consumer is full),
    /// giving each chunk to the handler: sent out of `outbox`, or to the
    /// inline protocol (until it has queued as much as it may). With
    /// `drop_when_full`, a chunk the consumer has no room for is dropped and
    /// reading goes on: the connection is lingering, its handler finished,
    /// and the peer is only being let to finish sending and see the close.
    ///
    /// The Selector's notice is taken only here, when the adapter is about to
    /// read: while the consumer is full, or after the end of the input, it
    /// stays in `notices`, and the Selector stops reporting the socket.
    pub(super) fn receive(
        &mut self,
        notices: &Inbox<Ready>,
        outbox: &Outbox<Bytes>,
        drop_when_full: bool,
    ) -> io::Result<()> {
        if let Some(chunk) = self.stash.take() {
            if let Err(full) = outbox.try_send(chunk) {
                if !drop_when_full {
                    self.stash = Some(full.into_inner());
                    return Ok(());
                }
            }
        }
        if self.eof || self.inline_full() {
            return Ok(());
        }
        if self.ring.is_some() {
            return self.receive_from_ring(outbox, drop_when_full);
        }
        // One notice at most is out for this socket; dropping it (here, at
        // once) lets the Selector watch the socket again if it had muted it.
        // What it says of the peer holds for good: a peer cannot reopen.
        if let Some(notice) = notices.recv() {
            self.can_read = true;
            self.peer_closed |= notice.peer_closed();
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            if scratch.len() < self.read_size {
                scratch.resize(self.read_size, 0);
            }
            while self.can_read {
                let read = sys::recv(&self.socket, &mut scratch[..self.read_size]);
                #[cfg(test)]
                counted::read(&read);
                match read {
                    Ok(0) => {
                        self.eof = true;
                        self.can_read = false;
                    }
                    Ok(n) => {
                        // A short read has emptied the socket. The Selector
                        // is level-triggered, so more data, or a FIN that
                        // came with this data, is reported at its next wait:
                        // no read that would only find `WouldBlock`.
                        if n < self.read_size {
                            self.can_read = false;
                            // Unless the FIN had come before the notice: then
                            // nothing can follow, and this is the end, without
                            // a read (a poll cycle later) to find the 0. Only a
                            // short read: a full one may have left more.
                            self.eof = self.peer_closed;
                        }
                        if !self.take(&scratch[..n], outbox, drop_when_full)? {
                            return Ok(());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.can_read = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }

    /// [`receive`](Self::receive) through the ring: takes what a receive
    /// brought, then receives again if there is room for more.
    fn receive_from_ring(
        &mut self,
        outbox: &Outbox<Bytes>,
        drop_when_full: bool,
    ) -> io::Result<()> {
        // Completions wake the adapter: there is never a read to try.
        self.can_read = false;
        // What came, in order, while there is room for it.
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            while self.stash.is_none() && !self.inline_full() {
                let Some((n, more)) =
                    (self.ring.as_ref()).and_then(|link| link.take_received(&mut scratch))
                else {
                    break;
                };
                self.take(&scratch[..n], outbox, drop_when_full)?;
                if !more {
                    break;
                }
            }
            io::Result::Ok(())
        })?;
        let room = self.stash.is_none() && !self.inline_full();
        if let Some(link) = &self.ring {
            if link.receive_on(&self.socket, self.read_size, room)? {
                self.eof = true;
            } else if !room {
                // To receive again in the turn after there is room: nothing
                // else would wake the adapter then (the send that makes room
                // wakes it only if more output waits for it).
                self.can_read = true;
            }
        }
        Ok(())
    }

    /// Gives the bytes of one read to the handler. False if reading is to
    /// stop for now: the consumer is full, or the inline protocol has
    /// queued as much as it may.
    // Inlined into the read loop whatever codegen unit each lands in: left
    // to the partitioning, an unrelated change once moved it out, 120
    // instructions more per echo round trip (callgrind).
    #[inline]
    fn take(
        &mut self,
        data: &[u8],
        outbox: &Outbox<Bytes>,
        drop_when_full: bool,
    ) -> io::Result<bool> {
        match &self.handler {
            Handler::Linked => {
                if let Err(full) = outbox.try_send(Bytes::copy_from_slice(data)) {
                    if !drop_when_full {
                        self.stash = Some(full.into_inner());
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Handler::Inline { .. } => {
                self.answer(|protocol, reply| protocol.on_data(data, reply))?;
                // Read on once some of it is written.
                Ok(!self.inline_full())
            }
            // It has finished: what comes now only lets the peer finish
            // sending and see the close. (Never lent here: it comes back
            // at the start of each turn.)
            Handler::InlineDone | Handler::Lent { .. } => Ok(true),
        }
    }
}

/// Sends `slices` on `socket`, again if interrupted, and returns how many
/// bytes it took: none once it is full, which clears `can_write` (until the
/// Selector says it is writable again). Through the ring, the ring takes
/// them all, or none while a send is in flight.
fn send(
    socket: &Rc<TcpStream>,
    ring: Option<&RingLink>,
    slices: &[IoSlice<'_>],
    can_write: &mut bool,
) -> io::Result<usize> {
    #[cfg(test)]
    counted::write(slices.len());
    if let Some(link) = ring {
        if link.send(socket, slices) {
            return Ok(slices.iter().map(|s| s.len()).sum());
        }
        *can_write = false;
        return Ok(0);
    }
    let sent = sys::send_now(&**socket, slices)?;
    if sent == 0 {
        *can_write = false;
    }
    Ok(sent)
}

/// Sends one chunk, as [`send`] does; through the ring, a large one is
/// sent as it is (held until sent: the chunk is cloned, which on epoll's
/// path would cost an allocation per write for nothing) rather than copied.
fn send_one(
    socket: &Rc<TcpStream>,
    ring: Option<&RingLink>,
    one: &Bytes,
    can_write: &mut bool,
) -> io::Result<usize> {
    if let Some(link) = ring.filter(|_| one.len() >= GATHER_BELOW) {
        #[cfg(test)]
        counted::write(1);
        let len = one.len();
        if link.send_bytes(socket, one.clone()) {
            return Ok(len);
        }
        *can_write = false;
        return Ok(0);
    }
    send(socket, ring, &[IoSlice::new(one)], can_write)
}

/// How many reads this thread's adapters have made, by outcome: what the
/// tests count to see that no read is wasted.
#[cfg(test)]
pub(super) mod counted {
    use std::cell::Cell;
    use std::io;

    /// Reads made, by what they returned.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(in crate::internet::csa) struct Reads {
        /// Returned bytes.
        pub(in crate::internet::csa) data: u64,
        /// Returned 0: the end of the input.
        pub(in crate::internet::csa) zero: u64,
        /// Failed (`WouldBlock`, or an error).
        pub(in crate::internet::csa) failed: u64,
    }

    /// Writes made: system calls, and the buffers handed to them.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(in crate::internet::csa) struct Writes {
        pub(in crate::internet::csa) calls: u64,
        pub(in crate::internet::csa) buffers: u64,
    }

    thread_local! {
        static READS: Cell<Reads> = Cell::new(Reads::default());
        static WRITES: Cell<Writes> = Cell::new(Writes::default());
    }

    pub(super) fn read(read: &io::Result<usize>) {
        READS.with(|reads| {
            let mut r = reads.get();
            match read {
                Ok(0) => r.zero += 1,
                Ok(_) => r.data += 1,
                Err(_) => r.failed += 1,
            }
            reads.set(r);
        });
    }

    pub(super) fn write(buffers: usize) {
        WRITES.with(|writes| {
            let mut w = writes.get();
            w.calls += 1;
            w.buffers += buffers as u64;
            writes.set(w);
        });
    }

    /// The reads made on this thread so far.
    pub(in crate::internet::csa) fn reads() -> Reads {
        READS.with(Cell::get)
    }

    /// The writes made on this thread so far.
    pub(in crate::internet::csa) fn writes() -> Writes {
        WRITES.with(Cell::get)
    }
}
