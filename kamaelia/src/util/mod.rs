//! Small components for putting systems together: Kamaelia's `Kamaelia.Util`
//! package.
//!
//! * [`ConsoleReader`], [`ConsoleEchoer`]: standard input and output as
//!   components.
//!
//! This layer stands on `axon` alone.

mod console;

pub use console::{ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes};
