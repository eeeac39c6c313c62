//! Small components for putting systems together: Kamaelia's `Kamaelia.Util`
//! package.
//!
//! * [`ConsoleReader`], [`ConsoleEchoer`]: standard input and output as
//!   components.
//! * [`PassThrough`]: forwards what it receives.
//! * [`PlugSplitter`], [`Plug`]: one stream to many sinks that come and go,
//!   with flow control (messages measured by [`Weigh`]).
//! * [`Backplane`], [`PublishTo`], [`SubscribeTo`]: a splitter found by name.
//!
//! This layer stands on `axon` alone.

mod backplane;
mod console;
mod pass_through;
mod splitter;
mod weigh;

pub use backplane::{
    publish_service, subscribe_service, Backplane, PublishTo, SubscribeTo, DEFAULT_SUBSCRIBER_QUEUE,
};
pub use console::{ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes};
pub use pass_through::PassThrough;
pub use splitter::{
    Configuration, Plug, PlugSplitter, PlugSplitterBoxes, Sink, DEFAULT_MAX_BACKLOG_BYTES,
    DEFAULT_MAX_BACKLOG_MESSAGES, DEFAULT_SPLITTER_INBOX_SIZE, DEFAULT_STALL_TIMEOUT,
};
pub use weigh::Weigh;
