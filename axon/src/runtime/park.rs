//! [`Park`]: how a scheduler waits when it has nothing to run.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::thread::{self, Thread};
use std::time::Duration;

/// How a scheduler waits when every component is paused, and how other
/// threads wake it.
///
/// The default, [`ThreadPark`], parks the thread. A park that also waits for
/// I/O (such as Kamaelia's Selector) is installed with
/// [`Scheduler::set_park`](crate::Scheduler::set_park); it delivers readiness
/// to components during [`park`](Self::park), by sending to their inboxes, so
/// that an event reaches its component in the same scheduler cycle with no
/// thread hop.
pub trait Park {
    /// Waits until [`unparker`](Self::unparker) is used, until an event it
    /// watches for has been delivered, or until `timeout` (if any) passes.
    /// A zero timeout must not block: it only collects what is ready.
    /// Returning early for no reason is allowed.
    ///
    /// # Errors
    ///
    /// Any I/O error of the underlying wait; the scheduler's `run` returns it.
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()>;

    /// A handle that any thread can use to end a [`park`](Self::park), now or
    /// (if none is under way) the next one.
    fn unparker(&self) -> Unparker;
}

/// Wakes a parked scheduler from any thread. Cheap to clone.
#[derive(Clone)]
pub struct Unparker(Arc<dyn Fn() + Send + Sync>);

impl Unparker {
    /// An unparker that calls `f`.
    pub fn new(f: impl Fn() + Send + Sync + 'static) -> Self {
        Unparker(Arc::new(f))
    }

    /// Ends the current or next park.
    pub fn unpark(&self) {
        (self.0)()
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unparker")
    }
}

/// The default [`Park`]: parks the scheduler's thread.
#[derive(Debug)]
pub struct ThreadPark {
    thread: Thread,
}

impl ThreadPark {
    /// A park for the current thread.
    pub fn new() -> Self {
        ThreadPark {
            thread: thread::current(),
        }
    }
}

impl Default for ThreadPark {
    fn default() -> Self {
        ThreadPark::new()
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match timeout {
            // Nothing to collect: an unpark token stays for the next real park.
            Some(t) if t.is_zero() => {}
            Some(t) => thread::park_timeout(t),
            None => thread::park(),
        }
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        let thread = self.thread.clone();
        Unparker::new(move || thread.unpark())
    }
}
