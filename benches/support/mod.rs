//! What the socket benches share: pinning threads to CPUs, and the echo
//! servers they compare (kamaelia's and tokio's), each on its own thread
//! pinned to [`SERVER_CPU`], listening on 127.0.0.1 only.
//!
//! `SPIN_BEFORE_PARK_US=<n>` has kamaelia's servers spin for `n` µs before
//! they block ([`axon::Scheduler::set_spin_before_park`]; 0, not at all, by
//! default); tokio's is as tokio comes.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use axon::ipc::Ipc;
use axon::RemoteSender;
use kamaelia::{EchoProtocol, SimpleServer, DEFAULT_BACKLOG};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The CPU the server under test runs on.
pub(crate) const SERVER_CPU: usize = 0;
/// The CPU the load generator runs on.
pub(crate) const CLIENT_CPU: usize = 1;

/// Kamaelia's listen backlog, [`DEFAULT_BACKLOG`] (1024), for the tokio
/// server too.
pub(crate) const BACKLOG: u32 = DEFAULT_BACKLOG as u32;

/// Pins the current thread to `cpu` (or says it could not).
pub(crate) fn pin(cpu: usize) {
    let pinned = core_affinity::get_core_ids()
        .and_then(|ids| ids.into_iter().find(|id| id.id == cpu))
        .is_some_and(core_affinity::set_for_current);
    if !pinned {
        eprintln!("could not pin to CPU {cpu}; figures will be noisier");
    }
}

/// A server under test, running on its own pinned thread (or process).
pub(crate) trait Server: Send {
    /// Where it listens.
    fn address(&self) -> SocketAddr;
    /// Stops it and waits until it has stopped.
    fn stop(self: Box<Self>);
    /// The CPU time (user and system) its thread or process has used.
    fn cpu_time(&self) -> Duration;
}

/// The CPU time (user + system) of a thread (`self/task/<tid>`) or a
/// process (`<pid>`), to the nanosecond: the kernel's CPU-time clock of that
/// thread or process. (`/proc/<path>/stat` counts in ticks of 10 ms, which
/// in a round of a third of a second is an error of 3%; this was the
/// larger part of the spread of an A/B of a build against itself.) Falls
/// back to the ticks where the clock cannot be read.
pub(crate) fn cpu_time_of(path: &str) -> Duration {
    let clock = match path.strip_prefix("self/task/") {
        // The kernel's encoding of CPU-time clocks (as glibc's
        // `pthread_getcpuclockid` and `clock_getcpuclockid` make them):
        // `~id << 3`, then 2 for the scheduler's clock, plus 4 for a thread.
        Some(tid) => tid.parse::<i32>().ok().map(|tid| (!tid << 3) | 6),
        None => path.parse::<i32>().ok().map(|pid| (!pid << 3) | 2),
    };
    if let Some(clock) = clock {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write; an invalid clock is
        // refused with EINVAL.
        if unsafe { libc::clock_gettime(clock, &mut now) } == 0 {
            return Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        }
    }
    ticks_of(path)
}

/// The CPU time of `/proc/<path>/stat`, in whole ticks.
fn ticks_of(path: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{path}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces: count from after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15, the 12th and 13th after ')'.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos((ticks(11) + ticks(12)) * 1_000_000_000 / hz)
}

/// The current thread's id, for [`cpu_time_of`].
pub(crate) fn thread_id() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// The servers the socket benches compare, by name: tokio's, then
/// kamaelia's with the echo as a handler component (Kamaelia's way), then
/// kamaelia's with the echo run inside each connection's adapter
/// (`SimpleServer::inline`).
pub(crate) const SERVERS: [&str; 3] = [
    "tokio current_thread, a task per connection",
    "kamaelia SimpleServer + EchoProtocol",
    "kamaelia SimpleServer::inline(EchoProtocol)",
];

/// [`SERVERS`]' short names, in the same order, for a round's one line.
const SHORT_NAMES: [&str; 3] = ["tokio", "kamaelia", "inline"];

/// A round's report on one line: `round N: what: tokio A, kamaelia B,
/// inline C`, `figures` being in [`SERVERS`] order.
pub(crate) fn round_line(round: usize, what: &str, figures: &[String]) -> String {
    let each: Vec<String> = SHORT_NAMES
        .iter()
        .zip(figures)
        .map(|(name, figure)| format!("{name} {figure}"))
        .collect();
    format!("round {round}: {what}: {}", each.join(", "))
}

/// Starts server `i` of [`SERVERS`] (tokio with `backlog`).
pub(crate) fn start(i: usize, backlog: u32) -> Box<dyn Server> {
    match i {
        0 => Tokio::start(backlog),
        1 => Kamaelia::start(false),
        _ => Kamaelia::start(true),
    }
}

/// Runs `rounds` rounds of `measure(server)` over `servers` servers (the
/// [`SERVERS`], or a bench's own), each round starting with the next one
/// (so that whatever goes first, with sockets in TIME_WAIT or a warm CPU,
/// favours none); `report` is given each round's results. Returns each
/// server's results, in order.
pub(crate) fn rounds<R: Clone>(
    rounds: usize,
    servers: usize,
    mut measure: impl FnMut(usize) -> R,
    mut report: impl FnMut(usize, &[R]),
) -> Vec<Vec<R>> {
    let mut all: Vec<Vec<R>> = vec![Vec::new(); servers];
    for round in 1..=rounds {
        let mut this: Vec<Option<R>> = vec![None; servers];
        for k in 0..servers {
            let i = (k + round - 1) % servers;
            this[i] = Some(measure(i));
        }
        let this: Vec<R> = this.into_iter().flatten().collect();
        report(round, &this);
        for (i, r) in this.into_iter().enumerate() {
            all[i].push(r);
        }
    }
    all
}

/// The median of each round's own ratio of server `of`'s figure `f` to
/// server `to`'s in [`rounds`]' results: each round's servers ran minutes
/// apart at most, so this is less hit by the VM's drift than the ratio of
/// the medians.
pub(crate) fn own_ratio<R>(runs: &[Vec<R>], of: usize, to: usize, f: impl Fn(&R) -> f64) -> f64 {
    median(
        runs[of]
            .iter()
            .zip(&runs[to])
            .map(|(k, t)| f(k) / f(t))
            .collect(),
    )
}

/// How long kamaelia's servers spin before they block:
/// `SPIN_BEFORE_PARK_US`, or not at all. A value that is not a whole number
/// stops the bench (ignored, it would pass for a measured spin).
pub(crate) fn spin_before_park() -> Duration {
    match std::env::var("SPIN_BEFORE_PARK_US") {
        Ok(v) => Duration::from_micros(
            v.parse()
                .unwrap_or_else(|_| panic!("SPIN_BEFORE_PARK_US={v:?} is not a whole number")),
        ),
        Err(_) => Duration::ZERO,
    }
}

/// Kamaelia's `SimpleServer` with `EchoProtocol`, on its own scheduler.
pub(crate) struct Kamaelia {
    address: SocketAddr,
    tid: i32,
    control: RemoteSender<Ipc>,
    thread: thread::JoinHandle<io::Result<()>>,
}

impl Kamaelia {
    /// Starts the server on a thread pinned to [`SERVER_CPU`]; with
    /// `inline`, the echo runs inside each connection's adapter.
    pub(crate) fn start(inline: bool) -> Box<dyn Server> {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            pin(SERVER_CPU);
            let tid = thread_id();
            let server = if inline {
                SimpleServer::inline(|| EchoProtocol)
            } else {
                SimpleServer::new(|| EchoProtocol)
            };
            axon::Scheduler::current().set_spin_before_park(spin_before_park());
            let server = server.host("127.0.0.1").port(0).bind()?;
            let address = server.local_addr().expect("bound");
            let server = server.activate()?;
            let control = server
                .inbox::<Ipc>("control")
                .map_err(io::Error::other)?
                .remote_sender()
                .expect("activated");
            tx.send((address, control, tid)).expect("the bench waits");
            axon::Scheduler::current().run()
        });
        let (address, control, tid) = rx.recv().expect("the server starts");
        Box::new(Kamaelia {
            address,
            tid,
            control,
            thread,
        })
    }
}

impl Server for Kamaelia {
    fn address(&self) -> SocketAddr {
        self.address
    }

    fn stop(self: Box<Self>) {
        self.control.send(kamaelia::ipc::server_shutdown());
        self.thread.join().expect("no panic").expect("ran");
    }

    fn cpu_time(&self) -> Duration {
        cpu_time_of(&format!("self/task/{}", self.tid))
    }
}

/// A tokio `current_thread` runtime on a thread pinned to [`SERVER_CPU`],
/// listening on 127.0.0.1 (any free port) with `backlog`, running what
/// `serve` makes of the listener until stopped. The benches give it
/// kamaelia's listen backlog ([`BACKLOG`]); tokio's own `TcpListener::bind`
/// uses 128, and with many connections opened at once the difference decides
/// how many handshakes wait for the client's SYN to be sent again (after 1 s,
/// then 3 s).
pub(crate) struct TokioServer {
    address: SocketAddr,
    tid: i32,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl TokioServer {
    /// Starts it; returns once it listens.
    pub(crate) fn start<F, Fut>(backlog: u32, serve: F) -> TokioServer
    where
        F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let (tx, rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            pin(SERVER_CPU);
            let tid = thread_id();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let socket = tokio::net::TcpSocket::new_v4().expect("socket");
                socket.set_reuseaddr(true).expect("reuseaddr");
                socket
                    .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .expect("bind");
                let listener = socket.listen(backlog).expect("listen");
                tx.send((listener.local_addr().expect("bound"), tid))
                    .expect("the bench waits");
                tokio::select! {
                    _ = serve(listener) => {}
                    _ = stopped => {}
                }
            });
        });
        let (address, tid) = rx.recv().expect("the server starts");
        TokioServer {
            address,
            tid,
            stop,
            thread,
        }
    }

    /// Stops it and waits for its thread; `Err` if it panicked.
    pub(crate) fn shut(self) -> thread::Result<()> {
        let _ = self.stop.send(());
        self.thread.join()
    }
}

impl Server for TokioServer {
    fn address(&self) -> SocketAddr {
        self.address
    }

    fn stop(self: Box<Self>) {
        self.shut().expect("no panic");
    }

    fn cpu_time(&self) -> Duration {
        cpu_time_of(&self.cpu_stat())
    }
}

impl TokioServer {
    /// Where `/proc` keeps its thread's CPU time, for [`cpu_time_of`].
    pub(crate) fn cpu_stat(&self) -> String {
        format!("self/task/{}", self.tid)
    }
}

/// Tokio's echo server: a task per connection doing `read` / `write_all`
/// into a buffer of 4 KiB of its own.
///
/// 4 KiB is what the networking issue's own tokio figures were measured
/// with (4.9 KB resident per idle connection: this peer measures 4,850–4,865
/// B). Until the sixteenth round the peer read into 32 KiB, as kamaelia's
/// adapter then did, which put its idle connections at 16–18 KB and its
/// CPU per connection up by a fifth to a third: a peer no tokio user would write for
/// 64-byte messages. (With tokio's README's 1 KiB it holds 1,787–1,793 B,
/// less than the inline kamaelia connection's 1,918–1,935.)
pub(crate) struct Tokio;

impl Tokio {
    /// Starts it on a [`TokioServer`] listening with `backlog` ([`BACKLOG`]
    /// to match kamaelia's server).
    pub(crate) fn start(backlog: u32) -> Box<dyn Server> {
        Box::new(TokioServer::start(backlog, |listener| async move {
            loop {
                let (mut socket, _) = listener.accept().await.expect("accept");
                socket.set_nodelay(true).expect("nodelay");
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4 * 1024];
                    loop {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if socket.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        }))
    }
}

/// `target/<profile>/examples/<name>`, next to the running bench's own
/// `target/<profile>/deps/<bench>-<hash>`.
#[allow(dead_code)] // only the chat benches run an example
fn example_binary(name: &str) -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| io::Error::other(format!("{} has no target directory", exe.display())))?;
    Ok(profile_dir.join("examples").join(name))
}

/// Builds the example `name` when run by cargo (`cargo bench --bench X`
/// builds only the bench), so the figures are for the example as it is now.
#[allow(dead_code)] // only the chat benches run an example
pub(crate) fn build_example(name: &str) -> io::Result<PathBuf> {
    if let Some(cargo) = std::env::var_os("CARGO") {
        let status = Command::new(cargo)
            .args(["build", "--profile", "bench", "-p", "kamaelia-suite"])
            .args(["--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "cargo build --profile bench --example {name}: {status}"
            )));
        }
    }
    let binary = example_binary(name)?;
    if !binary.exists() {
        return Err(io::Error::other(format!(
            "{} is missing: build it with `cargo build --release --example {name}`",
            binary.display()
        )));
    }
    Ok(binary)
}

/// The median of `v` (the upper one for an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
