//! Reaching a scheduler from other threads: [`Remote`] and [`RemoteWaker`].

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_queue::SegQueue;

use std::rc::{Rc, Weak};

use crate::boxes::inbox::InboxNode;
use crate::boxes::Inbox;
use crate::id::ComponentId;
use crate::runtime::park::Unparker;
use crate::runtime::scheduler::Scheduler;

/// Moves what a [`RemoteSender`] queued into its inbox; false once the inbox
/// is gone, so the pump can be dropped.
pub(crate) trait Pump {
    fn pump(&self) -> bool;
}

/// What another thread asked of a scheduler.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request {
    /// Wake the component in this registry slot, if it still has this id (so a
    /// stale request cannot wake a newcomer).
    Wake(u32, u64),
    /// Move what a [`RemoteSender`] queued into its inbox.
    Pump(u32),
}

/// The thread-safe half of a scheduler.
pub(crate) struct RemoteShared {
    requests: SegQueue<Request>,
    /// Set when something was queued or a stop requested since the scheduler
    /// last looked; coalesces unparks.
    pending: AtomicBool,
    stop: AtomicBool,
    unparker: Mutex<Unparker>,
}

impl RemoteShared {
    pub(crate) fn new(unparker: Unparker) -> Self {
        RemoteShared {
            requests: SegQueue::new(),
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

    /// Takes what other threads asked for since the last call, and says
    /// whether they asked to stop.
    pub(crate) fn take(&self, mut handle: impl FnMut(Request)) -> bool {
        if self.pending.swap(false, Ordering::AcqRel) {
            while let Some(request) = self.requests.pop() {
                handle(request);
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
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         loop {
///             cx.idle().await;
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
        self.shared
            .requests
            .push(Request::Wake(self.slot, self.id.number()));
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

/// Sends messages into an inbox from any thread.
///
/// Get one with [`Inbox::remote_sender`](crate::Inbox::remote_sender) once the
/// inbox's component is activated. Messages are queued without blocking and
/// moved into the inbox by its scheduler, which wakes for them, so they arrive
/// in the order sent. Under the default overflow policy
/// ([`Refuse`](crate::OverflowPolicy::Refuse)) they are always accepted, even
/// past the inbox's size limit (which bounds senders on the scheduler's own
/// thread): a refusal could not be handed back, so a sender on another thread
/// is trusted to pace itself. Under a dropping policy
/// ([`Inbox::set_overflow`](crate::Inbox::set_overflow)) the limit holds for
/// them too: a message that finds the inbox full when it is moved in is
/// dropped as the policy says, and counted.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
/// use axon::ipc::{Ipc, ShutdownMicroprocess};
///
/// /// Waits until told to stop.
/// struct Waiter;
/// impl Component for Waiter {
///     type Boxes = Standard<(), ()>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.control.next().await;
///     }
/// }
///
/// let scheduler = Scheduler::new();
/// let waiter = ComponentRef::new(Waiter);
/// waiter.activate_on(&scheduler);
/// let control = waiter.inbox::<Ipc>("control")?.remote_sender().unwrap();
/// std::thread::spawn(move || control.send(ShutdownMicroprocess::new().into()));
/// scheduler.run()?; // returns once the waiter has been told to stop
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RemoteSender<T> {
    pub(crate) shared: Arc<RemoteShared>,
    pub(crate) queue: Arc<RemoteQueue<T>>,
    pub(crate) pump: u32,
}

/// Messages sent from other threads to one inbox, waiting for its scheduler.
pub(crate) struct RemoteQueue<T> {
    pub(crate) messages: SegQueue<T>,
    /// Set while a request to pump this queue is on its way: a burst of sends
    /// costs the scheduler one pump, not one per message.
    pub(crate) scheduled: AtomicBool,
}

impl<T> RemoteQueue<T> {
    pub(crate) fn new() -> Self {
        RemoteQueue {
            messages: SegQueue::new(),
            scheduled: AtomicBool::new(false),
        }
    }

    /// Takes what has been queued; the next send after this asks for a pump
    /// again.
    pub(crate) fn take_each(&self, mut f: impl FnMut(T)) {
        // Cleared before draining, so that a message queued after the drain
        // has looked comes with a request of its own.
        self.scheduled.store(false, Ordering::SeqCst);
        while let Some(message) = self.messages.pop() {
            f(message);
        }
    }
}

impl<T: Send> RemoteSender<T> {
    /// Queues `message` for the inbox and wakes its scheduler.
    pub fn send(&self, message: T) {
        self.queue.messages.push(message);
        if !self.queue.scheduled.swap(true, Ordering::SeqCst) {
            self.shared.requests.push(Request::Pump(self.pump));
            self.shared.notify();
        }
    }
}

impl<T> Clone for RemoteSender<T> {
    fn clone(&self) -> Self {
        RemoteSender {
            shared: self.shared.clone(),
            queue: self.queue.clone(),
            pump: self.pump,
        }
    }
}

impl<T> fmt::Debug for RemoteSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RemoteSender")
    }
}

impl<T: Send + 'static> Inbox<T> {
    /// A handle for sending into this inbox from other threads; `None` until
    /// the inbox's component has been activated. See [`RemoteSender`].
    pub fn remote_sender(&self) -> Option<RemoteSender<T>> {
        let node = self.node();
        let scheduler = Scheduler::of_host(node.host()?)?;
        // One queue and pump per inbox, however many senders are made.
        let (queue, pump) = node.with_remote(|slot| {
            if let Some(found) = slot
                .as_ref()
                .and_then(|b| b.downcast_ref::<(Arc<RemoteQueue<T>>, u32)>())
            {
                return found.clone();
            }
            let inbox = Rc::downgrade(node);
            let made = scheduler.add_pump(move |queue| Rc::new(InboxPump { inbox, queue }));
            *slot = Some(Box::new(made.clone()));
            made
        });
        Some(scheduler.remote_sender(queue, pump))
    }
}

/// Moves messages sent from other threads into an inbox.
struct InboxPump<T> {
    inbox: Weak<InboxNode<T>>,
    queue: Arc<RemoteQueue<T>>,
}

impl<T: 'static> Pump for InboxPump<T> {
    fn pump(&self) -> bool {
        let Some(inbox) = self.inbox.upgrade() else {
            return false;
        };
        let target = inbox.final_inbox();
        self.queue.take_each(|message| {
            // Unbounded: refused nowhere, but a dropping policy still drops.
            let accepted = target.append(message, false);
            debug_assert!(accepted.is_ok(), "an unbounded append is never refused");
        });
        true
    }
}
