//! Message hops: source → 8 forwarders → sink, 1,000,000 `u64` messages.
//!
//! `cargo bench --bench hops`
//!
//! The same topology runs on axon (every inbox bounded to 1024, forwarders
//! written two ways: draining their inbox, Kamaelia's `for msg in
//! self.Inbox(...)`, and one `recv` at a time) and on tokio's `current_thread`
//! runtime with bounded mpsc channels of capacity 1024. A run ends with a
//! summary: nanoseconds per message hop (9 hops per message) for each, and how
//! many times faster axon is than tokio, from rounds in which the cases take
//! turns (so that the machine's drifting speed affects them alike).
//!
//! `HOPS_PROFILE=<case>` runs one case once, for a profiler.
//!
//! Set `HOPS_PYTHON=1` to also time the original Python Axon (needs
//! `pip install kamaelia-axon==1.14.32`) on the same topology, with fewer
//! messages since it is far slower.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
use criterion::{Criterion, Throughput};

const MESSAGES: u64 = 1_000_000;
const FORWARDERS: usize = 8;
const HOPS: u64 = MESSAGES * (FORWARDERS as u64 + 1);
const CAPACITY: usize = 1024;
const EXPECTED_SUM: u64 = MESSAGES * (MESSAGES - 1) / 2;
const INTERLEAVED_ROUNDS: usize = 9;

struct Source;

impl Component for Source {
    type Boxes = Standard<(), u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        for n in 0..MESSAGES {
            cx.outbox.send(n).await;
        }
        cx.signal.send(ProducerFinished::new().into()).await;
    }
}

/// Forwards everything, draining its inbox each time it runs.
struct DrainForwarder;

impl Component for DrainForwarder {
    type Boxes = Standard<u64, u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            for n in cx.inbox.drain() {
                cx.outbox.send(n).await;
            }
            if let Some(signal) = cx.control.recv() {
                for n in cx.inbox.drain() {
                    cx.outbox.send(n).await;
                }
                cx.signal.send(signal).await;
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}

/// Forwards everything, one `recv` at a time.
struct RecvForwarder;

impl Component for RecvForwarder {
    type Boxes = Standard<u64, u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            while let Some(n) = cx.inbox.recv() {
                cx.outbox.send(n).await;
            }
            if let Some(signal) = cx.control.recv() {
                while let Some(n) = cx.inbox.recv() {
                    cx.outbox.send(n).await;
                }
                cx.signal.send(signal).await;
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}

struct Sink(Rc<Cell<u64>>);

impl Component for Sink {
    type Boxes = Standard<u64, ()>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut sum = 0u64;
        loop {
            for n in cx.inbox.drain() {
                sum += n;
            }
            if cx
                .control
                .recv()
                .is_some_and(|m: Ipc| m.is_producer_finished())
            {
                for n in cx.inbox.drain() {
                    sum += n;
                }
                self.0.set(sum);
                return;
            }
            cx.pause();
            cx.yield_now().await;
        }
    }
}

fn axon_pipeline(forwarder: fn() -> ComponentRef) -> Duration {
    let sum = Rc::new(Cell::new(0));
    let mut chain = vec![ComponentRef::new(Source)];
    chain.extend((0..FORWARDERS).map(|_| forwarder()));
    chain.push(ComponentRef::new(Sink(sum.clone())));
    let wiring = axon::Postoffice::new();
    for pair in chain.windows(2) {
        wiring
            .link((&pair[0], "outbox"), (&pair[1], "inbox"))
            .expect("link");
        wiring
            .link((&pair[0], "signal"), (&pair[1], "control"))
            .expect("link");
        pair[1]
            .inbox::<u64>("inbox")
            .expect("inbox")
            .set_size(Some(CAPACITY));
    }
    let scheduler = Scheduler::new();
    for component in &chain {
        component.activate_on(&scheduler);
    }
    let start = Instant::now();
    scheduler.run().expect("run");
    let elapsed = start.elapsed();
    assert_eq!(sum.get(), EXPECTED_SUM);
    elapsed
}

fn tokio_pipeline() -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let sum = runtime.block_on(async {
        let (source_tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
        let source = tokio::spawn(async move {
            for n in 0..MESSAGES {
                source_tx.send(n).await.expect("send");
            }
        });
        let mut forwarders = Vec::new();
        for _ in 0..FORWARDERS {
            let (tx, next_rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
            let mut inbox = rx;
            forwarders.push(tokio::spawn(async move {
                while let Some(n) = inbox.recv().await {
                    tx.send(n).await.expect("send");
                }
            }));
            rx = next_rx;
        }
        let mut sum = 0u64;
        while let Some(n) = rx.recv().await {
            sum += n;
        }
        source.await.expect("source");
        for f in forwarders {
            f.await.expect("forwarder");
        }
        sum
    });
    let elapsed = start.elapsed();
    assert_eq!(sum, EXPECTED_SUM);
    elapsed
}

/// Times of the interleaved rounds, for the summary.
#[derive(Default)]
struct Seen {
    runs: RefCell<Vec<(&'static str, f64)>>,
}

impl Seen {
    fn record(&self, name: &'static str, per_iteration: Duration) {
        self.runs
            .borrow_mut()
            .push((name, per_iteration.as_nanos() as f64));
    }

    fn median_ns_per_hop(&self, name: &str) -> Option<f64> {
        let mut v: Vec<f64> = self
            .runs
            .borrow()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, ns)| ns / HOPS as f64)
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Some(v[v.len() / 2])
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("hops");
    group.throughput(Throughput::Elements(HOPS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    type Case = (&'static str, fn() -> Duration);
    let cases: [Case; 3] = [
        ("axon_drain", || {
            axon_pipeline(|| ComponentRef::new(DrainForwarder))
        }),
        ("axon_recv", || {
            axon_pipeline(|| ComponentRef::new(RecvForwarder))
        }),
        ("tokio_mpsc", tokio_pipeline),
    ];
    for (name, run) in cases {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run()).sum())
        });
    }
    group.finish();
}

fn python_axon_ns_per_hop() -> Option<(f64, u64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/axon_hops.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "python Axon run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let ns: f64 = fields.next()?.parse().ok()?;
    let messages: u64 = fields.next()?.parse().ok()?;
    Some((ns, messages))
}

fn main() {
    // `HOPS_PROFILE=axon_drain` (or axon_recv, tokio_mpsc) runs one case once,
    // without criterion, for profilers such as `valgrind --tool=callgrind`.
    if let Some(case) = std::env::var_os("HOPS_PROFILE") {
        let elapsed = match case.to_str() {
            Some("axon_drain") => axon_pipeline(|| ComponentRef::new(DrainForwarder)),
            Some("axon_recv") => axon_pipeline(|| ComponentRef::new(RecvForwarder)),
            Some("tokio_mpsc") => tokio_pipeline(),
            _ => panic!("HOPS_PROFILE is one of axon_drain, axon_recv, tokio_mpsc"),
        };
        println!("{:.2} ns/hop", elapsed.as_nanos() as f64 / HOPS as f64);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();

    // Criterion measures one case after another, and this machine's speed
    // drifts over seconds. For the summary, take turns instead: every case
    // once per round, medians over the rounds.
    let seen = Seen::default();
    for _ in 0..INTERLEAVED_ROUNDS {
        seen.record(
            "axon_drain",
            axon_pipeline(|| ComponentRef::new(DrainForwarder)),
        );
        seen.record(
            "axon_recv",
            axon_pipeline(|| ComponentRef::new(RecvForwarder)),
        );
        seen.record("tokio_mpsc", tokio_pipeline());
    }
    let tokio = seen.median_ns_per_hop("tokio_mpsc");
    println!();
    println!(
        "source → {FORWARDERS} forwarders → sink, {MESSAGES} u64 messages, inboxes/channels bounded to {CAPACITY}"
    );
    println!("(medians of {INTERLEAVED_ROUNDS} rounds in which the cases take turns)");
    println!("{:<44} {:>10} {:>14}", "case", "ns/hop", "vs tokio");
    for (name, label) in [
        ("axon_drain", "axon, forwarders drain (for msg in drain())"),
        ("axon_recv", "axon, forwarders recv() one at a time"),
        ("tokio_mpsc", "tokio current_thread, mpsc::channel(1024)"),
    ] {
        if let Some(ns) = seen.median_ns_per_hop(name) {
            let ratio = tokio
                .map(|t| format!("{:.1}x faster", t / ns))
                .unwrap_or_default();
            println!("{label:<44} {ns:>10.2} {ratio:>14}");
        }
    }
    if std::env::var_os("HOPS_PYTHON").is_some() {
        match python_axon_ns_per_hop() {
            Some((ns, messages)) => {
                let axon = seen.median_ns_per_hop("axon_drain").unwrap_or(f64::NAN);
                println!(
                    "{:<44} {ns:>10.2} {:>14}",
                    format!("python Axon 1.14.32 ({messages} messages)"),
                    format!("axon {:.0}x faster", ns / axon)
                );
            }
            None => println!("python Axon: not run (pip install kamaelia-axon==1.14.32)"),
        }
    }
}
