// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_CoordinatingAssistantTracker.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * Axon's coordinating assistant tracker is `axon::Tracker`. Its exceptions
//   are `ServiceError` variants: `ServiceAlreadyExists` is `AlreadyExists`,
//   `BadInbox` is `BadInbox`, the KeyError of `retrieveService` and
//   `MultipleServiceDeletion` are `NotFound`, `NamespaceClash` is
//   `NamespaceClash`, and `AccessToUndeclaredTrackedVariable` is
//   `UndeclaredValue`.
// * `retrieveService` returns a `Service { component, inbox }` rather than a
//   tuple.
// * `informationItemsLogged` is `values_tracked`, which returns the names
//   sorted (the original test sorts them itself).
// * `cat._parent` is `Tracker::parent()`.
// * test_SmokeTest_InvalidSingleParent: a parent that is not a tracker does
//   not compile in Rust, so `BadParentTracker` has no counterpart. The misuse
//   that remains, making a tracker its own ancestor, is refused with
//   `ServiceError::ParentCycle`, which the port checks instead.
// * Axon stores the parent but never consults it; axon's lookups
//   (`retrieve_service`, `retrieve_value`, `update_value`) fall back to the
//   parent chain. The tests from `parent_lookup_falls_back_to_the_chain` on are
//   additions checking that, and that everything else stays local.
// * `components_share_their_schedulers_tracker` is an addition standing in for
//   Axon's `getcat()` singleton: a component's `Cx::tracker()` is its
//   scheduler's tracker.
//
// Not ported:
//
// * test_registerService_BadComponent: registering something that is not a
//   component does not compile in Rust.

//! Ports of Axon's coordinating assistant tracker tests, onto `axon::Tracker`.

mod util;

use axon::{Component, ComponentRef, Cx, Scheduler, ServiceError, Standard, Tracker};

/// Does nothing; offers its inboxes as services.
struct Dummy;

impl Component for Dummy {
    type Boxes = Standard<(), ()>;

    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

mod coordinating_assistant_tracker_test {
    use super::*;

    const HITS: &str = "stats.pages.hitcount";

    #[test]
    fn smoke_test_no_arguments() {
        let cat = Tracker::new();
        assert!(cat.services_registered().is_empty());
        assert!(cat.values_tracked().is_empty());
        assert_eq!(cat.parent(), None);
    }

    #[test]
    fn smoke_test_single_parent() {
        let parentcat = Tracker::new();
        let cat = Tracker::with_parent(&parentcat);
        assert_eq!(cat.parent(), Some(parentcat.clone()));
        assert_ne!(cat, parentcat, "a new tracker, not the parent");
        assert_eq!(parentcat.parent(), None);
    }

    #[test]
    fn smoke_test_invalid_single_parent() {
        let cat = Tracker::new();
        assert_eq!(cat.set_parent(Some(&cat)), Err(ServiceError::ParentCycle));
        assert_eq!(cat.parent(), None, "unchanged");

        let child = Tracker::with_parent(&cat);
        let grandchild = Tracker::with_parent(&child);
        assert_eq!(
            cat.set_parent(Some(&grandchild)),
            Err(ServiceError::ParentCycle),
            "a descendant cannot become an ancestor"
        );
        assert_eq!(cat.parent(), None, "unchanged");

        let other = Tracker::new();
        cat.set_parent(Some(&other)).unwrap();
        assert_eq!(grandchild.parent(), Some(child.clone()));
        assert_eq!(cat.parent(), Some(other));
        cat.set_parent(None).unwrap();
        assert_eq!(cat.parent(), None);
    }

    #[test]
    fn register_service_add() {
        let cat = Tracker::new();
        let c = ComponentRef::new(Dummy);
        cat.register_service("someservice", &c, "control").unwrap();
        assert_eq!(cat.services_registered(), ["someservice"]);
    }

    #[test]
    fn register_service_add_existing() {
        let cat = Tracker::new();
        let c = ComponentRef::new(Dummy);
        cat.register_service("someservice", &c, "control").unwrap();
        assert_eq!(
            cat.register_service("someservice", &c, "control"),
            Err(ServiceError::AlreadyExists("someservice".into()))
        );
        assert_eq!(cat.services_registered(), ["someservice"]);
    }

    #[test]
    fn register_service_bad_inbox() {
        let cat = Tracker::new();
        let c = ComponentRef::new(Dummy);
        assert_eq!(
            cat.register_service("someservice", &c, "badinbox"),
            Err(ServiceError::BadInbox {
                component: c.id(),
                inbox: "badinbox".into()
            })
        );
        assert_eq!(
            cat.register_service("someservice", &c, "outbox"),
            Err(ServiceError::BadInbox {
                component: c.id(),
                inbox: "outbox".into()
            }),
            "an outbox is not an inbox"
        );
        assert!(cat.services_registered().is_empty());
    }

    #[test]
    fn retrieve_service_basic() {
        let cat = Tracker::new();
        let c = ComponentRef::new(Dummy);
        cat.register_service("someservice", &c, "control").unwrap();
        let service = cat.retrieve_service("someservice").unwrap();
        assert_eq!(service.component, c);
        assert_eq!(service.inbox, "control");
    }

    #[test]
    fn retrieve_service_nonexistantservice() {
        let cat = Tracker::new();
        assert_eq!(
            cat.retrieve_service("someservice"),
            Err(ServiceError::NotFound("someservice".into()))
        );
    }

    #[test]
    fn de_register_service() {
        let cat = Tracker::new();
        let c = ComponentRef::new(Dummy);
        cat.register_service("someservice", &c, "control").unwrap();
        cat.deregister_service("someservice").unwrap();
        assert!(cat.services_registered().is_empty());
        assert_eq!(
            cat.retrieve_service("someservice"),
            Err(ServiceError::NotFound("someservice".into()))
        );
    }

    #[test]
    fn de_register_service_non_existant_service() {
        let cat = Tracker::new();
        assert_eq!(
            cat.deregister_service("someservice"),
            Err(ServiceError::NotFound("someservice".into()))
        );
    }

    #[test]
    fn track_value_basic() {
        let cat = Tracker::new();
        cat.track_value(HITS, 5u32).unwrap();
        cat.track_value("stats.pages.title", String::from("home"))
            .unwrap();
        assert_eq!(
            cat.values_tracked(),
            ["stats.pages.hitcount", "stats.pages.title"]
        );
        assert_eq!(*cat.retrieve_value::<u32>(HITS).unwrap(), 5);
        assert_eq!(
            *cat.retrieve_value::<String>("stats.pages.title").unwrap(),
            "home",
            "each name keeps its own value, of its own type"
        );
        assert!(
            cat.services_registered().is_empty(),
            "values are not services"
        );
    }

    #[test]
    fn track_value_add_twice() {
        let cat = Tracker::new();
        cat.track_value(HITS, 5u32).unwrap();
        assert_eq!(
            cat.track_value(HITS, 6u32),
            Err(ServiceError::NamespaceClash(HITS.into()))
        );
        assert_eq!(*cat.retrieve_value::<u32>(HITS).unwrap(), 5, "unchanged");
    }

    #[test]
    fn retrieve_value_basic() {
        let cat = Tracker::new();
        cat.track_value(HITS, 5u32).unwrap();
        let first = cat.retrieve_value::<u32>(HITS).unwrap();
        let second = cat.retrieve_value::<u32>(HITS).unwrap();
        assert_eq!(*first, 5);
        assert!(
            std::rc::Rc::ptr_eq(&first, &second),
            "retrieving shares the tracked value rather than taking or copying it"
        );
        assert_eq!(
            cat.retrieve_value::<String>(HITS).unwrap_err(),
            ServiceError::UndeclaredValue(HITS.into()),
            "a value is only found as the type it was tracked with"
        );
    }

    #[test]
    fn retrieve_value_not_stored() {
        let cat = Tracker::new();
        assert_eq!(
            cat.retrieve_value::<u32>(HITS).unwrap_err(),
            ServiceError::UndeclaredValue(HITS.into())
        );
    }

    #[test]
    fn update_value_basic() {
        let cat = Tracker::new();
        cat.track_value(HITS, 5u32).unwrap();
        cat.update_value(HITS, 10u32).unwrap();
        assert_eq!(*cat.retrieve_value::<u32>(HITS).unwrap(), 10);
    }

    #[test]
    fn update_value_undeclared_tracked_variable() {
        let cat = Tracker::new();
        assert_eq!(
            cat.update_value(HITS, 10u32),
            Err(ServiceError::UndeclaredValue(HITS.into()))
        );
        assert_eq!(
            cat.retrieve_value::<u32>(HITS).unwrap_err(),
            ServiceError::UndeclaredValue(HITS.into()),
            "not created by the update"
        );
    }

    #[test]
    fn information_items_logged() {
        let cat = Tracker::new();
        cat.track_value("stats.pages.hitcount", 5u32).unwrap();
        cat.track_value("stats.pages.pagecount", 6u32).unwrap();
        cat.track_value("stats.foobar.count", 7u32).unwrap();
        assert_eq!(
            cat.values_tracked(),
            [
                "stats.foobar.count",
                "stats.pages.hitcount",
                "stats.pages.pagecount"
            ]
        );
        cat.update_value("stats.foobar.count", 8u32).unwrap();
        assert_eq!(cat.values_tracked().len(), 3, "an update adds no name");
        cat.zap();
        assert!(cat.values_tracked().is_empty());
    }

    #[test]
    fn parent_lookup_falls_back_to_the_chain() {
        let root = Tracker::new();
        let middle = Tracker::with_parent(&root);
        let leaf = Tracker::with_parent(&middle);
        let selector = ComponentRef::new(Dummy);
        root.register_service("selector", &selector, "inbox")
            .unwrap();
        root.track_value(HITS, 5u32).unwrap();

        let found = leaf.retrieve_service("selector").unwrap();
        assert_eq!(found.component, selector, "found two levels up");
        assert_eq!(found.inbox, "inbox");
        assert_eq!(*leaf.retrieve_value::<u32>(HITS).unwrap(), 5);
        assert_eq!(
            leaf.retrieve_value::<String>(HITS).unwrap_err(),
            ServiceError::UndeclaredValue(HITS.into()),
            "the type is still checked"
        );
        assert_eq!(
            leaf.retrieve_service("nowhere"),
            Err(ServiceError::NotFound("nowhere".into())),
            "not found anywhere in the chain"
        );
        assert_eq!(
            root.retrieve_service("local"),
            Err(ServiceError::NotFound("local".into()))
        );
        let local = ComponentRef::new(Dummy);
        leaf.register_service("local", &local, "control").unwrap();
        assert_eq!(
            root.retrieve_service("local"),
            Err(ServiceError::NotFound("local".into())),
            "a parent does not look at its children"
        );
    }

    #[test]
    fn a_childs_names_shadow_its_parents() {
        let root = Tracker::new();
        let leaf = Tracker::with_parent(&root);
        let (global, mine) = (ComponentRef::new(Dummy), ComponentRef::new(Dummy));
        root.register_service("log", &global, "inbox").unwrap();
        root.track_value(HITS, 5u32).unwrap();
        leaf.register_service("log", &mine, "inbox").unwrap();
        leaf.track_value(HITS, String::from("local")).unwrap();

        assert_eq!(leaf.retrieve_service("log").unwrap().component, mine);
        assert_eq!(root.retrieve_service("log").unwrap().component, global);
        assert_eq!(*leaf.retrieve_value::<String>(HITS).unwrap(), "local");
        assert_eq!(
            leaf.retrieve_value::<u32>(HITS).unwrap_err(),
            ServiceError::UndeclaredValue(HITS.into()),
            "the nearest holder answers, even with another type"
        );
        leaf.deregister_service("log").unwrap();
        assert_eq!(
            leaf.retrieve_service("log").unwrap().component,
            global,
            "withdrawn, the parent's shows through again"
        );
    }

    #[test]
    fn writes_through_a_child_stay_local_except_updates() {
        let root = Tracker::new();
        let leaf = Tracker::with_parent(&root);
        let c = ComponentRef::new(Dummy);
        root.register_service("svc", &c, "inbox").unwrap();
        root.track_value(HITS, 5u32).unwrap();

        assert_eq!(
            leaf.deregister_service("svc"),
            Err(ServiceError::NotFound("svc".into())),
            "a child cannot withdraw its parent's service"
        );
        assert_eq!(root.services_registered(), ["svc"]);
        assert!(leaf.services_registered().is_empty(), "listings are local");
        assert!(leaf.values_tracked().is_empty());

        leaf.update_value(HITS, 6u32).unwrap();
        assert_eq!(
            *root.retrieve_value::<u32>(HITS).unwrap(),
            6,
            "an update changes the value a lookup finds"
        );
        assert!(leaf.values_tracked().is_empty(), "and creates none locally");

        leaf.track_value("mine", 1u32).unwrap();
        leaf.zap();
        assert_eq!(leaf.parent(), Some(root.clone()), "zap keeps the parent");
        assert_eq!(root.values_tracked(), [HITS], "and the parent's values");
        assert_eq!(*leaf.retrieve_value::<u32>(HITS).unwrap(), 6);
    }

    #[test]
    fn a_schedulers_tracker_can_be_given_a_parent() {
        let system = Tracker::new();
        let c = ComponentRef::new(Dummy);
        system.register_service("selector", &c, "inbox").unwrap();
        let scheduler = Scheduler::new();
        scheduler.tracker().set_parent(Some(&system)).unwrap();
        let found = util::body(|cx: Cx<Standard<(), ()>>| async move {
            let service = cx.tracker().retrieve_service("selector").unwrap();
            cx.tracker().track_value("found", service.inbox).unwrap();
        });
        found.activate_on(&scheduler);
        scheduler.run().unwrap();
        assert!(
            found.panic_message().is_none(),
            "{:?}",
            found.panic_message()
        );
        assert_eq!(
            *scheduler
                .tracker()
                .retrieve_value::<String>("found")
                .unwrap(),
            "inbox"
        );
    }

    #[test]
    fn components_share_their_schedulers_tracker() {
        let scheduler = Scheduler::new();
        let provider = util::body(|cx: Cx<Standard<(), ()>>| async move {
            cx.tracker()
                .register_service("echo", &cx.component(), "inbox")
                .unwrap();
        });
        provider.activate_on(&scheduler);
        scheduler.run().unwrap();
        assert!(provider.panic_message().is_none());
        let service = scheduler.tracker().retrieve_service("echo").unwrap();
        assert_eq!(service.component, provider);
        assert_eq!(
            Scheduler::new().tracker().retrieve_service("echo"),
            Err(ServiceError::NotFound("echo".into())),
            "another scheduler has its own tracker"
        );
    }
}
