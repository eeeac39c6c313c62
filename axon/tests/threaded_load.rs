//! Threaded components under load: 100 threads talking to 1,000 generator
//! components on one scheduler, with every box small enough that both
//! directions are held back all the time.

mod util;

use std::sync::mpsc;
use std::thread;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{
    ComponentRef, Cx, Postoffice, Scheduler, Standard, ThreadCx, Threaded, ThreadedComponent,
};
use util::HANG_GUARD;

const THREADED: u64 = 100;
/// Generator components in each threaded component's ring.
const RING: usize = 10;
const MESSAGES: u64 = 2_000;
/// Each generator inbox's size limit, and the length of the queues between
/// each thread and its boxes.
const INBOX_SIZE: usize = 8;
const QUEUE_LENGTH: usize = 16;
/// The most messages a thread has in flight: below what its ring holds
/// (11 inboxes of 8), so a thread blocked in `send` is always unblocked.
const WINDOW: u64 = 64;

/// Sends `MESSAGES` tagged with its number round its ring with blocking
/// sends and receives, reports what came back, then tells the ring to end.
struct Talker {
    id: u64,
    report: mpsc::Sender<(u64, Vec<u64>)>,
}

impl ThreadedComponent for Talker {
    type Boxes = Standard<u64, u64>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let inbox = cx.inbox::<u64>("inbox").unwrap();
        let outbox = cx.outbox::<u64>("outbox").unwrap();
        let signal = cx.outbox::<Ipc>("signal").unwrap();
        let tag = self.id << 32;
        let mut got = Vec::with_capacity(MESSAGES as usize);
        let mut sent = 0;
        while (got.len() as u64) < MESSAGES {
            while sent < MESSAGES && sent - (got.len() as u64) < WINDOW {
                outbox.send(tag | sent).unwrap();
                sent += 1;
            }
            while let Some(m) = inbox.try_recv() {
                got.push(m);
            }
            if (got.len() as u64) < MESSAGES {
                // Nothing more may be sent until something comes back.
                match inbox.recv_timeout(HANG_GUARD) {
                    Ok(Some(m)) => got.push(m),
                    Ok(None) => panic!("talker {}: nothing came back", self.id),
                    Err(stopped) => panic!("talker {}: {stopped}", self.id),
                }
            }
        }
        self.report.send((self.id, got)).unwrap();
        signal.send(ProducerFinished::new().into()).unwrap();
    }
}

/// Forwards everything, draining its inbox each time it runs; on `control`,
/// ends, passing the message on unless it is the ring's last.
fn forwarder(pass_on: bool) -> ComponentRef {
    util::body(move |cx: Cx<Standard<u64, u64>>| async move {
        loop {
            for n in cx.inbox.drain() {
                cx.outbox.send(n).await;
            }
            if let Some(signal) = cx.control.recv() {
                assert!(cx.inbox.is_empty(), "a message after the ring's end");
                if pass_on {
                    cx.signal.send(signal).await;
                }
                return;
            }
            cx.idle().await;
        }
    })
}

/// Builds the 100 rings on one scheduler and runs it until it has nothing
/// left; returns what each talker got back.
fn run_rings() -> Vec<(u64, Vec<u64>)> {
    let scheduler = Scheduler::new();
    let wiring = Postoffice::new();
    let (report, reports) = mpsc::channel();
    let mut all = Vec::new();
    for id in 0..THREADED {
        let talker = ComponentRef::new(
            Threaded::new(Talker {
                id,
                report: report.clone(),
            })
            .queue_length(QUEUE_LENGTH),
        );
        let mut ring = vec![talker.clone()];
        ring.extend((0..RING).map(|i| forwarder(i + 1 < RING)));
        ring.push(talker);
        for pair in ring.windows(2) {
            wiring
                .link((&pair[0], "outbox"), (&pair[1], "inbox"))
                .unwrap();
            pair[1]
                .inbox::<u64>("inbox")
                .unwrap()
                .set_size(Some(INBOX_SIZE));
        }
        for pair in ring[..=RING].windows(2) {
            wiring
                .link((&pair[0], "signal"), (&pair[1], "control"))
                .unwrap();
        }
        ring.pop();
        for c in &ring {
            c.activate_on(&scheduler);
        }
        all.extend(ring);
    }
    drop(report);
    assert_eq!(all.len() as u64, THREADED * (RING as u64 + 1));
    // Returns only once every component, and so every thread, has ended.
    scheduler.run().unwrap();
    for c in &all {
        assert!(c.is_finished());
        assert_eq!(c.panic_message(), None);
    }
    reports.try_iter().collect()
}

#[test]
fn a_hundred_threads_and_a_thousand_generators_lose_and_duplicate_nothing() {
    // The rings run on a thread of their own, so that a hang fails the test
    // (after HANG_GUARD) instead of stalling it.
    let (done, finished) = mpsc::channel();
    let runner = thread::spawn(move || {
        let reports = run_rings();
        let _ = done.send(());
        reports
    });
    if finished.recv_timeout(HANG_GUARD).is_err() && !runner.is_finished() {
        panic!("the rings did not finish within {HANG_GUARD:?}");
    }
    let mut reports = runner.join().unwrap();
    assert_eq!(reports.len() as u64, THREADED, "every talker reported once");
    reports.sort_by_key(|(id, _)| *id);
    for (expected_id, (id, got)) in reports.into_iter().enumerate() {
        assert_eq!(id, expected_id as u64);
        // Everything it sent, once each, in the order sent, and nothing of
        // another ring's.
        let sent: Vec<u64> = (0..MESSAGES).map(|i| (id << 32) | i).collect();
        assert_eq!(got.len(), sent.len(), "talker {id}: lost or duplicated");
        assert!(got == sent, "talker {id}: messages out of place");
    }
}
