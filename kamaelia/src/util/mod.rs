//! Small components for putting systems together: Kamaelia's `Kamaelia.Util`
//! package.
//!
//! * [`ConsoleReader`], [`ConsoleEchoer`]: standard input and output as
//!   components.
//! * [`PureTransformer`]: a function applied to each message.
//! * [`OneShot`]: one message, then the end of data.
//! * [`Chargen`]: `"Hello World"` once a timeslice, a test source.
//! * [`LineSplitter`]: bytes in, lines out, with a bound on line length.
//! * [`MessageRateLimit`]: at most so many messages a second.
//! * [`PeriodicTick`], [`SingleTick`]: timers as components.
//! * [`introspector`]: the live system as a Graphviz graph, from code or as
//!   the [`Introspector`] component.
//!
//! This layer stands on `axon` alone.

mod chargen;
mod console;
pub mod introspector;
mod line_splitter;
mod one_shot;
mod pure_transformer;
mod rate_filter;
#[cfg(test)]
pub(crate) mod rig;
mod tick;

pub use chargen::{Chargen, CHARGEN_MESSAGE};
pub use console::{ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes};
pub use introspector::Introspector;
pub use line_splitter::{LineSplitter, LineTooLong, DEFAULT_MAX_LINE_LENGTH};
pub use one_shot::OneShot;
pub use pure_transformer::PureTransformer;
pub use rate_filter::MessageRateLimit;
pub use tick::{PeriodicTick, SingleTick};
