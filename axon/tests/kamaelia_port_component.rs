// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_Component.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * Boxes are typed. The default box set is `Standard<I, O>`; its `control`
//   and `signal` boxes carry `axon::ipc::Ipc`, so where the original sends
//   strings on `signal` the port sends `Ipc` messages.
// * Sends and receives made from outside a body use the typed handles
//   (`ComponentRef::outbox(..).try_send`, `ComponentRef::inbox(..).recv`).
// * Python's IndexError on an empty `recv` is `None`.
// * The original's test_send pops messages back out of the (linked) outbox; an
//   axon outbox has no storage, so the port collects them from the inbox it is
//   linked to, which is where Axon's pop really takes them from.
// * test_removeChild and test_link replaced the postoffice with a recording
//   fake. The port checks the observable effect instead: the linkages that
//   involve the child are gone (and only those), and the child no longer wakes
//   its former parent.
// * test_linkagesRemovedOnComponentShutdown calls the Python-internal
//   `_closeDownMicroprocess()`; the port lets the scheduler close the component
//   down, by letting its body return.
// * MessageDeliveryNotifications: "run for a while" is 100 scheduler cycles
//   (`Scheduler::run_cycle`); the scheduler is stepped per cycle rather than
//   per microprocess.
// * test___str__strict / relaxed check `Display` (`Kind#number`), which is
//   axon's string form of a component.
//
// Not ported:
//
// * test___addChild: the original is an empty placeholder.
// * test_main_smokeTest, test_main_closedowntest, test_initialiseComponent,
//   test_mainBody, test_closeDownComponent: the legacy
//   initialiseComponent/mainBody/closeDownComponent API is Python-only; an axon
//   component has a single `main`.
// * test__closeDownMicroprocess_smoketest / _None: they check that a
//   Python-internal hook returns None (no knock-on); axon has no knock-on values.
// * The `Usescomponents` check in test_SmokeTest_NoArguments: a Python class
//   attribute with no axon counterpart.

//! Ports of Axon's component tests.

mod util;

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Component, ComponentRef, Cx, Direction, Passthrough, Scheduler, Standard};

/// A component that does nothing, with the standard boxes carrying strings.
struct Plain;

impl Component for Plain {
    type Boxes = Standard<String, String>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

/// Two plain components with `tc1`'s `outbox` and `signal` linked to `tc2`'s
/// `inbox` and `control`, the links made by a third (the fixture's owner).
struct Linked {
    _owner: ComponentRef,
    tc1: ComponentRef,
    tc2: ComponentRef,
}

fn linked_pair() -> Linked {
    let owner = ComponentRef::new(Plain);
    let tc1 = ComponentRef::new(Plain);
    let tc2 = ComponentRef::new(Plain);
    owner.link((&tc1, "outbox"), (&tc2, "inbox")).unwrap();
    owner.link((&tc1, "signal"), (&tc2, "control")).unwrap();
    Linked {
        _owner: owner,
        tc1,
        tc2,
    }
}

fn send_str(c: &ComponentRef, box_name: &str, msg: &str) {
    c.outbox::<String>(box_name)
        .unwrap()
        .try_send(msg.to_string())
        .unwrap();
}

fn recv_str(c: &ComponentRef, box_name: &str) -> Option<String> {
    c.inbox::<String>(box_name).unwrap().recv()
}

mod component_test {
    use super::*;

    #[test]
    fn smoke_test_no_arguments() {
        let c = ComponentRef::new(Plain);
        let inboxes: Vec<String> = c.inboxes().into_iter().map(|b| b.name).collect();
        let outboxes: Vec<String> = c.outboxes().into_iter().map(|b| b.name).collect();
        assert_eq!(inboxes, ["inbox", "control"]);
        assert_eq!(outboxes, ["outbox", "signal"]);
        for info in c.inboxes() {
            assert_eq!(info.direction, Direction::Inbox);
            assert!(!info.doc.is_empty(), "{} has a doc string", info.name);
        }
        assert!(c.inbox::<String>("inbox").unwrap().is_empty());
        assert!(c.inbox::<Ipc>("control").unwrap().is_empty());
        assert!(!c.outbox::<String>("outbox").unwrap().is_linked());
        assert!(!c.outbox::<Ipc>("signal").unwrap().is_linked());
        assert!(c.child_components().is_empty());
        assert!(c.any_ready().is_none());
    }

    #[test]
    fn str_strict() {
        let t = linked_pair().tc1;
        assert_eq!(t.to_string(), format!("Plain#{}", t.id().number()));
    }

    #[test]
    fn str_relaxed() {
        let t = linked_pair().tc2;
        let s = t.to_string();
        assert!(s.contains("Plain"), "{s} names the component's kind");
        assert!(
            s.contains(&t.id().number().to_string()),
            "{s} names the component"
        );
    }

    #[test]
    fn add_children() {
        let parent = ComponentRef::new(Plain);
        let child1 = ComponentRef::new(Plain);
        let child2 = ComponentRef::new(Plain);
        parent.add_children([&child1, &child2]);
        let children = parent.child_components();
        assert_eq!(children.iter().filter(|c| **c == child1).count(), 1);
        assert_eq!(children.iter().filter(|c| **c == child2).count(), 1);
        assert_eq!(children.len(), 2);
        assert!(
            !child1.is_activated(),
            "adding a child does not activate it"
        );
    }

    #[test]
    fn remove_child() {
        let scheduler = Scheduler::new();
        let parent_wakes = util::Counter::new();
        let parent = ComponentRef::new(util::UnpauseDetector {
            unpaused: parent_wakes.clone(),
        });
        let child = ComponentRef::new(Plain);
        let other = ComponentRef::new(Plain);
        let to_child = parent.link((&other, "outbox"), (&child, "inbox")).unwrap();
        let unrelated = parent
            .link((&other, "signal"), (&other, "control"))
            .unwrap();
        parent.add_children([&child]);

        parent.remove_child(&child);
        assert!(parent.child_components().is_empty());
        assert!(!to_child.is_live(), "links involving the child are removed");
        assert!(unrelated.is_live(), "other links stay");
        assert_eq!(parent.linkages(), [unrelated]);

        // The former child's end no longer wakes the former parent.
        parent.activate_on(&scheduler);
        child.activate_on(&scheduler);
        util::run_cycles(&scheduler, 5);
        assert!(child.is_finished());
        assert_eq!(parent_wakes.get(), 0);
    }

    #[test]
    fn child_components() {
        let parent = ComponentRef::new(Plain);
        let children: Vec<ComponentRef> = (0..3).map(|_| ComponentRef::new(Plain)).collect();
        parent.add_children(&children);
        let list = parent.child_components();
        for child in &children {
            assert_eq!(list.iter().filter(|c| *c == child).count(), 1);
        }
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn data_ready() {
        let t = linked_pair();
        let inbox = t.tc2.inbox::<String>("inbox").unwrap();
        assert!(!inbox.data_ready());
        send_str(&t.tc1, "outbox", "a");
        assert!(inbox.data_ready());
        inbox.recv();
        assert!(!inbox.data_ready());
        send_str(&t.tc1, "outbox", "b");
        send_str(&t.tc1, "outbox", "c");
        assert!(inbox.data_ready());
        inbox.recv();
        assert!(inbox.data_ready(), "one of two left");
        inbox.recv();
        assert!(!inbox.data_ready());

        let control = t.tc2.inbox::<Ipc>("control").unwrap();
        let signal = t.tc1.outbox::<Ipc>("signal").unwrap();
        assert!(!control.data_ready());
        signal.try_send(ProducerFinished::new().into()).unwrap();
        assert!(control.data_ready());
        control.recv();
        assert!(!control.data_ready());
        signal.try_send(ProducerFinished::new().into()).unwrap();
        signal.try_send(ShutdownMicroprocess::new().into()).unwrap();
        assert!(control.data_ready());
        control.recv();
        assert!(control.data_ready(), "one of two left");
        control.recv();
        assert!(!control.data_ready());
    }

    #[test]
    fn link() {
        let parent = ComponentRef::new(Plain);
        let ac = ComponentRef::new(Plain);
        let bc = ComponentRef::new(Plain);
        parent.add_children([&ac, &bc]);

        parent.link((&ac, "outbox"), (&bc, "inbox")).unwrap();
        parent.link((&bc, "outbox"), (&parent, "outbox")).unwrap();
        parent.link((&parent, "inbox"), (&ac, "inbox")).unwrap();

        let l = parent.linkages();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].source_pair(), (ac.id(), "outbox"));
        assert_eq!(l[0].sink_pair(), (bc.id(), "inbox"));
        assert_eq!(l[0].passthrough(), Passthrough::Normal);
        assert_eq!(l[1].source_pair(), (bc.id(), "outbox"));
        assert_eq!(l[1].sink_pair(), (parent.id(), "outbox"));
        assert_eq!(l[1].passthrough(), Passthrough::Outbox);
        assert_eq!(l[2].source_pair(), (parent.id(), "inbox"));
        assert_eq!(l[2].sink_pair(), (ac.id(), "inbox"));
        assert_eq!(l[2].passthrough(), Passthrough::Inbox);
    }

    #[test]
    fn recv() {
        let t = linked_pair();
        assert_eq!(recv_str(&t.tc2, "inbox"), None, "empty box");
        send_str(&t.tc1, "outbox", "inbox1");
        send_str(&t.tc1, "outbox", "inbox2");
        assert_eq!(recv_str(&t.tc2, "inbox").as_deref(), Some("inbox1"));
        assert_eq!(recv_str(&t.tc2, "inbox").as_deref(), Some("inbox2"));
        assert_eq!(recv_str(&t.tc2, "inbox"), None);

        let control = t.tc2.inbox::<Ipc>("control").unwrap();
        let signal = t.tc1.outbox::<Ipc>("signal").unwrap();
        assert!(control.recv().is_none());
        signal.try_send(ProducerFinished::new().into()).unwrap();
        signal.try_send(ShutdownMicroprocess::new().into()).unwrap();
        assert!(control.recv().unwrap().is_producer_finished());
        assert!(control.recv().unwrap().is_shutdown_microprocess());
        assert!(control.recv().is_none());
    }

    #[test]
    fn send() {
        let t = linked_pair();
        send_str(&t.tc1, "outbox", "ba");
        assert_eq!(recv_str(&t.tc2, "inbox").as_deref(), Some("ba"));

        let signal = t.tc1.outbox::<Ipc>("signal").unwrap();
        let control = t.tc2.inbox::<Ipc>("control").unwrap();
        signal.try_send(ProducerFinished::new().into()).unwrap();
        signal.try_send(ShutdownMicroprocess::new().into()).unwrap();
        assert!(control.recv().unwrap().is_producer_finished(), "in order");
        assert!(
            control.recv().unwrap().is_shutdown_microprocess(),
            "in order"
        );

        let outbox = t.tc1.outbox::<String>("outbox").unwrap();
        let inbox = t.tc2.inbox::<String>("inbox").unwrap();
        for x in 0..1000 {
            outbox.try_send(x.to_string()).unwrap();
            assert_eq!(inbox.recv(), Some(x.to_string()));
        }
    }

    #[test]
    fn linkages_removed_on_component_shutdown() {
        let a = ComponentRef::new(Plain);
        let b = ComponentRef::new(Plain);
        let c = ComponentRef::new(Plain);
        let d = ComponentRef::new(Plain);

        c.link((&a, "outbox"), (&b, "inbox")).unwrap();
        c.link((&c, "outbox"), (&b, "outbox")).unwrap();
        c.link((&c, "inbox"), (&a, "inbox")).unwrap();

        d.link((&d, "outbox"), (&c, "inbox")).unwrap();
        d.link((&b, "outbox"), (&d, "inbox")).unwrap();

        // The links all work.
        send_str(&d, "outbox", "hello");
        assert_eq!(recv_str(&a, "inbox").as_deref(), Some("hello"));
        send_str(&c, "outbox", "hello");
        assert_eq!(recv_str(&d, "inbox").as_deref(), Some("hello"));
        send_str(&a, "outbox", "hello");
        assert_eq!(recv_str(&b, "inbox").as_deref(), Some("hello"));

        // c's body returns at once: the scheduler closes it down.
        let scheduler = Scheduler::new();
        c.activate_on(&scheduler);
        util::start(&scheduler);
        assert!(!c.is_finished(), "the first cycle only queues it");
        assert!(!scheduler.run_cycle());
        assert!(c.is_finished());
        assert!(c.linkages().is_empty());

        // c's links are gone; d's remain.
        let data_ready = |x: &ComponentRef| x.inbox::<String>("inbox").unwrap().data_ready();
        send_str(&d, "outbox", "bye");
        assert_eq!(recv_str(&c, "inbox").as_deref(), Some("bye"));
        assert!(!data_ready(&a));
        send_str(&c, "outbox", "bye");
        assert!(!data_ready(&d));
        send_str(&b, "outbox", "bye");
        assert!(data_ready(&d));
        send_str(&a, "outbox", "bye");
        assert!(!data_ready(&b));
    }
}

mod message_delivery_notifications_test {
    use super::*;
    use util::{run_for_a_while, unpause_detectors, Counter};

    /// A scheduler with `n` unpause detectors on it.
    fn init_components(n: usize) -> (Scheduler, Vec<ComponentRef>, Vec<Counter>) {
        let scheduler = Scheduler::new();
        let (components, counts) = unpause_detectors(&scheduler, n).into_iter().unzip();
        (scheduler, components, counts)
    }

    fn send(c: &ComponentRef) {
        c.outbox::<u32>("outbox").unwrap().try_send(7).unwrap();
    }

    fn collect(c: &ComponentRef) {
        assert_eq!(c.inbox::<u32>("inbox").unwrap().recv(), Some(7));
    }

    fn reset(counts: &[Counter]) {
        for c in counts {
            c.set(0);
        }
    }

    fn unpaused(counts: &[Counter]) -> Vec<u64> {
        counts.iter().map(Counter::get).collect()
    }

    #[test]
    fn nothing_happens_if_nothing_happens() {
        let (s, c, n) = init_components(2);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        c[1].link((&c[1], "outbox"), (&c[0], "inbox")).unwrap();
        assert_eq!(unpaused(&n), [0, 0]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [0, 0]);
    }

    #[test]
    fn consumer_woken_by_delivery() {
        let (s, c, n) = init_components(2);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        assert_eq!(n[1].get(), 1);
    }

    #[test]
    fn producer_not_woken_by_delivery() {
        let (s, c, n) = init_components(2);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        assert_eq!(n[0].get(), 0);
    }

    #[test]
    fn producer_woken_by_collection() {
        let (s, c, n) = init_components(2);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        collect(&c[1]);
        run_for_a_while(&s);
        assert_eq!(n[0].get(), 1);
    }

    #[test]
    fn chain_only_final_destination_notified() {
        let (s, c, n) = init_components(4);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        c[1].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        c[2].link((&c[2], "inbox"), (&c[3], "inbox")).unwrap();
        run_for_a_while(&s);
        reset(&n);
        send(&c[0]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [0, 0, 0, 1]);
    }

    #[test]
    fn chain_only_outbox_holders_notified() {
        let (s, c, n) = init_components(4);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        c[1].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        c[2].link((&c[2], "inbox"), (&c[3], "inbox")).unwrap();
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        reset(&n);
        collect(&c[3]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [1, 0, 0, 0]);
    }

    /// a.outbox -> b.outbox -> c.outbox -> d.inbox -> e.inbox, returning the
    /// linkages in that order.
    fn five_chain(c: &[ComponentRef]) -> Vec<axon::Linkage> {
        vec![
            c[0].link((&c[0], "outbox"), (&c[1], "outbox")).unwrap(),
            c[1].link((&c[1], "outbox"), (&c[2], "outbox")).unwrap(),
            c[2].link((&c[2], "outbox"), (&c[3], "inbox")).unwrap(),
            c[3].link((&c[3], "inbox"), (&c[4], "inbox")).unwrap(),
        ]
    }

    #[test]
    fn all_outbox_owners_notified() {
        let (s, c, n) = init_components(5);
        five_chain(&c);
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        reset(&n);
        // Collected through d's (forwarded) inbox: taken from e's.
        collect(&c[3]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [1, 1, 1, 0, 0]);
    }

    /// Axon wakes the outboxes upstream of the inbox when the message is
    /// collected (here only c, a and b having been cut off). Here the sender
    /// is woken, with the outboxes it is linked through when the message is
    /// collected (a and b); c, which sent nothing, is not. A documented
    /// difference (see the crate's `boxes::inbox` docs).
    #[test]
    fn link_broken_no_notify() {
        let (s, c, n) = init_components(5);
        let links = five_chain(&c);
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        c[1].unlink(&links[1]);
        run_for_a_while(&s);
        reset(&n);
        collect(&c[3]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [1, 1, 0, 0, 0]);
    }

    #[test]
    fn link_reestablished_notify() {
        let (s, c, n) = init_components(5);
        let links = five_chain(&c);
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        c[1].unlink(&links[1]);
        run_for_a_while(&s);
        c[1].link((&c[1], "outbox"), (&c[2], "outbox")).unwrap();
        run_for_a_while(&s);
        reset(&n);
        collect(&c[3]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [1, 1, 1, 0, 0]);
    }

    /// Axon also wakes an outbox linked in after the send, which never sent
    /// (f here). Here it is not woken: only senders are, so that an inbox with
    /// ten thousand sources wakes one per message, not ten thousand. A
    /// documented difference.
    #[test]
    fn link_newly_eestablished_notify() {
        let (s, c, n) = init_components(6);
        five_chain(&c);
        run_for_a_while(&s);
        send(&c[0]);
        run_for_a_while(&s);
        run_for_a_while(&s);
        c[5].link((&c[5], "outbox"), (&c[2], "outbox")).unwrap();
        run_for_a_while(&s);
        reset(&n);
        collect(&c[3]);
        run_for_a_while(&s);
        assert_eq!(unpaused(&n), [1, 1, 1, 0, 0, 0]);
    }
}
