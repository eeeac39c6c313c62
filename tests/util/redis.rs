//! A `redis-server` of a test's own, on a free loopback port: started, known
//! to be ready (it says so, and answers PING), and killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;

use super::{free_port, HANG_GUARD};

/// A running `redis-server`, with no persistence, on 127.0.0.1.
pub(crate) struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port. Redis refuses `--port 0`, so the port is
    /// one the system just handed out and took back.
    pub(crate) fn start() -> RedisServer {
        RedisServer::start_on(free_port())
    }

    /// Starts one on `port` (a broker coming back where it was).
    pub(crate) fn start_on(port: u16) -> RedisServer {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): these tests need it; install it \
                     (apt-get install redis-server), as .ci/run does"
                )
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready_tx, ready) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut said = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                said.push_str(&line);
                if line.contains("Ready to accept connections") {
                    let _ = ready_tx.send(Ok(()));
                    // Keep its stdout drained, so it never blocks on a log line.
                    let _ = std::io::copy(&mut reader, &mut std::io::sink());
                    return;
                }
                line.clear();
            }
            let _ = ready_tx.send(Err(said));
        });
        let mut server = RedisServer {
            port,
            child: Some(child),
        };
        match ready.recv_timeout(HANG_GUARD) {
            Ok(Ok(())) => {}
            Ok(Err(said)) => {
                panic!("redis-server on port {port} ended before it was ready:\n{said}")
            }
            Err(e) => {
                panic!("redis-server on port {port} was not ready within {HANG_GUARD:?}: {e}")
            }
        }
        server.ping();
        server
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The bridge URL of `channel` on it.
    pub(crate) fn url(&self, channel: &str) -> String {
        format!("redis://127.0.0.1:{}/{channel}", self.port)
    }

    /// Asserts that it answers PING.
    fn ping(&mut self) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("redis-server said it was ready, but: {e}"));
        stream
            .set_read_timeout(Some(HANG_GUARD))
            .expect("read timeout");
        stream.write_all(b"PING\r\n").expect("send PING");
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).expect("read PONG");
        assert_eq!(&answer, b"+PONG\r\n");
    }

    /// Kills it (SIGKILL: a broker that dies, not one that says goodbye) and
    /// waits until it has gone.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
