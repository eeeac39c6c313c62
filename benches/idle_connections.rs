//! Idle connections: how long the kamaelia echo server and a tokio
//! `current_thread` echo server take to hold 10,000 connections, in the same
//! run.
//!
//! `cargo bench --bench idle_connections`
//!
//! The client (the engine of `examples/loadgen idle`) opens every connection
//! at once to the server on 127.0.0.1; each sends one byte and waits for its
//! echo, and a connection counts as held once its byte is back. The client
//! reports the seconds until all are held, or, if that has not happened after
//! the limit, how many were held then. Each server runs on a thread of this
//! process pinned to CPU 0 (as in `benches/echo.rs`), the client in a child
//! process (this same executable) pinned to CPU 1: 10,000 connections take
//! 10,000 descriptors on each side, and one process may not have 20,000 here.
//!
//! Without `--bench` (which `cargo bench` passes; `cargo test --benches` does
//! not), a quick smoke run: 200 connections, a limit of 30 s. Pass `--bench`
//! when running the executable by hand.
//!
//! Environment (the client process gets its settings from the bench):
//! * `IDLE_CONNECTIONS=<n>` (default 10,000);
//! * `IDLE_LIMIT=<seconds>` (default 90): when the client gives up;
//! * `IDLE_ROUNDS=<n>` (default 1): rounds, the servers taking turns to go
//!   first; the summary gives medians;
//! * `IDLE_IN_FLIGHT=<k>`: at most k connections opened but not yet held at a
//!   time (default: all at once);
//! * `IDLE_TOKIO_BACKLOG=<n>`: the tokio server's listen backlog (default
//!   1024, kamaelia's; tokio's own `TcpListener::bind` uses 128).
//!
//! Both servers listen with a backlog of 1024 by default, and the kernel caps
//! it at `net.core.somaxconn`. With 10,000 connections opened at once, the
//! handshakes the backlog cannot hold are dropped and the client's kernel sends
//! their SYN again 1 s later (then 3 s, 7 s...), so times cluster just above
//! those marks; `IDLE_IN_FLIGHT` below the backlog avoids that and measures the
//! servers alone.
//!
//! Because a dropped handshake costs the client a second however fast the
//! server is, the time says more about the backlog than about the server.
//! The bench therefore also reports each server's CPU time from before the
//! first connection until all are held (read from the kernel's CPU-time
//! clock while they sit idle, so nothing of their closing is counted): the work of
//! establishing them, and the figure to judge a server change by.

#[path = "../examples/loadgen/idle.rs"]
mod idle;
mod support;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::thread;
use std::time::{Duration, Instant};

use support::{median, pin, Server, BACKLOG, CLIENT_CPU, SERVERS, SERVER_CPU};

/// Set in the client's environment: the server's address.
const CLIENT_ENV: &str = "IDLE_CLIENT_OF";
/// The client's result line starts with this.
const RESULT: &str = "idle-result";
/// The client says this (and how many it holds) while it holds them.
const HOLDING: &str = "idle-holding";

/// This process's resident memory, from `/proc/self/status`.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
/// How long stopping a server may take before the bench stops waiting.
const STOP_LIMIT: Duration = Duration::from_secs(300);

/// The bench's settings, from the environment.
struct Settings {
    connections: usize,
    limit: Duration,
    rounds: usize,
    in_flight: Option<NonZeroUsize>,
    tokio_backlog: u32,
}

fn env<T: FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    match value.replace(['_', ','], "").parse() {
        Ok(v) => Some(v),
        Err(_) => panic!("{name}: cannot use {value:?}"),
    }
}

impl Settings {
    fn from_env(smoke: bool) -> Settings {
        let (connections, limit) = if smoke { (200, 30.0) } else { (10_000, 90.0) };
        Settings {
            connections: env("IDLE_CONNECTIONS").unwrap_or(connections),
            limit: Duration::from_secs_f64(env("IDLE_LIMIT").unwrap_or(limit)),
            rounds: env::<usize>("IDLE_ROUNDS").unwrap_or(1).max(1),
            in_flight: env("IDLE_IN_FLIGHT"),
            tokio_backlog: env("IDLE_TOKIO_BACKLOG").unwrap_or(BACKLOG),
        }
    }
}

/// The client process: runs the idle load and prints the outcome as one line.
fn client(address: SocketAddr) {
    pin(CLIENT_CPU);
    // The bench sets IDLE_CONNECTIONS and IDLE_LIMIT for the client.
    let settings = Settings::from_env(false);
    let idle = idle::Idle {
        address,
        connections: settings.connections,
        in_flight: settings.in_flight,
        limit: settings.limit,
    };
    // Held until the bench has measured the server's memory: it says so on
    // our stdin.
    let outcome = idle::run_holding(&idle, |outcome| {
        if let Ok(outcome) = outcome {
            println!("{HOLDING} {}", outcome.held);
            let _ = std::io::Write::flush(&mut std::io::stdout());
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
    })
    .expect("the idle load ran");
    let timeline: Vec<String> = outcome.timeline.iter().map(usize::to_string).collect();
    println!(
        "{RESULT} {} {} {} {} {} {} {}",
        outcome.connections,
        outcome.held,
        outcome.connected,
        outcome.elapsed.as_secs_f64(),
        outcome.all_connected.map_or(-1.0, |t| t.as_secs_f64()),
        outcome.reconnects,
        if timeline.is_empty() {
            "-".to_string()
        } else {
            timeline.join(",")
        }
    );
}

/// Reads the client's result line back.
fn parse_outcome(line: &str) -> Option<idle::Outcome> {
    let mut fields = line.strip_prefix(RESULT)?.split_whitespace();
    let mut next = || fields.next();
    let connections = next()?.parse().ok()?;
    let held = next()?.parse().ok()?;
    let connected = next()?.parse().ok()?;
    let elapsed = Duration::from_secs_f64(next()?.parse().ok()?);
    let all_connected: f64 = next()?.parse().ok()?;
    let reconnects = next()?.parse().ok()?;
    let timeline = match next()? {
        "-" => Vec::new(),
        list => list
            .split(',')
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?,
    };
    Some(idle::Outcome {
        connections,
        held,
        connected,
        elapsed,
        all_connected: (all_connected >= 0.0).then(|| Duration::from_secs_f64(all_connected)),
        reconnects,
        timeline,
    })
}

/// What one server's turn measured.
#[derive(Clone)]
struct Measured {
    outcome: idle::Outcome,
    /// How long stopping took; `None`: it had not stopped after
    /// [`STOP_LIMIT`], and is left running.
    stopped: Option<Duration>,
    /// Resident memory per connection held, in bytes.
    per_connection: Option<f64>,
    /// The server's CPU time from before the first connection
    /// until all were held: the work of establishing them, which the time
    /// to hold them all shows only through the client and the kernel's
    /// backlog (a dropped handshake costs 1 s however fast the server).
    cpu_to_hold: Option<Duration>,
}

/// Runs the client against `server`, then stops the server.
fn measure(server: Box<dyn Server>, settings: &Settings) -> Measured {
    use std::io::{BufRead, Write};
    // The bench process holds only the server (the client is a child): its
    // growth while the connections are held is the server's. Memory freed by
    // the last server goes back first, so that it does not hide this one's.
    // SAFETY: malloc_trim has no preconditions.
    unsafe { libc::malloc_trim(0) };
    let before = rss();
    let cpu_before = server.cpu_time();
    let mut child = Command::new(std::env::current_exe().expect("this executable"))
        .env(CLIENT_ENV, server.address().to_string())
        .env("IDLE_CONNECTIONS", settings.connections.to_string())
        .env("IDLE_LIMIT", settings.limit.as_secs_f64().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the client starts");
    let mut stdin = child.stdin.take().expect("piped");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut per_connection = None;
    let mut cpu_to_hold = None;
    let mut text = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        if let Some(held) = line.strip_prefix(HOLDING) {
            let held: usize = held.trim().parse().unwrap_or(0);
            if held > 0 {
                per_connection = Some(rss().saturating_sub(before) as f64 / held as f64);
            }
            // Read while the connections are held and idle: nothing after
            // their establishment (the client's close) is counted.
            cpu_to_hold = (held == settings.connections)
                .then(|| server.cpu_time().saturating_sub(cpu_before));
            let _ = writeln!(stdin, "done");
            continue;
        }
        text.push_str(&line);
        text.push('\n');
    }
    let status = child.wait().expect("the client ran");
    let outcome = text
        .lines()
        .find_map(parse_outcome)
        .unwrap_or_else(|| panic!("the client failed ({status}): {text}"));
    // Stopping waits for the server's thread; kamaelia's may still be busy
    // with the connections the client just closed.
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        server.stop();
        let _ = tx.send(());
    });
    let stopped = rx.recv_timeout(STOP_LIMIT).ok().map(|()| start.elapsed());
    Measured {
        outcome,
        stopped,
        per_connection,
        cpu_to_hold,
    }
}

fn describe(name: &str, outcome: &idle::Outcome, stopped: Option<Duration>) {
    let marks: Vec<String> = [1, 2, 5, 10, 30, 60]
        .into_iter()
        .filter(|&s| s <= outcome.timeline.len())
        .map(|s| format!("{s} s: {}", outcome.held_after(s)))
        .collect();
    println!("  {name}: {outcome}");
    if !marks.is_empty() {
        println!("    held after {}", marks.join(", "));
    }
    match stopped {
        Some(t) => println!(
            "    stopped {:.2} s after the client closed",
            t.as_secs_f64()
        ),
        None => println!(
            "    still not stopped {} s after the client closed: left running",
            STOP_LIMIT.as_secs()
        ),
    }
}

fn main() {
    if let Ok(address) = std::env::var(CLIENT_ENV) {
        client(address.parse().expect("an address"));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let fds = idle::raise_fd_limit().expect("the limit on open files");
    let smoke = !std::env::args().any(|a| a == "--bench");
    if smoke {
        println!("(smoke run: without --bench)");
    }
    let settings = Settings::from_env(smoke);
    println!(
        "{} idle connections opened {} to an echo server on 127.0.0.1, each echoing one byte; \
         server on CPU {SERVER_CPU}, client process on CPU {CLIENT_CPU}; limit {} s; \
         open files allowed {fds}; tokio's backlog {}",
        settings.connections,
        settings
            .in_flight
            .map_or("at once".to_string(), |k| format!("at most {k} at a time")),
        settings.limit.as_secs_f64(),
        settings.tokio_backlog
    );
    let backlog = settings.tokio_backlog;
    let runs = support::rounds(
        settings.rounds,
        SERVERS.len(),
        |i| {
            let run = measure(support::start(i, backlog), &settings);
            describe(SERVERS[i], &run.outcome, run.stopped);
            if let Some(bytes) = run.per_connection {
                println!("    resident memory per connection held: {bytes:.0} bytes");
            }
            if let Some(cpu) = run.cpu_to_hold {
                println!(
                    "    server CPU until all were held: {:.2} s",
                    cpu.as_secs_f64()
                );
            }
            if run.stopped.is_none() {
                println!("a server did not stop; ending the run");
                std::process::exit(1);
            }
            run
        },
        |round, runs: &[Measured]| {
            let each: Vec<String> = runs
                .iter()
                .map(|r| {
                    let cpu = r
                        .cpu_to_hold
                        .map_or("-".to_string(), |c| format!("{:.2}", c.as_secs_f64()));
                    format!("{:.3} ({cpu})", r.outcome.elapsed.as_secs_f64())
                })
                .collect();
            println!(
                "{}",
                support::round_line(round, "seconds to hold them all (CPU s)", &each)
            );
        },
    );
    // Medians over the rounds that measured the figure (NaN if none did).
    let median_of = |figures: Vec<f64>| {
        if figures.is_empty() {
            f64::NAN
        } else {
            median(figures)
        }
    };
    let seconds =
        |v: &[Measured]| median_of(v.iter().map(|r| r.outcome.elapsed.as_secs_f64()).collect());
    let held = |v: &[Measured]| median_of(v.iter().map(|r| r.outcome.held as f64).collect());
    let memory = |v: &[Measured]| median_of(v.iter().filter_map(|r| r.per_connection).collect());
    // CPU per connection, over the rounds in which all were held.
    let cpu = |v: &[Measured]| {
        median_of(
            v.iter()
                .filter_map(|r| r.cpu_to_hold)
                .map(|c| c.as_secs_f64() * 1e6 / settings.connections as f64)
                .collect(),
        )
    };
    let complete = |v: &[Measured]| v.iter().all(|r| r.outcome.complete());
    println!();
    println!(
        "{} connections (median of {} round{}):",
        settings.connections,
        settings.rounds,
        if settings.rounds == 1 { "" } else { "s" }
    );
    println!(
        "{:<46} {:>8} {:>10} {:>16} {:>14}",
        "server", "held", "seconds", "RSS B/connection", "CPU µs/conn"
    );
    for (name, v) in SERVERS.iter().zip(&runs) {
        let capped = if complete(v) { "" } else { " (limit)" };
        println!(
            "{name:<46} {:>8.0} {:>10.2} {:>16.0} {:>14.1}{capped}",
            held(v),
            seconds(v),
            memory(v),
            cpu(v)
        );
    }
    let tokio = &runs[0];
    for (i, ours) in runs.iter().enumerate().skip(1) {
        let ratio = seconds(ours) / seconds(tokio);
        if complete(ours) && complete(tokio) {
            println!(
                "{} / tokio (time to hold them all): {ratio:.2}x (median of the rounds' own ratios: {:.2}x)",
                SERVERS[i],
                support::own_ratio(&runs, i, 0, |r| r.outcome.elapsed.as_secs_f64())
            );
            if cpu(tokio) > 0.0 {
                println!(
                    "{} / tokio (server CPU until all were held): {:.2}x (median of the rounds' own ratios: {:.2}x)",
                    SERVERS[i],
                    cpu(ours) / cpu(tokio),
                    support::own_ratio(&runs, i, 0, |r| r.cpu_to_hold.map_or(f64::NAN, |c| c.as_secs_f64()))
                );
            } else {
                println!(
                    "{} / tokio (server CPU until all were held): tokio's none, no ratio",
                    SERVERS[i]
                );
            }
        } else {
            println!(
                "{} / tokio: not measured, not every connection was held within {} s \
                 (at least {ratio:.1}x if only kamaelia fell short)",
                SERVERS[i],
                settings.limit.as_secs_f64(),
            );
        }
    }
}
