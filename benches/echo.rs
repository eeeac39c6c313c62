//! Echo round trips per second: the kamaelia echo server against a tokio
//! `current_thread` echo server, in the same run.
//!
//! `cargo bench --bench echo` (`ECHO_PYTHON=1` adds the original Kamaelia;
//! `ECHO_CONNECTIONS=<n>` sets the number of connections, 50 by default)
//!
//! 50 connections, each ping-ponging 64-byte messages (the load generator of
//! `examples/loadgen`). Each server runs on a thread pinned to CPU 0 and the
//! load generator on one pinned to CPU 1, so the server has one core to itself.
//! The servers take turns over several rounds (the VM's speed drifts); the
//! summary gives each one's median, the ratio of the medians, and the median
//! of each round's own ratio.

#[path = "../examples/loadgen/load.rs"]
mod load;
mod support;

use std::io;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use support::{median, pin, Kamaelia, Server, Tokio, BACKLOG, CLIENT_CPU, SERVER_CPU};

const DEFAULT_CONNECTIONS: usize = 50;
const SIZE: usize = 64;
const ROUNDS: usize = 9;

/// The original Kamaelia (Python): `FastRestartServer(protocol=EchoProtocol)`.
struct Python {
    address: SocketAddr,
    child: Child,
}

impl Python {
    fn start() -> Option<Box<dyn Server>> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python/echo_server.py");
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
}

/// The number of connections: `ECHO_CONNECTIONS`, or 50.
fn connections() -> usize {
    std::env::var("ECHO_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CONNECTIONS)
}

fn measure(server: Box<dyn Server>, warmup: Duration, duration: Duration) -> f64 {
    let address = server.address();
    let connections = connections();
    let measured = thread::spawn(move || {
        pin(CLIENT_CPU);
        load::run(&load::Load {
            address,
            connections,
            size: SIZE,
            warmup,
            duration,
        })
    })
    .join()
    .expect("no panic")
    .expect("the load ran");
    server.stop();
    measured.per_second()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (warmup, duration) = (Duration::from_millis(500), Duration::from_secs(2));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        // Each goes first in every other round, so that whatever the order
        // favours (sockets in TIME_WAIT, a warm CPU) favours neither.
        let (k, t) = if round % 2 == 1 {
            let k = measure(Kamaelia::start(), warmup, duration);
            (k, measure(Tokio::start(BACKLOG), warmup, duration))
        } else {
            let t = measure(Tokio::start(BACKLOG), warmup, duration);
            (measure(Kamaelia::start(), warmup, duration), t)
        };
        println!("round {round}: kamaelia {k:.0} round trips/s, tokio {t:.0} round trips/s");
        ours.push(k);
        theirs.push(t);
    }
    // Each round's servers ran minutes apart at most, so the ratio within a
    // round is less hit by the VM's drift than the ratio of the medians.
    let paired = median(ours.iter().zip(&theirs).map(|(k, t)| k / t).collect());
    let (k, t) = (median(ours), median(theirs));
    println!();
    println!(
        "{} connections x {SIZE}-byte ping-pong, server on CPU {SERVER_CPU}, load on CPU {CLIENT_CPU}",
        connections()
    );
    println!("{:<46} {:>14}", "server", "round trips/s");
    println!("{:<46} {:>14.0}", "kamaelia SimpleServer + EchoProtocol", k);
    println!(
        "{:<46} {:>14.0}",
        "tokio current_thread, read/write_all per task", t
    );
    println!(
        "ratio kamaelia/tokio: {:.2}x (median of the rounds' own ratios: {paired:.2}x)",
        k / t
    );
    if std::env::var_os("ECHO_PYTHON").is_some() {
        match Python::start() {
            Some(server) => {
                let p = measure(server, warmup, duration);
                println!(
                    "{:<46} {:>14.0}",
                    "Python Kamaelia 1.14.32 FastRestartServer", p
                );
                println!("ratio kamaelia/python: {:.1}x", k / p);
            }
            None => println!("Python Kamaelia: not run (pip install kamaelia==1.14.32)"),
        }
    }
}
