//! [`Scheduler`]: round-robins the active microprocesses, one resume each per cycle.
//!
//! # The cycle
//!
//! Each cycle resumes every microprocess in the run queue once, in order. Then,
//! as in Axon:
//!
//! 1. pause requests are granted, unless the microprocess was woken since the
//!    previous cycle ended (a wake in the same cycle wins, so no wake-up is lost);
//! 2. the run queue for the next cycle is the microprocesses that stayed active,
//!    in order, followed by those woken or activated since the previous cycle
//!    ended, in the order that happened. So round robin follows activation
//!    order, and a component activated or woken during a cycle (or between two
//!    cycles) first runs in the cycle after that one ends, as in Axon, where
//!    wakes are requests the scheduler handles at the end of each cycle.
//!
//! A paused microprocess is in no queue and costs nothing per cycle: a cycle's
//! work is proportional to what is runnable, not to what exists.
//!
//! # Running
//!
//! [`run`](Scheduler::run) repeats cycles until no microprocess is left. When
//! none is runnable it blocks in its [`Park`] (no CPU) until another thread wakes
//! a component, a timer fires, or (with an I/O park) a socket is ready. While
//! work is runnable it still polls the park without blocking every
//! [`io_poll_interval`](Scheduler::set_io_poll_interval) cycles.
//! [`run_cycle`](Scheduler::run_cycle) runs one cycle, for tests.
//!
//! # Panics in components
//!
//! A panic inside a component's body ends that component: it is reported
//! through `tracing` (target `axon::scheduler`, level `ERROR`), closed down like
//! a component that returned (parents woken, its linkages removed), and the
//! others run on. [`set_fail_fast`](Scheduler::set_fail_fast) restores Axon's
//! default, where the panic stops the scheduler and propagates out of `run`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::epoch::advance_epoch;
use crate::id::ComponentId;
use crate::runtime::context;
use crate::runtime::park::{Park, ThreadPark};
use crate::runtime::remote::{
    Pump, Remote, RemoteQueue, RemoteSender, RemoteShared, RemoteWaker, Request,
};
use crate::runtime::timers::Timers;
use crate::task::coroutine::{explain_panic, Step};
use crate::task::current;
use crate::task::yields::Yield;
use crate::task::{self, Host, State, TaskDyn};

/// The default number of cycles between non-blocking polls of the park while
/// components are runnable.
pub const DEFAULT_IO_POLL_INTERVAL: u32 = 32;

/// Runs components: Axon's `scheduler`.
///
/// Each thread has a default scheduler, which [`Scheduler::current`] returns
/// and which [`ComponentRef::activate`](crate::ComponentRef::activate) and [`Component::run`] use, as Axon's
/// `scheduler.run` singleton. Make more with [`Scheduler::new`]. A scheduler
/// and its components stay on the thread that made them. Handles are cheap to
/// clone.
///
/// [`Component::run`]: crate::Component::run
///
/// # Examples
///
/// Driving a scheduler one cycle at a time, as Axon's tests step
/// `scheduler.main()`:
///
/// ```
/// use axon::{Component, ComponentRef, Cx, NoBoxes, Scheduler};
/// use std::{cell::Cell, rc::Rc};
///
/// struct Counter(Rc<Cell<u32>>);
/// impl Component for Counter {
///     type Boxes = NoBoxes;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         for _ in 0..3 {
///             self.0.set(self.0.get() + 1);
///             cx.yield_now().await;
///         }
///     }
/// }
///
/// let count = Rc::new(Cell::new(0));
/// let scheduler = Scheduler::new();
/// ComponentRef::new(Counter(count.clone())).activate_on(&scheduler);
/// assert!(scheduler.run_cycle()); // the activation is handled at the end of this cycle
/// assert_eq!(count.get(), 0);
/// assert!(scheduler.run_cycle()); // so the component first runs in this one
/// assert_eq!(count.get(), 1);
/// while scheduler.run_cycle() {}
/// assert_eq!(count.get(), 3);
/// ```
#[derive(Clone)]
pub struct Scheduler {
    shared: Rc<SchedShared>,
}

/// The scheduler's state, shared with the tasks bound to it (weakly).
pub(crate) struct SchedShared {
    /// Counts cycles; a cycle's wakes are stamped with it. It advances at the
    /// end of each cycle, so a wake between cycles counts for the next one.
    clock: Cell<u32>,
    cycles: Cell<u64>,
    /// The run queue for the next cycle (survivors of the last one).
    queue: RefCell<Vec<Rc<dyn TaskDyn>>>,
    /// Woken or activated since the last cycle ended: they join the queue, after
    /// the survivors, at the end of the current cycle.
    wakes: RefCell<Vec<Rc<dyn TaskDyn>>>,
    /// An empty buffer, swapped with `queue` each cycle so cycles do not allocate.
    spare: RefCell<Vec<Rc<dyn TaskDyn>>>,
    /// Every activated microprocess that has not finished.
    registry: RefCell<Registry>,
    timers: Timers,
    stopping: Cell<bool>,
    running: Cell<bool>,
    fail_fast: Cell<bool>,
    io_poll_interval: Cell<u32>,
    since_poll: Cell<u32>,
    /// How long to poll the park without blocking, once nothing is
    /// runnable, before blocking in it.
    spin_before_park: Cell<Duration>,
    /// The clock as read when due timers were last looked for: once per
    /// cycle, and after each wait (see [`Scheduler::now`]).
    cycle_time: Cell<Instant>,
    remote: Arc<RemoteShared>,
    /// Move messages queued by [`RemoteSender`]s into their inboxes; indexed by
    /// the sender's pump number.
    pumps: RefCell<Slab<Rc<dyn Pump>>>,
    park: RefCell<Box<dyn Park>>,
    /// Per-scheduler values of the layers above (the service registry), one
    /// per type.
    extensions: RefCell<Vec<Rc<dyn Any>>>,
}

/// Every activated microprocess that has not finished, by registry slot.
type Registry = Slab<Rc<dyn TaskDyn>>;

impl Host for SchedShared {
    fn clock(&self) -> u32 {
        self.clock.get()
    }

    fn push_wake(&self, task: Rc<dyn TaskDyn>) {
        self.wakes.borrow_mut().push(task);
    }

    fn as_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}

impl SchedShared {
    /// Registers a pump for a new queue, returning both.
    pub(crate) fn add_pump<T: 'static>(
        &self,
        pump: impl FnOnce(Arc<RemoteQueue<T>>) -> Rc<dyn Pump>,
    ) -> (Arc<RemoteQueue<T>>, u32) {
        let queue = Arc::new(RemoteQueue::new());
        let index = self.pumps.borrow_mut().insert(pump(queue.clone()));
        (queue, index as u32)
    }

    /// A sender into the queue of pump `pump`.
    pub(crate) fn remote_sender<T>(
        &self,
        queue: Arc<RemoteQueue<T>>,
        pump: u32,
    ) -> RemoteSender<T> {
        RemoteSender {
            shared: self.remote.clone(),
            queue,
            pump,
        }
    }

    pub(crate) fn remote_waker(&self, slot: u32, id: ComponentId) -> RemoteWaker {
        RemoteWaker {
            shared: self.remote.clone(),
            slot,
            id,
        }
    }
}

impl Drop for SchedShared {
    fn drop(&mut self) {
        // Bodies hold their own tasks: drop them to free the components.
        let tasks: Vec<_> = self.registry.get_mut().drain().collect();
        for task in tasks {
            task.header().set_state(State::Finished);
            task.drop_body();
        }
    }
}

impl Scheduler {
    /// A new scheduler, with a [`ThreadPark`] for the current thread.
    pub fn new() -> Self {
        let park = ThreadPark::new();
        let remote = Arc::new(RemoteShared::new(park.unparker()));
        Scheduler {
            shared: Rc::new(SchedShared {
                clock: Cell::new(0),
                cycles: Cell::new(0),
                queue: RefCell::new(Vec::new()),
                wakes: RefCell::new(Vec::new()),
                spare: RefCell::new(Vec::new()),
                registry: RefCell::new(Registry::new()),
                timers: Timers::default(),
                stopping: Cell::new(false),
                running: Cell::new(false),
                fail_fast: Cell::new(false),
                io_poll_interval: Cell::new(DEFAULT_IO_POLL_INTERVAL),
                spin_before_park: Cell::new(Duration::ZERO),
                since_poll: Cell::new(0),
                cycle_time: Cell::new(Instant::now()),
                remote,
                pumps: RefCell::new(Slab::new()),
                park: RefCell::new(Box::new(park)),
                extensions: RefCell::new(Vec::new()),
            }),
        }
    }

    /// The scheduler running on this thread, or else the thread's default
    /// scheduler (made on first use).
    pub fn current() -> Scheduler {
        context::current_scheduler()
    }

    /// The scheduler a task was activated on, while it exists.
    pub(crate) fn of_task(task: &dyn TaskDyn) -> Option<Scheduler> {
        Scheduler::of_host(task.header().scheduler()?.as_any())
    }

    /// The scheduler behind a host handed out by [`Host::as_any`].
    pub(crate) fn of_host(host: Rc<dyn Any>) -> Option<Scheduler> {
        host.downcast::<SchedShared>()
            .ok()
            .map(|shared| Scheduler { shared })
    }

    /// True if both handles are the same scheduler.
    pub(crate) fn same(&self, other: &Scheduler) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }

    /// This scheduler's value of type `E`, made on first use.
    pub(crate) fn extension<E: Default + Clone + 'static>(&self) -> E {
        let mut extensions = self.shared.extensions.borrow_mut();
        if let Some(found) = extensions.iter().find_map(|e| e.downcast_ref::<E>()) {
            return found.clone();
        }
        let made = E::default();
        extensions.push(Rc::new(made.clone()));
        made
    }

    pub(crate) fn add_timer(&self, deadline: Instant, task: &Rc<dyn TaskDyn>) {
        self.shared.timers.add(deadline, task);
    }

    pub(crate) fn add_pump<T: 'static>(
        &self,
        pump: impl FnOnce(Arc<RemoteQueue<T>>) -> Rc<dyn Pump>,
    ) -> (Arc<RemoteQueue<T>>, u32) {
        self.shared.add_pump(pump)
    }

    pub(crate) fn remote_sender<T>(
        &self,
        queue: Arc<RemoteQueue<T>>,
        pump: u32,
    ) -> RemoteSender<T> {
        self.shared.remote_sender(queue, pump)
    }

    pub(crate) fn remote_waker(&self, slot: u32, id: ComponentId) -> RemoteWaker {
        self.shared.remote_waker(slot, id)
    }

    /// Activates a task (see `Scheduler::activate`).
    pub(crate) fn activate_task(&self, task: &Rc<dyn TaskDyn>) {
        let header = task.header();
        let host: Weak<dyn Host> = Rc::downgrade(&self.shared) as Weak<dyn Host>;
        if header.state() != State::Created || !header.bind(host) {
            tracing::warn!(target: "axon::scheduler", component = %header.id(), "activated twice; ignored");
            return;
        }
        let slot = self.shared.registry.borrow_mut().insert(task.clone()) as u32;
        header.set_slot(slot);
        header.set_state(State::Active);
        header.open_span();
        self.shared.push_wake(task.clone());
        tracing::debug!(target: "axon::scheduler", component = %header.id(), "activated");
    }

    /// Runs cycles until no microprocess is left: Axon's `runThreads()`.
    ///
    /// When nothing is runnable it blocks in its park without using CPU, until
    /// another thread wakes a component or stops the scheduler, a timer fires,
    /// or an I/O park delivers an event. A system in which everything is paused
    /// forever therefore blocks forever, as in Axon.
    ///
    /// # Errors
    ///
    /// An I/O error from the park.
    ///
    /// # Panics
    ///
    /// If called while this scheduler is already running; and, when
    /// [fail-fast](Self::set_fail_fast), with the panic of a component.
    pub fn run(&self) -> io::Result<()> {
        let _running = self.enter();
        while !self.shared.registry.borrow().is_empty() {
            if self.cycle(true)? {
                self.stop_all();
                break;
            }
        }
        Ok(())
    }

    /// Runs one cycle without blocking, for tests: resumes each runnable
    /// microprocess once, then does the end-of-cycle work (pauses, then what
    /// other threads asked for, due timers and a poll of the park that does not
    /// wait, then wakes). Returns false once no microprocess is left (or the
    /// scheduler was stopped), like Axon's `scheduler.main()` raising
    /// `StopIteration`.
    ///
    /// # Panics
    ///
    /// If called while this scheduler is running; and, when
    /// [fail-fast](Self::set_fail_fast), with the panic of a component.
    pub fn run_cycle(&self) -> bool {
        let _running = self.enter();
        match self.cycle(false) {
            Ok(true) => {
                self.stop_all();
                false
            }
            Ok(false) => !self.shared.registry.borrow().is_empty(),
            Err(e) => {
                tracing::error!(target: "axon::scheduler", error = %e, "poll failed");
                !self.shared.registry.borrow().is_empty()
            }
        }
    }

    /// Asks the scheduler to stop at the end of the current cycle: every
    /// microprocess still registered is stopped (its body dropped, without
    /// close-down) and `run` returns. Axon's `scheduler.stop()`.
    pub fn stop(&self) {
        self.shared.stopping.set(true);
        self.shared.remote.clear_stop();
    }

    /// A handle for other threads, to stop the scheduler or wake components.
    pub fn remote(&self) -> Remote {
        Remote {
            shared: self.shared.remote.clone(),
        }
    }

    /// Every activated microprocess that has not finished.
    pub(crate) fn tasks(&self) -> Vec<Rc<dyn TaskDyn>> {
        self.shared
            .registry
            .borrow()
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// How many microprocesses are activated and not finished.
    pub fn len(&self) -> usize {
        self.shared.registry.borrow().len()
    }

    /// True if no microprocess is activated and unfinished.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cycles run so far. A step in which nothing was runnable (only waiting,
    /// or polling, for wakes) does not count.
    pub fn cycles(&self) -> u64 {
        self.shared.cycles.get()
    }

    /// Whether a panic in a component stops the scheduler and propagates out of
    /// `run` (`true`, Axon's default "mortal" mode), or only ends that component
    /// (`false`, the default here, Axon's `immortalise()`).
    pub fn set_fail_fast(&self, fail_fast: bool) {
        self.shared.fail_fast.set(fail_fast);
    }

    /// The time as of the last end of a cycle, or of a wait: the clock as
    /// the scheduler last read it to look for due timers. Reading it costs
    /// no clock read, so a component may ask it at every resume (a feeder
    /// timing a sink's grace, say, in each of a burst's thousands of
    /// rounds, where reading the clock each time cost about 1% of a chat
    /// server's time). It lags the clock by at most the run of the current
    /// cycle: for timeouts of milliseconds and more, not for measuring.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    ///
    /// let scheduler = axon::Scheduler::new();
    /// let before = Instant::now();
    /// scheduler.run_cycle();
    /// assert!(scheduler.now() >= before && scheduler.now() <= Instant::now());
    /// ```
    pub fn now(&self) -> Instant {
        self.shared.cycle_time.get()
    }

    /// How many cycles may pass, while components are runnable, between
    /// non-blocking polls of the park for I/O (default
    /// [`DEFAULT_IO_POLL_INTERVAL`]). Lower means fresher I/O, higher means
    /// fewer system calls.
    pub fn set_io_poll_interval(&self, cycles: u32) {
        self.shared.io_poll_interval.set(cycles.max(1));
    }

    /// How long the scheduler, once nothing is runnable, goes on polling its
    /// park without blocking before it blocks there (default zero: it
    /// blocks at once). It stops as soon as the park has woken something,
    /// another thread has asked for something, or a timer is due.
    ///
    /// Blocking costs whoever wakes the thread: a peer whose packet finds
    /// the scheduler asleep pays for waking it (on a virtual machine, an
    /// interrupt to another CPU, which exits to the host), and a scheduler
    /// that is often idle between short bursts of work makes its peers pay
    /// that each time. Spinning a little spares them, at the price of the
    /// CPU spent spinning: a trade for a server whose load comes in bursts
    /// close together and whose CPU would otherwise idle, not for one that
    /// must use as little CPU as it can. Tens of microseconds are the usual
    /// range (glommio's `spin_before_park` is the same knob).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let scheduler = axon::Scheduler::new();
    /// scheduler.set_spin_before_park(Duration::from_micros(50));
    /// ```
    pub fn set_spin_before_park(&self, spin: Duration) {
        self.shared.spin_before_park.set(spin);
    }

    /// Replaces the park: how the scheduler waits when idle. Kamaelia's
    /// Selector installs one that waits for socket readiness.
    pub fn set_park(&self, park: Box<dyn Park>) {
        self.shared.remote.set_unparker(park.unparker());
        *self.shared.park.borrow_mut() = park;
        // Anything queued for the old park is seen on the next absorb.
    }

    fn enter(&self) -> RunGuard {
        assert!(
            !self.shared.running.replace(true),
            "axon: a scheduler was run while it was already running"
        );
        RunGuard {
            shared: self.shared.clone(),
            _context: context::enter(self),
        }
    }

    /// Gives back run-queue memory left over from a burst of activity, so that
    /// a million components that ran once and paused cost nothing in queues.
    fn compact(&self) {
        fn shrink<T>(buffer: &RefCell<Vec<T>>) {
            let mut buffer = buffer.borrow_mut();
            if buffer.capacity() > 256 && buffer.len() * 4 < buffer.capacity() {
                let keep = (buffer.len() * 2).max(256);
                buffer.shrink_to(keep);
            }
        }
        let shared = &self.shared;
        shrink(&shared.queue);
        shrink(&shared.spare);
        shrink(&shared.wakes);
    }

    /// Applies what other threads asked for; true if they asked to stop.
    fn absorb_remote(&self) -> bool {
        let stop = self.shared.remote.take(|request| match request {
            Request::Wake(slot, id) => {
                let task = self.shared.registry.borrow().get(slot as usize).cloned();
                if let Some(task) = task.filter(|t| t.header().number() == id) {
                    task::wake(&task);
                }
            }
            Request::Pump(pump) => {
                let found = self.shared.pumps.borrow().get(pump as usize).cloned();
                if let Some(found) = found {
                    if !found.pump() {
                        self.shared.pumps.borrow_mut().try_remove(pump as usize);
                    }
                }
            }
        });
        if stop {
            self.shared.remote.clear_stop();
        }
        stop
    }

    /// Wakes the microprocesses whose timers are due; returns the next deadline.
    fn fire_timers(&self) -> Option<Instant> {
        let now = Instant::now();
        self.shared.cycle_time.set(now);
        loop {
            // Each is woken outside the timers' borrow: a wake may add one.
            match self.shared.timers.pop_due(now) {
                Ok(Some(task)) => task::wake(&task),
                Ok(None) => {}
                Err(next) => return next,
            }
        }
    }

    /// One cycle: each queued microprocess is resumed once, then the end of
    /// the cycle: pauses are granted, then wakes are handled, which is where
    /// the scheduler waits (see [`wait_for_wakes`](Self::wait_for_wakes)).
    /// Returns true if the scheduler must stop.
    fn cycle(&self, may_block: bool) -> io::Result<bool> {
        let shared = &self.shared;
        if shared.queue.borrow().is_empty() && shared.wakes.borrow().is_empty() {
            // Nothing to run: this is not a cycle but a continuation of the
            // last one's wait, so wakes now count for the last cycle (and its
            // own epoch), and what is woken runs in the next cycle.
            let clock = shared.clock.get();
            shared.clock.set(clock.wrapping_sub(1));
            advance_epoch();
            let waited = self.wait_for_wakes(may_block, true);
            advance_epoch();
            shared.clock.set(clock);
            self.merge_wakes(&mut shared.queue.borrow_mut());
            return Ok(waited? || shared.stopping.get());
        }
        let mut queue = std::mem::take(&mut *shared.queue.borrow_mut());
        let mut next = std::mem::take(&mut *shared.spare.borrow_mut());
        for task in queue.drain(..) {
            let header = task.header();
            if header.state() != State::Active {
                continue;
            }
            if header.stop_requested() {
                self.finish(&task, None);
                continue;
            }
            let outcome = {
                let _resuming = current::resuming(&task);
                let _in_span = header.span().map(tracing::Span::enter);
                panic::catch_unwind(AssertUnwindSafe(|| task.resume()))
            };
            match outcome {
                Ok(Some(Step::Yielded(Yield::Continue))) => next.push(task),
                Ok(Some(Step::Yielded(Yield::NewComponent(components)))) => {
                    {
                        // Made by this one: their spans are inside its span.
                        let _in_span = header.span().map(tracing::Span::enter);
                        for component in &components {
                            self.activate_task(component);
                        }
                    }
                    next.push(task);
                }
                Ok(Some(Step::Yielded(Yield::WaitComplete(wait)))) => {
                    let _in_span = header.span().map(tracing::Span::enter);
                    if let Some(tag) = &wait.tag {
                        tracing::debug!(target: "axon::scheduler", component = %header.id(), %tag, "WaitComplete");
                    }
                    let sub = (wait.start)(&task);
                    header.set_state(State::Waiting);
                    header.set_waiting_on(Some(sub.clone()));
                    self.activate_task(&sub);
                }
                Ok(Some(Step::Complete)) | Ok(None) => self.finish(&task, None),
                Err(payload) => {
                    let message = explain_panic(panic_message(&*payload));
                    let _in_span = header.span().map(tracing::Span::enter);
                    tracing::error!(
                        target: "axon::scheduler",
                        component = %header.id(),
                        panic = %message,
                        "component panicked; it has been stopped"
                    );
                    self.finish(&task, Some(message));
                    if shared.fail_fast.get() {
                        shared.queue.borrow_mut().extend(next);
                        self.stop_all();
                        panic::resume_unwind(payload);
                    }
                }
            }
        }
        // Pauses before wakes: a pause is granted only if no wake came this
        // cycle. Only what ran can have asked (a pause asked of a microprocess
        // that was then woken is overridden by the wake, below).
        let clock = shared.clock.get();
        next.retain(|task| {
            let header = task.header();
            if header.take_pause_request()
                && header.state() == State::Active
                && header.woken_at() != clock
            {
                header.set_state(State::Sleeping);
            }
            header.state() == State::Active
        });
        // Deliveries from here on must wake again: their owners may have paused.
        advance_epoch();
        // A stop asked this cycle ends the run after it: waiting for a wake
        // that nothing may ever send would hang (Axon's SystemShutdown).
        let may_block = may_block && !shared.stopping.get();
        let waited = self.wait_for_wakes(may_block, next.is_empty());
        // Then wakes: whatever was woken or activated since the last cycle ended
        // (including while waiting just now) joins the queue after the
        // survivors, and first runs next cycle.
        shared.clock.set(clock.wrapping_add(1));
        advance_epoch();
        shared.cycles.set(shared.cycles.get() + 1);
        self.merge_wakes(&mut next);
        *shared.queue.borrow_mut() = next;
        recycle(&shared.spare, queue);
        Ok(waited? || shared.stopping.get())
    }

    /// Appends the woken and activated microprocesses to `queue`. A wake wins
    /// over a pause asked in the same cycle, so their pause requests go.
    fn merge_wakes(&self, queue: &mut Vec<Rc<dyn TaskDyn>>) {
        let mut wakes = std::mem::take(&mut *self.shared.wakes.borrow_mut());
        for task in &wakes {
            task.header().take_pause_request();
        }
        queue.append(&mut wakes);
        recycle(&self.shared.wakes, wakes);
    }

    /// The end-of-cycle wait, as Axon's wake processing: takes what other
    /// threads asked for and wakes components whose timers are due, then polls
    /// the park: blocking (until a wake, an I/O event or the next timer) when
    /// `may_block` and nothing is runnable, without blocking every
    /// `io_poll_interval` cycles otherwise (and always when `!may_block`).
    /// Whatever is woken meanwhile runs next cycle. Returns true if another
    /// thread asked the scheduler to stop.
    fn wait_for_wakes(&self, may_block: bool, nothing_queued: bool) -> io::Result<bool> {
        let shared = &self.shared;
        if self.absorb_remote() {
            return Ok(true);
        }
        let next_timer = self.fire_timers();
        let idle = nothing_queued
            && shared.wakes.borrow().is_empty()
            && !shared.registry.borrow().is_empty();
        let since = shared.since_poll.get() + 1;
        let timeout = if may_block && idle {
            self.compact();
            Some(next_timer.map(|t| t.saturating_duration_since(Instant::now())))
        } else if !may_block || since >= shared.io_poll_interval.get() {
            Some(Some(Duration::ZERO))
        } else {
            shared.since_poll.set(since);
            None
        };
        let Some(mut timeout) = timeout else {
            return Ok(false);
        };
        shared.since_poll.set(0);
        if timeout != Some(Duration::ZERO) && !shared.spin_before_park.get().is_zero() {
            if let Some(stop) = self.spin(next_timer)? {
                return Ok(stop);
            }
            // The spin took time: the wait is for what is left of it.
            timeout = next_timer.map(|t| t.saturating_duration_since(Instant::now()));
        }
        shared.park.borrow_mut().park(timeout)?;
        let stop = self.absorb_remote();
        self.fire_timers();
        if !may_block && idle {
            self.compact();
        }
        Ok(stop)
    }

    /// Polls the park without blocking, for at most
    /// [`spin_before_park`](Scheduler::set_spin_before_park) and not past
    /// `next_timer`, until something is runnable: then what
    /// [`wait_for_wakes`](Self::wait_for_wakes) returns; `None` if nothing
    /// came, to block.
    fn spin(&self, next_timer: Option<Instant>) -> io::Result<Option<bool>> {
        let shared = &self.shared;
        // None: a spin too long to reach an `Instant` (`Duration::MAX`, say)
        // spins until something comes.
        let mut until = Instant::now().checked_add(shared.spin_before_park.get());
        if let Some(timer) = next_timer {
            until = Some(until.map_or(timer, |until| until.min(timer)));
        }
        loop {
            shared.park.borrow_mut().park(Some(Duration::ZERO))?;
            if self.absorb_remote() {
                return Ok(Some(true));
            }
            if !shared.wakes.borrow().is_empty() {
                self.fire_timers();
                return Ok(Some(false));
            }
            if until.is_some_and(|until| Instant::now() >= until) {
                return Ok(None);
            }
        }
    }

    /// Ends a microprocess: its body is dropped, it leaves the registry, its
    /// parents are woken and the linkages it made are removed; a `WaitComplete`
    /// sub-task resumes the microprocess waiting for it.
    fn finish(&self, task: &Rc<dyn TaskDyn>, panic: Option<String>) {
        let header = task.header();
        if header.state() == State::Finished {
            return;
        }
        header.set_state(State::Finished);
        self.shared
            .registry
            .borrow_mut()
            .try_remove(header.slot() as usize);
        if let Some(message) = panic {
            header.set_panic(message);
        }
        let _in_span = header.span().map(tracing::Span::enter);
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| task.drop_body())) {
            tracing::error!(
                target: "axon::scheduler",
                component = %header.id(),
                panic = %panic_message(&*payload),
                "component panicked while being dropped"
            );
        }
        for parent in header.take_parents() {
            parent.header().child_finished(task.clone());
            task::wake(&parent);
        }
        if let Some(book) = header.book_if_any() {
            let removed = book.borrow_mut().take_all();
            for linkage in removed {
                linkage.disengage();
            }
        }
        if let Some(parent) = header.parent_of_sub() {
            let parent_header = parent.header();
            if parent_header.state() == State::Waiting {
                parent_header.set_waiting_on(None);
                parent_header.set_state(State::Active);
                self.shared.push_wake(parent.clone());
            }
        }
        tracing::debug!(target: "axon::scheduler", component = %header.id(), "finished");
    }

    /// Stops every microprocess still registered, without close-down.
    fn stop_all(&self) {
        let shared = &self.shared;
        shared.stopping.set(false);
        let tasks: Vec<_> = { shared.registry.borrow_mut().drain().collect() };
        shared.queue.borrow_mut().clear();
        shared.wakes.borrow_mut().clear();
        shared.timers.clear();
        for task in tasks {
            task.header().request_stop();
            task.header().set_state(State::Finished);
            let _ = panic::catch_unwind(AssertUnwindSafe(|| task.drop_body()));
        }
        tracing::debug!(target: "axon::scheduler", "stopped");
    }
}

/// Clears the scheduler's `running` mark and the thread's context when a run ends.
struct RunGuard {
    shared: Rc<SchedShared>,
    _context: context::Running,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.shared.running.set(false);
    }
}

/// Puts an emptied buffer back, so that its capacity is reused.
fn recycle<T>(slot: &RefCell<Vec<T>>, mut buffer: Vec<T>) {
    buffer.clear();
    let mut slot = slot.borrow_mut();
    if slot.is_empty() && slot.capacity() < buffer.capacity() {
        *slot = buffer;
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("live", &self.len())
            .field("cycles", &self.cycles())
            .finish()
    }
}

/// The text of a panic's payload (what `panic!` was given), as the
/// scheduler reports it: for code that catches panics itself, such as a
/// supervisor making a child with a factory that may panic.
///
/// # Examples
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("no {}", "luck")).unwrap_err();
/// assert_eq!(axon::panic_message(&*payload), "no luck");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
