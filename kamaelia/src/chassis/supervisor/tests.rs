//! The Supervisor on a scheduler of its own ([`Rig`]): each test makes
//! children that panic, end or misbehave on cue, and checks what was made
//! again, what the children's state became, and what came out of `signal`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::ipc::{ErrorInformation, Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Absent, Component, ComponentRef, Cx, Standard};

use super::{ChildSpec, GaveUp, Restart, Strategy, Supervisor};
use crate::util::rig::Rig;

/// What one child's incarnations did, shared with the test.
#[derive(Default)]
struct Probe {
    /// How many incarnations the factory has made.
    made: Cell<u32>,
    /// Each incarnation, once it has started.
    started: RefCell<Vec<ComponentRef>>,
}

impl Probe {
    /// The incarnation started last.
    fn current(&self) -> ComponentRef {
        self.started
            .borrow()
            .last()
            .cloned()
            .expect("an incarnation has started")
    }

    /// True once the incarnation started last has ended.
    fn current_ended(&self) -> bool {
        self.started
            .borrow()
            .last()
            .is_some_and(ComponentRef::is_finished)
    }
}

/// How a test child behaves.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Adds up what it is sent; a 0 makes it panic.
    Work,
    /// Panics as soon as it has said it started.
    CrashAtStart,
    /// Takes one number, then says `ProducerFinished` and ends.
    EndAfterOne,
    /// Takes one number, then says `ErrorInformation` and ends.
    ErrorAfterOne,
    /// Never reads `control`.
    Deaf,
}

/// A test child: `<name><incarnation>` in everything it says.
struct Child {
    name: &'static str,
    incarnation: u32,
    behaviour: Behaviour,
    probe: Rc<Probe>,
}

impl Component for Child {
    type Boxes = Standard<u32, String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        self.probe.started.borrow_mut().push(cx.component());
        let me = format!("{}{}", self.name, self.incarnation);
        cx.outbox.send(format!("{me} started")).await;
        match self.behaviour {
            Behaviour::CrashAtStart => panic!("{me} cannot start"),
            Behaviour::Deaf => loop {
                cx.idle().await;
            },
            _ => {}
        }
        let mut sum = 0;
        while let Some(n) = cx.recv_until_finished().await {
            assert_ne!(n, 0, "{me} was given 0");
            sum += n;
            cx.outbox.send(format!("{me}: {n}, sum {sum}")).await;
            let last_word: Ipc = match self.behaviour {
                Behaviour::EndAfterOne => ProducerFinished::from(cx.id()).into(),
                Behaviour::ErrorAfterOne => {
                    ErrorInformation::new(cx.id(), std::io::Error::other("lost its way")).into()
                }
                _ => continue,
            };
            cx.signal.send(last_word).await;
            return;
        }
        let told = match cx.control.recv() {
            Some(Ipc::ProducerFinished(_)) => "finished",
            Some(Ipc::ShutdownMicroprocess(_)) => "shut down",
            _ => "something else",
        };
        cx.outbox.send(format!("{me} {told}")).await;
    }
}

/// A spec for `name`, each incarnation counted in `probe`.
fn spec(name: &'static str, behaviour: Behaviour, probe: &Rc<Probe>) -> ChildSpec<u32, String> {
    let probe = Rc::clone(probe);
    ChildSpec::new(name, move || {
        probe.made.set(probe.made.get() + 1);
        Child {
            name,
            incarnation: probe.made.get(),
            behaviour,
            probe: Rc::clone(&probe),
        }
    })
}

/// Runs `rig` until `line` has come out of the Supervisor's `outbox`,
/// gathering everything that did into `seen`.
fn run_until<I: 'static>(rig: &Rig<I, String>, seen: &mut Vec<String>, line: &str) {
    rig.cycle_until(|rig| {
        seen.extend(rig.take());
        seen.iter().any(|l| l == line)
    });
}

/// The `GaveUp` in an `ErrorInformation`.
fn gave_up(signal: &Ipc) -> GaveUp {
    let Ipc::ErrorInformation(error) = signal else {
        panic!("expected ErrorInformation, got {signal:?}");
    };
    let exception = error.exception.as_ref().expect("an exception");
    exception
        .downcast_ref::<GaveUp>()
        .unwrap_or_else(|| panic!("expected GaveUp, got {exception}"))
        .clone()
}

/// A worker `A` fed from the Supervisor's `inbox`, and a sibling `B` fed
/// directly, each with a sum built up; then `A` is given a 0 and panics.
fn crash_beside_a_sibling(strategy: Strategy) -> (Rig<u32, String>, Vec<String>, [Rc<Probe>; 2]) {
    let (a, b) = (Rc::default(), Rc::default());
    let rig = Rig::new(
        Supervisor::wrap(spec("A", Behaviour::Work, &a))
            .child(spec("B", Behaviour::Work, &b))
            .strategy(strategy),
    );
    let mut seen = Vec::new();
    rig.put(1);
    run_until(&rig, &mut seen, "A1: 1, sum 1");
    let b1 = b.current().inbox::<u32>("inbox").expect("B's inbox");
    b1.deliver(5).expect("room");
    run_until(&rig, &mut seen, "B1: 5, sum 5");
    rig.put(0);
    // Sent while A1 fails: it reaches A2 all the same.
    rig.put(2);
    (rig, seen, [a, b])
}

#[test]
fn one_for_one_restarts_only_the_child_that_panicked() {
    let (rig, mut seen, [a, b]) = crash_beside_a_sibling(Strategy::OneForOne);
    run_until(&rig, &mut seen, "A2: 2, sum 2");
    assert!(a.started.borrow()[0].panic_message().is_some());
    rig.put(3);
    run_until(&rig, &mut seen, "A2: 3, sum 5");
    // B1 is untouched: still the only B, its sum intact.
    b.current()
        .inbox::<u32>("inbox")
        .expect("B's inbox")
        .deliver(7)
        .expect("room");
    run_until(&rig, &mut seen, "B1: 7, sum 12");
    assert_eq!((a.made.get(), b.made.get()), (2, 1));
    assert!(!seen.contains(&"B1 shut down".to_string()), "{seen:?}");
    rig.control(ShutdownMicroprocess::new().into());
    rig.run();
}

#[test]
fn all_for_one_stops_the_siblings_and_restarts_everything_in_order() {
    let (rig, mut seen, [a, b]) = crash_beside_a_sibling(Strategy::AllForOne);
    run_until(&rig, &mut seen, "A2: 2, sum 2");
    run_until(&rig, &mut seen, "B2 started");
    let comings_and_goings: Vec<&str> = seen
        .iter()
        .filter(|l| l.ends_with(" started") || l.ends_with(" shut down"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        comings_and_goings,
        [
            "A1 started",
            "B1 started",
            "B1 shut down",
            "A2 started",
            "B2 started"
        ]
    );
    // B2 starts afresh.
    b.current()
        .inbox::<u32>("inbox")
        .expect("B's inbox")
        .deliver(7)
        .expect("room");
    run_until(&rig, &mut seen, "B2: 7, sum 7");
    assert_eq!((a.made.get(), b.made.get()), (2, 2));
    rig.control(ShutdownMicroprocess::new().into());
    rig.run();
}

#[test]
fn a_child_failing_at_every_start_is_given_up_after_the_intensity() {
    let (crasher, sibling) = (Rc::default(), Rc::default());
    let rig = Rig::new(
        Supervisor::wrap(spec("C", Behaviour::CrashAtStart, &crasher)).child(spec(
            "S",
            Behaviour::Work,
            &sibling,
        )),
    );
    // Returns only once nothing is left running on the scheduler.
    rig.run();
    assert_eq!(crasher.made.get(), 4, "started once, restarted 3 times");
    let signals = rig.signals();
    assert_eq!(signals.len(), 1, "{signals:?}");
    let gave_up = gave_up(&signals[0]);
    assert_eq!(gave_up.child, "C");
    assert_eq!(gave_up.restarts, super::DEFAULT_MAX_RESTARTS);
    assert_eq!(gave_up.within, super::DEFAULT_RESTART_WINDOW);
    assert_eq!(gave_up.reason, "panicked: C4 cannot start");
    // The sibling was told to stop, and did.
    assert!(rig.take().contains(&"S1 shut down".to_string()));
    assert!(rig.component.panic_message().is_none());
}

#[test]
fn a_child_that_ends_normally_is_not_restarted_and_its_last_word_is_passed_on() {
    let probe = Rc::default();
    let rig = Rig::new(Supervisor::wrap(spec("E", Behaviour::EndAfterOne, &probe)));
    rig.put(4);
    rig.run();
    assert_eq!(probe.made.get(), 1);
    assert_eq!(rig.take(), ["E1 started", "E1: 4, sum 4"]);
    let signals = rig.signals();
    let [Ipc::ProducerFinished(finished)] = &signals[..] else {
        panic!("expected the child's ProducerFinished, got {signals:?}");
    };
    assert_eq!(finished.caller, Some(probe.current().id()));
}

#[test]
fn a_permanent_child_is_restarted_even_when_it_ends_normally() {
    let probe = Rc::default();
    let rig = Rig::new(
        Supervisor::wrap(spec("P", Behaviour::EndAfterOne, &probe).restart(Restart::Permanent))
            .intensity(1, Duration::from_secs(60)),
    );
    let mut seen = Vec::new();
    rig.put(4);
    run_until(&rig, &mut seen, "P2 started");
    rig.put(5);
    rig.run();
    assert_eq!(probe.made.get(), 2);
    let signals = rig.signals();
    assert_eq!(gave_up(&signals[0]).reason, "ended (it is permanent)");
}

#[test]
fn a_temporary_child_that_panics_is_let_go() {
    let (temporary, sibling) = (Rc::default(), Rc::default());
    let rig = Rig::new(
        Supervisor::wrap(spec("T", Behaviour::Work, &temporary).restart(Restart::Temporary))
            .child(spec("S", Behaviour::Work, &sibling)),
    );
    let mut seen = Vec::new();
    rig.put(0);
    rig.cycle_until(|_| temporary.current_ended());
    rig.control(ProducerFinished::new().into());
    rig.run();
    seen.extend(rig.take());
    assert_eq!(temporary.made.get(), 1);
    assert_eq!(seen, ["T1 started", "S1 started", "S1 finished"]);
}

#[test]
fn error_information_as_a_last_word_is_a_failure() {
    let probe = Rc::default();
    let rig = Rig::new(
        Supervisor::wrap(spec("X", Behaviour::ErrorAfterOne, &probe))
            .intensity(1, Duration::from_secs(60)),
    );
    let mut seen = Vec::new();
    rig.put(4);
    run_until(&rig, &mut seen, "X2 started");
    rig.put(5);
    rig.run();
    assert_eq!(probe.made.get(), 2);
    let signals = rig.signals();
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(
        gave_up(&signals[0]).reason,
        "ended with ErrorInformation: lost its way"
    );
}

#[test]
fn error_information_can_be_only_information() {
    let probe = Rc::default();
    let rig = Rig::new(
        Supervisor::wrap(spec("X", Behaviour::ErrorAfterOne, &probe))
            .error_information_is_failure(false),
    );
    rig.put(4);
    rig.run();
    assert_eq!(probe.made.get(), 1);
    let signals = rig.signals();
    let [Ipc::ErrorInformation(error), Ipc::ProducerFinished(finished)] = &signals[..] else {
        panic!("expected the child's error, then the end, got {signals:?}");
    };
    assert_eq!(error.caller, probe.current().id());
    assert_eq!(finished.caller, Some(rig.component.id()));
}

#[test]
fn producer_finished_on_control_lets_the_children_finish_their_work_and_end() {
    let (a, b) = (Rc::default(), Rc::default());
    let rig = Rig::new(Supervisor::wrap(spec("A", Behaviour::Work, &a)).child(spec(
        "B",
        Behaviour::Work,
        &b,
    )));
    rig.put(1);
    rig.put(2);
    rig.control(ProducerFinished::new().into());
    rig.run();
    let seen = rig.take();
    for line in ["A1: 1, sum 1", "A1: 2, sum 3", "A1 finished", "B1 finished"] {
        assert!(seen.contains(&line.to_string()), "{line:?} not in {seen:?}");
    }
    let signals = rig.signals();
    assert!(
        matches!(&signals[..], [Ipc::ProducerFinished(_)]),
        "{signals:?}"
    );
}

#[test]
fn a_child_failing_while_it_finishes_is_restarted_to_finish_the_work() {
    let probe = Rc::default();
    let rig = Rig::new(Supervisor::wrap(spec("A", Behaviour::Work, &probe)));
    rig.put(1);
    rig.put(0);
    rig.put(2);
    rig.control(ProducerFinished::new().into());
    rig.run();
    assert_eq!(
        rig.take(),
        [
            "A1 started",
            "A1: 1, sum 1",
            "A2 started",
            "A2: 2, sum 2",
            "A2 finished"
        ]
    );
    let signals = rig.signals();
    assert!(
        matches!(&signals[..], [Ipc::ProducerFinished(_)]),
        "{signals:?}"
    );
}

#[test]
fn shutdown_on_control_stops_everything_and_restarts_nothing() {
    let (a, b) = (Rc::default(), Rc::default());
    let rig = Rig::new(Supervisor::wrap(spec("A", Behaviour::Work, &a)).child(spec(
        "B",
        Behaviour::Work,
        &b,
    )));
    let mut seen = Vec::new();
    run_until(&rig, &mut seen, "B1 started");
    rig.control(ShutdownMicroprocess::new().into());
    rig.run();
    seen.extend(rig.take());
    assert!(seen.contains(&"A1 shut down".to_string()), "{seen:?}");
    assert!(seen.contains(&"B1 shut down".to_string()), "{seen:?}");
    assert_eq!((a.made.get(), b.made.get()), (1, 1));
    let signals = rig.signals();
    assert!(
        matches!(&signals[..], [Ipc::ShutdownMicroprocess(_)]),
        "{signals:?}"
    );
}

#[test]
fn a_child_deaf_to_control_is_stopped_after_the_grace() {
    let probe = Rc::default();
    let rig = Rig::new(
        Supervisor::wrap(spec("D", Behaviour::Deaf, &probe))
            .shutdown_grace(Duration::from_millis(10)),
    );
    let mut seen = Vec::new();
    run_until(&rig, &mut seen, "D1 started");
    rig.control(ShutdownMicroprocess::new().into());
    rig.run();
    assert!(probe.current().is_finished());
    assert_eq!(probe.made.get(), 1);
}

#[test]
fn a_backoff_delays_the_restart_and_a_shutdown_cuts_it_short() {
    let backoff = Duration::from_millis(20);
    let probe = Rc::default();
    let rig = Rig::new(Supervisor::wrap(spec("W", Behaviour::Work, &probe)).with_backoff(backoff));
    let mut seen = Vec::new();
    run_until(&rig, &mut seen, "W1 started");
    let crash = Instant::now();
    rig.put(0);
    run_until(&rig, &mut seen, "W2 started");
    assert!(crash.elapsed() >= backoff, "restarted within the back-off");

    let probe = Rc::default();
    let rig = Rig::new(
        Supervisor::wrap(spec("W", Behaviour::Work, &probe)).with_backoff(Duration::from_secs(600)),
    );
    run_until(&rig, &mut seen, "W1 started");
    rig.put(0);
    rig.cycle_until(|_| probe.current_ended());
    rig.control(ShutdownMicroprocess::new().into());
    rig.run();
    assert_eq!(probe.made.get(), 1);
}

#[test]
fn a_factory_that_panics_is_a_failure_of_its_child_not_of_the_supervisor() {
    let rig = Rig::new(
        Supervisor::wrap(ChildSpec::new("F", || -> Child {
            panic!("no way to make F")
        }))
        .intensity(2, Duration::from_secs(60)),
    );
    rig.run();
    assert!(rig.component.panic_message().is_none());
    let signals = rig.signals();
    assert_eq!(
        gave_up(&signals[0]).reason,
        "its factory panicked: no way to make F"
    );
}

#[test]
fn a_supervisor_of_no_children_ends_at_once() {
    let rig = Rig::new(Supervisor::<Absent, String>::new());
    rig.run();
    let signals = rig.signals();
    assert!(
        matches!(&signals[..], [Ipc::ProducerFinished(_)]),
        "{signals:?}"
    );
}

#[test]
fn a_supervisor_that_gives_up_is_a_failure_its_own_supervisor_restarts() {
    let probe = Rc::default();
    let inner_probe = Rc::clone(&probe);
    let inner = ChildSpec::new("inner", move || {
        Supervisor::wrap(spec("C", Behaviour::CrashAtStart, &inner_probe))
            .intensity(0, Duration::from_secs(60))
    });
    let rig = Rig::new(Supervisor::wrap(inner).intensity(1, Duration::from_secs(60)));
    rig.run();
    assert_eq!(probe.made.get(), 2, "each inner Supervisor made C once");
    let signals = rig.signals();
    let outer = gave_up(&signals[0]);
    assert_eq!(outer.child, "inner");
    assert_eq!(
        outer.reason,
        "ended with ErrorInformation: supervised child \"C\" failed after 0 restarts within 60s (panicked: C2 cannot start): giving up"
    );
}
