// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_AdaptiveCommsComponent.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * axon has no separate AdaptiveCommsComponent: every component can add and
//   delete boxes at run time through its body's `Cx` (`add_inbox`,
//   `add_outbox`, `delete_inbox`, `delete_outbox`). The tests therefore run
//   inside a component's body (on a fail-fast scheduler, so that a failed
//   assertion fails the test) and list boxes with `ComponentRef::inboxes` /
//   `outboxes`.
// * `addInbox` returns the name it chose; `Cx::add_inbox` returns a typed
//   handle whose `name()` is that name.
// * Python's KeyError from `deleteInbox`/`deleteOutbox` is `Err(BoxError::NoSuchBox)`.
// * test_deleteInbox_validInbox / test_deleteOutbox_validOutbox delete one of
//   the *declared* boxes at random. In axon the declared boxes are the fields of
//   the component's box set and cannot be deleted (`delete_*` documents
//   `NoSuchBox` for a name that was not added at run time), so the port deletes
//   an added box, and checks that deleting a declared one is refused and leaves
//   it in place.
// * `added_inbox_receives_and_wakes_its_owner` is an addition: it checks that
//   an added inbox can be linked to, wakes its owner on delivery, and is seen by
//   `any_ready` after the declared inboxes, as Axon's added boxes share the
//   owner's notify.
//
// * `deleted_box_slot_is_reused_cleanly` is an addition: a component that adds
//   and deletes a box per connection must not grow, and a box taking a deleted
//   one's place must not receive what was meant for the deleted one.
//
// * Resource tracking is on `Cx` too: `trackResource` is `track_resource`,
//   `retrieveTrackedResource` is `retrieve_tracked_resource`,
//   `trackResourceInformation` is `track_resource_information`,
//   `retrieveTrackedResourceInformation` is
//   `retrieve_tracked_resource_information` (returning a `TrackedResource`
//   rather than a tuple), `ceaseTrackingResource` is `cease_tracking_resource`.
//   Python's KeyErrors are `ResourceError` variants: `NoSuchBox` for a box that
//   does not exist, `InboxNotTracked` / `ResourceNotTracked` for a lookup of
//   something not tracked. The original makes a "guaranteed" missing name by
//   appending the time to an added one; the port appends a fixed suffix.
// * The tests from `track_resource_refuses_a_tracked_inbox` on are additions:
//   Axon silently replaces a resource tracked twice, axon refuses
//   (`InboxAlreadyTracked`, `ResourceAlreadyTracked`); a deleted inbox's
//   resource goes with it; lookups check the type; nothing is recorded when
//   a call fails.
//
// Not ported:
//
// * test_SmokeTest_Arguments: Python ignores positional constructor arguments;
//   a Rust component is a struct, there is nothing to ignore.

//! Ports of Axon's adaptive comms component tests, onto axon's dynamic boxes.

mod util;

use axon::{
    BoxError, ComponentRef, Cx, Direction, Inbox, Outbox, ResourceError, Scheduler, Standard,
    TrackedResource,
};
use util::run_in_body;

type Boxes = Standard<u32, u32>;

fn inbox_names(c: &ComponentRef) -> Vec<String> {
    c.inboxes().into_iter().map(|b| b.name).collect()
}

fn outbox_names(c: &ComponentRef) -> Vec<String> {
    c.outboxes().into_iter().map(|b| b.name).collect()
}

mod adaptive_comms_component_test {
    use super::*;

    #[test]
    fn smoke_test_no_arguments() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            assert_eq!(inbox_names(&me), ["inbox", "control"]);
            assert_eq!(outbox_names(&me), ["outbox", "signal"]);
            assert!(cx.inbox.is_empty() && cx.control.is_empty());
            assert!(!cx.outbox.is_linked() && !cx.signal.is_linked());
        });
    }

    #[test]
    fn add_inbox_new_name() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let added: Inbox<String> = cx.add_inbox("name", "an added inbox");
            assert_eq!(added.name(), "name");
            assert!(inbox_names(&cx.component()).contains(&"name".to_string()));
            assert!(added.is_empty());
        });
    }

    #[test]
    fn add_inbox_existing_name() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let first: Inbox<String> = cx.add_inbox("name", "");
            let second: Inbox<String> = cx.add_inbox("name", "");
            assert_eq!(first.name(), "name");
            assert_ne!(second.name(), "name");
            assert!(second.name().starts_with("name"), "{}", second.name());
        });
    }

    #[test]
    fn add_outbox_new_name() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let added: Outbox<String> = cx.add_outbox("name", "an added outbox");
            assert_eq!(added.name(), "name");
            assert!(outbox_names(&cx.component()).contains(&"name".to_string()));
            assert!(!added.is_linked());
        });
    }

    #[test]
    fn add_outbox_existing_name() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let first: Outbox<String> = cx.add_outbox("name", "");
            let second: Outbox<String> = cx.add_outbox("name", "");
            assert_eq!(first.name(), "name");
            assert_ne!(second.name(), "name");
            assert!(second.name().starts_with("name"), "{}", second.name());
        });
    }

    #[test]
    fn inbox_modification() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            let mut added = Vec::new();
            for _ in 0..4 {
                let before = inbox_names(&me);
                let ib: Inbox<u32> = cx.add_inbox("name", "");
                let name = ib.name();
                assert!(!before.contains(&name), "a new name");
                assert!(inbox_names(&me).contains(&name), "listed");
                assert!(ib.is_empty());
                added.push(name);
            }
            for name in &added {
                cx.delete_inbox(name).unwrap();
                assert!(!inbox_names(&me).contains(name), "deleted");
            }
            assert_eq!(inbox_names(&me), ["inbox", "control"]);
            assert!(cx.inbox.is_empty() && cx.control.is_empty());
        });
    }

    #[test]
    fn outbox_modification() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            let mut added = Vec::new();
            for _ in 0..4 {
                let before = outbox_names(&me);
                let ob: Outbox<u32> = cx.add_outbox("name", "");
                let name = ob.name();
                assert!(!before.contains(&name), "a new name");
                assert!(outbox_names(&me).contains(&name), "listed");
                added.push(name);
            }
            for name in &added {
                cx.delete_outbox(name).unwrap();
                assert!(!outbox_names(&me).contains(name), "deleted");
            }
            assert_eq!(outbox_names(&me), ["outbox", "signal"]);
        });
    }

    #[test]
    fn delete_inbox_invalid_inbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let err = cx.delete_inbox("NonExistantInbox").unwrap_err();
            assert!(matches!(err, BoxError::NoSuchBox { .. }), "{err}");
            let ib: Inbox<u32> = cx.add_inbox("once", "");
            cx.delete_inbox(&ib.name()).unwrap();
            let again = cx.delete_inbox(&ib.name()).unwrap_err();
            assert!(
                matches!(again, BoxError::NoSuchBox { .. }),
                "already deleted"
            );
        });
    }

    #[test]
    fn delete_inbox_valid_inbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            let ib: Inbox<u32> = cx.add_inbox("doomed", "");
            let before = inbox_names(&me);
            cx.delete_inbox(&ib.name()).unwrap();
            let after = inbox_names(&me);
            assert_ne!(before, after);
            assert!(!after.contains(&ib.name()));

            // Declared inboxes are part of the component's type.
            assert!(cx.delete_inbox("inbox").is_err());
            assert!(inbox_names(&me).contains(&"inbox".to_string()));
        });
    }

    #[test]
    fn delete_outbox_invalid_outbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let err = cx.delete_outbox("NonExistantInbox").unwrap_err();
            assert!(matches!(err, BoxError::NoSuchBox { .. }), "{err}");
            let ob: Outbox<u32> = cx.add_outbox("once", "");
            cx.delete_outbox(&ob.name()).unwrap();
            assert!(cx.delete_outbox(&ob.name()).is_err(), "already deleted");
        });
    }

    #[test]
    fn delete_outbox_valid_outbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            let ob: Outbox<u32> = cx.add_outbox("doomed", "");
            let before = outbox_names(&me);
            cx.delete_outbox(&ob.name()).unwrap();
            let after = outbox_names(&me);
            assert_ne!(before, after);
            assert!(!after.contains(&ob.name()));

            assert!(cx.delete_outbox("outbox").is_err());
            assert!(outbox_names(&me).contains(&"outbox".to_string()));
        });
    }

    #[test]
    fn added_inbox_receives_and_wakes_its_owner() {
        let scheduler = Scheduler::new();
        scheduler.set_fail_fast(true);
        let name = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
        let got = util::Log::new();
        let (n, log) = (name.clone(), got.clone());
        let owner = util::body(move |cx: Cx<Boxes>| async move {
            let ib: Inbox<u32> = cx.add_inbox("extra", "");
            *n.borrow_mut() = ib.name();
            loop {
                if let Some(m) = ib.recv() {
                    log.push(format!("got {m}"));
                    return;
                }
                log.push("paused");
                cx.idle().await;
            }
        });
        let feeder = util::body(|_: Cx<Boxes>| async {});
        owner.activate_on(&scheduler);
        util::run_cycles(&scheduler, 3);
        assert!(owner.is_paused());
        assert_eq!(got.entries(), ["paused"], "asleep until something arrives");

        let name = name.borrow().clone();
        feeder
            .link((&feeder, "outbox"), (&owner, name.as_str()))
            .unwrap();
        feeder.outbox::<u32>("outbox").unwrap().try_send(9).unwrap();
        assert_eq!(owner.any_ready(), Some(name.clone()));
        assert!(!owner.is_paused(), "the delivery woke it");
        // Woken between cycles: queued at the end of the next cycle, run in the
        // one after.
        assert!(scheduler.run_cycle(), "only queued");
        assert_eq!(got.entries(), ["paused"]);
        assert!(
            !scheduler.run_cycle(),
            "woken, it takes the message and ends"
        );
        assert_eq!(got.entries(), ["paused", "got 9"]);

        // Added inboxes come after the declared ones for `any_ready`.
        owner.inbox::<u32>(&name).unwrap().deliver(2).unwrap();
        owner.inbox::<u32>("inbox").unwrap().deliver(1).unwrap();
        assert_eq!(owner.any_ready().as_deref(), Some("inbox"));
    }

    #[test]
    fn deleted_box_slot_is_reused_cleanly() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            let feeder = util::body(|_: Cx<Boxes>| async {});
            let keep: Inbox<u32> = cx.add_inbox("keep", "");
            for round in 0..1000u32 {
                let old: Inbox<u32> = cx.add_inbox("conn", "");
                let link = feeder.link((&feeder, "outbox"), &old).unwrap();
                assert!(link.is_live());
                cx.delete_inbox(&old.name()).unwrap();
                assert!(!link.is_live(), "deleting a box removes its links");
                let new: Inbox<u32> = cx.add_inbox("conn", "");
                assert_eq!(new.name(), "conn", "the name is free again");
                // The link to the deleted box went with it.
                assert!(feeder
                    .outbox::<u32>("outbox")
                    .unwrap()
                    .try_send(round)
                    .is_ok());
                assert_eq!(new.recv(), None, "nothing meant for the old box");
                me.inbox::<u32>("conn").unwrap().deliver(round).unwrap();
                assert_eq!(new.recv(), Some(round));
                cx.delete_inbox(&new.name()).unwrap();
            }
            assert_eq!(inbox_names(&me), ["inbox", "control", "keep"]);
            me.inbox::<u32>("keep").unwrap().deliver(7).unwrap();
            assert_eq!(keep.recv(), Some(7), "the kept box was never disturbed");
        });
    }

    const INFO: &str = "qwertyuiopasdfghjklzxcvbnm";

    #[test]
    fn track_resource_valid_default_inbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            cx.track_resource("resource", "inbox").unwrap();
            assert_eq!(
                cx.retrieve_tracked_resource::<&str>("inbox").unwrap(),
                "resource"
            );
        });
    }

    #[test]
    fn track_resource_valid_dynamic_inbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let ib: Inbox<u32> = cx.add_inbox("dynamic", "");
            cx.track_resource(String::from("resource"), &ib.name())
                .unwrap();
            assert_eq!(
                cx.retrieve_tracked_resource::<String>(&ib.name()).unwrap(),
                "resource"
            );
            assert_eq!(
                cx.retrieve_tracked_resource::<String>("inbox"),
                Err(ResourceError::InboxNotTracked {
                    component: cx.id(),
                    inbox: "inbox".into()
                }),
                "tracked on that inbox only"
            );
        });
    }

    #[test]
    fn track_resource_invalid_inbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let ib: Inbox<u32> = cx.add_inbox("name", "");
            let missing = format!("{}-missing", ib.name());
            assert_eq!(
                cx.track_resource("resource", &missing),
                Err(ResourceError::NoSuchBox {
                    component: cx.id(),
                    direction: Direction::Inbox,
                    name: missing.clone()
                })
            );
            assert!(
                cx.track_resource("resource", "outbox").is_err(),
                "an outbox is not an inbox"
            );
            assert_eq!(
                cx.retrieve_tracked_resource::<&str>(&missing),
                Err(ResourceError::InboxNotTracked {
                    component: cx.id(),
                    inbox: missing.clone()
                }),
                "nothing was recorded"
            );
        });
    }

    #[test]
    fn track_resource_information_valid_default_boxes() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let me = cx.component();
            let (inboxes, outboxes) = (inbox_names(&me), outbox_names(&me));
            cx.track_resource_information("resource", &inboxes, &outboxes, INFO)
                .unwrap();
            let tracked = cx
                .retrieve_tracked_resource_information::<&str, &str>(&"resource")
                .unwrap();
            assert_eq!(
                tracked,
                TrackedResource {
                    inboxes: vec!["inbox".into(), "control".into()],
                    outboxes: vec!["outbox".into(), "signal".into()],
                    information: INFO,
                }
            );
        });
    }

    #[test]
    fn track_resource_information_valid_dynamic_boxes() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let inboxes: Vec<String> = (0..3)
                .map(|_| cx.add_inbox::<u32>("dynamic", "").name())
                .collect();
            let outboxes: Vec<String> = (0..3)
                .map(|_| cx.add_outbox::<u32>("dynamic", "").name())
                .collect();
            cx.track_resource_information("resource", &inboxes, &outboxes, INFO)
                .unwrap();
            let tracked = cx
                .retrieve_tracked_resource_information::<&str, &str>(&"resource")
                .unwrap();
            assert_eq!(tracked.inboxes, inboxes, "in the order given");
            assert_eq!(tracked.outboxes, outboxes);
            assert_eq!(tracked.information, INFO);
        });
    }

    #[test]
    fn track_resource_information_invalid_inboxes() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let missing = format!("{}-missing", cx.add_inbox::<u32>("name", "").name());
            let outboxes = [cx.add_outbox::<u32>("dynamic", "").name()];
            assert_eq!(
                cx.track_resource_information("resource", &[missing.as_str()], &outboxes, INFO),
                Err(ResourceError::NoSuchBox {
                    component: cx.id(),
                    direction: Direction::Inbox,
                    name: missing.clone()
                })
            );
            assert!(
                matches!(
                    cx.retrieve_tracked_resource_information::<&str, &str>(&"resource"),
                    Err(ResourceError::ResourceNotTracked { .. })
                ),
                "nothing was recorded"
            );
        });
    }

    #[test]
    fn track_resource_information_invalid_outboxes() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let inboxes = [cx.add_inbox::<u32>("dynamic", "").name()];
            let missing = format!("{}-missing", cx.add_outbox::<u32>("name", "").name());
            assert_eq!(
                cx.track_resource_information("resource", &inboxes, &[missing.as_str()], INFO),
                Err(ResourceError::NoSuchBox {
                    component: cx.id(),
                    direction: Direction::Outbox,
                    name: missing.clone()
                })
            );
            assert!(
                cx.track_resource_information("resource", &["outbox"], &[] as &[&str], INFO)
                    .is_err(),
                "an outbox named as an inbox is refused"
            );
            assert!(matches!(
                cx.retrieve_tracked_resource_information::<&str, &str>(&"resource"),
                Err(ResourceError::ResourceNotTracked { .. })
            ));
        });
    }

    #[test]
    fn track_resource_refuses_a_tracked_inbox() {
        run_in_body(|cx: Cx<Boxes>| async move {
            cx.track_resource(1u32, "inbox").unwrap();
            assert_eq!(
                cx.track_resource(2u32, "inbox"),
                Err(ResourceError::InboxAlreadyTracked {
                    component: cx.id(),
                    inbox: "inbox".into()
                })
            );
            assert_eq!(
                cx.retrieve_tracked_resource::<u32>("inbox").unwrap(),
                1,
                "the first is kept"
            );
            cx.untrack_resource("inbox").unwrap();
            assert!(matches!(
                cx.untrack_resource("inbox"),
                Err(ResourceError::InboxNotTracked { .. })
            ));
            cx.track_resource(2u32, "inbox").unwrap();
            assert_eq!(cx.retrieve_tracked_resource::<u32>("inbox").unwrap(), 2);
        });
    }

    #[test]
    fn deleting_an_inbox_stops_tracking_its_resource() {
        run_in_body(|cx: Cx<Boxes>| async move {
            let keep: Inbox<u32> = cx.add_inbox("keep", "");
            cx.track_resource(
                ComponentRef::new(axon::from_fn(|_: Cx<Boxes>| async {})),
                &keep.name(),
            )
            .unwrap();
            for round in 0..3u32 {
                let conn: Inbox<u32> = cx.add_inbox("conn", "");
                assert_eq!(conn.name(), "conn");
                assert!(
                    matches!(
                        cx.retrieve_tracked_resource::<u32>("conn"),
                        Err(ResourceError::InboxNotTracked { .. })
                    ),
                    "a new box with an old name starts untracked"
                );
                cx.track_resource(round, "conn").unwrap();
                assert_eq!(cx.retrieve_tracked_resource::<u32>("conn").unwrap(), round);
                cx.delete_inbox("conn").unwrap();
            }
            assert!(cx
                .retrieve_tracked_resource::<ComponentRef>(&keep.name())
                .is_ok());
        });
    }

    #[test]
    fn a_dropped_resource_is_released() {
        let resource = std::rc::Rc::new(());
        let held = resource.clone();
        run_in_body(move |cx: Cx<Boxes>| async move {
            let probe = std::rc::Rc::downgrade(&held);
            let conn: Inbox<u32> = cx.add_inbox("conn", "");
            cx.track_resource(held, &conn.name()).unwrap();
            assert_eq!(probe.strong_count(), 2, "the component holds it");
            cx.delete_inbox(&conn.name()).unwrap();
            assert_eq!(
                probe.strong_count(),
                1,
                "deleting the inbox let the resource go"
            );
        });
        assert_eq!(std::rc::Rc::strong_count(&resource), 1);
    }

    #[test]
    fn tracked_things_are_found_only_as_their_own_type() {
        run_in_body(|cx: Cx<Boxes>| async move {
            cx.track_resource(5u32, "inbox").unwrap();
            let err = cx.retrieve_tracked_resource::<String>("inbox").unwrap_err();
            assert_eq!(
                err,
                ResourceError::WrongType {
                    component: cx.id(),
                    key: "inbox \"inbox\"".into(),
                    expected: std::any::type_name::<String>(),
                    actual: "u32",
                }
            );
            assert!(err.to_string().contains("u32"), "{err}");

            cx.track_resource_information(7u64, &["inbox"], &["outbox"], 1.5f64)
                .unwrap();
            assert!(matches!(
                cx.retrieve_tracked_resource_information::<u64, String>(&7),
                Err(ResourceError::WrongType { actual: "f64", .. })
            ));
            assert!(
                matches!(
                    cx.retrieve_tracked_resource_information::<u32, f64>(&7),
                    Err(ResourceError::ResourceNotTracked { .. })
                ),
                "7u32 is another resource than 7u64"
            );
            let tracked = cx
                .retrieve_tracked_resource_information::<u64, f64>(&7)
                .unwrap();
            assert_eq!(tracked.information, 1.5);
        });
    }

    #[test]
    fn cease_tracking_resource() {
        run_in_body(|cx: Cx<Boxes>| async move {
            cx.track_resource_information(3u8, &["inbox"], &["outbox"], "first")
                .unwrap();
            assert_eq!(
                cx.track_resource_information(3u8, &["control"], &["signal"], "second"),
                Err(ResourceError::ResourceAlreadyTracked {
                    component: cx.id(),
                    resource: "3".into()
                })
            );
            assert_eq!(
                cx.retrieve_tracked_resource_information::<u8, &str>(&3)
                    .unwrap()
                    .information,
                "first",
                "the first is kept"
            );
            cx.cease_tracking_resource(&3u8).unwrap();
            assert_eq!(
                cx.cease_tracking_resource(&3u8),
                Err(ResourceError::ResourceNotTracked {
                    component: cx.id(),
                    resource: "3".into()
                })
            );
            assert_eq!(
                inbox_names(&cx.component()),
                ["inbox", "control"],
                "the boxes themselves are untouched"
            );
            cx.track_resource_information(3u8, &["control"], &["signal"], "second")
                .unwrap();
            let tracked = cx
                .retrieve_tracked_resource_information::<u8, &str>(&3)
                .unwrap();
            assert_eq!(tracked.inboxes, ["control"]);
            assert_eq!(tracked.information, "second");
        });
    }
}
