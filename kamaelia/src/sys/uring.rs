//! [`Ring`]: an io_uring for one scheduler thread (the `io-uring` feature).
//!
//! The connections' reads and writes go through it as operations whose
//! completions come back in one batch, and the scheduler's idle wait is one
//! `io_uring_enter` that submits a cycle's operations and waits for their
//! completions: a round trip costs no system call of its own.
//!
//! The ring is made single issuer, with its completions' task work deferred
//! to that wait (`DEFER_TASKRUN`): a completion interrupts nothing, and a
//! batch of them is run at once, when the thread asks.
//!
//! Everything here is safe to call. What the kernel reads or writes after a
//! submission outlives it here, not in the caller:
//!
//! * a send's bytes are copied into a buffer the ring owns (from a pool) or
//!   held as [`Bytes`] until the send's completion;
//! * a receive draws a buffer from a ring of buffers the ring provides to the
//!   kernel; the bytes are lent to the caller during [`Ring::complete`] only,
//!   then the buffer is provided again;
//! * every operation holds its socket (an `Rc`) until its completion, so the
//!   descriptor it names cannot be closed and reused for another socket
//!   while the kernel may still act on it.
//!
//! A socket may be [registered](Ring::register) in the ring's table of
//! files: its operations then name it by its slot there, which spares the
//! kernel a descriptor lookup and a reference counted at each operation
//! (`fget` and `fput` were 1.7% of an echo server's time at 1,000
//! connections).
//!
//! This module is the crate's `unsafe` code for io_uring: each block says
//! what it relies on.
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use bytes::Bytes;
use io_uring::types::{BufRingEntry, Fd, Fixed, SubmitArgs, Timespec};
use io_uring::{cqueue, opcode, squeue, IoUring};
use slab::Slab;

/// Bytes per provided buffer: the most one receive takes.
pub(crate) const BUFFER: usize = 4 * 1024;
/// How many buffers the ring provides (a power of two). A receive holds one
/// from its completion until its connection takes the bytes, so this bounds
/// the receives completed in one batch, not the connections. The kernel
/// takes them in turn, so all of them are soon resident: 4 MiB.
const BUFFERS: u16 = 1024;
/// The provided buffers' group.
const GROUP: u16 = 0;
/// The `user_data` of a cancel, whose completion says nothing needed.
const CANCEL: u64 = u64::MAX;
/// The submission queue's size; the completion queue is twice as large.
const ENTRIES: u32 = 4096;
/// Send buffers kept for reuse, and the largest kept.
const POOL: usize = 256;
const POOL_KEEP: usize = 64 * 1024;
/// The most slots of the table of registered files (the kernel allows no
/// more than the descriptor limit, `RLIMIT_NOFILE`): 512 KiB of the
/// kernel's memory at most, 8 bytes a slot.
const FILES: u32 = 1 << 16;
/// What a slot of the table is set to to empty it: no file. A static, so
/// that it outlives the operation that reads it.
static NO_FILE: RawFd = -1;
/// An operation's socket has no slot in the table: it is named by its
/// descriptor.
const NO_SLOT: u32 = u32::MAX;

/// What an operation was, for its completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Recv,
    /// Its payload: a slot of [`Ring::sends`].
    Send(u32),
    Poll,
    /// The emptying of this slot of the table of files: free once done.
    Unregister(u32),
}

/// A caller's key as an operation keeps it: keys are `u32`s.
fn op_key(key: usize) -> u32 {
    debug_assert!(key <= u32::MAX as usize, "a ring key past u32::MAX");
    key as u32
}

/// What a send keeps alive until its completion.
#[derive(Debug)]
enum Payload {
    /// Copied into a buffer of the pool.
    Copied(Vec<u8>),
    Bytes(Bytes),
}

impl Payload {
    fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Copied(v) => v,
            Payload::Bytes(b) => b,
        }
    }
}

/// One operation in flight: 24 bytes (an idle connection's receive is one
/// of these, so every byte counts; a send's payload is kept apart).
#[derive(Debug)]
struct Op {
    /// Whose it is: given back with its completion. (The callers' keys are
    /// below `u32::MAX`.)
    key: u32,
    /// The socket's slot in the table of files, or [`NO_SLOT`].
    slot: u32,
    kind: Kind,
    /// Held until the completion: its descriptor stays open.
    socket: Option<Rc<TcpStream>>,
}

// An idle connection's receive is one of these: its size is watched.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Op>() == 24);

/// A send's bytes, and how much of them has been sent (a short send goes on
/// from there, in a new operation under the same entry).
#[derive(Debug)]
struct Sending {
    payload: Payload,
    sent: usize,
}

/// A receive's bytes, in a provided buffer lent to whoever holds this until
/// it is given to [`Ring::take_received`] or [`Ring::give_back`] (which
/// provide the buffer to the kernel again).
#[derive(Debug)]
pub(crate) struct Received {
    id: u16,
    len: u32,
}

impl Received {
    /// How many bytes were received.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }
}

/// A socket's slot in the ring's table of registered files
/// ([`Ring::register`]), until it is given to [`Ring::unregister`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileSlot(u32);

/// The slots of the table of registered files: which are free.
#[derive(Debug, Default)]
struct Files {
    /// How many slots the table has (0: the kernel gave none).
    size: u32,
    /// Slots below this have been used.
    next: u32,
    free: Vec<u32>,
}

impl Files {
    fn take(&mut self) -> Option<u32> {
        self.free.pop().or_else(|| {
            (self.next < self.size).then(|| {
                self.next += 1;
                self.next - 1
            })
        })
    }
}

/// How an operation ended, as [`Ring::complete`] tells it.
#[derive(Debug)]
pub(crate) enum Done {
    /// A receive: its bytes (`None` at the end of the input), or its error
    /// (`ENOBUFS`: no provided buffer was free; `ECANCELED`: cancelled),
    /// and whether it goes on receiving.
    Recv(io::Result<Option<Received>>, bool),
    /// A send: everything was sent, or the error that stopped it.
    Send(io::Result<()>),
    /// A poll: the descriptor is ready.
    Poll(io::Result<()>),
}

/// The provided buffers, and the ring that lends them to the kernel.
struct Buffers {
    ring: *mut BufRingEntry,
    layout: std::alloc::Layout,
    /// The buffers' memory, which the kernel writes into: reached only
    /// through `base`.
    _memory: Box<[u8]>,
    base: *mut u8,
    tail: u16,
}

impl Buffers {
    fn new() -> io::Result<Buffers> {
        let layout = std::alloc::Layout::from_size_align(
            usize::from(BUFFERS) * std::mem::size_of::<BufRingEntry>(),
            4096,
        )
        .map_err(io::Error::other)?;
        // SAFETY: the layout's size is not zero.
        let ring = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<BufRingEntry>();
        if ring.is_null() {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        let mut memory = vec![0; usize::from(BUFFERS) * BUFFER].into_boxed_slice();
        let base = memory.as_mut_ptr();
        Ok(Buffers {
            ring,
            layout,
            _memory: memory,
            base,
            tail: 0,
        })
    }

    fn at(&self, id: u16) -> *mut u8 {
        self.base.wrapping_add(usize::from(id) * BUFFER)
    }

    /// Provides buffer `id` to the kernel again (seen after [`Self::publish`]).
    fn give(&mut self, id: u16) {
        // SAFETY: the index is masked into the ring's `BUFFERS` entries; the
        // kernel reads entries only up to the published tail, which this one
        // is past until `publish`.
        let entry = unsafe { &mut *self.ring.add(usize::from(self.tail & (BUFFERS - 1))) };
        entry.set_addr(self.at(id) as u64);
        entry.set_len(BUFFER as u32);
        entry.set_bid(id);
        self.tail = self.tail.wrapping_add(1);
    }

    fn publish(&self) {
        // SAFETY: the tail is the u16 the kernel reads in the ring's first
        // entry; the release store publishes the entries written before it.
        unsafe {
            (*BufRingEntry::tail(self.ring).cast::<AtomicU16>()).store(self.tail, Ordering::Release)
        };
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, and the ring that
        // lent it to the kernel is closed first (see `Ring`'s fields).
        unsafe { std::alloc::dealloc(self.ring.cast(), self.layout) };
    }
}

/// Builds an operation's entry with `$build`, its socket named as `$op`
/// names it: by its slot in the table of files, or by its descriptor (two
/// types, which the `io-uring` crate's builders take alike).
macro_rules! on_socket {
    ($op:expr, |$target:ident| $build:expr) => {
        match ($op.slot, &$op.socket) {
            (NO_SLOT, socket) => {
                let $target = Fd(socket.as_ref().map_or(-1, |s| s.as_raw_fd()));
                $build
            }
            (slot, _) => {
                let $target = Fixed(slot);
                $build
            }
        }
    };
}

/// The process's limit on open descriptors (`RLIMIT_NOFILE`'s soft limit),
/// which also bounds a table of registered files.
fn descriptor_limit() -> u32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes the limit into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    u32::try_from(limit.rlim_cur).unwrap_or(u32::MAX)
}

/// An io_uring with provided buffers for receives, for one thread.
pub(crate) struct Ring {
    // Dropped in this order: the ring is closed (the kernel done with every
    // buffer and payload) before they are freed.
    ring: IoUring<squeue::Entry>,
    /// The operations in flight, by `user_data`.
    ops: Slab<Op>,
    /// The sends' payloads.
    sends: Slab<Sending>,
    buffers: Buffers,
    /// Entries that found the submission queue full: pushed first at the
    /// next wait.
    waiting: VecDeque<squeue::Entry>,
    /// Send buffers to reuse.
    pool: Vec<Vec<u8>>,
    /// Completions taken from the queue, reused.
    taken: Vec<(u64, i32, u32)>,
    files: Files,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("in_flight", &self.ops.len())
            .finish_non_exhaustive()
    }
}

impl Ring {
    /// A ring for the calling thread (the only one that may use it), or the
    /// kernel's reason for refusing one (an old kernel, a container's
    /// seccomp policy, a locked-memory limit).
    pub(crate) fn new() -> io::Result<Ring> {
        let mut buffers = Buffers::new()?;
        let ring: IoUring<squeue::Entry> = IoUring::builder()
            .setup_single_issuer()
            .setup_coop_taskrun()
            .setup_defer_taskrun()
            .build(ENTRIES)?;
        // SAFETY: the buffers' ring outlives the ring (fields' order), and
        // is `BUFFERS` entries, page aligned.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                buffers.ring as u64,
                BUFFERS,
                GROUP,
                0,
            )?;
        }
        for id in 0..BUFFERS {
            buffers.give(id);
        }
        buffers.publish();
        // A table as large as the descriptor limit allows, or none (then
        // every socket is named by its descriptor).
        let size = descriptor_limit().min(FILES);
        let files = match ring.submitter().register_files_sparse(size) {
            Ok(()) => Files {
                size,
                ..Files::default()
            },
            Err(e) => {
                tracing::debug!(target: "kamaelia::selector", error = %e, "no table of registered files");
                Files::default()
            }
        };
        Ok(Ring {
            ring,
            ops: Slab::new(),
            sends: Slab::new(),
            buffers,
            waiting: VecDeque::new(),
            pool: Vec::new(),
            taken: Vec::new(),
            files,
        })
    }

    /// Puts `socket` in a slot of the ring's table of files, so that the
    /// operations asked with the slot name it there. `None` if the table is
    /// full (or the kernel gave none, or refused): operations asked without
    /// a slot name the socket by its descriptor, as well.
    ///
    /// The table holds the socket's file open until the slot is given to
    /// [`unregister`](Self::unregister).
    pub(crate) fn register(&mut self, socket: &TcpStream) -> Option<FileSlot> {
        let slot = self.files.take()?;
        match self
            .ring
            .submitter()
            .register_files_update(slot, &[socket.as_raw_fd()])
        {
            Ok(1) => Some(FileSlot(slot)),
            result => {
                tracing::debug!(target: "kamaelia::selector", ?result, "a socket not registered");
                self.files.free.push(slot);
                None
            }
        }
    }

    /// Empties `slot` at the next wait, letting its file go (operations
    /// already asked keep it until they end); the slot is used again once
    /// the kernel has emptied it.
    pub(crate) fn unregister(&mut self, slot: FileSlot) {
        let at = self.ops.insert(Op {
            key: 0,
            slot: NO_SLOT,
            kind: Kind::Unregister(slot.0),
            socket: None,
        });
        let entry = opcode::FilesUpdate::new(&NO_FILE, 1)
            .offset(slot.0 as i32)
            .build()
            .user_data(at as u64);
        self.push(entry);
    }

    /// Operations in flight.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.ops.len()
    }

    /// Slots of the table of files in use (or being emptied).
    #[cfg(test)]
    pub(crate) fn registered(&self) -> usize {
        (self.files.next as usize) - self.files.free.len()
    }

    fn push(&mut self, entry: squeue::Entry) {
        // SAFETY: what the entry points at (a provided buffer, a payload
        // held in its `Op`, a socket held there) lives until its completion.
        if !self.waiting.is_empty() || unsafe { self.ring.submission().push(&entry) }.is_err() {
            self.waiting.push_back(entry);
        }
    }

    /// Receives from `socket`, each time bytes come, at most `most` (and at
    /// most [`BUFFER`]) at a time, each into a provided buffer, until
    /// [`cancel`](Self::cancel)led or ended (the end of the input, an error,
    /// no free buffer): the completions come back under `key`, the last
    /// saying it was the last. Its id, to cancel it. `slot` is the socket's
    /// in the table of files, if it has one.
    pub(crate) fn recv(
        &mut self,
        socket: &Rc<TcpStream>,
        slot: Option<FileSlot>,
        most: usize,
        key: usize,
    ) -> usize {
        let op = Op {
            key: op_key(key),
            slot: slot.map_or(NO_SLOT, |s| s.0),
            kind: Kind::Recv,
            socket: Some(Rc::clone(socket)),
        };
        let len = most.clamp(1, BUFFER) as u32;
        let entry = on_socket!(op, |target| opcode::RecvMulti::new(target, GROUP)
            .len(len)
            .build());
        let at = self.ops.insert(op);
        self.push(entry.user_data(at as u64));
        at
    }

    /// Asks the kernel to end the receive `recv` (returned by
    /// [`recv`](Self::recv), and not yet ended): its last completion comes
    /// as usual.
    pub(crate) fn cancel(&mut self, recv: usize) {
        if self.ops.get(recv).is_some_and(|op| op.kind == Kind::Recv) {
            let entry = opcode::AsyncCancel::new(recv as u64)
                .build()
                .user_data(CANCEL);
            self.push(entry);
        }
    }

    /// Sends `slices` on `socket` (in `slot` of the table of files, if it
    /// has one), copied into a buffer of the ring's; the completion (all
    /// sent, or the error) comes back under `key`.
    pub(crate) fn send_copy(
        &mut self,
        socket: &Rc<TcpStream>,
        slot: Option<FileSlot>,
        slices: &[IoSlice<'_>],
        key: usize,
    ) {
        let mut copy = self.send_buffer();
        for slice in slices {
            copy.extend_from_slice(slice);
        }
        self.send_vec(socket, slot, copy, key);
    }

    /// An empty buffer to gather a send in, for [`send_vec`](Self::send_vec)
    /// (or [`recycle`](Self::recycle), if nothing is to be sent after all):
    /// one the ring has sent from before, if it kept one.
    pub(crate) fn send_buffer(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_default()
    }

    /// Keeps `buffer` (emptied) for a later send, unless enough are kept.
    pub(crate) fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.pool.len() < POOL && buffer.capacity() <= POOL_KEEP {
            buffer.clear();
            self.pool.push(buffer);
        }
    }

    /// Sends `buffer` on `socket`, kept for another send once sent.
    pub(crate) fn send_vec(
        &mut self,
        socket: &Rc<TcpStream>,
        slot: Option<FileSlot>,
        buffer: Vec<u8>,
        key: usize,
    ) {
        self.send_payload(socket, slot, Payload::Copied(buffer), key);
    }

    /// Sends `bytes` on `socket` as they are, held until the completion.
    pub(crate) fn send_bytes(
        &mut self,
        socket: &Rc<TcpStream>,
        slot: Option<FileSlot>,
        bytes: Bytes,
        key: usize,
    ) {
        self.send_payload(socket, slot, Payload::Bytes(bytes), key);
    }

    fn send_payload(
        &mut self,
        socket: &Rc<TcpStream>,
        slot: Option<FileSlot>,
        payload: Payload,
        key: usize,
    ) {
        let send = self.sends.insert(Sending { payload, sent: 0 });
        let at = self.ops.insert(Op {
            key: op_key(key),
            slot: slot.map_or(NO_SLOT, |s| s.0),
            kind: Kind::Send(send as u32),
            socket: Some(Rc::clone(socket)),
        });
        self.push_send(at, send);
    }

    /// Submits the rest of the send at `at`, whose payload is `send`.
    fn push_send(&mut self, at: usize, send: usize) {
        let sending = &self.sends[send];
        let rest = &sending.payload.as_slice()[sending.sent..];
        let op = &self.ops[at];
        let entry = on_socket!(op, |target| opcode::Send::new(
            target,
            rest.as_ptr(),
            rest.len() as u32
        )
        .flags(libc::MSG_NOSIGNAL)
        .build());
        self.push(entry.user_data(at as u64));
    }

    /// Says once, under `key`, when `fd` is readable. The caller keeps `fd`
    /// open until the completion.
    pub(crate) fn poll_readable(&mut self, fd: BorrowedFd<'_>, key: usize) {
        let at = self.ops.insert(Op {
            key: op_key(key),
            slot: NO_SLOT,
            kind: Kind::Poll,
            socket: None,
        });
        let entry = opcode::PollAdd::new(Fd(fd.as_raw_fd()), libc::POLLIN as u32)
            .build()
            .user_data(at as u64);
        self.push(entry);
    }

    /// Submits what has been asked, then waits until a completion comes or
    /// `timeout` passes (a zero timeout only collects what has completed).
    /// Interrupted or timed out, it returns as if woken.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.buffers.publish();
        while let Some(entry) = self.waiting.front() {
            // SAFETY: as in `push`.
            if unsafe { self.ring.submission().push(entry) }.is_err() {
                break;
            }
            self.waiting.pop_front();
        }
        let submitter = self.ring.submitter();
        let result = if !self.waiting.is_empty() {
            // The queue is full: submit without waiting, so that the caller
            // takes the completions and the rest go in at the next wait.
            submitter.submit()
        } else {
            match timeout {
                Some(t) => {
                    let ts = Timespec::new().sec(t.as_secs()).nsec(t.subsec_nanos());
                    submitter.submit_with_args(1, &SubmitArgs::new().timespec(&ts))
                }
                None => submitter.submit_and_wait(1),
            }
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.raw_os_error() {
                // Timed out, interrupted, or the completion queue is full
                // (taking it makes room): as if woken.
                Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN) => Ok(()),
                _ => Err(e),
            },
        }
    }

    /// Copies the bytes of `received` into `into` (up to its length), and
    /// provides its buffer again. How many bytes were copied.
    pub(crate) fn take_received(&mut self, received: Received, into: &mut [u8]) -> usize {
        let n = received.len().min(into.len());
        into[..n].copy_from_slice(&self.received(&received)[..n]);
        self.give_back(received);
        n
    }

    /// The bytes of `received`, where the kernel wrote them.
    pub(crate) fn received(&self, received: &Received) -> &[u8] {
        // SAFETY: a `Received` is made once per completed receive, for the
        // buffer the kernel wrote its bytes into, and is not `Clone`: until
        // it is given back (which takes it), the buffer is not in the
        // provided ring, so nothing else writes it; and the slice borrows
        // the ring, which cannot be given it back meanwhile.
        unsafe { std::slice::from_raw_parts(self.buffers.at(received.id), received.len()) }
    }

    /// Provides the buffer of `received` to the kernel again, unread.
    pub(crate) fn give_back(&mut self, received: Received) {
        self.buffers.give(received.id);
    }

    /// Takes every completion, calling `each` with the ring (to ask more of
    /// it: an answer's send, say), the key it was asked under and how it
    /// ended. A receive's buffer is lent to `each`, which keeps it or
    /// returns it (to be provided again at once).
    pub(crate) fn complete(
        &mut self,
        mut each: impl FnMut(&mut Ring, usize, Done) -> Option<Received>,
    ) {
        let mut taken = std::mem::take(&mut self.taken);
        taken.clear();
        taken.extend(
            self.ring
                .completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for &(data, result, flags) in &taken {
            let at = data as usize;
            let Some(op) = self.ops.get_mut(at) else {
                continue;
            };
            let key = op.key as usize;
            match op.kind {
                Kind::Recv => {
                    let more = cqueue::more(flags);
                    if !more {
                        self.ops.remove(at);
                    }
                    let done = match (result, cqueue::buffer_select(flags)) {
                        (n, Some(id)) if n > 0 => Ok(Some(Received {
                            id,
                            len: (n as u32).min(BUFFER as u32),
                        })),
                        (n, buffer) => {
                            if let Some(id) = buffer {
                                self.buffers.give(id);
                            }
                            if n >= 0 {
                                Ok(None)
                            } else {
                                Err(io::Error::from_raw_os_error(-n))
                            }
                        }
                    };
                    if let Some(unwanted) = each(self, key, Done::Recv(done, more)) {
                        self.give_back(unwanted);
                    }
                }
                Kind::Send(send) => {
                    let send = send as usize;
                    if result > 0 {
                        let sending = &mut self.sends[send];
                        sending.sent += result as usize;
                        if sending.sent < sending.payload.as_slice().len() {
                            self.push_send(at, send);
                            continue;
                        }
                    }
                    self.ops.remove(at);
                    if let Payload::Copied(v) = self.sends.remove(send).payload {
                        self.recycle(v);
                    }
                    let done = match result {
                        n if n > 0 => Ok(()),
                        0 => Err(io::ErrorKind::WriteZero.into()),
                        n => Err(io::Error::from_raw_os_error(-n)),
                    };
                    each(self, key, Done::Send(done));
                }
                Kind::Poll => {
                    self.ops.remove(at);
                    let done = if result >= 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-result))
                    };
                    each(self, key, Done::Poll(done));
                }
                Kind::Unregister(slot) => {
                    self.ops.remove(at);
                    if result < 0 {
                        // Not emptied (it cannot fail but for a slot out of
                        // the table): registering it again replaces it.
                        tracing::debug!(target: "kamaelia::selector", slot, result, "a slot of the table of files not emptied");
                    }
                    self.files.free.push(slot);
                }
            }
        }
        self.taken = taken;
        self.buffers.publish();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    fn pair() -> (TcpStream, Rc<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("bound")).expect("connect");
        let (ours, _) = listener.accept().expect("accept");
        ours.set_nonblocking(true).expect("non-blocking");
        (peer, Rc::new(ours))
    }

    /// Waits until `n` completions have come, collecting them as text (a
    /// receive's bytes taken from its buffer).
    fn collect(ring: &mut Ring, n: usize) -> Vec<(usize, String)> {
        let mut got = Vec::new();
        while got.len() < n {
            ring.wait(Some(Duration::from_secs(5))).expect("wait");
            let mut received = Vec::new();
            ring.complete(|_, key, done| {
                let text = match done {
                    Done::Recv(Ok(Some(r)), _) => {
                        received.push((got.len(), r));
                        String::new()
                    }
                    Done::Recv(Ok(None), _) => "end".to_string(),
                    Done::Recv(Err(e), _) => format!("recv error {e}"),
                    Done::Send(Ok(())) => "sent".to_string(),
                    Done::Send(Err(e)) => format!("send error {e}"),
                    Done::Poll(Ok(())) => "ready".to_string(),
                    Done::Poll(Err(e)) => format!("poll error {e}"),
                };
                got.push((key, text));
                None
            });
            for (at, r) in received {
                let mut into = [0; BUFFER];
                let n = ring.take_received(r, &mut into);
                got[at].1 = format!("recv {:?}", String::from_utf8_lossy(&into[..n]));
            }
        }
        got
    }

    #[test]
    fn an_echo_through_the_ring() {
        let Ok(mut ring) = Ring::new() else {
            eprintln!("no io_uring here: skipped");
            return;
        };
        let (mut peer, ours) = pair();
        ring.recv(&ours, None, BUFFER, 7);
        peer.write_all(b"hello").expect("write");
        assert_eq!(collect(&mut ring, 1), [(7, "recv \"hello\"".to_string())]);
        ring.send_copy(&ours, None, &[IoSlice::new(b"he"), IoSlice::new(b"llo")], 7);
        assert_eq!(collect(&mut ring, 1), [(7, "sent".to_string())]);
        let mut back = [0; 5];
        peer.read_exact(&mut back).expect("read");
        assert_eq!(&back, b"hello");
        // The receive goes on: more bytes come under the same key.
        peer.write_all(b"again").expect("write");
        assert_eq!(collect(&mut ring, 1), [(7, "recv \"again\"".to_string())]);
        assert_eq!(ring.in_flight(), 1, "still receiving");
    }

    /// A slot of the table of files is given to another socket only once
    /// the kernel has emptied it: the emptying, submitted later, would
    /// otherwise take the new socket out.
    #[test]
    fn a_slot_is_used_again_only_once_the_kernel_has_emptied_it() {
        let Ok(mut ring) = Ring::new() else {
            return;
        };
        let (_first_peer, first_socket) = pair();
        let Some(first) = ring.register(&first_socket) else {
            eprintln!("no table of registered files here: skipped");
            return;
        };
        ring.unregister(first);
        let (mut peer, ours) = pair();
        let second = ring.register(&ours).expect("a slot");
        assert_ne!(second, first, "given again before it was emptied");
        ring.wait(Some(Duration::ZERO)).expect("wait");
        ring.complete(|_, _, _| None);
        let (_third_peer, third_socket) = pair();
        assert_eq!(ring.register(&third_socket), Some(first), "free again");
        // Operations name a socket by its slot.
        ring.recv(&ours, Some(second), BUFFER, 2);
        peer.write_all(b"hi").expect("write");
        assert_eq!(collect(&mut ring, 1), [(2, "recv \"hi\"".to_string())]);
        ring.send_copy(&ours, Some(second), &[IoSlice::new(b"yo")], 2);
        assert_eq!(collect(&mut ring, 1), [(2, "sent".to_string())]);
        let mut back = [0; 2];
        peer.read_exact(&mut back).expect("read");
        assert_eq!(&back, b"yo");
    }

    #[test]
    fn a_cancelled_receive_ends_with_one_completion_and_lets_its_socket_go() {
        let Ok(mut ring) = Ring::new() else {
            return;
        };
        let (_peer, ours) = pair();
        let recv = ring.recv(&ours, None, BUFFER, 4);
        ring.wait(Some(Duration::ZERO)).expect("wait");
        let weak = Rc::downgrade(&ours);
        drop(ours);
        ring.cancel(recv);
        let got = collect(&mut ring, 1);
        assert_eq!(got.len(), 1);
        assert!(got[0].1.starts_with("recv error"), "{got:?}");
        assert_eq!(ring.in_flight(), 0);
        assert!(weak.upgrade().is_none(), "the socket is let go");
    }

    #[test]
    fn the_end_of_the_input_is_an_empty_receive_and_the_socket_lives_until_it() {
        let Ok(mut ring) = Ring::new() else {
            return;
        };
        let (peer, ours) = pair();
        ring.recv(&ours, None, BUFFER, 1);
        let weak = Rc::downgrade(&ours);
        drop(ours);
        assert!(weak.upgrade().is_some(), "held by the receive in flight");
        drop(peer);
        assert_eq!(collect(&mut ring, 1), [(1, "end".to_string())]);
        assert!(weak.upgrade().is_none(), "let go with its completion");
    }

    /// A send larger than the socket takes at once is finished by the ring
    /// itself, in order, and its completion comes once, at the end.
    #[test]
    fn a_large_send_completes_once_everything_is_sent() {
        let Ok(mut ring) = Ring::new() else {
            return;
        };
        let (mut peer, ours) = pair();
        let data: Vec<u8> = (0..8 << 20).map(|i| (i % 251) as u8).collect();
        ring.send_bytes(&ours, None, Bytes::from(data.clone()), 3);
        let reader = std::thread::spawn(move || {
            let mut got = vec![0; 8 << 20];
            peer.read_exact(&mut got).expect("read");
            got
        });
        assert_eq!(collect(&mut ring, 1), [(3, "sent".to_string())]);
        assert!(reader.join().expect("reader") == data);
    }

    #[test]
    fn a_poll_says_when_a_descriptor_is_readable() {
        let Ok(mut ring) = Ring::new() else {
            return;
        };
        let (mut peer, ours) = pair();
        ring.poll_readable(ours.as_fd_borrowed(), 9);
        ring.wait(Some(Duration::ZERO)).expect("wait");
        let mut early = 0;
        ring.complete(|_, _, _| {
            early += 1;
            None
        });
        assert_eq!(early, 0, "nothing to read yet");
        peer.write_all(b"x").expect("write");
        assert_eq!(collect(&mut ring, 1), [(9, "ready".to_string())]);
    }

    trait Borrowed {
        fn as_fd_borrowed(&self) -> BorrowedFd<'_>;
    }

    impl Borrowed for Rc<TcpStream> {
        fn as_fd_borrowed(&self) -> BorrowedFd<'_> {
            std::os::fd::AsFd::as_fd(&**self)
        }
    }
}
