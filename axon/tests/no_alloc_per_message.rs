//! Delivering a message allocates nothing.
//!
//! A counting global allocator watches a source → forwarders → sink pipeline.
//! After a warm-up (queues grown to their working size, the scheduler's buffers
//! sized), pushing many more messages through must not allocate at all: not per
//! message, not per hop, not per scheduler cycle.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;

use axon::{Component, ComponentRef, Cx, Scheduler, Standard};

struct Counting;

thread_local! {
    // Per thread, because the test harness runs tests side by side.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the allocator may be called while the thread is torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Sends `per_cycle` numbers each time it runs, for as long as `budget` lasts.
struct Source {
    per_cycle: u64,
    budget: Rc<Cell<u64>>,
}

impl Component for Source {
    type Boxes = Standard<(), u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut n = 0;
        loop {
            for _ in 0..self.per_cycle.min(self.budget.get()) {
                cx.outbox.send(n).await;
                n += 1;
                self.budget.set(self.budget.get() - 1);
            }
            if self.budget.get() == 0 {
                cx.pause();
            }
            cx.yield_now().await;
        }
    }
}

/// Passes everything on, draining its inbox each time it runs.
struct Forwarder;

impl Component for Forwarder {
    type Boxes = Standard<u64, u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            for n in cx.inbox.drain() {
                cx.outbox.send(n).await;
            }
            cx.idle().await;
        }
    }
}

/// The same, one `recv` at a time.
struct RecvForwarder;

impl Component for RecvForwarder {
    type Boxes = Standard<u64, u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            while let Some(n) = cx.inbox.recv() {
                cx.outbox.send(n).await;
            }
            cx.idle().await;
        }
    }
}

/// Counts what arrives.
struct Sink(Rc<Cell<u64>>);

impl Component for Sink {
    type Boxes = Standard<u64, ()>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            for _ in cx.inbox.drain() {
                self.0.set(self.0.get() + 1);
            }
            cx.idle().await;
        }
    }
}

fn pipeline(middle: Vec<ComponentRef>) -> (Scheduler, Rc<Cell<u64>>, Rc<Cell<u64>>) {
    let budget = Rc::new(Cell::new(0));
    let received = Rc::new(Cell::new(0));
    let source = ComponentRef::new(Source {
        per_cycle: 100,
        budget: budget.clone(),
    });
    let sink = ComponentRef::new(Sink(received.clone()));
    let mut chain = vec![source];
    chain.extend(middle);
    chain.push(sink);
    for pair in chain.windows(2) {
        pair[0]
            .link((&pair[0], "outbox"), (&pair[1], "inbox"))
            .expect("link");
        pair[1]
            .inbox::<u64>("inbox")
            .expect("inbox")
            .set_size(Some(64));
    }
    let scheduler = Scheduler::new();
    for c in &chain {
        c.activate_on(&scheduler);
    }
    (scheduler, budget, received)
}

fn pump(
    scheduler: &Scheduler,
    source: &ComponentRef,
    budget: &Cell<u64>,
    received: &Cell<u64>,
    messages: u64,
) {
    let target = received.get() + messages;
    budget.set(messages);
    source.unpause();
    // At least a message a cycle once the pipeline is full: a lost wake (every
    // component paused with messages in flight) fails here instead of spinning.
    let limit = messages + 100;
    for _ in 0..limit {
        if received.get() >= target {
            return;
        }
        assert!(scheduler.run_cycle(), "the pipeline ended early");
    }
    panic!(
        "{} of {messages} messages arrived in {limit} cycles",
        messages - (target - received.get())
    );
}

fn assert_no_allocation_per_message(middle: Vec<ComponentRef>) {
    let (scheduler, budget, received) = pipeline(middle);
    let source = scheduler.list_all()[0].clone();
    // Warm up: grow every queue and buffer to its working size.
    pump(&scheduler, &source, &budget, &received, 10_000);

    let before = allocations();
    pump(&scheduler, &source, &budget, &received, 100_000);
    let during = allocations() - before;
    assert_eq!(
        during, 0,
        "delivering 100000 messages through the pipeline allocated {during} times"
    );
}

#[test]
fn draining_forwarders_deliver_without_allocating() {
    assert_no_allocation_per_message((0..8).map(|_| ComponentRef::new(Forwarder)).collect());
}

#[test]
fn recv_forwarders_deliver_without_allocating() {
    assert_no_allocation_per_message((0..8).map(|_| ComponentRef::new(RecvForwarder)).collect());
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let before = allocations();
    let v: Vec<u64> = Vec::with_capacity(16);
    std::hint::black_box(&v);
    assert!(allocations() > before);
}
