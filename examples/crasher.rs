//! `cargo run --example crasher` (or `-- --crashers 5 --seed 7`; add
//! `--mortal 1` for Axon's default mode)
//!
//! Port of Axon's `Axon/Examples/Immortalise/Crasher.py`: components that, on
//! each cycle, either return normally (5 in 100), panic (10 in 100 of the
//! rest), or yield a count and carry on. Under Axon's `immortalise()` a
//! component that raises is just removed and the others run on; that is the
//! default here. With `--mortal 1` the scheduler is
//! [fail-fast](axon::Scheduler::set_fail_fast), as Axon's default was: the
//! first panic stops everything and comes out of `run`, ending the program.
//!
//! The dice are a small seeded generator, so a run can be repeated.

mod support;

use axon::{Component, Cx, NoBoxes, Scheduler};
use support::{Count, Dice};

/// Returns, panics, or counts on, as the dice say.
struct Crasher {
    number: usize,
    dice: Dice,
}

impl Component for Crasher {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut c = 0u64;
        loop {
            if self.dice.randint_0_100() < 5 {
                println!(
                    "crasher {}: Returning Normally after {c} cycles",
                    self.number
                );
                return;
            } else if self.dice.randint_0_100() < 10 {
                println!(
                    "crasher {}: Raising Exception after {c} cycles",
                    self.number
                );
                panic!("crasher {} raised myException", self.number);
            }
            cx.yield_now().await;
            c += 1;
        }
    }
}

fn main() {
    let [crashers, seed, mortal] = support::counts(
        "crasher",
        "Components that return or panic at random; the scheduler runs on.",
        [
            Count {
                name: "crashers",
                help: "how many crashers to run",
                value: 5,
            },
            Count {
                name: "seed",
                help: "the dice's seed (not 0)",
                value: 2024,
            },
            Count {
                name: "mortal",
                help: "1: a panic stops everything",
                value: 0,
            },
        ],
    );
    if mortal == 0 {
        // The scheduler reports each panic through `tracing`; the default
        // hook's second copy would only repeat it.
        std::panic::set_hook(Box::new(|_| {}));
    }
    let dice = Dice::new(seed);
    let scheduler = Scheduler::current();
    scheduler.set_fail_fast(mortal != 0);
    for number in 0..crashers {
        Crasher {
            number,
            dice: dice.clone(),
        }
        .activate();
    }
    match scheduler.run() {
        Ok(()) => println!("all crashers have ended; the scheduler ran on"),
        Err(e) => {
            eprintln!("crasher: the scheduler failed: {e}");
            std::process::exit(1);
        }
    }
}
