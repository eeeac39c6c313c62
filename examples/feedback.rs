//! `cargo run --example feedback` (or `-- --generations 50 --delay-ms 100 --seed 7`)
//!
//! Port of Kamaelia's `Kamaelia/Examples/UsingChassis/Pipeline/Feedback.py`:
//! a feedback loop made with a *circular* Pipeline, whose last stage feeds
//! its first.
//!
//! ```text
//! Pipeline![circular: LSystem, ConsoleEchoer::new().tag("\n").forwarder(), Damage]
//! ```
//!
//! The [`LSystem`] grows a string by the rules `B → BTL`, `L → B` (a `T`
//! stays a `T`), starting from `B`, and sends each generation on. A
//! forwarding [`ConsoleEchoer`] prints it, each on a line of its own (its
//! `tag` is a newline, written before each message), and passes it on to
//! [`Damage`], which knocks atoms out at random, half of them once the model
//! is longer than 60. The damaged model goes round to the LSystem, which
//! grows the next generation from it. Left alone the model would grow like
//! the Fibonacci numbers; with the damage fed back it stays about 60 to 120
//! atoms long.
//!
//! The original runs for ever; this one stops after `--generations`: the
//! LSystem then sends `ProducerFinished`, which goes round the loop's
//! `signal` → `control` links, ending each stage in turn. And where the
//! original LSystem takes whatever model has come back within its 0.4 s sleep
//! (none, the first time), this one waits for the damaged model to come back
//! round, so a run depends only on the seed of the Damage's dice. Its sleep
//! between generations is axon's timer ([`Cx::sleep`](axon::Cx::sleep)), so
//! it needs no thread of its own, where the original was a threaded
//! component.

mod support;

use std::time::Duration;

use axon::ipc::ProducerFinished;
use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::{ConsoleEchoer, Pipeline};
use support::{Count, Dice};

/// A simple L-system modeller, whose model can be replaced from outside
/// (which is how the feedback gets in).
///
/// * `inbox` ([`Bytes`]): a model to grow the next generation from.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message stops it, and is passed on.
/// * `outbox` ([`Bytes`]): each generation.
/// * `signal` ([`Ipc`]): `ProducerFinished` after the last generation.
struct LSystem {
    generations: usize,
    delay: Duration,
}

impl LSystem {
    /// The next generation of `model`: each atom replaced by the rules.
    fn mutate_model(model: &[u8]) -> Bytes {
        let mut next = Vec::with_capacity(model.len() * 2);
        for &atom in model {
            match atom {
                b'B' => next.extend_from_slice(b"BTL"),
                b'L' => next.push(b'B'),
                other => next.push(other),
            }
        }
        Bytes::from(next)
    }
}

impl Component for LSystem {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut model = Bytes::from_static(b"B");
        for generation in 1..=self.generations {
            cx.outbox.send(model.clone()).await;
            if generation == self.generations {
                break;
            }
            // Wait for the model to come back round, damaged.
            loop {
                if let Some(damaged) = cx.inbox.recv() {
                    model = damaged;
                    break;
                }
                if let Some(msg) = cx.control.recv() {
                    cx.signal.send(msg).await;
                    return;
                }
                cx.idle().await;
            }
            model = LSystem::mutate_model(&model);
            cx.sleep(self.delay).await;
        }
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

/// A simple L-system damager: each atom survives with a chance of 100 in
/// 101, or of 50 in 101 in a model longer than 60 atoms.
///
/// * `inbox` ([`Bytes`]): models to damage.
/// * `control` ([`Ipc`]): any message ends it, once `inbox` is empty; it is
///   passed on.
/// * `outbox` ([`Bytes`]): the damaged models.
/// * `signal` ([`Ipc`]): the message that ended it.
struct Damage {
    dice: Dice,
}

impl Damage {
    fn damage_model(&self, model: &[u8]) -> Bytes {
        let dratio = if model.len() > 60 { 50 } else { 0 };
        let kept: Vec<u8> = model
            .iter()
            .copied()
            .filter(|_| self.dice.randint_0_100() > dratio)
            .collect();
        Bytes::from(kept)
    }
}

impl Component for Damage {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(model) = cx.recv_until_finished().await {
            cx.outbox.send(self.damage_model(&model)).await;
        }
        for msg in cx.control.drain() {
            cx.signal.send(msg).await;
        }
    }
}

fn main() -> std::io::Result<()> {
    let [generations, delay, seed] = support::counts(
        "feedback",
        "An L-system fed back through a damager, in a circular Pipeline.",
        [
            Count {
                name: "generations",
                help: "how many generations to grow",
                value: 20,
            },
            Count {
                name: "delay-ms",
                help: "the pause between generations",
                value: 400,
            },
            Count {
                name: "seed",
                help: "the seed of the Damage's dice",
                value: 2024,
            },
        ],
    );
    let lsystem = LSystem {
        generations,
        delay: Duration::from_millis(delay as u64),
    };
    let damage = Damage {
        dice: Dice::new(seed),
    };
    Pipeline![circular: lsystem, ConsoleEchoer::new().tag("\n").forwarder(), damage].run()?;
    println!();
    Ok(())
}
