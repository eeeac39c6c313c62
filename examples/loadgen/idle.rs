//! The idle-connection engine, shared by `examples/loadgen` (`loadgen idle`)
//! and `benches/idle_connections.rs`: opens many connections to an echo
//! server, confirms each one is held (it sends one byte and gets it back),
//! and reports how long it took until every connection was held, or, if
//! that did not happen within a time limit, how many were.
//!
//! One thread, non-blocking connects and an edge-triggered poller. By default
//! every connection is opened at once, as a crowd of clients would; a
//! connection the server resets or closes is opened again (and counted), so
//! that "held" means open and echoing at the end.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};
use socket2::{Domain, Socket, Type};

/// How long a failed connection waits before it is opened again.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// What idle load to put on an echo server.
#[derive(Clone, Debug)]
pub(crate) struct Idle {
    /// The server.
    pub(crate) address: SocketAddr,
    /// Connections to open and hold.
    pub(crate) connections: usize,
    /// At most this many connections opened but not yet held at a time
    /// (`None`: open them all at once).
    pub(crate) in_flight: Option<NonZeroUsize>,
    /// Give up (and report how many are held) after this long.
    pub(crate) limit: Duration,
}

/// What the idle load found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Outcome {
    /// Connections asked for.
    pub(crate) connections: usize,
    /// Connections held at the end: open, and their byte echoed.
    pub(crate) held: usize,
    /// Connections whose handshake had completed at the end (held or not).
    pub(crate) connected: usize,
    /// From the first connect until every connection was held, or until the
    /// limit.
    pub(crate) elapsed: Duration,
    /// When every connection had completed its handshake (at once), if they
    /// did.
    pub(crate) all_connected: Option<Duration>,
    /// Connections that failed (refused, reset or closed) and were opened
    /// again.
    pub(crate) reconnects: usize,
    /// How many were held after each whole second.
    pub(crate) timeline: Vec<usize>,
}

impl Outcome {
    /// True if every connection was held.
    pub(crate) fn complete(&self) -> bool {
        self.held == self.connections
    }

    /// How many were held after `seconds` whole seconds (all of them, if the
    /// run had finished by then).
    pub(crate) fn held_after(&self, seconds: usize) -> usize {
        match self.timeline.get(seconds.saturating_sub(1)) {
            Some(&held) => held,
            None => self.held,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.complete() {
            write!(
                f,
                "all {} connections held after {:.3} s",
                self.connections,
                self.elapsed.as_secs_f64()
            )?;
        } else {
            write!(
                f,
                "{} of {} connections held after {:.3} s (the limit); {} had connected",
                self.held,
                self.connections,
                self.elapsed.as_secs_f64(),
                self.connected
            )?;
        }
        if let Some(t) = self.all_connected {
            write!(f, "; all connected after {:.3} s", t.as_secs_f64())?;
        }
        write!(f, "; {} reconnects", self.reconnects)
    }
}

/// Raises this process's soft limit on open files to its hard limit, and
/// returns the new soft limit.
pub(crate) fn raise_fd_limit() -> io::Result<libc::rlim_t> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit`, read only by the call; raising
        // the soft limit up to the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not open (waiting to be opened, or again after a failure).
    Closed,
    /// Handshake under way.
    Connecting,
    /// Connected, its byte sent, waiting for the echo.
    Echoing,
    /// Its byte came back.
    Held,
}

struct Connection {
    socket: Option<Socket>,
    state: State,
}

/// The byte connection `key` sends.
fn byte_of(key: usize) -> u8 {
    (key % 251) as u8
}

/// Whether an error on one connection means "try it again" (the server
/// refused, reset or dropped it) rather than "give up" (say, no file
/// descriptors or no ports left).
fn retriable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::TimedOut
            | io::ErrorKind::UnexpectedEof
    )
}

struct Engine<'a> {
    idle: &'a Idle,
    poller: Poller,
    connections: Vec<Connection>,
    /// Connections opened but not held.
    pending: usize,
    connected: usize,
    held: usize,
    reconnects: usize,
    /// Failed connections, and when to open them again.
    retry: VecDeque<(Instant, usize)>,
    /// The next connection to open for the first time.
    next: usize,
}

impl Engine<'_> {
    fn open(&mut self, key: usize) -> io::Result<()> {
        let address = self.idle.address;
        let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        socket.set_tcp_nodelay(true)?;
        match socket.connect(&address.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) if retriable(&e) => {
                self.reconnects += 1;
                self.retry.push_back((Instant::now() + RETRY_AFTER, key));
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        // SAFETY: the socket is deleted from the poller (in `close`) before
        // it is dropped.
        unsafe {
            self.poller
                .add_with_mode(&socket, Event::all(key), PollMode::Edge)?
        };
        let connection = &mut self.connections[key];
        connection.socket = Some(socket);
        connection.state = State::Connecting;
        self.pending += 1;
        Ok(())
    }

    fn close(&mut self, key: usize) {
        let connection = &mut self.connections[key];
        if let Some(socket) = connection.socket.take() {
            let _ = self.poller.delete(&socket);
        }
        match connection.state {
            State::Closed => {}
            State::Connecting => self.pending -= 1,
            State::Echoing => {
                self.pending -= 1;
                self.connected -= 1;
            }
            State::Held => {
                self.held -= 1;
                self.connected -= 1;
            }
        }
        connection.state = State::Closed;
    }

    /// Closes a connection that failed, to be opened again shortly.
    fn fail(&mut self, key: usize) {
        self.close(key);
        self.reconnects += 1;
        self.retry.push_back((Instant::now() + RETRY_AFTER, key));
    }

    /// Handles readiness on connection `key`.
    fn ready(&mut self, key: usize) -> io::Result<()> {
        let connection = &mut self.connections[key];
        let Some(socket) = connection.socket.as_ref() else {
            return Ok(());
        };
        match connection.state {
            State::Closed => Ok(()),
            State::Connecting => {
                match socket.take_error() {
                    Ok(None) => {}
                    Ok(Some(e)) | Err(e) if retriable(&e) => {
                        self.fail(key);
                        return Ok(());
                    }
                    Ok(Some(e)) | Err(e) => return Err(e),
                }
                match socket.peer_addr() {
                    Ok(_) => {}
                    // Not connected yet: the event was for something else.
                    Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => return Ok(()),
                    Err(e) if retriable(&e) => {
                        self.fail(key);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
                match (&*socket).write(&[byte_of(key)]) {
                    Ok(1) => {
                        connection.state = State::Echoing;
                        self.connected += 1;
                        Ok(())
                    }
                    Ok(_) => Err(io::ErrorKind::WriteZero.into()),
                    Err(e) if retriable(&e) => {
                        self.fail(key);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            State::Echoing | State::Held => {
                let mut buf = [0u8; 64];
                match (&*socket).read(&mut buf) {
                    Ok(0) => {
                        self.fail(key);
                        Ok(())
                    }
                    Ok(n) => {
                        if connection.state == State::Echoing {
                            if n != 1 || buf[0] != byte_of(key) {
                                return Err(io::Error::other(
                                    "the echo differs from the byte sent",
                                ));
                            }
                            connection.state = State::Held;
                            self.pending -= 1;
                            self.held += 1;
                        }
                        Ok(())
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                        ) =>
                    {
                        Ok(())
                    }
                    Err(e) if retriable(&e) => {
                        self.fail(key);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Opens what may be opened now: connections due for a retry, then new
    /// ones, up to the in-flight limit.
    fn open_more(&mut self, now: Instant) -> io::Result<()> {
        let room = |e: &Engine<'_>| e.idle.in_flight.is_none_or(|limit| e.pending < limit.get());
        while room(self) {
            match self.retry.front() {
                Some(&(at, key)) if at <= now => {
                    self.retry.pop_front();
                    self.open(key)?;
                }
                _ => break,
            }
        }
        while room(self) && self.next < self.connections.len() {
            self.next += 1;
            self.open(self.next - 1)?;
        }
        Ok(())
    }

    fn drive(&mut self) -> io::Result<Outcome> {
        let mut events = Events::with_capacity(NonZeroUsize::new(1024).expect("not zero"));
        let started = Instant::now();
        let deadline = started + self.idle.limit;
        let mut all_connected = None;
        let mut timeline = Vec::new();
        loop {
            let now = Instant::now();
            while started + Duration::from_secs(timeline.len() as u64 + 1) <= now {
                timeline.push(self.held);
            }
            if all_connected.is_none() && self.connected == self.idle.connections {
                all_connected = Some(now - started);
            }
            if self.held == self.idle.connections || now >= deadline {
                return Ok(Outcome {
                    connections: self.idle.connections,
                    held: self.held,
                    connected: self.connected,
                    elapsed: now - started,
                    all_connected,
                    reconnects: self.reconnects,
                    timeline,
                });
            }
            self.open_more(now)?;
            let mut wait = (deadline - now).min(Duration::from_millis(100));
            if let Some(&(at, _)) = self.retry.front() {
                wait = wait.min(at.saturating_duration_since(now));
            }
            events.clear();
            self.poller.wait(&mut events, Some(wait))?;
            for event in events.iter() {
                self.ready(event.key)?;
            }
        }
    }
}

/// Runs the idle load on the current thread and returns what it found. The
/// connections are closed on return.
///
/// Raises the soft limit on open files first (see [`raise_fd_limit`]); the
/// connections need one file descriptor each.
#[allow(dead_code)] // the idle-connections bench holds them first
pub(crate) fn run(idle: &Idle) -> io::Result<Outcome> {
    run_holding(idle, |_| {})
}

/// [`run`], calling `holding` with the outcome while the connections are
/// still open (to measure what holding them costs the server).
pub(crate) fn run_holding(
    idle: &Idle,
    holding: impl FnOnce(&io::Result<Outcome>),
) -> io::Result<Outcome> {
    let limit = raise_fd_limit()?;
    if limit < idle.connections as libc::rlim_t + 16 {
        return Err(io::Error::other(format!(
            "{} connections need more open files than this process may have ({limit})",
            idle.connections
        )));
    }
    let mut engine = Engine {
        idle,
        poller: Poller::new()?,
        connections: (0..idle.connections)
            .map(|_| Connection {
                socket: None,
                state: State::Closed,
            })
            .collect(),
        pending: 0,
        connected: 0,
        held: 0,
        reconnects: 0,
        retry: VecDeque::new(),
        next: 0,
    };
    let result = engine.drive();
    holding(&result);
    for key in 0..engine.connections.len() {
        engine.close(key);
    }
    result
}
