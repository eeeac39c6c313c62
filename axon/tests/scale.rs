//! Linking at server scale: linking, unlinking and deleting boxes cost the
//! same with ten thousand sources on one inbox as with ten.
//!
//! Each test counts the boxes and linkage records the operation looks at
//! (`link_work`), at 10 and at 10 000 sources, and asserts the counts are
//! equal: an operation whose cost grows with the number of sources fails
//! here, on any machine, without timing anything.

mod util;

use axon::__private::link_work;
use axon::{ComponentRef, Cx, Inbox, Outbox, Postoffice, Standard};

/// `n` children of the component of `cx`, each run until it has finished
/// (in the order made).
async fn finished_children(cx: &Cx<Standard<u32, u32>>, n: usize) -> Vec<ComponentRef> {
    let children: Vec<ComponentRef> = (0..n).map(|_| util::plain::<u32, u32>()).collect();
    cx.add_children(&children);
    for child in &children {
        child.activate_on(&cx.scheduler());
    }
    while !children.iter().all(ComponentRef::is_finished) {
        cx.yield_now().await;
    }
    children
}

/// Runs `body` as a component's body, and returns the work it measured.
fn work_in_body<F>(body: impl FnOnce(Cx<Standard<u32, u32>>) -> F + 'static) -> u64
where
    F: std::future::Future<Output = u64> + 'static,
{
    let cost = std::rc::Rc::new(std::cell::Cell::new(0));
    let result = cost.clone();
    util::run_in_body(move |cx: Cx<Standard<u32, u32>>| async move {
        cost.set(body(cx).await);
    });
    result.get()
}

/// The boxes and records `f` looks at.
fn work(f: impl FnOnce()) -> u64 {
    let before = link_work();
    f();
    link_work() - before
}

/// A hub whose postoffice has linked `n` sources' outboxes into its inbox, as
/// a server's does for each connection.
fn hub_with(n: usize) -> (ComponentRef, Vec<ComponentRef>) {
    let hub = util::plain::<u32, u32>();
    let sources: Vec<ComponentRef> = (0..n).map(|_| util::plain::<u32, u32>()).collect();
    for source in &sources {
        hub.link((source, "outbox"), (&hub, "inbox")).unwrap();
    }
    (hub, sources)
}

/// The work of each operation on a hub with `n` sources: linking one more,
/// unlinking it, removing a source as a child (its linkages go), and
/// unlinking a component.
fn operations(n: usize) -> [u64; 4] {
    let (hub, sources) = hub_with(n);
    let newcomer = util::plain::<u32, u32>();
    let mut linkage = None;
    let link = work(|| linkage = Some(hub.link((&newcomer, "outbox"), (&hub, "inbox")).unwrap()));
    let unlink = work(|| hub.unlink(linkage.as_ref().unwrap()));
    hub.add_children([&sources[n / 2]]);
    let remove_child = work(|| hub.remove_child(&sources[n / 2]));
    let unlink_component = work(|| hub.unlink_component(&sources[n / 3]));
    assert_eq!(
        hub.linkages().len(),
        n - 2,
        "exactly two sources were unlinked"
    );
    [link, unlink, remove_child, unlink_component]
}

#[test]
fn linking_and_unlinking_one_more_source_costs_the_same_at_10_and_10000() {
    let small = operations(10);
    let large = operations(10_000);
    assert!(
        small.iter().all(|&w| w > 0),
        "the work is counted: {small:?}"
    );
    assert_eq!(
        small, large,
        "[link, unlink, remove_child, unlink_component]"
    );
}

#[test]
fn linking_through_a_passthrough_costs_the_same_at_10_and_10000() {
    let measure = |n: usize| {
        let (hub, _sources) = hub_with(n);
        let child = util::plain::<u32, u32>();
        // The hub's inbox, with its n sources, is handed on to a child: that
        // moves the whole tree (n outboxes re-pointed), once.
        let pass = hub.link((&hub, "inbox"), (&child, "inbox")).unwrap();
        let newcomer = util::plain::<u32, u32>();
        let link = work(|| {
            hub.link((&newcomer, "outbox"), (&hub, "inbox")).unwrap();
        });
        let out: Outbox<u32> = newcomer.outbox("outbox").unwrap();
        out.try_send(7).unwrap();
        let child_inbox: Inbox<u32> = child.inbox("inbox").unwrap();
        assert_eq!(child_inbox.recv(), Some(7), "one hop to the final inbox");
        hub.unlink(&pass);
        link
    };
    assert_eq!(measure(10), measure(10_000));
}

#[test]
fn deleting_one_of_a_hubs_dynamic_boxes_costs_the_same_at_10_and_10000() {
    fn measure(n: usize) -> u64 {
        work_in_body(move |cx| async move {
            // One dynamic outbox per member, each linked by the hub itself
            // to the member's inbox, as a chat hub does.
            let po: Postoffice = cx.component().postoffice();
            let mut outboxes = Vec::new();
            for _ in 0..n {
                let member = util::plain::<u32, u32>();
                let outbox: Outbox<u32> = cx.add_outbox("member", "to one member");
                po.link(&outbox, (&member, "inbox")).unwrap();
                outboxes.push((outbox, member));
            }
            let (gone, _) = &outboxes[n / 2];
            let name = gone.name();
            let cost = work(|| cx.delete_outbox(&name).unwrap());
            assert_eq!(po.linkages().len(), n - 1);
            cost
        })
    }
    let small = measure(10);
    assert!(small > 0);
    assert_eq!(small, measure(10_000));
}

#[test]
fn removing_finished_children_in_any_order_costs_a_bounded_amount_per_child() {
    // A ServerCore removes each connection's adapter and then its handler,
    // and in a burst of closes every adapter ends before any handler: the
    // handlers are then removed from the middle of the list of finished
    // children. Removing all of them, last finished first, must cost a
    // bounded amount per child, not a scan of the list each.
    fn measure(n: usize) -> u64 {
        work_in_body(move |cx| async move {
            let children = finished_children(&cx, n).await;
            let cost = work(|| {
                for child in children.iter().rev() {
                    cx.remove_child(child);
                }
            });
            assert_eq!(cx.child_count(), 0);
            assert!(
                cx.finished_children().is_empty(),
                "no removed child is reported as finished"
            );
            cost
        })
    }
    for n in [10, 10_000] {
        let work = measure(n);
        assert!(
            work >= n as u64 && work <= 4 * n as u64,
            "removing {n} finished children cost {work} steps"
        );
    }
}

#[test]
fn finished_children_not_removed_are_reported_in_the_order_they_finished() {
    util::run_in_body(move |cx: Cx<Standard<u32, u32>>| async move {
        let children = finished_children(&cx, 6).await;
        // From the middle, enough to have the list rid of them.
        for gone in [&children[4], &children[1], &children[2]] {
            cx.remove_child(gone);
        }
        let ids = |c: &[ComponentRef]| c.iter().map(ComponentRef::id).collect::<Vec<_>>();
        assert_eq!(
            ids(&cx.finished_children()),
            ids(&[
                children[0].clone(),
                children[3].clone(),
                children[5].clone()
            ])
        );
    });
}

#[test]
fn removing_children_as_they_finish_costs_the_same_at_10_and_10000_finished() {
    // A TcpServer removes each adapter once it has ended, in the order they
    // end, and never takes its list of finished children: removing one must
    // not look through every child that ended before it was removed.
    fn measure(n: usize) -> u64 {
        work_in_body(move |cx| async move {
            let children = finished_children(&cx, n).await;
            let cost = work(|| cx.remove_child(&children[0]));
            assert_eq!(cx.child_components().len(), n - 1);
            cost
        })
    }
    let small = measure(10);
    assert!(small > 0);
    assert_eq!(small, measure(10_000));
}
