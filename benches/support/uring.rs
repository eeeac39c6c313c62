//! The go/no-go peer for an io_uring backend: the cheapest echo server we
//! know how to write on io_uring, with no framework around it.
//!
//! One thread, one ring (single issuer, deferred task running). The listener
//! has a multishot accept; each connection a multishot `recv` drawing from a
//! ring of provided buffers; each echo is a `send` of the buffer the data
//! arrived in, which goes back to the ring when the send completes. All of a
//! cycle's submissions go in with the one `io_uring_enter` that waits for the
//! next completions, so a round trip costs no system call of its own.
//!
//! A backend of ours could not do less work per round trip than this. If this
//! server's CPU per round trip is not well under 0.9× tokio's (the target
//! `docs/PERFORMANCE.md` gives), the backend is a no-go on that machine.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use io_uring::types::Fd;
use io_uring::{cqueue, opcode, squeue, IoUring};

use crate::load::ring::{queue_pending, ProvidedBuffers as Buffers};
use crate::support::{cpu_time_of, pin, thread_id, Server, SERVER_CPU};

/// Bytes per provided buffer, and how many (a power of two).
const BUFFER: usize = 4096;
const BUFFERS: u16 = 4096;
/// The provided buffers' group.
const GROUP: u16 = 0;
/// `user_data` of the accept; others are `slot << 17 | buffer << 1 | send`.
const ACCEPT: u64 = u64::MAX;

/// The server on its thread.
pub(crate) struct UringEcho {
    address: SocketAddr,
    tid: i32,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<io::Result<()>>,
}

impl UringEcho {
    /// Starts it on a thread pinned to [`SERVER_CPU`], listening with
    /// `backlog`; `Err` if this kernel has no io_uring for us.
    pub(crate) fn start(backlog: u32) -> io::Result<Box<dyn Server>> {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        socket.listen(backlog as i32)?;
        let listener: TcpListener = socket.into();
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            pin(SERVER_CPU);
            // Made on the thread that submits (a single-issuer ring); its
            // outcome is the server's start.
            let mut buffers = match Buffers::new(BUFFERS, BUFFER) {
                Ok(buffers) => buffers,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return Ok(());
                }
            };
            let mut ring = match ring(&mut buffers) {
                Ok(ring) => ring,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return Ok(());
                }
            };
            let _ = tx.send(Ok(thread_id()));
            let result = run(&mut ring, &mut buffers, &listener, &stopping);
            // The ring goes first: the kernel may use the buffers until it
            // is closed.
            drop(ring);
            drop(buffers);
            result
        });
        let started = rx
            .recv()
            .map_err(|_| io::Error::other("the server's thread ended before it started"));
        match started.and_then(|started| started) {
            Ok(tid) => Ok(Box::new(UringEcho {
                address,
                tid,
                stop,
                thread,
            })),
            Err(e) => {
                let _ = thread.join();
                Err(e)
            }
        }
    }
}

impl Server for UringEcho {
    fn address(&self) -> SocketAddr {
        self.address
    }

    fn stop(self: Box<Self>) {
        self.stop.store(true, Ordering::Release);
        // The accept's completion wakes the ring to see the flag.
        let _ = TcpStream::connect(self.address);
        self.thread
            .join()
            .expect("no panic")
            .expect("the io_uring server ran");
    }

    fn cpu_time(&self) -> Duration {
        cpu_time_of(&format!("self/task/{}", self.tid))
    }
}

/// One connection. Its socket is closed once its reads have ended, no
/// `recv` is armed and no send is in flight: until then a completion may
/// still name its slot, which must not go to another connection.
struct Connection {
    fd: i32,
    sending: usize,
    /// A multishot `recv` is armed.
    armed: bool,
    /// Its reads have ended (the peer closed, or an error).
    ended: bool,
}

impl Connection {
    fn done(&self) -> bool {
        self.ended && !self.armed && self.sending == 0
    }
}

/// The ring, with `buffers` registered as its provided buffers and all lent
/// to the kernel.
fn ring(buffers: &mut Buffers) -> io::Result<IoUring<squeue::Entry>> {
    let ring: IoUring<squeue::Entry> = IoUring::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .setup_defer_taskrun()
        .build(4096)?;
    // SAFETY: the server's thread closes the ring before it frees the
    // buffers.
    unsafe { buffers.register(&ring, GROUP)? };
    Ok(ring)
}

fn run(
    ring: &mut IoUring<squeue::Entry>,
    buffers: &mut Buffers,
    listener: &TcpListener,
    stop: &AtomicBool,
) -> io::Result<()> {
    let recv = |fd: i32, slot: usize| {
        opcode::RecvMulti::new(Fd(fd), GROUP)
            .build()
            .user_data((slot as u64) << 17)
    };
    let mut connections = slab::Slab::<Connection>::new();
    // Sends in flight: (buffer, offset sent so far, length).
    let mut sent = vec![(0usize, 0usize); usize::from(BUFFERS)];
    let mut pending = vec![opcode::AcceptMulti::new(Fd(listener.as_raw_fd()))
        .build()
        .user_data(ACCEPT)];
    let mut starved: Vec<usize> = Vec::new();
    let mut done = Vec::new();
    let result = loop {
        // SAFETY: each entry's buffer is a provided buffer, lent to it
        // until its completion comes back.
        unsafe { queue_pending(ring, &mut pending) };
        buffers.publish();
        if let Err(e) = ring.submit_and_wait(1) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break Err(e);
        }
        if stop.load(Ordering::Acquire) {
            break Ok(());
        }
        done.clear();
        done.extend(
            ring.completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for &(data, result, flags) in &done {
            if data == ACCEPT {
                if result >= 0 {
                    let one: libc::c_int = 1;
                    // SAFETY: a valid socket and option.
                    unsafe {
                        libc::setsockopt(
                            result,
                            libc::IPPROTO_TCP,
                            libc::TCP_NODELAY,
                            (&one as *const libc::c_int).cast(),
                            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                        )
                    };
                    let slot = connections.insert(Connection {
                        fd: result,
                        sending: 0,
                        armed: true,
                        ended: false,
                    });
                    pending.push(recv(result, slot));
                }
                if !cqueue::more(flags) {
                    pending.push(
                        opcode::AcceptMulti::new(Fd(listener.as_raw_fd()))
                            .build()
                            .user_data(ACCEPT),
                    );
                }
                continue;
            }
            let slot = (data >> 17) as usize;
            let Some(connection) = connections.get_mut(slot) else {
                continue;
            };
            if data & 1 == 0 {
                connection.armed = cqueue::more(flags);
                match (result, cqueue::buffer_select(flags)) {
                    (n, Some(id)) if n > 0 => {
                        sent[usize::from(id)] = (0, n as usize);
                        connection.sending += 1;
                        pending.push(send(connection.fd, buffers, id, 0, n as usize, slot));
                        if !connection.armed && !connection.ended {
                            connection.armed = true;
                            pending.push(recv(connection.fd, slot));
                        }
                    }
                    // Armed again once a send gives a buffer back.
                    (n, _) if n == -libc::ENOBUFS => starved.push(slot),
                    (_, id) => {
                        if let Some(id) = id {
                            buffers.give(id);
                        }
                        connection.ended = true;
                    }
                }
            } else {
                let id = ((data >> 1) & 0xffff) as u16;
                let (offset, length) = &mut sent[usize::from(id)];
                if result > 0 && *offset + (result as usize) < *length {
                    *offset += result as usize;
                    pending.push(send(connection.fd, buffers, id, *offset, *length, slot));
                    continue;
                }
                buffers.give(id);
                connection.sending -= 1;
                if result < 0 && !connection.ended {
                    connection.ended = true;
                    // Ends the armed `recv` too, so that the socket can be
                    // closed.
                    // SAFETY: the connection's own, open socket.
                    unsafe { libc::shutdown(connection.fd, libc::SHUT_RDWR) };
                }
                for slot in starved.drain(..) {
                    if let Some(c) = connections.get_mut(slot) {
                        if !c.armed && !c.ended {
                            c.armed = true;
                            pending.push(recv(c.fd, slot));
                        }
                    }
                }
            }
            let connection = &connections[slot];
            if connection.done() {
                // SAFETY: the connection's own socket, closed once.
                unsafe { libc::close(connection.fd) };
                connections.remove(slot);
            }
        }
    };
    for (_, connection) in connections {
        // SAFETY: as above.
        unsafe { libc::close(connection.fd) };
    }
    result
}

/// The send of `buffer` from `offset` to `length`.
fn send(
    fd: i32,
    buffers: &Buffers,
    id: u16,
    offset: usize,
    length: usize,
    slot: usize,
) -> squeue::Entry {
    // SAFETY (of the pointer's use): the buffer stays out of the provided
    // ring until this send's completion.
    let from = buffers.at(id).wrapping_add(offset);
    opcode::Send::new(Fd(fd), from, (length - offset) as u32)
        .build()
        .user_data(((slot as u64) << 17) | (u64::from(id) << 1) | 1)
}
