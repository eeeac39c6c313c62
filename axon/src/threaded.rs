//! [`ThreadedComponent`]: a component whose body runs on an OS thread of its
//! own, as plain blocking Rust. Axon's `threadedcomponent`.
//!
//! # How it works
//!
//! The component the scheduler sees is an ordinary one, with the declared
//! boxes ([`Threaded`] wraps the threaded body), so it links to any other
//! component with the same type checks. Its body on the scheduler thread is
//! a small bridge: it moves messages from each inbox the thread uses into a
//! bounded lock-free queue (`crossbeam-queue`'s `ArrayQueue`) and from the
//! thread's outgoing queues into the outboxes, in batches, and sleeps (costing
//! nothing) in between. The thread wakes it through the scheduler's
//! cross-thread wake-up ([`RemoteWaker`]); it wakes the thread by unparking
//! it. No microprocess is resumed per message, as Axon's proxy was.
//!
//! Capacities follow Axon's arithmetic: a sender into a threaded component's
//! inbox sees the inbox's own size limit plus the queue's length (default
//! [`DEFAULT_QUEUE_LENGTH`], Axon's `queuelengths=1000`).
//!
//! The component ends when its thread returns (after everything the thread
//! sent has been delivered) or panics (reported as a generator component's
//! panic is). Stopping the component makes the thread's box calls fail, so a
//! thread waiting in [`ThreadInbox::recv`] returns; a thread cannot be killed.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::{ArrayQueue, SegQueue};

use crate::boxes::{BoxSet, Inbox, Outbox, Standard};
use crate::component::{Component, Cx};
use crate::component_ref::ComponentRef;
use crate::error::BoxError;
use crate::id::{kind_of, Direction};
use crate::runtime::remote::RemoteWaker;
use crate::runtime::scheduler::panic_message;

/// How many messages wait between a threaded component's thread and each of
/// its boxes (Axon's `queuelengths` default).
///
/// # Examples
///
/// ```
/// use axon::{Standard, ThreadCx, Threaded, ThreadedComponent, DEFAULT_QUEUE_LENGTH};
/// # struct Idle;
/// # impl ThreadedComponent for Idle {
/// #     type Boxes = Standard<(), ()>;
/// #     fn main(self, _cx: ThreadCx<Self::Boxes>) {}
/// # }
///
/// assert_eq!(DEFAULT_QUEUE_LENGTH, 1000);
/// // A new `Threaded` has queues of this length unless told otherwise.
/// let threaded = Threaded::new(Idle);
/// assert!(format!("{threaded:?}").contains("queue_length: 1000,"));
/// ```
pub const DEFAULT_QUEUE_LENGTH: usize = 1000;

/// A component whose `main` runs on its own OS thread: Axon's
/// `threadedcomponent`.
///
/// Its boxes are declared as any component's ([`Boxes`](Self::Boxes)); the
/// thread reaches them by name with [`ThreadCx::inbox`] and
/// [`ThreadCx::outbox`], which give blocking handles. Make the component
/// with [`Threaded::new`].
///
/// # Examples
///
/// A doubler whose body is a plain blocking loop, driven from plain code
/// through a [`Handle`](crate::Handle):
///
/// ```
/// use axon::{Background, Standard, Threaded, ThreadCx, ThreadedComponent};
///
/// struct Doubler;
///
/// impl ThreadedComponent for Doubler {
///     type Boxes = Standard<u32, u32>;
///
///     fn main(self, cx: ThreadCx<Self::Boxes>) {
///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox::<u32>("outbox"))
///         else {
///             return;
///         };
///         // A blocking receive: `None` once the component is stopped.
///         while let Some(n) = inbox.recv() {
///             if n == 0 {
///                 return; // the component ends, once its output is delivered
///             }
///             if outbox.send(n * 2).is_err() {
///                 return;
///             }
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let doubler = background.handle(|| Threaded::new(Doubler));
/// doubler.put(21);
/// assert_eq!(doubler.get(), Some(42));
/// doubler.put(0);
/// assert_eq!(doubler.get(), None); // it has ended
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub trait ThreadedComponent: Send + Sized + 'static {
    /// The component's boxes, as for [`Component::Boxes`].
    type Boxes: BoxSet;

    /// The component's behaviour, run on its own thread.
    fn main(self, cx: ThreadCx<Self::Boxes>);
}

/// Makes a [`ThreadedComponent`] a [`Component`], to give to
/// [`ComponentRef::new`] or to activate.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
///
/// use axon::{ComponentRef, Scheduler, Standard, ThreadCx, Threaded, ThreadedComponent};
///
/// /// Says that it ran.
/// struct Report(mpsc::Sender<&'static str>);
///
/// impl ThreadedComponent for Report {
///     type Boxes = Standard<(), ()>;
///
///     fn main(self, _cx: ThreadCx<Self::Boxes>) {
///         let _ = self.0.send("ran");
///     }
/// }
///
/// let (tx, rx) = mpsc::channel();
/// let scheduler = Scheduler::current();
/// ComponentRef::new(Threaded::new(Report(tx))).activate_on(&scheduler);
/// scheduler.run()?; // returns once the component (and its thread) has ended
/// assert_eq!(rx.try_recv(), Ok("ran"));
/// # std::io::Result::Ok(())
/// ```
pub struct Threaded<C> {
    body: C,
    queue_length: usize,
}

impl<C: ThreadedComponent> Threaded<C> {
    /// Wraps `body`, with queues of [`DEFAULT_QUEUE_LENGTH`].
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends one greeting, then ends.
    /// struct Hello;
    ///
    /// impl ThreadedComponent for Hello {
    ///     type Boxes = Standard<(), &'static str>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         if let Ok(outbox) = cx.outbox::<&'static str>("outbox") {
    ///             let _ = outbox.send("hello");
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let hello = background.handle(|| Threaded::new(Hello));
    /// assert_eq!(hello.get(), Some("hello"));
    /// assert_eq!(hello.get(), None); // the thread returned: the component ended
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(body: C) -> Self {
        Threaded {
            body,
            queue_length: DEFAULT_QUEUE_LENGTH,
        }
    }

    /// Sets the length of the queue between the thread and each box (at
    /// least 1): Axon's `queuelengths`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends 1 to 100, then ends.
    /// struct Count;
    ///
    /// impl ThreadedComponent for Count {
    ///     type Boxes = Standard<(), u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<u32>("outbox") else { return };
    ///         for n in 1..=100 {
    ///             // With a queue of one, each send waits for the last to be delivered.
    ///             if outbox.send(n).is_err() {
    ///                 return;
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// // A length of 0 is raised to 1.
    /// assert!(format!("{:?}", Threaded::new(Count).queue_length(0)).contains("queue_length: 1,"));
    ///
    /// let background = Background::start()?;
    /// let count = background.handle(|| Threaded::new(Count).queue_length(1));
    /// let got: Vec<u32> = std::iter::from_fn(|| count.get()).collect();
    /// assert_eq!(got, (1..=100).collect::<Vec<_>>()); // slower, but nothing lost
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn queue_length(mut self, length: usize) -> Self {
        self.queue_length = length.max(1);
        self
    }
}

impl<C> fmt::Debug for Threaded<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Threaded")
            .field("queue_length", &self.queue_length)
            .finish_non_exhaustive()
    }
}

/// Work the thread asks the bridge to do on the scheduler thread.
type Request = Box<dyn FnOnce(&mut Bridge) + Send>;

/// What the thread and the bridge share.
struct Shared {
    requests: SegQueue<Request>,
    /// Set while a wake-up of the bridge is on its way: a burst of sends
    /// costs the scheduler one wake.
    bridge_pending: AtomicBool,
    bridge: OnceLock<RemoteWaker>,
    thread: OnceLock<Thread>,
    /// The component has been stopped, or has ended: box calls fail.
    stopping: AtomicBool,
    /// The thread's body has returned (or panicked).
    finished: AtomicBool,
    panic: Mutex<Option<String>>,
    /// Numbers the thread's sends, across its outboxes.
    next_send: AtomicU64,
}

impl Shared {
    /// Wakes the bridge, once per burst.
    fn wake_bridge(&self) {
        if !self.bridge_pending.swap(true, Ordering::AcqRel) {
            if let Some(waker) = self.bridge.get() {
                waker.wake();
            }
        }
    }

    fn wake_thread(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }
}

/// Moves messages from an inbox into the queue the thread reads.
trait InboxBridge {
    /// Moves what it can; true if it moved anything.
    fn pump(&mut self) -> bool;
}

/// Delivers what the thread queued for one outbox. The thread's sends to
/// all its outboxes are numbered, and the bridge delivers them in that
/// order, so a message sent on `signal` after data never overtakes it.
trait OutboxBridge {
    /// The number of the oldest message waiting, if any.
    fn head(&mut self) -> Option<u64>;
    /// Delivers the oldest message; false if the destination is full (the
    /// destination's next collection wakes the bridge).
    fn deliver(&mut self) -> bool;
}

struct InboxPump<T> {
    inbox: Inbox<T>,
    queue: Arc<ArrayQueue<T>>,
    /// Set while messages wait in the inbox for room in the queue: the
    /// thread's next receive wakes the bridge.
    blocked: Arc<AtomicBool>,
    /// Whether messages were left in the inbox at the end of the bridge's
    /// last pump: only the bridge changes it.
    backlog: Arc<AtomicBool>,
}

impl<T: 'static> InboxBridge for InboxPump<T> {
    fn pump(&mut self) -> bool {
        let moved = self.move_some();
        self.backlog.store(!self.inbox.is_empty(), Ordering::SeqCst);
        moved
    }
}

impl<T: 'static> InboxPump<T> {
    fn move_some(&mut self) -> bool {
        let mut moved = false;
        loop {
            while !self.queue.is_full() {
                let Some(message) = self.inbox.recv() else {
                    return moved;
                };
                // This bridge is the queue's only producer: it has room.
                let pushed = self.queue.push(message);
                debug_assert!(pushed.is_ok());
                moved = true;
            }
            if self.inbox.is_empty() {
                return moved;
            }
            // Said before looking again, so that the thread either sees the
            // flag after its next receive or made room before this look.
            self.blocked.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if self.queue.is_full() {
                return moved;
            }
            self.blocked.store(false, Ordering::SeqCst);
        }
    }
}

struct OutboxPump<T> {
    outbox: Outbox<T>,
    queue: Arc<ArrayQueue<(u64, T)>>,
    /// The oldest message, taken from the queue to look at its number. It
    /// still counts against the queue's length (see `held`).
    head: Option<(u64, T)>,
    /// True while `head` holds a message: the thread counts it as queued, so
    /// that it sees exactly the queue's length.
    held: Arc<AtomicBool>,
}

impl<T: 'static> OutboxBridge for OutboxPump<T> {
    fn head(&mut self) -> Option<u64> {
        if self.head.is_none() {
            // Marked held first: the slot is never seen free while in use.
            self.held.store(true, Ordering::SeqCst);
            self.head = self.queue.pop();
            if self.head.is_none() {
                self.held.store(false, Ordering::SeqCst);
            }
        }
        self.head.as_ref().map(|(n, _)| *n)
    }

    fn deliver(&mut self) -> bool {
        let Some((n, message)) = self.head.take() else {
            return true;
        };
        match self.outbox.try_send(message) {
            Ok(()) => {
                self.held.store(false, Ordering::SeqCst);
                true
            }
            Err(full) => {
                self.head = Some((n, full.into_inner()));
                false
            }
        }
    }
}

/// The bridge's state on the scheduler thread.
struct Bridge {
    component: ComponentRef,
    inboxes: Vec<(String, Box<dyn InboxBridge>)>,
    outboxes: Vec<(String, Box<dyn OutboxBridge>)>,
}

impl Bridge {
    /// Moves what it can both ways; true if anything moved.
    fn pump(&mut self) -> bool {
        let mut moved = false;
        // `control` last, as Axon does: when the thread sees a control
        // message, everything sent before it is in its queues or counted in
        // their backlog (see `ThreadCx::recv_until_finished`).
        for (_, pump) in &mut self.inboxes {
            moved |= pump.pump();
        }
        // The thread's messages in the order it sent them, across outboxes;
        // a full destination holds back everything sent after.
        loop {
            let oldest = self
                .outboxes
                .iter_mut()
                .enumerate()
                .filter_map(|(i, (_, p))| p.head().map(|n| (n, i)))
                .min();
            let Some((_, i)) = oldest else {
                break;
            };
            if !self.outboxes[i].1.deliver() {
                break;
            }
            moved = true;
        }
        moved
    }

    /// True if everything the thread sent has been delivered.
    fn delivered_all(&mut self) -> bool {
        self.outboxes.iter_mut().all(|(_, p)| p.head().is_none())
    }

    fn add_inbox(&mut self, name: String, pump: Box<dyn InboxBridge>) {
        let at = if name == "control" {
            self.inboxes.len()
        } else {
            self.inboxes
                .iter()
                .position(|(n, _)| n == "control")
                .unwrap_or(self.inboxes.len())
        };
        self.inboxes.insert(at, (name, pump));
    }
}

/// Marks the component as stopping when the bridge's body goes (it ended,
/// or the component was stopped), and wakes the thread so that it notices.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stopping.store(true, Ordering::Release);
        self.0.wake_thread();
    }
}

impl<C: ThreadedComponent> Component for Threaded<C> {
    type Boxes = C::Boxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let shared = Arc::new(Shared {
            requests: SegQueue::new(),
            bridge_pending: AtomicBool::new(false),
            bridge: OnceLock::new(),
            thread: OnceLock::new(),
            stopping: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            panic: Mutex::new(None),
            next_send: AtomicU64::new(0),
        });
        let component = cx.component();
        if let Some(waker) = component.remote_waker() {
            let _ = shared.bridge.set(waker);
        }
        let _stop = StopOnDrop(shared.clone());
        let thread_cx = ThreadCx {
            shared: shared.clone(),
            queue_length: self.queue_length,
            boxes: PhantomData,
        };
        let body = self.body;
        let on_thread = shared.clone();
        let spawned = thread::Builder::new()
            .name(kind_of::<C>().to_string())
            .spawn(move || {
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| body.main(thread_cx)));
                if let Err(payload) = outcome {
                    *on_thread
                        .panic
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(panic_message(&*payload));
                }
                on_thread.finished.store(true, Ordering::Release);
                on_thread.bridge_pending.store(false, Ordering::Release);
                on_thread.wake_bridge();
            });
        let handle = match spawned {
            Ok(handle) => handle,
            Err(e) => panic!("axon: could not start a threaded component's thread: {e}"),
        };
        let _ = shared.thread.set(handle.thread().clone());
        let mut bridge = Bridge {
            component,
            inboxes: Vec::new(),
            outboxes: Vec::new(),
        };
        loop {
            // Cleared first: a request or send after this wakes us again.
            shared.bridge_pending.store(false, Ordering::Release);
            let finished = shared.finished.load(Ordering::Acquire);
            while let Some(request) = shared.requests.pop() {
                request(&mut bridge);
            }
            bridge.pump();
            // Unparked at every turn, not only when something moved: a
            // thread refused while the bridge held a message (or for any
            // other passing reason) asked for this turn and waits for it.
            // One unpark a turn costs little; a spurious one, a look again.
            shared.wake_thread();
            if finished && bridge.delivered_all() {
                break;
            }
            cx.idle().await;
        }
        let _ = handle.join();
        let panic = shared
            .panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(message) = panic {
            // Reported by the scheduler as any component's panic is.
            panic!("{message}");
        }
    }
}

/// What a threaded component's thread works through: its boxes, by name.
///
/// # Examples
///
/// ```
/// use axon::ipc::Ipc;
/// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
///
/// /// Upper-cases lines until its input ends.
/// struct Upper;
///
/// impl ThreadedComponent for Upper {
///     type Boxes = Standard<String, String>;
///
///     fn main(self, cx: ThreadCx<Self::Boxes>) {
///         let (Ok(inbox), Ok(control), Ok(outbox)) = (
///             cx.inbox::<String>("inbox"),
///             cx.inbox::<Ipc>("control"),
///             cx.outbox::<String>("outbox"),
///         ) else {
///             return;
///         };
///         while let Some(line) = cx.recv_until_finished(&inbox, &control) {
///             if outbox.send(line.to_uppercase()).is_err() {
///                 return;
///             }
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let upper = background.handle(|| Threaded::new(Upper));
/// upper.put("axon".to_string());
/// upper.finish(); // ProducerFinished on its `control`
/// assert_eq!(upper.get().as_deref(), Some("AXON"));
/// assert_eq!(upper.get(), None);
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct ThreadCx<B> {
    shared: Arc<Shared>,
    queue_length: usize,
    boxes: PhantomData<fn() -> B>,
}

/// The component was stopped (or its scheduler went): what a threaded
/// component's box calls return then.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// use axon::{Background, Standard, Stopped, ThreadCx, Threaded, ThreadedComponent};
///
/// /// Stops itself, then reports what its box calls return.
/// struct StopsItself(mpsc::Sender<(Result<(), u32>, Result<(), Stopped>)>);
///
/// impl ThreadedComponent for StopsItself {
///     type Boxes = Standard<(), u32>;
///
///     fn main(self, cx: ThreadCx<Self::Boxes>) {
///         let Ok(outbox) = cx.outbox::<u32>("outbox") else { return };
///         let _ = cx.on_scheduler(|me| me.stop());
///         while !cx.is_stopped() {
///             cx.pause();
///         }
///         // The message comes back; other calls say `Stopped`.
///         let _ = self.0.send((outbox.send(1), cx.on_scheduler(|_| ())));
///     }
/// }
///
/// let (tx, rx) = mpsc::channel();
/// let background = Background::start()?;
/// let _handle = background.handle(move || Threaded::new(StopsItself(tx)));
/// assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok((Err(1), Err(Stopped))));
/// assert_eq!(Stopped.to_string(), "the threaded component has been stopped");
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the threaded component has been stopped")
    }
}

impl std::error::Error for Stopped {}

/// Why a box could not be had from the thread.
///
/// # Examples
///
/// ```
/// use axon::{
///     Background, Standard, Stopped, ThreadBoxError, ThreadCx, Threaded, ThreadedComponent,
/// };
///
/// /// Asks for a box it does not have, and sends what went wrong.
/// struct Lost;
///
/// impl ThreadedComponent for Lost {
///     type Boxes = Standard<(), String>;
///
///     fn main(self, cx: ThreadCx<Self::Boxes>) {
///         let Ok(outbox) = cx.outbox::<String>("outbox") else { return };
///         let said = match cx.inbox::<u32>("nowhere") {
///             Err(ThreadBoxError::Box(e)) => e.to_string(),
///             Err(ThreadBoxError::Stopped(_)) => "stopped".to_string(),
///             Ok(_) => "found".to_string(),
///         };
///         let _ = outbox.send(said);
///     }
/// }
///
/// let background = Background::start()?;
/// let lost = background.handle(|| Threaded::new(Lost));
/// assert!(lost.get().is_some_and(|said| said.contains("\"nowhere\"")));
/// background.join()?;
///
/// // Each variant shows as the error it wraps.
/// assert_eq!(ThreadBoxError::Stopped(Stopped).to_string(), Stopped.to_string());
/// # std::io::Result::Ok(())
/// ```
#[derive(Debug)]
pub enum ThreadBoxError {
    /// No box of that name and type.
    Box(BoxError),
    /// The component has been stopped.
    Stopped(Stopped),
}

impl fmt::Display for ThreadBoxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadBoxError::Box(e) => e.fmt(f),
            ThreadBoxError::Stopped(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ThreadBoxError {}

impl<B> ThreadCx<B> {
    /// Runs `f` on the scheduler's thread with this component, and waits for
    /// what it returns: for linking, or anything else that must happen where
    /// the components live (Axon's `_do_threadsafe`).
    ///
    /// # Errors
    ///
    /// [`Stopped`] if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Looks at itself from the scheduler's side.
    /// struct Probe;
    ///
    /// impl ThreadedComponent for Probe {
    ///     type Boxes = Standard<(), bool>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<bool>("outbox") else { return };
    ///         // `me` is this component's `ComponentRef`, which cannot leave that thread.
    ///         let found = cx.on_scheduler(|me| me.has_inbox("inbox") && !me.has_inbox("nowhere"));
    ///         let _ = outbox.send(found == Ok(true));
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let probe = background.handle(|| Threaded::new(Probe));
    /// assert_eq!(probe.get(), Some(true));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn on_scheduler<R, F>(&self, f: F) -> Result<R, Stopped>
    where
        F: FnOnce(&ComponentRef) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.call(move |bridge| f(&bridge.component))
    }

    fn call<R, F>(&self, f: F) -> Result<R, Stopped>
    where
        F: FnOnce(&mut Bridge) -> R + Send + 'static,
        R: Send + 'static,
    {
        if self.shared.stopping() {
            return Err(Stopped);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        self.shared.requests.push(Box::new(move |bridge| {
            let _ = tx.send(f(bridge));
        }));
        self.shared.wake_bridge();
        // The request is dropped unanswered if the bridge goes first.
        rx.recv().map_err(|_| Stopped)
    }

    /// Waits until something arrives on any of the boxes this thread uses,
    /// room is made in one of its outgoing queues, or the component is
    /// stopped: Axon's threaded `pause()`. It may also return for no reason,
    /// so look again after it.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Waits for one number without a blocking receive, and sends it on, plus one.
    /// struct AddOne;
    ///
    /// impl ThreadedComponent for AddOne {
    ///     type Boxes = Standard<u32, u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox::<u32>("outbox"))
    ///         else {
    ///             return;
    ///         };
    ///         let n = loop {
    ///             if let Some(n) = inbox.try_recv() {
    ///                 break n;
    ///             }
    ///             if cx.is_stopped() {
    ///                 return;
    ///             }
    ///             cx.pause(); // sleeps until something happens, then looks again
    ///         };
    ///         let _ = outbox.send(n + 1);
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let add_one = background.handle(|| Threaded::new(AddOne));
    /// add_one.put(41);
    /// assert_eq!(add_one.get(), Some(42));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn pause(&self) {
        if !self.shared.stopping() {
            thread::park();
        }
    }

    /// Like [`pause`](Self::pause), waiting at most `timeout`: Axon's
    /// `pause(timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Waits about 50 ms for a number, then sends what it got.
    /// struct Patient;
    ///
    /// impl ThreadedComponent for Patient {
    ///     type Boxes = Standard<u32, Option<u32>>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox("outbox")) else {
    ///             return;
    ///         };
    ///         let deadline = Instant::now() + Duration::from_millis(50);
    ///         let got = loop {
    ///             if let Some(n) = inbox.try_recv() {
    ///                 break Some(n);
    ///             }
    ///             if Instant::now() >= deadline {
    ///                 break None;
    ///             }
    ///             cx.pause_timeout(Duration::from_millis(10));
    ///         };
    ///         let _ = outbox.send(got);
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let patient = background.handle(|| Threaded::new(Patient));
    /// assert_eq!(patient.get(), Some(None)); // nothing was put: it gave up
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn pause_timeout(&self, timeout: Duration) {
        if !self.shared.stopping() {
            thread::park_timeout(timeout);
        }
    }

    /// Adds an inbox at run time, for this thread to receive on: Axon's
    /// threaded `addInbox`. If `name` is taken a number is appended; the
    /// handle's [`name`](ThreadInbox::name) says what it got.
    ///
    /// # Errors
    ///
    /// [`Stopped`] if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Adds a box each way, links them into a loop, and sends what comes round.
    /// struct Loop;
    ///
    /// impl ThreadedComponent for Loop {
    ///     type Boxes = Standard<(), u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<u32>("outbox") else { return };
    ///         let (Ok(looped), Ok(back)) = (
    ///             cx.add_inbox::<u32>("inbox", "what comes round"),
    ///             cx.add_outbox::<u32>("back", "sends round"),
    ///         ) else {
    ///             return;
    ///         };
    ///         assert_ne!(looped.name(), "inbox"); // taken: it got another name
    ///         let (from, to) = (back.name().to_string(), looped.name().to_string());
    ///         let linked = cx.on_scheduler(move |me| {
    ///             me.link((me, from.as_str()), (me, to.as_str())).is_ok()
    ///         });
    ///         assert_eq!(linked, Ok(true));
    ///         let _ = back.send(7);
    ///         if let Some(n) = looped.recv() {
    ///             let _ = outbox.send(n);
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let looped = background.handle(|| Threaded::new(Loop));
    /// assert_eq!(looped.get(), Some(7));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn add_inbox<T: Send + 'static>(
        &self,
        name: &str,
        doc: &str,
    ) -> Result<ThreadInbox<T>, Stopped> {
        let (name, doc) = (name.to_string(), doc.to_string());
        let added =
            self.call(move |bridge| bridge.component.add_dynamic_inbox::<T>(&name, &doc).name())?;
        self.inbox(&added).map_err(|_| Stopped)
    }

    /// Adds an outbox at run time, for this thread to send from: Axon's
    /// threaded `addOutbox`.
    ///
    /// # Errors
    ///
    /// [`Stopped`] if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Adds an outbox, and checks that the component has it.
    /// struct Grow;
    ///
    /// impl ThreadedComponent for Grow {
    ///     type Boxes = Standard<(), bool>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<bool>("outbox") else { return };
    ///         let Ok(extra) = cx.add_outbox::<String>("extra", "more output") else { return };
    ///         assert_eq!(extra.name(), "extra"); // the name was free
    ///         let _ = outbox.send(cx.on_scheduler(|me| me.has_outbox("extra")) == Ok(true));
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let grow = background.handle(|| Threaded::new(Grow));
    /// assert_eq!(grow.get(), Some(true));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn add_outbox<T: Send + 'static>(
        &self,
        name: &str,
        doc: &str,
    ) -> Result<ThreadOutbox<T>, Stopped> {
        let (name, doc) = (name.to_string(), doc.to_string());
        let added =
            self.call(move |bridge| bridge.component.add_dynamic_outbox::<T>(&name, &doc).name())?;
        self.outbox(&added).map_err(|_| Stopped)
    }

    /// Deletes an inbox added at run time, with the links into it: Axon's
    /// threaded `deleteInbox`. Messages still in it, or in its queue to this
    /// thread, are lost.
    ///
    /// # Errors
    ///
    /// [`ThreadBoxError::Box`] if no such inbox was added;
    /// [`ThreadBoxError::Stopped`] if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadBoxError, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Adds an inbox and deletes it again.
    /// struct Shrink;
    ///
    /// impl ThreadedComponent for Shrink {
    ///     type Boxes = Standard<(), bool>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<bool>("outbox") else { return };
    ///         let Ok(extra) = cx.add_inbox::<u32>("extra", "for a while") else { return };
    ///         assert!(cx.delete_inbox(extra.name()).is_ok());
    ///         // Gone: deleting it again fails, as does deleting a declared inbox.
    ///         assert!(matches!(cx.delete_inbox("extra"), Err(ThreadBoxError::Box(_))));
    ///         assert!(matches!(cx.delete_inbox("inbox"), Err(ThreadBoxError::Box(_))));
    ///         let _ = outbox.send(cx.on_scheduler(|me| me.has_inbox("extra")) == Ok(false));
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let shrink = background.handle(|| Threaded::new(Shrink));
    /// assert_eq!(shrink.get(), Some(true));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn delete_inbox(&self, name: &str) -> Result<(), ThreadBoxError> {
        let name = name.to_string();
        self.call(move |bridge| {
            bridge.inboxes.retain(|(n, _)| *n != name);
            bridge
                .component
                .0
                .delete_dynamic_box(&name, Direction::Inbox)
        })
        .map_err(ThreadBoxError::Stopped)?
        .map_err(ThreadBoxError::Box)
    }

    /// Deletes an outbox added at run time: Axon's threaded `deleteOutbox`.
    /// What this thread sent from it and is not yet delivered is lost.
    ///
    /// # Errors
    ///
    /// As [`delete_inbox`](Self::delete_inbox).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadBoxError, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Adds an outbox and deletes it again.
    /// struct Shrink;
    ///
    /// impl ThreadedComponent for Shrink {
    ///     type Boxes = Standard<(), bool>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<bool>("outbox") else { return };
    ///         let Ok(extra) = cx.add_outbox::<u32>("extra", "for a while") else { return };
    ///         assert!(cx.delete_outbox(extra.name()).is_ok());
    ///         assert!(matches!(cx.delete_outbox("extra"), Err(ThreadBoxError::Box(_))));
    ///         let _ = outbox.send(cx.on_scheduler(|me| me.has_outbox("extra")) == Ok(false));
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let shrink = background.handle(|| Threaded::new(Shrink));
    /// assert_eq!(shrink.get(), Some(true));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn delete_outbox(&self, name: &str) -> Result<(), ThreadBoxError> {
        let name = name.to_string();
        self.call(move |bridge| {
            bridge.outboxes.retain(|(n, _)| *n != name);
            bridge
                .component
                .0
                .delete_dynamic_box(&name, Direction::Outbox)
        })
        .map_err(ThreadBoxError::Stopped)?
        .map_err(ThreadBoxError::Box)
    }

    /// Waits for the next message on `inbox`, until the input is exhausted
    /// and `control` has spoken: the thread's form of
    /// [`Cx::recv_until_finished`](crate::Cx::recv_until_finished).
    ///
    /// Returns `None` once `control` holds a message (left there) and
    /// everything sent to `inbox` before it has been received, or once the
    /// component has been stopped. As in Axon, a control message is not held
    /// back while data waits for room, so a thread that stops reading still
    /// sees it; this is what keeps the data sent before it from being lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::ipc::Ipc;
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Adds up what it receives until its input ends, then sends the total.
    /// struct Sum;
    ///
    /// impl ThreadedComponent for Sum {
    ///     type Boxes = Standard<u32, u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(control), Ok(outbox)) = (
    ///             cx.inbox::<u32>("inbox"),
    ///             cx.inbox::<Ipc>("control"),
    ///             cx.outbox::<u32>("outbox"),
    ///         ) else {
    ///             return;
    ///         };
    ///         let mut total = 0;
    ///         while let Some(n) = cx.recv_until_finished(&inbox, &control) {
    ///             total += n;
    ///         }
    ///         let _ = outbox.send(total);
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let sum = background.handle(|| Threaded::new(Sum));
    /// for n in 1..=4 {
    ///     sum.put(n);
    /// }
    /// sum.finish(); // sent after the numbers: none of them is missed
    /// assert_eq!(sum.get(), Some(10));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn recv_until_finished<T: Send + 'static>(
        &self,
        inbox: &ThreadInbox<T>,
        control: &ThreadInbox<crate::ipc::Ipc>,
    ) -> Option<T> {
        recv_until_finished(&self.shared, inbox, control)
    }

    /// True once the component has been stopped: box calls then fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Stops itself, and reports whether it was stopped before and after.
    /// struct StopsItself(mpsc::Sender<(bool, bool)>);
    ///
    /// impl ThreadedComponent for StopsItself {
    ///     type Boxes = Standard<(), ()>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let before = cx.is_stopped();
    ///         let _ = cx.on_scheduler(|me| me.stop());
    ///         while !cx.is_stopped() {
    ///             cx.pause(); // a stop wakes the thread
    ///         }
    ///         let _ = self.0.send((before, cx.is_stopped()));
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let background = Background::start()?;
    /// let _handle = background.handle(move || Threaded::new(StopsItself(tx)));
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok((false, true)));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.shared.stopping()
    }

    /// The inbox called `name`, for receiving on this thread.
    ///
    /// # Errors
    ///
    /// [`ThreadBoxError::Box`] if there is no such inbox carrying `T`;
    /// [`ThreadBoxError::Stopped`] if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadBoxError, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends back the first number it receives.
    /// struct Echo;
    ///
    /// impl ThreadedComponent for Echo {
    ///     type Boxes = Standard<u32, u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         // A name it does not have, or the wrong type, is an error.
    ///         assert!(matches!(cx.inbox::<u32>("nowhere"), Err(ThreadBoxError::Box(_))));
    ///         assert!(matches!(cx.inbox::<String>("inbox"), Err(ThreadBoxError::Box(_))));
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox::<u32>("outbox"))
    ///         else {
    ///             return;
    ///         };
    ///         if let Some(n) = inbox.recv() {
    ///             let _ = outbox.send(n);
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let echo = background.handle(|| Threaded::new(Echo));
    /// echo.put(5);
    /// assert_eq!(echo.get(), Some(5));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn inbox<T: Send + 'static>(&self, name: &str) -> Result<ThreadInbox<T>, ThreadBoxError> {
        let queue = Arc::new(ArrayQueue::new(self.queue_length));
        let blocked = Arc::new(AtomicBool::new(false));
        let backlog = Arc::new(AtomicBool::new(false));
        let (bridged, flag, counted) = (queue.clone(), blocked.clone(), backlog.clone());
        let name = name.to_string();
        let kept = name.clone();
        self.call(move |bridge| {
            let inbox = bridge.component.inbox::<T>(&name)?;
            bridge.add_inbox(
                name,
                Box::new(InboxPump {
                    inbox,
                    queue: bridged,
                    blocked: flag,
                    backlog: counted,
                }),
            );
            // Whatever is already waiting moves at once.
            bridge.pump();
            Ok(())
        })
        .map_err(ThreadBoxError::Stopped)?
        .map_err(ThreadBoxError::Box)?;
        Ok(ThreadInbox {
            name: kept,
            queue,
            blocked,
            backlog,
            shared: self.shared.clone(),
        })
    }

    /// The outbox called `name`, for sending from this thread.
    ///
    /// # Errors
    ///
    /// As [`inbox`](Self::inbox).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadBoxError, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends one number, then ends.
    /// struct One;
    ///
    /// impl ThreadedComponent for One {
    ///     type Boxes = Standard<(), u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         assert!(matches!(cx.outbox::<String>("outbox"), Err(ThreadBoxError::Box(_))));
    ///         if let Ok(outbox) = cx.outbox::<u32>("outbox") {
    ///             let _ = outbox.send(1);
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let one = background.handle(|| Threaded::new(One));
    /// assert_eq!(one.get(), Some(1));
    /// assert_eq!(one.get(), None);
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn outbox<T: Send + 'static>(&self, name: &str) -> Result<ThreadOutbox<T>, ThreadBoxError> {
        let queue = Arc::new(ArrayQueue::new(self.queue_length));
        let held = Arc::new(AtomicBool::new(false));
        let (bridged, held_by_bridge) = (queue.clone(), held.clone());
        let name = name.to_string();
        let kept = name.clone();
        self.call(move |bridge| {
            let outbox = bridge.component.outbox::<T>(&name)?;
            bridge.outboxes.push((
                name,
                Box::new(OutboxPump {
                    outbox,
                    queue: bridged,
                    head: None,
                    held: held_by_bridge,
                }),
            ));
            Ok(())
        })
        .map_err(ThreadBoxError::Stopped)?
        .map_err(ThreadBoxError::Box)?;
        Ok(ThreadOutbox {
            name: kept,
            queue,
            held,
            capacity: self.queue_length,
            shared: self.shared.clone(),
        })
    }
}

impl<I: Send + 'static, O: Send + 'static> ThreadCx<Standard<I, O>> {
    /// The four [`Standard`] boxes as blocking handles, typed from the
    /// component's [`Boxes`](ThreadedComponent::Boxes): what most threaded
    /// components want, in one call rather than one per box.
    ///
    /// # Errors
    ///
    /// [`ThreadBoxError::Stopped`] if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Adds up what it receives until its input ends, then sends the total.
    /// struct Sum;
    ///
    /// impl ThreadedComponent for Sum {
    ///     type Boxes = Standard<u32, u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(boxes) = cx.boxes() else { return };
    ///         let mut total = 0;
    ///         while let Some(n) = boxes.recv_until_finished() {
    ///             total += n;
    ///         }
    ///         let _ = boxes.outbox.send(total);
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let sum = background.handle(|| Threaded::new(Sum));
    /// for n in 1..=4 {
    ///     sum.put(n);
    /// }
    /// sum.finish();
    /// assert_eq!(sum.get(), Some(10));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn boxes(&self) -> Result<ThreadBoxes<I, O>, ThreadBoxError> {
        Ok(ThreadBoxes {
            inbox: self.inbox("inbox")?,
            control: self.inbox("control")?,
            outbox: self.outbox("outbox")?,
            signal: self.outbox("signal")?,
        })
    }
}

/// A threaded component's four [`Standard`] boxes, as blocking handles:
/// what [`ThreadCx::boxes`] gives.
#[derive(Debug)]
pub struct ThreadBoxes<I, O> {
    /// Data in.
    pub inbox: ThreadInbox<I>,
    /// Control messages in.
    pub control: ThreadInbox<crate::ipc::Ipc>,
    /// Data out.
    pub outbox: ThreadOutbox<O>,
    /// Signals out.
    pub signal: ThreadOutbox<crate::ipc::Ipc>,
}

impl<I: Send + 'static, O> ThreadBoxes<I, O> {
    /// Waits for the next message on `inbox`, until the input is exhausted
    /// and `control` has spoken: [`ThreadCx::recv_until_finished`] for
    /// these boxes.
    pub fn recv_until_finished(&self) -> Option<I> {
        recv_until_finished(&self.inbox.shared, &self.inbox, &self.control)
    }
}

/// The loop of [`ThreadCx::recv_until_finished`].
fn recv_until_finished<T: Send + 'static>(
    shared: &Shared,
    inbox: &ThreadInbox<T>,
    control: &ThreadInbox<crate::ipc::Ipc>,
) -> Option<T> {
    loop {
        if let Some(message) = inbox.try_recv() {
            return Some(message);
        }
        if shared.stopping() || (control.data_ready() && inbox.is_exhausted()) {
            return None;
        }
        thread::park();
    }
}

impl<B> fmt::Debug for ThreadCx<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadCx")
            .field("queue_length", &self.queue_length)
            .finish()
    }
}

/// An inbox as a threaded component's thread sees it: blocking receives.
///
/// # Examples
///
/// ```
/// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
///
/// /// Adds up three numbers and sends the total.
/// struct Three;
///
/// impl ThreadedComponent for Three {
///     type Boxes = Standard<u32, u32>;
///
///     fn main(self, cx: ThreadCx<Self::Boxes>) {
///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox::<u32>("outbox"))
///         else {
///             return;
///         };
///         let mut total = 0;
///         for _ in 0..3 {
///             match inbox.recv() {
///                 Some(n) => total += n,
///                 None => return, // stopped
///             }
///         }
///         let _ = outbox.send(total);
///     }
/// }
///
/// let background = Background::start()?;
/// let three = background.handle(|| Threaded::new(Three));
/// for n in [1, 2, 3] {
///     three.put(n);
/// }
/// assert_eq!(three.get(), Some(6));
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct ThreadInbox<T> {
    name: String,
    queue: Arc<ArrayQueue<T>>,
    blocked: Arc<AtomicBool>,
    backlog: Arc<AtomicBool>,
    shared: Arc<Shared>,
}

impl<T: Send + 'static> ThreadInbox<T> {
    /// The inbox's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::ipc::Ipc;
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends the name of its `control` inbox.
    /// struct Named;
    ///
    /// impl ThreadedComponent for Named {
    ///     type Boxes = Standard<(), String>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(control), Ok(outbox)) = (cx.inbox::<Ipc>("control"), cx.outbox("outbox"))
    ///         else {
    ///             return;
    ///         };
    ///         let _ = outbox.send(control.name().to_string());
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let named = background.handle(|| Threaded::new(Named));
    /// assert_eq!(named.get().as_deref(), Some("control"));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the oldest message, or `None` if there is none now.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Waits for one number, then looks for another without waiting.
    /// struct Look;
    ///
    /// impl ThreadedComponent for Look {
    ///     type Boxes = Standard<u32, (Option<u32>, Option<u32>)>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox("outbox")) else {
    ///             return;
    ///         };
    ///         let first = inbox.recv();
    ///         let _ = outbox.send((first, inbox.try_recv()));
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let look = background.handle(|| Threaded::new(Look));
    /// look.put(7); // only one
    /// assert_eq!(look.get(), Some((Some(7), None)));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn try_recv(&self) -> Option<T> {
        let message = self.queue.pop();
        if message.is_some() {
            fence(Ordering::SeqCst);
            if self.blocked.load(Ordering::SeqCst) && self.blocked.swap(false, Ordering::SeqCst) {
                // Messages wait in the inbox for the room just made.
                self.shared.wake_bridge();
            }
        }
        message
    }

    /// Waits for the next message; `None` once the component has been
    /// stopped (and nothing is left).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Receives one number, stops itself, and receives again.
    /// struct Once(mpsc::Sender<(Option<u32>, Option<u32>)>);
    ///
    /// impl ThreadedComponent for Once {
    ///     type Boxes = Standard<u32, ()>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(inbox) = cx.inbox::<u32>("inbox") else { return };
    ///         let first = inbox.recv(); // waits for the number
    ///         let _ = cx.on_scheduler(|me| me.stop());
    ///         let _ = self.0.send((first, inbox.recv())); // `None`: stopped
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let background = Background::start()?;
    /// let once = background.handle(move || Threaded::new(Once(tx)));
    /// once.put(3);
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok((Some(3), None)));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn recv(&self) -> Option<T> {
        loop {
            if let Some(message) = self.try_recv() {
                return Some(message);
            }
            if self.shared.stopping() {
                return None;
            }
            thread::park();
        }
    }

    /// Waits at most `timeout` for the next message.
    ///
    /// # Errors
    ///
    /// `Ok(None)` if none came in time; [`Stopped`] once the component has
    /// been stopped and nothing is left.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use axon::{Background, Standard, Stopped, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Waits briefly for a number, then longer.
    /// struct Wait;
    ///
    /// impl ThreadedComponent for Wait {
    ///     type Boxes = Standard<u32, Result<Option<u32>, Stopped>>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox("outbox")) else {
    ///             return;
    ///         };
    ///         let _ = outbox.send(inbox.recv_timeout(Duration::from_millis(10)));
    ///         let _ = outbox.send(inbox.recv_timeout(Duration::from_secs(10)));
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let wait = background.handle(|| Threaded::new(Wait));
    /// assert_eq!(wait.get(), Some(Ok(None))); // nothing was put in time
    /// wait.put(3);
    /// assert_eq!(wait.get(), Some(Ok(Some(3))));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<T>, Stopped> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(message) = self.try_recv() {
                return Ok(Some(message));
            }
            if self.shared.stopping() {
                return Err(Stopped);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            thread::park_timeout(deadline - now);
        }
    }

    /// True if nothing is waiting for this thread: the queue is empty, and
    /// the bridge left nothing in the inbox at its last turn.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Reports whether anything waits for it, before and after a message comes.
    /// struct Drain;
    ///
    /// impl ThreadedComponent for Drain {
    ///     type Boxes = Standard<u32, bool>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox("outbox")) else {
    ///             return;
    ///         };
    ///         let _ = outbox.send(inbox.is_exhausted()); // nothing put yet
    ///         while !inbox.data_ready() && !cx.is_stopped() {
    ///             cx.pause();
    ///         }
    ///         let _ = outbox.send(inbox.is_exhausted()); // a message waits
    ///         let _ = inbox.try_recv();
    ///         let _ = outbox.send(inbox.is_exhausted()); // it was the only one
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let drain = background.handle(|| Threaded::new(Drain));
    /// assert_eq!(drain.get(), Some(true));
    /// drain.put(1);
    /// assert_eq!(drain.get(), Some(false));
    /// assert_eq!(drain.get(), Some(true));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn is_exhausted(&self) -> bool {
        self.queue.is_empty() && !self.backlog.load(Ordering::SeqCst)
    }

    /// True if a message is waiting: Axon's `dataReady`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Polls for a message, Axon style, and reports what it saw.
    /// struct Poll;
    ///
    /// impl ThreadedComponent for Poll {
    ///     type Boxes = Standard<u32, bool>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<u32>("inbox"), cx.outbox("outbox")) else {
    ///             return;
    ///         };
    ///         let _ = outbox.send(inbox.data_ready()); // nothing put yet
    ///         while !inbox.data_ready() && !cx.is_stopped() {
    ///             cx.pause();
    ///         }
    ///         let _ = inbox.try_recv();
    ///         let _ = outbox.send(inbox.data_ready()); // taken: nothing left
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let poll = background.handle(|| Threaded::new(Poll));
    /// assert_eq!(poll.get(), Some(false));
    /// poll.put(1);
    /// assert_eq!(poll.get(), Some(false));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn data_ready(&self) -> bool {
        !self.queue.is_empty()
    }
}

impl<T> fmt::Debug for ThreadInbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadInbox")
            .field("len", &self.queue.len())
            .finish()
    }
}

/// An outbox as a threaded component's thread sees it: sends that wait while
/// the queue to the scheduler is full.
///
/// # Examples
///
/// ```
/// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
///
/// /// Counts to three.
/// struct Three;
///
/// impl ThreadedComponent for Three {
///     type Boxes = Standard<(), u32>;
///
///     fn main(self, cx: ThreadCx<Self::Boxes>) {
///         let Ok(outbox) = cx.outbox::<u32>("outbox") else { return };
///         for n in 1..=3 {
///             if outbox.send(n).is_err() {
///                 return; // stopped
///             }
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let three = background.handle(|| Threaded::new(Three));
/// assert_eq!(std::iter::from_fn(|| three.get()).collect::<Vec<_>>(), [1, 2, 3]);
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct ThreadOutbox<T> {
    name: String,
    queue: Arc<ArrayQueue<(u64, T)>>,
    /// The bridge holds one of this outbox's messages (it counts as queued).
    held: Arc<AtomicBool>,
    capacity: usize,
    shared: Arc<Shared>,
}

impl<T: Send + 'static> ThreadOutbox<T> {
    /// The outbox's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends its outbox's name out of it.
    /// struct Named;
    ///
    /// impl ThreadedComponent for Named {
    ///     type Boxes = Standard<(), String>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         if let Ok(outbox) = cx.outbox::<String>("outbox") {
    ///             let _ = outbox.send(outbox.name().to_string());
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let named = background.handle(|| Threaded::new(Named));
    /// assert_eq!(named.get().as_deref(), Some("outbox"));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends, waiting while the queue to the component's outbox is full.
    ///
    /// # Errors
    ///
    /// The message back if the component has been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends whatever it is given, twice.
    /// struct Twice;
    ///
    /// impl ThreadedComponent for Twice {
    ///     type Boxes = Standard<char, char>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let (Ok(inbox), Ok(outbox)) = (cx.inbox::<char>("inbox"), cx.outbox("outbox"))
    ///         else {
    ///             return;
    ///         };
    ///         if let Some(c) = inbox.recv() {
    ///             // Each send waits while the queue is full; `Err` only once stopped.
    ///             let _ = outbox.send(c).and_then(|()| outbox.send(c));
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let twice = background.handle(|| Threaded::new(Twice));
    /// twice.put('a');
    /// assert_eq!(std::iter::from_fn(|| twice.get()).collect::<String>(), "aa");
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn send(&self, message: T) -> Result<(), T> {
        let mut message = message;
        loop {
            match self.try_send(message) {
                Ok(()) => return Ok(()),
                Err(refused) if self.shared.stopping() => return Err(refused),
                Err(refused) => {
                    message = refused;
                    thread::park();
                }
            }
        }
    }

    /// Sends if the queue has room, or gives the message back: Axon's
    /// threaded `send`, which raises `noSpaceInBox`.
    ///
    /// # Errors
    ///
    /// The message back if the queue is full or the component was stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Standard, ThreadCx, Threaded, ThreadedComponent};
    ///
    /// /// Sends 1 to 5 without blocking sends, waiting for room when the queue is full.
    /// struct Retry;
    ///
    /// impl ThreadedComponent for Retry {
    ///     type Boxes = Standard<(), u32>;
    ///
    ///     fn main(self, cx: ThreadCx<Self::Boxes>) {
    ///         let Ok(outbox) = cx.outbox::<u32>("outbox") else { return };
    ///         for n in 1..=5 {
    ///             let mut message = n;
    ///             while let Err(back) = outbox.try_send(message) {
    ///                 if cx.is_stopped() {
    ///                     return;
    ///                 }
    ///                 message = back; // full: take it back, wait for room, try again
    ///                 cx.pause();
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// let background = Background::start()?;
    /// let retry = background.handle(|| Threaded::new(Retry).queue_length(1));
    /// assert_eq!(std::iter::from_fn(|| retry.get()).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn try_send(&self, message: T) -> Result<(), T> {
        let queued = self.queue.len() + usize::from(self.held.load(Ordering::SeqCst));
        if self.shared.stopping() || queued >= self.capacity {
            // Woken even when full: the bridge's delivering makes the room.
            self.shared.wake_bridge();
            return Err(message);
        }
        // Only this thread pushes, so the room seen is still there; the
        // number is taken only for a message that goes in.
        let n = self.shared.next_send.fetch_add(1, Ordering::Relaxed);
        let sent = self.queue.push((n, message)).map_err(|(_, m)| m);
        self.shared.wake_bridge();
        sent
    }
}

impl<T> fmt::Debug for ThreadOutbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadOutbox")
            .field("len", &self.queue.len())
            .finish()
    }
}
