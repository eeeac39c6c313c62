//! Chat deliveries per second: the `simple_server` example against a tokio
//! `current_thread` chat server, in the same run.
//!
//! `cargo bench --bench chat` (`CHAT_ROUNDS=<n>` rounds, 5 by default;
//! `CHAT_CLIENTS` / `CHAT_LINES`, 50 and 200 by default; `CHAT_SIDE_BY_SIDE=<n>`
//! rounds side by side, 3 by default; `CHAT_WRITES=per-line|pasted` runs
//! only that load, both by default; `CHAT_TOKIO=per-line|together` only that
//! tokio server, both by default; `CHAT_LARGE=1` adds 200 clients × 100
//! lines; `CHAT_AGAINST=<path>` runs only the side-by-side rounds, against
//! another build of `simple_server` instead of tokio: an A/B of two builds
//! under the same drift, the churn's too; `CHAT_CHURN=<n>` runs only the
//! churn, below, of `n` connections a round)
//!
//! The load is the load generator's chat mode (`examples/loadgen/chat.rs`):
//! the clients join one at a time, then every client sends its numbered lines
//! while reading, and must receive every other client's lines, intact and in
//! order per sender — `CLIENTS × (CLIENTS-1) × LINES` deliveries, all checked.
//! The time is from the last join to the last delivery. It is run twice:
//! with a write per line, the clients taking turns, a line each (the server
//! mostly reads one line at a time from each), and with each client's lines
//! pasted in one write (the server reads many in each chunk).
//!
//! Kamaelia's server is the example itself, `simple_server --port 0` (a
//! ServerCore with a Pipeline per connection on a flow-controlled Backplane),
//! run as a child process started from a thread pinned to CPU 0, so that it
//! inherits that CPU (the bench has cargo build it first, as `cargo bench
//! --bench chat` builds no example). The tokio servers, on a thread pinned to
//! CPU 0, are what a tokio user would write: a `broadcast` channel and a task
//! per client, broadcasting each line by itself (as tokio's own chat example
//! does), or the whole lines of each read together, as `simple_server` does
//! (its `LineSplitter::lines_together`). The load generator runs on CPU 1. The servers take turns over the rounds; the
//! summary gives each one's median, the ratio of the medians, and the median
//! of each round's own ratio.
//!
//! The load runs all its clients on one thread and checks each line in
//! place, at about 110 ns of CPU 1 per delivery: less than the tokio server
//! that broadcasts each line spends, more than ours or the tokio server that
//! broadcasts a read's lines together spends on a paste, so there the
//! deliveries per second of those two are floors. The bench therefore also reports each
//! server's CPU time per delivery (counted from the last join to the last
//! delivery: the process's for kamaelia, the server thread's for tokio),
//! which compares the servers whatever the load's cost.
//!
//! Then the two run side by side: both servers on CPU 0 at once, each under
//! its own loads, both loads on CPU 1. The VM's drift, which moves the turns'
//! ratios by ±0.1, then hits both alike.
//!
//! The churn (`CHAT_CHURN=<n>`) measures what the loads leave out, a
//! connection's setup and teardown: as the accept bench does, client
//! threads on CPU 1 connect, shut their sending side and read until the
//! server closes, `n` connections a round, the servers taking turns, then
//! side by side (`CHAT_SIDE_BY_SIDE` rounds); each connection joins the
//! chat (a subscription to the broadcast, for kamaelia its Pipeline too)
//! and leaves it.

#[path = "../examples/loadgen/chat.rs"]
mod chat;
#[path = "support/churn.rs"]
mod churn;
#[allow(dead_code)] // its echo servers: the chat uses only the pinning, the rounds and the medians
mod support;

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::sync::broadcast;

use chat::Writes;
use churn::churn;
use support::{
    build_example, cpu_time_of, median, pin, Server, TokioServer, BACKLOG, CLIENT_CPU, SERVER_CPU,
};

const DEFAULT_ROUNDS: usize = 5;
const DEFAULT_CLIENTS: usize = 50;
const DEFAULT_LINES: usize = 200;
/// Rounds of [`side_by_side`], and the bursts each server takes per round.
const SIDE_BY_SIDE: usize = 3;
const BURSTS: usize = 8;
/// The churn's client threads, as the accept bench's.
const CHURN_CLIENTS: usize = 16;
/// What the servers are started for in the churn: no line is said, so the
/// tokio servers' broadcast needs no room.
const CHURN_LOAD: Load = Load {
    clients: 2,
    lines: 0,
    writes: Writes::PerLine,
};

/// The large case's clients and lines.
const LARGE: (usize, usize) = (200, 100);

/// The tokio server's broadcast capacity for `clients` × `lines`: room for
/// every line of the load (the `joined` lines too), so no receiver can lag.
///
/// A broadcast channel does not slow the senders to the slowest reader
/// (kamaelia's backplane does), and a receiver that lags loses lines; 4096
/// lagged by over a thousand lines at 50 × 200 in some rounds, and by 2,280
/// at 200 × 100. Should one lag all the same, the server closes every
/// connection (the load fails rather than waits for lines that will never
/// come) and the bench reports it.
fn broadcast_capacity(clients: usize, lines: usize) -> usize {
    (clients * (lines + 1)).max(4096)
}

/// The longest line the tokio servers take, as `simple_server`'s `MAX_LINE`.
const MAX_LINE: usize = 4096;

/// What the tokio server that reads lines together reads into at a time:
/// what `simple_server`'s connections read at a time.
const READ_SIZE: usize = kamaelia::DEFAULT_READ_SIZE;

/// A chat server under test.
trait ChatServer {
    /// Where it listens.
    fn address(&self) -> SocketAddr;
    /// Stops it; says what went wrong inside it, if anything did.
    fn stop(self: Box<Self>) -> Result<(), String>;
    /// Where `/proc` keeps its process's or thread's CPU time (see
    /// [`cpu_time_of`]).
    fn cpu_stat(&self) -> String;
}

/// The `simple_server` example, as a child process on [`SERVER_CPU`].
struct Kamaelia {
    address: SocketAddr,
    child: Child,
    // Held so that the child never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Kamaelia {
    fn start(binary: &Path) -> io::Result<Box<dyn ChatServer>> {
        let binary = binary.to_path_buf();
        // A process inherits the CPUs of the thread that starts it.
        let mut child = thread::spawn(move || {
            pin(SERVER_CPU);
            Command::new(binary)
                .args(["--host", "127.0.0.1", "--port", "0"])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
        })
        .join()
        .map_err(|_| io::Error::other("the starting thread panicked"))??;
        let mut stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| io::Error::other("no stdout"))?,
        );
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let address = line
            .trim_end()
            .strip_prefix("simple_server listening on ")
            .and_then(|a| a.parse().ok());
        match address {
            Some(address) => Ok(Box::new(Kamaelia {
                address,
                child,
                _stdout: stdout,
            })),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!(
                    "simple_server printed {line:?}, not `simple_server listening on ADDR`"
                )))
            }
        }
    }
}

impl ChatServer for Kamaelia {
    fn address(&self) -> SocketAddr {
        self.address
    }

    fn cpu_stat(&self) -> String {
        self.child.id().to_string()
    }

    fn stop(mut self: Box<Self>) -> Result<(), String> {
        // Still running means it did not fail during the load.
        let before = self.child.try_wait().map_err(|e| e.to_string())?;
        let _ = self.child.kill();
        let _ = self.child.wait();
        match before {
            None => Ok(()),
            Some(status) => Err(format!("simple_server exited during the load: {status}")),
        }
    }
}

/// What a tokio chat server's connections broadcast of what they read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Broadcasts {
    /// Each line by itself (`read_until`), broadcast as it is read.
    PerLine,
    /// Whatever a read brings, its whole lines broadcast as one message (a
    /// line cut by the read's end waits for the rest).
    LinesTogether,
}

impl Broadcasts {
    fn name(self) -> &'static str {
        match self {
            Broadcasts::PerLine => "tokio (a broadcast per line)",
            Broadcasts::LinesTogether => "tokio (a read's lines together)",
        }
    }
}

/// A tokio `current_thread` chat server on a thread pinned to
/// [`SERVER_CPU`]: one `broadcast` channel of `(sender, lines)`, a task per
/// connection reading lines into it (see [`Broadcasts`]) and writing every other
/// client's lines out, through a `BufWriter` flushed whenever the channel
/// has nothing more for it.
struct Tokio {
    server: TokioServer,
    lagged: Arc<Lagged>,
}

impl Tokio {
    fn start(capacity: usize, broadcasts: Broadcasts) -> io::Result<Box<dyn ChatServer>> {
        let lagged = Arc::new(Lagged::default());
        let lag_count = Arc::clone(&lagged);
        let server = TokioServer::start(BACKLOG, move |listener| async move {
            let (lines, _) = broadcast::channel::<(u64, Bytes)>(capacity);
            let accept = async {
                for id in 0u64.. {
                    let Ok((socket, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = socket.set_nodelay(true);
                    // Subscribed before the connection's first line is
                    // read, so it hears every line after it joined.
                    let heard = Heard {
                        me: id,
                        heard: lines.subscribe(),
                        lagged: Arc::clone(&lag_count),
                    };
                    let said = lines.clone();
                    match broadcasts {
                        Broadcasts::PerLine => tokio::spawn(per_line(socket, said, heard)),
                        Broadcasts::LinesTogether => {
                            tokio::spawn(lines_together(socket, said, heard))
                        }
                    };
                }
            };
            tokio::select! {
                _ = accept => {}
                _ = lag_count.happened.notified() => {}
            }
        });
        Ok(Box::new(Tokio { server, lagged }))
    }
}

/// How many lines the tokio server's receivers skipped, and the signal that
/// ends the server when one does.
#[derive(Default)]
struct Lagged {
    lines: AtomicU64,
    happened: tokio::sync::Notify,
}

/// What one client of a tokio server hears: every other client's lines.
struct Heard {
    me: u64,
    heard: broadcast::Receiver<(u64, Bytes)>,
    lagged: Arc<Lagged>,
}

impl Heard {
    /// Writes out `got` and whatever else the channel holds now, then
    /// flushes; false once the client or the channel is gone.
    async fn write(
        &mut self,
        got: Result<(u64, Bytes), broadcast::error::RecvError>,
        write: &mut BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    ) -> bool {
        let mut next = got;
        loop {
            match next {
                Ok((from, text)) if from != self.me => {
                    if write.write_all(&text).await.is_err() {
                        return false;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.lagged.lines.fetch_add(n, Ordering::Relaxed);
                    self.lagged.happened.notify_one();
                    return false;
                }
                Err(broadcast::error::RecvError::Closed) => return false,
            }
            next = match self.heard.try_recv() {
                Ok(m) => Ok(m),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    Err(broadcast::error::RecvError::Lagged(n))
                }
                Err(_) => break,
            };
        }
        write.flush().await.is_ok()
    }
}

/// One client of the tokio server that broadcasts each line by itself,
/// until it closes.
async fn per_line(
    socket: tokio::net::TcpStream,
    said: broadcast::Sender<(u64, Bytes)>,
    mut heard: Heard,
) {
    let (read, write) = socket.into_split();
    let mut read = tokio::io::BufReader::new(read).take(MAX_LINE as u64);
    let mut write = BufWriter::new(write);
    let mut line = Vec::new();
    loop {
        tokio::select! {
            // `read_until` keeps what it has read in `line` when the other
            // branch wins, so no byte is lost.
            n = read.read_until(b'\n', &mut line) => {
                match n {
                    Ok(0) | Err(_) => return,
                    Ok(_) if line.ends_with(b"\n") => {
                        read.set_limit(MAX_LINE as u64);
                        let _ = said.send((heard.me, Bytes::from(std::mem::take(&mut line))));
                    }
                    // A line longer than MAX_LINE: the client is closed.
                    Ok(_) if read.limit() == 0 => return,
                    // The client closed after a last line without its
                    // newline: it is delivered whole, and the next read ends.
                    Ok(_) => {
                        line.push(b'\n');
                        let _ = said.send((heard.me, Bytes::from(std::mem::take(&mut line))));
                    }
                }
            }
            got = heard.heard.recv() => {
                if !heard.write(got, &mut write).await {
                    return;
                }
            }
        }
    }
}

/// One client of the tokio server that broadcasts the whole lines of each
/// read as one message, until it closes.
async fn lines_together(
    socket: tokio::net::TcpStream,
    said: broadcast::Sender<(u64, Bytes)>,
    mut heard: Heard,
) {
    let (mut read, write) = socket.into_split();
    let mut write = BufWriter::new(write);
    let mut unsaid = BytesMut::new();
    loop {
        if unsaid.capacity() - unsaid.len() < 1024 {
            unsaid.reserve(READ_SIZE);
        }
        tokio::select! {
            // `read_buf` reads nothing when the other branch wins.
            n = read.read_buf(&mut unsaid) => {
                match n {
                    Ok(0) | Err(_) => {
                        // A last line without its newline is delivered whole.
                        if !unsaid.is_empty() {
                            unsaid.extend_from_slice(b"\n");
                            let _ = said.send((heard.me, unsaid.split().freeze()));
                        }
                        return;
                    }
                    Ok(_) => {
                        let whole = unsaid.iter().rposition(|&b| b == b'\n').map_or(0, |end| end + 1);
                        let lines = unsaid.split_to(whole).freeze();
                        // A line longer than MAX_LINE: the client is closed.
                        if unsaid.len() >= MAX_LINE
                            || lines.split_inclusive(|&b| b == b'\n').any(|l| l.len() > MAX_LINE)
                        {
                            return;
                        }
                        if !lines.is_empty() {
                            let _ = said.send((heard.me, lines));
                        }
                    }
                }
            }
            got = heard.heard.recv() => {
                if !heard.write(got, &mut write).await {
                    return;
                }
            }
        }
    }
}

impl ChatServer for Tokio {
    fn address(&self) -> SocketAddr {
        self.server.address()
    }

    fn cpu_stat(&self) -> String {
        self.server.cpu_stat()
    }

    fn stop(self: Box<Self>) -> Result<(), String> {
        self.server
            .shut()
            .map_err(|_| "the tokio server panicked".to_string())?;
        match self.lagged.lines.load(Ordering::Relaxed) {
            0 => Ok(()),
            n => Err(format!(
                "the tokio server's receivers lagged by {n} lines: its broadcast capacity is too small for this load"
            )),
        }
    }
}

/// A whole-number setting from the environment, or `default`.
fn setting(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// The load's shape: how many clients, how many lines each, how they write.
#[derive(Clone, Copy)]
struct Load {
    clients: usize,
    lines: usize,
    writes: Writes,
}

impl Load {
    fn deliveries(&self) -> f64 {
        (self.clients * (self.clients - 1) * self.lines) as f64
    }

    /// Runs it once on the server at `address`, checking every delivery;
    /// the time it took and the CPU time `stat` moved by.
    fn run(&self, address: SocketAddr, stat: &str) -> io::Result<(Duration, Duration)> {
        let outcome = chat::run(address, self.clients, self.lines, self.writes, || {
            cpu_time_of(stat)
        })?;
        if outcome.delivered != outcome.expected {
            return Err(io::Error::other(format!(
                "{} of {} lines delivered",
                outcome.delivered, outcome.expected
            )));
        }
        Ok((outcome.elapsed, outcome.cpu))
    }
}

/// A server the bench starts: kamaelia's (this build or another), or a
/// tokio one.
#[derive(Clone, Copy)]
enum Contender<'a> {
    Kamaelia(&'a Path),
    Tokio(Broadcasts),
}

impl Contender<'_> {
    fn start(self, load: Load) -> io::Result<Box<dyn ChatServer>> {
        match self {
            Contender::Kamaelia(binary) => Kamaelia::start(binary),
            Contender::Tokio(broadcasts) => {
                Tokio::start(broadcast_capacity(load.clients, load.lines), broadcasts)
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Contender::Kamaelia(_) => "kamaelia simple_server (ServerCore + Backplane)",
            Contender::Tokio(broadcasts) => broadcasts.name(),
        }
    }
}

/// One load on one server: the seconds it took, every delivery checked, and
/// the server's CPU seconds over the same span.
fn measure(contender: Contender<'_>, load: Load) -> (f64, f64) {
    let name = contender.name();
    let server = contender
        .start(load)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let address = server.address();
    let stat = server.cpu_stat();
    let outcome = thread::spawn(move || {
        pin(CLIENT_CPU);
        load.run(address, &stat)
    })
    .join()
    .expect("no panic");
    // What went wrong in the server explains what went wrong in the load.
    if let Err(e) = server.stop() {
        panic!("{name}: {e}");
    }
    let (elapsed, cpu) = outcome.unwrap_or_else(|e| panic!("{name}: the load failed: {e}"));
    (elapsed.as_secs_f64(), cpu.as_secs_f64())
}

/// Runs `rounds` rounds of `load` on kamaelia's server and each of `peers`,
/// in turns, and prints the rounds and the summary.
fn compare(binary: &Path, rounds: usize, load: Load, peers: &[Broadcasts]) {
    let deliveries = load.deliveries();
    let mut contenders = vec![Contender::Kamaelia(binary)];
    contenders.extend(peers.iter().map(|&broadcasts| Contender::Tokio(broadcasts)));
    println!(
        "{} clients x {} lines, {} ({deliveries:.0} deliveries; tokio broadcast capacity {})",
        load.clients,
        load.lines,
        load.writes.name(),
        broadcast_capacity(load.clients, load.lines)
    );
    // Each server's (seconds, CPU seconds) in each round.
    let runs = support::rounds(
        rounds,
        contenders.len(),
        |i| measure(contenders[i], load),
        |round, this| {
            let figures: Vec<String> = contenders
                .iter()
                .zip(this)
                .map(|(contender, (seconds, cpu))| {
                    format!(
                        "{} {seconds:.3} s ({:.0} deliveries/s, {:.0} ns CPU each)",
                        contender.name(),
                        deliveries / seconds,
                        cpu * 1e9 / deliveries
                    )
                })
                .collect();
            println!("round {round}: {}", figures.join("; "));
        },
    );
    println!();
    println!(
        "{} clients x {} lines, {}, server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU}, median of {rounds} rounds",
        load.clients,
        load.lines,
        load.writes.name()
    );
    println!(
        "{:<52} {:>9} {:>14} {:>16}",
        "server", "seconds", "deliveries/s", "CPU ns/delivery"
    );
    let medians: Vec<(f64, f64)> = runs
        .iter()
        .map(|run| {
            (
                median(run.iter().map(|r| r.0).collect()),
                median(run.iter().map(|r| r.1).collect()),
            )
        })
        .collect();
    for (contender, (seconds, cpu)) in contenders.iter().zip(&medians) {
        println!(
            "{:<52} {seconds:>9.3} {:>14.0} {:>16.0}",
            contender.name(),
            deliveries / seconds,
            cpu * 1e9 / deliveries
        );
    }
    for (i, contender) in contenders.iter().enumerate().skip(1) {
        let own = |of: fn(&(f64, f64)) -> f64| support::own_ratio(&runs, 0, i, of);
        println!(
            "against {}: time {:.2}x (rounds' own: {:.2}x; <1 means kamaelia is faster), server CPU per delivery {:.2}x (rounds' own: {:.2}x)",
            contender.name(),
            medians[0].0 / medians[i].0,
            own(|r| r.0),
            medians[0].1 / medians[i].1,
            own(|r| r.1),
        );
    }
    println!();
}

/// Kamaelia's server and `peer` side by side, `rounds` times: both started
/// with `load`'s settings on [`SERVER_CPU`] at once, and `work` run on each
/// at the same time from a thread pinned to [`CLIENT_CPU`], returning the
/// server CPU time it took (given the server's address and `/proc` stat).
/// The VM's drift then hits both alike. Returns each round's ratio of
/// kamaelia's CPU time to the peer's.
fn side_by_side_ratios<W>(
    binary: &Path,
    peer: Contender<'_>,
    rounds: usize,
    load: Load,
    work: W,
) -> Vec<f64>
where
    W: Fn(SocketAddr, &str) -> io::Result<Duration> + Copy + Send + 'static,
{
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let servers = [Contender::Kamaelia(binary), peer].map(|contender| {
            contender
                .start(load)
                .unwrap_or_else(|e| panic!("{}: {e}", contender.name()))
        });
        let works = servers.each_ref().map(|server| {
            let (address, stat) = (server.address(), server.cpu_stat());
            thread::spawn(move || {
                pin(CLIENT_CPU);
                work(address, &stat)
            })
        });
        let cpu = works.map(|w| w.join().expect("no panic"));
        for (server, name) in servers.into_iter().zip(["kamaelia", peer_name(peer)]) {
            if let Err(e) = server.stop() {
                panic!("{name}: {e}");
            }
        }
        let [k, t] = cpu.map(|c| c.unwrap_or_else(|e| panic!("the load failed: {e}")));
        ratios.push(k.as_secs_f64() / t.as_secs_f64());
    }
    ratios
}

/// What `peer` is called in a side-by-side summary.
fn peer_name(peer: Contender<'_>) -> &'static str {
    match peer {
        Contender::Kamaelia(_) => "the other build",
        Contender::Tokio(broadcasts) => broadcasts.name(),
    }
}

/// The median of `ratios`, and each, for a summary line.
fn ratios_summary(ratios: Vec<f64>) -> (f64, String) {
    let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    (median(ratios), each.join(", "))
}

/// Kamaelia's server and `peer` side by side (see [`side_by_side_ratios`]),
/// each under `bursts` loads in a row: the bursts add up to enough CPU time
/// for the ratio of the servers' CPU per delivery to be read to about 0.03.
fn side_by_side(binary: &Path, peer: Contender<'_>, rounds: usize, bursts: usize, load: Load) {
    let ratios = side_by_side_ratios(binary, peer, rounds, load, move |address, stat| {
        let mut cpu = Duration::ZERO;
        for _ in 0..bursts {
            cpu += load.run(address, stat)?.1;
        }
        Ok(cpu)
    });
    let (median, each) = ratios_summary(ratios);
    println!(
        "{}, side by side (both servers on CPU {SERVER_CPU} at once, {bursts} bursts each, the loads on CPU {CLIENT_CPU}): \
         kamaelia against {}: server CPU per delivery {median:.2}x (rounds: {each})",
        load.writes.name(),
        peer_name(peer),
    );
}

/// Connections per second, and the server's CPU µs per connection, over
/// `connections` connections that join the chat and leave it (see the
/// module's doc), on `contender`.
fn measure_churn(contender: Contender<'_>, connections: usize) -> (f64, f64) {
    let name = contender.name();
    let server = contender
        .start(CHURN_LOAD)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let (address, stat) = (server.address(), server.cpu_stat());
    let before = cpu_time_of(&stat);
    let rate = churn(address, connections, CHURN_CLIENTS);
    let cpu = cpu_time_of(&stat).saturating_sub(before);
    if let Err(e) = server.stop() {
        panic!("{name}: {e}");
    }
    (rate, cpu.as_secs_f64() * 1e6 / connections as f64)
}

/// Runs `rounds` rounds of [`measure_churn`] on kamaelia's server and each
/// of `peers`, in turns, and prints the rounds and the summary.
fn compare_churn(binary: &Path, rounds: usize, connections: usize, peers: &[Broadcasts]) {
    let mut contenders = vec![Contender::Kamaelia(binary)];
    contenders.extend(peers.iter().map(|&broadcasts| Contender::Tokio(broadcasts)));
    let runs = support::rounds(
        rounds,
        contenders.len(),
        |i| measure_churn(contenders[i], connections),
        |round, this| {
            let figures: Vec<String> = contenders
                .iter()
                .zip(this)
                .map(|(c, (rate, cpu))| format!("{} {rate:.0}/s ({cpu:.1} µs CPU each)", c.name()))
                .collect();
            println!("round {round}: churn: {}", figures.join("; "));
        },
    );
    println!();
    println!(
        "churn: {connections} connections a round joining the chat and leaving (connect, FIN, server closes) \
         from {CHURN_CLIENTS} client threads, server on CPU {SERVER_CPU}, clients on CPU {CLIENT_CPU}, median of {rounds} rounds"
    );
    println!(
        "{:<52} {:>14} {:>18}",
        "server", "connections/s", "CPU µs/connection"
    );
    let of = |run: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| median(run.iter().map(f).collect());
    for (contender, run) in contenders.iter().zip(&runs) {
        println!(
            "{:<52} {:>14.0} {:>18.1}",
            contender.name(),
            of(run, |r| r.0),
            of(run, |r| r.1)
        );
    }
    for (i, contender) in contenders.iter().enumerate().skip(1) {
        println!(
            "against {}: connections/s {:.2}x (rounds' own: {:.2}x), server CPU per connection {:.2}x (rounds' own: {:.2}x)",
            contender.name(),
            of(&runs[0], |r| r.0) / of(&runs[i], |r| r.0),
            support::own_ratio(&runs, 0, i, |r| r.0),
            of(&runs[0], |r| r.1) / of(&runs[i], |r| r.1),
            support::own_ratio(&runs, 0, i, |r| r.1),
        );
    }
    println!();
}

/// Kamaelia's server and `peer` side by side (see [`side_by_side_ratios`]),
/// each churned by `connections` connections; prints the median of the
/// rounds' ratios of CPU per connection.
fn churn_side_by_side(binary: &Path, peer: Contender<'_>, rounds: usize, connections: usize) {
    let ratios = side_by_side_ratios(binary, peer, rounds, CHURN_LOAD, move |address, stat| {
        let before = cpu_time_of(stat);
        churn(address, connections, CHURN_CLIENTS);
        Ok(cpu_time_of(stat).saturating_sub(before))
    });
    let (median, each) = ratios_summary(ratios);
    println!(
        "churn, side by side (both servers on CPU {SERVER_CPU} at once, {connections} connections each, \
         the clients on CPU {CLIENT_CPU}): kamaelia against {}: server CPU per connection {median:.2}x (rounds: {each})",
        peer_name(peer),
    );
}

/// `name`'s value among `choices`, or all of them when it is not set.
fn chosen<T: Copy>(name: &str, choices: &[(&str, T)]) -> Vec<T> {
    match std::env::var(name) {
        Err(_) => choices.iter().map(|&(_, c)| c).collect(),
        Ok(v) => match choices.iter().find(|(n, _)| *n == v) {
            Some(&(_, c)) => vec![c],
            None => {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                panic!("{name}={v:?} is none of {}", names.join(", "))
            }
        },
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let binary = build_example("simple_server").unwrap_or_else(|e| panic!("simple_server: {e}"));
    let rounds = setting("CHAT_ROUNDS", DEFAULT_ROUNDS).max(1);
    let clients = setting("CHAT_CLIENTS", DEFAULT_CLIENTS).max(2);
    let lines = setting("CHAT_LINES", DEFAULT_LINES);
    let writes = chosen(
        "CHAT_WRITES",
        &[("per-line", Writes::PerLine), ("pasted", Writes::Pasted)],
    );
    let peers = chosen(
        "CHAT_TOKIO",
        &[
            ("per-line", Broadcasts::PerLine),
            ("together", Broadcasts::LinesTogether),
        ],
    );
    if let Ok(connections) = std::env::var("CHAT_CHURN") {
        let connections = connections
            .parse()
            .unwrap_or_else(|_| panic!("CHAT_CHURN={connections:?} is not a whole number"));
        // An A/B of two builds: side by side only, as for the loads.
        if let Some(other) = std::env::var_os("CHAT_AGAINST") {
            let other = Contender::Kamaelia(Path::new(&other));
            churn_side_by_side(&binary, other, rounds, connections);
            return;
        }
        compare_churn(&binary, rounds, connections, &peers);
        let pairs = setting("CHAT_SIDE_BY_SIDE", SIDE_BY_SIDE).max(1);
        for &peer in &peers {
            churn_side_by_side(&binary, Contender::Tokio(peer), pairs, connections);
        }
        return;
    }
    for writes in writes {
        let load = Load {
            clients,
            lines,
            writes,
        };
        // An A/B of two builds of the server, side by side, under the same
        // drift: `CHAT_AGAINST=<another simple_server binary>`.
        if let Some(other) = std::env::var_os("CHAT_AGAINST") {
            side_by_side(
                &binary,
                Contender::Kamaelia(Path::new(&other)),
                rounds,
                BURSTS,
                load,
            );
            continue;
        }
        compare(&binary, rounds, load, &peers);
        let pairs = setting("CHAT_SIDE_BY_SIDE", SIDE_BY_SIDE).max(1);
        for &peer in &peers {
            side_by_side(&binary, Contender::Tokio(peer), pairs, BURSTS, load);
        }
        println!();
        if std::env::var_os("CHAT_LARGE").is_some() {
            let (clients, lines) = LARGE;
            let large = Load {
                clients,
                lines,
                writes,
            };
            compare(&binary, rounds, large, &peers);
        }
    }
}
