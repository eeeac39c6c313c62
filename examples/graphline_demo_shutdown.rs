//! `cargo run --example graphline_demo_shutdown` (or `-- --delay-ms 100`)
//!
//! Port of Kamaelia's `Kamaelia/Examples/UsingChassis/Graphline/DemoShutdown.py`:
//! how a [`Graphline`] passes shutdown on to its children.
//!
//! ```text
//! Pipeline![
//!     Pinger,                        // sleeps, then sends ProducerFinished on signal
//!     Graphline! {
//!         TO_SHUTDOWN1: Waiter,      // each waits for a message on control,
//!         TO_SHUTDOWN2: Waiter,      // then passes it on out of signal
//!         TO_SHUTDOWN3: Waiter;
//!     },                             // no linkages at all
//!     Whinger,                       // complains until shut down
//! ]
//! ```
//!
//! The Pipeline links the Pinger's `signal` to the Graphline's `control`.
//! Nothing inside the Graphline is linked to its own `control`, so it copies
//! each message arriving there to the `control` of every child whose
//! `control` no linkage feeds: here all three Waiters, which end. Once all its
//! children have ended, the Graphline (whose `signal` nothing inside is linked
//! to) sends a `ProducerFinished` of its own out of `signal`, which reaches
//! the Whinger; it ends, and with it the Pipeline and the program.
//!
//! The Waiters print their names in the Graphline where the original prints
//! Axon's numeric ids.

mod support;
mod waiters;

use axon::Component;
use kamaelia::{Graphline, Pipeline};
use waiters::{ms, Pinger, Waiter, Whinger};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let [delay, whinge] = support::counts(
        "graphline_demo_shutdown",
        "A Graphline copies the shutdown it is sent to all its children.",
        waiters::options(),
    );
    println!(
        "Three components inside a Graphline wait for shutdown from the outside world. \
         When it is passed on to them they shut down, and so the Graphline (and the \
         Pipeline) shuts down."
    );
    let waiters: Graphline<(), ()> = Graphline! {
        TO_SHUTDOWN1: Waiter::new("TO_SHUTDOWN1"),
        TO_SHUTDOWN2: Waiter::new("TO_SHUTDOWN2"),
        TO_SHUTDOWN3: Waiter::new("TO_SHUTDOWN3");
    }?;
    Pipeline![Pinger::new(ms(delay)), waiters, Whinger::new(ms(whinge)),].run()?;
    Ok(())
}
