//! Echo round trips per second: the kamaelia echo server against a tokio
//! `current_thread` echo server, in the same run.
//!
//! `cargo bench --bench echo` (`ECHO_PYTHON=1` adds the original Kamaelia;
//! `ECHO_URING=1` adds, side by side with tokio, the cheapest io_uring echo
//! server we know how to write, the go/no-go peer for an io_uring backend;
//! `ECHO_CONNECTIONS=<n>` sets the number of connections, 50 by default;
//! `ECHO_LOAD=poller|ring` the load generator's engine, the ring where the
//! kernel has one by default)
//!
//! Two kamaelia servers are measured: the echo as a handler component (two
//! components per connection, Kamaelia's way), and the echo run inside each
//! connection's adapter (`SimpleServer::inline`).
//!
//! 50 connections, each ping-ponging 64-byte messages (the load generator of
//! `examples/loadgen`). Each server runs on a thread pinned to CPU 0 and the
//! load generator on one pinned to CPU 1, so the server has one core to itself.
//! The servers take turns over several rounds (the VM's speed drifts); the
//! summary gives each one's median, the ratio of the medians, and the median
//! of each round's own ratio.
//!
//! Then each kamaelia server runs side by side with tokio: both on CPU 0 at
//! once, each under its own load, both loads on CPU 1. The VM's drift, which
//! moves the turns' ratios by ±0.1, then hits both alike: the side-by-side
//! ratio of CPU per round trip moves by about 0.01 between rounds. It is the
//! figure to judge a change by.

#[path = "../examples/loadgen/load.rs"]
mod load;
mod support;
#[cfg(target_os = "linux")]
#[path = "support/uring.rs"]
mod uring;

use std::io;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use support::{median, pin, Server, BACKLOG, CLIENT_CPU, SERVERS, SERVER_CPU};

const DEFAULT_CONNECTIONS: usize = 50;
const SIZE: usize = 64;
const ROUNDS: usize = 9;
/// Rounds of [`side_by_side`] per kamaelia server.
const SIDE_BY_SIDE: usize = 3;

/// The original Kamaelia (Python): `FastRestartServer(protocol=EchoProtocol)`.
struct Python {
    address: SocketAddr,
    child: Child,
}

impl Python {
    fn start() -> Option<Box<dyn Server>> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/echo_server.py");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut child = Command::new("taskset")
            .args([
                "-c",
                &SERVER_CPU.to_string(),
                "python3",
                script,
                &port.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut line = String::new();
        let stdout = child.stdout.take()?;
        io::BufRead::read_line(&mut io::BufReader::new(stdout), &mut line).ok()?;
        if !line.starts_with("listening") {
            let _ = child.kill();
            return None;
        }
        // Kamaelia binds only once its scheduler runs ServerCore, after the
        // script has printed: wait until the port takes connections.
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(address).is_err() {
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
        Some(Box::new(Python { address, child }))
    }
}

impl Server for Python {
    fn address(&self) -> SocketAddr {
        self.address
    }

    fn stop(mut self: Box<Self>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn cpu_time(&self) -> Duration {
        support::cpu_time_of(&self.child.id().to_string())
    }
}

/// What one server did in one run.
#[derive(Clone, Copy)]
struct Run {
    /// Round trips per second while counting.
    rate: f64,
    /// The server's CPU time per round trip, over the whole run.
    cpu: Duration,
    p50: Duration,
    p99: Duration,
}

/// The number of connections: `ECHO_CONNECTIONS`, or 50.
fn connections() -> usize {
    std::env::var("ECHO_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CONNECTIONS)
}

/// The load generator's engine: `ECHO_LOAD=poller|ring`, or the ring where
/// the kernel has one.
fn engine() -> load::Engine {
    std::env::var("ECHO_LOAD")
        .ok()
        .map(|e| e.parse().expect("ECHO_LOAD: poller or ring"))
        .unwrap_or_else(load::Engine::best)
}

fn measure(server: Box<dyn Server>, warmup: Duration, duration: Duration) -> Run {
    let [run] = measure_at_once([server], warmup, duration);
    run
}

/// Runs a load on each of `servers` at the same time (the loads' threads all
/// on [`CLIENT_CPU`]) and stops the servers.
fn measure_at_once<const N: usize>(
    servers: [Box<dyn Server>; N],
    warmup: Duration,
    duration: Duration,
) -> [Run; N] {
    let connections = connections();
    let engine = engine();
    let cpu_before = servers.each_ref().map(|s| s.cpu_time());
    let loads = servers.each_ref().map(|s| {
        let address = s.address();
        thread::spawn(move || {
            pin(CLIENT_CPU);
            load::run(&load::Load {
                address,
                connections,
                size: SIZE,
                warmup,
                duration,
                engine,
            })
        })
    });
    let measured = loads.map(|l| l.join().expect("no panic").expect("the load ran"));
    let cpu: Vec<Duration> = servers
        .iter()
        .zip(cpu_before)
        .map(|(s, before)| s.cpu_time().saturating_sub(before))
        .collect();
    for server in servers {
        server.stop();
    }
    std::array::from_fn(|i| Run {
        rate: measured[i].per_second(),
        cpu: cpu[i] / measured[i].all_round_trips.max(1) as u32,
        p50: measured[i].p50,
        p99: measured[i].p99,
    })
}

/// Tokio and kamaelia server `i` side by side: both on [`SERVER_CPU`] at
/// once, each under its own load, the loads both on [`CLIENT_CPU`]. The
/// VM's drift then hits both alike, so their ratio of CPU time per round
/// trip moves by about 0.01 from round to round, against about 0.1 for
/// servers taking turns. Returns each round's (kamaelia / tokio) ratios of
/// CPU per round trip and of round trips per second.
fn side_by_side(
    start: impl Fn() -> Box<dyn Server>,
    rounds: usize,
    warmup: Duration,
    duration: Duration,
) -> Vec<(f64, f64)> {
    (0..rounds)
        .map(|_| {
            let [t, k] = measure_at_once([support::start(0, BACKLOG), start()], warmup, duration);
            (k.cpu.as_secs_f64() / t.cpu.as_secs_f64(), k.rate / t.rate)
        })
        .collect()
}

/// The median of each figure of `runs`.
fn medians(runs: &[Run]) -> Run {
    let of = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    Run {
        rate: of(|r| r.rate),
        cpu: Duration::from_secs_f64(of(|r| r.cpu.as_secs_f64())),
        p50: Duration::from_secs_f64(of(|r| r.p50.as_secs_f64())),
        p99: Duration::from_secs_f64(of(|r| r.p99.as_secs_f64())),
    }
}

fn row(name: &str, r: &Run) {
    println!(
        "{name:<46} {:>14.0} {:>10.2} {:>9.0} {:>9.0}",
        r.rate,
        r.cpu.as_secs_f64() * 1e6,
        r.p50.as_secs_f64() * 1e6,
        r.p99.as_secs_f64() * 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (warmup, duration) = (Duration::from_millis(500), Duration::from_secs(2));
    let runs = support::rounds(
        ROUNDS,
        SERVERS.len(),
        |i| measure(support::start(i, BACKLOG), warmup, duration),
        |round, runs: &[Run]| {
            let each: Vec<String> = runs
                .iter()
                .map(|r| {
                    format!(
                        "{:.0} ({:.2} µs CPU, p99 {:.0} µs)",
                        r.rate,
                        r.cpu.as_secs_f64() * 1e6,
                        r.p99.as_secs_f64() * 1e6
                    )
                })
                .collect();
            println!("{}", support::round_line(round, "round trips/s", &each));
        },
    );
    println!();
    println!(
        "{} connections x {SIZE}-byte ping-pong, server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU} (its engine: {}; medians of {ROUNDS} rounds)",
        connections(),
        engine().name()
    );
    println!(
        "{:<46} {:>14} {:>10} {:>9} {:>9}",
        "server", "round trips/s", "CPU µs/rt", "p50 µs", "p99 µs"
    );
    let m: Vec<Run> = runs.iter().map(|r| medians(r)).collect();
    for (name, run) in SERVERS.iter().zip(&m) {
        row(name, run);
    }
    let t = &m[0];
    for i in 1..SERVERS.len() {
        let paired = |f: fn(&Run) -> f64| support::own_ratio(&runs, i, 0, f);
        let k = &m[i];
        println!(
            "{} / tokio: round trips/s {:.2}x (rounds' own ratios: {:.2}x); \
             server CPU per round trip {:.2}x (rounds' own: {:.2}x); p99 {:.2}x",
            SERVERS[i],
            k.rate / t.rate,
            paired(|r| r.rate),
            k.cpu.as_secs_f64() / t.cpu.as_secs_f64(),
            paired(|r| r.cpu.as_secs_f64()),
            k.p99.as_secs_f64() / t.p99.as_secs_f64()
        );
    }
    println!();
    println!(
        "side by side: tokio and each kamaelia server on CPU {SERVER_CPU} at once, \
         each under its own load, both loads on CPU {CLIENT_CPU} ({SIDE_BY_SIDE} rounds)"
    );
    let report = |name: &str, ratios: Vec<(f64, f64)>| {
        let each: Vec<String> = ratios.iter().map(|(c, _)| format!("{c:.3}")).collect();
        println!(
            "{name} / tokio: server CPU per round trip {:.3}x (rounds: {}); round trips/s {:.3}x",
            median(ratios.iter().map(|r| r.0).collect()),
            each.join(", "),
            median(ratios.iter().map(|r| r.1).collect()),
        );
    };
    for (i, name) in SERVERS.iter().enumerate().skip(1) {
        let start = || support::start(i, BACKLOG);
        report(name, side_by_side(start, SIDE_BY_SIDE, warmup, duration));
    }
    #[cfg(target_os = "linux")]
    if std::env::var_os("ECHO_URING").is_some() {
        match uring::UringEcho::start(BACKLOG) {
            Ok(server) => {
                server.stop();
                let start = || uring::UringEcho::start(BACKLOG).expect("it started before");
                report(
                    "io_uring echo, no framework (the go/no-go peer)",
                    side_by_side(start, SIDE_BY_SIDE, warmup, duration),
                );
            }
            Err(e) => println!("io_uring echo: not run ({e})"),
        }
    }
    if std::env::var_os("ECHO_PYTHON").is_some() {
        match Python::start() {
            Some(server) => {
                let p = measure(server, warmup, duration);
                row("Python Kamaelia 1.14.32 FastRestartServer", &p);
                println!("ratio kamaelia/python: {:.1}x", m[1].rate / p.rate);
            }
            None => println!("Python Kamaelia: not run (pip install kamaelia==1.14.32)"),
        }
    }
}
