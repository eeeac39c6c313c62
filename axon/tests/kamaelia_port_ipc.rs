// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_Ipc.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * Axon's message classes all derive from `ipc`; in axon the control messages
//   are variants of the `axon::ipc::Ipc` enum, each wrapping a struct of the
//   same name. "Is an instance of ipc" becomes "converts into the matching
//   `Ipc` variant".
// * `newComponent` is `axon::NewComponent`, which a body yields rather than
//   sends, so it is not an `Ipc` variant; it holds `ComponentRef`s where the
//   original used strings.
// * Callers are `ComponentId`s and payloads are `axon::ipc::Payload`s where the
//   original used arbitrary objects. "Set by name" is a struct literal.
// * Each Python TestCase class is a module of the same name in snake case.
//
// Not ported:
//
// * notify_Test, status_Test, wouldblock_Test, errorInformation_Test
//   test_SmokeTest_NoArguments: constructing those messages without their
//   required arguments is a TypeError in Python; in Rust it does not compile.

//! Ports of Axon's IPC message tests.

use std::io;

use axon::ipc::{
    ErrorInformation, Ipc, Notify, Payload, ProducerFinished, Shutdown, ShutdownMicroprocess,
    Status, WouldBlock,
};
use axon::{Component, ComponentId, ComponentRef, Cx, NewComponent, NoBoxes};

/// Does nothing; used for its identity.
struct Caller;

impl Component for Caller {
    type Boxes = NoBoxes;

    async fn main(self, _cx: Cx<NoBoxes>) {}
}

fn caller() -> ComponentId {
    ComponentRef::new(Caller).id()
}

mod ipc_test {
    use super::*;

    #[test]
    fn smoke_test() {
        let id = caller();
        assert!(matches!(
            Ipc::from(ProducerFinished::new()),
            Ipc::ProducerFinished(_)
        ));
        assert!(matches!(
            Ipc::from(ShutdownMicroprocess::new()),
            Ipc::ShutdownMicroprocess(_)
        ));
        assert!(matches!(Ipc::from(Shutdown), Ipc::Shutdown(_)));
        assert!(matches!(
            Ipc::from(Notify::new(id, Payload::new(1u8))),
            Ipc::Notify(_)
        ));
        assert!(matches!(
            Ipc::from(Status::new(Payload::new(1u8))),
            Ipc::Status(_)
        ));
        assert!(matches!(
            Ipc::from(WouldBlock { caller: id }),
            Ipc::WouldBlock(_)
        ));
        assert!(matches!(
            Ipc::from(ErrorInformation::new(id, io::Error::other("x"))),
            Ipc::ErrorInformation(_)
        ));
        assert!(Ipc::from(ProducerFinished::new()).is_producer_finished());
        assert!(Ipc::from(ShutdownMicroprocess::new()).is_shutdown_microprocess());
        assert!(!Ipc::from(Shutdown).is_end_of_stream());
    }
}

mod new_component_test {
    use super::*;

    fn three() -> Vec<ComponentRef> {
        (0..3).map(|_| ComponentRef::new(Caller)).collect()
    }

    #[test]
    fn init_smoke_test_no_arguments() {
        let nc = NewComponent::new([]);
        assert!(nc.components().is_empty());
    }

    #[test]
    fn init_smoke_test() {
        let cs = three();
        let nc = NewComponent::new(cs.clone());
        assert_eq!(nc.components(), cs.as_slice());
    }

    #[test]
    fn components() {
        let cs = three();
        let nc = NewComponent::new(cs.iter().cloned());
        assert_eq!(nc.components(), cs.as_slice(), "in the order given");
        assert!(nc.components().iter().all(|c| !c.is_activated()));
    }
}

mod shutdown_microprocess_test {
    use super::*;

    fn three() -> Vec<ComponentId> {
        (0..3).map(|_| caller()).collect()
    }

    #[test]
    fn init_smoke_test_no_arguments() {
        let sm = ShutdownMicroprocess::new();
        assert!(sm.microprocesses.is_empty());
        assert!(Ipc::from(sm).is_shutdown_microprocess());
    }

    #[test]
    fn init_smoke_test() {
        let ids = three();
        let sm = ShutdownMicroprocess {
            microprocesses: ids.clone(),
        };
        assert_eq!(sm.microprocesses, ids);
    }

    #[test]
    fn microprocesses() {
        let ids = three();
        let sm = ShutdownMicroprocess {
            microprocesses: ids.clone(),
        };
        let Ipc::ShutdownMicroprocess(back) = Ipc::from(sm) else {
            panic!("wrong variant");
        };
        assert_eq!(back.microprocesses, ids);
    }
}

mod notify_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let n = Notify::new(id, Payload::new("payload"));
        assert_eq!(n.caller, id);
        assert_eq!(n.object.downcast_ref::<&str>(), Some(&"payload"));
        assert!(matches!(Ipc::from(n), Ipc::Notify(_)));
    }
}

mod status_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let s = Status::new(Payload::new(String::from("Status message.")));
        assert_eq!(
            s.status.downcast_ref::<String>().map(String::as_str),
            Some("Status message.")
        );
        assert!(matches!(Ipc::from(s), Ipc::Status(_)));
    }

    #[test]
    fn status() {
        let s = Status::new(Payload::new(String::from("Status message.")));
        assert_eq!(
            s.status.downcast_ref::<String>().map(String::as_str),
            Some("Status message.")
        );
    }
}

mod wouldblock_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let wb = WouldBlock { caller: id };
        assert_eq!(wb.caller, id);
        assert!(matches!(Ipc::from(wb), Ipc::WouldBlock(_)));
    }
}

mod producer_finished_test {
    use super::*;

    #[test]
    fn smoke_test_no_arguments() {
        let pf = ProducerFinished::new();
        assert!(pf.caller.is_none());
        assert!(pf.message.is_none());
        assert!(Ipc::from(pf).is_producer_finished());
    }

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let pf = ProducerFinished::from(id).with_message(Payload::new("message"));
        assert_eq!(pf.caller, Some(id));
        assert_eq!(
            pf.message.as_ref().and_then(|m| m.downcast_ref::<&str>()),
            Some(&"message")
        );

        let pf2 = ProducerFinished {
            message: Some(Payload::new("message")),
            caller: Some(id),
        };
        assert_eq!(pf2.caller, Some(id));
        assert_eq!(
            pf2.message.as_ref().and_then(|m| m.downcast_ref::<&str>()),
            Some(&"message")
        );
    }
}

mod error_information_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let ei = ErrorInformation {
            caller: id,
            exception: None,
            message: None,
        };
        assert_eq!(ei.caller, id);
        assert!(matches!(Ipc::from(ei), Ipc::ErrorInformation(_)));
    }

    #[test]
    fn smoke_test_min_sensible_arguments() {
        let id = caller();
        let mut ei = ErrorInformation::new(id, io::Error::other("exception"));
        ei.message = Some(Payload::new("message"));
        assert_eq!(ei.caller, id);
        assert_eq!(ei.exception.as_ref().unwrap().to_string(), "exception");
        assert_eq!(
            ei.message.as_ref().and_then(|m| m.downcast_ref::<&str>()),
            Some(&"message")
        );

        let by_name = ErrorInformation {
            message: Some(Payload::new("message")),
            exception: Some(std::sync::Arc::new(io::Error::other("exception"))),
            caller: id,
        };
        assert_eq!(by_name.caller, id);
        assert_eq!(by_name.exception.unwrap().to_string(), "exception");
        assert!(by_name.message.is_some());
    }
}
