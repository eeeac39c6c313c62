//! Reading inboxes: `any_ready` names the first inbox with data in declaration
//! order, and `drain` takes everything, putting back what an abandoned drain
//! did not hand out. `recv_until_finished` hands out everything sent before
//! `control` spoke, however far behind the reader is, sleeping while `inbox`
//! is empty; `next` sleeps until a message comes.

mod util;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{ComponentRef, Cx, Inbox, Scheduler, Standard};

type Boxes = Standard<u32, u32>;

axon::boxes! {
    /// Three inboxes, declared in an order that is not alphabetical.
    struct Three {
        /// Declared first.
        inbox zulu: u32,
        /// Declared second.
        inbox alpha: u32,
        /// Declared third.
        inbox mike: u32,
    }
}

fn plain() -> ComponentRef {
    util::plain::<u32, u32>()
}

#[test]
fn any_ready_names_the_first_inbox_with_data_in_declaration_order() {
    let c = plain();
    assert_eq!(c.any_ready(), None);
    c.inbox::<Ipc>("control")
        .unwrap()
        .deliver(ProducerFinished::new().into())
        .unwrap();
    assert_eq!(c.any_ready().as_deref(), Some("control"));
    c.inbox::<u32>("inbox").unwrap().deliver(1).unwrap();
    assert_eq!(
        c.any_ready().as_deref(),
        Some("inbox"),
        "declared before control"
    );

    let t = util::body(|_: Cx<Three>| async {});
    t.inbox::<u32>("mike").unwrap().deliver(1).unwrap();
    assert_eq!(t.any_ready().as_deref(), Some("mike"));
    t.inbox::<u32>("alpha").unwrap().deliver(1).unwrap();
    assert_eq!(t.any_ready().as_deref(), Some("alpha"));
    t.inbox::<u32>("zulu").unwrap().deliver(1).unwrap();
    assert_eq!(t.any_ready().as_deref(), Some("zulu"));
    t.inbox::<u32>("zulu").unwrap().recv();
    assert_eq!(t.any_ready().as_deref(), Some("alpha"));
}

#[test]
fn any_ready_inside_a_body_agrees() {
    util::run_in_body(|cx: Cx<Three>| async move {
        assert_eq!(cx.any_ready(), None);
        cx.mike.deliver(3).unwrap();
        cx.alpha.deliver(2).unwrap();
        assert_eq!(cx.any_ready().as_deref(), Some("alpha"));
    });
}

#[test]
fn drain_takes_every_message_in_order() {
    let c = plain();
    let inbox: Inbox<u32> = c.inbox("inbox").unwrap();
    for n in 1..=5 {
        inbox.deliver(n).unwrap();
    }
    let drain = inbox.drain();
    assert_eq!(drain.len(), 5);
    assert!(inbox.is_empty(), "taken at once");
    assert_eq!(drain.collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert!(inbox.is_empty());
    assert_eq!(inbox.drain().count(), 0);
}

#[test]
fn an_abandoned_drain_puts_the_rest_back_at_the_front_in_order() {
    let c = plain();
    let inbox: Inbox<u32> = c.inbox("inbox").unwrap();
    for n in 1..=5 {
        inbox.deliver(n).unwrap();
    }
    let mut drain = inbox.drain();
    assert_eq!(drain.next(), Some(1));
    assert_eq!(drain.next(), Some(2));
    inbox.deliver(6).unwrap(); // arrives while the drain is under way
    drop(drain);
    let rest: Vec<u32> = std::iter::from_fn(|| inbox.recv()).collect();
    assert_eq!(rest, [3, 4, 5, 6]);
}

#[test]
fn an_abandoned_drain_in_a_body_loses_nothing() {
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    let seen = util::Log::new();
    let s = seen.clone();
    let reader = util::body(move |cx: Cx<Boxes>| async move {
        loop {
            // Take at most two messages per turn.
            for m in cx.inbox.drain().take(2) {
                s.push(m.to_string());
            }
            if s.len() == 5 {
                return;
            }
            cx.yield_now().await;
        }
    });
    let inbox: Inbox<u32> = reader.inbox("inbox").unwrap();
    for n in 1..=5 {
        inbox.deliver(n).unwrap();
    }
    reader.activate_on(&scheduler);
    util::run_until_done(&scheduler, 10);
    assert_eq!(seen.entries(), ["1", "2", "3", "4", "5"]);
}

/// The reproduction from the core-at-scale issue: a drain dropped part-way,
/// after its inbox was linked onward, gives its messages downstream.
#[test]
fn a_partial_drain_dropped_after_a_passthrough_link_gives_the_rest_downstream() {
    let (src, parent, child) = (
        util::plain::<(), u32>(),
        util::plain::<u32, ()>(),
        util::plain::<u32, ()>(),
    );
    src.link((&src, "outbox"), (&parent, "inbox")).unwrap();
    let outbox: axon::Outbox<u32> = src.outbox("outbox").unwrap();
    for n in 1..=3 {
        outbox.try_send(n).unwrap();
    }
    let parent_inbox: axon::Inbox<u32> = parent.inbox("inbox").unwrap();
    let mut drain = parent_inbox.drain();
    assert_eq!(drain.next(), Some(1));
    parent.link((&parent, "inbox"), (&child, "inbox")).unwrap();
    drop(drain);
    outbox.try_send(4).unwrap();

    let child_inbox: axon::Inbox<u32> = child.inbox("inbox").unwrap();
    assert_eq!(child_inbox.drain().collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(parent_inbox.len(), 0);
}

#[test]
fn recv_until_finished_hands_out_everything_queued_before_control_spoke() {
    // The reader is behind: five messages and then the producer's
    // `ProducerFinished` are all queued before it first runs. It gets all five,
    // in order, then `None`, with the `control` message left for it.
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    let seen = util::Log::new();
    let s = seen.clone();
    let reader = util::body(move |cx: Cx<Boxes>| async move {
        while let Some(m) = cx.recv_until_finished().await {
            s.push(m.to_string());
        }
        let left = cx.control.recv();
        s.push(format!(
            "control left: {}",
            left.is_some_and(|m| m.is_producer_finished())
        ));
    });
    let inbox: Inbox<u32> = reader.inbox("inbox").unwrap();
    for n in 1..=5 {
        inbox.deliver(n).unwrap();
    }
    reader
        .inbox::<Ipc>("control")
        .unwrap()
        .deliver(ProducerFinished::new().into())
        .unwrap();
    reader.activate_on(&scheduler);
    util::run_until_done(&scheduler, 10);
    assert_eq!(
        seen.entries(),
        ["1", "2", "3", "4", "5", "control left: true"]
    );
}

#[test]
fn recv_until_finished_sleeps_while_inbox_is_empty_and_a_delivery_wakes_it() {
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    let seen = util::Log::new();
    let s = seen.clone();
    let reader = util::body(move |cx: Cx<Boxes>| async move {
        while let Some(m) = cx.recv_until_finished().await {
            s.push(m.to_string());
        }
        s.push("finished");
    });
    let inbox: Inbox<u32> = reader.inbox("inbox").unwrap();
    let control: Inbox<Ipc> = reader.inbox("control").unwrap();
    reader.activate_on(&scheduler);
    util::run_cycles(&scheduler, 3);
    assert!(reader.is_paused(), "asleep while there is nothing to read");
    inbox.deliver(1).unwrap();
    util::run_cycles(&scheduler, 2);
    assert_eq!(seen.entries(), ["1"]);
    assert!(reader.is_paused(), "asleep again once it has read it");
    // A message on `control` with one more still queued: that one first.
    inbox.deliver(2).unwrap();
    control.deliver(ProducerFinished::new().into()).unwrap();
    util::run_until_done(&scheduler, 10);
    assert_eq!(seen.entries(), ["1", "2", "finished"]);
    assert!(
        control.data_ready(),
        "the control message is left for the body"
    );
}

#[test]
fn next_sleeps_until_a_message_comes() {
    let scheduler = Scheduler::new();
    scheduler.set_fail_fast(true);
    let seen = util::Log::new();
    let s = seen.clone();
    let reader = util::body(move |cx: Cx<Boxes>| async move {
        for _ in 0..2 {
            let m = cx.inbox.next().await;
            s.push(m.to_string());
        }
    });
    let inbox: Inbox<u32> = reader.inbox("inbox").unwrap();
    reader.activate_on(&scheduler);
    util::run_cycles(&scheduler, 3);
    assert!(reader.is_paused(), "asleep while the inbox is empty");
    assert!(seen.entries().is_empty());
    inbox.deliver(7).unwrap();
    inbox.deliver(8).unwrap();
    util::run_until_done(&scheduler, 10);
    assert_eq!(seen.entries(), ["7", "8"]);
}
