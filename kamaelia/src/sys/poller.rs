//! [`Poller`], portably: readiness notification for sockets, and the crate's
//! one `unsafe` call.
//!
//! The poller everywhere but Linux, and on Linux with the `portable-poller`
//! feature (Linux otherwise has `epoll.rs`). It is `polling`'s, in
//! level-triggered mode. It does not tell a peer's half-close from other
//! readiness, so every event says `peer_closed: false` and the reader learns
//! of the end of the input by reading it.
//!
//! Registering a file descriptor is `unsafe` in `polling` (the descriptor must
//! outlive its registration); [`Poller::add`] is the single place this crate
//! does it, and [`Poller`]'s `# Invariant` says who keeps the promise.

use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::Duration;

use polling::{Event, Events, PollMode};

/// Readiness notification for registered sockets.
///
/// # Invariant
///
/// Every source registered with [`add`](Self::add) stays open until it has
/// been [`delete`](Self::delete)d: the caller (the Selector) keeps a strong
/// reference to each registered source until it deletes it, and deletes every
/// source before dropping the poller.
pub(crate) struct Poller {
    poller: Arc<polling::Poller>,
    events: Events,
}

/// Level-triggered: a socket is reported for as long as it is ready, so a
/// reader may stop after a short read (a FIN that came with the data is still
/// reported), and the Selector mutes a socket whose owner is not taking
/// notices, instead of the poller forgetting it.
const MODE: PollMode = PollMode::Level;

impl Poller {
    pub(crate) fn new() -> io::Result<Self> {
        let poller = polling::Poller::new()?;
        Ok(Poller {
            poller: Arc::new(poller),
            events: Events::with_capacity(NonZeroUsize::new(1024).expect("1024 is not zero")),
        })
    }

    /// Watches `source` for the given readiness, reporting it under `key`.
    ///
    /// The crate's one `unsafe` block: see this type's `# Invariant`.
    #[allow(unsafe_code)]
    pub(crate) fn add(
        &self,
        source: &dyn AsFd,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        // SAFETY: by this type's invariant, the source stays open until it is
        // deleted from the poller.
        unsafe {
            self.poller.add_with_mode(
                source.as_fd().as_raw_fd(),
                Event::new(key, readable, writable),
                MODE,
            )
        }
    }

    /// Changes what `source` is watched for.
    pub(crate) fn modify(
        &self,
        source: &dyn AsFd,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        self.poller
            .modify_with_mode(source.as_fd(), Event::new(key, readable, writable), MODE)
    }

    /// Stops watching `source`.
    pub(crate) fn delete(&self, source: &dyn AsFd) -> io::Result<()> {
        self.poller.delete(source.as_fd())
    }

    /// Waits for readiness (at most `timeout`; `None` waits until something
    /// happens or [`Notifier::notify`] is called) and calls `ready` for each
    /// event with its key, whether it is readable and writable, and whether
    /// the peer had closed its side: never known here, so always `false`.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        mut ready: impl FnMut(usize, bool, bool, bool),
    ) -> io::Result<()> {
        self.events.clear();
        self.poller.wait(&mut self.events, timeout)?;
        for event in self.events.iter() {
            // An error or hang-up is reported as both: the owner's next read or
            // write finds out what happened.
            let broken = event.is_err().unwrap_or(false) || event.is_interrupt();
            ready(
                event.key,
                event.readable || broken,
                event.writable || broken,
                false,
            );
        }
        Ok(())
    }

    /// A handle that wakes a waiting [`wait`](Self::wait) from any thread.
    pub(crate) fn notifier(&self) -> Notifier {
        Notifier(self.poller.clone())
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller").field("mode", &MODE).finish()
    }
}

/// Wakes a [`Poller`] from any thread.
#[derive(Clone)]
pub(crate) struct Notifier(Arc<polling::Poller>);

impl Notifier {
    pub(crate) fn notify(&self) {
        if let Err(e) = self.0.notify() {
            tracing::error!(target: "kamaelia::selector", error = %e, "could not wake the poller");
        }
    }
}
