//! `cargo run --example console_echo` — type lines; each is written back.
//! End with Ctrl-D.
//!
//! Port of Kamaelia's
//! `Kamaelia/Examples/Introspection/IntrospectionTutorial/CommandLineEchoExample.py`:
//! the smallest Kamaelia system, two components in a [`Pipeline!`](kamaelia::Pipeline!).
//! A [`ConsoleReader`] sends each line of standard input out of its
//! `outbox`, which the Pipeline links to the `inbox` of a [`ConsoleEchoer`],
//! which writes it to standard output.
//!
//! Shutdown travels the same way as the data: at the end of input the reader
//! sends `ProducerFinished` out of its `signal`, which the Pipeline links to
//! the echoer's `control`; the echoer writes whatever it still holds and
//! ends, and the Pipeline, its children gone, ends too, so `run` returns.

use axon::Component;
use kamaelia::{ConsoleEchoer, ConsoleReader, Pipeline};

fn main() -> std::io::Result<()> {
    Pipeline![ConsoleReader::new(), ConsoleEchoer::new()].run()
}
