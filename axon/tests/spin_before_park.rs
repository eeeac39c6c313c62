//! `Scheduler::set_spin_before_park`: once nothing is runnable, the
//! scheduler polls its park without blocking, for a while, before it blocks.

mod util;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::{Component, ComponentRef, Cx, Inbox, NoBoxes, Park, Scheduler, Standard, Unparker};

/// Takes one message, then ends.
struct TakesOne;

impl Component for TakesOne {
    type Boxes = Standard<u32, ()>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.inbox.next().await;
    }
}

/// When a [`DeliveringPark`] delivers.
#[derive(Clone, Copy)]
enum When {
    /// On this call (counted from 1).
    Call(usize),
    /// On the first call that would block.
    Blocking,
}

/// A park that never waits, records each timeout it is given, and delivers
/// a message to `inbox` once, `when` told: what a Selector finding a socket
/// ready would do.
struct DeliveringPark {
    timeouts: Rc<RefCell<Vec<Option<Duration>>>>,
    when: When,
    inbox: Inbox<u32>,
}

impl Park for DeliveringPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let mut timeouts = self.timeouts.borrow_mut();
        timeouts.push(timeout);
        let now = match self.when {
            When::Call(n) => timeouts.len() == n,
            When::Blocking => timeout.is_none() && !timeouts[..timeouts.len() - 1].contains(&None),
        };
        if now {
            self.inbox.deliver(7).map_err(io::Error::other)?;
        }
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        Unparker::new(|| {})
    }
}

/// Runs a [`TakesOne`] on a scheduler spinning for `spin` whose park
/// delivers to it `when` told; returns the timeouts the park was given.
fn run(spin: Duration, when: When) -> Vec<Option<Duration>> {
    let scheduler = Scheduler::new();
    scheduler.set_spin_before_park(spin);
    let taker = ComponentRef::new(TakesOne);
    let timeouts = Rc::new(RefCell::new(Vec::new()));
    scheduler.set_park(Box::new(DeliveringPark {
        timeouts: timeouts.clone(),
        when,
        inbox: taker.inbox::<u32>("inbox").unwrap(),
    }));
    taker.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert!(taker.is_finished());
    let timeouts = timeouts.borrow().clone();
    timeouts
}

#[test]
fn without_a_spin_an_idle_scheduler_blocks_at_once() {
    assert_eq!(run(Duration::ZERO, When::Call(1)), [None]);
}

#[test]
fn with_a_spin_an_idle_scheduler_polls_and_takes_what_comes_without_blocking() {
    // The spin is far longer than the test: it ends because the park woke
    // the component, on its fifth poll, not because the time ran out.
    let timeouts = run(util::HANG_GUARD, When::Call(5));
    assert_eq!(timeouts, [Some(Duration::ZERO); 5]);
}

#[test]
fn a_spin_too_long_for_the_clock_spins_until_something_comes() {
    let timeouts = run(Duration::MAX, When::Call(3));
    assert_eq!(timeouts, [Some(Duration::ZERO); 3]);
}

#[test]
fn a_spin_that_finds_nothing_blocks_after_it() {
    // Nothing comes for a millisecond: the scheduler polls until then, then
    // blocks (the park delivers on that call, ending the test).
    let spin = Duration::from_millis(1);
    let start = Instant::now();
    let timeouts = run(spin, When::Blocking);
    let (blocking, polls) = timeouts.split_last().unwrap();
    assert_eq!(*blocking, None);
    assert!(!polls.is_empty(), "it blocked without polling first");
    assert!(polls.iter().all(|t| *t == Some(Duration::ZERO)));
    assert!(
        start.elapsed() >= spin,
        "it blocked before the spin was over"
    );
}

#[test]
fn a_spin_ends_at_the_next_timer() {
    // A sleeper's timer is due long before the spin would end: the
    // scheduler stops spinning for it, and the sleeper ends.
    let scheduler = Scheduler::new();
    scheduler.set_spin_before_park(util::HANG_GUARD * 2);
    util::FailOnBlockPark::install(&scheduler);
    let sleeper = util::body(|cx: Cx<NoBoxes>| async move {
        cx.sleep(Duration::from_millis(5)).await;
    });
    sleeper.activate_on(&scheduler);
    let start = Instant::now();
    scheduler.run().unwrap();
    assert!(sleeper.is_finished());
    assert!(start.elapsed() < util::HANG_GUARD, "spun past the timer");
}

/// A park that never waits and records each timeout it is given.
struct RecordingPark(Rc<RefCell<Vec<Option<Duration>>>>);

impl Park for RecordingPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.borrow_mut().push(timeout);
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        Unparker::new(|| {})
    }
}

#[test]
fn a_spin_that_reaches_the_next_timer_does_not_wait_for_it_again() {
    // The spin runs until the timer is due; the wait after it is then for
    // what is left (nothing), not for the whole nap measured before it.
    let nap = Duration::from_millis(20);
    let scheduler = Scheduler::new();
    scheduler.set_spin_before_park(util::HANG_GUARD);
    let timeouts = Rc::new(RefCell::new(Vec::new()));
    scheduler.set_park(Box::new(RecordingPark(timeouts.clone())));
    let sleeper = util::body(move |cx: Cx<NoBoxes>| async move {
        cx.sleep(nap).await;
    });
    sleeper.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert!(sleeper.is_finished());
    let waits: Vec<Duration> = timeouts
        .borrow()
        .iter()
        .map(|t| t.expect("a timer was pending: never a wait without a timeout"))
        .filter(|t| !t.is_zero())
        .collect();
    assert!(
        waits.iter().all(|t| *t <= nap / 2),
        "after spinning until the timer, it waited {waits:?} more"
    );
}
