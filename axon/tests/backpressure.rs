//! Bounded inboxes: a full inbox refuses `try_send` (giving the message back)
//! and makes `send(..).await` wait, with the producer paused until the consumer
//! collects. Only the final inbox of a chain limits it.

mod util;

use axon::{Component, ComponentRef, Cx, Direction, Scheduler, Standard};
use util::{Counter, Log};

/// A component whose boxes carry strings; only its boxes are used.
fn plain() -> ComponentRef {
    util::plain::<String, String>()
}

/// Sends `count` numbered messages with `send(..).await`, logging each one
/// once it has gone. It counts its resumes: the start of its body, and the
/// return of each `send(..).await` (immediate when there is room, else once the
/// scheduler resumes it).
struct Producer {
    count: u32,
    sent: Log,
    resumes: Counter,
}

impl Component for Producer {
    type Boxes = Standard<(), String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        self.resumes.bump();
        for n in 0..self.count {
            cx.outbox.send(format!("m{n}")).await;
            self.resumes.bump();
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
    assert_eq!(
        err.to_string(),
        format!("inbox \"inbox\" of {} is full (2 of 2 messages)", b.id())
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

    // Shrinking the limit below what an inbox holds keeps what it holds, and
    // the refusal reports both numbers, each where it belongs.
    inbox.set_size(None);
    for m in ["five", "six", "seven"] {
        inbox.deliver(m.into()).unwrap();
    }
    inbox.set_size(Some(2));
    let err = outbox.try_send("eight".into()).unwrap_err();
    assert_eq!((err.len(), err.capacity()), (3, 2));
    assert_eq!(
        err.to_string(),
        format!("{} is full (3 of 2 messages)", err.inbox())
    );
    assert_eq!(
        err.inbox().to_string(),
        format!("inbox \"inbox\" of {}", b.id())
    );
    assert_eq!(inbox.len(), 3, "the refused message was not queued");
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
    assert_eq!(
        resumes.get(),
        3,
        "the start, then two sends that found room; the third is waiting"
    );
    assert!(
        producer.is_paused(),
        "waiting for room, the producer is paused"
    );

    let cycles = scheduler.cycles();
    util::run_cycles(&scheduler, 10);
    assert_eq!(scheduler.cycles(), cycles, "nothing ran while it waited");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        resumes.get(),
        3,
        "the producer is not resumed while the inbox stays full"
    );

    assert_eq!(inbox.recv().as_deref(), Some("m0"));
    assert!(!producer.is_paused(), "collecting woke it");
    // Woken between cycles, it is queued at the end of the next cycle and
    // runs in the one after.
    util::run_cycles(&scheduler, 1);
    assert_eq!(sent.len(), 2, "only queued");
    assert_eq!(resumes.get(), 3, "only queued");
    util::run_cycles(&scheduler, 1);
    assert_eq!(sent.entries(), ["m0", "m1", "m2"]);
    assert_eq!(inbox.len(), 2);
    assert_eq!(
        resumes.get(),
        4,
        "resumed once, its send completed, and the next one waits"
    );
    let cycles = scheduler.cycles();
    util::run_cycles(&scheduler, 10);
    assert_eq!(scheduler.cycles(), cycles, "nothing ran while it waited");
    assert_eq!(resumes.get(), 4, "full again: not resumed");

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
    assert_eq!(
        resumes.get(),
        6,
        "the body started once, and each of its five sends returned once"
    );
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
