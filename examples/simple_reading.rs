//! `cargo run --example simple_reading` (or `-- --path /etc/fstab`, and
//! `--rate 2` to pace it)
//!
//! Port of Kamaelia's `Kamaelia/Examples/Files/SimpleReading.py`: a file
//! written to the console, a line at a time.
//!
//! ```text
//! Pipeline![SimpleReader::new(path).lines(), ConsoleEchoer::new()]
//! ```
//!
//! A [`SimpleReader`] reads the file on a thread of its own and sends each
//! line out of its `outbox`, then `ProducerFinished` out of its `signal`;
//! the [`ConsoleEchoer`] writes the lines and, on the `ProducerFinished`,
//! ends. With `--rate N` a [`MessageRateLimit`] between them passes the lines
//! on at N a second, as the original's second and third pipelines do.
//!
//! The original reads `/etc/fstab`, which not every system has; the default
//! here is this example's own source.

mod support;

use axon::Component;
use kamaelia::{ConsoleEchoer, MessageRateLimit, Pipeline, SimpleReader};
use support::{Count, Text};

fn main() -> std::io::Result<()> {
    let options = support::options(
        "simple_reading",
        "Writes a file to the console, a line at a time.",
        [Count {
            name: "rate",
            help: "lines a second (0: as fast as they come)",
            value: 0,
        }],
        [Text {
            name: "path",
            help: "the file to read",
            value: concat!(env!("CARGO_MANIFEST_DIR"), "/", file!()).to_string(),
        }],
        None,
    );
    let [rate] = options.counts;
    let [path] = options.texts;
    // The reader would report a missing file too, but only in the log: say
    // so plainly, and fail.
    if let Err(e) = std::fs::File::open(&path) {
        eprintln!("simple_reading: cannot read {path}: {e}");
        std::process::exit(1);
    }
    let reader = SimpleReader::new(path).lines();
    if rate == 0 {
        Pipeline![reader, ConsoleEchoer::new()].run()
    } else {
        let limit = MessageRateLimit::new(rate as f64, 1);
        Pipeline![reader, limit, ConsoleEchoer::new()].run()
    }
}
