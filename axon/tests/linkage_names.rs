//! A linkage names its two ends (component and box) for as long as it can be
//! seen: while a postoffice records it, and while anyone holds it; after
//! the components at its ends are gone, and after a box at an end is
//! deleted. (It takes the names from the boxes' owners when asked, and just
//! before an owner or a box goes.)

use axon::{Component, ComponentRef, Cx, Postoffice, Scheduler, Standard};

/// Carries text in and out, and does nothing.
struct Idle;

impl Component for Idle {
    type Boxes = Standard<String, String>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

/// Adds an outbox called `extra`, then deletes it when woken.
struct AddsThenDeletes;

impl Component for AddsThenDeletes {
    type Boxes = Standard<String, String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let _extra = cx.add_outbox::<String>("extra", "added at run time");
        cx.yield_now().await;
        cx.delete_outbox("extra").expect("it was added");
        cx.yield_now().await;
    }
}

#[test]
fn a_recorded_linkage_names_its_ends_after_their_components_are_gone() {
    let po = Postoffice::new();
    let (a, b) = (ComponentRef::new(Idle), ComponentRef::new(Idle));
    let (a_id, b_id) = (a.id(), b.id());
    po.link((&a, "outbox"), (&b, "inbox")).unwrap();
    po.link((&b, "signal"), (&a, "control")).unwrap();
    drop((a, b));
    let linkages = po.linkages();
    assert_eq!(linkages[0].source_pair(), (a_id, "outbox"));
    assert_eq!(linkages[0].sink_pair(), (b_id, "inbox"));
    assert_eq!(linkages[1].source_pair(), (b_id, "signal"));
    assert_eq!(linkages[1].sink_pair(), (a_id, "control"));
    assert!(!linkages[0].is_live(), "its boxes are gone");
    assert_eq!(
        linkages[0].to_string(),
        format!("Link( source:[{a_id},outbox], sink:[{b_id},inbox] )")
    );
}

#[test]
fn a_linkage_within_one_component_names_both_ends_after_it_is_gone() {
    let po = Postoffice::new();
    let a = ComponentRef::new(Idle);
    let a_id = a.id();
    let linkage = po.link((&a, "outbox"), (&a, "inbox")).unwrap();
    drop(a);
    assert_eq!(linkage.source_pair(), (a_id, "outbox"));
    assert_eq!(linkage.sink_pair(), (a_id, "inbox"));
}

#[test]
fn an_unlinked_linkage_held_elsewhere_keeps_its_names() {
    let po = Postoffice::new();
    let (a, b) = (ComponentRef::new(Idle), ComponentRef::new(Idle));
    let (a_id, b_id) = (a.id(), b.id());
    let linkage = po.link((&a, "outbox"), (&b, "inbox")).unwrap();
    po.unlink(&linkage);
    drop((a, b));
    assert!(po.linkages().is_empty());
    assert_eq!(linkage.source_pair(), (a_id, "outbox"));
    assert_eq!(linkage.sink_pair(), (b_id, "inbox"));
}

#[test]
fn a_linkage_held_after_its_components_finish_and_go_keeps_its_names() {
    let scheduler = Scheduler::new();
    let (a, b) = (ComponentRef::new(Idle), ComponentRef::new(Idle));
    let (a_id, b_id) = (a.id(), b.id());
    // Made by `a`'s own postoffice: removed from its book when `a` finishes.
    let linkage = a.link((&a, "outbox"), (&b, "inbox")).unwrap();
    a.activate_on(&scheduler);
    b.activate_on(&scheduler);
    drop((a, b));
    scheduler.run().unwrap();
    assert!(!linkage.is_live());
    assert_eq!(linkage.source_pair(), (a_id, "outbox"));
    assert_eq!(linkage.sink_pair(), (b_id, "inbox"));
}

#[test]
fn a_linkage_to_a_deleted_box_keeps_the_box_name() {
    let scheduler = Scheduler::new();
    let po = Postoffice::new();
    let (a, b) = (ComponentRef::new(AddsThenDeletes), ComponentRef::new(Idle));
    a.activate_on(&scheduler);
    scheduler.run_cycle(); // activation is handled at the end of a cycle
    scheduler.run_cycle(); // the body adds `extra`
    po.link((&a, "extra"), (&b, "inbox")).unwrap();
    scheduler.run_cycle(); // and deletes it
    assert!(a.outbox::<String>("extra").is_err(), "deleted");
    let linkages = po.linkages();
    assert_eq!(linkages[0].source_pair(), (a.id(), "extra"));
    assert_eq!(linkages[0].sink_pair(), (b.id(), "inbox"));
}
