//! `cargo run --example par_shutdown` (or `-- --ttl-ms 3000 --tick-ms 1000`
//! for the original's timings)
//!
//! Port of Kamaelia's `Kamaelia/Examples/UsingChassis/PAR/par_shutdown_simple.py`:
//! an acceptance test that a [`PAR!`](kamaelia::PAR!) shuts down cleanly when
//! what it is sent is a `ProducerFinished`, however deeply PARs and Pipelines
//! are nested.
//!
//! ```text
//! Pipeline![
//!     TimedShutdown,                    // after --ttl-ms: ProducerFinished on signal
//!     PAR![
//!         Chatty,
//!         PAR![
//!             Chatty,
//!             Chatty,
//!             Pipeline![PAR![
//!                 Pipeline![PAR![Chatty, Chatty, Chatty]],
//!                 Pipeline![PAR![Chatty, Chatty, Chatty]],
//!             ]],
//!         ],
//!     ],
//! ]
//! ```
//!
//! Each `ChattySlowShutdown` says it is still waiting every `--tick-ms` until
//! a message reaches its `control`, then takes three ticks to shut down,
//! saying so each time, and passes the message on. A PAR copies each message
//! on its `control` to every child, and a Pipeline hands its `control` to its
//! first child, so the `ProducerFinished` reaches all nine. Unlike
//! `ShutdownMicroprocess`, which would make each PAR end at once, a
//! `ProducerFinished` lets each PAR wait for its children to finish; so
//! "PAR shutdown" comes last, after every component has shut down slowly.
//!
//! TimedShutdown has no `outbox` (it only signals), so the Pipeline links
//! nothing to the PAR's `inbox`, which takes nothing. The originals' sleeps
//! are threaded components ([`ThreadedComponent`]) here too.

mod support;

use std::time::Duration;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, Standard, ThreadBoxes, ThreadCx, Threaded, ThreadedComponent};
use kamaelia::{Pipeline, PAR};
use support::Count;

axon::boxes! {
    /// The boxes of a [`TimedShutdown`]: it sends no data.
    struct TimedShutdownBoxes {
        /// Not read.
        inbox control: Ipc,
        /// `ProducerFinished`, once its time is up.
        outbox signal: Ipc,
    }
}

/// Sleeps for its time to live, then sends `ProducerFinished` out of
/// `signal` and ends.
struct TimedShutdown {
    ttl: Duration,
}

impl ThreadedComponent for TimedShutdown {
    type Boxes = TimedShutdownBoxes;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(signal) = cx.outbox::<Ipc>("signal") else {
            return;
        };
        std::thread::sleep(self.ttl);
        let _ = signal.send(ProducerFinished::new().into());
    }
}

/// Chatters until a message reaches `control`, shuts down slowly, then
/// passes the message on out of `signal`.
struct ChattySlowShutdown {
    name: String,
    tick: Duration,
}

/// The `number`th ChattySlowShutdown, chattering every `tick`.
fn chatty(number: usize, tick: Duration) -> Threaded<ChattySlowShutdown> {
    Threaded::new(ChattySlowShutdown {
        name: format!("ChattySlowShutdown_{number}"),
        tick,
    })
}

impl ThreadedComponent for ChattySlowShutdown {
    type Boxes = Standard<(), ()>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(ThreadBoxes {
            control, signal, ..
        }) = cx.boxes()
        else {
            return;
        };
        let msg = loop {
            println!("{} Still waiting", self.name);
            match control.recv_timeout(self.tick) {
                Ok(Some(msg)) => break msg,
                Ok(None) => {}
                Err(_) => return,
            }
        };
        for _ in 0..3 {
            println!("{} Shutting down slowly", self.name);
            std::thread::sleep(self.tick);
        }
        let _ = signal.send(msg);
    }
}

fn main() -> std::io::Result<()> {
    let [ttl, tick] = support::counts(
        "par_shutdown",
        "Nested PARs of slow, chatty components all shut down on one ProducerFinished.",
        [
            Count {
                name: "ttl-ms",
                help: "how long until the ProducerFinished is sent",
                value: 300,
            },
            Count {
                name: "tick-ms",
                help: "how often each component chatters, and each slow shutdown step",
                value: 100,
            },
        ],
    );
    let tick = Duration::from_millis(tick as u64);
    let chatty = |number| chatty(number, tick);
    Pipeline![
        Threaded::new(TimedShutdown {
            ttl: Duration::from_millis(ttl as u64),
        }),
        PAR![
            chatty(1),
            PAR![
                chatty(2),
                chatty(3),
                Pipeline![PAR![
                    Pipeline![PAR![chatty(4), chatty(5), chatty(6)]],
                    Pipeline![PAR![chatty(7), chatty(8), chatty(9)]],
                ]],
            ],
        ],
    ]
    .run()?;
    println!("PAR shutdown");
    Ok(())
}
