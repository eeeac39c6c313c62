// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_Microprocess.py
// (and the shared test___str__.py it inherits from).
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * A microprocess is a component with `NoBoxes`; Axon's `activate(scheduler)`
//   is `ComponentRef::activate_on`, and its bare `activate()` is
//   `ComponentRef::activate`, which uses the thread's default scheduler.
// * The original drives a microprocess with `next()` against a dummy scheduler
//   whose pause is immediate. Here a real scheduler is stepped a cycle at a
//   time (`Scheduler::run_cycle`); one resume per cycle. A `pause()` request is
//   granted at the end of the cycle, so `next` checks that the body runs on
//   until the scheduler takes it out of the run queue. As in Axon, activating
//   and waking are requests handled at the end of a cycle: a microprocess
//   activated or woken between cycles is only queued by the next cycle and runs
//   from the one after (`util::start` steps past that first cycle).
// * "`next()` raises StopIteration" is "the component `is_finished()` and
//   `run_cycle` returns false".
// * Python's `_isRunnable()` is `!ComponentRef::is_paused()`, `_isStopped()` is
//   `is_stopped()`. The quirk that a stopped microprocess still reports itself
//   runnable is kept (it is not paused), and the port also checks that it is
//   never resumed again.
// * `test___str__` (from test___str__.py) checks `Display`: unique per
//   instance, stable for one instance.
//
// Not ported:
//
// * test_activate_afterCallingSetSchedulerClass, test_setSchedulerClass:
//   `setSchedulerClass` swaps the scheduler class per Python class; axon has no
//   scheduler classes. What remains of them, that a bare `activate()` uses the
//   default scheduler, is `activate_uses_the_default_scheduler` below.
// * test__closeDownMicroprocess: checks that a Python-internal hook returns 0;
//   axon has no knock-on return values.

//! Ports of Axon's microprocess tests.

mod util;

use std::cell::Cell;
use std::rc::Rc;

use axon::{Component, ComponentRef, Cx, NoBoxes, Scheduler};
use util::Counter;

/// Counts up once per resume, without end.
struct Counting {
    i: Counter,
}

impl Component for Counting {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            self.i.bump();
            cx.yield_now().await;
        }
    }
}

/// Counts up to a limit, yielding after each step, then ends.
struct CountTo {
    i: Rc<Cell<u32>>,
    limit: u32,
}

impl Component for CountTo {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while self.i.get() < self.limit {
            self.i.set(self.i.get() + 1);
            cx.yield_now().await;
        }
    }
}

/// Does nothing.
struct Idle;

impl Component for Idle {
    type Boxes = NoBoxes;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

#[test]
fn smoke_test_no_arguments() {
    let m = ComponentRef::new(Idle);
    let n = ComponentRef::new(Idle);
    let o = ComponentRef::new(Idle);
    assert!(!m.is_activated());
    assert_ne!(m.id(), n.id());
    assert_ne!(n.id(), o.id());
    assert_ne!(m.id(), o.id());
    assert_ne!(m.id().number(), n.id().number());
}

#[test]
fn str() {
    let a = ComponentRef::new(Idle);
    let b = ComponentRef::new(Idle);
    assert_eq!(a.to_string(), format!("Idle#{}", a.id().number()));
    assert_ne!(a.to_string(), b.to_string());
    // Stable over the instance's life: running it to its end does not change
    // the name it is known by.
    let before = a.to_string();
    let scheduler = Scheduler::new();
    a.activate_on(&scheduler);
    util::run_until_done(&scheduler, 5);
    assert!(a.is_finished());
    assert_eq!(a.to_string(), before);
}

#[test]
fn activate_basic_activatation() {
    let scheduler = Scheduler::new();
    let mp = ComponentRef::new(Idle);
    let before = scheduler.len();
    mp.activate_on(&scheduler);
    assert_eq!(scheduler.len(), before + 1);
    assert!(scheduler.list_all().contains(&mp));
    assert!(mp.is_activated());
}

#[test]
fn activate_uses_the_default_scheduler() {
    let mp = ComponentRef::new(Idle).activate();
    assert!(Scheduler::current().list_all().contains(&mp));
    let other = Scheduler::new();
    assert!(!other.list_all().contains(&mp));
    // Activating again, even elsewhere, is ignored.
    mp.activate_on(&other);
    assert!(other.is_empty());
}

#[test]
fn overridden_main_works_with_next() {
    let scheduler = Scheduler::new();
    let i = Rc::new(Cell::new(0));
    let thr = ComponentRef::new(CountTo {
        i: i.clone(),
        limit: 100,
    });
    thr.activate_on(&scheduler);
    util::start(&scheduler);
    assert_eq!(i.get(), 0, "the first cycle only queues it");
    for n in 1..=100 {
        assert!(scheduler.run_cycle(), "ended early, at step {n}");
        assert_eq!(i.get(), n, "one step of the body per cycle");
        assert!(!thr.is_finished());
    }
    assert!(
        !scheduler.run_cycle(),
        "the body has returned: nothing is left"
    );
    assert!(thr.is_finished());
    assert_eq!(i.get(), 100);
}

#[test]
fn stop() {
    let scheduler = Scheduler::new();
    let i = Counter::new();
    let thr = ComponentRef::new(Counting { i: i.clone() });
    thr.activate_on(&scheduler);
    util::run_cycles(&scheduler, 2);
    assert!(!thr.is_stopped());
    assert!(!thr.is_paused(), "runnable before stop");

    thr.stop();
    assert!(thr.is_stopped());
    assert!(!thr.is_paused(), "a stopped microprocess is not 'paused'");
    thr.unpause();
    assert!(thr.is_stopped(), "unpause does not undo stop");
    assert!(!thr.is_paused());

    let resumes = i.get();
    assert!(
        !scheduler.run_cycle(),
        "stopping the only component ends the run"
    );
    assert!(thr.is_finished());
    assert_eq!(i.get(), resumes, "a stopped body is never resumed");
}

#[test]
fn pause() {
    let scheduler = Scheduler::new();
    let i = Counter::new();
    let thr = ComponentRef::new(Counting { i: i.clone() });
    thr.activate_on(&scheduler);
    util::start(&scheduler);
    assert!(!thr.is_paused());
    assert!(!scheduler.is_paused(&thr));

    // The request is granted at the end of the cycle, after one more turn.
    thr.pause();
    util::run_cycles(&scheduler, 1);
    assert_eq!(i.get(), 1);
    assert!(thr.is_paused());
    assert!(scheduler.is_paused(&thr));
    util::run_cycles(&scheduler, 3);
    assert_eq!(i.get(), 1, "reported paused, and really not resumed");

    thr.unpause();
    assert!(!thr.is_paused());
    assert!(!scheduler.is_paused(&thr));
    // Queued by the next cycle, resumed from the one after.
    util::run_cycles(&scheduler, 3);
    assert_eq!(i.get(), 3, "resumed again once unpaused");
}

#[test]
fn next() {
    let scheduler = Scheduler::new();
    let i = Counter::new();
    let thr = ComponentRef::new(Counting { i: i.clone() });
    thr.activate_on(&scheduler);
    util::start(&scheduler);
    assert_eq!(i.get(), 0, "the first cycle only queues it");
    for x in 1..5 {
        util::run_cycles(&scheduler, 1);
        assert_eq!(i.get(), x);
    }

    // Pausing is a request to the scheduler: the body does not stop itself,
    // it runs once more in the cycle that grants the request, then not at all.
    thr.pause();
    util::run_cycles(&scheduler, 1);
    assert_eq!(i.get(), 5);
    for _ in 0..5 {
        util::run_cycles(&scheduler, 1);
        assert_eq!(i.get(), 5, "a paused microprocess is not resumed");
    }

    // Woken between cycles: queued at the end of the next cycle, resumed from
    // the one after.
    thr.unpause();
    util::run_cycles(&scheduler, 1);
    assert_eq!(i.get(), 5, "only queued");
    for x in 6..11 {
        util::run_cycles(&scheduler, 1);
        assert_eq!(i.get(), x);
    }

    thr.stop();
    assert!(!scheduler.run_cycle());
    assert_eq!(i.get(), 10, "a stopped microprocess is not resumed");
    assert!(thr.is_finished());
    assert!(!scheduler.run_cycle(), "and the scheduler stays finished");
}
