//! Helpers shared by axon's integration tests: instrumented components, a
//! component whose body is a closure, bounded ways to step a scheduler, and
//! parks that tell a test when the scheduler blocks (or fail it if it would
//! block forever).
//!
//! Each test file pulls this in with `mod util;` and uses only part of it.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, Thread};
use std::time::Duration;

use axon::{BoxSet, Component, ComponentRef, Cx, Park, Scheduler, Standard, Unparker};

/// How long a helper thread waits for an event before deciding that the
/// scheduler has hung. It only turns a hang into a failure; no test relies on it
/// for ordering.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(60);

/// A counter shared between a test and the components it watches.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counter(Rc<Cell<u64>>);

impl Counter {
    pub(crate) fn new() -> Self {
        Counter::default()
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.get()
    }

    pub(crate) fn set(&self, value: u64) {
        self.0.set(value)
    }

    pub(crate) fn bump(&self) {
        self.0.set(self.0.get() + 1)
    }
}

/// An ordered record of what components did, shared with the test.
#[derive(Clone, Debug, Default)]
pub(crate) struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub(crate) fn new() -> Self {
        Log::default()
    }

    pub(crate) fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into())
    }

    pub(crate) fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

/// Pauses, yields, and counts every time it is resumed after that: the count
/// is how many times something woke it.
pub(crate) struct UnpauseDetector {
    pub(crate) unpaused: Counter,
}

impl Component for UnpauseDetector {
    type Boxes = Standard<u32, u32>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.idle().await;
            self.unpaused.bump();
        }
    }
}

/// Makes `n` unpause detectors, activated on `scheduler` in order.
pub(crate) fn unpause_detectors(scheduler: &Scheduler, n: usize) -> Vec<(ComponentRef, Counter)> {
    (0..n)
        .map(|_| {
            let unpaused = Counter::new();
            let c = ComponentRef::new(UnpauseDetector {
                unpaused: unpaused.clone(),
            });
            c.activate_on(scheduler);
            (c, unpaused)
        })
        .collect()
}

/// Yields forever without ever pausing, counting how often it is resumed.
pub(crate) struct BusyWait {
    pub(crate) resumes: Counter,
}

impl Component for BusyWait {
    type Boxes = Standard<u32, u32>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            self.resumes.bump();
            cx.yield_now().await;
        }
    }
}

/// Makes `n` busy-waiting components, activated on `scheduler` in order.
pub(crate) fn busy_waiters(scheduler: &Scheduler, n: usize) -> Vec<(ComponentRef, Counter)> {
    (0..n)
        .map(|_| {
            let resumes = Counter::new();
            let c = ComponentRef::new(BusyWait {
                resumes: resumes.clone(),
            });
            c.activate_on(scheduler);
            (c, resumes)
        })
        .collect()
}

/// Counts every turn, including its first, and asks to pause after each: the
/// count is one plus how many times something woke it.
pub(crate) struct PauseEveryTurn {
    pub(crate) turns: Counter,
}

impl Component for PauseEveryTurn {
    type Boxes = Standard<u32, u32>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            self.turns.bump();
            cx.idle().await;
        }
    }
}

/// Makes (without activating) a [`PauseEveryTurn`], and its turn count.
pub(crate) fn pause_every_turn() -> (ComponentRef, Counter) {
    let turns = Counter::new();
    let c = ComponentRef::new(PauseEveryTurn {
        turns: turns.clone(),
    });
    (c, turns)
}

/// Makes (without activating) a component that runs `body`: a shorthand for
/// `ComponentRef::new(axon::from_fn(body))`.
pub(crate) fn body<B, F, Fut>(body: F) -> ComponentRef
where
    B: BoxSet,
    F: FnOnce(Cx<B>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    ComponentRef::new(axon::from_fn(body))
}

/// Makes (without activating) a component that does nothing and ends at once,
/// for tests in which only its boxes matter.
pub(crate) fn plain<I: 'static, O: 'static>() -> ComponentRef {
    body(|_: Cx<Standard<I, O>>| async {})
}

/// Runs `n` cycles, failing if the scheduler runs out of components.
pub(crate) fn run_cycles(scheduler: &Scheduler, n: usize) {
    for i in 0..n {
        assert!(
            scheduler.run_cycle(),
            "the scheduler ended after {i} of {n} cycles, with components expected to be alive"
        );
    }
}

/// Axon's tests' `runForAWhile`: 100 cycles, failing if the scheduler runs
/// out of components.
pub(crate) fn run_for_a_while(scheduler: &Scheduler) {
    run_cycles(scheduler, 100);
}

/// Runs the cycle at whose end the components activated since the last cycle
/// join the run queue. It resumes none of them (a component activated between
/// cycles first runs in the cycle after the next, as in Axon), so after it the
/// next `run_cycle` is their first turn. Call it only when nothing else is
/// runnable, so that this cycle resumes nothing at all.
pub(crate) fn start(scheduler: &Scheduler) {
    let cycles = scheduler.cycles();
    assert!(
        scheduler.run_cycle(),
        "the scheduler ended in the cycle that should only have queued its components"
    );
    assert_eq!(
        scheduler.cycles(),
        cycles + 1,
        "nothing was activated, so no cycle ran"
    );
}

/// Runs cycles until the scheduler has no components left, at most `limit`.
/// Returns how many calls it took.
pub(crate) fn run_until_done(scheduler: &Scheduler, limit: usize) -> usize {
    for i in 1..=limit {
        if !scheduler.run_cycle() {
            return i;
        }
    }
    panic!("the scheduler still had components after {limit} cycles");
}

/// A [`Park`] that really waits (on a condition variable, so that only its
/// unparker or a timeout ends a wait) and tells the test each time the
/// scheduler blocks with no timeout, which is what it does when nothing can run.
pub(crate) struct SignalPark {
    token: Arc<(Mutex<bool>, Condvar)>,
    blocked: mpsc::Sender<()>,
    blocking_parks: Arc<AtomicUsize>,
}

impl SignalPark {
    /// The park, and the receiver that gets one `()` per blocking park.
    pub(crate) fn new() -> (SignalPark, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let park = SignalPark {
            token: Arc::new((Mutex::new(false), Condvar::new())),
            blocked: tx,
            blocking_parks: Arc::new(AtomicUsize::new(0)),
        };
        (park, rx)
    }

    /// How many times the scheduler has parked with no timeout.
    pub(crate) fn blocking_parks(&self) -> Arc<AtomicUsize> {
        self.blocking_parks.clone()
    }
}

impl Park for SignalPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let (lock, cvar) = &*self.token;
        match timeout {
            // A zero timeout only polls; the token stays for a real wait.
            Some(t) if t.is_zero() => {}
            None => {
                self.blocking_parks.fetch_add(1, Ordering::SeqCst);
                // The test may have stopped listening; that is fine.
                let _ = self.blocked.send(());
                let mut token = lock.lock().unwrap_or_else(PoisonError::into_inner);
                while !*token {
                    token = cvar.wait(token).unwrap_or_else(PoisonError::into_inner);
                }
                *token = false;
            }
            Some(t) => {
                let token = lock.lock().unwrap_or_else(PoisonError::into_inner);
                let (mut token, _) = cvar
                    .wait_timeout_while(token, t, |set| !*set)
                    .unwrap_or_else(PoisonError::into_inner);
                *token = false;
            }
        }
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        let token = self.token.clone();
        Unparker::new(move || {
            let (lock, cvar) = &*token;
            *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
            cvar.notify_all();
        })
    }
}

/// A [`Park`] that never waits and records every timeout it is given, so a test
/// can check that the scheduler never asked to block.
pub(crate) struct RecordingPark {
    pub(crate) timeouts: Rc<RefCell<Vec<Option<Duration>>>>,
}

impl Park for RecordingPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.timeouts.borrow_mut().push(timeout);
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        Unparker::new(|| {})
    }
}

/// The message [`FailOnBlockPark`] panics with.
pub(crate) const WOULD_BLOCK_FOREVER: &str = "the scheduler would block forever: a wake was lost";

/// A [`Park`] for tests in which nothing on another thread will wake the
/// scheduler: a wait with no timeout could then never end, so it panics
/// (failing the test with [`WOULD_BLOCK_FOREVER`]) instead of hanging. A wait
/// with a timeout (a pending timer) really waits, up to that timeout, and ends
/// early if its unparker is used.
pub(crate) struct FailOnBlockPark {
    thread: Thread,
}

impl FailOnBlockPark {
    /// A park for the current thread, which must be the scheduler's.
    pub(crate) fn new() -> Self {
        FailOnBlockPark {
            thread: thread::current(),
        }
    }

    /// Installs a new one on `scheduler`.
    pub(crate) fn install(scheduler: &Scheduler) {
        scheduler.set_park(Box::new(FailOnBlockPark::new()));
    }
}

impl Park for FailOnBlockPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match timeout {
            None => panic!("{WOULD_BLOCK_FOREVER}"),
            // A zero timeout only polls.
            Some(t) if t.is_zero() => {}
            // Returning early (a stray unpark token) is allowed: the scheduler
            // then parks again for what is left of the timer.
            Some(t) => thread::park_timeout(t),
        }
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        let thread = self.thread.clone();
        Unparker::new(move || thread.unpark())
    }
}

/// Runs `f` as the body of a component on a fresh fail-fast scheduler, so that
/// a failed assertion inside the body fails the test, and checks that the body
/// ran to its end. The scheduler has a [`FailOnBlockPark`], so a body left
/// paused with nothing to wake it fails the test instead of hanging it.
pub(crate) fn run_in_body<B, F, Fut>(f: F)
where
    B: BoxSet,
    F: FnOnce(Cx<B>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    FailOnBlockPark::install(&scheduler);
    let done = Counter::new();
    let finished = done.clone();
    let c = body(move |cx: Cx<B>| async move {
        f(cx).await;
        finished.bump();
    });
    c.activate_on(&scheduler);
    scheduler.run().expect("the scheduler failed");
    assert_eq!(done.get(), 1, "the body ran to its end");
}
