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
// * axon has no list of tracked value names (`informationItemsLogged`), so
//   test_trackValue_basic checks that the tracked value can be read back, and
//   the smoke test checks the list of services only.
// * `components_share_their_schedulers_tracker` is an addition standing in for
//   Axon's `getcat()` singleton: a component's `Cx::tracker()` is its
//   scheduler's tracker.
//
// Not ported:
//
// * test_SmokeTest_SingleParent, test_SmokeTest_InvalidSingleParent: axon
//   trackers have no parent (Axon stores one and never uses it).
// * test_registerService_BadComponent: registering something that is not a
//   component does not compile in Rust.
// * test_informationItemsLogged: no axon API lists tracked values.

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
