//! A log the tests can read: one `tracing` subscriber for the whole test
//! binary (every thread, so a scheduler thread's components too), writing
//! each event as a plain-text line, with the fields of the spans it happened
//! in, into memory; and a wait for the line that says something happened.

use std::io;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use super::HANG_GUARD;

/// The lines written so far, and a signal for each write.
type Shared = Arc<(Mutex<Vec<u8>>, Condvar)>;

/// The log, set up by the first call: every event at `info` and above, and
/// `kamaelia`'s at `debug`.
fn log() -> &'static Shared {
    static LOG: OnceLock<Shared> = OnceLock::new();
    LOG.get_or_init(|| {
        let shared: Shared = Arc::default();
        let sink = shared.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,kamaelia=debug"))
            .with_ansi(false)
            .with_writer(move || Writer(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other subscriber in a test binary that captures logs");
        shared
    })
}

/// Starts capturing (if not yet): call before what is to be logged.
pub(crate) fn capture() {
    log();
}

/// Waits until a line of the log satisfies `wanted` (described as `what` if
/// none does within [`HANG_GUARD`]), and returns it.
pub(crate) fn await_line(what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let (buffer, written) = &**log();
    let deadline = Instant::now() + HANG_GUARD;
    let mut buffer = buffer.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let text = String::from_utf8_lossy(&buffer);
        if let Some(line) = text.lines().find(|line| wanted(line)) {
            return line.to_string();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "nothing logged {what} within {HANG_GUARD:?}; the log:\n{text}"
        );
        buffer = written
            .wait_timeout(buffer, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// Appends to the shared log.
struct Writer(Shared);

impl io::Write for Writer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let (buffer, written) = &*self.0;
        buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        written.notify_all();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
