//! `cargo run --example philosophers -- [--philosophers N] [--meals N]`
//!
//! The dining philosophers, sharing their forks through Axon's STM (as
//! Kamaelia's `Axon/Examples/STM/Philosophers.py`). Philosophers sit at a
//! round table with a fork between each pair of neighbours. To eat, one needs
//! both of its forks: it reads both from the store, and if neither is held it
//! takes both in one commit. If a neighbour got there first the commit is
//! refused (`ConcurrentUpdate`), nothing is taken, and it tries again later.
//! So nobody ever holds one fork while waiting for the other, and nobody
//! deadlocks. Each philosopher is a thread; it eats `--meals` times, then
//! leaves, and the program ends when all have left.

use std::thread;
use std::time::Duration;

use axon::stm::{Collection, Store};

mod support;

use support::Count;

/// How long a meal takes.
const EATING: Duration = Duration::from_millis(20);

fn main() {
    let [philosophers, meals] = support::counts(
        "philosophers",
        "The dining philosophers, taking both their forks in one STM commit.",
        [
            Count {
                name: "philosophers",
                help: "how many sit at the table",
                value: 5,
            },
            Count {
                name: "meals",
                help: "how many meals each eats",
                value: 5,
            },
        ],
    );

    // Who holds each fork ("fork.1", …): a philosopher's number, or nobody.
    let store: Store<usize> = Store::new();
    thread::scope(|s| {
        for name in 1..=philosophers {
            // Philosopher i sits between fork.i and fork.i+1; the last wraps
            // round to fork.1.
            let forks = [
                format!("fork.{name}"),
                format!("fork.{}", name % philosophers + 1),
            ];
            let store = &store;
            s.spawn(move || dine(store, name, &forks, meals));
        }
    });
    println!("all {philosophers} philosophers have eaten {meals} meals each");
}

/// One philosopher: takes its forks, eats, puts them down, thinks; `meals`
/// times.
fn dine(store: &Store<usize>, name: usize, forks: &[String; 2], meals: usize) {
    let mut dice = Dice::new(name);
    for meal in 1..=meals {
        let held = take_forks(store, name, forks, &mut dice);
        println!(
            "philosopher {name} got forks {} {} (meal {meal} of {meals})",
            forks[0], forks[1]
        );
        thread::sleep(EATING);
        println!(
            "philosopher {name} releasing forks {} {}",
            forks[0], forks[1]
        );
        release_forks(held, name, forks);
        thread::sleep(dice.millis(10, 40));
    }
    println!("philosopher {name} has eaten {meals} meals");
}

/// Waits until both `forks` are free and takes them in one commit; gives back
/// the collection holding them, to release them with.
fn take_forks(
    store: &Store<usize>,
    name: usize,
    forks: &[String; 2],
    dice: &mut Dice,
) -> Collection<usize> {
    loop {
        let mut table = store.using(forks);
        if table.values().all(|holder| holder.is_none()) {
            for fork in forks {
                table.set(fork, name);
            }
            match table.commit() {
                Ok(()) => return table,
                Err(conflict) => println!(
                    "philosopher {name} lost the race for {}",
                    conflict.keys().join(" ")
                ),
            }
        }
        thread::sleep(dice.millis(1, 10));
    }
}

/// Puts both forks down, in one commit.
fn release_forks(mut held: Collection<usize>, name: usize, forks: &[String; 2]) {
    for fork in forks {
        held.set(fork, None);
    }
    // Nobody else can have committed to a fork this philosopher holds: their
    // reads saw it held, or their commits were refused by the one that took it.
    if let Err(e) = held.commit() {
        panic!("philosopher {name} could not put its forks down: {e}");
    }
}

/// A small random number generator (xorshift), for thinking and waiting
/// times that differ between philosophers.
struct Dice(u64);

impl Dice {
    fn new(name: usize) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.subsec_nanos() as u64);
        Dice((seed ^ (name as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    /// A duration between `low` and `high` milliseconds.
    fn millis(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low + 1))
    }
}
