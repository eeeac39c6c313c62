//! What wakes a paused component, and when a pause takes effect.
//!
//! A delivery wakes the consumer; a collection wakes the owners of the outboxes
//! that sent (or were refused) since they were last woken, and of the outboxes
//! they are linked through, but not the owners of inboxes in the chain, nor
//! sources that sent nothing; a finished child wakes its parent. A pause takes effect at the next
//! yield, and a wake in the same cycle as the pause wins, whichever came first.

mod util;

use axon::{ComponentRef, Cx, Inbox, NewComponent, NoBoxes, Outbox, Scheduler, Standard};
use util::{run_cycles, start, unpause_detectors, Counter, Log};

/// Yields `wait` times, then runs `act` once, then ends.
fn after_cycles(wait: usize, act: impl FnOnce() + 'static) -> ComponentRef {
    util::body(move |cx: Cx<NoBoxes>| async move {
        for _ in 0..wait {
            cx.yield_now().await;
        }
        act();
    })
}

#[test]
fn a_delivery_wakes_a_paused_consumer_even_if_its_inbox_already_holds_messages() {
    let scheduler = Scheduler::new();
    let (consumer, woken) = unpause_detectors(&scheduler, 1).remove(0);
    let inbox = consumer.inbox::<u32>("inbox").unwrap();
    let feeder = util::body(|_: Cx<Standard<(), u32>>| async {});
    feeder
        .link((&feeder, "outbox"), (&consumer, "inbox"))
        .unwrap();
    let outbox: Outbox<u32> = feeder.outbox("outbox").unwrap();
    let o = outbox.clone();
    let producer = util::body(move |cx: Cx<NoBoxes>| async move {
        cx.yield_now().await; // cycle 2
        o.try_send(1).unwrap(); // cycle 3
        for _ in 0..3 {
            cx.yield_now().await;
        }
        o.try_send(2).unwrap(); // cycle 6
    });
    producer.activate_on(&scheduler);

    // Cycle 1 queues both; in cycle 2 the consumer pauses.
    start(&scheduler);
    run_cycles(&scheduler, 2);
    assert_eq!(woken.get(), 0);
    assert!(!consumer.is_paused(), "woken in cycle 3");
    run_cycles(&scheduler, 1);
    assert_eq!(woken.get(), 1, "resumed in cycle 4");
    run_cycles(&scheduler, 1);
    assert!(consumer.is_paused());
    assert_eq!(inbox.len(), 1, "it did not take the message");

    run_cycles(&scheduler, 10);
    assert_eq!(woken.get(), 2, "the second delivery woke it again");
    assert_eq!(inbox.len(), 2);
    assert!(consumer.is_paused());
}

#[test]
fn a_collection_wakes_upstream_outbox_owners_but_not_inbox_owners() {
    let scheduler = Scheduler::new();
    let (c, n): (Vec<_>, Vec<_>) = unpause_detectors(&scheduler, 5).into_iter().unzip();
    // a.outbox -> b.outbox -> c.outbox -> d.inbox -> e.inbox
    c[0].link((&c[0], "outbox"), (&c[1], "outbox")).unwrap();
    c[1].link((&c[1], "outbox"), (&c[2], "outbox")).unwrap();
    c[2].link((&c[2], "outbox"), (&c[3], "inbox")).unwrap();
    c[3].link((&c[3], "inbox"), (&c[4], "inbox")).unwrap();
    run_cycles(&scheduler, 3);
    c[0].outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
    run_cycles(&scheduler, 5);
    for count in &n {
        count.set(0);
    }

    // A component collects through d's inbox, during a cycle.
    let d_inbox: Inbox<u32> = c[3].inbox("inbox").unwrap();
    let collector = after_cycles(0, move || assert_eq!(d_inbox.recv(), Some(1)));
    collector.activate_on(&scheduler);
    run_cycles(&scheduler, 10);
    assert!(collector.is_finished() && collector.panic_message().is_none());
    let woken: Vec<u64> = n.iter().map(Counter::get).collect();
    assert_eq!(woken, [1, 1, 1, 0, 0]);
}

#[test]
fn a_finished_child_wakes_its_parent() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let child_log = log.clone();
    let child = util::body(move |cx: Cx<NoBoxes>| async move {
        for n in 0..3 {
            child_log.push(format!("child {n}"));
            cx.yield_now().await;
        }
        child_log.push("child ends");
    });
    let parent_log = log.clone();
    let parent = util::body(move |cx: Cx<NoBoxes>| async move {
        cx.add_children([&child]);
        cx.pause();
        cx.yield_(NewComponent::new([child.clone()])).await;
        parent_log.push(format!(
            "parent woken, child finished: {}",
            child.is_finished()
        ));
        cx.idle().await;
        parent_log.push("parent woken again");
    });
    parent.activate_on(&scheduler);
    run_cycles(&scheduler, 10);
    assert_eq!(
        log.entries(),
        [
            "child 0",
            "child 1",
            "child 2",
            "child ends",
            "parent woken, child finished: true"
        ]
    );
    assert!(parent.is_paused(), "nothing else wakes it");
}

#[test]
fn pause_takes_effect_at_the_next_yield() {
    let scheduler = Scheduler::new();
    let log = Log::new();
    let l = log.clone();
    let c = util::body(move |cx: Cx<NoBoxes>| async move {
        l.push("before");
        cx.pause();
        l.push("after pause, same turn");
        cx.yield_now().await;
        l.push("resumed");
    });
    c.activate_on(&scheduler);
    start(&scheduler);
    assert!(log.entries().is_empty(), "the first cycle only queues it");
    run_cycles(&scheduler, 1);
    assert_eq!(log.entries(), ["before", "after pause, same turn"]);
    run_cycles(&scheduler, 5);
    assert_eq!(log.len(), 2, "paused from the yield on");
    assert!(c.is_paused());
    c.unpause();
    // A wake between cycles queues it at the end of the next cycle, and it runs
    // (and ends) in the one after.
    run_cycles(&scheduler, 1);
    assert_eq!(log.len(), 2, "only queued");
    assert!(!scheduler.run_cycle());
    assert_eq!(
        log.entries(),
        ["before", "after pause, same turn", "resumed"]
    );
}

#[test]
fn a_wake_later_in_the_cycle_than_the_pause_wins() {
    let scheduler = Scheduler::new();
    // Activated first: pauses in cycle 2 (its first turn) before the producer
    // runs.
    let (consumer, woken) = unpause_detectors(&scheduler, 1).remove(0);
    let feeder = util::body(|_: Cx<Standard<(), u32>>| async {});
    feeder
        .link((&feeder, "outbox"), (&consumer, "inbox"))
        .unwrap();
    let outbox: Outbox<u32> = feeder.outbox("outbox").unwrap();
    let producer = after_cycles(0, move || outbox.try_send(1).unwrap());
    producer.activate_on(&scheduler);

    start(&scheduler);
    run_cycles(&scheduler, 1);
    assert!(!consumer.is_paused(), "the pause was not granted");
    run_cycles(&scheduler, 1);
    assert_eq!(woken.get(), 1, "it ran again in cycle 3");
    run_cycles(&scheduler, 5);
    assert_eq!(woken.get(), 1);
    assert!(consumer.is_paused());
}

#[test]
fn a_wake_earlier_in_the_cycle_than_the_pause_wins() {
    let scheduler = Scheduler::new();
    let (sleeper, resumes) = util::pause_every_turn();
    // Activated first: wakes the sleeper in cycle 2 (their first turn), before
    // the sleeper asks to pause in the same cycle.
    let s = sleeper.clone();
    let waker = after_cycles(0, move || s.unpause());
    waker.activate_on(&scheduler);
    sleeper.activate_on(&scheduler);

    start(&scheduler);
    run_cycles(&scheduler, 1);
    assert_eq!(resumes.get(), 1);
    assert!(!sleeper.is_paused(), "the earlier wake still counts");
    run_cycles(&scheduler, 1);
    assert_eq!(resumes.get(), 2);
    run_cycles(&scheduler, 5);
    assert_eq!(resumes.get(), 2, "then the pause is granted");
    assert!(sleeper.is_paused());
}

#[test]
fn a_wake_between_cycles_resumes_a_paused_component_once() {
    // Axon queues wakes and applies them at the end of the cycle in which they
    // were made; the component then runs once, pauses, and that pause is
    // granted. The wake must not also cancel the pause the component makes in
    // the cycle it was woken for.
    let scheduler = Scheduler::new();
    let (c, woken) = unpause_detectors(&scheduler, 1).remove(0);
    run_cycles(&scheduler, 3);

    c.unpause();
    run_cycles(&scheduler, 1);
    assert_eq!(woken.get(), 0, "the wake only queues it in the next cycle");
    run_cycles(&scheduler, 1);
    assert_eq!(woken.get(), 1, "it runs in the cycle after");
    run_cycles(&scheduler, 4);
    assert_eq!(woken.get(), 1, "one unpause, one resume");
    assert!(c.is_paused());

    c.inbox::<u32>("inbox").unwrap().deliver(1).unwrap();
    run_cycles(&scheduler, 5);
    assert_eq!(woken.get(), 2, "one delivery, one resume");
}

#[test]
fn a_collection_from_an_inbox_with_ten_thousand_sources_resumes_only_the_sender() {
    let scheduler = Scheduler::new();
    let (sink, _) = unpause_detectors(&scheduler, 1).remove(0);
    let sources = unpause_detectors(&scheduler, 10_000);
    for (source, _) in &sources {
        source.link((source, "outbox"), (&sink, "inbox")).unwrap();
    }
    run_cycles(&scheduler, 3);
    for (_, count) in &sources {
        count.set(0);
    }
    let (sender, sender_count) = &sources[4321];
    sender.outbox::<u32>("outbox").unwrap().try_send(9).unwrap();
    run_cycles(&scheduler, 3);

    assert_eq!(sink.inbox::<u32>("inbox").unwrap().recv(), Some(9));
    run_cycles(&scheduler, 3);
    let resumed: u64 = sources.iter().map(|(_, c)| c.get()).sum();
    assert_eq!(
        sender_count.get(),
        1,
        "the sender is woken by the collection"
    );
    assert_eq!(resumed, 1, "no other source is resumed");
}

#[test]
fn an_outbox_linked_in_after_the_send_is_not_woken_by_its_collection() {
    let scheduler = Scheduler::new();
    let (c, n): (Vec<_>, Vec<_>) = unpause_detectors(&scheduler, 3).into_iter().unzip();
    c[0].link((&c[0], "outbox"), (&c[2], "inbox")).unwrap();
    run_cycles(&scheduler, 3);
    c[0].outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
    c[1].link((&c[1], "outbox"), (&c[2], "inbox")).unwrap();
    run_cycles(&scheduler, 3);
    for count in &n {
        count.set(0);
    }
    assert_eq!(c[2].inbox::<u32>("inbox").unwrap().recv(), Some(1));
    run_cycles(&scheduler, 3);
    let woken: Vec<u64> = n.iter().map(Counter::get).collect();
    assert_eq!(woken, [1, 0, 0], "Axon would wake c[1] too");
}

#[test]
fn a_refused_sender_is_woken_by_the_next_collection_however_often_it_was_refused() {
    let scheduler = Scheduler::new();
    let (c, n): (Vec<_>, Vec<_>) = unpause_detectors(&scheduler, 2).into_iter().unzip();
    c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
    let inbox: Inbox<u32> = c[1].inbox("inbox").unwrap();
    inbox.set_size(Some(1));
    run_cycles(&scheduler, 3);
    let outbox: Outbox<u32> = c[0].outbox("outbox").unwrap();
    outbox.try_send(1).unwrap();
    for _ in 0..3 {
        assert!(outbox.try_send(2).is_err());
    }
    run_cycles(&scheduler, 3);
    n[0].set(0);
    assert_eq!(inbox.recv(), Some(1));
    run_cycles(&scheduler, 3);
    assert_eq!(n[0].get(), 1, "woken once, though refused three times");
    assert_eq!(inbox.recv(), None);
    run_cycles(&scheduler, 3);
    assert_eq!(n[0].get(), 1, "an empty collection wakes no one");
}
