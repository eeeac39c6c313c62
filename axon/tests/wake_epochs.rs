//! Wakes are recorded once per stretch of a cycle (see `inbox.rs`): these
//! check the stretches' boundaries, where a careless record would lose a wake.
//!
//! In each test a message reaches a paused consumer while the scheduler waits
//! (its park delivers it), the consumer runs, takes it and pauses, and later
//! in that same cycle a producer sends it another message. The consumer must
//! run again for that one.

mod util;

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use axon::{Component, ComponentRef, Cx, Inbox, Park, Scheduler, Standard, Unparker};

/// Counts what it receives, then pauses, forever.
struct Consumer(Rc<Cell<u32>>);

impl Component for Consumer {
    type Boxes = Standard<u32, ()>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            for _ in cx.inbox.drain() {
                self.0.set(self.0.get() + 1);
            }
            cx.idle().await;
        }
    }
}

/// Sends one message when woken after being armed. (It is also woken when
/// the consumer collects what it sent, as Axon wakes producers; unarmed, it
/// then sends nothing.)
struct Producer(Rc<Cell<bool>>);

impl Component for Producer {
    type Boxes = Standard<(), u32>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.idle().await;
            if self.0.replace(false) {
                cx.outbox.send(2).await;
            }
        }
    }
}

/// A park that, on its `fire_on`-th call, delivers a message to the consumer
/// and wakes the producer: what a Selector delivering readiness would do.
struct DeliveringPark {
    calls: Rc<Cell<u32>>,
    fire_on: u32,
    armed: Rc<Cell<bool>>,
    consumer: Inbox<u32>,
    producer: Rc<RefCell<Option<ComponentRef>>>,
}

impl Park for DeliveringPark {
    fn park(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == self.fire_on {
            self.consumer.deliver(1).map_err(io::Error::other)?;
            self.armed.set(true);
            if let Some(producer) = &*self.producer.borrow() {
                producer.unpause();
            }
        }
        Ok(())
    }

    fn unparker(&self) -> Unparker {
        Unparker::new(|| {})
    }
}

/// Sets up consumer (activated first, so it runs first) and producer, with
/// a park that delivers on its `fire_on`-th call.
fn system(fire_on: u32) -> (Scheduler, Rc<Cell<u32>>, Rc<Cell<u32>>) {
    let scheduler = Scheduler::new();
    let received = Rc::new(Cell::new(0));
    let consumer = ComponentRef::new(Consumer(received.clone()));
    let armed = Rc::new(Cell::new(false));
    let producer = ComponentRef::new(Producer(armed.clone()));
    producer
        .link((&producer, "outbox"), (&consumer, "inbox"))
        .unwrap();
    let calls = Rc::new(Cell::new(0));
    let slot = Rc::new(RefCell::new(None));
    scheduler.set_park(Box::new(DeliveringPark {
        calls: calls.clone(),
        fire_on,
        armed,
        consumer: consumer.inbox::<u32>("inbox").unwrap(),
        producer: slot.clone(),
    }));
    consumer.activate_on(&scheduler);
    producer.activate_on(&scheduler);
    *slot.borrow_mut() = Some(producer);
    (scheduler, received, calls)
}

#[test]
fn a_delivery_during_the_end_of_cycle_wait_then_one_in_the_next_cycle_both_wake() {
    // One park call per `run_cycle`, at the end of its cycle. Cycle 1 queues
    // both; in cycle 2 both pause, and the wait at the end of cycle 2 (the
    // second park call) delivers.
    let (scheduler, received, calls) = system(2);
    util::run_cycles(&scheduler, 6);
    assert!(calls.get() >= 2);
    assert_eq!(
        received.get(),
        2,
        "the delivery during the wait and the producer's message afterwards both arrived"
    );
}

#[test]
fn a_delivery_during_an_idle_wait_then_one_in_the_next_cycle_both_wake() {
    // After cycle 2 both are asleep, so the third `run_cycle` only waits (an
    // idle wait), and its park call delivers.
    let (scheduler, received, calls) = system(3);
    util::run_cycles(&scheduler, 8);
    assert!(calls.get() >= 3);
    assert_eq!(received.get(), 2);
}

#[test]
fn each_outside_wake_runs_a_paused_component_exactly_once() {
    // A wake counts for the stretch in which it happened, so the woken
    // component's own pause afterwards is granted: one turn per wake.
    let scheduler = Scheduler::new();
    let (sleeper, turns) = util::pause_every_turn();
    sleeper.activate_on(&scheduler);
    util::run_cycles(&scheduler, 4);
    assert_eq!(turns.get(), 1);
    let inbox = sleeper.inbox::<u32>("inbox").unwrap();
    for wake in 1..=5 {
        inbox.deliver(wake).unwrap();
        util::run_cycles(&scheduler, 4);
        assert_eq!(turns.get(), 1 + u64::from(wake), "one turn per delivery");
    }
}
