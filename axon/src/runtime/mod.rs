//! The runtime layer: the round-robin [`Scheduler`](scheduler::Scheduler),
//! its idle wait ([`Park`](park::Park)), and the thread-safe handles through
//! which other threads reach it ([`remote`]), and running several schedulers
//! at once, one per thread ([`schedulers`]).
//!
//! It runs tasks through the task layer and implements that layer's `Host`
//! trait; it knows nothing of `Component` or `ComponentRef`.

pub(crate) mod context;
pub(crate) mod park;
pub(crate) mod remote;
pub(crate) mod scheduler;
pub(crate) mod schedulers;
pub(crate) mod timers;
