//! Reaching a scheduler from other threads: [`Remote`] and [`RemoteWaker`].

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_queue::SegQueue;

use crate::component_ref::ComponentId;
use crate::park::Unparker;

/// The thread-safe half of a scheduler.
pub(crate) struct RemoteShared {
    /// Components to wake: (registry slot, id), checked against the slot's
    /// occupant so a stale request cannot wake a newcomer.
    wakes: SegQueue<(u32, u64)>,
    /// Set when something was queued or a stop requested since the scheduler
    /// last looked; coalesces unparks.
    pending: AtomicBool,
    stop: AtomicBool,
    unparker: Mutex<Unparker>,
}

impl RemoteShared {
    pub(crate) fn new(unparker: Unparker) -> Self {
        RemoteShared {
            wakes: SegQueue::new(),
            pending: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            unparker: Mutex::new(unparker),
        }
    }

    fn notify(&self) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            self.unparker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .unpark();
        }
    }

    pub(crate) fn set_unparker(&self, unparker: Unparker) {
        *self.unparker.lock().unwrap_or_else(PoisonError::into_inner) = unparker;
    }

    /// Takes what other threads asked for since the last call: the wakes, and
    /// whether to stop.
    pub(crate) fn take(&self, mut wake: impl FnMut(u32, u64)) -> bool {
        if self.pending.swap(false, Ordering::AcqRel) {
            while let Some((slot, id)) = self.wakes.pop() {
                wake(slot, id);
            }
        }
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn clear_stop(&self) {
        self.stop.store(false, Ordering::Release);
    }
}

/// A scheduler's handle for other threads: stop it, or wake its components.
///
/// Get one with [`Scheduler::remote`](crate::Scheduler::remote).
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, NoBoxes, Scheduler};
///
/// struct Forever;
/// impl Component for Forever {
///     type Boxes = NoBoxes;
///     async fn main(self, cx: Cx<NoBoxes>) {
///         loop {
///             cx.pause();
///             cx.yield_now().await;
///         }
///     }
/// }
///
/// let scheduler = Scheduler::new();
/// ComponentRef::new(Forever).activate_on(&scheduler);
/// let remote = scheduler.remote();
/// std::thread::spawn(move || remote.stop());
/// scheduler.run()?; // blocks (no CPU) until the other thread stops it
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone)]
pub struct Remote {
    pub(crate) shared: Arc<RemoteShared>,
}

impl Remote {
    /// Stops the scheduler at the end of its current cycle (or at once, if it
    /// is waiting): Axon's `scheduler.stop()` from another thread.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.notify();
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Remote")
    }
}

/// Wakes one component from any thread: the cross-thread form of
/// [`ComponentRef::unpause`](crate::ComponentRef::unpause).
#[derive(Clone)]
pub struct RemoteWaker {
    pub(crate) shared: Arc<RemoteShared>,
    pub(crate) slot: u32,
    pub(crate) id: ComponentId,
}

impl RemoteWaker {
    /// Wakes the component if it is paused (or keeps it awake through the
    /// current cycle). Waking a component that has finished does nothing.
    pub fn wake(&self) {
        self.shared.wakes.push((self.slot, self.id.number()));
        self.shared.notify();
    }

    /// The component this wakes.
    pub fn id(&self) -> ComponentId {
        self.id
    }
}

impl fmt::Debug for RemoteWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteWaker({})", self.id)
    }
}
