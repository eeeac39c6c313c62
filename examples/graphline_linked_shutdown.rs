//! `cargo run --example graphline_linked_shutdown` (or `-- --delay-ms 100`)
//!
//! Port of Kamaelia's `Kamaelia/Examples/UsingChassis/Graphline/LinkedShutdown.py`:
//! [`graphline_demo_shutdown`](../graphline_demo_shutdown/index.html) again,
//! but with the Waiters chained inside the Graphline, each one's `signal`
//! linked to the next one's `control`:
//!
//! ```text
//! ("TO_SHUTDOWN1", "signal") => ("TO_SHUTDOWN2", "control"),
//! ("TO_SHUTDOWN2", "signal") => ("TO_SHUTDOWN3", "control"),
//! ```
//!
//! The Graphline copies a message on its `control` only to the children whose
//! `control` no linkage feeds: now only TO_SHUTDOWN1. It passes the
//! `ProducerFinished` on to TO_SHUTDOWN2, which passes it on to TO_SHUTDOWN3,
//! so they shut down in that order. Then the Graphline, all its children
//! ended, sends its own `ProducerFinished` to the Whinger, and everything
//! ends.

mod support;
mod waiters;

use axon::Component;
use kamaelia::{Graphline, Pipeline};
use waiters::{ms, Pinger, Waiter, Whinger};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let [delay, whinge] = support::counts(
        "graphline_linked_shutdown",
        "Shutdown reaches the first child of a Graphline, which passes it along a chain.",
        waiters::options(),
    );
    let waiters: Graphline<(), ()> = Graphline! {
        TO_SHUTDOWN1: Waiter::new("TO_SHUTDOWN1"),
        TO_SHUTDOWN2: Waiter::new("TO_SHUTDOWN2"),
        TO_SHUTDOWN3: Waiter::new("TO_SHUTDOWN3");
        ("TO_SHUTDOWN1", "signal") => ("TO_SHUTDOWN2", "control"),
        ("TO_SHUTDOWN2", "signal") => ("TO_SHUTDOWN3", "control"),
    }?;
    Pipeline![Pinger::new(ms(delay)), waiters, Whinger::new(ms(whinge))].run()?;
    Ok(())
}
