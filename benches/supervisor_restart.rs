//! How long a supervised child is gone: from its panic to its successor
//! running, measured over 10,000 restarts.
//!
//! `cargo bench --bench supervisor_restart`
//!
//! Every incarnation of a `Supervisor::wrap`ped worker notes when it starts
//! and when it panics; the gap between a panic and the next start is the
//! time the worker was missing. In the first case each incarnation panics as
//! it starts; in the second it panics on its first message, with 10,000
//! queued, so that each restart also hands the rest of the backlog on to the
//! successor. Each is measured beside 0 and 1,000 idle siblings (the
//! Supervisor finds the child that ended among them). The panic hook is
//! silenced: the default one writes each panic to stderr.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
use kamaelia::chassis::ChildSpec;
use kamaelia::Supervisor;

const RESTARTS: u32 = 10_000;

/// When each incarnation started and panicked.
#[derive(Default)]
struct Log {
    started: Vec<Instant>,
    crashed: Vec<Instant>,
}

/// Panics as it starts (the first `RESTARTS` times), or at its first
/// message.
struct Crasher {
    log: Rc<RefCell<Log>>,
    at_start: bool,
}

impl Component for Crasher {
    type Boxes = Standard<u32, ()>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        let started = {
            let mut log = self.log.borrow_mut();
            log.started.push(Instant::now());
            log.started.len()
        };
        if self.at_start && started <= RESTARTS as usize {
            self.log.borrow_mut().crashed.push(Instant::now());
            panic!("crash");
        }
        if cx.recv_until_finished().await.is_some() {
            self.log.borrow_mut().crashed.push(Instant::now());
            panic!("crash");
        }
    }
}

/// Waits to be told to finish.
struct Idle;

impl Component for Idle {
    type Boxes = Standard<(), ()>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        while cx.recv_until_finished().await.is_some() {}
    }
}

/// The gaps between each panic and the next start, and the whole run's time.
fn measure(at_start: bool, siblings: usize) -> (Vec<Duration>, Duration) {
    let log = Rc::new(RefCell::new(Log::default()));
    let for_factory = Rc::clone(&log);
    // A window of zero: no restart is ever within it of another, so the
    // Supervisor never gives up.
    let crasher = ChildSpec::new("crasher", move || Crasher {
        log: Rc::clone(&for_factory),
        at_start,
    });
    let mut supervisor = Supervisor::wrap(crasher).intensity(1, Duration::ZERO);
    for _ in 0..siblings {
        supervisor = supervisor.child(ChildSpec::new("idle", || Idle));
    }
    let supervisor = ComponentRef::new(supervisor);
    let inbox = supervisor.inbox::<u32>("inbox").expect("an inbox");
    if !at_start {
        for n in 0..RESTARTS {
            inbox.deliver(n).expect("unbounded");
        }
    }
    let control = supervisor.inbox::<Ipc>("control").expect("control");
    control
        .deliver(ProducerFinished::new().into())
        .expect("room");
    let scheduler = Scheduler::new();
    supervisor.activate_on(&scheduler);
    let start = Instant::now();
    scheduler.run().expect("ran");
    let took = start.elapsed();
    let log = log.borrow();
    assert_eq!(log.crashed.len(), RESTARTS as usize);
    let gaps = log
        .crashed
        .iter()
        .zip(&log.started[1..])
        .map(|(crashed, next)| next.duration_since(*crashed))
        .collect();
    (gaps, took)
}

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    for (at_start, case) in [(true, "panic at start"), (false, "panic with a backlog")] {
        for siblings in [0, 1_000] {
            let (mut gaps, took) = measure(at_start, siblings);
            gaps.sort_unstable();
            let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q) as usize];
            println!(
            "{case}, {siblings:>5} siblings: crash to successor running: median {:?}, p99 {:?}, max {:?}; {:.0} restarts/s",
            at(0.5),
            at(0.99),
            at(1.0),
            f64::from(RESTARTS) / took.as_secs_f64()
        );
        }
    }
}
