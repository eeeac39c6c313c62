//! Overflow policies: what a full inbox does with one more message (refuse
//! it, drop it, or drop the oldest), how drops are counted, whom they wake,
//! and how the policy meets chains, `send().await`, remote senders and drains.

mod util;

use axon::{ComponentRef, Cx, Inbox, Outbox, OverflowPolicy, Scheduler, Standard};
use util::{run_cycles, run_until_done, start, unpause_detectors};

/// A component's `inbox`, limited to `size` and with `policy`.
fn bounded(component: &ComponentRef, size: usize, policy: OverflowPolicy) -> Inbox<u32> {
    let inbox = component.inbox::<u32>("inbox").unwrap();
    inbox.set_size(Some(size));
    inbox.set_overflow(policy);
    inbox
}

/// A plain component's `outbox`, linked to `sink`'s `inbox`.
fn feeding(sink: &ComponentRef) -> (ComponentRef, Outbox<u32>) {
    let feeder = util::plain::<(), u32>();
    feeder.link((&feeder, "outbox"), (sink, "inbox")).unwrap();
    let outbox = feeder.outbox("outbox").unwrap();
    (feeder, outbox)
}

#[test]
fn refuse_is_the_default_and_drops_nothing() {
    let consumer = util::plain::<u32, ()>();
    let inbox = consumer.inbox::<u32>("inbox").unwrap();
    inbox.set_size(Some(2));
    assert_eq!(inbox.overflow(), OverflowPolicy::Refuse);
    let (_feeder, outbox) = feeding(&consumer);
    outbox.try_send(1).unwrap();
    outbox.try_send(2).unwrap();
    assert_eq!(outbox.try_send(3).unwrap_err().into_inner(), 3);
    assert_eq!(inbox.deliver(4).unwrap_err().into_inner(), 4);
    assert_eq!(inbox.dropped(), 0);
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn drop_newest_keeps_what_was_queued_and_counts_what_it_drops() {
    let consumer = util::plain::<u32, ()>();
    let inbox = bounded(&consumer, 3, OverflowPolicy::DropNewest);
    let (_feeder, outbox) = feeding(&consumer);
    for n in 0..10 {
        outbox.try_send(n).unwrap();
    }
    inbox.deliver(10).unwrap();
    assert_eq!(inbox.dropped(), 8);
    assert_eq!(consumer.inbox_dropped("inbox").unwrap(), 8);
    assert_eq!(inbox.recv(), Some(0));
    outbox.try_send(11).unwrap(); // room again
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [1, 2, 11]);
    assert_eq!(inbox.dropped(), 8);
}

#[test]
fn drop_oldest_keeps_the_newest_and_counts_what_it_drops() {
    let consumer = util::plain::<u32, ()>();
    let inbox = bounded(&consumer, 3, OverflowPolicy::DropOldest);
    let (_feeder, outbox) = feeding(&consumer);
    for n in 0..10 {
        outbox.try_send(n).unwrap();
    }
    inbox.deliver(10).unwrap();
    assert_eq!(inbox.dropped(), 8);
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [8, 9, 10]);
}

#[test]
fn drop_oldest_under_a_lowered_limit_comes_back_down_to_it() {
    let consumer = util::plain::<u32, ()>();
    let inbox = bounded(&consumer, 10, OverflowPolicy::DropOldest);
    for n in 0..6 {
        inbox.deliver(n).unwrap();
    }
    inbox.set_size(Some(2));
    inbox.deliver(6).unwrap();
    assert_eq!(inbox.dropped(), 5);
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [5, 6]);
    // A limit of nothing lets nothing in.
    inbox.set_size(Some(0));
    inbox.deliver(7).unwrap();
    assert_eq!((inbox.len(), inbox.dropped()), (0, 6));
}

#[test]
fn with_a_drop_policy_send_await_never_waits() {
    for policy in [OverflowPolicy::DropNewest, OverflowPolicy::DropOldest] {
        let scheduler = Scheduler::new();
        let consumer = util::plain::<u32, ()>();
        let inbox = bounded(&consumer, 4, policy);
        let producer = util::body(|cx: Cx<Standard<(), u32>>| async move {
            for n in 0..1000 {
                cx.outbox.send(n).await;
            }
        });
        producer
            .link((&producer, "outbox"), (&consumer, "inbox"))
            .unwrap();
        producer.activate_on(&scheduler);
        // Its first turn sends all 1000 and ends: no turn spent waiting.
        start(&scheduler);
        assert_eq!(run_until_done(&scheduler, 10), 1, "{policy:?}");
        assert!(producer.is_finished() && producer.panic_message().is_none());
        assert_eq!(inbox.dropped(), 996, "{policy:?}");
        let kept: Vec<u32> = inbox.drain().collect();
        let expected: Vec<u32> = match policy {
            OverflowPolicy::DropNewest => (0..4).collect(),
            _ => (996..1000).collect(),
        };
        assert_eq!(kept, expected);
    }
}

/// A detector's `inbox`, bounded and full of `[1, 2]`, fed from a fresh
/// outbox, with the detector paused and its wake count reset.
fn full_paused_consumer(
    policy: OverflowPolicy,
) -> (Scheduler, ComponentRef, util::Counter, Outbox<u32>) {
    let scheduler = Scheduler::new();
    let (consumer, woken) = unpause_detectors(&scheduler, 1).remove(0);
    let inbox = bounded(&consumer, 2, policy);
    let (feeder, outbox) = feeding(&consumer);
    inbox.deliver(1).unwrap();
    inbox.deliver(2).unwrap();
    run_cycles(&scheduler, 4);
    assert!(consumer.is_paused());
    woken.set(0);
    drop(feeder);
    (scheduler, consumer, woken, outbox)
}

#[test]
fn a_dropped_message_wakes_no_one() {
    let (scheduler, consumer, woken, outbox) = full_paused_consumer(OverflowPolicy::DropNewest);
    outbox.try_send(3).unwrap();
    consumer.inbox::<u32>("inbox").unwrap().deliver(4).unwrap();
    run_cycles(&scheduler, 4);
    assert_eq!(woken.get(), 0, "nothing arrived");
    assert!(consumer.is_paused());
}

#[test]
fn a_message_let_in_by_drop_oldest_wakes_the_owner() {
    let (scheduler, consumer, woken, outbox) = full_paused_consumer(OverflowPolicy::DropOldest);
    outbox.try_send(3).unwrap();
    run_cycles(&scheduler, 4);
    assert_eq!(woken.get(), 1);
    let inbox = consumer.inbox::<u32>("inbox").unwrap();
    inbox.deliver(4).unwrap();
    run_cycles(&scheduler, 4);
    assert_eq!(woken.get(), 2);
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [3, 4]);
    assert_eq!(inbox.dropped(), 2);
}

#[test]
fn a_sender_whose_message_was_dropped_is_not_woken_by_a_collection() {
    let scheduler = Scheduler::new();
    let mut detectors = unpause_detectors(&scheduler, 2);
    let (consumer, _) = detectors.remove(1);
    let (producer, producer_woken) = detectors.remove(0);
    let inbox = bounded(&consumer, 1, OverflowPolicy::DropNewest);
    inbox.deliver(1).unwrap();
    producer
        .link((&producer, "outbox"), (&consumer, "inbox"))
        .unwrap();
    run_cycles(&scheduler, 4);
    producer_woken.set(0);
    producer
        .outbox::<u32>("outbox")
        .unwrap()
        .try_send(2)
        .unwrap();
    assert_eq!(inbox.recv(), Some(1));
    run_cycles(&scheduler, 4);
    assert_eq!(producer_woken.get(), 0, "its message never went in");
    assert_eq!(inbox.dropped(), 1);
}

#[test]
fn only_the_final_inbox_of_a_chain_applies_its_policy() {
    // parent.inbox -> child.inbox: the parent's policy waits for the unlink.
    let parent = util::plain::<u32, ()>();
    let child = util::plain::<u32, ()>();
    let outer = bounded(&parent, 1, OverflowPolicy::DropNewest);
    let inner = bounded(&child, 2, OverflowPolicy::DropOldest);
    let link = parent.link((&parent, "inbox"), (&child, "inbox")).unwrap();
    for n in 0..5 {
        outer.deliver(n).unwrap();
    }
    assert_eq!((outer.dropped(), inner.dropped()), (0, 3));
    assert_eq!(inner.drain().collect::<Vec<_>>(), [3, 4]);
    parent.unlink(&link);
    for n in 5..8 {
        outer.deliver(n).unwrap();
    }
    assert_eq!((outer.dropped(), inner.dropped()), (2, 3));
    assert_eq!(outer.drain().collect::<Vec<_>>(), [5]);
}

#[test]
fn messages_moved_by_a_link_are_never_dropped() {
    let parent = util::plain::<u32, ()>();
    let child = util::plain::<u32, ()>();
    let outer = parent.inbox::<u32>("inbox").unwrap();
    let inner = bounded(&child, 1, OverflowPolicy::DropNewest);
    for n in 0..3 {
        outer.deliver(n).unwrap();
    }
    parent.link((&parent, "inbox"), (&child, "inbox")).unwrap();
    assert_eq!(inner.dropped(), 0, "they were accepted once already");
    assert_eq!(inner.drain().collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn a_drain_gives_back_without_dropping() {
    let consumer = util::plain::<u32, ()>();
    let inbox = bounded(&consumer, 2, OverflowPolicy::DropOldest);
    inbox.deliver(1).unwrap();
    inbox.deliver(2).unwrap();
    let mut drain = inbox.drain();
    assert_eq!(drain.next(), Some(1));
    for n in 3..6 {
        inbox.deliver(n).unwrap(); // the drain took the room: 3 goes in
    }
    assert_eq!(inbox.dropped(), 1);
    drop(drain);
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [2, 4, 5]);
    assert_eq!(inbox.dropped(), 1);
}

/// Sends `0..n` through `inbox`'s remote sender from another thread, and
/// runs the scheduler until a `u32::MAX` sent last has been pumped in.
fn from_another_thread(scheduler: &Scheduler, inbox: &Inbox<u32>, n: u32) {
    let remote = inbox.remote_sender().unwrap();
    std::thread::spawn(move || {
        for m in 0..n {
            remote.send(m);
        }
        remote.send(u32::MAX);
    })
    .join()
    .unwrap();
    // The pump runs in the scheduler's cycle; one cycle moves all of it.
    run_cycles(scheduler, 2);
}

#[test]
fn remote_senders_pass_a_refusing_limit_but_not_a_dropping_one() {
    let scheduler = Scheduler::new();
    let idler = || {
        let c = util::body(|cx: Cx<Standard<u32, ()>>| async move {
            loop {
                cx.idle().await;
            }
        });
        c.activate_on(&scheduler);
        c
    };
    let (refusing, dropping) = (idler(), idler());
    let refusing_inbox = bounded(&refusing, 3, OverflowPolicy::Refuse);
    let dropping_inbox = bounded(&dropping, 3, OverflowPolicy::DropOldest);
    start(&scheduler);
    from_another_thread(&scheduler, &refusing_inbox, 9);
    from_another_thread(&scheduler, &dropping_inbox, 9);
    assert_eq!(
        refusing_inbox.len(),
        10,
        "past the limit: nothing to hand back"
    );
    assert_eq!(refusing_inbox.dropped(), 0);
    assert_eq!(dropping_inbox.drain().collect::<Vec<_>>(), [7, 8, u32::MAX]);
    assert_eq!(dropping_inbox.dropped(), 7);
}
