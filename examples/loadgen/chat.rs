//! The chat load: `loadgen -- chat ADDR CLIENTS LINES [--pasted]`. Every
//! client sends LINES numbered lines while reading; each must receive every
//! other client's lines, intact and in order per sender (`CLIENTS ×
//! (CLIENTS-1) × LINES` deliveries in all).
//!
//! How the lines leave a client is the [`Writes`]: one write per line, as
//! clients typing at once or programs saying each line as they have it (the
//! clients take turns, a line each, so the server mostly reads one line at
//! a time from each), or all of a client's lines in one write, as a paste
//! arrives from a client that sends what it was given at once (the server
//! reads many in each chunk).
//!
//! All the clients run on one thread, with non-blocking sockets and an
//! edge-triggered poller. Each client's lines are made before the clock
//! starts, and the lines it hears are checked in place, so the load costs
//! much less per delivery than the servers it measures. (Until the
//! nineteenth round of `docs/PERFORMANCE.md` each client was two threads,
//! which made each line it checked: that load cost several times the
//! server's CPU per delivery, so its deliveries per second were the load's,
//! not the server's.)

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

/// How each client writes its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Writes {
    /// A write for each line (on a socket with `TCP_NODELAY`, a segment each).
    PerLine,
    /// All of a client's lines in a single write.
    Pasted,
}

impl Writes {
    /// The name the load generator and the benches print.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Writes::PerLine => "a write per line",
            Writes::Pasted => "pasted, one write per client",
        }
    }
}

/// What the chat load achieved.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) delivered: usize,
    pub(crate) expected: usize,
    pub(crate) elapsed: Duration,
    /// What `cpu_clock` moved by over `elapsed`: a bench passes the
    /// server's CPU time.
    #[allow(dead_code)] // read by benches/chat.rs; the load generator has no clock to give
    pub(crate) cpu: Duration,
}

fn line(client: usize, n: usize) -> String {
    format!("client {client:04} line {n:06} {}\n", "x".repeat(40))
}

/// Runs the load; fails on the first line out of order or damaged.
/// `cpu_clock` is read when the last client has joined and after the last
/// delivery (a bench gives the server's CPU time; the load generator, none).
pub(crate) fn run(
    address: SocketAddr,
    clients: usize,
    lines: usize,
    writes: Writes,
    cpu_clock: impl Fn() -> Duration,
) -> io::Result<Outcome> {
    if clients > 9_999 || lines > 999_999 {
        // Each line is 65 bytes, with four digits for its client and six
        // for its number.
        return Err(io::Error::other(
            "the chat load takes at most 9,999 clients and 999,999 lines each",
        ));
    }
    // Join one at a time: a client has joined once every earlier one has
    // received its `joined` line. The first has nobody to prove it by: the
    // second says hello until the first hears it (with several schedulers
    // the first may be accepted after the second's line has gone round).
    let mut joined: Vec<(TcpStream, BufReader<TcpStream>)> = Vec::new();
    for c in 0..clients {
        let mut stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        let reader = BufReader::new(stream.try_clone()?);
        if c == 1 {
            let (_, first) = &mut joined[0];
            first
                .get_ref()
                .set_read_timeout(Some(Duration::from_millis(20)))?;
            let mut got = String::new();
            for attempt in 0.. {
                stream.write_all(format!("joined 1 (try {attempt})\n").as_bytes())?;
                match first.read_line(&mut got) {
                    Ok(_) if got.starts_with("joined 1 ") => break,
                    Ok(_) => {
                        return Err(io::Error::other(format!("expected a hello, got {got:?}")))
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        if attempt == 500 {
                            return Err(io::Error::other("the first client hears nothing"));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            first.get_ref().set_read_timeout(None)?;
        }
        if c > 1 {
            let hello = format!("joined {c}\n");
            stream.write_all(hello.as_bytes())?;
            for (_, r) in &mut joined {
                // Skipping the second client's spare hellos.
                let mut got = String::new();
                while {
                    got.clear();
                    r.read_line(&mut got)?;
                    got.starts_with("joined 1 ")
                } {}
                if got != hello {
                    return Err(io::Error::other(format!("expected {hello:?}, got {got:?}")));
                }
            }
        }
        joined.push((stream, reader));
    }
    let started = Instant::now();
    let cpu_at_start = cpu_clock();
    let expected_each = (clients - 1) * lines;
    let mut each: Vec<Client> = joined
        .into_iter()
        .enumerate()
        .map(|(c, (stream, reader))| Client::new(c, clients, stream, reader.buffer(), lines))
        .collect::<io::Result<_>>()?;
    converse(&mut each, writes, expected_each)?;
    let elapsed = started.elapsed();
    Ok(Outcome {
        delivered: each.iter().map(|c| c.received).sum(),
        expected: clients * expected_each,
        elapsed,
        cpu: cpu_clock().saturating_sub(cpu_at_start),
    })
}

/// How long the load waits for a delivery before it decides that the
/// server has stopped delivering.
const STALL: Duration = Duration::from_secs(30);

/// Bytes read at a time from a client's socket.
const READ: usize = 64 * 1024;

/// One client of the chat, on the load's one thread.
struct Client {
    id: usize,
    stream: TcpStream,
    /// Its lines, written out before the clock starts.
    said: Vec<u8>,
    /// How much of `said` is written.
    written: usize,
    /// A write would block: it waits for the socket to take more.
    blocked: bool,
    /// What it has read: up to `filled`, of which only the start of a line
    /// is left once each read's whole lines are checked.
    heard: Box<[u8]>,
    filled: usize,
    /// The number of the next line it expects from each other client.
    next: Vec<usize>,
    received: usize,
}

impl Client {
    /// Client `id` of `clients`, whose join left `buffered` read and
    /// unchecked, to say `lines` lines.
    fn new(
        id: usize,
        clients: usize,
        stream: TcpStream,
        buffered: &[u8],
        lines: usize,
    ) -> io::Result<Client> {
        stream.set_nonblocking(true)?;
        let said: Vec<u8> = (0..lines).flat_map(|n| line(id, n).into_bytes()).collect();
        let mut heard = vec![0; READ.max(buffered.len())].into_boxed_slice();
        heard[..buffered.len()].copy_from_slice(buffered);
        Ok(Client {
            id,
            stream,
            said,
            written: 0,
            blocked: false,
            heard,
            filled: buffered.len(),
            next: vec![0; clients],
            received: 0,
        })
    }

    /// Writes its next line (a write per line), or all it has left
    /// (pasted); false once the socket would block.
    fn say(&mut self, writes: Writes) -> io::Result<bool> {
        let end = match writes {
            Writes::PerLine => (self.written / LINE + 1) * LINE,
            Writes::Pasted => self.said.len(),
        };
        let end = end.min(self.said.len());
        while self.written < end {
            match self.stream.write(&self.said[self.written..end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.blocked = true;
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn has_more_to_say(&self) -> bool {
        self.written < self.said.len()
    }

    /// Reads until the socket is empty, checking every whole line.
    fn hear(&mut self) -> io::Result<()> {
        loop {
            match self.stream.read(&mut self.heard[self.filled..]) {
                Ok(0) => {
                    return Err(io::Error::other(format!(
                        "client {}: closed early",
                        self.id
                    )))
                }
                Ok(n) => {
                    self.filled += n;
                    self.check()?;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks the whole lines heard, keeping the start of the next.
    fn check(&mut self) -> io::Result<()> {
        let clients = self.next.len();
        let mut at = 0;
        while let Some(end) = memchr::memchr(b'\n', &self.heard[at..self.filled]) {
            let got = &self.heard[at..at + end + 1];
            at += end + 1;
            // The second client's spare hellos, still on their way from
            // another scheduler.
            if got.starts_with(b"joined ") {
                continue;
            }
            let from = parse_from(got).filter(|&f| f < clients && f != self.id);
            let Some(from) = from.filter(|&f| is_line(got, f, self.next[f])) else {
                let from = parse_from(got).unwrap_or(0);
                return Err(io::Error::other(format!(
                    "client {}: expected line {} of client {from}, got {:?}",
                    self.id,
                    self.next.get(from).copied().unwrap_or(0),
                    String::from_utf8_lossy(got)
                )));
            };
            self.next[from] += 1;
            self.received += 1;
        }
        self.heard.copy_within(at..self.filled, 0);
        self.filled -= at;
        if self.filled == self.heard.len() {
            return Err(io::Error::other(format!(
                "client {}: a line longer than {} bytes",
                self.id,
                self.heard.len()
            )));
        }
        Ok(())
    }
}

/// The length of every line [`line`] makes.
const LINE: usize = 65;

/// The sender's number in a line [`line`] made.
fn parse_from(got: &[u8]) -> Option<usize> {
    got.get(7..11)?.iter().try_fold(0, |value, &b| {
        b.is_ascii_digit()
            .then(|| value * 10 + usize::from(b - b'0'))
    })
}

/// Whether `got` is line `n` of client `from`, as [`line`] makes it,
/// without making it: the bytes other than the two numbers are compared
/// with a line's whole, the numbers digit by digit.
fn is_line(got: &[u8], from: usize, n: usize) -> bool {
    fn digits(field: &[u8], mut value: usize) -> bool {
        for &b in field.iter().rev() {
            if b != b'0' + (value % 10) as u8 {
                return false;
            }
            value /= 10;
        }
        value == 0
    }
    const SHAPE: &[u8; LINE] =
        b"client 0000 line 000000 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";
    got.len() == LINE
        && got[..7] == SHAPE[..7]
        && got[11..17] == SHAPE[11..17]
        && got[23..] == SHAPE[23..]
        && digits(&got[7..11], from)
        && digits(&got[17..23], n)
}

/// Every client says its lines and hears everyone else's, on this thread:
/// with a write per line, each client in turn writes one line a round,
/// reading between rounds what has come, so the server reads each
/// client's lines a few at a time, as they come.
fn converse(clients: &mut [Client], writes: Writes, expected_each: usize) -> io::Result<()> {
    let poller = Poller::new()?;
    for (key, client) in clients.iter().enumerate() {
        // SAFETY: each socket is deleted from the poller below, before
        // `clients` can be dropped.
        unsafe { poller.add_with_mode(&client.stream, Event::all(key), PollMode::Edge)? };
    }
    let result = converse_on(&poller, clients, writes, expected_each);
    for client in clients.iter() {
        let _ = poller.delete(&client.stream);
    }
    result
}

fn converse_on(
    poller: &Poller,
    clients: &mut [Client],
    writes: Writes,
    expected_each: usize,
) -> io::Result<()> {
    let count = clients.len();
    // What the join left unchecked.
    for client in clients.iter_mut() {
        client.check()?;
    }
    let mut events = Events::with_capacity(NonZeroUsize::new(1024).expect("not zero"));
    let mut heard_last = Instant::now();
    // Counted, not looked for: a wake costs the same with 10 clients or
    // 9,999.
    let mut hearing = clients
        .iter()
        .filter(|c| c.received < expected_each)
        .count();
    // Clients with more to say: all of them, and those that can write now.
    let mut saying = clients.iter().filter(|c| c.has_more_to_say()).count();
    let mut ready: Vec<usize> = (0..count)
        .filter(|&n| clients[n].has_more_to_say())
        .collect();
    let mut round = Vec::with_capacity(count);
    loop {
        // A round of writes: a line from each client that can write (with
        // a write per line), or all it has left (pasted).
        std::mem::swap(&mut ready, &mut round);
        for n in round.drain(..) {
            let client = &mut clients[n];
            client.say(writes)?;
            if !client.has_more_to_say() {
                saying -= 1;
            } else if !client.blocked {
                ready.push(n);
            }
        }
        if saying == 0 && hearing == 0 {
            return Ok(());
        }
        events.clear();
        // While a client can write on, only a look: its next line goes in
        // the next round.
        let wait = if ready.is_empty() {
            STALL
        } else {
            Duration::ZERO
        };
        poller.wait(&mut events, Some(wait))?;
        for event in events.iter() {
            let client = &mut clients[event.key];
            if event.writable && client.blocked {
                client.blocked = false;
                ready.push(event.key);
            }
            if event.readable {
                let before = client.received;
                client.hear()?;
                if client.received > before {
                    heard_last = Instant::now();
                    if before < expected_each && client.received >= expected_each {
                        hearing -= 1;
                    }
                }
            }
        }
        if heard_last.elapsed() >= STALL {
            return Err(io::Error::other(format!(
                "no line delivered for {STALL:?}: {} of {} delivered",
                clients.iter().map(|c| c.received).sum::<usize>(),
                count * expected_each
            )));
        }
    }
}
