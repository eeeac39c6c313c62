//! `cargo run --example graphline_fail_shutdown` (or `-- --give-up-ms 0` to
//! wait for ever, as the original does)
//!
//! Port of Kamaelia's `Kamaelia/Examples/UsingChassis/Graphline/FailShutdown.py`:
//! a [`Graphline`] that does **not** shut down.
//!
//! ```text
//! Graphline! {
//!     TO_SHUTDOWN1: Waiter,
//!     TO_SHUTDOWN2: Waiter;
//!     ("self", "control") => ("TO_SHUTDOWN1", "control"),
//! }
//! ```
//!
//! Its own `control` is linked to one child, so the Graphline no longer
//! copies what arrives there to its children: the Pinger's `ProducerFinished`
//! goes to TO_SHUTDOWN1 alone. TO_SHUTDOWN1 passes it out of its `signal`,
//! which leads nowhere; TO_SHUTDOWN2 never hears of it and waits for ever. So
//! the Graphline never ends, never signals the Whinger, and the Whinger
//! whinges on. The lesson: once you link a Graphline's `control`, passing the
//! shutdown on to every child is your job.
//!
//! The original whinges until interrupted. Here a watchdog, outside the
//! Pipeline, listens on TO_SHUTDOWN1's `signal` (free, since nothing in the
//! Graphline uses it): once the shutdown has come out there it gives the rest
//! `--give-up-ms` to finish, then says which components are still running,
//! and stops the scheduler.

mod support;
mod waiters;

use std::time::Duration;

use axon::ipc::Ipc;
use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
use kamaelia::{Graphline, Pipeline};
use support::Count;
use waiters::{kamaelia_name, ms, Pinger, Waiter, Whinger};

/// Waits for a shutdown message on `inbox`, then `give_up` longer; then
/// names those of `watched` still running, and stops the scheduler.
///
/// * `inbox` ([`Ipc`]): the shutdown message, where it came out.
struct Watchdog {
    give_up: Duration,
    watched: Vec<(&'static str, ComponentRef)>,
}

impl Component for Watchdog {
    type Boxes = Standard<Ipc, ()>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let msg = cx.inbox.next().await;
        println!(
            "WATCHDOG: {} came out of TO_SHUTDOWN1; giving the rest {:?}",
            kamaelia_name(&msg),
            self.give_up
        );
        cx.sleep(self.give_up).await;
        let running: Vec<&str> = self
            .watched
            .iter()
            .filter(|(_, component)| !component.is_finished())
            .map(|(name, _)| *name)
            .collect();
        println!("WATCHDOG: still running: {}", running.join(", "));
        cx.scheduler().stop();
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let [delay, whinge] = waiters::options();
    let [delay, whinge, give_up] = support::counts(
        "graphline_fail_shutdown",
        "A Graphline whose control goes to one child only: it never shuts down.",
        [
            delay,
            whinge,
            Count {
                name: "give-up-ms",
                help: "how long after the shutdown to report what still runs (0: never)",
                value: 3000,
            },
        ],
    );
    println!(
        "This example will fail to shut down: the Graphline's control is linked to one \
         child, which does not pass the shutdown on to the other, and nobody tells the \
         outside world, so the Whinger keeps on whinging."
    );
    let first = ComponentRef::new(Waiter::new("TO_SHUTDOWN1"));
    let second = ComponentRef::new(Waiter::new("TO_SHUTDOWN2"));
    let waiters: Graphline<(), ()> = Graphline! {
        TO_SHUTDOWN1: first.clone(),
        TO_SHUTDOWN2: second.clone();
        ("self", "control") => ("TO_SHUTDOWN1", "control"),
    }?;
    let graphline = waiters.component().clone();
    let pipeline = Pipeline![Pinger::new(ms(delay)), waiters, Whinger::new(ms(whinge))];
    let whinger = pipeline.children().last().cloned();
    let pipeline = ComponentRef::new(pipeline);

    let scheduler = Scheduler::current();
    if give_up > 0 {
        let mut watched = vec![("TO_SHUTDOWN1", first.clone()), ("TO_SHUTDOWN2", second)];
        watched.push(("Graphline", graphline));
        watched.extend(whinger.map(|w| ("Whinger", w)));
        watched.push(("Pipeline", pipeline.clone()));
        let watchdog = ComponentRef::new(Watchdog {
            give_up: ms(give_up),
            watched,
        });
        first.link((&first, "signal"), (&watchdog, "inbox"))?;
        scheduler.activate(&watchdog);
    }
    scheduler.activate(&pipeline);
    scheduler.run()?;
    Ok(())
}
