//! The chat load: `loadgen -- chat ADDR CLIENTS LINES [--pasted]`. Every
//! client sends LINES numbered lines while reading; each must receive every
//! other client's lines, intact and in order per sender (`CLIENTS ×
//! (CLIENTS-1) × LINES` deliveries in all).
//!
//! How the lines leave a client is the [`Writes`]: one write per line, as a
//! client typing fast or a program saying each line as it has it (the
//! server reads a few at a time, as they come), or all of a client's lines
//! in one write, as a paste arrives from a client that sends what it was
//! given at once (the server reads many in each chunk).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How each client writes its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Writes {
    /// A write for each line (on a socket with `TCP_NODELAY`, a segment each).
    PerLine,
    /// All of a client's lines in a single write.
    Pasted,
}

impl Writes {
    /// The name the load generator and the benches print.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Writes::PerLine => "a write per line",
            Writes::Pasted => "pasted, one write per client",
        }
    }
}

/// What the chat load achieved.
pub(crate) struct Outcome {
    pub(crate) delivered: usize,
    pub(crate) expected: usize,
    pub(crate) elapsed: Duration,
    /// What `cpu_clock` moved by over `elapsed`: a bench passes the
    /// server's CPU time.
    #[allow(dead_code)] // read by benches/chat.rs; the load generator has no clock to give
    pub(crate) cpu: Duration,
}

fn line(client: usize, n: usize) -> String {
    format!("client {client:04} line {n:06} {}\n", "x".repeat(40))
}

/// Runs the load; fails on the first line out of order or damaged.
/// `cpu_clock` is read when the last client has joined and after the last
/// delivery (a bench gives the server's CPU time; the load generator, none).
pub(crate) fn run(
    address: SocketAddr,
    clients: usize,
    lines: usize,
    writes: Writes,
    cpu_clock: impl Fn() -> Duration,
) -> io::Result<Outcome> {
    // Join one at a time: a client has joined once every earlier one has
    // received its `joined` line. The first has nobody to prove it by: the
    // second says hello until the first hears it (with several schedulers
    // the first may be accepted after the second's line has gone round).
    let mut joined: Vec<(TcpStream, BufReader<TcpStream>)> = Vec::new();
    for c in 0..clients {
        let mut stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        let reader = BufReader::new(stream.try_clone()?);
        if c == 1 {
            let (_, first) = &mut joined[0];
            first
                .get_ref()
                .set_read_timeout(Some(Duration::from_millis(20)))?;
            let mut got = String::new();
            for attempt in 0.. {
                stream.write_all(format!("joined 1 (try {attempt})\n").as_bytes())?;
                match first.read_line(&mut got) {
                    Ok(_) if got.starts_with("joined 1 ") => break,
                    Ok(_) => {
                        return Err(io::Error::other(format!("expected a hello, got {got:?}")))
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        if attempt == 500 {
                            return Err(io::Error::other("the first client hears nothing"));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            first.get_ref().set_read_timeout(None)?;
        }
        if c > 1 {
            let hello = format!("joined {c}\n");
            stream.write_all(hello.as_bytes())?;
            for (_, r) in &mut joined {
                // Skipping the second client's spare hellos.
                let mut got = String::new();
                while {
                    got.clear();
                    r.read_line(&mut got)?;
                    got.starts_with("joined 1 ")
                } {}
                if got != hello {
                    return Err(io::Error::other(format!("expected {hello:?}, got {got:?}")));
                }
            }
        }
        joined.push((stream, reader));
    }
    let started = Instant::now();
    let cpu_at_start = cpu_clock();
    let expected_each = (clients - 1) * lines;
    let threads: Vec<_> = joined
        .into_iter()
        .enumerate()
        .map(|(c, (mut stream, mut reader))| {
            let writer = std::thread::spawn(move || -> io::Result<()> {
                match writes {
                    Writes::PerLine => {
                        for n in 0..lines {
                            stream.write_all(line(c, n).as_bytes())?;
                        }
                    }
                    Writes::Pasted => {
                        let paste: String = (0..lines).map(|n| line(c, n)).collect();
                        stream.write_all(paste.as_bytes())?;
                    }
                }
                Ok(())
            });
            std::thread::spawn(move || -> io::Result<usize> {
                let mut next = vec![0usize; clients];
                let mut got = String::new();
                for _ in 0..expected_each {
                    got.clear();
                    if reader.read_line(&mut got)? == 0 {
                        return Err(io::Error::other(format!("client {c}: closed early")));
                    }
                    // The second client's spare hellos, still on their way
                    // from another scheduler.
                    while got.starts_with("joined ") {
                        got.clear();
                        if reader.read_line(&mut got)? == 0 {
                            return Err(io::Error::other(format!("client {c}: closed early")));
                        }
                    }
                    let from: usize = got
                        .get(7..11)
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| io::Error::other(format!("client {c}: bad line {got:?}")))?;
                    if from >= clients || from == c || got != line(from, next[from]) {
                        return Err(io::Error::other(format!(
                            "client {c}: expected line {} of client {from}, got {got:?}",
                            next.get(from).copied().unwrap_or(0)
                        )));
                    }
                    next[from] += 1;
                }
                writer
                    .join()
                    .map_err(|_| io::Error::other("a writer panicked"))??;
                Ok(expected_each)
            })
        })
        .collect();
    let mut delivered = 0;
    for t in threads {
        delivered += t
            .join()
            .map_err(|_| io::Error::other("a reader panicked"))??;
    }
    let elapsed = started.elapsed();
    Ok(Outcome {
        delivered,
        expected: clients * expected_each,
        elapsed,
        cpu: cpu_clock().saturating_sub(cpu_at_start),
    })
}
