//! Bounded inboxes: a full inbox refuses `try_send` (giving the message back)
//! and makes `send(..).await` wait, with the producer paused until the consumer
//! collects. Only the final inbox of a chain limits it.

mod util;

use axon::{Component, ComponentRef, Cx, Direction, Scheduler, Standard};
use util::{Counter, Log};

/// Only its boxes are used.
struct Plain;

impl Component for Plain {
    type Boxes = Standard<String, String>;

    async fn main(self, _cx: Cx<Standard<String, String>>) {}
}

fn plain() -> ComponentRef {
    ComponentRef::new(Plain)
}

/// Sends `count` numbered messages with `send(..).await`, logging each one
/// once it has gone, and counting its resumes.
struct Producer {
    count: u32,
    sent: Log,
    resumes: Counter,
}

impl Component for Producer {
    type Boxes = Standard<(), String>;

    async fn main(self, cx: Cx<Standard<(), String>>) {
        self.resumes.bump();
        for n in 0..self.count {
            cx.outbox.send(format!("m{n}")).await;
            self.sent.push(format!("m{n}"));
        }
    }
}

#[test]
fn try_send_to_a_full_inbox_is_refused_and_gives_the_message_back() {
    let (a, b) = (plain(), plain());
    a.link((&a, "outbox"), (&b, "inbox")).unwrap();
    let inbox = b.inbox::<String>("inbox").unwrap();
    inbox.set_size(Some(2));
    let outbox = a.outbox::<String>("outbox").unwrap();
    outbox.try_send("one".into()).unwrap();
    assert!(!outbox.is_full());
    outbox.try_send("two".into()).unwrap();
    assert!(outbox.is_full() && inbox.is_full());

    let err = outbox.try_send("three".into()).unwrap_err();
    assert_eq!(err.len(), 2);
    assert_eq!(err.capacity(), 2);
    assert_eq!(err.message(), "three");
    assert_eq!(err.inbox().component, Some(b.id()));
    assert_eq!(err.inbox().direction, Direction::Inbox);
    assert_eq!(err.inbox().name, "inbox");
    let text = err.to_string();
    assert!(
        text.contains(&b.id().to_string()) && text.contains('2'),
        "{text}"
    );
    assert_eq!(err.into_inner(), "three");

    assert_eq!(inbox.len(), 2, "the refused message was not queued");
    assert_eq!(inbox.recv().as_deref(), Some("one"));
    outbox.try_send("three".into()).unwrap();
    let rest: Vec<String> = inbox.drain().collect();
    assert_eq!(rest, ["two", "three"]);

    // Delivering straight into a full inbox is refused the same way.
    inbox.set_size(Some(0));
    let err = inbox.deliver("four".into()).unwrap_err();
    assert_eq!((err.len(), err.capacity()), (0, 0));
    assert_eq!(err.into_inner(), "four");
}

#[test]
fn send_waits_while_the_inbox_is_full_and_resumes_when_the_consumer_collects() {
    let scheduler = Scheduler::new();
    let sent = Log::new();
    let resumes = Counter::new();
    let producer = ComponentRef::new(Producer {
        count: 5,
        sent: sent.clone(),
        resumes: resumes.clone(),
    });
    let consumer = plain();
    producer
        .link((&producer, "outbox"), (&consumer, "inbox"))
        .unwrap();
    let inbox = consumer.inbox::<String>("inbox").unwrap();
    inbox.set_size(Some(2));
    producer.activate_on(&scheduler);
    util::start(&scheduler);

    util::run_cycles(&scheduler, 1);
    assert_eq!(sent.entries(), ["m0", "m1"]);
    assert_eq!(inbox.len(), 2);
    assert!(
        producer.is_paused(),
        "waiting for room, the producer is paused"
    );

    let cycles = scheduler.cycles();
    util::run_cycles(&scheduler, 10);
    assert_eq!(scheduler.cycles(), cycles, "nothing ran while it waited");
    assert_eq!(sent.len(), 2);

    assert_eq!(inbox.recv().as_deref(), Some("m0"));
    assert!(!producer.is_paused(), "collecting woke it");
    // Woken between cycles, it is queued at the end of the next cycle and
    // runs in the one after.
    util::run_cycles(&scheduler, 1);
    assert_eq!(sent.len(), 2, "only queued");
    util::run_cycles(&scheduler, 1);
    assert_eq!(sent.entries(), ["m0", "m1", "m2"]);
    assert_eq!(inbox.len(), 2);

    let mut received = vec!["m0".to_string()];
    for _ in 0..20 {
        received.extend(inbox.drain());
        if !scheduler.run_cycle() {
            break;
        }
    }
    received.extend(inbox.drain());
    assert!(producer.is_finished());
    assert_eq!(received, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(resumes.get(), 1, "the body started once");
}

#[test]
fn only_the_final_inbox_limits_a_chain() {
    let (a, b, c) = (plain(), plain(), plain());
    a.link((&a, "outbox"), (&b, "inbox")).unwrap();
    b.link((&b, "inbox"), (&c, "inbox")).unwrap();
    let outbox = a.outbox::<String>("outbox").unwrap();

    b.inbox::<String>("inbox").unwrap().set_size(Some(1));
    for n in 0..10 {
        outbox.try_send(format!("{n}")).unwrap();
    }
    assert_eq!(c.inbox::<String>("inbox").unwrap().len(), 10);

    let c_in = c.inbox::<String>("inbox").unwrap();
    c_in.drain().for_each(drop);
    b.inbox::<String>("inbox").unwrap().set_size(None);
    c_in.set_size(Some(1));
    outbox.try_send("x".into()).unwrap();
    let err = outbox.try_send("y".into()).unwrap_err();
    assert_eq!(err.capacity(), 1);
    assert_eq!(
        err.inbox().component,
        Some(c.id()),
        "the final inbox is the full one"
    );
}
