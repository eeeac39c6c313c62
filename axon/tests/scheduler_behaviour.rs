//! How the scheduler runs components: round robin in activation order, new
//! (or woken) components from the cycle after the one at whose end they are
//! queued, paused ones not at all; when it returns,
//! blocks and stops; and the yields it understands (`NewComponent`,
//! `WaitComplete`) and timers.

mod util;

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use axon::{ComponentRef, Cx, NewComponent, NoBoxes, Scheduler, Standard, WaitComplete};
use util::{run_cycles, Log, SignalPark, HANG_GUARD};

/// Logs `{name}{n}` on each of its first `turns` resumes, then ends.
fn tracer(log: &Log, name: &'static str, turns: usize) -> ComponentRef {
    let log = log.clone();
    util::body(move |cx: Cx<NoBoxes>| async move {
        for n in 0..turns {
            log.push(format!("{name}{n}"));
            cx.yield_now().await;
        }
    })
}

/// The number of the cycle a body is running in, counting from 1.
fn cycle_of<B: axon::BoxSet>(cx: &Cx<B>) -> u64 {
    cx.scheduler().cycles() + 1
}

#[test]
fn round_robin_follows_activation_order() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    for name in ["A", "B", "C"] {
        tracer(&log, name, 3).activate_on(&scheduler);
    }
    scheduler.run().unwrap();
    assert_eq!(
        log.entries(),
        ["A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2"]
    );
    assert_eq!(
        scheduler.cycles(),
        5,
        "the cycle at whose end the activations land, three turns each, then the turn that ends them"
    );
}

#[test]
fn a_component_activated_during_a_cycle_first_runs_in_the_next_after_the_running_ones() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let d = tracer(&log, "D", 2);
    let l = log.clone();
    let a = util::body(move |cx: Cx<NoBoxes>| async move {
        for n in 0..3 {
            l.push(format!("A{n}"));
            if n == 0 {
                d.clone().activate();
            }
            cx.yield_now().await;
        }
    });
    a.activate_on(&scheduler);
    tracer(&log, "B", 3).activate_on(&scheduler);
    tracer(&log, "C", 3).activate_on(&scheduler);
    scheduler.run().unwrap();
    assert_eq!(
        log.entries(),
        ["A0", "B0", "C0", "A1", "B1", "C1", "D0", "A2", "B2", "C2", "D1"]
    );
}

#[test]
fn yielding_new_component_activates_it_for_the_next_cycle() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let spawned = tracer(&log, "S", 2);
    let s = spawned.clone();
    let l = log.clone();
    let parent = util::body(move |cx: Cx<NoBoxes>| async move {
        l.push("P0");
        cx.yield_(NewComponent::new([s])).await;
        l.push("P1");
        cx.yield_now().await;
        l.push("P2");
    });
    parent.activate_on(&scheduler);
    tracer(&log, "B", 3).activate_on(&scheduler);
    assert!(!spawned.is_activated());
    scheduler.run().unwrap();
    assert!(spawned.is_finished());
    assert_eq!(
        log.entries(),
        ["P0", "B0", "P1", "B1", "S0", "P2", "B2", "S1"]
    );
}

#[test]
fn paused_components_are_not_resumed_at_all() {
    let scheduler = Scheduler::new();
    let (sleeper, resumes) = util::pause_every_turn();
    sleeper.activate_on(&scheduler);
    let (_busy, busy_resumes) = util::busy_waiters(&scheduler, 1).remove(0);
    run_cycles(&scheduler, 1000);
    assert_eq!(scheduler.cycles(), 1000);
    // The activations land at the end of cycle 1, so both first run in cycle 2.
    assert_eq!(busy_resumes.get(), 999);
    assert_eq!(resumes.get(), 1, "only the first turn, before it paused");
}

#[test]
fn run_returns_at_once_when_no_component_was_activated() {
    let scheduler = Scheduler::new();
    scheduler.run().unwrap();
    assert_eq!(scheduler.cycles(), 0);
}

#[test]
fn run_returns_when_no_component_is_left() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let short = tracer(&log, "S", 1);
    let long = tracer(&log, "L", 5);
    short.activate_on(&scheduler);
    long.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert!(short.is_finished() && long.is_finished());
    assert!(scheduler.is_empty());
    // Cycle 1 only queues them; L runs in cycles 2 to 6 and ends in cycle 7.
    assert_eq!(scheduler.cycles(), 7);
}

#[test]
fn when_everything_is_paused_run_blocks_until_another_thread_wakes_a_component() {
    let scheduler = Scheduler::new();
    let (park, blocked) = SignalPark::new();
    let blocking_parks = park.blocking_parks();
    scheduler.set_park(Box::new(park));
    let seen = Log::new();
    let s = seen.clone();
    let sleeper = util::body(move |cx: Cx<NoBoxes>| async move {
        s.push(format!("paused in cycle {}", cycle_of(&cx)));
        cx.idle().await;
        s.push(format!("woken in cycle {}", cycle_of(&cx)));
    });
    sleeper.activate_on(&scheduler);
    let waker = sleeper.remote_waker().unwrap();
    let remote = scheduler.remote();
    let helper = thread::spawn(move || match blocked.recv_timeout(HANG_GUARD) {
        Ok(()) => {
            waker.wake();
            true
        }
        Err(_) => {
            remote.stop();
            false
        }
    });
    scheduler.run().unwrap();
    assert!(helper.join().unwrap(), "the scheduler blocked");
    assert!(sleeper.is_finished());
    // Activated before run, it first runs in cycle 2 and pauses. The scheduler
    // then blocks at the end of cycle 2 (waiting is part of handling wakes, as
    // in Axon); the remote wake arrives during that wait, so the sleeper is
    // queued there and runs (and ends) in cycle 3. No cycle ran while blocked.
    assert_eq!(seen.entries(), ["paused in cycle 2", "woken in cycle 3"]);
    assert_eq!(scheduler.cycles(), 3);
    assert_eq!(blocking_parks.load(Ordering::SeqCst), 1);
}

#[test]
fn when_everything_is_paused_run_blocks_until_another_thread_stops_it() {
    let scheduler = Scheduler::new();
    let (park, blocked) = SignalPark::new();
    let blocking_parks = park.blocking_parks();
    scheduler.set_park(Box::new(park));
    let sleepers: Vec<ComponentRef> = util::unpause_detectors(&scheduler, 3)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let remote = scheduler.remote();
    let helper = thread::spawn(move || {
        let blocked = blocked.recv_timeout(HANG_GUARD).is_ok();
        remote.stop();
        blocked
    });
    scheduler.run().unwrap();
    assert!(helper.join().unwrap(), "the scheduler blocked");
    // Cycle 1 queues the detectors, cycle 2 runs them and they pause.
    assert_eq!(scheduler.cycles(), 2);
    assert_eq!(blocking_parks.load(Ordering::SeqCst), 1);
    assert!(sleepers.iter().all(ComponentRef::is_finished));
    assert!(scheduler.is_empty());
}

#[test]
fn stop_from_inside_a_component_stops_everything_at_the_end_of_the_cycle() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let a = tracer(&log, "A", 100);
    let l = log.clone();
    let b = util::body(move |cx: Cx<NoBoxes>| async move {
        for n in 0..100 {
            l.push(format!("B{n}"));
            if n == 2 {
                cx.scheduler().stop();
            }
            cx.yield_now().await;
        }
    });
    let c = tracer(&log, "C", 100);
    for x in [&a, &b, &c] {
        x.activate_on(&scheduler);
    }
    scheduler.run().unwrap();
    assert_eq!(
        log.entries(),
        ["A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2"],
        "the cycle in which stop was asked for is completed"
    );
    // The activation cycle, then the three cycles logged above.
    assert_eq!(scheduler.cycles(), 4);
    assert!([a, b, c].iter().all(ComponentRef::is_finished));
    assert!(scheduler.is_empty());
}

#[test]
fn stop_from_a_component_that_then_ends_does_not_wait_on_the_paused_ones() {
    // Axon's SystemShutdown example: the stopper ends in the same cycle, and
    // everything left is paused. The scheduler must not block in its idle
    // wait, which nothing would ever end.
    let scheduler = Scheduler::new();
    let stopped = std::rc::Rc::new(std::cell::Cell::new(false));
    let s = stopped.clone();
    let eternal = util::body(move |cx: Cx<NoBoxes>| async move {
        struct OnStop(std::rc::Rc<std::cell::Cell<bool>>);
        impl Drop for OnStop {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let _on_stop = OnStop(s);
        loop {
            cx.idle().await;
        }
    });
    let stopper = util::body(|cx: Cx<NoBoxes>| async move {
        cx.yield_now().await;
        cx.scheduler().stop();
    });
    eternal.activate_on(&scheduler);
    stopper.activate_on(&scheduler);
    let remote = scheduler.remote();
    // Should run() block, stop it from outside so the test fails rather than hangs.
    let guard = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(5));
        remote.stop();
    });
    let started = std::time::Instant::now();
    scheduler.run().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "run blocked until stopped from outside"
    );
    assert!(stopped.get(), "the paused component was stopped");
    drop(guard);
}

#[test]
fn wait_complete_runs_the_sub_body_then_resumes_the_parent() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let l = log.clone();
    let parent = util::body(move |cx: Cx<NoBoxes>| async move {
        l.push(format!("before @{}", cycle_of(&cx)));
        let sub_log = l.clone();
        cx.yield_(
            WaitComplete::new(move |cx: Cx<NoBoxes>| async move {
                sub_log.push(format!("sub 1 @{}", cycle_of(&cx)));
                cx.yield_now().await;
                sub_log.push(format!("sub 2 @{}", cycle_of(&cx)));
            })
            .tag("sub"),
        )
        .await;
        l.push(format!("after @{}", cycle_of(&cx)));
    });
    parent.activate_on(&scheduler);
    scheduler.run().unwrap();
    // The parent is queued at the end of cycle 1 and runs from cycle 2; the sub
    // body, activated during cycle 2, runs from cycle 3; it ends in cycle 4,
    // which queues the parent for cycle 5.
    assert_eq!(
        log.entries(),
        ["before @2", "sub 1 @3", "sub 2 @4", "after @5"]
    );
    assert!(parent.is_finished() && parent.panic_message().is_none());
}

#[test]
fn a_nested_wait_complete_body_speaks_for_the_component() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let l = log.clone();
    let component = util::body(move |cx: Cx<Standard<u32, ()>>| async move {
        let me = cx.id();
        let l = l.clone();
        cx.yield_(WaitComplete::new(
            move |cx: Cx<Standard<u32, ()>>| async move {
                cx.yield_(WaitComplete::new(
                    move |cx: Cx<Standard<u32, ()>>| async move {
                        l.push(format!("same id: {}", cx.id() == me));
                        while cx
                            .inbox
                            .recv()
                            .map(|m| l.push(format!("got {m}")))
                            .is_none()
                        {
                            cx.idle().await;
                        }
                    },
                ))
                .await;
            },
        ))
        .await;
    });
    component.activate_on(&scheduler);
    run_cycles(&scheduler, 5);
    assert!(
        !component.is_finished(),
        "the inner body waits for a message"
    );
    component.inbox::<u32>("inbox").unwrap().deliver(7).unwrap();
    util::run_until_done(&scheduler, 10);
    assert_eq!(log.entries(), ["same id: true", "got 7"]);
}

#[test]
fn a_delivery_to_the_parent_while_it_waits_wakes_the_paused_sub_body() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let l = log.clone();
    let parent = util::body(move |cx: Cx<Standard<u32, ()>>| async move {
        let sub_log = l.clone();
        cx.yield_(WaitComplete::new(
            move |cx: Cx<Standard<u32, ()>>| async move {
                loop {
                    if let Some(m) = cx.inbox.recv() {
                        sub_log.push(format!("sub got {m}"));
                        return;
                    }
                    sub_log.push("sub pauses");
                    cx.idle().await;
                }
            },
        ))
        .await;
        l.push("parent resumed");
    });
    parent.activate_on(&scheduler);
    run_cycles(&scheduler, 10);
    assert_eq!(log.entries(), ["sub pauses"], "the sub-body sleeps");
    let cycles = scheduler.cycles();
    run_cycles(&scheduler, 5);
    assert_eq!(scheduler.cycles(), cycles, "nothing is runnable");

    parent.inbox::<u32>("inbox").unwrap().deliver(7).unwrap();
    util::run_until_done(&scheduler, 10);
    assert_eq!(log.entries(), ["sub pauses", "sub got 7", "parent resumed"]);
}

#[test]
fn a_timer_wakes_a_sleeping_component() {
    let scheduler = Scheduler::new();
    let (park, _blocked) = SignalPark::new();
    let blocking_parks = park.blocking_parks();
    scheduler.set_park(Box::new(park));
    let nap = Duration::from_millis(20);
    let log = Log::new();
    let l = log.clone();
    let sleeper = util::body(move |cx: Cx<NoBoxes>| async move {
        let start = Instant::now();
        cx.sleep(nap).await;
        // `sleep` guarantees at least this much; nothing else could wake it.
        l.push(format!(
            "slept at least the nap: {}",
            start.elapsed() >= nap
        ));
    });
    sleeper.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert_eq!(log.entries(), ["slept at least the nap: true"]);
    assert!(sleeper.is_finished());
    assert_eq!(
        blocking_parks.load(Ordering::SeqCst),
        0,
        "with a timer pending the scheduler never waits without a timeout"
    );
    // It sleeps in cycle 2; the scheduler waits for the timer at the end of
    // cycle 2, the timer's wake is handled in that wait, and the sleeper ends
    // in cycle 3. No cycle runs while it waits.
    assert_eq!(scheduler.cycles(), 3);
}

#[test]
fn a_sleep_woken_early_by_deliveries_sleeps_on_until_its_deadline() {
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    // A wait with no timer pending would be a lost deadline: it fails the
    // test instead of hanging it.
    util::FailOnBlockPark::install(&scheduler);
    let nap = Duration::from_millis(30);
    let log = Log::new();
    let l = log.clone();
    let sleeper = util::body(move |cx: Cx<Standard<u32, ()>>| async move {
        let start = Instant::now();
        cx.sleep(nap).await;
        l.push(format!(
            "slept the nap: {}, pokes waiting: {}",
            start.elapsed() >= nap,
            cx.inbox.len()
        ));
    });
    let poker = util::body(|cx: Cx<Standard<(), u32>>| async move {
        for n in 0..5 {
            cx.outbox.send(n).await;
            cx.yield_now().await;
        }
    });
    poker.link((&poker, "outbox"), (&sleeper, "inbox")).unwrap();
    sleeper.activate_on(&scheduler);
    poker.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert_eq!(log.entries(), ["slept the nap: true, pokes waiting: 5"]);
}

/// `Cx::now` is the scheduler's time as of the end of the last cycle (or
/// wait): no later than the clock, and moved on by every cycle, so a body
/// sees it advance from one resume to the next as the clock does.
#[test]
fn a_bodys_now_is_the_time_of_the_last_end_of_a_cycle() {
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let record = seen.clone();
    let c = util::body(move |cx: Cx<NoBoxes>| async move {
        for _ in 0..2 {
            record.borrow_mut().push((Instant::now(), cx.now()));
            cx.yield_now().await;
        }
    });
    let scheduler = Scheduler::new();
    let before = Instant::now();
    c.activate_on(&scheduler);
    scheduler.run_cycle();
    let end_of_first = scheduler.now();
    scheduler.run_cycle();
    scheduler.run_cycle();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2);
    for &(clock, now) in seen.iter() {
        assert!(
            now >= before && now <= clock,
            "{now:?} outside {before:?}..={clock:?}"
        );
    }
    assert!(
        seen[1].1 >= end_of_first,
        "the second resume sees the first cycle's end"
    );
    assert!(
        scheduler.now() >= seen[1].0,
        "a later cycle's end is later still"
    );
}
