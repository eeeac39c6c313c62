// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_Linkage.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * An axon `Linkage` is only made by linking (`ComponentRef::link`,
//   `Postoffice::link`), never constructed directly, so each test links two
//   components and inspects the linkage it gets back.
// * Box names are always given: axon has no default `outbox`/`inbox` arguments.
// * `passthrough=0|1|2` follows from the kinds of the two boxes; the port checks
//   `Linkage::passthrough()` and its Axon number (`Passthrough::as_axon`).
// * The original defines `test_sourcePair` twice, so Python only ever runs the
//   second, which checks `sinkPair()`. Both behaviours are ported, as
//   `source_pair` and `sink_pair`.
// * test___str__strict checks axon's `Display`, which keeps Axon's format with
//   axon's component names (`Kind#number`).
//
// Not ported:
//
// * test_SmokeTest_NoArguments: calling the constructor without source and sink
//   is a TypeError in Python; in Rust it does not compile.

//! Ports of Axon's linkage tests.

use axon::{Component, ComponentRef, Cx, Passthrough, Standard};

/// Does nothing; only its boxes are used.
struct Plain;

impl Component for Plain {
    type Boxes = Standard<String, String>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

fn pair() -> (ComponentRef, ComponentRef) {
    (ComponentRef::new(Plain), ComponentRef::new(Plain))
}

mod linkage_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let (a, b) = pair();
        let link = a.link((&a, "outbox"), (&b, "inbox")).unwrap();
        assert_eq!(link.source_pair(), (a.id(), "outbox"));
        assert_eq!(link.sink_pair(), (b.id(), "inbox"));
        assert_eq!(link.passthrough(), Passthrough::Normal);
        assert!(link.is_live());
    }

    #[test]
    fn smoke_test_specific_boxes_arguments() {
        let (a, b) = pair();
        let link = a.link((&a, "signal"), (&b, "control")).unwrap();
        assert_eq!(link.source_pair(), (a.id(), "signal"));
        assert_eq!(link.sink_pair(), (b.id(), "control"));
        assert_eq!(link.passthrough(), Passthrough::Normal);
    }

    #[test]
    fn smoke_test_default_passthrough() {
        let (a, b) = pair();
        let link = a.link((&a, "outbox"), (&b, "inbox")).unwrap();
        assert_eq!(link.passthrough().as_axon(), 0);
    }

    #[test]
    fn smoke_test_inbox_passthrough() {
        let (a, b) = pair();
        let link = a.link((&a, "inbox"), (&b, "inbox")).unwrap();
        assert_eq!(link.passthrough(), Passthrough::Inbox);
        assert_eq!(link.passthrough().as_axon(), 1);
    }

    #[test]
    fn smoke_test_outbox_passthrough() {
        let (a, b) = pair();
        let link = a.link((&a, "outbox"), (&b, "outbox")).unwrap();
        assert_eq!(link.passthrough(), Passthrough::Outbox);
        assert_eq!(link.passthrough().as_axon(), 2);
    }

    #[test]
    fn source_pair() {
        let (a, b) = pair();
        let link = a.link((&a, "outbox"), (&b, "inbox")).unwrap();
        assert_eq!(link.source_pair(), (a.id(), "outbox"));
        let link2 = a.link((&b, "signal"), (&a, "control")).unwrap();
        assert_eq!(link2.source_pair(), (b.id(), "signal"));
    }

    #[test]
    fn sink_pair() {
        let (a, b) = pair();
        let link = a.link((&a, "outbox"), (&b, "inbox")).unwrap();
        assert_eq!(link.sink_pair(), (b.id(), "inbox"));
        let link2 = a.link((&b, "signal"), (&a, "control")).unwrap();
        assert_eq!(link2.sink_pair(), (a.id(), "control"));
    }

    #[test]
    fn str_strict() {
        let (a, b) = pair();
        let link = a.link((&a, "signal"), (&b, "control")).unwrap();
        assert_eq!(
            link.to_string(),
            format!(
                "Link( source:[Plain#{},signal], sink:[Plain#{},control] )",
                a.id().number(),
                b.id().number()
            )
        );
    }
}
