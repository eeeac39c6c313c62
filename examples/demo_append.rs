//! `cargo run --example demo_append` (or `-- --path log.txt`) — type lines;
//! each is appended to the file and written back. End with Ctrl-D.
//!
//! Port of Kamaelia's `Kamaelia/Examples/Files/DemoAppend.py`: a log file as
//! a component in a Pipeline.
//!
//! ```text
//! Pipeline![ConsoleReader::new(), Append::new(path), ConsoleEchoer::new()]
//! ```
//!
//! Each line read from standard input goes to an [`Append`], which adds it
//! to the end of the file (creating it if missing), flushes it, and only
//! then passes it on to the [`ConsoleEchoer`]: a line on the screen is a line
//! in the file. At the end of input the `ProducerFinished` runs down the
//! Pipeline; the Append closes the file and everything ends.
//!
//! The original's reader adds no newline (`eol=""`); here the reader keeps
//! the newline it read, so the file gets whole lines.

mod support;

use axon::Component;
use kamaelia::{Append, ConsoleEchoer, ConsoleReader, Pipeline};
use support::Text;

fn main() -> std::io::Result<()> {
    let options = support::options(
        "demo_append",
        "Appends each line typed to a file, and writes it back.",
        [],
        [Text {
            name: "path",
            help: "the file to append to",
            value: "demo.txt".to_string(),
        }],
        None,
    );
    let [path] = options.texts;
    Pipeline![
        ConsoleReader::new(),
        Append::new(path),
        ConsoleEchoer::new()
    ]
    .run()
}
