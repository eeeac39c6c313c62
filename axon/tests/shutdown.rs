//! What ending a component does: the linkages it made are removed (links made
//! by others stay) and its parents are woken; `ComponentRef::stop` ends a
//! component at its next turn the same way. Stopping the whole scheduler ends
//! every body without that close-down.

mod util;

use axon::{ComponentRef, Cx, NoBoxes, Scheduler, Standard};
use util::{run_cycles, start, Counter, UnpauseDetector};

type Boxes = Standard<u32, u32>;

/// Only its boxes are used.
fn plain() -> ComponentRef {
    util::body(|_: Cx<Boxes>| async {})
}

/// Yields `turns` times, then ends.
fn yields(turns: usize) -> ComponentRef {
    util::body(move |cx: Cx<Boxes>| async move {
        for _ in 0..turns {
            cx.yield_now().await;
        }
    })
}

/// A paused parent that counts its wakes.
fn parent_of(scheduler: &Scheduler, child: &ComponentRef) -> (ComponentRef, Counter) {
    let woken = Counter::new();
    let parent = ComponentRef::new(UnpauseDetector {
        unpaused: woken.clone(),
    });
    parent.add_children([child]);
    parent.activate_on(scheduler);
    (parent, woken)
}

/// Sets a flag when dropped: shows that a body was dropped.
struct DropFlag(Counter);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.bump();
    }
}

#[test]
fn a_finished_component_removes_its_own_linkages_and_wakes_its_parents() {
    let scheduler = Scheduler::new();
    let x = yields(2);
    let (y, z, w1, w2) = (plain(), plain(), plain(), plain());
    let own = x.link((&x, "outbox"), (&y, "inbox")).unwrap();
    let between_others = x.link((&w1, "outbox"), (&w2, "inbox")).unwrap();
    let by_z = z.link((&z, "outbox"), (&x, "inbox")).unwrap();
    let (_parent, woken) = parent_of(&scheduler, &x);
    x.activate_on(&scheduler);
    start(&scheduler);

    run_cycles(&scheduler, 2);
    assert!(!x.is_finished());
    assert_eq!(woken.get(), 0);
    run_cycles(&scheduler, 1);
    assert!(x.is_finished());

    assert!(!own.is_live());
    assert!(
        !between_others.is_live(),
        "every link x made goes, not only its own boxes'"
    );
    assert!(x.linkages().is_empty());
    assert!(!x.outbox::<u32>("outbox").unwrap().is_linked());
    assert!(!w1.outbox::<u32>("outbox").unwrap().is_linked());

    assert!(by_z.is_live(), "a link made by another component stays");
    z.outbox::<u32>("outbox").unwrap().try_send(3).unwrap();
    assert_eq!(x.inbox::<u32>("inbox").unwrap().recv(), Some(3));

    run_cycles(&scheduler, 5);
    assert_eq!(woken.get(), 1, "the parent was woken once");
}

#[test]
fn stop_ends_a_running_component_at_its_next_turn_with_close_down() {
    let scheduler = Scheduler::new();
    let resumes = Counter::new();
    let x = ComponentRef::new(util::BusyWait {
        resumes: resumes.clone(),
    });
    let y = plain();
    let own = x.link((&x, "outbox"), (&y, "inbox")).unwrap();
    let (_parent, woken) = parent_of(&scheduler, &x);
    x.activate_on(&scheduler);
    start(&scheduler);
    run_cycles(&scheduler, 3);
    assert_eq!(resumes.get(), 3);

    x.stop();
    assert!(x.is_stopped() && !x.is_finished(), "it ends at its turn");
    assert!(own.is_live());
    run_cycles(&scheduler, 1);
    assert!(x.is_finished());
    assert_eq!(resumes.get(), 3, "its body was not resumed again");
    assert!(!own.is_live(), "closed down: its linkage is gone");
    run_cycles(&scheduler, 5);
    assert_eq!(woken.get(), 1, "its parent was woken");
}

#[test]
fn stop_ends_a_paused_component_too() {
    let scheduler = Scheduler::new();
    let dropped = Counter::new();
    let flag = DropFlag(dropped.clone());
    let x = util::body(move |cx: Cx<Boxes>| async move {
        let _flag = flag;
        loop {
            cx.idle().await;
        }
    });
    let y = plain();
    let own = x.link((&x, "outbox"), (&y, "inbox")).unwrap();
    x.activate_on(&scheduler);
    start(&scheduler);
    run_cycles(&scheduler, 1);
    assert!(x.is_paused());

    x.stop();
    // Stopping wakes it: woken between cycles, it is queued at the end of the
    // next cycle and closed down at its turn in the one after.
    run_cycles(&scheduler, 1);
    assert!(x.is_stopped() && !x.is_finished(), "only queued");
    assert_eq!(dropped.get(), 0);
    assert!(!scheduler.run_cycle(), "it was the only component");
    assert!(x.is_finished());
    assert_eq!(dropped.get(), 1, "its body was dropped");
    assert!(!own.is_live());
}

#[test]
fn stopping_the_scheduler_drops_every_body_without_close_down() {
    let scheduler = Scheduler::new();
    let dropped = Counter::new();
    let components: Vec<ComponentRef> = (0..3)
        .map(|_| {
            let flag = DropFlag(dropped.clone());
            util::body(move |cx: Cx<Boxes>| async move {
                let _flag = flag;
                loop {
                    cx.yield_now().await;
                }
            })
        })
        .collect();
    let link = components[0]
        .link((&components[0], "outbox"), (&components[1], "inbox"))
        .unwrap();
    let (_parent, woken) = parent_of(&scheduler, &components[2]);
    for c in &components {
        c.activate_on(&scheduler);
    }
    let stopper = util::body(|cx: Cx<NoBoxes>| async move {
        cx.yield_now().await;
        cx.scheduler().stop();
    });
    stopper.activate_on(&scheduler);

    scheduler.run().unwrap();
    assert!(scheduler.is_empty());
    assert!(components.iter().all(ComponentRef::is_finished));
    assert_eq!(dropped.get(), 3);
    assert!(link.is_live(), "no close-down: links stay");
    assert_eq!(woken.get(), 0, "no close-down: parents are not woken");
}
