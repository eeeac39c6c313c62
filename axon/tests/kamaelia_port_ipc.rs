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
// * Where the original reads back the attributes it just set, the port sends
//   the message as an `Ipc` from a `signal` outbox to a `control` inbox and
//   checks what comes out, so the conversion into `Ipc` and the delivery are
//   covered as well.
// * shutdownMicroprocess_Test's test___init__SmokeTest and test_microprocesses
//   both read the list back; they are one test here, `microprocesses`.
//
// Not ported:
//
// * notify_Test, status_Test, wouldblock_Test, errorInformation_Test
//   test_SmokeTest_NoArguments: constructing those messages without their
//   required arguments is a TypeError in Python; in Rust it does not compile.

//! Ports of Axon's IPC message tests.

mod util;

use std::io;

use axon::ipc::{
    ErrorInformation, Ipc, Notify, Payload, ProducerFinished, Shutdown, ShutdownMicroprocess,
    Status, WouldBlock,
};
use axon::{ComponentId, ComponentRef, Cx, NewComponent, NoBoxes};

/// A component used only for its identity.
fn component() -> ComponentRef {
    util::plain::<(), ()>()
}

fn caller() -> ComponentId {
    component().id()
}

/// `message` as a component receives it: sent as an `Ipc` from one
/// component's `signal` outbox to another's `control` inbox, the way control
/// messages travel.
fn through_control(message: impl Into<Ipc>) -> Ipc {
    let (from, to) = (component(), component());
    from.link((&from, "signal"), (&to, "control")).unwrap();
    from.outbox::<Ipc>("signal")
        .unwrap()
        .try_send(message.into())
        .unwrap();
    to.inbox::<Ipc>("control")
        .unwrap()
        .recv()
        .expect("the message arrived")
}

/// The message inside an `Ipc`, failing the test if it is another variant.
macro_rules! extract {
    ($ipc:expr, $variant:ident) => {
        match $ipc {
            Ipc::$variant(message) => message,
            other => panic!("expected Ipc::{}, got {other:?}", stringify!($variant)),
        }
    };
}

mod ipc_test {
    use super::*;

    #[test]
    fn smoke_test() {
        let id = caller();
        // Each message, the variant it must become, and whether it asks the
        // receiver to end.
        let all: [(Ipc, &str, bool); 7] = [
            (ProducerFinished::new().into(), "ProducerFinished", true),
            (
                ShutdownMicroprocess::new().into(),
                "ShutdownMicroprocess",
                true,
            ),
            (Shutdown.into(), "Shutdown", false),
            (Notify::new(id, Payload::new(1u8)).into(), "Notify", false),
            (Status::new(Payload::new(1u8)).into(), "Status", false),
            (WouldBlock { caller: id }.into(), "WouldBlock", false),
            (
                ErrorInformation::new(id, io::Error::other("x")).into(),
                "ErrorInformation",
                false,
            ),
        ];
        for (message, variant, ends) in all {
            let debug = format!("{message:?}");
            assert!(
                debug.starts_with(&format!("{variant}({variant}")),
                "{debug} is Ipc::{variant}"
            );
            assert_eq!(message.is_end_of_stream(), ends, "{variant}");
            assert_eq!(
                message.is_producer_finished(),
                variant == "ProducerFinished",
                "{variant}"
            );
            assert_eq!(
                message.is_shutdown_microprocess(),
                variant == "ShutdownMicroprocess",
                "{variant}"
            );
        }
    }
}

mod new_component_test {
    use super::*;

    fn three() -> Vec<ComponentRef> {
        (0..3).map(|_| component()).collect()
    }

    #[test]
    fn init_smoke_test_no_arguments() {
        let nc = NewComponent::new([]);
        assert!(nc.components().is_empty());
        assert_eq!(format!("{nc:?}"), "[]");
    }

    #[test]
    fn init_smoke_test() {
        let cs = three();
        let nc = NewComponent::new(cs.iter().cloned());
        assert_eq!(nc.components(), cs.as_slice(), "in the order given");
        assert_eq!(format!("{nc:?}"), format!("{cs:?}"));
    }

    #[test]
    fn components() {
        let cs = three();
        let nc = NewComponent::new(cs.iter().cloned());
        assert!(
            nc.components().iter().all(|c| !c.is_activated()),
            "naming them does not activate them"
        );
        util::run_in_body(move |cx: Cx<NoBoxes>| async move {
            cx.yield_(nc).await;
            assert!(
                cs.iter().all(ComponentRef::is_activated),
                "yielding activates the components it names"
            );
        });
    }
}

mod shutdown_microprocess_test {
    use super::*;

    #[test]
    fn init_smoke_test_no_arguments() {
        let sm = extract!(
            through_control(ShutdownMicroprocess::new()),
            ShutdownMicroprocess
        );
        assert!(sm.microprocesses.is_empty());
    }

    #[test]
    fn microprocesses() {
        let ids: Vec<ComponentId> = (0..3).map(|_| caller()).collect();
        let sm = ShutdownMicroprocess {
            microprocesses: ids.clone(),
        };
        let received = extract!(through_control(sm), ShutdownMicroprocess);
        assert_eq!(received.microprocesses, ids, "all of them, in order");
    }
}

mod notify_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let n = extract!(
            through_control(Notify::new(id, Payload::new("payload"))),
            Notify
        );
        assert_eq!(n.caller, id);
        assert_eq!(n.object.downcast_ref::<&str>(), Some(&"payload"));
        assert_eq!(format!("{:?}", n.object), r#"Payload("payload")"#);
    }
}

mod status_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let s = extract!(
            through_control(Status::new(Payload::new(String::from("Status message.")))),
            Status
        );
        assert_eq!(
            s.status.downcast_ref::<String>().map(String::as_str),
            Some("Status message.")
        );
        assert_eq!(
            s.status.downcast_ref::<&str>(),
            None,
            "typed as it was made"
        );
    }

    #[test]
    fn status() {
        // A broadcast clones the message for each receiver; the payload itself
        // is shared, not copied.
        let sent: Ipc = Status::new(Payload::new(vec![1u32, 2, 3])).into();
        let copy = extract!(sent.clone(), Status);
        let original = extract!(sent, Status);
        let (a, b) = (
            original.status.downcast_ref::<Vec<u32>>().unwrap(),
            copy.status.downcast_ref::<Vec<u32>>().unwrap(),
        );
        assert_eq!(a, &[1, 2, 3]);
        assert!(std::ptr::eq(a, b));
        assert_eq!(
            format!("{:?}", original.status),
            format!("Payload({})", std::any::type_name::<Vec<u32>>())
        );
    }
}

mod wouldblock_test {
    use super::*;

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let wb = extract!(through_control(WouldBlock { caller: id }), WouldBlock);
        assert_eq!(wb, WouldBlock { caller: id });
    }
}

mod producer_finished_test {
    use super::*;

    #[test]
    fn smoke_test_no_arguments() {
        let received = through_control(ProducerFinished::new());
        assert_eq!(received.finished_with::<&str>(), None);
        let pf = extract!(received, ProducerFinished);
        assert!(pf.caller.is_none());
        assert!(pf.message.is_none());
    }

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let built = ProducerFinished::from(id).with_message(Payload::new("message"));
        let by_name = ProducerFinished {
            message: Some(Payload::new("message")),
            caller: Some(id),
        };
        for pf in [built, by_name] {
            let received = through_control(pf);
            assert_eq!(received.finished_with::<&str>(), Some(&"message"));
            assert_eq!(received.finished_with::<String>(), None);
            assert_eq!(extract!(received, ProducerFinished).caller, Some(id));
        }
    }
}

mod error_information_test {
    use super::*;

    /// What a receiver reads from an `ErrorInformation`: the caller, the
    /// error's text and the message's text.
    fn read(ei: ErrorInformation) -> (ComponentId, Option<String>, Option<&'static str>) {
        let ei = extract!(through_control(ei), ErrorInformation);
        (
            ei.caller,
            ei.exception.map(|e| e.to_string()),
            ei.message.and_then(|m| m.downcast_ref::<&str>().copied()),
        )
    }

    #[test]
    fn smoke_test_min_arguments() {
        let id = caller();
        let ei = ErrorInformation {
            caller: id,
            exception: None,
            message: None,
        };
        assert_eq!(read(ei), (id, None, None));
    }

    #[test]
    fn smoke_test_min_sensible_arguments() {
        let id = caller();
        let mut ei = ErrorInformation::new(id, io::Error::other("exception"));
        ei.message = Some(Payload::new("message"));
        let by_name = ErrorInformation {
            message: Some(Payload::new("message")),
            exception: Some(std::sync::Arc::new(io::Error::other("exception"))),
            caller: id,
        };
        let expected = (id, Some("exception".to_string()), Some("message"));
        assert_eq!(read(ei), expected);
        assert_eq!(read(by_name), expected);
    }
}
