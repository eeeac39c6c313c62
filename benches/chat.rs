//! Chat deliveries per second: the `simple_server` example against a tokio
//! `current_thread` chat server, in the same run.
//!
//! `cargo bench --bench chat` (`CHAT_ROUNDS=<n>` rounds, 5 by default;
//! `CHAT_CLIENTS` / `CHAT_LINES`, 50 and 200 by default; `CHAT_SIDE_BY_SIDE=<n>`
//! rounds side by side, 3 by default; `CHAT_LARGE=1` adds
//! 200 clients × 100 lines; `CHAT_AGAINST=<path>` runs only the side-by-side
//! rounds, against another build of `simple_server` instead of tokio: an A/B
//! of two builds under the same drift)
//!
//! The load is the load generator's chat mode (`examples/loadgen/chat.rs`):
//! the clients join one at a time, then every client sends its numbered lines
//! while reading, and must receive every other client's lines, intact and in
//! order per sender — `CLIENTS × (CLIENTS-1) × LINES` deliveries, all checked.
//! The time is from the last join to the last delivery.
//!
//! Kamaelia's server is the example itself, `simple_server --port 0` (a
//! ServerCore with a Pipeline per connection on a flow-controlled Backplane),
//! run as a child process started from a thread pinned to CPU 0, so that it
//! inherits that CPU (the bench has cargo build it first, as `cargo bench
//! --bench chat` builds no example). The tokio server, on a thread pinned to
//! CPU 0, is what a tokio user would write: a `broadcast` channel of lines and
//! a task per client. The load generator runs on CPU 1. The servers take turns over the rounds; the
//! summary gives each one's median, the ratio of the medians, and the median
//! of each round's own ratio.
//!
//! On a 2-core machine the load generator saturates its core before either
//! server does, so deliveries per second say more about the load than about
//! the server. The bench therefore also reports each server's CPU time per
//! delivery (from `/proc`, counted from the last join to the last delivery:
//! the process's for kamaelia, the server thread's for tokio), which is the
//! figure to compare.
//!
//! Then the two run side by side: both servers on CPU 0 at once, each under
//! its own loads, both loads on CPU 1. The VM's drift, which moves the turns'
//! ratios by ±0.1, then hits both alike.

#[path = "../examples/loadgen/chat.rs"]
mod chat;
#[allow(dead_code)] // its echo servers: only the pinning and the median serve here
mod support;

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::sync::broadcast;

use support::{
    build_example, cpu_time_of, median, pin, Server, TokioServer, BACKLOG, CLIENT_CPU, SERVER_CPU,
};

const DEFAULT_ROUNDS: usize = 5;
const DEFAULT_CLIENTS: usize = 50;
const DEFAULT_LINES: usize = 200;
/// Rounds of [`side_by_side`], and the bursts each server takes per round.
const SIDE_BY_SIDE: usize = 3;
const BURSTS: usize = 8;

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

/// The longest line the tokio server takes, as `simple_server`'s `MAX_LINE`.
const MAX_LINE: usize = 4096;

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

/// A tokio `current_thread` chat server on a thread pinned to
/// [`SERVER_CPU`]: one `broadcast` channel of `(sender, line)`, a task per
/// connection reading lines into it and writing every other client's lines
/// out, through a `BufWriter` flushed whenever the channel has nothing more
/// for it.
struct Tokio {
    server: TokioServer,
    lagged: Arc<Lagged>,
}

impl Tokio {
    fn start(capacity: usize) -> io::Result<Box<dyn ChatServer>> {
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
                    let heard = lines.subscribe();
                    let said = lines.clone();
                    let lagged = Arc::clone(&lag_count);
                    tokio::spawn(connection(id, socket, said, heard, lagged));
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

/// One client of the tokio server, until it closes.
async fn connection(
    me: u64,
    socket: tokio::net::TcpStream,
    said: broadcast::Sender<(u64, Bytes)>,
    mut heard: broadcast::Receiver<(u64, Bytes)>,
    lagged: Arc<Lagged>,
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
                        let _ = said.send((me, Bytes::from(std::mem::take(&mut line))));
                    }
                    // A line longer than MAX_LINE: the client is closed.
                    Ok(_) if read.limit() == 0 => return,
                    // The client closed after a last line without its
                    // newline: it is delivered whole, and the next read ends.
                    Ok(_) => {
                        line.push(b'\n');
                        let _ = said.send((me, Bytes::from(std::mem::take(&mut line))));
                    }
                }
            }
            got = heard.recv() => {
                let mut next = got;
                loop {
                    match next {
                        Ok((from, text)) if from != me => {
                            if write.write_all(&text).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            lagged.lines.fetch_add(n, Ordering::Relaxed);
                            lagged.happened.notify_one();
                            return;
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                    next = match heard.try_recv() {
                        Ok(m) => Ok(m),
                        Err(broadcast::error::TryRecvError::Lagged(n)) => {
                            Err(broadcast::error::RecvError::Lagged(n))
                        }
                        Err(_) => break,
                    };
                }
                if write.flush().await.is_err() {
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

/// One load on one server: the seconds it took, every delivery checked, and
/// the server's CPU seconds over the same span.
fn measure(
    name: &str,
    server: io::Result<Box<dyn ChatServer>>,
    clients: usize,
    lines: usize,
) -> (f64, f64) {
    let server = server.unwrap_or_else(|e| panic!("{name}: {e}"));
    let address = server.address();
    let stat = server.cpu_stat();
    let outcome = thread::spawn(move || {
        pin(CLIENT_CPU);
        chat::run(address, clients, lines, || cpu_time_of(&stat))
    })
    .join()
    .expect("no panic");
    // What went wrong in the server explains what went wrong in the load.
    if let Err(e) = server.stop() {
        panic!("{name}: {e}");
    }
    let outcome = outcome.unwrap_or_else(|e| panic!("{name}: the load failed: {e}"));
    assert_eq!(
        outcome.delivered, outcome.expected,
        "{name}: every line reaches every other client"
    );
    (outcome.elapsed.as_secs_f64(), outcome.cpu.as_secs_f64())
}

/// Runs `rounds` rounds of `clients` × `lines` on both servers, in turns,
/// and prints the rounds and the summary.
fn compare(binary: &Path, rounds: usize, (clients, lines): (usize, usize)) {
    let deliveries = (clients * (clients - 1) * lines) as f64;
    let capacity = broadcast_capacity(clients, lines);
    println!(
        "{clients} clients x {lines} lines ({deliveries:.0} deliveries; tokio broadcast capacity {capacity})"
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Each goes first in every other round, so that whatever the order
        // favours (sockets in TIME_WAIT, a warm CPU) favours neither.
        let kamaelia = || measure("kamaelia", Kamaelia::start(binary), clients, lines);
        let tokio = || measure("tokio", Tokio::start(capacity), clients, lines);
        let (k, t) = if round % 2 == 1 {
            let k = kamaelia();
            (k, tokio())
        } else {
            let t = tokio();
            (kamaelia(), t)
        };
        println!(
            "round {round}: kamaelia {:.3} s ({:.0} deliveries/s, {:.0} ns CPU each), tokio {:.3} s ({:.0} deliveries/s, {:.0} ns CPU each)",
            k.0,
            deliveries / k.0,
            k.1 * 1e9 / deliveries,
            t.0,
            deliveries / t.0,
            t.1 * 1e9 / deliveries,
        );
        ours.push(k);
        theirs.push(t);
    }
    let ratio = |of: fn(&(f64, f64)) -> f64| {
        median(
            ours.iter()
                .zip(&theirs)
                .map(|(k, t)| of(k) / of(t))
                .collect(),
        )
    };
    let (paired_time, paired_cpu) = (ratio(|r| r.0), ratio(|r| r.1));
    let (k, t) = (
        median(ours.iter().map(|r| r.0).collect()),
        median(theirs.iter().map(|r| r.0).collect()),
    );
    let (k_cpu, t_cpu) = (
        median(ours.iter().map(|r| r.1).collect()),
        median(theirs.iter().map(|r| r.1).collect()),
    );
    println!();
    println!(
        "{clients} clients x {lines} lines, server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU}, median of {rounds} rounds"
    );
    println!(
        "{:<52} {:>9} {:>14} {:>16}",
        "server", "seconds", "deliveries/s", "CPU ns/delivery"
    );
    for (name, seconds, cpu) in [
        ("kamaelia simple_server (ServerCore + Backplane)", k, k_cpu),
        (
            "tokio current_thread, broadcast + task per client",
            t,
            t_cpu,
        ),
    ] {
        println!(
            "{name:<52} {seconds:>9.3} {:>14.0} {:>16.0}",
            deliveries / seconds,
            cpu * 1e9 / deliveries
        );
    }
    println!(
        "ratio kamaelia/tokio time: {:.2}x (median of the rounds' own ratios: {paired_time:.2}x; <1 means kamaelia is faster)",
        k / t
    );
    println!(
        "ratio kamaelia/tokio server CPU per delivery: {:.2}x (rounds' own: {paired_cpu:.2}x)",
        k_cpu / t_cpu
    );
    println!();
}

/// Both servers side by side, `rounds` times: both on [`SERVER_CPU`] at
/// once, each under `bursts` loads in a row, the two loads at once on
/// [`CLIENT_CPU`]. The VM's drift then hits both alike, and the bursts add
/// up to enough CPU time for the ratio of the servers' CPU per delivery to
/// be read to about 0.03.
fn side_by_side(
    binary: &Path,
    against: Option<&Path>,
    rounds: usize,
    bursts: usize,
    (clients, lines): (usize, usize),
) {
    let capacity = broadcast_capacity(clients, lines);
    let peer = if against.is_some() { "other" } else { "tokio" };
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let servers = [
            Kamaelia::start(binary).unwrap_or_else(|e| panic!("kamaelia: {e}")),
            match against {
                Some(other) => Kamaelia::start(other),
                None => Tokio::start(capacity),
            }
            .unwrap_or_else(|e| panic!("{peer}: {e}")),
        ];
        let loads = servers.each_ref().map(|server| {
            let (address, stat) = (server.address(), server.cpu_stat());
            thread::spawn(move || {
                pin(CLIENT_CPU);
                let mut cpu = Duration::ZERO;
                for _ in 0..bursts {
                    let outcome = chat::run(address, clients, lines, || cpu_time_of(&stat))?;
                    if outcome.delivered != outcome.expected {
                        return Err(io::Error::other(format!(
                            "{} of {} lines delivered",
                            outcome.delivered, outcome.expected
                        )));
                    }
                    cpu += outcome.cpu;
                }
                Ok(cpu)
            })
        });
        let cpu = loads.map(|l| l.join().expect("no panic"));
        for (server, name) in servers.into_iter().zip(["kamaelia", peer]) {
            if let Err(e) = server.stop() {
                panic!("{name}: {e}");
            }
        }
        let [k, t] = cpu.map(|c| c.unwrap_or_else(|e| panic!("the load failed: {e}")));
        ratios.push(k.as_secs_f64() / t.as_secs_f64());
    }
    let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "side by side (both servers on CPU {SERVER_CPU} at once, {bursts} bursts each, the loads on CPU {CLIENT_CPU}): \
         kamaelia/{peer} server CPU per delivery {:.2}x (rounds: {})",
        median(ratios),
        each.join(", ")
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let binary = build_example("simple_server").unwrap_or_else(|e| panic!("simple_server: {e}"));
    let rounds = setting("CHAT_ROUNDS", DEFAULT_ROUNDS).max(1);
    let clients = setting("CHAT_CLIENTS", DEFAULT_CLIENTS).max(2);
    let lines = setting("CHAT_LINES", DEFAULT_LINES);
    // An A/B of two builds of the server, side by side, under the same
    // drift: `CHAT_AGAINST=<another simple_server binary>`.
    if let Some(other) = std::env::var_os("CHAT_AGAINST") {
        side_by_side(
            &binary,
            Some(Path::new(&other)),
            rounds,
            BURSTS,
            (clients, lines),
        );
        return;
    }
    compare(&binary, rounds, (clients, lines));
    let pairs = setting("CHAT_SIDE_BY_SIDE", SIDE_BY_SIDE).max(1);
    side_by_side(&binary, None, pairs, BURSTS, (clients, lines));
    if std::env::var_os("CHAT_LARGE").is_some() {
        compare(&binary, rounds, LARGE);
    }
}
