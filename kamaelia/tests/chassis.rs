//! The behaviours of Kamaelia's chassis tests (`Tests/Python/Kamaelia/Chassis/`
//! test_Pipeline.py, test_Graphline.py, test_Carousel.py), ported: each test
//! names the behaviour it checks. Components are driven a cycle at a time on
//! a scheduler of their own; boxes are fed and read through unactivated
//! "plug" components linked to the chassis, as the originals use Dummies.

use std::cell::RefCell;
use std::rc::Rc;

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
use kamaelia::chassis::{ChassisError, Stage};
use kamaelia::{Carousel, Graphline, Par, Pipeline, Seq};

/// Runs until something stops it, doing nothing: the originals' MockChild.
struct Mock;

impl Component for Mock {
    type Boxes = Standard<String, String>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.yield_now().await;
        }
    }
}

/// Ends at once.
struct Quick;

impl Component for Quick {
    type Boxes = Standard<String, String>;
    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

/// A never-activated component whose boxes stand in for the outside world.
fn plug() -> ComponentRef {
    ComponentRef::new(Mock)
}

fn cycles(scheduler: &Scheduler, n: usize) {
    for _ in 0..n {
        scheduler.run_cycle();
    }
}

/// Sends `text` from `from`'s `box_`, through whatever it is linked to.
fn send(from: &ComponentRef, box_: &str, text: &str) {
    from.outbox::<String>(box_)
        .expect("an outbox of Strings")
        .try_send(text.to_string())
        .expect("room");
}

fn recv(at: &ComponentRef, box_: &str) -> Option<String> {
    at.inbox::<String>(box_)
        .expect("an inbox of Strings")
        .recv()
}

fn recv_ipc(at: &ComponentRef, box_: &str) -> Option<Ipc> {
    at.inbox::<Ipc>(box_).expect("an inbox of Ipc").recv()
}

/// A plug whose `outbox` feeds `to`'s inbox `box_`.
fn feeder(to: &ComponentRef, box_: &str) -> ComponentRef {
    let p = plug();
    let out = if box_ == "control" {
        "signal"
    } else {
        "outbox"
    };
    p.link((&p, out), (to, box_))
        .expect("link into the chassis");
    p
}

/// A plug whose inbox (`inbox` or `control`) hears `from`'s outbox `box_`.
fn listener(from: &ComponentRef, box_: &str) -> ComponentRef {
    let p = plug();
    let inbox = if box_ == "signal" { "control" } else { "inbox" };
    p.link((from, box_), (&p, inbox))
        .expect("link out of the chassis");
    p
}

// ---------------------------------------------------------------- Pipeline

fn mocks(n: usize) -> Vec<ComponentRef> {
    (0..n).map(|_| ComponentRef::new(Mock)).collect()
}

fn pipeline_of(children: &[ComponentRef]) -> ComponentRef {
    ComponentRef::new(
        Pipeline::<String, String>::from_components(children.to_vec(), false).expect("builds"),
    )
}

#[test]
fn pipeline_activates_children_only_when_activated() {
    let children = mocks(3);
    let pipeline = pipeline_of(&children);
    assert!(children.iter().all(|c| !c.is_activated()));
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    assert!(children.iter().all(|c| c.is_activated()));
}

#[test]
fn pipeline_terminates_only_when_all_children_have_terminated() {
    let children = mocks(3);
    let pipeline = pipeline_of(&children);
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 100);
    for child in &children {
        assert!(!pipeline.is_finished());
        child.stop();
        cycles(&scheduler, 3);
    }
    assert!(pipeline.is_finished());
}

#[test]
fn pipeline_children_wired_outbox_to_inbox_and_signal_to_control() {
    let children = mocks(4);
    let pipeline = pipeline_of(&children);
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    for pair in children.windows(2) {
        send(&pair[0], "outbox", "data");
        assert_eq!(recv(&pair[1], "inbox").as_deref(), Some("data"));
        pair[0]
            .outbox::<Ipc>("signal")
            .unwrap()
            .try_send(ProducerFinished::new().into())
            .unwrap();
        assert!(recv_ipc(&pair[1], "control").is_some_and(|m| m.is_producer_finished()));
        // Nowhere else.
        assert!(children.iter().all(|c| c.any_ready().is_none()));
    }
}

#[test]
fn pipeline_first_child_wired_to_parent_inboxes() {
    let children = mocks(4);
    let pipeline = pipeline_of(&children);
    let data = feeder(&pipeline, "inbox");
    let control = feeder(&pipeline, "control");
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    send(&data, "outbox", "in");
    assert_eq!(recv(&children[0], "inbox").as_deref(), Some("in"));
    control
        .outbox::<Ipc>("signal")
        .unwrap()
        .try_send(ShutdownMicroprocess::new().into())
        .unwrap();
    assert!(recv_ipc(&children[0], "control").is_some_and(|m| m.is_shutdown_microprocess()));
}

#[test]
fn pipeline_last_child_wired_to_parent_outboxes() {
    let children = mocks(4);
    let pipeline = pipeline_of(&children);
    let out = listener(&pipeline, "outbox");
    let signal = listener(&pipeline, "signal");
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    send(&children[3], "outbox", "out");
    assert_eq!(recv(&out, "inbox").as_deref(), Some("out"));
    children[3]
        .outbox::<Ipc>("signal")
        .unwrap()
        .try_send(ProducerFinished::new().into())
        .unwrap();
    assert!(recv_ipc(&signal, "control").is_some());
}

#[test]
fn circular_pipeline_feeds_the_last_child_back_to_the_first() {
    let children = mocks(3);
    let pipeline = ComponentRef::new(
        Pipeline::<String, String>::from_components(children.clone(), true).expect("builds"),
    );
    let out = listener(&pipeline, "outbox");
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    send(&children[2], "outbox", "round");
    assert_eq!(recv(&children[0], "inbox").as_deref(), Some("round"));
    assert_eq!(recv(&out, "inbox"), None);
}

#[test]
fn typed_circular_pipeline_macro_builds() {
    let pipeline = ComponentRef::new(Pipeline![circular: Mock, Mock, Quick]);
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 10);
    assert_eq!(
        pipeline.child_components().len(),
        2,
        "Quick has ended, the Mocks run"
    );
}

#[test]
fn pipeline_from_components_reports_a_type_mismatch_naming_both_boxes() {
    struct Numbers;
    impl Component for Numbers {
        type Boxes = Standard<String, u32>;
        async fn main(self, _cx: Cx<Self::Boxes>) {}
    }
    let result = Pipeline::<String, String>::from_components(
        [ComponentRef::new(Numbers), ComponentRef::new(Mock)],
        false,
    );
    let Err(ChassisError::Link(error)) = result else {
        panic!("expected a link error, got {result:?}");
    };
    let text = error.to_string();
    assert!(text.contains("outbox") && text.contains("inbox"), "{text}");
    assert!(text.contains("u32") && text.contains("String"), "{text}");
}

#[test]
fn an_empty_pipeline_is_refused() {
    let result = Pipeline::<String, String>::from_components([], false);
    assert!(matches!(result, Err(ChassisError::NoComponents)));
}

#[test]
fn a_pipeline_inbox_size_limit_reaches_the_first_child() {
    let children = mocks(2);
    let pipeline = pipeline_of(&children);
    pipeline.inbox::<String>("inbox").unwrap().set_size(Some(3));
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    assert_eq!(
        children[0].inbox::<String>("inbox").unwrap().size(),
        Some(3)
    );
}

#[test]
fn a_stage_with_a_limit_of_its_own_keeps_it_and_the_others_take_the_pipelines() {
    let pipeline = Pipeline![Mock, Mock.with_inbox_size(10), Mock];
    let children = pipeline.children().to_vec();
    let pipeline = ComponentRef::new(pipeline);
    pipeline.inbox::<String>("inbox").unwrap().set_size(Some(3));
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    let sizes: Vec<_> = children
        .iter()
        .map(|child| child.inbox::<String>("inbox").unwrap().size())
        .collect();
    assert_eq!(sizes, [Some(3), Some(10), Some(3)]);
}

#[test]
fn a_pipeline_of_ten_thousand_children_ends_when_they_have() {
    let pipeline = ComponentRef::new(
        Pipeline::<String, String>::from_components(
            (0..10_000).map(|_| ComponentRef::new(Quick)),
            false,
        )
        .expect("builds"),
    );
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    scheduler.run().expect("runs");
    assert!(pipeline.is_finished());
    assert!(pipeline.child_components().is_empty());
}

// --------------------------------------------------------------- Graphline

type G = Graphline<String, String>;

#[test]
fn graphline_without_linkages_is_an_error() {
    let result = G::new().build();
    assert!(matches!(result, Err(ChassisError::LinkagesNotSet)));
    let result = G::new().child("A", Mock).child("B", Mock).build();
    assert!(matches!(result, Err(ChassisError::LinkagesNotSet)));
}

#[test]
fn graphline_with_empty_linkages_builds() {
    G::new()
        .child("A", Mock)
        .child("B", Mock)
        .linkages([])
        .build()
        .expect("builds");
    G::new()
        .linkages([])
        .build()
        .expect("builds with no children");
}

#[test]
fn a_graphline_child_with_a_limit_of_its_own_keeps_it() {
    let a = ComponentRef::new(Mock);
    let b: ComponentRef = Mock.with_inbox_size(10).into();
    let graphline: ComponentRef = G::new()
        .child("A", a.clone())
        .child("B", b.clone())
        .link(("self", "inbox"), ("A", "inbox"))
        .link(("A", "outbox"), ("B", "inbox"))
        .build()
        .expect("builds")
        .into();
    graphline
        .inbox::<String>("inbox")
        .unwrap()
        .set_size(Some(3));
    let scheduler = Scheduler::new();
    graphline.activate_on(&scheduler);
    cycles(&scheduler, 2);
    let size = |c: &ComponentRef| c.inbox::<String>("inbox").unwrap().size();
    assert_eq!((size(&a), size(&b)), (Some(3), Some(10)));
}

#[test]
fn graphline_children_become_children_only_when_run() {
    let (a, b) = (ComponentRef::new(Mock), ComponentRef::new(Mock));
    let g: ComponentRef = G::new()
        .child("A", a.clone())
        .child("B", b.clone())
        .linkages([])
        .build()
        .unwrap()
        .into();
    assert!(g.child_components().is_empty());
    assert!(!a.is_activated() && !b.is_activated());
    let scheduler = Scheduler::new();
    g.activate_on(&scheduler);
    cycles(&scheduler, 2);
    assert_eq!(g.child_components().len(), 2);
    assert!(
        a.is_activated() && b.is_activated(),
        "activated even with no linkages"
    );
}

#[test]
fn graphline_links_between_children_and_nowhere_else() {
    let [a, b, c, d] = [(); 4].map(|_| ComponentRef::new(Mock));
    let g: ComponentRef = G::new()
        .child("A", a.clone())
        .child("B", b.clone())
        .child("C", c.clone())
        .child("D", d.clone())
        .link(("A", "outbox"), ("B", "inbox"))
        .link(("C", "outbox"), ("D", "inbox"))
        .link(("B", "signal"), ("A", "control"))
        .build()
        .unwrap()
        .into();
    let scheduler = Scheduler::new();
    g.activate_on(&scheduler);
    cycles(&scheduler, 2);
    send(&a, "outbox", "ab");
    assert_eq!(recv(&b, "inbox").as_deref(), Some("ab"));
    send(&c, "outbox", "cd");
    assert_eq!(recv(&d, "inbox").as_deref(), Some("cd"));
    b.outbox::<Ipc>("signal")
        .unwrap()
        .try_send(ProducerFinished::new().into())
        .unwrap();
    assert!(recv_ipc(&a, "control").is_some());
    assert!([&a, &b, &c, &d].iter().all(|x| x.any_ready().is_none()));
}

#[test]
fn graphline_terminates_when_all_children_have_and_sends_producer_finished() {
    let children = mocks(3);
    let mut builder = G::new().link(("A", "outbox"), ("B", "inbox"));
    for (name, child) in ["A", "B", "C"].iter().zip(&children) {
        builder = builder.child(name, child.clone());
    }
    let g: ComponentRef = builder.build().unwrap().into();
    let signal = listener(&g, "signal");
    let scheduler = Scheduler::new();
    g.activate_on(&scheduler);
    cycles(&scheduler, 100);
    assert!(!g.is_finished());
    assert!(recv_ipc(&signal, "control").is_none());
    for child in &children {
        child.stop();
    }
    cycles(&scheduler, 3);
    assert!(g.is_finished());
    assert!(recv_ipc(&signal, "control").is_some_and(|m| m.is_producer_finished()));
}

/// A linkage by names: ((component, box), (component, box)).
type Link<'a> = ((&'a str, &'a str), (&'a str, &'a str));

/// A Graphline of A, B, C with `A.signal → B.control` (plus extra
/// linkages), running on a scheduler of its own, with a
/// feeder on its `control` and a listener on its `signal`.
struct Abc {
    g: ComponentRef,
    children: Vec<ComponentRef>,
    control: ComponentRef,
    signal: ComponentRef,
    scheduler: Scheduler,
}

impl Abc {
    /// Built with `extra` linkages, activated, and run two cycles.
    fn start(extra: &[Link<'_>]) -> Abc {
        let children = mocks(3);
        let mut builder = G::new().link(("A", "signal"), ("B", "control"));
        for (name, child) in ["A", "B", "C"].iter().zip(&children) {
            builder = builder.child(name, child.clone());
        }
        let g: ComponentRef = builder
            .linkages(extra.iter().copied())
            .build()
            .unwrap()
            .into();
        let control = feeder(&g, "control");
        let signal = listener(&g, "signal");
        let scheduler = Scheduler::new();
        g.activate_on(&scheduler);
        cycles(&scheduler, 2);
        Abc {
            g,
            children,
            control,
            signal,
            scheduler,
        }
    }

    /// Sends `message` to the Graphline's `control`, then runs `n` cycles.
    fn tell(&self, message: Ipc, n: usize) {
        self.control
            .outbox::<Ipc>("signal")
            .unwrap()
            .try_send(message)
            .unwrap();
        cycles(&self.scheduler, n);
    }

    /// Ends every child, then runs three cycles.
    fn end_children(&self) {
        self.children.iter().for_each(ComponentRef::stop);
        cycles(&self.scheduler, 3);
    }

    /// What the Graphline sent out of `signal`.
    fn signalled(&self) -> Option<Ipc> {
        recv_ipc(&self.signal, "control")
    }
}

#[test]
fn graphline_copies_control_to_children_whose_control_is_not_linked() {
    let abc = Abc::start(&[]);
    abc.tell(ShutdownMicroprocess::new().into(), 2);
    let children = &abc.children;
    assert!(recv_ipc(&children[0], "control").is_some_and(|m| m.is_shutdown_microprocess()));
    assert!(
        recv_ipc(&children[1], "control").is_none(),
        "B's control is linked from A"
    );
    assert!(recv_ipc(&children[2], "control").is_some_and(|m| m.is_shutdown_microprocess()));
}

#[test]
fn graphline_remembers_a_shutdown_and_sends_it_when_its_children_end() {
    let abc = Abc::start(&[]);
    abc.tell(ShutdownMicroprocess::new().into(), 50);
    assert!(!abc.g.is_finished(), "it waits for its children");
    abc.end_children();
    assert!(abc.g.is_finished());
    assert!(abc
        .signalled()
        .is_some_and(|m| m.is_shutdown_microprocess()));
}

#[test]
fn graphline_sends_producer_finished_after_a_non_shutdown_control_message() {
    let abc = Abc::start(&[]);
    abc.tell(ProducerFinished::new().into(), 2);
    abc.end_children();
    assert!(abc.signalled().is_some_and(|m| m.is_producer_finished()));
}

#[test]
fn graphline_control_linked_to_a_child_goes_only_there_and_it_sends_producer_finished() {
    let abc = Abc::start(&[(("self", "control"), ("C", "control"))]);
    abc.tell(ShutdownMicroprocess::new().into(), 2);
    assert!(recv_ipc(&abc.children[2], "control").is_some_and(|m| m.is_shutdown_microprocess()));
    assert!(recv_ipc(&abc.children[0], "control").is_none());
    abc.end_children();
    assert!(abc.signalled().is_some_and(|m| m.is_producer_finished()));
}

#[test]
fn graphline_with_signal_linked_sends_nothing_of_its_own() {
    let abc = Abc::start(&[(("C", "signal"), ("self", "signal"))]);
    abc.tell(ShutdownMicroprocess::new().into(), 2);
    abc.end_children();
    assert!(abc.g.is_finished());
    assert!(abc.signalled().is_none());
}

#[test]
fn graphline_passes_through_its_inbox_and_outbox_under_any_unused_name() {
    for name in ["", "self", "flurble", "pig"] {
        let (a, b) = (ComponentRef::new(Mock), ComponentRef::new(Mock));
        let g: ComponentRef = G::new()
            .child("A", a.clone())
            .child("B", b.clone())
            .link((name, "inbox"), ("A", "inbox"))
            .link(("B", "outbox"), (name, "outbox"))
            .build()
            .unwrap()
            .into();
        let data = feeder(&g, "inbox");
        let out = listener(&g, "outbox");
        send(&data, "outbox", "in");
        assert_eq!(recv(&a, "inbox").as_deref(), Some("in"));
        send(&b, "outbox", "out");
        assert_eq!(recv(&out, "inbox").as_deref(), Some("out"));
    }
}

#[test]
fn graphline_creates_new_boxes_named_on_itself_on_that_graphline_only() {
    let (a, b) = (ComponentRef::new(Mock), ComponentRef::new(Mock));
    let g: ComponentRef = G::new()
        .child("A", a.clone())
        .child("B", b.clone())
        .link(("self", "novel-inbox"), ("A", "inbox"))
        .link(("B", "outbox"), ("self", "novel-outbox"))
        .build()
        .unwrap()
        .into();
    assert!(g.has_inbox("novel-inbox") && g.has_outbox("novel-outbox"));
    let p = plug();
    p.link((&p, "outbox"), (&g, "novel-inbox")).unwrap();
    p.link((&g, "novel-outbox"), (&p, "inbox")).unwrap();
    send(&p, "outbox", "in");
    assert_eq!(recv(&a, "inbox").as_deref(), Some("in"));
    send(&b, "outbox", "out");
    assert_eq!(recv(&p, "inbox").as_deref(), Some("out"));
    // The original adds such boxes to the class, so every later Graphline
    // has them too; here they stay on the one that asked.
    let other: ComponentRef = G::new().linkages([]).build().unwrap().into();
    assert!(!other.has_inbox("novel-inbox") && !other.has_outbox("novel-outbox"));
}

#[test]
fn graphline_link_errors_name_both_boxes() {
    let result = G::new()
        .child("A", Mock)
        .child("B", Mock)
        .link(("A", "outbox"), ("B", "control"))
        .build();
    let Err(ChassisError::Link(error)) = result else {
        panic!("expected a link error");
    };
    let text = error.to_string();
    assert!(
        text.contains("outbox") && text.contains("control"),
        "{text}"
    );
    assert!(text.contains("String") && text.contains("Ipc"), "{text}");
}

#[test]
fn graphline_refuses_duplicate_names_and_self_to_self() {
    let dup = G::new()
        .child("A", Mock)
        .child("A", Mock)
        .linkages([])
        .build();
    assert!(matches!(dup, Err(ChassisError::DuplicateName(n)) if n == "A"));
    let loopback = G::new().link(("self", "outbox"), ("self", "inbox")).build();
    assert!(matches!(loopback, Err(ChassisError::SelfToSelf { .. })));
}

// --------------------------------------------------------------------- PAR

#[test]
fn par_copies_control_to_children_and_ends_at_once_on_shutdown() {
    let children = mocks(3);
    let par = ComponentRef::new(Par::<String>::from_components(children.clone()).unwrap());
    let control = feeder(&par, "control");
    let signal = listener(&par, "signal");
    let scheduler = Scheduler::new();
    par.activate_on(&scheduler);
    cycles(&scheduler, 3);
    control
        .outbox::<Ipc>("signal")
        .unwrap()
        .try_send(ShutdownMicroprocess::new().into())
        .unwrap();
    cycles(&scheduler, 2);
    for child in &children {
        assert!(recv_ipc(child, "control").is_some_and(|m| m.is_shutdown_microprocess()));
        assert!(
            !child.is_finished(),
            "the PAR does not wait for its children"
        );
    }
    assert!(par.is_finished());
    assert!(recv_ipc(&signal, "control").is_some_and(|m| m.is_shutdown_microprocess()));
}

#[test]
fn par_merges_outputs_and_finishes_with_its_ten_thousand_children() {
    struct Say;
    impl Component for Say {
        type Boxes = Standard<String, String>;
        async fn main(self, cx: Cx<Self::Boxes>) {
            cx.outbox.send("hi".to_string()).await;
        }
    }
    let par = ComponentRef::new(
        Par::<String>::from_components((0..10_000).map(|_| ComponentRef::new(Say))).unwrap(),
    );
    let out = listener(&par, "outbox");
    let signal = listener(&par, "signal");
    let scheduler = Scheduler::new();
    par.activate_on(&scheduler);
    scheduler.run().expect("runs");
    assert_eq!(out.inbox::<String>("inbox").unwrap().len(), 10_000);
    assert!(recv_ipc(&signal, "control").is_some_and(|m| m.is_producer_finished()));
}

axon::boxes! {
    /// Shutdown in and out, and no data: a timer that only signals.
    struct SignalOnly {
        /// Any message ends it.
        inbox control: Ipc,
        /// The message that ended it.
        outbox signal: Ipc,
    }
}

/// Waits for a message on `control`, passes it on, and ends.
struct SignalWhenTold;

impl Component for SignalWhenTold {
    type Boxes = SignalOnly;
    async fn main(self, cx: Cx<Self::Boxes>) {
        let msg = cx.control.next().await;
        cx.signal.send(msg).await;
    }
}

/// Runs until a message arrives on `control`.
struct UntilControl;

impl Component for UntilControl {
    type Boxes = Standard<String, String>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        while cx.control.recv().is_none() {
            cx.idle().await;
        }
    }
}

#[test]
fn a_stage_without_data_boxes_still_passes_shutdown_to_a_par_after_it() {
    // par_shutdown_simple's shape: a stage with no `inbox` or `outbox` (so
    // nothing to link to the PAR's inbox, which takes nothing) ahead of a PAR.
    let par = kamaelia::PAR![UntilControl, UntilControl];
    let pipeline = ComponentRef::new(kamaelia::Pipeline![SignalWhenTold, par]);
    let control = feeder(&pipeline, "control");
    let scheduler = Scheduler::new();
    pipeline.activate_on(&scheduler);
    cycles(&scheduler, 3);
    control
        .outbox::<Ipc>("signal")
        .unwrap()
        .try_send(ProducerFinished::new().into())
        .unwrap();
    for _ in 0..100 {
        if !scheduler.run_cycle() {
            break;
        }
    }
    assert!(pipeline.is_finished(), "the PAR never heard the shutdown");
}

// -------------------------------------------------------------------- Seq

#[test]
fn seq_runs_its_components_one_after_another_then_finishes() {
    let order = Rc::new(RefCell::new(Vec::new()));
    struct Note(Rc<RefCell<Vec<u32>>>, u32);
    impl Component for Note {
        type Boxes = Standard<String, String>;
        async fn main(self, cx: Cx<Self::Boxes>) {
            self.0.borrow_mut().push(self.1);
            cx.yield_now().await;
            cx.outbox.send(format!("{}", self.1)).await;
            self.0.borrow_mut().push(self.1 + 10);
        }
    }
    let seq = ComponentRef::new(
        Seq::new()
            .print("BEGIN SEQUENCE")
            .then(Note(order.clone(), 1))
            .then(Note(order.clone(), 2))
            .print("END SEQUENCE"),
    );
    let out = listener(&seq, "outbox");
    let signal = listener(&seq, "signal");
    let scheduler = Scheduler::new();
    seq.activate_on(&scheduler);
    scheduler.run().expect("runs");
    assert_eq!(*order.borrow(), [1, 11, 2, 12]);
    assert_eq!(recv(&out, "inbox").as_deref(), Some("1"));
    assert_eq!(recv(&out, "inbox").as_deref(), Some("2"));
    assert!(recv_ipc(&signal, "control").is_some_and(|m| m.is_producer_finished()));
}

// --------------------------------------------------------------- Carousel

type C = Carousel<String, String, String>;

/// What a test Carousel's factory has made: each request and its child.
type Made = Rc<RefCell<Vec<(String, ComponentRef)>>>;

fn carousel(make_1st_request: bool) -> (ComponentRef, Made) {
    let made = Rc::new(RefCell::new(Vec::new()));
    let record = made.clone();
    let carousel = C::new(move |arg: String| {
        let child = ComponentRef::new(Mock);
        record.borrow_mut().push((arg, child.clone()));
        Pipeline::<String, String>::from_components([child], false).unwrap()
    });
    let carousel = if make_1st_request {
        carousel.make_1st_request()
    } else {
        carousel
    };
    (ComponentRef::new(carousel), made)
}

fn next(carousel: &ComponentRef, arg: &str) {
    carousel
        .inbox::<String>("next")
        .unwrap()
        .deliver(arg.to_string())
        .unwrap();
}

fn control(carousel: &ComponentRef, msg: Ipc) {
    carousel
        .inbox::<Ipc>("control")
        .unwrap()
        .deliver(msg)
        .unwrap();
}

#[test]
fn carousel_by_default_does_nothing_but_can_ask_first() {
    for first in [false, true] {
        let (c, made) = carousel(first);
        let requests = listener(&c, "requestNext");
        let scheduler = Scheduler::new();
        c.activate_on(&scheduler);
        cycles(&scheduler, 10);
        assert!(made.borrow().is_empty());
        assert_eq!(recv(&requests, "inbox").is_some(), first);
        assert!(!c.is_finished());
    }
}

#[test]
fn carousel_shuts_down_when_told_and_idle() {
    for msg in [
        Ipc::from(ProducerFinished::new()),
        ShutdownMicroprocess::new().into(),
    ] {
        let (c, _) = carousel(false);
        let signal = listener(&c, "signal");
        let scheduler = Scheduler::new();
        c.activate_on(&scheduler);
        cycles(&scheduler, 5);
        let shutdown = msg.is_shutdown_microprocess();
        control(&c, msg);
        cycles(&scheduler, 2);
        assert!(c.is_finished());
        let got = recv_ipc(&signal, "control").expect("the message passed on");
        assert_eq!(got.is_shutdown_microprocess(), shutdown);
    }
}

#[test]
fn carousel_next_runs_the_factory_and_wires_the_child() {
    let (c, made) = carousel(false);
    let data = feeder(&c, "inbox");
    let out = listener(&c, "outbox");
    let scheduler = Scheduler::new();
    c.activate_on(&scheduler);
    cycles(&scheduler, 5);
    next(&c, "first");
    cycles(&scheduler, 5);
    let child = made.borrow()[0].1.clone();
    assert_eq!(made.borrow()[0].0, "first");
    assert!(child.is_activated());
    send(&data, "outbox", "to the child");
    assert_eq!(recv(&child, "inbox").as_deref(), Some("to the child"));
    send(&child, "outbox", "from the child");
    assert_eq!(recv(&out, "inbox").as_deref(), Some("from the child"));
}

#[test]
fn carousel_asks_for_next_when_its_child_ends_but_ignores_its_signal() {
    let (c, made) = carousel(false);
    let requests = listener(&c, "requestNext");
    let signal = listener(&c, "signal");
    let scheduler = Scheduler::new();
    c.activate_on(&scheduler);
    next(&c, "a");
    cycles(&scheduler, 5);
    let child = made.borrow()[0].1.clone();
    child
        .outbox::<Ipc>("signal")
        .unwrap()
        .try_send(ProducerFinished::new().into())
        .unwrap();
    cycles(&scheduler, 5);
    assert!(
        recv(&requests, "inbox").is_none(),
        "a child's signal is not its end"
    );
    assert!(
        recv_ipc(&signal, "control").is_none(),
        "nor does it come out"
    );
    child.stop();
    cycles(&scheduler, 5);
    assert_eq!(recv(&requests, "inbox").as_deref(), Some("NEXT"));
}

#[test]
fn carousel_new_next_stops_the_child_and_starts_the_next_once_it_has_ended() {
    let (c, made) = carousel(false);
    let scheduler = Scheduler::new();
    c.activate_on(&scheduler);
    next(&c, "a");
    cycles(&scheduler, 5);
    next(&c, "b");
    cycles(&scheduler, 5);
    let first = made.borrow()[0].1.clone();
    assert!(recv_ipc(&first, "control").is_some_and(|m| m.is_shutdown_microprocess()));
    assert_eq!(made.borrow().len(), 1, "not until the first has ended");
    first.stop();
    cycles(&scheduler, 5);
    assert_eq!(made.borrow().len(), 2);
}

#[test]
fn carousel_passes_shutdown_to_its_child_and_ends_only_after_it() {
    for msg in [
        Ipc::from(ProducerFinished::new()),
        ShutdownMicroprocess::new().into(),
    ] {
        let (c, made) = carousel(false);
        let signal = listener(&c, "signal");
        let scheduler = Scheduler::new();
        c.activate_on(&scheduler);
        next(&c, "a");
        cycles(&scheduler, 5);
        control(&c, msg);
        cycles(&scheduler, 20);
        let child = made.borrow()[0].1.clone();
        assert!(recv_ipc(&child, "control").is_some());
        assert!(!c.is_finished());
        child.stop();
        cycles(&scheduler, 5);
        assert!(c.is_finished());
        assert!(recv_ipc(&signal, "control").is_some());
    }
}

#[test]
fn carousel_finishes_queued_nexts_on_producer_finished_but_drops_them_on_shutdown() {
    for (msg, expected) in [
        (Ipc::from(ProducerFinished::new()), 3),
        (ShutdownMicroprocess::new().into(), 1),
    ] {
        let (c, made) = carousel(false);
        let scheduler = Scheduler::new();
        c.activate_on(&scheduler);
        next(&c, "1");
        cycles(&scheduler, 5);
        next(&c, "2");
        next(&c, "3");
        control(&c, msg);
        for _ in 0..10 {
            cycles(&scheduler, 5);
            let current = made.borrow().last().map(|(_, c)| c.clone());
            if let Some(child) = current {
                child.stop();
            }
        }
        assert_eq!(made.borrow().len(), expected);
        assert!(c.is_finished());
    }
}

#[test]
fn graphline_control_linked_to_a_child_reaches_it_even_if_sent_before_the_graphline_runs() {
    // An inbox linked onward reads as its final inbox (as in Axon), so a
    // Graphline that read its own `control` while it is linked to a child
    // would take the child's message: found with a Pinger that sent at once.
    let waiter = || {
        ComponentRef::new(axon::from_fn(|cx: Cx<Standard<(), ()>>| async move {
            let message = cx.control.next().await;
            cx.signal.send(message).await;
        }))
    };
    let first = waiter();
    let g: Graphline<(), ()> = kamaelia::Graphline! {
        A: first.clone(), B: waiter();
        ("self", "control") => ("A", "control"),
    }
    .unwrap();
    let g = ComponentRef::from(g);
    g.inbox::<Ipc>("control")
        .unwrap()
        .deliver(ProducerFinished::new().into())
        .unwrap();
    let scheduler = Scheduler::new();
    g.activate_on(&scheduler);
    cycles(&scheduler, 5);
    assert!(first.is_finished(), "A never got the ProducerFinished");
}

// The originals' passthrough tests link across types (a Graphline's `inbox`
// to a child's `control`), which typed boxes allow only when both carry the
// same type: these ports use children and a Graphline whose every box
// carries `Ipc`, so each original linkage is kept as it was.

/// Runs until stopped, with every box carrying `Ipc`.
struct IpcMock;

impl Component for IpcMock {
    type Boxes = Standard<Ipc, Ipc>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.yield_now().await;
        }
    }
}

/// A note to pass through: which box it was sent from.
fn note(text: &'static str) -> Ipc {
    axon::ipc::Status::new(axon::ipc::Payload::new(text)).into()
}

fn text_of(message: Option<Ipc>) -> Option<&'static str> {
    match message? {
        Ipc::Status(status) => status.status.downcast_ref::<&'static str>().copied(),
        _ => None,
    }
}

/// The names the originals try for the Graphline itself.
const UNUSED_NAMES: [&str; 6] = ["", "self", "flurble", "a", "component", "pig"];

/// Builds `A`, `B`, `C` (IpcMocks) into an all-`Ipc` Graphline with
/// `linkages`, plus the originals' `C.outbox → A.inbox`.
/// A linkage as the builder takes it: `(("A", "outbox"), ("B", "inbox"))`.
type Linkage<'a> = ((&'a str, &'a str), (&'a str, &'a str));

fn ipc_graphline(linkages: [Linkage<'_>; 2]) -> [ComponentRef; 4] {
    let [a, b, c] = [(); 3].map(|()| ComponentRef::new(IpcMock));
    let g: ComponentRef = Graphline::<Ipc, Ipc>::new()
        .child("A", a.clone())
        .child("B", b.clone())
        .child("C", c.clone())
        .linkages(
            linkages
                .into_iter()
                .chain([(("C", "outbox"), ("A", "inbox"))]),
        )
        .build()
        .unwrap()
        .into();
    [g, a, b, c]
}

/// Sends `message` into `g`'s inbox `name` from outside.
fn send_into(g: &ComponentRef, name: &str, message: Ipc) {
    let outside = ComponentRef::new(IpcMock);
    outside.link((&outside, "outbox"), (g, name)).unwrap();
    outside
        .outbox::<Ipc>("outbox")
        .unwrap()
        .try_send(message)
        .unwrap();
}

/// What comes out of `g`'s outbox `name`, after `from` sends `message` on
/// its outbox `box_`.
fn out_of(
    g: &ComponentRef,
    name: &str,
    from: &ComponentRef,
    box_: &str,
    message: Ipc,
) -> Option<Ipc> {
    let outside = ComponentRef::new(IpcMock);
    outside.link((g, name), (&outside, "inbox")).unwrap();
    from.outbox::<Ipc>(box_).unwrap().try_send(message).unwrap();
    recv_ipc(&outside, "inbox")
}

// test_specifyingPassthruInLinkage
#[test]
fn graphline_passes_its_inbox_and_control_through_to_any_child_box_under_any_unused_name() {
    for name in UNUSED_NAMES {
        let [g, a, b, _] = ipc_graphline([
            ((name, "inbox"), ("A", "control")),
            ((name, "control"), ("B", "inbox")),
        ]);
        let scheduler = Scheduler::new();
        g.activate_on(&scheduler);
        cycles(&scheduler, 10);
        send_into(&g, "inbox", note("to A's control"));
        send_into(&g, "control", note("to B's inbox"));
        cycles(&scheduler, 10);
        assert_eq!(
            text_of(recv_ipc(&a, "control")),
            Some("to A's control"),
            "name {name:?}"
        );
        assert_eq!(
            text_of(recv_ipc(&b, "inbox")),
            Some("to B's inbox"),
            "name {name:?}"
        );
    }
}

// test_specifyingPassthruInLinkageNewBox
#[test]
fn graphline_makes_new_inboxes_named_on_itself_under_any_unused_name() {
    for name in UNUSED_NAMES {
        let [g, a, b, _] = ipc_graphline([
            ((name, "novel-inbox"), ("A", "control")),
            ((name, "another-novel-inbox"), ("B", "inbox")),
        ]);
        let scheduler = Scheduler::new();
        g.activate_on(&scheduler);
        cycles(&scheduler, 10);
        send_into(&g, "novel-inbox", note("novel"));
        send_into(&g, "another-novel-inbox", note("another"));
        assert_eq!(
            text_of(recv_ipc(&a, "control")),
            Some("novel"),
            "name {name:?}"
        );
        assert_eq!(
            text_of(recv_ipc(&b, "inbox")),
            Some("another"),
            "name {name:?}"
        );
    }
}

// test_specifyingPassthruOutLinkage
#[test]
fn graphline_passes_child_outboxes_out_of_its_outbox_and_signal_under_any_unused_name() {
    for name in UNUSED_NAMES {
        let [g, a, b, _] = ipc_graphline([
            ((("A"), "outbox"), (name, "signal")),
            (("B", "signal"), (name, "outbox")),
        ]);
        let scheduler = Scheduler::new();
        g.activate_on(&scheduler);
        cycles(&scheduler, 10);
        assert_eq!(
            text_of(out_of(&g, "signal", &a, "outbox", note("A's outbox"))),
            Some("A's outbox"),
            "name {name:?}"
        );
        assert_eq!(
            text_of(out_of(&g, "outbox", &b, "signal", note("B's signal"))),
            Some("B's signal"),
            "name {name:?}"
        );
    }
}

// test_specifyingPassthruOutLinkageNewBox
#[test]
fn graphline_makes_new_outboxes_named_on_itself_under_any_unused_name() {
    for name in UNUSED_NAMES {
        let [g, a, b, _] = ipc_graphline([
            (("A", "outbox"), (name, "novel-boxname")),
            (("B", "signal"), (name, "another-novel-boxname")),
        ]);
        let scheduler = Scheduler::new();
        g.activate_on(&scheduler);
        cycles(&scheduler, 10);
        assert_eq!(
            text_of(out_of(&g, "novel-boxname", &a, "outbox", note("novel"))),
            Some("novel"),
            "name {name:?}"
        );
        assert_eq!(
            text_of(out_of(
                &g,
                "another-novel-boxname",
                &b,
                "signal",
                note("another")
            )),
            Some("another"),
            "name {name:?}"
        );
    }
}

// test_messageToNextRunsFactoryFunction
#[test]
fn carousel_runs_its_factory_only_for_a_next_message_and_with_that_message() {
    let (c, made) = carousel(false);
    let scheduler = Scheduler::new();
    c.activate_on(&scheduler);
    cycles(&scheduler, 5);
    assert!(
        made.borrow().is_empty(),
        "the factory ran before any `next`"
    );
    next(&c, "BLAH");
    cycles(&scheduler, 5);
    let args: Vec<String> = made.borrow().iter().map(|(arg, _)| arg.clone()).collect();
    assert_eq!(args, ["BLAH"]);
}
