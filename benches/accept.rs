//! Accepting: connections per second through the whole life of a connection
//! (accept, the peer's FIN, the server's close), the kamaelia echo server
//! against a tokio `current_thread` echo server, in the same run.
//!
//! `cargo bench --bench accept` (`ACCEPT_CONNECTIONS=<n>`, default 10,000;
//! `ACCEPT_ROUNDS=<n>`, default 5; `ACCEPT_CLIENTS=<k>` client threads, default
//! 16)
//!
//! Each of the client threads (all pinned to CPU 1) connects, shuts its
//! sending side, reads until the server closes, and connects again, until the
//! round's connections are done; the server (pinned to CPU 0) accepts, reads
//! the end of the input, and closes. The servers take turns over the rounds;
//! the summary gives each one's median and the ratio.
//!
//! Without `--bench` (`cargo test --benches`), a smoke run of 200
//! connections, one round.

#[path = "support/churn.rs"]
mod churn;
mod support;

use churn::churn;
use support::{median, Server, BACKLOG, CLIENT_CPU, SERVERS, SERVER_CPU};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Connections per second, and the server's CPU time per connection in µs.
fn measure(server: Box<dyn Server>, connections: usize, clients: usize) -> (f64, f64) {
    let cpu = server.cpu_time();
    let rate = churn(server.address(), connections, clients);
    let cpu = server.cpu_time().saturating_sub(cpu);
    server.stop();
    (rate, cpu.as_secs_f64() * 1e6 / connections as f64)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let connections = env("ACCEPT_CONNECTIONS", if bench { 10_000 } else { 200 });
    let rounds = env("ACCEPT_ROUNDS", if bench { 5 } else { 1 }).max(1);
    let clients = env("ACCEPT_CLIENTS", 16).max(1);
    let runs = support::rounds(
        rounds,
        SERVERS.len(),
        |i| measure(support::start(i, BACKLOG), connections, clients),
        |round, r: &[(f64, f64)]| {
            let each: Vec<String> = r
                .iter()
                .map(|(rate, cpu)| format!("{rate:.0} ({cpu:.1})"))
                .collect();
            println!(
                "{}",
                support::round_line(round, "connections/s (µs CPU each)", &each)
            );
        },
    );
    let of = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| median(v.iter().map(f).collect());
    println!();
    println!(
        "{connections} connections (connect, FIN, server closes) from {clients} client threads, \
         server on CPU {SERVER_CPU}, clients on CPU {CLIENT_CPU}"
    );
    println!(
        "{:<46} {:>14} {:>16}",
        "server", "connections/s", "CPU µs/connection"
    );
    for (name, r) in SERVERS.iter().zip(&runs) {
        println!(
            "{name:<46} {:>14.0} {:>16.1}",
            of(r, |x| x.0),
            of(r, |x| x.1)
        );
    }
    let (t, tc) = (of(&runs[0], |x| x.0), of(&runs[0], |x| x.1));
    for i in 1..SERVERS.len() {
        let paired = support::own_ratio(&runs, i, 0, |r| r.0);
        println!(
            "{} / tokio: {:.2}x (median of the rounds' own ratios: {paired:.2}x); \
             CPU per connection {:.2}x",
            SERVERS[i],
            of(&runs[i], |x| x.0) / t,
            of(&runs[i], |x| x.1) / tc
        );
    }
}
