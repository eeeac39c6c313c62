//! `cargo run --release --example loadgen -- --port 12345` — puts a
//! closed-loop ping-pong load on an echo server (start one first, e.g.
//! `cargo run --release --example echo_server`) and reports round trips per
//! second.
//!
//! Each connection sends a message, waits for its echo (checking it), and
//! sends the next, all on one thread. `benches/echo.rs` uses the same engine
//! to compare servers.

mod load;

use std::net::ToSocketAddrs;
use std::time::Duration;

use lexopt::ValueExt;

fn main() -> std::io::Result<()> {
    let mut host = "127.0.0.1".to_string();
    let mut port = 12345u16;
    let mut load = load::Load {
        address: "127.0.0.1:1".parse().expect("an address"),
        connections: 50,
        size: 64,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(5),
    };
    let usage = "Puts a ping-pong load on an echo server and reports round trips per second.\n\n\
        Usage: cargo run --release --example loadgen -- [options]\n\n\
        Options:\n  --host HOST         server address [default: 127.0.0.1]\n  \
        --port PORT         server port [default: 12345]\n  \
        --connections N     connections, one message in flight each [default: 50]\n  \
        --size BYTES        message size [default: 64]\n  \
        --seconds S         how long to count [default: 5]\n  \
        --warmup S          how long to run before counting [default: 1]\n  \
        -h, --help          print this help";
    let mut parser = lexopt::Parser::from_env();
    let parsed: Result<(), lexopt::Error> = (|| {
        while let Some(arg) = parser.next()? {
            match arg {
                lexopt::Arg::Long("host") => host = parser.value()?.string()?,
                lexopt::Arg::Long("port") => port = parser.value()?.parse()?,
                lexopt::Arg::Long("connections") => load.connections = parser.value()?.parse()?,
                lexopt::Arg::Long("size") => load.size = parser.value()?.parse()?,
                lexopt::Arg::Long("seconds") => {
                    load.duration = Duration::from_secs_f64(parser.value()?.parse()?)
                }
                lexopt::Arg::Long("warmup") => {
                    load.warmup = Duration::from_secs_f64(parser.value()?.parse()?)
                }
                lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                other => return Err(other.unexpected()),
            }
        }
        Ok(())
    })();
    if let Err(e) = parsed {
        eprintln!("loadgen: {e}\n\n{usage}");
        std::process::exit(2);
    }
    load.address = (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the host resolves to no address"))?;
    let measured = load::run(&load)?;
    println!(
        "{} connections x {} bytes: {:.0} round trips/s ({} in {:.2?})",
        load.connections,
        load.size,
        measured.per_second(),
        measured.round_trips,
        measured.elapsed
    );
    Ok(())
}
