//! Helpers shared by the socket tests: running an example binary and talking
//! to it, a TCP client with hang guards, and running components on a scheduler
//! of their own thread.
//!
//! Each test file pulls this in with `mod util;` and uses only part of it.
//!
//! Nothing here waits for a fixed time to let something happen: every wait is
//! for an event (a line on stdout, bytes or end of stream on a socket, a
//! channel message, a process exit). The timeouts ([`HANG_GUARD`]) only turn a
//! hang into a failure.
#![allow(dead_code)]

pub(crate) mod logs;

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use axon::ipc::Ipc;
use axon::{Background, ComponentRef, Handle};
use kamaelia::ServerCore;

pub(crate) mod redis;

/// How long any single wait may take before the test decides that something
/// has hung. It is never used to let something happen.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(10);

/// A longer guard for waits that follow a large transfer in an unoptimised
/// build.
pub(crate) const SLOW_HANG_GUARD: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// Example binaries
// ---------------------------------------------------------------------------

/// Where `cargo` put the example binary `name`: next to this test's own
/// directory (`target/<profile>/deps/<test>-<hash>` →
/// `target/<profile>/examples/<name>`).
pub(crate) fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable lives in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "example binary {} not found: run the tests with `cargo test` (which builds the \
         examples), or run `cargo build --examples` first",
        path.display()
    );
    path
}

/// A running example binary. Killed (SIGKILL) on drop if it is still running,
/// so a failing test leaves no process behind.
pub(crate) struct Example {
    name: String,
    pid: u32,
    /// The address from its `<name> listening on <addr>` line, if it printed one.
    addr: Option<SocketAddr>,
    exit: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
    stdout_lines: mpsc::Receiver<String>,
    /// What it wrote to stderr, and a signal for each write.
    stderr: Arc<(Mutex<Vec<u8>>, Condvar)>,
    /// Disconnects when the example's stderr has closed and been read.
    stderr_closed: mpsc::Receiver<()>,
    /// Its standard input, if piped.
    stdin: Option<ChildStdin>,
}

impl Example {
    /// Starts a server example on 127.0.0.1, any free port, and waits for it
    /// to say where it listens.
    pub(crate) fn server(name: &str) -> Example {
        Example::server_with(name, &[], "info")
    }

    /// [`server`](Self::server), with more arguments and its log filter
    /// (`RUST_LOG`) set to `log`.
    pub(crate) fn server_with(name: &str, more: &[&str], log: &str) -> Example {
        let mut args = vec!["--host", "127.0.0.1", "--port", "0"];
        args.extend_from_slice(more);
        Example::start_logging(name, &args, log)
    }

    /// Starts the example `name` with `args` and waits for its first line on
    /// stdout, which must be `<name> listening on <addr>`, a loopback
    /// address.
    pub(crate) fn start(name: &str, args: &[&str]) -> Example {
        Example::start_logging(name, args, "info")
    }

    fn start_logging(name: &str, args: &[&str], log: &str) -> Example {
        let mut example = Example::spawn_logging(name, args, Stdio::null(), log);
        let first = example.next_stdout_line().unwrap_or_else(|| {
            panic!(
                "{name} ended without saying where it listens; stderr:\n{}",
                example.stderr()
            )
        });
        let prefix = format!("{name} listening on ");
        let addr = first
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{name}'s first line is {first:?}, not {prefix:?}…"))
            .trim()
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{name}'s first line {first:?}: bad address: {e}"));
        assert!(
            addr.ip().is_loopback(),
            "{name} listens on {addr}, not on 127.0.0.1"
        );
        assert_ne!(addr.port(), 0, "{name} reported port 0");
        example.addr = Some(addr);
        example
    }

    /// Starts the example `name` with `args`, its stdin as given, reading its
    /// stdout and stderr in the background.
    pub(crate) fn spawn(name: &str, args: &[&str], stdin: Stdio) -> Example {
        Example::spawn_logging(name, args, stdin, "info")
    }

    fn spawn_logging(name: &str, args: &[&str], stdin: Stdio, log: &str) -> Example {
        let mut child: Child = Command::new(example_path(name))
            .args(args)
            .env("RUST_LOG", log)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        let stdin = child.stdin.take();

        let stdout = child.stdout.take().expect("piped stdout");
        let (line_tx, stdout_lines) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if line_tx.send(line).is_err() {
                            // Nobody listens any more: keep draining the pipe
                            // so the example never blocks on its stdout.
                            let _ = io::copy(&mut reader, &mut io::sink());
                            return;
                        }
                    }
                }
            }
        });

        let stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = stderr.clone();
        let (stderr_open, stderr_closed) = mpsc::channel::<()>();
        thread::spawn(move || {
            let _open = stderr_open;
            let mut pipe = stderr_pipe;
            let mut chunk = [0u8; 4096];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        sink.0
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .extend_from_slice(&chunk[..n]);
                        sink.1.notify_all();
                    }
                }
            }
        });

        let (exit_tx, exit) = mpsc::channel();
        thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exit_tx.send(status);
            }
        });

        Example {
            name: name.to_string(),
            pid,
            addr: None,
            exit,
            status: None,
            stdout_lines,
            stderr,
            stderr_closed,
            stdin,
        }
    }

    /// Its standard input, if it was started with a piped one (and not yet
    /// taken): dropping it closes the example's input.
    pub(crate) fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// The process id of the running example.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The address the server listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
            .expect("this example did not say where it listens")
    }

    /// The next line the example printed on stdout (with its newline), or
    /// `None` once stdout has closed.
    pub(crate) fn next_stdout_line(&mut self) -> Option<String> {
        match self.stdout_lines.recv_timeout(HANG_GUARD) {
            Ok(line) => Some(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{} printed nothing on stdout within {HANG_GUARD:?}; stderr:\n{}",
                self.name,
                self.stderr()
            ),
        }
    }

    /// Everything the example printed on stdout after the lines already read,
    /// up to its end. Call after it has exited.
    pub(crate) fn rest_of_stdout(&mut self) -> String {
        let mut out = String::new();
        while let Some(line) = self.next_stdout_line() {
            out.push_str(&line);
        }
        out
    }

    /// What the example has written to stderr so far.
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.0.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }

    /// Waits until the example has written `needle` to stderr (a log line
    /// saying something happened inside it).
    pub(crate) fn await_stderr(&self, needle: &str) {
        self.await_stderr_line(needle, |line| line.contains(needle));
    }

    /// Waits until the example has written a line to stderr that `matches`
    /// (`what` describes it in the failure message).
    pub(crate) fn await_stderr_line(&self, what: &str, matches: impl Fn(&str) -> bool) {
        let (buffer, written) = &*self.stderr;
        let mut buffer = buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let deadline = std::time::Instant::now() + HANG_GUARD;
        while !String::from_utf8_lossy(&buffer).lines().any(&matches) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "{} did not log {what:?} within {HANG_GUARD:?}; stderr:\n{}",
                self.name,
                String::from_utf8_lossy(&buffer)
            );
            buffer = written
                .wait_timeout(buffer, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Everything the example wrote to stderr, waiting for the pipe to close.
    /// Call after it has exited.
    pub(crate) fn whole_stderr(&self) -> String {
        if let Err(mpsc::RecvTimeoutError::Timeout) = self.stderr_closed.recv_timeout(HANG_GUARD) {
            panic!(
                "{}'s stderr stayed open {HANG_GUARD:?} after it exited",
                self.name
            );
        }
        self.stderr()
    }

    /// Sends a signal to the example.
    pub(crate) fn signal(&self, signal: libc::c_int) {
        assert!(self.status.is_none(), "{} has already exited", self.name);
        let pid = libc::pid_t::try_from(self.pid).expect("a pid fits in pid_t");
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        // The process has not been reaped (its waiter has not reported), so the
        // pid is still the example's.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            result,
            0,
            "kill({pid}, {signal}): {}",
            io::Error::last_os_error()
        );
    }

    /// Waits for the example to exit (at most [`SLOW_HANG_GUARD`]: a server
    /// may linger a few seconds for its clients to close).
    pub(crate) fn wait(&mut self) -> ExitStatus {
        self.wait_within(SLOW_HANG_GUARD)
    }

    /// Waits for the example to exit, at most `guard`.
    pub(crate) fn wait_within(&mut self, guard: Duration) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        match self.exit.recv_timeout(guard) {
            Ok(status) => {
                self.status = Some(status);
                status
            }
            Err(_) => panic!(
                "{} did not exit within {guard:?}; stderr:\n{}",
                self.name,
                self.stderr()
            ),
        }
    }

    /// Sends SIGTERM and waits for the example to exit.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait()
    }

    /// The example's peak resident memory so far (`VmHWM`), in bytes, from
    /// `/proc`; `None` where there is no `/proc`.
    pub(crate) fn peak_memory(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line
            .trim_start_matches("VmHWM:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test failed: what the example said is the first thing to
            // read, and it is gone once the test ends.
            eprintln!("--- {}'s stderr:\n{}", self.name, self.stderr());
        }
        if self.status.is_some() {
            return;
        }
        if let Ok(status) = self.exit.try_recv() {
            self.status = Some(status);
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.pid) {
            // SAFETY: as in `signal`: plain integers, and the waiter thread has
            // not reported the process reaped.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let _ = self.exit.recv_timeout(HANG_GUARD);
    }
}

/// Asserts that an example exited by itself with status 0.
pub(crate) fn assert_exit_ok(example: &Example, status: ExitStatus) {
    assert!(
        status.success(),
        "{} exited with {status}, not 0; stderr:\n{}",
        example.name,
        example.stderr()
    );
}

/// The greeting the clever echo server sends a client connected from
/// `client` to `server` (no newline follows it).
pub(crate) fn clever_greeting(server: SocketAddr, client: SocketAddr) -> String {
    format!(
        "Welcome! You have connected to {} on port {} from {} on port {}",
        server.ip(),
        server.port(),
        client.ip(),
        client.port()
    )
}

/// Runs the example `name` with `args` and `stdin` as its input, to its end:
/// returns its exit status, stdout and stderr.
pub(crate) fn run_example(name: &str, args: &[&str], stdin: &[u8]) -> (ExitStatus, String, String) {
    let mut example = Example::spawn(name, args, Stdio::piped());
    let mut input = example.stdin.take().expect("piped stdin");
    input
        .write_all(stdin)
        .unwrap_or_else(|e| panic!("{name}: writing its stdin: {e}"));
    drop(input);
    let status = example.wait_within(HANG_GUARD);
    let out = example.rest_of_stdout();
    let err = example.whole_stderr();
    (status, out, err)
}

// ---------------------------------------------------------------------------
// A TCP client with hang guards
// ---------------------------------------------------------------------------

/// The log filter under which a server logs each connection it has set up
/// (ServerCore's debug line `connection`, naming the client's address) and
/// each connection's subscription to the chat's backplane (`SubscribeTo`'s
/// debug line `subscribed`, inside the connection's span), for
/// [`chat_client`] and [`join_chat`].
pub(crate) const LOG_CONNECTIONS: &str =
    "info,kamaelia::server_core=debug,kamaelia::backplane=debug";

/// Connects `count` clients to a chat server (started with
/// [`LOG_CONNECTIONS`]) and proves that each has joined the chat.
///
/// Each newcomer waits until the server has logged its subscription (its
/// pipeline has joined the backplane), then says `joined <n>`, and
/// every earlier client must receive it. With one scheduler, accepting in
/// order would be enough; with several, a client accepted by one may still
/// be waiting while a line said on another goes round, so the log is what
/// tells.
pub(crate) fn join_chat(server: &Example, count: usize) -> Vec<Client> {
    let mut clients: Vec<Client> = Vec::new();
    for n in 0..count {
        let mut client = chat_client(server, &format!("client {n}"));
        if n > 0 {
            let line = format!("joined {n}\n");
            client.send(line.as_bytes());
            for earlier in &mut clients {
                earlier.expect_line(line.as_bytes());
            }
        }
        clients.push(client);
    }
    clients
}

/// Connects a client to a chat server (started with [`LOG_CONNECTIONS`]) and
/// waits until the server has logged its subscription to the chat: from
/// then on it misses no line said, on this server or (bridged) on another.
///
/// The connection's log line is not enough: the connection's pipeline
/// subscribes when its `SubscribeTo` first runs, a few cycles later, and a
/// line that reaches the backplane in between (from a bridged server, say)
/// is not for this client.
pub(crate) fn chat_client(server: &Example, name: &str) -> Client {
    let client = Client::named(server.addr(), name);
    let span = format!("connection{{peer={}}}", client.local_addr());
    server.await_stderr_line(&format!("{span}…subscribed"), |line| {
        line.contains(&span) && line.contains(" subscribed backplane=")
    });
    client
}

/// A test's TCP connection: std's `TcpStream`, every read guarded by
/// [`HANG_GUARD`], with line reading that keeps what it read past a line.
pub(crate) struct Client {
    pub(crate) stream: TcpStream,
    /// Received but not yet handed out.
    buffer: Vec<u8>,
    name: String,
}

/// What a client has received, as a failure message shows it: whole if
/// short, else its length and its end (a bulk test's buffer holds
/// megabytes).
struct Received<'a>(&'a [u8]);

impl fmt::Debug for Received<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 256;
        let bytes = self.0;
        if bytes.len() <= SHOWN {
            return write!(f, "{:?}", String::from_utf8_lossy(bytes));
        }
        let end = &bytes[bytes.len() - SHOWN..];
        write!(
            f,
            "{} bytes, ending {:?}",
            bytes.len(),
            String::from_utf8_lossy(end)
        )
    }
}

impl Client {
    /// Connects to `addr` (Nagle off, so small writes go out at once), naming
    /// the client in failure messages.
    pub(crate) fn named(addr: SocketAddr, name: &str) -> Client {
        assert!(addr.ip().is_loopback(), "tests only talk to 127.0.0.1");
        let stream =
            TcpStream::connect(addr).unwrap_or_else(|e| panic!("{name}: connect {addr}: {e}"));
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
            .set_read_timeout(Some(HANG_GUARD))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(SLOW_HANG_GUARD))
            .expect("write timeout");
        Client {
            stream,
            buffer: Vec::new(),
            name: name.to_string(),
        }
    }

    /// Sends all of `data`.
    pub(crate) fn send(&mut self, data: &[u8]) {
        let name = &self.name;
        self.stream
            .write_all(data)
            .unwrap_or_else(|e| panic!("{name}: write: {e}"));
    }

    /// Reads more into the buffer; returns how many bytes (0 at end of stream).
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn fill_or_panic(&mut self, waiting_for: &str) {
        if let Err(e) = self.try_fill(waiting_for) {
            panic!("{e}");
        }
    }

    /// Reads more, or says why nothing more came.
    fn try_fill(&mut self, waiting_for: &str) -> Result<(), String> {
        match self.fill() {
            Ok(0) => Err(format!(
                "{}: end of stream while waiting for {waiting_for} (have {:?})",
                self.name,
                Received(&self.buffer)
            )),
            Ok(_) => Ok(()),
            Err(e) if is_timeout(&e) => Err(format!(
                "{}: nothing arrived within {HANG_GUARD:?} while waiting for {waiting_for} \
                 (have {:?})",
                self.name,
                Received(&self.buffer)
            )),
            Err(e) => Err(format!(
                "{}: {e} while waiting for {waiting_for} (have {:?})",
                self.name,
                Received(&self.buffer)
            )),
        }
    }

    /// Reads one line, newline included, or says why none came.
    pub(crate) fn try_read_line(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(at) = self.buffer.iter().position(|&b| b == b'\n') {
                return Ok(self.buffer.drain(..=at).collect());
            }
            self.try_fill("a line")?;
        }
    }

    /// Reads one line, newline included.
    pub(crate) fn read_line(&mut self) -> Vec<u8> {
        self.try_read_line().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads one line and asserts that it is `expected` (newline included).
    pub(crate) fn expect_line(&mut self, expected: &[u8]) {
        let line = self.read_line();
        assert_eq!(
            String::from_utf8_lossy(&line),
            String::from_utf8_lossy(expected),
            "{}: unexpected line",
            self.name
        );
        assert_eq!(line, expected, "{}: unexpected line bytes", self.name);
    }

    /// Reads exactly `n` bytes.
    pub(crate) fn read_exact_n(&mut self, n: usize) -> Vec<u8> {
        while self.buffer.len() < n {
            let want = format!("{n} bytes");
            self.fill_or_panic(&want);
        }
        self.buffer.drain(..n).collect()
    }

    /// Reads everything up to the end of the stream.
    pub(crate) fn read_to_end(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => return std::mem::take(&mut self.buffer),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => panic!(
                    "{}: the connection stayed open for {HANG_GUARD:?} with nothing more, \
                     after {} bytes, while waiting for the end of the stream",
                    self.name,
                    self.buffer.len()
                ),
                Err(e) => panic!(
                    "{}: {e} while reading to the end of the stream (after {} bytes)",
                    self.name,
                    self.buffer.len()
                ),
            }
        }
    }

    /// Asserts that nothing more arrives: the next read is the end of the
    /// stream.
    pub(crate) fn expect_eof(&mut self) {
        assert!(
            self.buffer.is_empty(),
            "{}: expected the end of the stream, have {:?}",
            self.name,
            Received(&self.buffer)
        );
        match self.fill() {
            Ok(0) => {}
            Ok(_) => panic!(
                "{}: expected the end of the stream, got {:?}",
                self.name,
                Received(&self.buffer)
            ),
            Err(e) if is_timeout(&e) => panic!(
                "{}: expected the end of the stream; the connection stayed open for \
                 {HANG_GUARD:?} with nothing more",
                self.name
            ),
            Err(e) => panic!(
                "{}: expected the end of the stream, got the error {e}",
                self.name
            ),
        }
    }

    /// Reads until the server closes the connection, whether in order (end of
    /// stream) or by a reset; returns how many bytes arrived before.
    pub(crate) fn drain_until_closed(&mut self) -> usize {
        let mut total = std::mem::take(&mut self.buffer).len();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return total,
                Err(e) if is_timeout(&e) => panic!(
                    "{}: the connection stayed open for {HANG_GUARD:?} with nothing more, \
                     after {total} bytes, while waiting for the server to close it",
                    self.name
                ),
                Err(e) => panic!(
                    "{}: {e} while waiting for the server to close (after {total} bytes)",
                    self.name
                ),
            }
        }
    }

    /// Shuts the sending side: the server reads the end of the stream.
    pub(crate) fn shutdown_write(&self) {
        self.stream
            .shutdown(Shutdown::Write)
            .unwrap_or_else(|e| panic!("{}: shutdown: {e}", self.name));
    }

    /// Resets the connection: SO_LINGER 0, then close, so the kernel sends RST
    /// instead of FIN.
    pub(crate) fn reset(self) {
        socket2::SockRef::from(&self.stream)
            .set_linger(Some(Duration::ZERO))
            .expect("SO_LINGER 0");
        drop(self.stream);
    }

    /// The client's own address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local address")
    }

    /// The server's address, as the client sees it.
    pub(crate) fn peer_addr(&self) -> SocketAddr {
        self.stream.peer_addr().expect("peer address")
    }
}

/// True for the error a read or write gets when its socket timeout passes.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A port on 127.0.0.1 where nothing listens while this is held: a socket
/// bound to it that never listens, so a connect to it is refused, and no
/// other socket (a broker a test running alongside starts, say) can take the
/// port meanwhile.
pub(crate) struct ClosedPort {
    _bound: socket2::Socket,
    port: u16,
}

impl ClosedPort {
    /// Its number.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

/// A port on 127.0.0.1 where nothing listens, for as long as it is held.
pub(crate) fn closed_port() -> ClosedPort {
    use socket2::{Domain, Socket, Type};

    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind 127.0.0.1:0");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("an IP address")
        .port();
    ClosedPort {
        _bound: socket,
        port,
    }
}

/// A port on 127.0.0.1 the system has just handed out and taken back: free
/// for a server the test starts on it (unless a test alongside is handed it
/// in between, which is unlikely).
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    port
}

/// A server for one connection on 127.0.0.1: a thread accepts it, sets its
/// read timeout to [`HANG_GUARD`], and runs `serve` on it; what `serve`
/// returns comes back on the returned channel.
pub(crate) fn one_connection_server<T: Send + 'static>(
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(HANG_GUARD))
            .expect("read timeout");
        let _ = tx.send(serve(stream));
    });
    (addr, rx)
}

/// A deterministic pseudo-random byte pattern (xorshift), so a transfer that
/// loses, repeats or reorders bytes is caught.
pub(crate) fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Asserts that two byte strings are equal, reporting the first difference
/// rather than both strings.
pub(crate) fn assert_same_bytes(got: &[u8], expected: &[u8], what: &str) {
    if let Some(at) = got.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "{what}: first difference at byte {at} of {} (got {} bytes)",
            expected.len(),
            got.len()
        );
    }
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: lengths differ (the shorter is a prefix of the longer)"
    );
}

// ---------------------------------------------------------------------------
// Components on a scheduler thread of their own
// ---------------------------------------------------------------------------

/// A scheduler on a thread of its own, for tests that drive components from
/// the test thread: axon's [`Background`], joined with a hang guard.
pub(crate) struct SchedulerThread(Option<Background>);

impl SchedulerThread {
    /// Starts a background scheduler, runs `setup` on it (to make and
    /// activate components, which cannot cross threads), and hands back what
    /// `setup` returned.
    pub(crate) fn start<T, F>(setup: F) -> (SchedulerThread, T)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let background = Background::start().expect("start a background scheduler");
        let value = background.run_on(setup);
        (SchedulerThread(Some(background)), value)
    }

    /// Waits (at most [`SLOW_HANG_GUARD`]) for every component to end, and
    /// asserts that the scheduler's `run` returned Ok.
    pub(crate) fn join_ok(&mut self) {
        if let Some(background) = self.0.take() {
            if let Err(e) = background.join_timeout(SLOW_HANG_GUARD) {
                panic!("the background scheduler did not finish cleanly: {e}");
            }
        }
    }
}

/// A [`ServerCore`] running on a scheduler thread of its own, listening on
/// 127.0.0.1 (any free port).
pub(crate) struct InProcessServer {
    pub(crate) addr: SocketAddr,
    /// The server's boxes: its `control` (see [`InProcessServer::shutdown`])
    /// and what it sends out of `signal`.
    handle: Handle<Ipc, Ipc>,
    pub(crate) thread: SchedulerThread,
}

impl InProcessServer {
    /// Starts the server `make` returns (made on the scheduler thread), on
    /// 127.0.0.1 port 0.
    pub(crate) fn start<F>(make: F) -> InProcessServer
    where
        F: FnOnce() -> ServerCore + Send + 'static,
    {
        let (thread, (addr, handle)) = SchedulerThread::start(move || {
            let server = make()
                .host("127.0.0.1")
                .port(0)
                .bind()
                .expect("bind 127.0.0.1:0");
            let addr = server.local_addr().expect("bound");
            let handle = Handle::new(&ComponentRef::new(server)).expect("a server's boxes");
            (addr, handle)
        });
        InProcessServer {
            addr,
            handle,
            thread,
        }
    }

    /// Asks the server to shut down in order.
    pub(crate) fn shutdown(&self) {
        self.handle.put_control(kamaelia::ipc::server_shutdown());
    }

    /// Waits for the server's `signal` and asserts it is `ProducerFinished`.
    pub(crate) fn expect_finished_signal(&self) {
        match self.handle.get_signal_timeout(SLOW_HANG_GUARD) {
            Ok(Ipc::ProducerFinished(_)) => {}
            other => panic!("expected ProducerFinished from the server, got {other:?}"),
        }
    }
}

/// Sets the soft limit on open files of the running process `pid`.
pub(crate) fn set_open_files_limit(pid: u32, limit: usize) {
    let pid = libc::pid_t::try_from(pid).expect("a pid fits pid_t");
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit reads `new` and writes `old`, both valid for the call.
    let got = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(got, 0, "prlimit (get): {}", io::Error::last_os_error());
    let new = libc::rlimit {
        rlim_cur: limit as libc::rlim_t,
        rlim_max: old.rlim_max,
    };
    // SAFETY: as above.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) };
    assert_eq!(set, 0, "prlimit (set): {}", io::Error::last_os_error());
}
