//! Small components for putting systems together: Kamaelia's `Kamaelia.Util`
//! package.
//!
//! * [`ConsoleReader`], [`ConsoleEchoer`]: standard input and output as
//!   components.
//! * [`PassThrough`]: forwards what it receives.
//! * [`PureTransformer`]: a function applied to each message.
//! * [`OneShot`]: one message, then the end of data.
//! * [`Chargen`]: `"Hello World"` once a timeslice, a test source.
//! * [`LineSplitter`]: bytes in, lines out, with a bound on line length.
//! * [`MessageRateLimit`]: at most so many messages a second.
//! * [`PeriodicTick`], [`SingleTick`]: timers as components.
//! * [`introspector`]: the live system as a Graphviz graph, from code or as
//!   the [`Introspector`] component.
//! * [`PlugSplitter`], [`Plug`]: one stream to many sinks that come and go,
//!   with flow control (messages measured by [`Weigh`], and written once as
//!   bytes, by [`Encode`], for sinks that take bytes).
//! * [`Backplane`], [`PublishTo`], [`SubscribeTo`]: a splitter found by name;
//!   [`BackplaneSpan`] joins the backplanes of one name on several schedulers;
//!   with the `redis` feature, a `RedisBridge` joins backplanes across
//!   processes and machines through a Redis broker (`redis_bridge`).
//!
//! This layer stands on `axon` alone.

mod backplane;
mod chargen;
mod console;
mod encode;
pub mod introspector;
mod line_splitter;
mod one_shot;
mod pass_through;
mod pure_transformer;
mod rate_filter;
#[cfg(feature = "redis")]
pub mod redis_bridge;
#[cfg(test)]
pub(crate) mod rig;
mod span;
mod splitter;
mod tick;
mod weigh;
pub(crate) mod write_through;

pub use backplane::{
    publish_service, subscribe_service, Backplane, PublishTo, SubscribeTo, SubscribeToBoxes,
};
pub use chargen::{Chargen, CHARGEN_MESSAGE};
pub use console::{ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes};
pub use encode::Encode;
pub use introspector::Introspector;
pub use line_splitter::{LineSplitter, LineTooLong, DEFAULT_MAX_LINE_LENGTH};
pub use one_shot::OneShot;
pub use pass_through::PassThrough;
pub use pure_transformer::PureTransformer;
pub use rate_filter::MessageRateLimit;
#[cfg(feature = "redis")]
pub use redis_bridge::{
    BridgeError, BridgeStats, Marshall, RedisBridge, DEFAULT_BACKOFF_CAP, DEFAULT_BACKOFF_FIRST,
    DEFAULT_BRIDGE_QUEUE,
};
pub use span::{BackplaneSpan, SpanFull, DEFAULT_SPAN_QUEUE};
pub use splitter::{
    Configuration, Plug, PlugSplitter, PlugSplitterBoxes, Sink, DEFAULT_MAX_BACKLOG_BYTES,
    DEFAULT_MAX_BACKLOG_MESSAGES, DEFAULT_SPLITTER_INBOX_SIZE, DEFAULT_STALL_TIMEOUT,
};
pub use splitter::{DEFAULT_PACING_BYTES, DEFAULT_STALL_GRACE};
pub use tick::{PeriodicTick, SingleTick};
pub use weigh::Weigh;
