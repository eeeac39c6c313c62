//! Which linkages are refused, and what the refusal says.
//!
//! A source feeds one sink, a sink may have many sources, messages never flow
//! from an inbox to an outbox, passthroughs may not form a loop, boxes must
//! carry the same type and must exist. A refused link changes nothing.

use axon::{
    BoxError, BoxLabel, Component, ComponentRef, Cx, Direction, LinkErrorKind, Postoffice, Standard,
};

/// Carries text in and out.
struct Text;

impl Component for Text {
    type Boxes = Standard<String, String>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

/// Carries numbers in and out.
struct Numbers;

impl Component for Numbers {
    type Boxes = Standard<u32, u32>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

fn text() -> ComponentRef {
    ComponentRef::new(Text)
}

fn numbers() -> ComponentRef {
    ComponentRef::new(Numbers)
}

fn label(c: &ComponentRef, direction: Direction, name: &str) -> BoxLabel {
    BoxLabel {
        component: Some(c.id()),
        direction,
        name: name.to_string().into(),
    }
}

#[test]
fn different_message_types_are_refused_naming_both_boxes_and_types() {
    let po = Postoffice::new();
    let (a, b) = (text(), numbers());
    let err = po.link((&a, "outbox"), (&b, "inbox")).unwrap_err();
    match err.kind() {
        LinkErrorKind::TypeMismatch {
            source,
            source_type,
            sink,
            sink_type,
        } => {
            assert_eq!(*source, label(&a, Direction::Outbox, "outbox"));
            assert_eq!(*sink, label(&b, Direction::Inbox, "inbox"));
            assert_eq!(*source_type, std::any::type_name::<String>());
            assert_eq!(*sink_type, std::any::type_name::<u32>());
        }
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    let text = err.to_string();
    for part in [
        format!("outbox \"outbox\" of {}", a.id()),
        format!("inbox \"inbox\" of {}", b.id()),
        std::any::type_name::<String>().to_string(),
        std::any::type_name::<u32>().to_string(),
    ] {
        assert!(text.contains(&part), "{text:?} mentions {part:?}");
    }
    assert!(po.linkages().is_empty());
    assert!(!a.outbox::<String>("outbox").unwrap().is_linked());
}

#[test]
fn a_source_that_is_already_linked_is_refused() {
    let po = Postoffice::new();
    let (a, b, c) = (text(), text(), text());
    po.link((&a, "outbox"), (&b, "inbox")).unwrap();
    let err = po.link((&a, "outbox"), (&c, "inbox")).unwrap_err();
    assert_eq!(
        *err.kind(),
        LinkErrorKind::AlreadyLinked {
            source: label(&a, Direction::Outbox, "outbox"),
            current: label(&b, Direction::Inbox, "inbox"),
            requested: label(&c, Direction::Inbox, "inbox"),
        }
    );
    assert!(err.to_string().contains(&c.id().to_string()));
    assert_eq!(po.linkages().len(), 1);

    // The original link is untouched.
    a.outbox::<String>("outbox")
        .unwrap()
        .try_send("still".into())
        .unwrap();
    assert_eq!(
        b.inbox::<String>("inbox").unwrap().recv().as_deref(),
        Some("still")
    );
    assert!(c.inbox::<String>("inbox").unwrap().is_empty());
}

#[test]
fn many_sources_may_feed_one_inbox() {
    let po = Postoffice::new();
    let (a, b, sink) = (text(), text(), text());
    po.link((&a, "outbox"), (&sink, "inbox")).unwrap();
    po.link((&b, "outbox"), (&sink, "inbox")).unwrap();
    po.link((&a, "inbox"), (&sink, "inbox")).unwrap();
    a.outbox::<String>("outbox")
        .unwrap()
        .try_send("a".into())
        .unwrap();
    b.outbox::<String>("outbox")
        .unwrap()
        .try_send("b".into())
        .unwrap();
    a.inbox::<String>("inbox")
        .unwrap()
        .deliver("a-in".into())
        .unwrap();
    let got: Vec<String> = sink.inbox::<String>("inbox").unwrap().drain().collect();
    assert_eq!(got, ["a", "b", "a-in"]);
}

#[test]
fn inbox_to_outbox_is_refused() {
    let po = Postoffice::new();
    let (a, b) = (text(), text());
    let err = po.link((&a, "inbox"), (&b, "outbox")).unwrap_err();
    assert_eq!(
        *err.kind(),
        LinkErrorKind::InboxToOutbox {
            source: label(&a, Direction::Inbox, "inbox"),
            sink: label(&b, Direction::Outbox, "outbox"),
        }
    );
    assert!(po.linkages().is_empty());
}

#[test]
fn a_loop_of_inbox_passthroughs_is_refused() {
    let po = Postoffice::new();
    let (a, b, c) = (text(), text(), text());
    po.link((&a, "inbox"), (&b, "inbox")).unwrap();
    po.link((&b, "inbox"), (&c, "inbox")).unwrap();
    let err = po.link((&c, "inbox"), (&a, "inbox")).unwrap_err();
    assert_eq!(
        *err.kind(),
        LinkErrorKind::Cycle {
            source: label(&c, Direction::Inbox, "inbox"),
            sink: label(&a, Direction::Inbox, "inbox"),
        }
    );
    // The chain still ends at c.
    a.inbox::<String>("inbox")
        .unwrap()
        .deliver("x".into())
        .unwrap();
    assert_eq!(
        c.inbox::<String>("inbox").unwrap().recv().as_deref(),
        Some("x")
    );

    let self_loop = po.link((&a, "control"), (&a, "control")).unwrap_err();
    assert!(matches!(self_loop.kind(), LinkErrorKind::Cycle { .. }));
}

#[test]
fn a_loop_of_outbox_passthroughs_is_refused() {
    let po = Postoffice::new();
    let (a, b) = (text(), text());
    po.link((&a, "outbox"), (&b, "outbox")).unwrap();
    let err = po.link((&b, "outbox"), (&a, "outbox")).unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::Cycle { .. }), "{err}");
    assert_eq!(po.linkages().len(), 1);
}

#[test]
fn unknown_box_names_list_the_available_boxes() {
    let po = Postoffice::new();
    let (a, b) = (text(), text());
    let err = po.link((&a, "outbx"), (&b, "inbox")).unwrap_err();
    match err.kind() {
        LinkErrorKind::NoSuchBox {
            component,
            name,
            available,
        } => {
            assert_eq!(*component, a.id());
            assert_eq!(name, "outbx");
            for b in ["inbox", "control", "outbox", "signal"] {
                assert!(
                    available.iter().any(|x| x.ends_with(b)),
                    "{available:?} has {b}"
                );
            }
        }
        other => panic!("expected NoSuchBox, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("outbx") && text.contains("signal"), "{text}");

    let err = po.link((&a, "outbox"), (&b, "inbx")).unwrap_err();
    assert!(
        matches!(err.kind(), LinkErrorKind::NoSuchBox { component, .. } if *component == b.id())
    );

    // The typed handles say the same.
    match a.inbox::<String>("nope").unwrap_err() {
        BoxError::NoSuchBox {
            direction,
            available,
            ..
        } => {
            assert_eq!(direction, Direction::Inbox);
            assert_eq!(available, ["inbox", "control"]);
        }
        other => panic!("expected NoSuchBox, got {other:?}"),
    }
    assert!(matches!(
        a.inbox::<u32>("inbox").unwrap_err(),
        BoxError::WrongType { .. }
    ));
}
