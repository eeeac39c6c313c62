//! Components that hold and wire other components: Kamaelia's
//! `Kamaelia.Chassis` package.
//!
//! * [`ServerCore`], [`SimpleServer`] (`connected_server/`): a TCP server
//!   that runs a protocol handler component per connection (Kamaelia's
//!   `ConnectedServer` module).
//! * [`Pipeline`] (`pipeline.rs`): components in a row.
//! * [`Graphline`] (`graphline.rs`): named components, linked as you say.
//! * [`Par`] (`par.rs`): components side by side (Kamaelia's `PAR`).
//! * [`Carousel`] (`carousel.rs`): one child at a time, each made from a
//!   message.
//! * [`Seq`] (`seq.rs`): components one after another.
//! * [`Supervisor`] (`supervisor.rs`, `supervisor/`): children made again
//!   when they fail, as Erlang/OTP's supervisors make them.
//! * `stage.rs`, `children.rs`, `error.rs`: what they share ([`Stage`],
//!   [`LinksTo`], [`ChassisError`], waiting for children).
//!
//! This layer stands on [`internet`](crate::internet) (and on
//! [`signals`](crate::signals) for an orderly stop on Ctrl-C).

mod carousel;
mod children;
mod connected_server;
mod error;
mod graphline;
mod par;
mod pipeline;
mod seq;
mod stage;
mod supervisor;

pub use carousel::{Carousel, CarouselBoxes};
pub use connected_server::{
    ServerCore, ServerCoreBoxes, SimpleServer, DEFAULT_HANDLER_INBOX_SIZE, DEFAULT_PORT,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use error::ChassisError;
pub use graphline::{Graphline, GraphlineBuilder};
pub use par::Par;
pub use pipeline::{Pipeline, PipelineChain};
pub use seq::Seq;
pub use stage::{LinksTo, Stage, WithInboxSize};
pub use supervisor::{
    ChildSpec, GaveUp, Restart, Strategy, Supervisor, DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW,
};
