//! `cargo run --release --example loadgen -- --port 12345` — puts a
//! closed-loop ping-pong load on an echo server (start one first, e.g.
//! `cargo run --release --example echo_server`) and reports round trips per
//! second.
//!
//! Each connection sends a message, waits for its echo (checking it), and
//! sends the next, all on one thread: on Linux through an io_uring, which
//! costs the generator less per round trip than a server spends, so that the
//! round trips per second measure the server (`--engine poller` for an
//! edge-triggered poller and a `read` and a `write` per round trip instead).
//! `benches/echo.rs` uses the same engines to compare servers.
//!
//! `cargo run --release --example loadgen -- idle --port 12345 --connections
//! 10000` instead opens that many connections at once, has each send one byte
//! and wait for its echo, and reports how long until all were held (or, after
//! `--limit` seconds, how many were). `benches/idle_connections.rs` uses the
//! same engine.
//!
//! `cargo run --release --example loadgen -- chat 127.0.0.1:8000 50 200
//! [--pasted]` puts a chat server's load on `simple_server` (see chat.rs);
//! `benches/chat.rs` uses the same engine.

mod chat;
mod idle;
mod load;

use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroUsize;
use std::time::Duration;

use lexopt::ValueExt;

const USAGE: &str = "Puts load on an echo server, or a chat server.\n\n\
    Usage: cargo run --release --example loadgen -- [idle] [options]\n       \
    cargo run --release --example loadgen -- chat ADDR CLIENTS LINES [--pasted]\n\n\
    Without `idle`: closed-loop ping-pong, reports round trips per second.\n\
    With `idle`: opens many connections, each sends one byte and waits for its\n\
    echo; reports the time until all are held (or how many were at the limit).\n\
    `chat`: a chat server's load (start `simple_server` first): every client\n\
    says LINES lines, a write each (all in one write with `--pasted`), and must\n\
    hear every other client's, intact and in order.\n\n\
    Options:\n  --host HOST         server address [default: 127.0.0.1]\n  \
    --port PORT         server port [default: 12345]\n  \
    --connections N     connections [default: 50; idle: 10000]\n  \
    --size BYTES        message size [default: 64] (ping-pong)\n  \
    --seconds S         how long to count [default: 5] (ping-pong)\n  \
    --warmup S          how long to run before counting [default: 1] (ping-pong)\n  \
    --engine E          poller or ring (io_uring) [default: ring where the kernel has it] (ping-pong)\n  \
    --limit S           give up after S seconds [default: 90] (idle)\n  \
    --in-flight K       at most K connections opened but not yet held [default: all] (idle)\n  \
    -h, --help          print this help";

/// Everything the command line sets, for either mode.
struct Options {
    idle: bool,
    host: String,
    port: u16,
    connections: Option<usize>,
    size: usize,
    seconds: f64,
    warmup: f64,
    limit: f64,
    in_flight: Option<NonZeroUsize>,
    engine: Option<load::Engine>,
}

fn parse() -> Result<Options, lexopt::Error> {
    let mut o = Options {
        idle: false,
        host: "127.0.0.1".to_string(),
        port: 12345,
        connections: None,
        size: 64,
        seconds: 5.0,
        warmup: 1.0,
        limit: 90.0,
        in_flight: None,
        engine: None,
    };
    let mut parser = lexopt::Parser::from_env();
    let mut first = true;
    while let Some(arg) = parser.next()? {
        match arg {
            lexopt::Arg::Value(mode) if first && mode == "idle" => o.idle = true,
            lexopt::Arg::Long("host") => o.host = parser.value()?.string()?,
            lexopt::Arg::Long("port") => o.port = parser.value()?.parse()?,
            lexopt::Arg::Long("connections") => o.connections = Some(parser.value()?.parse()?),
            lexopt::Arg::Long("size") => o.size = parser.value()?.parse()?,
            lexopt::Arg::Long("seconds") => o.seconds = parser.value()?.parse()?,
            lexopt::Arg::Long("warmup") => o.warmup = parser.value()?.parse()?,
            lexopt::Arg::Long("limit") => o.limit = parser.value()?.parse()?,
            lexopt::Arg::Long("in-flight") => o.in_flight = Some(parser.value()?.parse()?),
            lexopt::Arg::Long("engine") => o.engine = Some(parser.value()?.parse()?),
            lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(other.unexpected()),
        }
        first = false;
    }
    Ok(o)
}

fn main() -> std::io::Result<()> {
    // `chat ADDR CLIENTS LINES [--pasted]`: the chat server's load (see
    // chat.rs).
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("chat") {
        let usage = || std::io::Error::other("usage: loadgen chat ADDR CLIENTS LINES [--pasted]");
        let address: SocketAddr = raw
            .get(1)
            .ok_or_else(usage)?
            .to_socket_addrs()?
            .next()
            .ok_or_else(usage)?;
        let clients: usize = raw
            .get(2)
            .and_then(|s| s.parse().ok())
            .filter(|&c| c >= 2)
            .ok_or_else(usage)?;
        let lines: usize = raw.get(3).and_then(|s| s.parse().ok()).ok_or_else(usage)?;
        let writes = match raw.get(4).map(String::as_str) {
            None => chat::Writes::PerLine,
            Some("--pasted") if raw.len() == 5 => chat::Writes::Pasted,
            Some(_) => return Err(usage()),
        };
        let outcome = chat::run(address, clients, lines, writes, || {
            std::time::Duration::ZERO
        })?;
        println!(
            "chat ({}): {} of {} deliveries, intact and in order per sender, in {:.2?}",
            writes.name(),
            outcome.delivered,
            outcome.expected,
            outcome.elapsed
        );
        return Ok(());
    }
    let options = match parse() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("loadgen: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let address: SocketAddr = (options.host.as_str(), options.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the host resolves to no address"))?;
    if options.idle {
        let idle = idle::Idle {
            address,
            connections: options.connections.unwrap_or(10_000),
            in_flight: options.in_flight,
            limit: Duration::from_secs_f64(options.limit),
        };
        let outcome = idle::run(&idle)?;
        println!("{outcome}");
        let marks: Vec<String> = [1, 2, 5, 10, 30, 60]
            .into_iter()
            .filter(|&s| s <= outcome.timeline.len())
            .map(|s| format!("{s} s: {}", outcome.held_after(s)))
            .collect();
        if !marks.is_empty() {
            println!("held after {}", marks.join(", "));
        }
        if !outcome.complete() {
            std::process::exit(1);
        }
        return Ok(());
    }
    let load = load::Load {
        address,
        connections: options.connections.unwrap_or(50),
        size: options.size,
        warmup: Duration::from_secs_f64(options.warmup),
        duration: Duration::from_secs_f64(options.seconds),
        engine: options.engine.unwrap_or_else(load::Engine::best),
    };
    let measured = load::run(&load)?;
    println!(
        "{} connections x {} bytes ({}): {:.0} round trips/s ({} in {:.2?}; p50 {:.0?}, \
         p99 {:.0?}; the fewest on one connection: {})",
        load.connections,
        load.size,
        load.engine.name(),
        measured.per_second(),
        measured.round_trips,
        measured.elapsed,
        measured.p50,
        measured.p99,
        measured.fewest
    );
    if measured.fewest == 0 {
        eprintln!("loadgen: the server answered none of some connection's messages");
        std::process::exit(1);
    }
    Ok(())
}
