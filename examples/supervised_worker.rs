//! `echo -e "4\n0\n5" | cargo run --example supervised_worker`
//!
//! A worker that fails, and a [`Supervisor`] that makes a new one each time,
//! so that the rest of the system never notices. Each line of standard input
//! is a number to divide 100 by; a 0 makes the Divider panic (dividing by
//! zero), which ends only the Divider. Its Supervisor logs the restart and
//! links a fresh Divider in its place: the lines after the 0 are answered by
//! the next one, whose number shows it is new.
//!
//! ```text
//! Pipeline![ConsoleReader, Supervisor::wrap(Divider), ConsoleEchoer]
//! ```
//!
//! At the end of input the reader's `ProducerFinished` reaches the
//! Supervisor, which passes it on to the Divider; the Divider answers what
//! is left and ends, and so do the Supervisor, the echoer and the program.
//! Give four 0s within 5 s and the Supervisor gives up (three restarts is
//! the default limit), says why on `signal`, and the program ends there.

mod support;

use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::chassis::ChildSpec;
use kamaelia::{ConsoleEchoer, ConsoleReader, Pipeline, Supervisor};

/// Divides 100 by each number it is sent; panics on a 0.
struct Divider {
    /// Which Divider this is: 1 for the first, 2 for the one after a restart.
    number: u32,
}

impl Component for Divider {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(line) = cx.recv_until_finished().await {
            let text = String::from_utf8_lossy(&line).trim().to_string();
            let answer = match text.parse::<u32>() {
                Ok(n) => format!("divider {}: 100 / {n} = {}\n", self.number, 100 / n),
                Err(_) => format!("divider {}: {text:?} is not a number\n", self.number),
            };
            cx.outbox.send(Bytes::from(answer)).await;
        }
    }
}

fn main() -> std::io::Result<()> {
    support::counts(
        "supervised_worker",
        "Divides 100 by each number read; a 0 crashes the worker, which is restarted.",
        [],
    );
    let mut made = 0;
    let divider = ChildSpec::new("divider", move || {
        made += 1;
        Divider { number: made }
    });
    Pipeline![
        ConsoleReader::new(),
        Supervisor::wrap(divider),
        ConsoleEchoer::new()
    ]
    .run()
}
