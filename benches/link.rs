//! Linking many outboxes into one inbox, and unlinking them: the cost per
//! link and per unlink at 1,000 and at 100,000 sources.
//!
//! `cargo bench --bench link`
//!
//! A server links one box of every connection's components into one of its
//! own (each handler's `serversignal` into the server's `control`), so this is
//! what accepting and closing the N-th connection costs. Each round makes a
//! sink, then N distinct components (not activated), each linked, as soon as
//! it is made, from its `outbox` to the sink's `inbox` with a free-standing
//! [`Postoffice`], as a server links each new connection; then unlinks those
//! linkages in the order they were made. Only the link calls and the unlink
//! loop are timed: making and dropping the components is not.
//!
//! Two cases: straight into the sink's `inbox`, and into an inbox that is
//! itself passed through to a further component's `inbox` (linked before the
//! N sources are).
//!
//! The summary gives medians over the rounds, in nanoseconds per link and per
//! unlink, and the ratio of the large N's cost per link to the small N's (and
//! the same for unlink): a cost per link that does not grow with N gives 1.
//!
//! Without `--bench` (which `cargo bench` passes; `cargo test --benches` does
//! not), a quick smoke run: large N = 2,000, one round, 3 small rounds. Pass
//! `--bench` when running the executable by hand.
//!
//! Environment:
//! * `LINK_LARGE=<n>`: the large N (default 100,000). Where linking costs
//!   O(N) per link, 100,000 takes minutes a round; `LINK_LARGE=10000` then
//!   gives a baseline in seconds. The summary says which N was used.
//! * `LINK_ROUNDS=<n>`: rounds at the large N (default 5; the small N gets
//!   25). Each large round's times go to stderr as it ends.
//! * `LINK_CASE=direct` or `LINK_CASE=passthrough`: only that case.
//! * `LINK_PROFILE=<n>`: one round at N, straight case, for a profiler
//!   (`valgrind --tool=callgrind`).

use std::time::{Duration, Instant};

use axon::{Component, ComponentRef, Cx, Linkage, Postoffice, Standard};

const SMALL: usize = 1_000;
const DEFAULT_LARGE: usize = 100_000;
const SMALL_ROUNDS: usize = 25;
const DEFAULT_LARGE_ROUNDS: usize = 5;

/// A component with the standard boxes that is never run.
struct Idle;

impl Component for Idle {
    type Boxes = Standard<u64, u64>;
    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

/// Where the sources are linked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Straight into the sink's `inbox`.
    Direct,
    /// Into the sink's `inbox`, which is passed through to another's `inbox`.
    Passthrough,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Direct => "outbox -> one inbox",
            Case::Passthrough => "outbox -> one inbox -> passthrough inbox",
        }
    }
}

/// One round's times for the two phases.
struct Round {
    link: Duration,
    unlink: Duration,
}

fn round(case: Case, n: usize) -> Round {
    let sink = ComponentRef::new(Idle);
    let beyond = ComponentRef::new(Idle);
    let po = Postoffice::new();
    if case == Case::Passthrough {
        po.link((&sink, "inbox"), (&beyond, "inbox"))
            .expect("passthrough");
    }
    let mut sources: Vec<ComponentRef> = Vec::with_capacity(n);
    let mut linkages: Vec<Linkage> = Vec::with_capacity(n);

    // As a server does per connection: the new component is made (not
    // timed), then linked in while the sink already has every earlier one.
    let mut link = Duration::ZERO;
    for _ in 0..n {
        let source = ComponentRef::new(Idle);
        let start = Instant::now();
        let linkage = po.link((&source, "outbox"), (&sink, "inbox"));
        link += start.elapsed();
        linkages.push(linkage.expect("link"));
        sources.push(source);
    }

    let start = Instant::now();
    for linkage in &linkages {
        po.unlink(linkage);
    }
    let unlink = start.elapsed();

    // Everything is dropped here, untimed.
    drop(linkages);
    drop(po);
    Round { link, unlink }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Medians over `rounds` rounds, in ns per link and ns per unlink.
fn measure(case: Case, n: usize, rounds: usize) -> (f64, f64) {
    let (mut link, mut unlink) = (Vec::new(), Vec::new());
    for i in 1..=rounds {
        let r = round(case, n);
        if n > SMALL {
            eprintln!(
                "  {} N = {n}, round {i}/{rounds}: linking {:.2} s, unlinking {:.2} s",
                case.label(),
                r.link.as_secs_f64(),
                r.unlink.as_secs_f64()
            );
        }
        link.push(r.link.as_nanos() as f64 / n as f64);
        unlink.push(r.unlink.as_nanos() as f64 / n as f64);
    }
    (median(link), median(unlink))
}

fn env_usize(name: &str) -> Option<usize> {
    let value = std::env::var(name).ok()?;
    match value.replace(['_', ','], "").parse() {
        Ok(n) if n > 0 => Some(n),
        _ => panic!("{name} must be a positive number, not {value:?}"),
    }
}

/// Keeps glibc from handing freed memory back to the operating system, as a
/// long-running server's heap stays at its working size. Without this, each
/// 100,000 round starts on a heap trimmed after the last, and its links pay
/// the page faults of growing it again (1.9x the 1,000 case's cost per link
/// instead of 1.3x): the allocator's work, not the link's.
fn keep_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // The largest mmap threshold glibc accepts on 64-bit targets.
        const MAX_MMAP_THRESHOLD: libc::c_int = 32 * 1024 * 1024;
        // SAFETY: mallopt only sets allocator parameters; called before the
        // benchmark allocates anything large, with values glibc documents.
        let kept = unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD) == 1
        };
        if !kept {
            eprintln!("(mallopt refused: figures include the heap's regrowth)");
        }
    }
}

fn main() {
    keep_the_heap();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Some(n) = env_usize("LINK_PROFILE") {
        let r = round(Case::Direct, n);
        println!(
            "N = {n}: {:.1} ns/link, {:.1} ns/unlink",
            r.link.as_nanos() as f64 / n as f64,
            r.unlink.as_nanos() as f64 / n as f64
        );
        return;
    }
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (default_large, default_rounds, small_rounds) = if smoke {
        println!("(smoke run: without --bench)");
        (2_000, 1, 3)
    } else {
        (DEFAULT_LARGE, DEFAULT_LARGE_ROUNDS, SMALL_ROUNDS)
    };
    let large = env_usize("LINK_LARGE").unwrap_or(default_large);
    let large_rounds = env_usize("LINK_ROUNDS").unwrap_or(default_rounds);
    println!(
        "N distinct components' outbox linked into one inbox, then unlinked in order; \
         small N = {SMALL} ({small_rounds} rounds), large N = {large} ({large_rounds} rounds){}",
        if large == default_large {
            ""
        } else {
            " [LINK_LARGE]"
        }
    );
    println!(
        "{:<42} {:>8} {:>12} {:>12}",
        "case", "N", "ns/link", "ns/unlink"
    );
    let cases: &[Case] = match std::env::var("LINK_CASE").as_deref() {
        Err(_) => &[Case::Direct, Case::Passthrough],
        Ok("direct") => &[Case::Direct],
        Ok("passthrough") => &[Case::Passthrough],
        Ok(other) => panic!("LINK_CASE is direct or passthrough, not {other:?}"),
    };
    let mut ratios = Vec::new();
    for &case in cases {
        // One warm-up round, so that the first figures are not the allocator's
        // first growth.
        round(case, SMALL);
        let (small_link, small_unlink) = measure(case, SMALL, small_rounds);
        println!(
            "{:<42} {SMALL:>8} {small_link:>12.1} {small_unlink:>12.1}",
            case.label()
        );
        let (large_link, large_unlink) = measure(case, large, large_rounds);
        println!(
            "{:<42} {large:>8} {large_link:>12.1} {large_unlink:>12.1}",
            case.label()
        );
        ratios.push((case, large_link / small_link, large_unlink / small_unlink));
    }
    println!();
    println!(
        "cost per operation at N = {large} / at N = {SMALL} (1 = independent of N; target <= 1.5):"
    );
    for (case, link, unlink) in ratios {
        println!(
            "{:<42} link {link:>8.2}x   unlink {unlink:>8.2}x",
            case.label()
        );
    }
}
