//! `cargo run --example backplane_forwarding` — prints a count, one number a
//! second, and every line you type twice; end with Ctrl-D.
//!
//! Port of Kamaelia's `Kamaelia/Examples/Backplane/Forwarding.py`: a
//! [`Backplane`] called `broadcast`, and two Pipelines that never name each
//! other:
//!
//! ```text
//! Pipeline![Source, SubscribeTo("broadcast"), ConsoleEchoer]
//! Pipeline![ConsoleReader, PublishTo("broadcast").forwarder(true), ConsoleEchoer]
//! ```
//!
//! The Source (a threaded component, sleeping between numbers) feeds the
//! SubscribeTo's own `inbox`, which it sends on as it does what is published;
//! so the first echoer prints the count and every line typed. The
//! PublishTo is a *forwarder*: it also passes each line on, so the second
//! echoer prints each line too.
//!
//! Where the original's Source sends `"1"` every second for ever, this one
//! counts (`1`, `2`, …, one a line, every `--interval-ms`), and the end of
//! standard input ends everything: the reading Pipeline's end ends the
//! backplane, whose end ends the subscription and the Source.

mod support;

use std::time::Duration;

use axon::{
    ComponentRef, Postoffice, Standard, ThreadBoxes, ThreadCx, Threaded, ThreadedComponent,
};
use bytes::Bytes;
use kamaelia::{Backplane, ConsoleEchoer, ConsoleReader, Pipeline, PublishTo, SubscribeTo};

/// Sends `1`, `2`, `3`, … one every `interval`, from a thread of its own,
/// until any message on `control` (the original's threaded `Source`).
struct Source {
    interval: Duration,
}

impl ThreadedComponent for Source {
    type Boxes = Standard<(), Bytes>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(ThreadBoxes {
            control,
            outbox,
            signal,
            ..
        }) = cx.boxes()
        else {
            return;
        };
        for n in 1u64.. {
            if outbox.send(Bytes::from(format!("{n}\n"))).is_err() {
                return;
            }
            // The sleep between numbers, cut short by a message on `control`.
            match control.recv_timeout(self.interval) {
                Ok(None) => {}
                Ok(Some(stop)) => {
                    let _ = signal.send(stop);
                    return;
                }
                Err(_stopped) => return,
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let [interval_ms] = support::counts(
        "backplane_forwarding",
        "Counts, and echoes each line of standard input twice, through a backplane.",
        [support::Count {
            name: "interval-ms",
            help: "milliseconds between numbers",
            value: 1000,
        }],
    );
    let backplane = Backplane::<Bytes>::new("broadcast")
        .activate()
        .map_err(std::io::Error::other)?;
    let counting = ComponentRef::new(Pipeline![
        Threaded::new(Source {
            interval: Duration::from_millis(interval_ms as u64),
        }),
        SubscribeTo::new("broadcast"),
        ConsoleEchoer::new(),
    ]);
    let reading = ComponentRef::new(Pipeline![
        ConsoleReader::new(),
        PublishTo::new("broadcast").forwarder(true),
        ConsoleEchoer::new(),
    ]);
    // The end of input ends the reading Pipeline; its end ends the
    // backplane (after what was published), and the backplane's the Source.
    // (Linked by a postoffice of their own: a component's links go when it ends.)
    let wiring = Postoffice::new();
    wiring
        .link((&reading, "signal"), (&backplane, "control"))
        .and_then(|_| wiring.link((&backplane, "signal"), (&counting, "control")))
        .map_err(std::io::Error::other)?;
    counting.activate();
    reading.activate();
    axon::Scheduler::current().run()?;
    // The reader's thread may still be waiting on a terminal: exit now.
    std::process::exit(0)
}
