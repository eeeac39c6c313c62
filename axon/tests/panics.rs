//! A panic in a component's body ends that component only (unless the
//! scheduler is fail-fast, when it propagates out of `run`), and a body that
//! awaits something other than an axon yield is ended with a panic that says so.

mod util;

use std::panic::{self, AssertUnwindSafe};

use axon::{ComponentRef, Cx, NoBoxes, Scheduler, Standard};
use util::{start, Counter, FailOnBlockPark, UnpauseDetector};

/// Yields once, then panics with `message`.
fn panics_on_second_turn(message: &'static str) -> ComponentRef {
    util::body(move |cx: Cx<Standard<u32, u32>>| async move {
        cx.yield_now().await;
        panic!("{message}");
    })
}

/// Counts `turns` resumes, then ends.
fn counts(turns: u64, resumes: &Counter) -> ComponentRef {
    let resumes = resumes.clone();
    util::body(move |cx: Cx<NoBoxes>| async move {
        for _ in 0..turns {
            resumes.bump();
            cx.yield_now().await;
        }
    })
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn a_panic_ends_only_that_component() {
    let scheduler = Scheduler::new();
    let crasher = panics_on_second_turn("boom 42");
    let resumes = Counter::new();
    let survivor = counts(10, &resumes);
    let woken = Counter::new();
    let parent = ComponentRef::new(UnpauseDetector {
        unpaused: woken.clone(),
    });
    parent.add_children([&crasher]);
    let sink = util::body(|_: Cx<Standard<u32, u32>>| async {});
    let link = crasher
        .link((&crasher, "outbox"), (&sink, "inbox"))
        .unwrap();
    crasher.activate_on(&scheduler);
    survivor.activate_on(&scheduler);
    parent.activate_on(&scheduler);
    start(&scheduler);

    util::run_cycles(&scheduler, 2);
    assert!(crasher.is_finished());
    let message = crasher.panic_message().expect("the panic was recorded");
    assert!(message.contains("boom 42"), "{message}");
    assert!(!link.is_live(), "closed down like any ending");
    assert!(!survivor.is_finished());

    util::run_cycles(&scheduler, 5);
    assert_eq!(woken.get(), 1, "the parent learns that its child ended");
    // The survivor has had one turn per cycle since start: 7 so far. Its 8th
    // to 10th turns count, and the 11th ends it.
    assert_eq!(resumes.get(), 7, "the others ran on through the panic");
    util::run_cycles(&scheduler, 4);
    assert_eq!(resumes.get(), 10);
    assert!(survivor.is_finished());
    assert!(survivor.panic_message().is_none());
}

#[test]
fn with_fail_fast_a_panic_propagates_out_of_run() {
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    let crasher = panics_on_second_turn("fatal 7");
    let resumes = Counter::new();
    let other = counts(1000, &resumes);
    crasher.activate_on(&scheduler);
    other.activate_on(&scheduler);

    let result = panic::catch_unwind(AssertUnwindSafe(|| scheduler.run()));
    let payload = result.expect_err("the panic came out of run");
    assert!(payload_text(&*payload).contains("fatal 7"));
    assert!(crasher.is_finished());
    assert!(other.is_finished(), "the scheduler stopped everything");
    // Both first run in cycle 2 (cycle 1 only queues them). Activated after the
    // crasher, `other` ran in cycle 2 only: as in Axon, the panic leaves the
    // scheduler at once, so the rest of cycle 3 never runs.
    assert_eq!(resumes.get(), 1, "nothing ran after the panicking turn");
    assert!(scheduler.is_empty());
}

#[test]
fn awaiting_a_foreign_future_ends_the_component_with_a_clear_panic() {
    let scheduler = Scheduler::new();
    let reached = Counter::new();
    let r = reached.clone();
    let misuser = util::body(move |cx: Cx<NoBoxes>| async move {
        cx.yield_now().await;
        std::future::pending::<()>().await;
        r.bump();
    });
    let resumes = Counter::new();
    let other = counts(3, &resumes);
    misuser.activate_on(&scheduler);
    other.activate_on(&scheduler);
    // Were the foreign future left pending instead, nothing could wake the
    // misuser: the park fails the test rather than letting `run` block.
    FailOnBlockPark::install(&scheduler);
    util::run_until_done(&scheduler, 10);

    assert!(misuser.is_finished());
    let message = misuser.panic_message().expect("ended by a panic");
    assert!(message.contains("not an axon yield"), "{message}");
    assert_eq!(reached.get(), 0);
    assert_eq!(resumes.get(), 3, "the others were not disturbed");
}
