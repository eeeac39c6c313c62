//! Kamaelia's Axon in Rust: a program is a set of small cooperative
//! components, each a resumable generator with named inboxes and outboxes,
//! wired together by linkages and round-robined by a scheduler.
//!
//! # A first system
//!
//! As in Axon's MiniAxon tutorial, build it up in steps.
//!
//! ## Components
//!
//! A component is a struct (its configuration) implementing [`Component`]. Its
//! `main` is an `async fn` that runs as a generator: each `cx.yield_now().await`
//! hands control back to the scheduler, where an Axon `main` would `yield 1`.
//! Its boxes are declared by [`Component::Boxes`]; [`Standard`] gives the four
//! every Axon component has: `inbox` and `control` in, `outbox` and `signal` out.
//!
//! ```
//! use axon::{Component, Cx, Standard};
//! use axon::ipc::ProducerFinished;
//!
//! /// Sends `"hello0"`, `"hello1"`, … then says it has finished.
//! struct Producer {
//!     count: usize,
//! }
//!
//! impl Component for Producer {
//!     type Boxes = Standard<(), String>;
//!
//!     async fn main(self, cx: Cx<Standard<(), String>>) {
//!         for n in 0..self.count {
//!             cx.outbox.send(format!("hello{n}")).await;
//!             cx.yield_now().await;
//!         }
//!         cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
//!     }
//! }
//! # let _ = Producer { count: 1 };
//! ```
//!
//! ## Inboxes and outboxes
//!
//! A box carries one message type. `cx.outbox.send(msg).await` delivers
//! straight into whatever inbox the outbox is linked to (and drops the message
//! if it is linked to nothing, as Axon does). `cx.inbox.recv()` takes the oldest
//! message; `for msg in cx.inbox.drain()` takes them all. A component with
//! nothing to do calls `cx.pause()` and yields; a delivery to any of its inboxes
//! wakes it again.
//!
//! ```
//! use axon::{Component, Cx, Standard};
//! # use std::{cell::RefCell, rc::Rc};
//!
//! /// Prints what it receives until its producer finishes.
//! struct Consumer {
//! #   seen: Rc<RefCell<Vec<String>>>,
//! }
//!
//! impl Component for Consumer {
//!     type Boxes = Standard<String, ()>;
//!
//!     async fn main(self, cx: Cx<Standard<String, ()>>) {
//!         loop {
//!             for msg in cx.inbox.drain() {
//!                 println!("{msg}");
//! #               self.seen.borrow_mut().push(msg);
//!             }
//!             if cx.control.recv().is_some_and(|m| m.is_producer_finished()) {
//!                 return;
//!             }
//!             cx.pause();
//!             cx.yield_now().await;
//!         }
//!     }
//! }
//! # let _ = Consumer { seen: Default::default() };
//! ```
//!
//! ## Linkages
//!
//! [`ComponentRef::new`] makes a component (its boxes exist at once, its body
//! waits for activation). Link an outbox to an inbox with `link`, naming each
//! end as `(&component, "box")`. Linking boxes of different types is refused
//! with an error naming both boxes and both types. Inside a body, a parent links
//! its own boxes to its children's with [`Cx::link`] and `(&cx, "box")`; an
//! inbox-to-inbox or outbox-to-outbox link (a *passthrough*) lets a parent
//! hand its input to a child or re-emit a child's output. However long the
//! chain, a message makes one hop to the final inbox.
//!
//! ## The scheduler
//!
//! Activate the components and run the [`Scheduler`]: it resumes each active
//! component once per cycle, in activation order, skips paused ones (they cost
//! nothing), and returns when every component has finished.
//!
//! ```
//! # use axon::{Component, Cx, Standard};
//! # use axon::ipc::ProducerFinished;
//! # use std::{cell::RefCell, rc::Rc};
//! # struct Producer { count: usize }
//! # impl Component for Producer {
//! #     type Boxes = Standard<(), String>;
//! #     async fn main(self, cx: Cx<Standard<(), String>>) {
//! #         for n in 0..self.count {
//! #             cx.outbox.send(format!("hello{n}")).await;
//! #             cx.yield_now().await;
//! #         }
//! #         cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
//! #     }
//! # }
//! # struct Consumer { seen: Rc<RefCell<Vec<String>>> }
//! # impl Component for Consumer {
//! #     type Boxes = Standard<String, ()>;
//! #     async fn main(self, cx: Cx<Standard<String, ()>>) {
//! #         loop {
//! #             for msg in cx.inbox.drain() { self.seen.borrow_mut().push(msg); }
//! #             if cx.control.recv().is_some_and(|m| m.is_producer_finished()) { return; }
//! #             cx.pause();
//! #             cx.yield_now().await;
//! #         }
//! #     }
//! # }
//! use axon::{ComponentRef, Scheduler};
//!
//! # let seen = Rc::new(RefCell::new(Vec::new()));
//! let producer = ComponentRef::new(Producer { count: 3 });
//! let consumer = ComponentRef::new(Consumer { /* … */
//! #   seen: seen.clone(),
//! });
//! producer.link((&producer, "outbox"), (&consumer, "inbox"))?;
//! producer.link((&producer, "signal"), (&consumer, "control"))?;
//!
//! let scheduler = Scheduler::new();
//! producer.activate_on(&scheduler);
//! consumer.activate_on(&scheduler);
//! scheduler.run()?;
//! # assert_eq!(*seen.borrow(), ["hello0", "hello1", "hello2"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Shutdown
//!
//! By convention `signal` is linked to the next component's `control`, and
//! both carry [`ipc::Ipc`]. [`ProducerFinished`](ipc::ProducerFinished) means
//! "no more data: finish up and end"; [`ShutdownMicroprocess`](ipc::ShutdownMicroprocess)
//! means "stop now". A component that ends usually passes the message on out of
//! its own `signal`, so a whole pipeline shuts down in order. When a component's
//! body returns, the linkages it made are removed and its parent (see
//! [`Cx::add_children`]) is woken.
//!
//! # What else is here
//!
//! * Bounded inboxes: [`Inbox::set_size`]; a full inbox refuses
//!   [`Outbox::try_send`] with [`NoSpaceInBox`], and makes [`Outbox::send`] wait.
//! * Yielding [`NewComponent`] and [`WaitComplete`], as in Axon.
//! * Dynamic boxes ([`Cx::add_inbox`], [`Cx::add_outbox`]) and the service
//!   registry ([`Tracker`]).
//! * Timers ([`Cx::sleep`], [`Cx::wake_at`]); waking components and stopping the
//!   scheduler from other threads ([`Remote`], [`RemoteWaker`]); a pluggable idle
//!   wait ([`Park`]) through which Kamaelia's Selector delivers socket readiness.
//! * A panic in one component ends only that component, reported through
//!   `tracing`; [`Scheduler::set_fail_fast`] restores Axon's stop-everything mode.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod box_set;
mod component;
mod component_ref;
mod context;
mod coroutine;
mod error;
mod inbox;
pub mod ipc;
mod linkage;
mod outbox;
mod park;
mod postoffice;
mod remote;
mod scheduler;
mod task;
mod tracker;
mod yields;

pub use box_set::{
    BoxDecl, BoxInfo, BoxOwner, BoxSet, Direction, ErasedBox, MakeBox, NoBoxes, Standard,
};
pub use component::{Component, Cx, YieldNow, YieldWith};
pub use component_ref::{AsComponent, ComponentId, ComponentRef};
pub use error::{BoxError, BoxLabel, LinkError, LinkErrorKind, NoSpaceInBox, ServiceError};
pub use inbox::{Drain, Inbox};
pub use linkage::{Linkage, Passthrough};
pub use outbox::{Outbox, SendFuture};
pub use park::{Park, ThreadPark, Unparker};
pub use postoffice::Postoffice;
pub use remote::{Remote, RemoteSender, RemoteWaker};
pub use scheduler::{Scheduler, DEFAULT_IO_POLL_INTERVAL};
pub use tracker::{Service, Tracker};
pub use yields::{NewComponent, RawYield, WaitComplete, Yieldable};
