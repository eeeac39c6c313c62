//! Memory per paused component, measured with 1,000,000 of them.
//!
//! `cargo bench --bench paused_memory`
//!
//! A counting allocator tracks live heap bytes. Each case makes 1,000,000
//! components, activates them, runs the scheduler until every one has paused,
//! and reports the heap bytes (and allocations) per component, plus the growth
//! of the process's resident set. The components' own state is empty (unit
//! structs whose bodies keep no locals), so for the `NoBoxes` case everything
//! measured is runtime overhead: the task record, the generator and its
//! airlock, the body's future (its `Cx` and the suspended yield) and the
//! scheduler's registry slot. The other cases add the four standard boxes,
//! then linkages between them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use axon::{Component, ComponentRef, Cx, NoBoxes, Postoffice, Scheduler, Standard};

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are a side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const COMPONENTS: usize = 1_000_000;

/// Pauses forever: no boxes, no state.
struct Idle;

impl Component for Idle {
    type Boxes = NoBoxes;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.pause();
            cx.yield_now().await;
        }
    }
}

/// Pauses forever, with `inbox`, `control`, `outbox` and `signal`.
struct IdleWithBoxes;

impl Component for IdleWithBoxes {
    type Boxes = Standard<u64, u64>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.pause();
            cx.yield_now().await;
        }
    }
}

fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

struct Measured {
    bytes: f64,
    allocations: f64,
    resident: f64,
}

fn measure(make: impl Fn() -> ComponentRef, link: bool) -> Measured {
    let scheduler = Scheduler::new();
    let wiring = Postoffice::new();
    let (bytes0, allocs0, rss0) = (
        LIVE_BYTES.load(Ordering::Relaxed),
        ALLOCATIONS.load(Ordering::Relaxed),
        resident_bytes(),
    );
    let mut previous: Option<ComponentRef> = None;
    for _ in 0..COMPONENTS {
        let component = make();
        component.activate_on(&scheduler);
        if link {
            if let Some(p) = &previous {
                wiring
                    .link((p, "outbox"), (&component, "inbox"))
                    .expect("link");
            }
            previous = Some(component);
        }
    }
    drop(previous);
    // Activation is handled at the end of the first cycle; every component
    // runs (and asks to pause) in the second; the third finds them all asleep.
    for _ in 0..3 {
        scheduler.run_cycle();
    }
    assert_eq!(scheduler.len(), COMPONENTS);
    assert!(scheduler.list_all().iter().all(ComponentRef::is_paused));
    let n = COMPONENTS as f64;
    let measured = Measured {
        bytes: (LIVE_BYTES.load(Ordering::Relaxed) - bytes0) as f64 / n,
        allocations: (ALLOCATIONS.load(Ordering::Relaxed) - allocs0) as f64 / n,
        resident: resident_bytes().saturating_sub(rss0) as f64 / n,
    };
    drop(wiring);
    drop(scheduler);
    measured
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("{COMPONENTS} paused components, heap measured by a counting allocator");
    println!(
        "{:<52} {:>12} {:>12} {:>12}",
        "case", "heap B/comp", "allocs/comp", "RSS B/comp"
    );
    type Case = (&'static str, fn() -> ComponentRef, bool);
    let cases: [Case; 3] = [
        (
            "no boxes (runtime overhead only)",
            || ComponentRef::new(Idle),
            false,
        ),
        (
            "inbox, control, outbox, signal (unlinked)",
            || ComponentRef::new(IdleWithBoxes),
            false,
        ),
        (
            "inbox, control, outbox, signal, outbox->inbox chain",
            || ComponentRef::new(IdleWithBoxes),
            true,
        ),
    ];
    for (name, make, link) in cases {
        let m = measure(make, link);
        println!(
            "{name:<52} {:>12.1} {:>12.2} {:>12.1}",
            m.bytes, m.allocations, m.resident
        );
    }
}
