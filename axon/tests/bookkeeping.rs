//! A parent's children and a postoffice's linkages, as a server keeps them:
//! many at once, added and removed one connection at a time. Lists keep the
//! order things were added in, list each thing once, and removing one thing
//! leaves the rest as they were.

mod util;

use axon::{Component, ComponentRef, Cx, Postoffice, Standard};

struct Idle;

impl Component for Idle {
    type Boxes = Standard<u32, u32>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

fn idle() -> ComponentRef {
    ComponentRef::new(Idle)
}

#[test]
fn children_are_listed_once_in_the_order_they_were_added() {
    let parent = idle();
    let children: Vec<ComponentRef> = (0..5).map(|_| idle()).collect();
    // Added out of creation order, and one of them twice.
    for i in [3, 0, 4, 1, 2, 0] {
        parent.add_children([&children[i]]);
    }
    let order = |list: Vec<ComponentRef>| -> Vec<usize> {
        list.iter()
            .map(|c| children.iter().position(|x| x == c).unwrap())
            .collect()
    };
    assert_eq!(order(parent.child_components()), [3, 0, 4, 1, 2]);

    parent.remove_child(&children[4]);
    assert_eq!(order(parent.child_components()), [3, 0, 1, 2]);
    // Re-added, it goes to the end.
    parent.add_children([&children[4]]);
    assert_eq!(order(parent.child_components()), [3, 0, 1, 2, 4]);
}

#[test]
fn removing_one_connections_links_leaves_the_others_in_order() {
    let po = Postoffice::new();
    let pairs: Vec<(ComponentRef, ComponentRef)> = (0..100).map(|_| (idle(), idle())).collect();
    let mut made = Vec::new();
    for (a, b) in &pairs {
        made.push(po.link((a, "outbox"), (b, "inbox")).unwrap());
        made.push(po.link((b, "outbox"), (a, "inbox")).unwrap());
    }

    // Remove two connections in three, by component, from either end.
    let mut kept = Vec::new();
    for (i, (a, b)) in pairs.iter().enumerate() {
        match i % 3 {
            0 => po.unlink_component(a),
            1 => po.unlink_component(b),
            _ => kept.extend(made[2 * i..2 * i + 2].iter().cloned()),
        }
    }
    assert_eq!(po.linkages(), kept, "the rest, in the order they were made");
    for (i, linkage) in made.iter().enumerate() {
        let stays = (i / 2) % 3 == 2;
        assert_eq!(po.is_registered(linkage), stays, "linkage {i}");
        assert_eq!(linkage.is_live(), stays, "linkage {i}");
    }

    // One linkage by itself.
    let (a, b) = &pairs[2];
    po.unlink(&made[4]);
    assert!(!made[4].is_live());
    assert!(made[5].is_live(), "the other direction stays");
    a.outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
    assert_eq!(b.inbox::<u32>("inbox").unwrap().recv(), None);
    b.outbox::<u32>("outbox").unwrap().try_send(2).unwrap();
    assert_eq!(a.inbox::<u32>("inbox").unwrap().recv(), Some(2));

    po.unlink_all();
    assert!(po.linkages().is_empty());
    assert!(made.iter().all(|l| !l.is_live()));
}

#[test]
fn a_deleted_box_takes_its_owners_record_of_its_links_with_it() {
    util::run_in_body(|cx: Cx<Standard<u32, u32>>| async move {
        let me = cx.component();
        let sink = idle();
        let kept = cx.link((&cx, "outbox"), (&sink, "inbox")).unwrap();
        for _ in 0..100 {
            let outbox = cx.add_outbox::<u32>("client", "one connection's");
            cx.link(&outbox, (&sink, "inbox")).unwrap();
            cx.delete_outbox(&outbox.name()).unwrap();
        }
        assert_eq!(me.linkages(), [kept], "only the link of the kept box");
    });
}
