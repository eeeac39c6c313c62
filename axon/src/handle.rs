//! [`Background`] and [`Handle`]: a component system inside an ordinary
//! program. Axon's `background` and `Handle`.
//!
//! A [`Background`] runs a scheduler on a thread of its own. Components are
//! not `Send` (they stay on the thread that made them), so plain code hands
//! the background thread a closure that makes one, and gets back a
//! [`Handle`]: `put` into the component's `inbox`, `get` from its `outbox`,
//! blocking or not, from any thread.
//!
//! Unlike Axon's `Handle`, no proxy polls every 10 ms: a `put` goes straight
//! into the inbox's cross-thread queue ([`RemoteSender`]), and what the
//! component sends reaches the handle through a bounded channel, filled by a
//! small forwarder that sleeps while the channel is full and is woken when
//! plain code makes room.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::boxes::Standard;
use crate::component::{Component, Cx};
use crate::component_ref::ComponentRef;
use crate::error::BoxError;
use crate::ipc::{Ipc, ShutdownMicroprocess};
use crate::runtime::remote::{Remote, RemoteSender, RemoteWaker};
use crate::runtime::scheduler::Scheduler;

/// How many messages from a component's `outbox` wait for plain code to
/// `get` them before the component is held back (its `outbox` fills).
///
/// # Examples
///
/// ```
/// use axon::{Background, Cx, Standard, DEFAULT_HANDLE_CAPACITY};
///
/// assert_eq!(DEFAULT_HANDLE_CAPACITY, 1000);
/// let background = Background::start()?;
/// // Sends more than a handle holds: it is held back until `get` makes room.
/// let many = background.handle(|| {
///     axon::from_fn(|cx: Cx<Standard<(), usize>>| async move {
///         for n in 0..2 * DEFAULT_HANDLE_CAPACITY {
///             cx.outbox.send(n).await;
///         }
///     })
/// });
/// let got: Vec<usize> = std::iter::from_fn(|| many.get()).collect();
/// assert_eq!(got.len(), 2 * DEFAULT_HANDLE_CAPACITY); // nothing lost
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub const DEFAULT_HANDLE_CAPACITY: usize = 1000;

/// A job for the background thread: runs inside a component's body there.
type Job = Box<dyn FnOnce() + Send>;

/// Runs a scheduler on a thread of its own, for plain code to start
/// components on and talk to through [`Handle`]s: Axon's `background`.
///
/// The scheduler keeps running while the `Background` exists, even with no
/// other component. [`join`](Self::join) waits for the components to end;
/// dropping it stops the scheduler and every component at once.
///
/// # Examples
///
/// ```
/// use axon::{Background, Component, Cx, Standard};
///
/// /// Doubles what it receives, until told to stop.
/// struct Doubler;
/// impl Component for Doubler {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(n) = cx.recv_until_finished().await {
///             cx.outbox.send(n * 2).await;
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let doubler = background.handle(|| Doubler);
/// doubler.put(21);
/// assert_eq!(doubler.get(), Some(42));
/// doubler.finish(); // ProducerFinished on its `control`
/// assert_eq!(doubler.get(), None); // it has ended, and everything was taken
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct Background {
    jobs: RemoteSender<Job>,
    keeper_control: RemoteSender<Ipc>,
    remote: Remote,
    /// What the scheduler's `run` returned, once it has.
    done: Receiver<io::Result<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Keeps the background scheduler alive and runs the jobs plain code sends,
/// until its `control` says stop.
struct Keeper;

impl Component for Keeper {
    type Boxes = Standard<Job, ()>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(job) = cx.recv_until_finished().await {
            job();
        }
    }
}

impl Background {
    /// Starts the background thread and its scheduler.
    ///
    /// # Errors
    ///
    /// The thread could not be spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Background;
    ///
    /// let background = Background::start()?;
    /// assert!(format!("{background:?}").contains("running: true"));
    /// background.join()?; // nothing runs on it, so this returns at once
    /// # std::io::Result::Ok(())
    /// ```
    pub fn start() -> io::Result<Background> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("axon-background".into())
            .spawn(move || {
                let scheduler = Scheduler::new();
                let keeper = ComponentRef::new(Keeper);
                keeper.activate_on(&scheduler);
                let senders = (|| {
                    let jobs = keeper.inbox::<Job>("inbox").ok()?.remote_sender()?;
                    let control = keeper.inbox::<Ipc>("control").ok()?.remote_sender()?;
                    Some((jobs, control, scheduler.remote()))
                })();
                let started = senders.is_some();
                if ready_tx.send(senders).is_err() || !started {
                    return;
                }
                let _ = done_tx.send(scheduler.run());
            })?;
        match ready_rx.recv() {
            Ok(Some((jobs, keeper_control, remote))) => Ok(Background {
                jobs,
                keeper_control,
                remote,
                done,
                thread: Some(thread),
            }),
            _ => Err(io::Error::other("the background scheduler did not start")),
        }
    }

    /// Runs `f` on the background thread, inside a component's body there
    /// (so [`Scheduler::current`] is the background scheduler), and returns
    /// what it returned. Use it to make and wire components, which cannot
    /// cross threads.
    ///
    /// # Panics
    ///
    /// If `f` panics, or the background scheduler has stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Background;
    ///
    /// let background = Background::start()?;
    /// assert_eq!(background.run_on(|| 6 * 7), 42);
    /// let thread = background.run_on(|| std::thread::current().name().map(String::from));
    /// assert_eq!(thread.as_deref(), Some("axon-background"));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn run_on<T, F>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        self.jobs.send(Box::new(move || {
            let _ = tx.send(f());
        }));
        rx.recv()
            .expect("axon: the background scheduler stopped, or the job panicked")
    }

    /// Makes a component on the background thread with `make`, activates
    /// it, and returns a [`Handle`] to its standard boxes.
    ///
    /// # Panics
    ///
    /// As [`run_on`](Self::run_on).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Cx, Standard};
    ///
    /// let background = Background::start()?;
    /// // The closure runs on the background thread, where the component lives.
    /// let shout = background.handle(|| {
    ///     axon::from_fn(|cx: Cx<Standard<String, String>>| async move {
    ///         while let Some(line) = cx.recv_until_finished().await {
    ///             cx.outbox.send(line.to_uppercase()).await;
    ///         }
    ///     })
    /// });
    /// shout.put("hi".to_string());
    /// assert_eq!(shout.get().as_deref(), Some("HI"));
    /// shout.finish();
    /// assert_eq!(shout.get(), None);
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn handle<C, I, O, F>(&self, make: F) -> Handle<I, O>
    where
        F: FnOnce() -> C + Send + 'static,
        C: Component<Boxes = Standard<I, O>>,
        I: Send + 'static,
        O: Send + 'static,
    {
        self.run_on(move || Handle::attach(ComponentRef::new(make())))
    }

    /// Waits until every component but the background's own has ended, then
    /// stops the scheduler and its thread.
    ///
    /// # Errors
    ///
    /// What the background scheduler's `run` returned, or an error if its
    /// thread panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, Cx, Standard};
    ///
    /// let background = Background::start()?;
    /// let once = background.handle(|| {
    ///     axon::from_fn(|cx: Cx<Standard<(), u32>>| async move {
    ///         cx.outbox.send(1).await;
    ///     })
    /// });
    /// background.join()?; // waits for the component to end
    /// assert_eq!(once.get(), Some(1)); // what it sent is still there
    /// assert_eq!(once.get(), None);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn join(self) -> io::Result<()> {
        self.join_within(None)
    }

    /// Like [`join`](Self::join), giving up after `timeout`: then the
    /// scheduler is stopped (its components with it) and the error is
    /// [`io::ErrorKind::TimedOut`].
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join), or the timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use std::sync::mpsc::RecvTimeoutError;
    /// use std::time::Duration;
    ///
    /// use axon::{Background, Cx, Standard};
    ///
    /// let background = Background::start()?;
    /// // Echoes until its input ends, which it never does.
    /// let echo = background.handle(|| {
    ///     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    ///         while let Some(n) = cx.recv_until_finished().await {
    ///             cx.outbox.send(n).await;
    ///         }
    ///     })
    /// });
    /// let error = background.join_timeout(Duration::from_millis(50)).unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::TimedOut);
    /// // The component was stopped with the scheduler.
    /// assert_eq!(echo.get_timeout(Duration::from_secs(10)), Err(RecvTimeoutError::Disconnected));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn join_timeout(self, timeout: Duration) -> io::Result<()> {
        self.join_within(Some(timeout))
    }

    fn join_within(mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.keeper_control.send(ShutdownMicroprocess::new().into());
        let result = match timeout {
            None => self.done.recv().map_err(|_| panicked()),
            Some(timeout) => self.done.recv_timeout(timeout).map_err(|e| match e {
                RecvTimeoutError::Timeout => io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the background's components did not end within {timeout:?}"),
                ),
                RecvTimeoutError::Disconnected => panicked(),
            }),
        };
        // On a timeout, dropping `self` stops the scheduler and joins its
        // thread; otherwise the thread is ending of itself.
        if result.is_ok() {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
        result.and_then(|run| run)
    }
}

/// The error for a background thread that ended without a result.
fn panicked() -> io::Error {
    io::Error::other("the background thread panicked")
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.remote.stop();
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

/// Plain code's end of a component running on a [`Background`]: Axon's
/// `Handle`.
///
/// [`put`](Self::put) sends to the component's `inbox`, [`get`](Self::get)
/// waits for what it sends out of `outbox`, and [`try_get`](Self::try_get)
/// does not wait. What it sends out of `signal` is kept for
/// [`try_get_signal`](Self::try_get_signal). A handle is `Send`, so any one
/// thread may own it; for several threads putting at once, each takes a
/// [`sender`](Self::sender).
///
/// # Examples
///
/// ```
/// use axon::{Background, Cx, Standard};
///
/// let background = Background::start()?;
/// let add_one = background.handle(|| {
///     axon::from_fn(|cx: Cx<Standard<i32, i32>>| async move {
///         while let Some(n) = cx.recv_until_finished().await {
///             cx.outbox.send(n + 1).await;
///         }
///     })
/// });
/// // The handle can move to another thread.
/// let answer = std::thread::spawn(move || {
///     add_one.put(41);
///     let answer = add_one.get();
///     add_one.finish();
///     answer
/// });
/// assert_eq!(answer.join().ok().flatten(), Some(42));
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct Handle<I, O> {
    inbox: RemoteSender<I>,
    control: RemoteSender<Ipc>,
    outbox: Receiver<O>,
    signal: Receiver<Ipc>,
    forwarder: Arc<ForwarderState>,
}

/// What the forwarder and the handle share: whether the forwarder sleeps
/// for room in the channel, and how to wake it.
struct ForwarderState {
    waiting: AtomicBool,
    waker: std::sync::OnceLock<RemoteWaker>,
}

impl<I: Send + 'static, O: Send + 'static> Handle<I, O> {
    /// A handle on `component`, which may be any component with an `inbox`
    /// carrying `I`, an `outbox` carrying `O`, and `control` and `signal`
    /// carrying [`Ipc`]; it is activated if it was not. Call it on the
    /// thread of the component's scheduler (inside
    /// [`Background::run_on`], say), when the handle is wanted together with
    /// something else made there; [`Background::handle`] does it all for
    /// components with the [`Standard`] boxes.
    ///
    /// # Errors
    ///
    /// [`BoxError`] if one of those boxes is missing or carries another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Background, ComponentRef, Cx, Handle, Standard};
    ///
    /// let background = Background::start()?;
    /// let (name, handle) = background.run_on(|| {
    ///     let echo = ComponentRef::new(axon::from_fn(|cx: Cx<Standard<u8, u8>>| async move {
    ///         while let Some(b) = cx.recv_until_finished().await {
    ///             cx.outbox.send(b).await;
    ///         }
    ///     }));
    ///     (echo.id().kind(), Handle::<u8, u8>::new(&echo))
    /// });
    /// let handle = handle.expect("an echo has the four boxes");
    /// handle.put(7);
    /// assert_eq!(handle.get(), Some(7));
    /// assert!(name.starts_with("FnComponent"));
    /// handle.finish();
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(component: &ComponentRef) -> Result<Self, BoxError> {
        // Looked up first, so that a missing or mistyped box changes nothing.
        component.inbox::<I>("inbox")?;
        component.inbox::<Ipc>("control")?;
        component.outbox::<O>("outbox")?;
        component.outbox::<Ipc>("signal")?;
        Ok(Handle::attach(component.clone()))
    }

    /// Wires `component`, whose boxes have been checked, to a new handle,
    /// and activates it; on the thread that runs its scheduler.
    fn attach(component: ComponentRef) -> Self {
        let (out_tx, outbox) = mpsc::sync_channel(DEFAULT_HANDLE_CAPACITY);
        let (signal_tx, signal) = mpsc::channel();
        let state = Arc::new(ForwarderState {
            waiting: AtomicBool::new(false),
            waker: std::sync::OnceLock::new(),
        });
        let forwarder = ComponentRef::new(Forwarder {
            outbox: out_tx,
            signal: signal_tx,
            state: state.clone(),
        });
        let wired = forwarder
            .link((&component, "outbox"), (&forwarder, "inbox"))
            .and_then(|_| forwarder.link((&component, "signal"), (&forwarder, "control")));
        debug_assert!(wired.is_ok(), "standard boxes link: {wired:?}");
        // The component's end wakes the forwarder, which then ends too.
        forwarder.add_children([&component]);
        let scheduler = Scheduler::current();
        forwarder.activate_on(&scheduler);
        if !component.is_activated() {
            component.activate_on(&scheduler);
        }
        let waker = forwarder.remote_waker().expect("activated just now");
        let _ = state.waker.set(waker);
        Handle {
            inbox: remote_sender(&component, "inbox"),
            control: remote_sender(&component, "control"),
            outbox,
            signal,
            forwarder: state,
        }
    }

    /// Sends `message` to the component's `inbox`. It never blocks: the
    /// message waits in the inbox's cross-thread queue (see
    /// [`RemoteSender`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// for n in 1..=3 {
    ///     doubler.put(n); // never blocks
    /// }
    /// let got: Vec<u32> = (0..3).filter_map(|_| doubler.get()).collect();
    /// assert_eq!(got, [2, 4, 6]);
    /// doubler.finish();
    /// # background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn put(&self, message: I) {
        self.inbox.send(message);
    }

    /// A sender into the component's `inbox` for another thread: cheap to
    /// clone, usable from any number of threads at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// let threads: Vec<_> = (1..=4)
    ///     .map(|n| {
    ///         let sender = doubler.sender();
    ///         std::thread::spawn(move || sender.send(n))
    ///     })
    ///     .collect();
    /// for thread in threads {
    ///     thread.join().expect("a sending thread panicked");
    /// }
    /// let mut got: Vec<u32> = (0..4).filter_map(|_| doubler.get()).collect();
    /// got.sort();
    /// assert_eq!(got, [2, 4, 6, 8]);
    /// doubler.finish();
    /// # background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn sender(&self) -> RemoteSender<I> {
        self.inbox.clone()
    }

    /// Sends `message` to the component's `control`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::ipc::ShutdownMicroprocess;
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// doubler.put_control(ShutdownMicroprocess::new().into());
    /// assert_eq!(doubler.get(), None); // it has ended
    /// # background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn put_control(&self, message: Ipc) {
        self.control.send(message);
    }

    /// Tells the component its input has ended: `ProducerFinished` on its
    /// `control`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// doubler.put(5);
    /// doubler.finish(); // no more input: it ends once it has dealt with the 5
    /// assert_eq!(doubler.get(), Some(10));
    /// assert_eq!(doubler.get(), None);
    /// # background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn finish(&self) {
        self.put_control(crate::ipc::ProducerFinished::new().into());
    }

    /// Waits for the next message from the component's `outbox`; `None` once
    /// the component has ended and everything it sent has been taken.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// doubler.put(21);
    /// assert_eq!(doubler.get(), Some(42)); // waits for it
    /// doubler.finish();
    /// assert_eq!(doubler.get(), None); // ended, and everything was taken
    /// # background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get(&self) -> Option<O> {
        let message = self.outbox.recv().ok();
        self.made_room();
        message
    }

    /// Like [`get`](Self::get), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if nothing came in time,
    /// [`RecvTimeoutError::Disconnected`] once the component has ended and
    /// everything was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::RecvTimeoutError;
    /// use std::time::Duration;
    ///
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// let (short, long) = (Duration::from_millis(10), Duration::from_secs(10));
    /// assert_eq!(doubler.get_timeout(short), Err(RecvTimeoutError::Timeout)); // nothing put
    /// doubler.put(4);
    /// assert_eq!(doubler.get_timeout(long), Ok(8));
    /// doubler.finish();
    /// assert_eq!(doubler.get_timeout(long), Err(RecvTimeoutError::Disconnected));
    /// # background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<O, RecvTimeoutError> {
        let message = self.outbox.recv_timeout(timeout);
        self.made_room();
        message
    }

    /// The next message from the component's `outbox`, if one is waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is, [`TryRecvError::Disconnected`]
    /// once the component has ended and everything was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TryRecvError;
    ///
    /// # use axon::{Background, Cx, Standard};
    /// # let background = Background::start()?;
    /// # let doubler = background.handle(|| {
    /// #     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    /// #         while let Some(n) = cx.recv_until_finished().await {
    /// #             cx.outbox.send(n * 2).await;
    /// #         }
    /// #     })
    /// # });
    /// // `doubler`: a handle to a component that doubles what it receives
    /// // (as in the example on `Background`).
    /// assert_eq!(doubler.try_get(), Err(TryRecvError::Empty)); // nothing put
    /// doubler.put(4);
    /// doubler.finish();
    /// background.join()?; // it has ended, with its 8 waiting
    /// assert_eq!(doubler.try_get(), Ok(8));
    /// assert_eq!(doubler.try_get(), Err(TryRecvError::Disconnected));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn try_get(&self) -> Result<O, TryRecvError> {
        let message = self.outbox.try_recv();
        self.made_room();
        message
    }

    /// The next message from the component's `signal`, if one is waiting.
    ///
    /// # Errors
    ///
    /// As [`try_get`](Self::try_get).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TryRecvError;
    ///
    /// use axon::ipc::ProducerFinished;
    /// use axon::{Background, Cx, Standard};
    ///
    /// let background = Background::start()?;
    /// // Counts what it receives; says it has finished on `signal` as it ends.
    /// let counter = background.handle(|| {
    ///     axon::from_fn(|cx: Cx<Standard<u32, u32>>| async move {
    ///         let mut count = 0;
    ///         while cx.recv_until_finished().await.is_some() {
    ///             count += 1;
    ///         }
    ///         cx.outbox.send(count).await;
    ///         cx.signal.send(ProducerFinished::new().into()).await;
    ///     })
    /// });
    /// assert!(matches!(counter.try_get_signal(), Err(TryRecvError::Empty)));
    /// counter.put(1);
    /// counter.put(2);
    /// counter.finish();
    /// assert_eq!(counter.get(), Some(2));
    /// assert_eq!(counter.get(), None); // ended: its signal has come too
    /// assert!(counter.try_get_signal().is_ok_and(|signal| signal.is_producer_finished()));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn try_get_signal(&self) -> Result<Ipc, TryRecvError> {
        self.signal.try_recv()
    }

    /// Waits at most `timeout` for the next message from the component's
    /// `signal`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if none came in time,
    /// [`RecvTimeoutError::Disconnected`] once the component has ended and
    /// every signal was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use axon::ipc::ProducerFinished;
    /// use axon::{Background, Cx, Standard};
    ///
    /// let background = Background::start()?;
    /// let done = background.handle(|| {
    ///     axon::from_fn(|cx: Cx<Standard<(), ()>>| async move {
    ///         cx.signal.send(ProducerFinished::new().into()).await;
    ///     })
    /// });
    /// let signal = done.get_signal_timeout(Duration::from_secs(10));
    /// assert!(signal.is_ok_and(|s| s.is_producer_finished()));
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn get_signal_timeout(&self, timeout: Duration) -> Result<Ipc, RecvTimeoutError> {
        self.signal.recv_timeout(timeout)
    }

    /// Wakes the forwarder if it sleeps for room in the channel.
    fn made_room(&self) {
        if self.forwarder.waiting.swap(false, Ordering::AcqRel) {
            if let Some(waker) = self.forwarder.waker.get() {
                waker.wake();
            }
        }
    }
}

/// A cross-thread sender into inbox `name` of an activated component.
fn remote_sender<T: Send + 'static>(component: &ComponentRef, name: &str) -> RemoteSender<T> {
    component
        .inbox::<T>(name)
        .ok()
        .and_then(|inbox| inbox.remote_sender())
        .expect("an activated component's standard inbox")
}

impl<I, O> fmt::Debug for Handle<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handle")
    }
}

/// Moves what a component sends out of `outbox` and `signal` into a
/// handle's channels, until the component has ended.
struct Forwarder<O> {
    outbox: SyncSender<O>,
    signal: mpsc::Sender<Ipc>,
    state: Arc<ForwarderState>,
}

impl<O: Send + 'static> Component for Forwarder<O> {
    type Boxes = Standard<O, ()>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut pending: Option<O> = None;
        loop {
            // Looked at before taking: what the component sent before it
            // ended is in the inbox by then, and is forwarded below.
            let ended = cx.child_components().iter().all(ComponentRef::is_finished);
            while let Some(signal) = cx.control.recv() {
                let _ = self.signal.send(signal);
            }
            let mut full = false;
            while let Some(message) = pending.take().or_else(|| cx.inbox.recv()) {
                match self.outbox.try_send(message) {
                    Ok(()) => {}
                    Err(TrySendError::Full(message)) => {
                        pending = Some(message);
                        full = true;
                        break;
                    }
                    // The handle is gone: nobody will read, so stop reading.
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            if full {
                // Said before looking again, so that a `get` in between
                // cannot be missed: it either sees the flag or made room
                // before the retry below.
                self.state.waiting.store(true, Ordering::Release);
                if let Some(message) = pending.take() {
                    match self.outbox.try_send(message) {
                        Ok(()) => {
                            self.state.waiting.store(false, Ordering::Release);
                            continue;
                        }
                        Err(TrySendError::Full(message)) => pending = Some(message),
                        Err(TrySendError::Disconnected(_)) => return,
                    }
                }
            } else if ended {
                return;
            }
            cx.idle().await;
        }
    }
}
