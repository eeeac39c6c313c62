//! The load generator's engine, shared by `examples/loadgen` and
//! `benches/echo.rs`: closed-loop ping-pong over many connections.
//!
//! One thread, non-blocking sockets and an edge-triggered poller: per round
//! trip one `write`, one `read` and a share of a wait, so the generator costs
//! less than the servers it measures.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

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

/// Runs the load on the current thread and returns what it measured. Every
/// echo is checked.
pub(crate) fn run(load: &Load) -> io::Result<Measured> {
    let poller = Poller::new()?;
    let mut connections = Vec::with_capacity(load.connections);
    for n in 0..load.connections {
        let stream = TcpStream::connect(load.address)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        connections.push(Connection {
            stream,
            sent_at: Instant::now(),
            message: (0..load.size).map(|i| (i + n) as u8).collect(),
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
    let started = Instant::now();
    let count_from = started + load.warmup;
    let count_until = count_from + load.duration;
    let mut counting: Option<(Instant, u64)> = None;
    let mut round_trips = 0u64;
    // Round-trip times while counting, in nanoseconds.
    let mut times: Vec<u64> = Vec::new();
    loop {
        let now = Instant::now();
        if counting.is_none() && now >= count_from {
            counting = Some((now, round_trips));
        }
        if now >= count_until {
            let (from, before) = counting.unwrap_or((count_from, 0));
            times.sort_unstable();
            let at = |q: f64| {
                let i = ((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1));
                Duration::from_nanos(times.get(i).copied().unwrap_or(0))
            };
            return Ok(Measured {
                round_trips: round_trips - before,
                elapsed: now - from,
                all_round_trips: round_trips,
                p50: at(0.50),
                p99: at(0.99),
            });
        }
        events.clear();
        poller.wait(&mut events, Some(Duration::from_millis(50)))?;
        for event in events.iter() {
            let connection = &mut connections[event.key];
            if connection.receive()? {
                round_trips += 1;
                if counting.is_some() {
                    times.push(connection.sent_at.elapsed().as_nanos() as u64);
                }
                connection.send()?;
            }
        }
    }
}
