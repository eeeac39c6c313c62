// Ported from sparkslabs/kamaelia: Tests/Python/Axon/test_Postoffice.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. Changes made in porting:
//
// * The original's linkestablishes / linkdisengages tests use fake boxes that
//   record `addsource` / `removesource` calls. axon's boxes cannot be faked, so
//   the port checks what those calls cause: which boxes are linked (a send
//   arrives, `Outbox::is_linked`, a second link from the same source is refused
//   naming its current destination) and that no other box was touched.
// * The passthrough kind is implied by the boxes (inbox to inbox, outbox to
//   outbox) instead of being passed as `passthrough=1|2`; the port checks
//   `Linkage::passthrough()`.
// * Python's `noSpaceInBox` exception is `Outbox::try_send` returning
//   `Err(NoSpaceInBox)`; `BoxAlreadyLinkedToDestination` is a `LinkError` of
//   kind `AlreadyLinked`.
// * "Run for a while" (100 calls of the scheduler generator) is 100 cycles,
//   `Scheduler::run_cycle`: the scheduler is stepped per cycle rather than per
//   microprocess. Chain checks wait 10 cycles as the original does.
// * Chain checks also put a message into each intermediate inbox (Axon's
//   `_deliver`, axon's `Inbox::deliver`) and expect it at the end of the chain;
//   the original only sends from outboxes.
// * test___str__ compares the postoffice's `Debug` form with the format the
//   original expects, `{{ POSTOFFICE: links [...] }}`.
//
// Not ported:
//
// * test___init__SmokeTest_DebugnameArgument: axon's postoffice has no debug
//   name (components have ids); the no-argument smoke test is ported.

//! Ports of Axon's postoffice tests: registering linkages, chains of links, and
//! size-limited inboxes.

mod util;

use axon::{ComponentRef, LinkErrorKind, Passthrough, Postoffice, Scheduler};

/// A component whose standard boxes carry `u32`s; only its boxes are used.
fn plain() -> ComponentRef {
    util::plain::<u32, u32>()
}

fn inbox_len(c: &ComponentRef, name: &str) -> usize {
    if name == "inbox" {
        c.inbox::<u32>(name).unwrap().len()
    } else {
        c.inbox::<axon::ipc::Ipc>(name).unwrap().len()
    }
}

/// True if the outbox leads to some inbox.
fn outbox_linked(c: &ComponentRef, name: &str) -> bool {
    if name == "outbox" {
        c.outbox::<u32>(name).unwrap().is_linked()
    } else {
        c.outbox::<axon::ipc::Ipc>(name).unwrap().is_linked()
    }
}

/// Where a source box is currently linked, according to the refusal of a
/// second link from it (`None` if a new link is accepted, and then removed).
fn current_target(po: &Postoffice, source: (&ComponentRef, &str)) -> Option<(u64, String)> {
    let probe = plain();
    let sink_name = if source.1 == "inbox" || source.1 == "outbox" {
        "inbox"
    } else {
        "control"
    };
    match po.link(source, (&probe, sink_name)) {
        Ok(l) => {
            po.unlink(&l);
            None
        }
        Err(e) => match e.kind() {
            LinkErrorKind::AlreadyLinked { current, .. } => Some((
                current.component.unwrap().number(),
                current.name.to_string(),
            )),
            other => panic!("unexpected refusal: {other:?}"),
        },
    }
}

/// Checks that none of `c`'s boxes, other than those named in `except`, is
/// linked anywhere or holds anything.
fn untouched(po: &Postoffice, c: &ComponentRef, except: &[&str]) {
    for name in ["inbox", "control"] {
        if !except.contains(&name) {
            assert_eq!(inbox_len(c, name), 0, "{c} inbox {name} is empty");
            assert_eq!(
                current_target(po, (c, name)),
                None,
                "{c} inbox {name} is not linked"
            );
        }
    }
    for name in ["outbox", "signal"] {
        if !except.contains(&name) {
            assert!(!outbox_linked(c, name), "{c} outbox {name} is not linked");
            assert_eq!(
                current_target(po, (c, name)),
                None,
                "{c} outbox {name} is not linked"
            );
        }
    }
}

mod postoffice_test {
    use super::*;

    #[test]
    fn init_smoke_test_no_arguments() {
        let p = Postoffice::new();
        assert!(p.linkages().is_empty());
    }

    #[test]
    fn str_checks_string_format_strict() {
        let p = Postoffice::new();
        assert_eq!(format!("{p:?}"), "{{ POSTOFFICE: links [] }}");
        let (c1, c2) = (plain(), plain());
        p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        assert_eq!(
            format!("{p:?}"),
            format!("{{{{ POSTOFFICE: links {:?} }}}}", p.linkages())
        );
    }

    #[test]
    fn linkestablishes() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l = p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        assert_eq!(l.passthrough(), Passthrough::Normal);
        assert_eq!(
            current_target(&p, (&c1, "outbox")),
            Some((c2.id().number(), "inbox".into()))
        );
        c1.outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
        assert_eq!(c2.inbox::<u32>("inbox").unwrap().recv(), Some(1));
        untouched(&p, &c1, &["outbox"]);
        untouched(&p, &c2, &["inbox"]);
    }

    #[test]
    fn linkestablishes_inboxinboxpassthrough() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l = p.link((&c1, "inbox"), (&c2, "inbox")).unwrap();
        assert_eq!(l.passthrough(), Passthrough::Inbox);
        assert_eq!(
            current_target(&p, (&c1, "inbox")),
            Some((c2.id().number(), "inbox".into()))
        );
        c1.inbox::<u32>("inbox").unwrap().deliver(1).unwrap();
        assert_eq!(inbox_len(&c1, "inbox"), 0);
        assert_eq!(c2.inbox::<u32>("inbox").unwrap().recv(), Some(1));
        untouched(&p, &c1, &["inbox"]);
        untouched(&p, &c2, &["inbox"]);
    }

    #[test]
    fn linkestablishes_outboxoutboxpassthrough() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l = p.link((&c1, "outbox"), (&c2, "outbox")).unwrap();
        assert_eq!(l.passthrough(), Passthrough::Outbox);
        assert_eq!(
            current_target(&p, (&c1, "outbox")),
            Some((c2.id().number(), "outbox".into()))
        );
        // Neither outbox leads to an inbox yet.
        assert!(!outbox_linked(&c1, "outbox"));
        assert!(!outbox_linked(&c2, "outbox"));
        untouched(&p, &c1, &["outbox"]);
        untouched(&p, &c2, &[]);
    }

    #[test]
    fn linkregistered() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l1 = p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        assert!(p.is_registered(&l1));
        let l2 = p.link((&c1, "signal"), (&c2, "control")).unwrap();
        assert!(p.is_registered(&l1) && p.is_registered(&l2));
        assert_eq!(p.linkages(), [l1, l2]);
    }

    #[test]
    fn linkderegisters() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l1 = p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        let l2 = p.link((&c1, "signal"), (&c2, "control")).unwrap();
        p.unlink(&l1);
        assert!(!p.is_registered(&l1));
        assert!(p.is_registered(&l2));
    }

    #[test]
    fn componentlinksderegisters() {
        let p = Postoffice::new();
        let (c1, c2, c3) = (plain(), plain(), plain());
        let l1 = p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        let l2 = p.link((&c1, "signal"), (&c2, "control")).unwrap();
        let l3 = p.link((&c2, "outbox"), (&c3, "inbox")).unwrap();
        let l4 = p.link((&c2, "signal"), (&c3, "control")).unwrap();
        p.unlink_component(&c1);
        assert!(!p.is_registered(&l1));
        assert!(!p.is_registered(&l2));
        assert!(p.is_registered(&l3));
        assert!(p.is_registered(&l4));
        assert!(!outbox_linked(&c1, "outbox"));
        assert!(outbox_linked(&c2, "outbox"));
    }

    #[test]
    fn linkdisengages() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l1 = p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        p.unlink(&l1);
        assert!(!l1.is_live());
        c1.outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
        assert_eq!(inbox_len(&c2, "inbox"), 0, "the send was dropped");
        untouched(&p, &c1, &[]);
        untouched(&p, &c2, &[]);
    }

    #[test]
    fn linkdisengages_inboxinboxpassthrough() {
        let p = Postoffice::new();
        let (c1, c2) = (plain(), plain());
        let l1 = p.link((&c1, "inbox"), (&c2, "inbox")).unwrap();
        p.unlink(&l1);
        c1.inbox::<u32>("inbox").unwrap().deliver(1).unwrap();
        assert_eq!(inbox_len(&c2, "inbox"), 0);
        assert_eq!(
            c1.inbox::<u32>("inbox").unwrap().recv(),
            Some(1),
            "kept in its own inbox"
        );
        untouched(&p, &c1, &[]);
        untouched(&p, &c2, &[]);
    }

    #[test]
    fn linkdisengages_outboxoutboxpassthrough() {
        let p = Postoffice::new();
        let (c1, c2, c3) = (plain(), plain(), plain());
        let l1 = p.link((&c1, "outbox"), (&c2, "outbox")).unwrap();
        let onward = p.link((&c2, "outbox"), (&c3, "inbox")).unwrap();
        assert!(outbox_linked(&c1, "outbox"));
        p.unlink(&l1);
        assert!(!outbox_linked(&c1, "outbox"));
        c1.outbox::<u32>("outbox").unwrap().try_send(1).unwrap();
        assert_eq!(inbox_len(&c3, "inbox"), 0);
        p.unlink(&onward);
        untouched(&p, &c1, &[]);
        untouched(&p, &c2, &[]);
    }

    #[test]
    fn box_already_linked_to_destination_exception() {
        let p = Postoffice::new();
        let (c1, c2, c3) = (plain(), plain(), plain());
        let l1 = p.link((&c1, "outbox"), (&c2, "inbox")).unwrap();
        let err = p.link((&c1, "outbox"), (&c3, "inbox")).unwrap_err();
        assert!(
            matches!(err.kind(), LinkErrorKind::AlreadyLinked { .. }),
            "{err}"
        );
        p.unlink(&l1);
        p.link((&c1, "outbox"), (&c3, "inbox")).unwrap();
    }
}

mod linkagechaining_test {
    use super::*;
    use util::busy_waiters;

    fn init_components(n: usize) -> (Scheduler, Vec<ComponentRef>) {
        let scheduler = Scheduler::new();
        let components = busy_waiters(&scheduler, n)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        (scheduler, components)
    }

    /// Puts a distinct message into each box of the chain but the last, in
    /// turn, and checks that it comes out of the last.
    fn verify_chain(scheduler: &Scheduler, chain: &[(&ComponentRef, &str)]) {
        let (target, target_box) = chain[chain.len() - 1];
        assert_eq!(target_box, "inbox", "the chain must end at an inbox");
        let target_inbox = target.inbox::<u32>(target_box).unwrap();
        for (n, (c, name)) in chain[..chain.len() - 1].iter().enumerate() {
            let data = 1000 + n as u32;
            match c.outbox::<u32>(name) {
                Ok(outbox) => outbox.try_send(data).unwrap(),
                Err(_) => c.inbox::<u32>(name).unwrap().deliver(data).unwrap(),
            }
            util::run_cycles(scheduler, 10);
            assert!(
                target_inbox.data_ready(),
                "delivered from {c} {name} to {target}"
            );
            assert_eq!(target_inbox.recv(), Some(data), "from {c} {name}");
            assert!(!target_inbox.data_ready());
        }
    }

    #[test]
    fn simple() {
        let (s, c) = init_components(2);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        verify_chain(&s, &[(&c[0], "outbox"), (&c[1], "inbox")]);
    }

    #[test]
    fn simple_then_inbox_passthrough() {
        let (s, c) = init_components(3);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        c[0].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        verify_chain(&s, &[(&c[0], "outbox"), (&c[1], "inbox"), (&c[2], "inbox")]);
    }

    #[test]
    fn inbox_passthrough_then_normal() {
        let (s, c) = init_components(3);
        c[0].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        verify_chain(&s, &[(&c[0], "outbox"), (&c[1], "inbox"), (&c[2], "inbox")]);
    }

    #[test]
    fn simple_then_outbox_passthrough() {
        let (s, c) = init_components(3);
        c[0].link((&c[1], "outbox"), (&c[2], "inbox")).unwrap();
        c[0].link((&c[0], "outbox"), (&c[1], "outbox")).unwrap();
        verify_chain(
            &s,
            &[(&c[0], "outbox"), (&c[1], "outbox"), (&c[2], "inbox")],
        );
    }

    #[test]
    fn outbox_passthrough_then_normal() {
        let (s, c) = init_components(3);
        c[0].link((&c[0], "outbox"), (&c[1], "outbox")).unwrap();
        c[0].link((&c[1], "outbox"), (&c[2], "inbox")).unwrap();
        verify_chain(
            &s,
            &[(&c[0], "outbox"), (&c[1], "outbox"), (&c[2], "inbox")],
        );
    }

    #[test]
    fn inbox_passthrougth_deletion() {
        let (s, c) = init_components(3);
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        let link = c[0].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        verify_chain(&s, &[(&c[0], "outbox"), (&c[1], "inbox"), (&c[2], "inbox")]);

        c[0].unlink(&link);
        verify_chain(&s, &[(&c[0], "outbox"), (&c[1], "inbox")]);
        assert!(c[2].inbox::<u32>("inbox").unwrap().is_empty());
    }
}

mod size_limited_boxes_test {
    use super::*;
    use axon::NoSpaceInBox;
    use util::{run_for_a_while, unpause_detectors};

    fn init_components(n: usize) -> (Scheduler, Vec<ComponentRef>) {
        let scheduler = Scheduler::new();
        let components = unpause_detectors(&scheduler, n)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        (scheduler, components)
    }

    fn send(c: &ComponentRef) -> Result<(), NoSpaceInBox<u32>> {
        c.outbox::<u32>("outbox").unwrap().try_send(7)
    }

    fn set_size(c: &ComponentRef, size: Option<usize>) {
        c.inbox::<u32>("inbox").unwrap().set_size(size);
    }

    #[test]
    fn smoketest() {
        let (_s, c) = init_components(1);
        set_size(&c[0], Some(5));
        assert_eq!(c[0].inbox::<u32>("inbox").unwrap().size(), Some(5));
    }

    #[test]
    fn box_size_gets_limited() {
        let (s, c) = init_components(2);
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..5 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        assert!(c[1].inbox::<u32>("inbox").unwrap().is_full());
    }

    #[test]
    fn exceed_box_size_and_get_exception() {
        let (s, c) = init_components(2);
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..5 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        let err = send(&c[0]).unwrap_err();
        assert_eq!((err.len(), err.capacity()), (5, 5));
    }

    #[test]
    fn removing_from_inbox_allows_you_to_put_more_in() {
        let (s, c) = init_components(2);
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..5 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        for _ in 0..3 {
            c[1].inbox::<u32>("inbox").unwrap().recv().unwrap();
        }
        run_for_a_while(&s);
        for _ in 0..3 {
            send(&c[0]).unwrap();
        }
        assert!(send(&c[0]).is_err());
    }

    #[test]
    fn size_limit_mid_linkage_chain_has_no_effect() {
        let (s, c) = init_components(3);
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        c[1].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..10 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        assert_eq!(c[2].inbox::<u32>("inbox").unwrap().len(), 10);
    }

    #[test]
    fn size_limit_mid_linkage_chain_comes_into_effect_if_chain_broken() {
        let (s, c) = init_components(3);
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        let l2 = c[1].link((&c[1], "inbox"), (&c[2], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..10 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        c[1].unlink(&l2);
        run_for_a_while(&s);
        for _ in 0..5 {
            send(&c[0]).unwrap();
        }
        assert!(send(&c[0]).is_err());
        assert_eq!(
            c[2].inbox::<u32>("inbox").unwrap().len(),
            10,
            "delivered ones stay"
        );
    }

    #[test]
    fn setting_size_limit_to_none_sets_to_unlimited() {
        let (s, c) = init_components(2);
        let inbox = c[1].inbox::<u32>("inbox").unwrap();
        // None is also the default, so the limit is set and seen to bite first:
        // otherwise a `set_size(None)` that did nothing would pass.
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..5 {
            send(&c[0]).unwrap();
        }
        assert!(send(&c[0]).is_err(), "limited to 5");
        assert_eq!(inbox.drain().count(), 5);

        set_size(&c[1], None);
        assert_eq!(inbox.size(), None);
        run_for_a_while(&s);
        for _ in 0..9999 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        assert_eq!(inbox.len(), 9999);
        assert!(!inbox.is_full());
    }

    #[test]
    fn turning_off_size_limit() {
        let (s, c) = init_components(2);
        set_size(&c[1], Some(5));
        c[0].link((&c[0], "outbox"), (&c[1], "inbox")).unwrap();
        run_for_a_while(&s);
        for _ in 0..5 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        set_size(&c[1], None);
        run_for_a_while(&s);
        for _ in 0..500 {
            send(&c[0]).unwrap();
        }
        run_for_a_while(&s);
        assert_eq!(c[1].inbox::<u32>("inbox").unwrap().len(), 505);
    }

    #[test]
    fn all_producers_experience_same_size_limit() {
        let (s, c) = init_components(5);
        let (a, b, cc, d, e) = (&c[0], &c[1], &c[2], &c[3], &c[4]);
        set_size(e, Some(4 * 4));
        a.link((a, "outbox"), (e, "inbox")).unwrap();
        b.link((b, "outbox"), (e, "inbox")).unwrap();
        cc.link((cc, "outbox"), (b, "outbox")).unwrap();
        d.link((d, "outbox"), (b, "outbox")).unwrap();
        run_for_a_while(&s);

        let limit = e.inbox::<u32>("inbox").unwrap().size().unwrap();
        let mut i = 0;
        while i < 100 {
            for x in [a, b, cc, d] {
                i += 1;
                if i <= limit {
                    send(x).unwrap();
                } else {
                    let err = send(x).unwrap_err();
                    assert_eq!((err.len(), err.capacity()), (limit, limit));
                }
                run_for_a_while(&s);
            }
        }
    }
}
