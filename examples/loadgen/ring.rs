//! The ping-pong load on an io_uring (Linux): the generator's cheaper engine.
//!
//! One ring on the generator's thread (single issuer, task work run only when
//! the thread waits). Each connection has a multishot `recv` drawing from a
//! ring of provided buffers, armed once, and each message is a `send`. All of
//! a cycle's sends go in with the one `io_uring_enter` that waits for the
//! next completions, and the sockets are registered with the ring, so a round
//! trip costs the generator no system call of its own and no lookup of its
//! descriptor.
//!
//! The provided buffers ([`ProvidedBuffers`]) are shared with the benches'
//! io_uring echo server (`benches/support/uring.rs`).

use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Instant;

use io_uring::types::{BufRingEntry, Fixed, SubmitArgs, Timespec};
use io_uring::{cqueue, opcode, squeue, IoUring};

use super::{message, Load, Measured, Tally, TICK};

/// Bytes per provided buffer: an echo larger than this arrives in several.
const BUFFER: usize = 2048;
/// The provided buffers' group.
const GROUP: u16 = 0;
/// Submission entries: a cycle with more operations than this submits the
/// rest with the next.
const SUBMISSIONS: u32 = 1024;

/// Moves as many of `pending` as fit into `ring`'s submission queue; the
/// rest go in after the next submit.
///
/// # Safety
///
/// Every entry's buffers must stay valid until its completion.
pub(crate) unsafe fn queue_pending(
    ring: &mut IoUring<squeue::Entry>,
    pending: &mut Vec<squeue::Entry>,
) {
    let mut queue = ring.submission();
    let mut pushed = 0;
    for entry in pending.iter() {
        // SAFETY: the caller's.
        if unsafe { queue.push(entry) }.is_err() {
            break;
        }
        pushed += 1;
    }
    pending.drain(..pushed);
}

/// Whether this kernel gives the ring the engine needs (6.1 or later, and
/// io_uring not turned off).
pub(crate) fn available() -> bool {
    // Asked before each run of a bench: the kernel's answer does not change.
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| new_ring(8, 8).is_ok())
}

fn new_ring(entries: u32, completions: u32) -> io::Result<IoUring<squeue::Entry>> {
    IoUring::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .setup_defer_taskrun()
        .setup_cqsize(completions)
        // A completion queue past the kernel's largest is made its largest:
        // with tens of thousands of connections, completions then wait in
        // the kernel's overflow list, not refused.
        .setup_clamp()
        .build(entries)
}

/// Buffers lent to the kernel through a ring of provided buffers: a
/// multishot `recv` takes one for each piece of data it reads, and the
/// buffer comes back to its owner with the completion, to be lent again.
pub(crate) struct ProvidedBuffers {
    ring: *mut BufRingEntry,
    layout: std::alloc::Layout,
    /// The buffers' memory, which the kernel writes into: only reached
    /// through `base`, never through a Rust reference while lent.
    memory: Box<[u8]>,
    base: *mut u8,
    size: usize,
    count: u16,
    tail: u16,
}

impl ProvidedBuffers {
    /// `count` buffers (a power of two, at most 32,768) of `size` bytes each,
    /// none lent yet.
    pub(crate) fn new(count: u16, size: usize) -> io::Result<ProvidedBuffers> {
        if !count.is_power_of_two() || count > 1 << 15 {
            return Err(io::Error::other(
                "provided buffers come in a power of two up to 32,768",
            ));
        }
        let layout = std::alloc::Layout::from_size_align(
            usize::from(count) * std::mem::size_of::<BufRingEntry>(),
            4096,
        )
        .map_err(io::Error::other)?;
        // SAFETY: the layout has a non-zero size.
        let ring = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<BufRingEntry>();
        if ring.is_null() {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        let mut memory = vec![0; usize::from(count) * size].into_boxed_slice();
        let base = memory.as_mut_ptr();
        Ok(ProvidedBuffers {
            ring,
            layout,
            memory,
            base,
            size,
            count,
            tail: 0,
        })
    }

    /// Registers the buffers with `ring` as `group`, and lends them all.
    ///
    /// # Safety
    ///
    /// The ring must be dropped before the buffers are.
    pub(crate) unsafe fn register(
        &mut self,
        ring: &IoUring<squeue::Entry>,
        group: u16,
    ) -> io::Result<()> {
        // SAFETY: the ring's entries live as long as `self`, which the
        // caller drops after the ring.
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(self.ring as u64, self.count, group, 0)?
        };
        for id in 0..self.count {
            self.give(id);
        }
        self.publish();
        Ok(())
    }

    /// Where buffer `id` starts.
    pub(crate) fn at(&self, id: u16) -> *mut u8 {
        debug_assert!(self.memory.len() >= (usize::from(id) + 1) * self.size);
        self.base.wrapping_add(usize::from(id) * self.size)
    }

    /// The first `len` bytes of buffer `id`, which the kernel has filled and
    /// given back.
    pub(crate) fn filled(&self, id: u16, len: usize) -> &[u8] {
        assert!(id < self.count && len <= self.size);
        // SAFETY: in bounds (checked); the kernel wrote these bytes before
        // the completion that gave the buffer back, and does not touch it
        // until it is lent again, which takes `&mut self`.
        unsafe { std::slice::from_raw_parts(self.at(id), len) }
    }

    /// Lends buffer `id` to the kernel (seen at the next [`Self::publish`]).
    pub(crate) fn give(&mut self, id: u16) {
        // SAFETY: the index is masked into the ring, which the kernel reads
        // only up to the published tail.
        let entry = unsafe { &mut *self.ring.add(usize::from(self.tail & (self.count - 1))) };
        entry.set_addr(self.at(id) as u64);
        entry.set_len(self.size as u32);
        entry.set_bid(id);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Shows the kernel the buffers given since the last publish.
    pub(crate) fn publish(&self) {
        // SAFETY: the tail is a u16 in the ring's first entry, which the
        // kernel reads; the release store publishes the entries before it.
        unsafe {
            (*BufRingEntry::tail(self.ring).cast::<AtomicU16>()).store(self.tail, Ordering::Release)
        };
    }
}

impl Drop for ProvidedBuffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ring.cast(), self.layout) };
    }
}

/// One connection of the load.
struct Connection {
    /// Keeps the socket open; the ring names it by its registered slot.
    stream: TcpStream,
    message: Vec<u8>,
    echo: Vec<u8>,
    received: usize,
    sent_at: Instant,
    /// Bytes of the message the kernel has taken.
    sent: usize,
    /// Its multishot `recv` is armed.
    armed: bool,
}

/// `user_data` of an operation: the connection, and whether it is a send.
fn tag(n: usize, send: bool) -> u64 {
    (n as u64) << 1 | u64::from(send)
}

fn recv(n: usize) -> squeue::Entry {
    opcode::RecvMulti::new(Fixed(n as u32), GROUP)
        .build()
        .user_data(tag(n, false))
}

fn send(n: usize, connection: &Connection) -> squeue::Entry {
    let rest = &connection.message[connection.sent..];
    opcode::Send::new(Fixed(n as u32), rest.as_ptr(), rest.len() as u32)
        .build()
        .user_data(tag(n, true))
}

/// Runs the load on the current thread; every echo is checked.
pub(crate) fn run(load: &Load) -> io::Result<Measured> {
    let mut connections = Vec::with_capacity(load.connections);
    for n in 0..load.connections {
        let stream = TcpStream::connect(load.address)?;
        stream.set_nodelay(true)?;
        connections.push(Connection {
            stream,
            message: message(n, load.size),
            echo: vec![0; load.size],
            received: 0,
            sent_at: Instant::now(),
            sent: 0,
            armed: false,
        });
    }
    let fds: Vec<i32> = connections.iter().map(|c| c.stream.as_raw_fd()).collect();
    // Enough buffers for every connection's echo to be waiting at once, in
    // two pieces; enough completion entries for a receive and a send each.
    let count = (2 * load.connections)
        .next_power_of_two()
        .clamp(64, 1 << 15) as u16;
    // (The kernel takes no fewer completion entries than submission ones.)
    let completions = (4 * load.connections)
        .next_power_of_two()
        .max(2 * SUBMISSIONS as usize) as u32;
    let mut buffers = ProvidedBuffers::new(count, BUFFER)?;
    // Declared after the buffers and the connections, so dropped before
    // them on every way out, as the kernel may use them until it is closed.
    let mut ring = new_ring(SUBMISSIONS, completions)?;
    // SAFETY: the ring is dropped first (above, and below).
    unsafe { buffers.register(&ring, GROUP)? };
    ring.submitter().register_files(&fds)?;
    let result = drive(&mut ring, &mut buffers, &mut connections, load);
    // The ring goes first: the kernel may use the buffers and the messages
    // until it is closed.
    drop(ring);
    drop(buffers);
    result
}

fn drive(
    ring: &mut IoUring<squeue::Entry>,
    buffers: &mut ProvidedBuffers,
    connections: &mut [Connection],
    load: &Load,
) -> io::Result<Measured> {
    let mut pending: Vec<squeue::Entry> = Vec::with_capacity(2 * connections.len());
    for (n, connection) in connections.iter_mut().enumerate() {
        connection.armed = true;
        pending.push(recv(n));
        connection.sent_at = Instant::now();
        pending.push(send(n, connection));
    }
    let mut tally = Tally::new(load);
    let tick = Timespec::from(TICK);
    let mut done: Vec<(u64, i32, u32)> = Vec::new();
    loop {
        if let Some(measured) = tally.finished() {
            return Ok(measured);
        }
        // SAFETY: a send's bytes are its connection's message and a
        // receive's are provided buffers, all of which outlive the ring.
        unsafe { queue_pending(ring, &mut pending) };
        match ring
            .submitter()
            .submit_with_args(1, &SubmitArgs::new().timespec(&tick))
        {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        done.clear();
        done.extend(
            ring.completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for &(data, result, flags) in &done {
            let n = (data >> 1) as usize;
            let connection = &mut connections[n];
            if data & 1 == 1 {
                if result < 0 {
                    return Err(io::Error::from_raw_os_error(-result));
                }
                if result == 0 {
                    // As the poller's engine: asked again, it would spin.
                    return Err(io::ErrorKind::WriteZero.into());
                }
                connection.sent += result as usize;
                if connection.sent < connection.message.len() {
                    pending.push(send(n, connection));
                }
                continue;
            }
            connection.armed = cqueue::more(flags);
            let piece = cqueue::buffer_select(flags);
            if result == -libc::ENOBUFS {
                // Armed again below, once this cycle's buffers are back.
                continue;
            }
            if result <= 0 {
                if let Some(id) = piece {
                    buffers.give(id);
                }
                return Err(if result == 0 {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )
                } else {
                    io::Error::from_raw_os_error(-result)
                });
            }
            let Some(id) = piece else {
                return Err(io::Error::other("a receive without its buffer"));
            };
            let len = result as usize;
            let fits = connection.received + len <= connection.echo.len();
            if fits {
                connection.echo[connection.received..][..len]
                    .copy_from_slice(buffers.filled(id, len));
                connection.received += len;
            }
            buffers.give(id);
            if !fits {
                return Err(io::Error::other("the echo is longer than the message"));
            }
            if connection.received < connection.echo.len() {
                continue;
            }
            if connection.echo != connection.message {
                return Err(io::Error::other("the echo differs from the message"));
            }
            connection.received = 0;
            tally.round_trip(n, connection.sent_at);
            connection.sent_at = Instant::now();
            connection.sent = 0;
            pending.push(send(n, connection));
        }
        buffers.publish();
        // A receive that ran out of buffers, or ended for another reason
        // that is not an error, is armed again.
        for &(data, _, _) in &done {
            let n = (data >> 1) as usize;
            if data & 1 == 0 && !connections[n].armed {
                connections[n].armed = true;
                pending.push(recv(n));
            }
        }
    }
}
