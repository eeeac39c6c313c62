//! A thread's messages through 8 generator components and back: messages per
//! second between plain blocking code and the scheduler.
//!
//! `cargo bench --bench threaded`
//!
//! Axon: a [`ThreadedComponent`] whose thread sends `u64`s out of its
//! `outbox` into a chain of 8 forwarders (generator components, each draining
//! its inbox with `for m in cx.inbox.drain()` and idling in between; every
//! inbox bounded to 1024), the last linked back into the threaded component's
//! `inbox`. The thread keeps at most [`WINDOW`] messages in flight: it sends
//! while it may ([`ThreadOutbox::try_send`]), takes back whatever has
//! arrived ([`ThreadInbox::try_recv`]), and pauses only when it can do
//! neither. It checks the count and the sum of what came back.
//!
//! Tokio: the same on a `current_thread` runtime: 8 forwarding tasks over
//! `mpsc::channel(1024)`, fed and read back by one `spawn_blocking` task
//! (`blocking_send`, `try_recv`, `blocking_recv`) with the same window.
//!
//! Each side's time runs on its thread from the first send to the last
//! message back (setting up and tearing down are not timed). The summary
//! gives nanoseconds per message (a message's whole round trip, thread → 8
//! forwarders → thread, divided over the messages) as medians of rounds in
//! which the two take turns, and how many times faster axon is.
//!
//! Without `--bench` (which `cargo bench` passes; `cargo test --benches` does
//! not), a quick smoke run with few messages and one round. Pass `--bench`
//! when running the executable by hand.
//!
//! Environment:
//! * `THREADED_MESSAGES=<n>`: messages per run (default 1,000,000).
//! * `THREADED_ROUNDS=<n>`: interleaved rounds (default 9).
//! * `THREADED_PROFILE=axon` (or `tokio`): one run of that side, for a
//!   profiler (`perf record -e cpu-clock -g`, `valgrind --tool=callgrind`).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{
    Component, ComponentRef, Cx, Postoffice, Scheduler, Standard, ThreadCx, ThreadInbox,
    ThreadOutbox, Threaded, ThreadedComponent,
};

const DEFAULT_MESSAGES: u64 = 1_000_000;
const SMOKE_MESSAGES: u64 = 20_000;
const FORWARDERS: usize = 8;
const CAPACITY: usize = 1024;
/// The most messages in flight at once: well under what the loop holds
/// (9 bounded inboxes or channels of 1024, and the thread's queues), so
/// neither side ever waits on itself.
const WINDOW: u64 = 4096;
const DEFAULT_ROUNDS: usize = 9;

/// What a run's thread saw: the time from its first send to its last
/// message back, and the count and sum of what came back.
struct Outcome {
    elapsed: Duration,
    count: u64,
    sum: u64,
}

impl Outcome {
    fn check(&self, messages: u64) {
        assert_eq!(self.count, messages, "messages lost or duplicated");
        assert_eq!(self.sum, messages * (messages - 1) / 2, "wrong messages");
    }
}

/// The threaded end: sends `0..messages` round the loop and takes them back.
struct Feeder {
    messages: u64,
    report: mpsc::Sender<Outcome>,
}

impl Feeder {
    fn round_trip(
        &self,
        cx: &ThreadCx<Standard<u64, u64>>,
        inbox: &ThreadInbox<u64>,
        outbox: &ThreadOutbox<u64>,
    ) -> Outcome {
        let start = Instant::now();
        let (mut sent, mut count, mut sum) = (0u64, 0u64, 0u64);
        while count < self.messages {
            let mut progressed = false;
            while sent < self.messages && sent - count < WINDOW {
                if outbox.try_send(sent).is_err() {
                    break;
                }
                sent += 1;
                progressed = true;
            }
            while let Some(n) = inbox.try_recv() {
                sum += n;
                count += 1;
                progressed = true;
            }
            if !progressed {
                // Woken by a message arriving or room being made.
                cx.pause();
            }
        }
        Outcome {
            elapsed: start.elapsed(),
            count,
            sum,
        }
    }
}

impl ThreadedComponent for Feeder {
    type Boxes = Standard<u64, u64>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let (Ok(inbox), Ok(outbox), Ok(signal)) = (
            cx.inbox::<u64>("inbox"),
            cx.outbox::<u64>("outbox"),
            cx.outbox::<Ipc>("signal"),
        ) else {
            panic!("the feeder's boxes");
        };
        let outcome = self.round_trip(&cx, &inbox, &outbox);
        // The forwarders end in turn.
        signal.send(ProducerFinished::new().into()).expect("signal");
        self.report.send(outcome).expect("report");
    }
}

/// Forwards everything, draining its inbox each time it runs; on `control`,
/// ends (passing the message on if `pass_on`).
struct Forwarder {
    pass_on: bool,
}

impl Component for Forwarder {
    type Boxes = Standard<u64, u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            for n in cx.inbox.drain() {
                cx.outbox.send(n).await;
            }
            if let Some(signal) = cx.control.recv() {
                if self.pass_on {
                    cx.signal.send(signal).await;
                }
                return;
            }
            cx.idle().await;
        }
    }
}

fn axon_round_trip(messages: u64) -> Duration {
    let (report, outcome) = mpsc::channel();
    let feeder = ComponentRef::new(Threaded::new(Feeder { messages, report }));
    let mut chain = vec![feeder.clone()];
    chain.extend((0..FORWARDERS).map(|i| {
        ComponentRef::new(Forwarder {
            pass_on: i + 1 < FORWARDERS,
        })
    }));
    chain.push(feeder.clone());
    let wiring = Postoffice::new();
    for pair in chain.windows(2) {
        wiring
            .link((&pair[0], "outbox"), (&pair[1], "inbox"))
            .expect("link");
        pair[1]
            .inbox::<u64>("inbox")
            .expect("inbox")
            .set_size(Some(CAPACITY));
    }
    for pair in chain[..=FORWARDERS].windows(2) {
        wiring
            .link((&pair[0], "signal"), (&pair[1], "control"))
            .expect("link");
    }
    let scheduler = Scheduler::new();
    for component in &chain[..=FORWARDERS] {
        component.activate_on(&scheduler);
    }
    scheduler.run().expect("run");
    assert!(
        feeder.panic_message().is_none(),
        "{:?}",
        feeder.panic_message()
    );
    let outcome = outcome.recv().expect("the feeder's report");
    outcome.check(messages);
    outcome.elapsed
}

fn tokio_round_trip(messages: u64) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let outcome = runtime.block_on(async {
        let (feed, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
        let mut forwarders = Vec::new();
        for _ in 0..FORWARDERS {
            let (tx, next_rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
            let mut inbox = rx;
            forwarders.push(tokio::spawn(async move {
                while let Some(n) = inbox.recv().await {
                    if tx.send(n).await.is_err() {
                        return;
                    }
                }
            }));
            rx = next_rx;
        }
        let mut back = rx;
        let outcome = tokio::task::spawn_blocking(move || {
            let start = Instant::now();
            let (mut sent, mut count, mut sum) = (0u64, 0u64, 0u64);
            while count < messages {
                while sent < messages && sent - count < WINDOW {
                    feed.blocking_send(sent).expect("send");
                    sent += 1;
                }
                let mut progressed = false;
                while let Ok(n) = back.try_recv() {
                    sum += n;
                    count += 1;
                    progressed = true;
                }
                if !progressed {
                    let n = back.blocking_recv().expect("recv");
                    sum += n;
                    count += 1;
                }
            }
            Outcome {
                elapsed: start.elapsed(),
                count,
                sum,
            }
        })
        .await
        .expect("the blocking task");
        for f in forwarders {
            f.await.expect("forwarder");
        }
        outcome
    });
    outcome.check(messages);
    outcome.elapsed
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let messages = env_or(
        "THREADED_MESSAGES",
        if smoke {
            SMOKE_MESSAGES
        } else {
            DEFAULT_MESSAGES
        },
    );
    if let Some(side) = std::env::var_os("THREADED_PROFILE") {
        let elapsed = match side.to_str() {
            Some("axon") => axon_round_trip(messages),
            Some("tokio") => tokio_round_trip(messages),
            _ => panic!("THREADED_PROFILE is axon or tokio"),
        };
        println!(
            "{:.2} ns/message",
            elapsed.as_nanos() as f64 / messages as f64
        );
        return;
    }
    let rounds = if smoke {
        1
    } else {
        env_or("THREADED_ROUNDS", DEFAULT_ROUNDS).max(1)
    };
    if smoke {
        println!("(smoke run: without --bench)");
    }
    let per_message = |d: Duration| d.as_nanos() as f64 / messages as f64;
    let (mut axon, mut tokio) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Take turns, and swap who goes first, so drift hits both alike.
        let (a, t) = if round % 2 == 0 {
            let a = axon_round_trip(messages);
            (a, tokio_round_trip(messages))
        } else {
            let t = tokio_round_trip(messages);
            (axon_round_trip(messages), t)
        };
        eprintln!(
            "round {round}: axon {:.1} ns/message, tokio {:.1} ns/message",
            per_message(a),
            per_message(t)
        );
        axon.push(per_message(a));
        tokio.push(per_message(t));
    }
    let (axon, tokio) = (median(axon), median(tokio));
    println!();
    println!(
        "a thread → {FORWARDERS} forwarders → the thread, {messages} u64 messages, \
         at most {WINDOW} in flight, inboxes/channels bounded to {CAPACITY}"
    );
    println!("(medians of {rounds} rounds in which the two take turns)");
    println!(
        "{:<58} {:>12} {:>14} {:>16}",
        "case", "ns/message", "messages/s", "vs tokio"
    );
    println!(
        "{:<58} {axon:>12.1} {:>14.0} {:>16}",
        "axon, ThreadedComponent + 8 generator forwarders",
        1e9 / axon,
        format!("{:.2}x faster", tokio / axon)
    );
    println!(
        "{:<58} {tokio:>12.1} {:>14.0} {:>16}",
        "tokio current_thread, spawn_blocking + mpsc::channel",
        1e9 / tokio,
        1
    );
}
