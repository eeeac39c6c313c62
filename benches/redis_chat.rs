//! The chat bridged across two server processes through Redis: cross-server
//! deliveries per second, and the latency a line adds crossing the bridge,
//! each against local delivery in the same run.
//!
//! `cargo bench --bench redis_chat` (needs `redis-server`; `REDIS_CHAT_PINGS`,
//! 2000 by default; `REDIS_CHAT_LINES`, lines per sender, 5000 by default)
//!
//! A `redis-server` on a free loopback port and two `simple_server --backplane
//! redis://…/chat` processes, A and B (the example, built by the bench in the
//! bench profile).
//!
//! * Latency: a client on A says a line, then waits until both a second
//!   client on A (local delivery) and a client on B (through the broker) have
//!   it, then says the next: the time from the send to each arrival, p50 and
//!   p99, and the difference. B's arrival is read after A's, so a remote time
//!   is never below the local one (remote lines arrive after local ones
//!   anyway: they go through the broker).
//! * Throughput: 4 clients on A each say `REDIS_CHAT_LINES` lines as fast as
//!   they can while reading; 2 more clients on A and 2 on B only read. Each
//!   reader must get all 4 × LINES lines, in order per sender; deliveries per
//!   second on each side are the lines its readers got over the time to the
//!   last one.
//!
//! On a 2-core machine the broker, both servers and the load share the cores:
//! the figures are for comparing, not for sizing.

#[allow(dead_code)] // its echo servers and pinning: only the build and the median serve here
mod support;

/// The tests' broker helper, on what it stands on (below).
#[allow(dead_code)] // only `start` and `url` serve here
#[path = "../tests/util/redis.rs"]
mod redis;

/// How long the broker may take to say it is ready.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// A port the system just handed out and took back, for the broker.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use redis::RedisServer;
use support::build_example;

/// A `simple_server` bridged to the broker, killed on drop.
struct Server {
    address: SocketAddr,
    child: Child,
}

impl Server {
    fn start(binary: &Path, url: &str) -> Server {
        let mut child = Command::new(binary)
            .args(["--host", "127.0.0.1", "--port", "0", "--backplane", url])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start simple_server: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("simple_server's first line");
        let address = line
            .trim_end()
            .strip_prefix("simple_server listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("simple_server printed {line:?}"));
        Server { address, child }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chat client reading whole lines.
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address).expect("connect");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    fn say(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).expect("send");
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        Ok(line)
    }
}

/// Says `join N` from `from` until every one of `to` has it: then each has
/// subscribed, and has read every line said before.
fn join(from: &mut Client, to: &mut [&mut Client]) {
    for client in to.iter_mut() {
        client
            .reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("read timeout");
    }
    'attempt: for n in 0.. {
        let line = format!("join {n}\n");
        from.say(&line);
        for client in to.iter_mut() {
            loop {
                match client.read_line() {
                    Ok(got) if got == line => break,
                    Ok(_) => {}
                    Err(_) => continue 'attempt,
                }
            }
        }
        break;
    }
    for client in to.iter_mut() {
        client
            .reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
    }
}

/// The `q`th quantile of `sorted`, in microseconds.
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let at = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[at].as_secs_f64() * 1e6
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn latency(a: &Server, b: &Server, pings: usize) {
    let mut sender = Client::connect(a.address);
    let mut local = Client::connect(a.address);
    let mut remote = Client::connect(b.address);
    join(&mut sender, &mut [&mut local, &mut remote]);
    let (mut near, mut far) = (Vec::with_capacity(pings), Vec::with_capacity(pings));
    for n in 0..pings {
        let line = format!("ping {n}\n");
        let sent = Instant::now();
        sender.say(&line);
        assert_eq!(local.read_line().expect("local"), line);
        near.push(sent.elapsed());
        assert_eq!(remote.read_line().expect("remote"), line);
        far.push(sent.elapsed());
    }
    near.sort();
    far.sort();
    let (l50, l99) = (quantile(&near, 0.5), quantile(&near, 0.99));
    let (r50, r99) = (quantile(&far, 0.5), quantile(&far, 0.99));
    println!("latency per line, {pings} lines one at a time (µs):");
    println!("  local  (same server)        p50 {l50:8.0}   p99 {l99:8.0}");
    println!("  remote (through the broker) p50 {r50:8.0}   p99 {r99:8.0}");
    println!(
        "  added by the bridge         p50 {:8.0}   p99 {:8.0}",
        r50 - l50,
        r99 - l99
    );
}

/// Reads `lines` lines of `senders` senders, checking the order per sender;
/// the time at the last.
fn read_all(mut client: Client, senders: usize, lines: usize) -> Instant {
    let mut next = vec![0usize; senders];
    for _ in 0..senders * lines {
        let line = client.read_line().expect("a line");
        let mut words = line.split_whitespace();
        let (Some(s), Some(n)) = (words.next(), words.nth(1)) else {
            panic!("a line that is not the load's: {line:?}");
        };
        let (s, n): (usize, usize) = (s.parse().expect("sender"), n.parse().expect("number"));
        assert_eq!(n, next[s], "sender {s}'s lines out of order");
        next[s] += 1;
    }
    Instant::now()
}

fn throughput(a: &Server, b: &Server, lines: usize) {
    const SENDERS: usize = 4;
    let mut senders: Vec<Client> = (0..SENDERS).map(|_| Client::connect(a.address)).collect();
    let mut local: Vec<Client> = (0..2).map(|_| Client::connect(a.address)).collect();
    let mut remote: Vec<Client> = (0..2).map(|_| Client::connect(b.address)).collect();
    let (first, rest) = senders.split_first_mut().expect("a sender");
    let mut others: Vec<&mut Client> = rest.iter_mut().collect();
    others.extend(local.iter_mut());
    others.extend(remote.iter_mut());
    join(first, &mut others);
    for s in 1..SENDERS {
        // The first sender's joins reached them; the others' are to come.
        let (_, rest) = senders.split_at_mut(s);
        let (me, later) = rest.split_first_mut().expect("this sender");
        let mut them: Vec<&mut Client> = later.iter_mut().collect();
        them.extend(local.iter_mut());
        them.extend(remote.iter_mut());
        join(me, &mut them);
    }
    // The senders' own readers must keep reading too (the backplane paces
    // everyone to its slowest reader).
    let start = Instant::now();
    let mut writers = Vec::new();
    let mut echoes = Vec::new();
    for (s, client) in senders.into_iter().enumerate() {
        let mut writer = client.writer.try_clone().expect("clone");
        writers.push(thread::spawn(move || {
            let mut batch = String::new();
            for n in 0..lines {
                batch.push_str(&format!("{s} line {n}\n"));
                if batch.len() > 4096 {
                    writer.write_all(batch.as_bytes()).expect("send");
                    batch.clear();
                }
            }
            writer.write_all(batch.as_bytes()).expect("send");
        }));
        echoes.push(thread::spawn(move || {
            let mut client = client;
            for _ in 0..(SENDERS - 1) * lines {
                client.read_line().expect("a line");
            }
        }));
    }
    let readers: Vec<_> = local
        .into_iter()
        .chain(remote)
        .map(|c| thread::spawn(move || read_all(c, SENDERS, lines)))
        .collect();
    let ends: Vec<Instant> = readers
        .into_iter()
        .map(|r| r.join().expect("a reader"))
        .collect();
    for t in writers.into_iter().chain(echoes) {
        t.join().expect("a sender");
    }
    let per_side = (2 * SENDERS * lines) as f64;
    let rate = |ends: &[Instant]| {
        let last = ends.iter().max().expect("readers");
        per_side / last.duration_since(start).as_secs_f64()
    };
    println!("throughput, {SENDERS} senders × {lines} lines on A, 2 readers on each server:");
    println!(
        "  local  deliveries/s (A's readers) {:10.0}",
        rate(&ends[..2])
    );
    println!(
        "  remote deliveries/s (B's readers) {:10.0}",
        rate(&ends[2..])
    );
}

fn main() {
    let binary = build_example("simple_server").unwrap_or_else(|e| panic!("simple_server: {e}"));
    let broker = RedisServer::start();
    let url = broker.url("chat");
    let a = Server::start(&binary, &url);
    let b = Server::start(&binary, &url);
    latency(&a, &b, setting("REDIS_CHAT_PINGS", 2000));
    throughput(&a, &b, setting("REDIS_CHAT_LINES", 5000));
}
