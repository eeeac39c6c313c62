//! Where a message goes when it is sent: straight to the final inbox of its
//! chain, in one hop, or nowhere if the outbox leads to no inbox; and what
//! happens to messages already queued when an inbox is linked onward.

mod util;

use axon::{ComponentRef, Postoffice, Scheduler};

/// A component whose standard boxes carry `u32`s; only its boxes are used.
fn plain() -> ComponentRef {
    util::plain::<u32, u32>()
}

/// Every ordering of `items`.
fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

#[test]
fn a_send_reaches_the_end_of_a_chain_in_one_hop_whatever_the_link_order() {
    // a.outbox -> b.outbox -> c.outbox -> d.inbox -> e.inbox
    let orders = permutations(&[0, 1, 2, 3]);
    assert_eq!(orders.len(), 24);
    for order in orders {
        let po = Postoffice::new();
        let c: Vec<ComponentRef> = (0..5).map(|_| plain()).collect();
        let links = [
            ((&c[0], "outbox"), (&c[1], "outbox")),
            ((&c[1], "outbox"), (&c[2], "outbox")),
            ((&c[2], "outbox"), (&c[3], "inbox")),
            ((&c[3], "inbox"), (&c[4], "inbox")),
        ];
        for &i in &order {
            po.link(links[i].0, links[i].1).unwrap();
        }
        let end = c[4].inbox::<u32>("inbox").unwrap();
        // No scheduler runs: arrival is part of the send itself.
        for (n, source) in c[..3].iter().enumerate() {
            source
                .outbox::<u32>("outbox")
                .unwrap()
                .try_send(n as u32)
                .unwrap();
            assert_eq!(end.len(), 1, "link order {order:?}, sent from {n}");
            assert!(
                c[3].inbox::<u32>("inbox").unwrap().is_empty(),
                "nothing stops halfway"
            );
            assert_eq!(end.recv(), Some(n as u32));
        }
        c[3].inbox::<u32>("inbox").unwrap().deliver(9).unwrap();
        assert_eq!(end.recv(), Some(9), "link order {order:?}");
    }
}

#[test]
fn an_unlinked_outbox_drops_the_message() {
    let (a, b) = (plain(), plain());
    let outbox = a.outbox::<u32>("outbox").unwrap();
    assert!(!outbox.is_linked());
    outbox.try_send(1).unwrap();
    a.link((&a, "outbox"), (&b, "inbox")).unwrap();
    let inbox = b.inbox::<u32>("inbox").unwrap();
    assert!(inbox.is_empty(), "the earlier send was not kept for later");
    outbox.try_send(2).unwrap();
    assert_eq!(inbox.recv(), Some(2));
    assert_eq!(inbox.recv(), None);
}

#[test]
fn an_outbox_chain_that_ends_in_an_outbox_drops_the_message() {
    let (a, b) = (plain(), plain());
    a.link((&a, "outbox"), (&b, "outbox")).unwrap();
    let outbox = a.outbox::<u32>("outbox").unwrap();
    assert!(!outbox.is_linked());
    outbox.try_send(1).unwrap();
    let c = plain();
    b.link((&b, "outbox"), (&c, "inbox")).unwrap();
    assert!(outbox.is_linked());
    assert!(c.inbox::<u32>("inbox").unwrap().is_empty());
}

#[test]
fn queued_messages_move_along_when_an_inbox_is_linked_onward_in_order() {
    let (b, c) = (plain(), plain());
    let b_in = b.inbox::<u32>("inbox").unwrap();
    let c_in = c.inbox::<u32>("inbox").unwrap();
    c_in.deliver(0).unwrap();
    for n in 1..=3 {
        b_in.deliver(n).unwrap();
    }
    b.link((&b, "inbox"), (&c, "inbox")).unwrap();
    assert!(!b_in.data_ready(), "b holds nothing once linked onward");
    assert_eq!(b_in.len(), 0);
    b_in.deliver(4).unwrap();
    let got: Vec<u32> = c_in.drain().collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

#[test]
fn queued_messages_move_to_the_new_end_of_a_longer_chain() {
    let (a, b, c, d) = (plain(), plain(), plain(), plain());
    a.link((&a, "outbox"), (&b, "inbox")).unwrap();
    b.link((&b, "inbox"), (&c, "inbox")).unwrap();
    a.outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
    a.outbox::<u32>("outbox").unwrap().try_send(2).unwrap();
    assert_eq!(c.inbox::<u32>("inbox").unwrap().len(), 2);
    c.link((&c, "inbox"), (&d, "inbox")).unwrap();
    a.outbox::<u32>("outbox").unwrap().try_send(3).unwrap();
    assert!(c.inbox::<u32>("inbox").unwrap().is_empty());
    let got: Vec<u32> = d.inbox::<u32>("inbox").unwrap().drain().collect();
    assert_eq!(got, [1, 2, 3]);
}

#[test]
fn moved_messages_wake_their_new_owner() {
    let scheduler = Scheduler::new();
    let parent = plain();
    let (child, woken) = util::unpause_detectors(&scheduler, 1).remove(0);
    util::start(&scheduler);
    util::run_cycles(&scheduler, 1);
    assert!(child.is_paused());
    parent.inbox::<u32>("inbox").unwrap().deliver(5).unwrap();
    assert!(child.is_paused(), "not the child's message yet");
    parent.link((&parent, "inbox"), (&child, "inbox")).unwrap();
    assert!(!child.is_paused(), "the moved message woke the child");
    // Woken between cycles: queued at the end of the next cycle, run in the
    // one after.
    util::run_cycles(&scheduler, 1);
    assert_eq!(woken.get(), 0, "only queued");
    util::run_cycles(&scheduler, 1);
    assert_eq!(woken.get(), 1);
}

#[test]
fn receiving_from_an_inbox_linked_onward_takes_from_the_final_inbox() {
    let (b, c) = (plain(), plain());
    b.link((&b, "inbox"), (&c, "inbox")).unwrap();
    let b_in = b.inbox::<u32>("inbox").unwrap();
    b_in.deliver(1).unwrap();
    b_in.deliver(2).unwrap();
    assert!(!b_in.data_ready());
    assert_eq!(c.inbox::<u32>("inbox").unwrap().len(), 2);
    assert_eq!(b_in.recv(), Some(1));
    let rest: Vec<u32> = b_in.drain().collect();
    assert_eq!(rest, [2]);
}

#[test]
fn unlinking_leaves_delivered_messages_where_they_are() {
    let (a, b, c) = (plain(), plain(), plain());
    a.link((&a, "outbox"), (&b, "inbox")).unwrap();
    let onward = b.link((&b, "inbox"), (&c, "inbox")).unwrap();
    a.outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
    b.unlink(&onward);
    a.outbox::<u32>("outbox").unwrap().try_send(2).unwrap();
    assert_eq!(c.inbox::<u32>("inbox").unwrap().recv(), Some(1));
    assert_eq!(b.inbox::<u32>("inbox").unwrap().recv(), Some(2));
}
