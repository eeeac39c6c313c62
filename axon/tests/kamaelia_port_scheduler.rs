// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_Scheduler.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * Scheduler stepping is per cycle (`Scheduler::run_cycle`) rather than per
//   microprocess (`next()` on `scheduler.main()`); "a few cycles' grace" is kept
//   as a few cycles. "The generator raises StopIteration" is "`run_cycle`
//   returns false". As in Axon, `_addThread` and `wakeThread` are requests
//   handled at the end of a cycle, so a microprocess activated or woken between
//   cycles is only queued by the next cycle and runs from the one after
//   (`util::start` steps past that first cycle).
// * The original schedules fake microprocesses that record whether `next()`,
//   `stop()` and `_closeDownMicroprocess()` were called. The port uses real
//   components that count their resumes; "closed down" is observed as the
//   removal of a linkage the component made.
// * `scheduler._addThread(mp)` is `ComponentRef::activate_on`;
//   `pauseThread`/`wakeThread` are `ComponentRef::pause`/`unpause`;
//   `isThreadPaused` is `Scheduler::is_paused`; `listAllThreads` is
//   `Scheduler::list_all`.
// * test_SmokeTest_NoArguments: in Axon the first scheduler made becomes the
//   class-wide `scheduler.run`. axon's equivalent, `Scheduler::current()`, is
//   the thread's default scheduler, made on first use; `Scheduler::new()` makes
//   an independent one. The port checks that split, and test_importsuccess
//   checks that every call to `Scheduler::current()` on a thread gives the
//   same scheduler (the one a bare `activate()` uses), and another thread gets
//   its own.
// * test_directUsageOfMainDoesntBlock timed a thread out after 5 s. The port
//   installs a park that records how the scheduler asks to wait: stepping with
//   `run_cycle` while everything is paused only ever polls (zero timeout), and
//   runs no cycles.
// * test_runThreadsUsesNonBusyWaitingMode measured CPU time (< 1 % over 3 s).
//   The port proves the same without timing: a park that signals each time the
//   scheduler blocks lets another thread wake one component per block; the
//   number of blocking waits and of cycles is then exactly what a scheduler
//   that never spins would need.
//
// Not ported:
//
// * test_runThreadsSlowmo: `slowmo` (a per-cycle delay for debugging) has no
//   axon counterpart, and its test is about timing.

//! Ports of Axon's scheduler tests.

mod util;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::thread;

use axon::{Component, ComponentRef, Cx, NoBoxes, Scheduler, Standard};
use util::{busy_waiters, run_cycles, start, Counter, RecordingPark, SignalPark, HANG_GUARD};

/// Runs `count` steps, then ends.
struct Simple {
    count: Counter,
}

impl Component for Simple {
    type Boxes = Standard<u32, u32>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while self.count.get() > 0 {
            self.count.set(self.count.get() - 1);
            cx.yield_now().await;
        }
    }
}

/// A `Simple` with `count` steps, having made a linkage of its own (from its
/// outbox to `sink`), so that its close-down can be seen.
fn simple(count: u64, sink: &ComponentRef) -> (ComponentRef, Counter, axon::Linkage) {
    let counter = Counter::new();
    counter.set(count);
    let c = ComponentRef::new(Simple {
        count: counter.clone(),
    });
    let link = c.link((&c, "outbox"), (sink, "inbox")).unwrap();
    (c, counter, link)
}

/// Pauses once, then ends when woken.
struct PausesOnce;

impl Component for PausesOnce {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.idle().await;
    }
}

fn resumes(counters: &[Counter]) -> Vec<u64> {
    counters.iter().map(Counter::get).collect()
}

mod scheduler_test {
    use super::*;

    #[test]
    fn importsuccess() {
        let (c, _) = busy_waiters(&Scheduler::current(), 1).remove(0);
        assert!(Scheduler::current().list_all().contains(&c));
        let d = ComponentRef::new(PausesOnce).activate();
        assert!(Scheduler::current().list_all().contains(&d));
        let elsewhere = thread::spawn(|| Scheduler::current().len()).join().unwrap();
        assert_eq!(elsewhere, 0, "another thread has a default of its own");
    }

    #[test]
    fn smoke_test_no_arguments() {
        let s = Scheduler::new();
        assert!(s.is_empty());
        assert_eq!(s.cycles(), 0);
        let c = ComponentRef::new(PausesOnce).activate();
        assert!(
            !s.list_all().contains(&c),
            "a new scheduler is not the default one"
        );
        assert!(s.is_empty());
    }

    #[test]
    fn stops_if_no_threads() {
        let s = Scheduler::new();
        assert!(!s.run_cycle());
        assert!(!s.run_cycle());
        s.run().unwrap();
        assert_eq!(s.cycles(), 0);
    }

    #[test]
    fn runs_microprocess_to_completion_then_stops() {
        let s = Scheduler::new();
        let sink = util::body(|_: Cx<Standard<u32, u32>>| async {});
        let (t, count, link) = simple(10, &sink);
        t.activate_on(&s);
        let calls = util::run_until_done(&s, 1000);
        assert_eq!(
            calls, 12,
            "a first cycle that only queues it, ten steps, then the end"
        );
        assert_eq!(count.get(), 0, "run to completion");
        assert!(t.is_finished() && t.is_stopped());
        assert!(!link.is_live(), "closed down: its linkage is gone");
    }

    #[test]
    fn runs_microprocesses_all_to_completion_then_stops() {
        let s = Scheduler::new();
        let sink = util::body(|_: Cx<Standard<u32, u32>>| async {});
        let all: Vec<_> = (1..5).map(|i| simple(i * 10, &sink)).collect();
        for (t, _, _) in &all {
            t.activate_on(&s);
        }
        // A first cycle that only queues them, 40 steps of the longest, then
        // its end.
        assert_eq!(util::run_until_done(&s, 1000), 42);
        for (t, count, link) in &all {
            assert_eq!(count.get(), 0);
            assert!(t.is_finished());
            assert!(!link.is_live());
        }
    }

    #[test]
    fn paused_microprocess_does_not_get_called() {
        let s = Scheduler::new();
        let (mp, calls) = busy_waiters(&s, 1).remove(0);
        run_cycles(&s, 3);
        for _ in 0..10 {
            let before = calls.get();
            run_cycles(&s, 3);
            assert_eq!(calls.get(), before + 3, "called once per cycle");
        }
        mp.pause();
        run_cycles(&s, 3);
        for _ in 0..10 {
            let before = calls.get();
            run_cycles(&s, 1);
            assert_eq!(calls.get(), before, "not called while paused");
        }
    }

    #[test]
    fn one_microprocess_pauses_others_continue_to_run() {
        let s = Scheduler::new();
        let (paused, counts): (Vec<_>, Vec<_>) = busy_waiters(&s, 6).into_iter().unzip();
        run_cycles(&s, 3 * 6);
        for _ in 0..10 {
            let before = resumes(&counts);
            run_cycles(&s, 12);
            for (b, a) in before.iter().zip(resumes(&counts)) {
                assert_eq!(a, b + 12);
            }
        }
        paused[5].pause();
        run_cycles(&s, 3 * 6);
        for _ in 0..10 {
            let before = resumes(&counts);
            run_cycles(&s, 12);
            let after = resumes(&counts);
            for i in 0..5 {
                assert_eq!(after[i], before[i] + 12, "the others run on");
            }
            assert_eq!(after[5], before[5], "the paused one does not");
        }
    }

    #[test]
    fn paused_microprocess_can_be_woken() {
        let s = Scheduler::new();
        let (mps, counts): (Vec<_>, Vec<_>) = busy_waiters(&s, 6).into_iter().unzip();
        run_cycles(&s, 3 * 6);
        mps[5].pause();
        run_cycles(&s, 3 * 6);
        for _ in 0..10 {
            let before = resumes(&counts);
            run_cycles(&s, 12);
            let after = resumes(&counts);
            assert!((0..5).all(|i| after[i] == before[i] + 12));
            assert_eq!(after[5], before[5]);
        }
        mps[5].unpause();
        run_cycles(&s, 5 * 6);
        for _ in 0..10 {
            let before = resumes(&counts);
            run_cycles(&s, 12);
            let after = resumes(&counts);
            assert!((0..6).all(|i| after[i] == before[i] + 12), "all run again");
        }
    }

    #[test]
    fn waking_paused_microprocess_doesnt_wake_others() {
        let s = Scheduler::new();
        let (mps, counts): (Vec<_>, Vec<_>) = busy_waiters(&s, 6).into_iter().unzip();
        run_cycles(&s, 5 * 6);
        for mp in &mps {
            mp.pause();
        }
        run_cycles(&s, 3 * 6);
        for _ in 0..10 {
            let before = resumes(&counts);
            run_cycles(&s, 12);
            assert_eq!(resumes(&counts), before, "none runs");
        }
        let not_paused = 5;
        mps[not_paused].unpause();
        run_cycles(&s, 5 * 6);
        for _ in 0..10 {
            let before = resumes(&counts);
            run_cycles(&s, 12);
            let after = resumes(&counts);
            assert!(
                (0..5).all(|i| after[i] == before[i]),
                "the others stay paused"
            );
            assert_eq!(after[not_paused], before[not_paused] + 12);
        }
    }

    #[test]
    fn waking_already_awake_microprocess_has_no_effect() {
        let s = Scheduler::new();
        let (all, counts): (Vec<_>, Vec<_>) = busy_waiters(&s, 6).into_iter().unzip();
        let themp = 5;
        start(&s);
        run_cycles(&s, 3 * 6);
        assert!(counts.iter().all(|c| c.get() == 18), "all running");
        assert_eq!(s.list_all(), all);

        all[themp].unpause();
        let before = resumes(&counts);
        run_cycles(&s, 3 * 6);
        assert_eq!(s.list_all(), all);
        for (b, a) in before.iter().zip(resumes(&counts)) {
            assert_eq!(a, b + 18, "still exactly once per cycle");
        }

        all[themp].pause();
        all[themp].pause();
        run_cycles(&s, 1);
        let before = resumes(&counts);
        run_cycles(&s, 3 * 6);
        let after = resumes(&counts);
        assert!(
            (0..5).all(|i| after[i] == before[i] + 18),
            "all running except one"
        );
        assert_eq!(after[themp], before[themp]);
    }

    #[test]
    fn waking_or_pausing_non_activated_microprocess_haso_effect() {
        let s = Scheduler::new();
        let (others, counts): (Vec<_>, Vec<_>) = busy_waiters(&s, 5).into_iter().unzip();
        let themp_calls = Counter::new();
        let themp = ComponentRef::new(util::BusyWait {
            resumes: themp_calls.clone(),
        });
        start(&s);
        run_cycles(&s, 18);
        assert!(counts.iter().all(|c| c.get() == 18));
        assert_eq!(themp_calls.get(), 0);
        assert_eq!(s.list_all(), others);

        themp.unpause();
        run_cycles(&s, 18);
        assert_eq!(s.list_all(), others);
        assert!(counts.iter().all(|c| c.get() == 36));
        assert_eq!(themp_calls.get(), 0);
        assert!(!themp.is_activated());

        themp.pause();
        run_cycles(&s, 18);
        assert!(counts.iter().all(|c| c.get() == 54));
        assert_eq!(themp_calls.get(), 0);
        assert!(!themp.is_activated());
    }

    #[test]
    fn list_all_threads_method_lists_all_microprocesses() {
        let s = Scheduler::new();
        let all: Vec<ComponentRef> = busy_waiters(&s, 5).into_iter().map(|(c, _)| c).collect();
        run_cycles(&s, 15);
        assert_eq!(s.list_all(), all);
        all[1].pause();
        all[4].pause();
        run_cycles(&s, 15);
        assert!(all[1].is_paused() && all[4].is_paused());
        assert_eq!(s.list_all(), all, "paused ones are listed too");
    }

    #[test]
    fn is_thread_paused_works() {
        let s = Scheduler::new();
        let all: Vec<ComponentRef> = busy_waiters(&s, 5).into_iter().map(|(c, _)| c).collect();
        run_cycles(&s, 15);
        assert!(all.iter().all(|m| !s.is_paused(m)));
        for mp in &all {
            mp.pause();
            run_cycles(&s, 15);
            for m in &all {
                assert_eq!(s.is_paused(m), m == mp, "only {mp} is paused");
            }
            mp.unpause();
        }
    }

    #[test]
    fn is_thread_paused_not_recognised() {
        let s = Scheduler::new();
        let all: Vec<ComponentRef> = busy_waiters(&s, 5).into_iter().map(|(c, _)| c).collect();
        let other = ComponentRef::new(PausesOnce);
        let elsewhere = Scheduler::new();
        let (on_elsewhere, _) = busy_waiters(&elsewhere, 1).remove(0);
        run_cycles(&s, 15);
        assert!(all.iter().all(|m| !s.is_paused(m)));
        assert!(s.is_paused(&other), "never activated");
        assert!(s.is_paused(&on_elsewhere), "activated on another scheduler");
        for mp in &all {
            mp.pause();
        }
        run_cycles(&s, 15);
        assert!(all.iter().all(|m| s.is_paused(m)));
        assert!(s.is_paused(&other));
    }

    #[test]
    fn pause_then_terminate_terminates() {
        let s = Scheduler::new();
        let ended = Counter::new();
        let e = ended.clone();
        let m = util::body(move |cx: Cx<NoBoxes>| async move {
            cx.pause();
            e.bump();
        });
        m.activate_on(&s);
        // The first cycle only queues it; it ends in its first turn, in the
        // second.
        assert_eq!(util::run_until_done(&s, 100), 2);
        assert!(m.is_finished());
        assert_eq!(ended.get(), 1);
    }

    #[test]
    fn direct_usage_of_main_doesnt_block() {
        let s = Scheduler::new();
        let timeouts = Rc::new(RefCell::new(Vec::new()));
        s.set_park(Box::new(RecordingPark {
            timeouts: timeouts.clone(),
        }));
        let (mps, counts): (Vec<_>, Vec<_>) = busy_waiters(&s, 5).into_iter().unzip();
        run_cycles(&s, 100);
        for mp in &mps {
            mp.pause();
        }
        run_cycles(&s, 1);
        let cycles = s.cycles();
        let before = resumes(&counts);
        timeouts.borrow_mut().clear();

        // Everything is paused: stepping must come straight back.
        run_cycles(&s, 100);
        assert_eq!(s.cycles(), cycles, "nothing was runnable");
        assert_eq!(resumes(&counts), before);
        let timeouts = timeouts.borrow();
        assert!(!timeouts.is_empty());
        assert!(
            timeouts.iter().all(|t| t.is_some_and(|t| t.is_zero())),
            "stepping only ever polls: {timeouts:?}"
        );
    }

    #[test]
    fn run_threads_uses_non_busy_waiting_mode() {
        let s = Scheduler::new();
        let (park, blocked) = SignalPark::new();
        let blocking_parks = park.blocking_parks();
        s.set_park(Box::new(park));
        let mps: Vec<ComponentRef> = (0..5).map(|_| ComponentRef::new(PausesOnce)).collect();
        for mp in &mps {
            mp.activate_on(&s);
        }
        let wakers: Vec<_> = mps.iter().map(|m| m.remote_waker().unwrap()).collect();
        let remote = s.remote();

        // Each time the scheduler blocks, wake one more component.
        let helper = thread::spawn(move || {
            for waker in wakers {
                if blocked.recv_timeout(HANG_GUARD).is_err() {
                    remote.stop();
                    return Err("the scheduler never blocked");
                }
                waker.wake();
            }
            Ok(())
        });
        s.run().unwrap();
        helper.join().unwrap().unwrap();

        assert!(mps.iter().all(ComponentRef::is_finished));
        // A cycle that queues them and one in which all pause. Then, five times,
        // the scheduler waits at the end of a cycle (as Axon waits while
        // processing wakes), the wake arrives during that wait, and the woken
        // component runs and ends in the next cycle: 2 + 5. A scheduler that
        // spun would show more cycles or more waits.
        assert_eq!(s.cycles(), 7);
        assert_eq!(blocking_parks.load(Ordering::SeqCst), 5);
    }
}
