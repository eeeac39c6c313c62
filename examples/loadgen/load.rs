//! The load generator's engine, shared by `examples/loadgen` and
//! `benches/echo.rs`: closed-loop ping-pong over many connections.
//!
//! One thread, and one of two engines ([`Engine`]): non-blocking sockets
//! and an edge-triggered poller (per round trip one `write`, one `read` and a
//! share of a wait), or, on Linux, an io_uring (per round trip one `send`, a
//! share of a multishot `recv` and a share of one system call). The ring
//! costs the generator less per round trip than a server on epoll spends,
//! so the generator's core is no longer the first to saturate, and the
//! round trips per second measure the server (see `docs/PERFORMANCE.md`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

#[cfg(target_os = "linux")]
#[path = "ring.rs"]
pub(crate) mod ring;

/// What load to put on an echo server.
#[derive(Clone, Debug)]
pub(crate) struct Load {
    /// The server.
    pub(crate) address: SocketAddr,
    /// Connections, each with one message in flight.
    pub(crate) connections: usize,
    /// Bytes per message.
    pub(crate) size: usize,
    /// Time to run before counting (connections are made first).
    pub(crate) warmup: Duration,
    /// Time to count round trips for.
    pub(crate) duration: Duration,
    /// How the generator waits for and moves its bytes.
    pub(crate) engine: Engine,
}

/// How the load generator waits for and moves its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    /// An edge-triggered poller (`polling`: epoll on Linux) and a `read` and
    /// a `write` per round trip: a client as most are written.
    Poller,
    /// An io_uring (Linux): a multishot `recv` per connection into buffers
    /// the ring provides, a `send` per round trip, and one `io_uring_enter`
    /// a cycle for all of them.
    Ring,
}

impl Engine {
    /// The engine a run takes by default: the ring where the kernel gives
    /// one, else the poller.
    pub(crate) fn best() -> Engine {
        #[cfg(target_os = "linux")]
        if ring::available() {
            return Engine::Ring;
        }
        Engine::Poller
    }

    /// Its name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Engine::Poller => "poller",
            Engine::Ring => "ring",
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Engine, String> {
        match s {
            "poller" => Ok(Engine::Poller),
            "ring" => Ok(Engine::Ring),
            other => Err(format!("no engine {other:?}: poller or ring")),
        }
    }
}

/// What the load achieved.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // the loadgen example prints only some
pub(crate) struct Measured {
    /// Round trips completed while counting.
    pub(crate) round_trips: u64,
    /// How long the count ran.
    pub(crate) elapsed: Duration,
    /// Round trips completed in the whole run, warm-up included.
    pub(crate) all_round_trips: u64,
    /// Round-trip times while counting: the median and the 99th percentile.
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    /// The fewest round trips any one connection completed in the whole
    /// run: 0 if the server left a connection unanswered.
    pub(crate) fewest: u64,
}

impl Measured {
    /// Round trips per second.
    pub(crate) fn per_second(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64()
    }
}

/// One connection: its socket, its message, and how much of the echo is in.
struct Connection {
    stream: TcpStream,
    /// When the message in flight was sent.
    sent_at: Instant,
    message: Vec<u8>,
    echo: Vec<u8>,
    received: usize,
}

impl Connection {
    /// Sends the message (small enough that a socket with an empty send buffer
    /// always takes it whole).
    fn send(&mut self) -> io::Result<()> {
        self.sent_at = Instant::now();
        let mut sent = 0;
        while sent < self.message.len() {
            match self.stream.write(&self.message[sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what has arrived; returns true when the whole echo is in (and
    /// checks it). One read: a short read means the socket is empty, and the
    /// next data brings a new event.
    fn receive(&mut self) -> io::Result<bool> {
        match self.stream.read(&mut self.echo[self.received..]) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )),
            Ok(n) => {
                self.received += n;
                if self.received < self.echo.len() {
                    return Ok(false);
                }
                if self.echo != self.message {
                    return Err(io::Error::other("the echo differs from the message"));
                }
                self.received = 0;
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// Runs the load on the current thread with its engine and returns what it
/// measured. Every echo is checked.
pub(crate) fn run(load: &Load) -> io::Result<Measured> {
    match load.engine {
        Engine::Poller => run_polled(load),
        #[cfg(target_os = "linux")]
        Engine::Ring => ring::run(load),
        #[cfg(not(target_os = "linux"))]
        Engine::Ring => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the io_uring engine is Linux's",
        )),
    }
}

/// The connections' messages: each its own, so that an echo sent to the
/// wrong connection is caught.
fn message(n: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| (i + n) as u8).collect()
}

fn run_polled(load: &Load) -> io::Result<Measured> {
    let poller = Poller::new()?;
    let mut connections = Vec::with_capacity(load.connections);
    for n in 0..load.connections {
        let stream = TcpStream::connect(load.address)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        connections.push(Connection {
            stream,
            sent_at: Instant::now(),
            message: message(n, load.size),
            echo: vec![0; load.size],
            received: 0,
        });
    }
    for (key, connection) in connections.iter().enumerate() {
        // SAFETY: every stream stays open until it is deleted from the poller
        // below, before `connections` is dropped.
        unsafe { poller.add_with_mode(&connection.stream, Event::readable(key), PollMode::Edge)? };
    }
    let result = drive(&poller, &mut connections, load);
    for connection in &connections {
        let _ = poller.delete(&connection.stream);
    }
    result
}

fn drive(poller: &Poller, connections: &mut [Connection], load: &Load) -> io::Result<Measured> {
    for connection in connections.iter_mut() {
        connection.send()?;
    }
    let mut events = Events::with_capacity(NonZeroUsize::new(1024).expect("not zero"));
    let mut tally = Tally::new(load);
    loop {
        if let Some(measured) = tally.finished() {
            return Ok(measured);
        }
        events.clear();
        poller.wait(&mut events, Some(TICK))?;
        for event in events.iter() {
            let connection = &mut connections[event.key];
            if connection.receive()? {
                tally.round_trip(event.key, connection.sent_at);
                connection.send()?;
            }
        }
    }
}

/// The longest an engine waits for completions before it looks at the
/// clock.
const TICK: Duration = Duration::from_millis(50);

/// A run's count: its round trips, the window they are counted in (after
/// the warm-up), and their times within it.
struct Tally {
    count_from: Instant,
    count_until: Instant,
    /// Since when it counts, and how many round trips came before.
    counting: Option<(Instant, u64)>,
    round_trips: u64,
    /// Round-trip times while counting, in nanoseconds.
    times: Vec<u64>,
    /// Each connection's round trips.
    each: Vec<u64>,
}

impl Tally {
    /// A count starting now.
    fn new(load: &Load) -> Self {
        let count_from = Instant::now() + load.warmup;
        Tally {
            count_from,
            count_until: count_from + load.duration,
            counting: None,
            round_trips: 0,
            times: Vec::new(),
            each: vec![0; load.connections],
        }
    }

    /// Counts a round trip of connection `n`, whose message was sent at
    /// `sent_at`.
    fn round_trip(&mut self, n: usize, sent_at: Instant) {
        self.round_trips += 1;
        self.each[n] += 1;
        if self.counting.is_some() {
            self.times.push(sent_at.elapsed().as_nanos() as u64);
        }
    }

    /// What the run measured, once its time is up.
    fn finished(&mut self) -> Option<Measured> {
        let now = Instant::now();
        if self.counting.is_none() && now >= self.count_from {
            self.counting = Some((now, self.round_trips));
        }
        if now < self.count_until {
            return None;
        }
        let (from, before) = self.counting.unwrap_or((self.count_from, 0));
        let times = &mut self.times;
        times.sort_unstable();
        let at = |q: f64| {
            let i = ((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1));
            Duration::from_nanos(times.get(i).copied().unwrap_or(0))
        };
        Some(Measured {
            round_trips: self.round_trips - before,
            elapsed: now - from,
            all_round_trips: self.round_trips,
            p50: at(0.50),
            p99: at(0.99),
            fewest: self.each.iter().copied().min().unwrap_or(0),
        })
    }
}
