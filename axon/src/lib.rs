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
//!     async fn main(self, cx: Cx<Self::Boxes>) {
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
//! A one-off component needs no struct: [`from_fn`] makes one from a closure
//! taking its `Cx`.
//!
//! ## Inboxes and outboxes
//!
//! A box carries one message type. `cx.outbox.send(msg).await` delivers
//! straight into whatever inbox the outbox is linked to (and drops the message
//! if it is linked to nothing, as Axon does). `cx.inbox.recv()` takes the oldest
//! message, or `None`; `for msg in cx.inbox.drain()` takes them all;
//! `cx.inbox.next().await` waits for one. A component with nothing to do
//! calls `cx.idle().await` (Axon's `self.pause(); yield 1`); a delivery to any
//! of its inboxes wakes it again.
//!
//! Most components receive until their producer has finished, and
//! [`Cx::recv_until_finished`] is that loop: it yields every message sent
//! before a message arrived on `control`, then `None`.
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
//!     async fn main(self, cx: Cx<Self::Boxes>) {
//!         while let Some(msg) = cx.recv_until_finished().await {
//!             println!("{msg}");
//! #           self.seen.borrow_mut().push(msg);
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
//! end as `(&component, "box")`, as in Axon, or by its typed handle
//! (`&cx.outbox`), which the compiler checks. Linking boxes of different types
//! by name is refused with an error naming both boxes and both types. Inside a body, a parent links
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
//! #     async fn main(self, cx: Cx<Self::Boxes>) {
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
//! #     async fn main(self, cx: Cx<Self::Boxes>) {
//! #         while let Some(msg) = cx.recv_until_finished().await {
//! #             self.seen.borrow_mut().push(msg);
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
//! # The layers of this crate
//!
//! A module imports only from its own layer or the layers below it:
//!
//! | layer | modules | what it is |
//! |---|---|---|
//! | leaves | `id`, `epoch`, `error`, `ipc`, `stm` | identities, the thread's wake epoch, errors, Axon's messages, software transactional memory |
//! | boxes | `boxes/` (`inbox`, `outbox`, `graph`, `linkage`, `owner`) | queues, the link graph, one-hop delivery; reaches its owners only through the `Owner` trait |
//! | task | `task/` (`state`, `dynamic`, `family`, `coroutine`, `current`, `yields`) | one microprocess: lifecycle, body, dynamic boxes, children; reaches its scheduler only through the `Host` trait |
//! | runtime | `runtime/` (`scheduler`, `timers`, `context`, `park`, `remote`) | the round-robin scheduler, its idle wait, other threads |
//! | API | `component`, `component_ref`, `fn_component`, `handle`, `postoffice`, `threaded`, `tracker`, `yields` | what users write against: `Component`, `Cx`, `ComponentRef`, `from_fn`, `Postoffice`, `Tracker`, `Background` and `Handle` |
//!
//! The API layer may add methods to lower types (`Scheduler::activate`, which
//! takes a `ComponentRef`, lives in `component_ref.rs`), never the other way
//! round. `tests/layers.rs` at the workspace root checks the code.
//!
//! # What else is here
//!
//! * Bounded inboxes: [`Inbox::set_size`]; a full inbox refuses
//!   [`Outbox::try_send`] with [`NoSpaceInBox`], and makes [`Outbox::send`] wait.
//! * Yielding [`NewComponent`] and [`WaitComplete`], as in Axon.
//! * Dynamic boxes ([`Cx::add_inbox`], [`Cx::add_outbox`]), resources tracked
//!   per box ([`Cx::track_resource`], [`Cx::track_resource_information`]), and
//!   the service registry ([`Tracker`]).
//! * Timers ([`Cx::sleep`], [`Cx::wake_at`]); waking components and stopping the
//!   scheduler from other threads ([`Remote`], [`RemoteWaker`]); a pluggable idle
//!   wait ([`Park`]) through which Kamaelia's Selector delivers socket readiness.
//! * A component system inside an ordinary program: [`Background`] runs a
//!   scheduler on a thread of its own, and a [`Handle`] puts into a
//!   component's `inbox` and gets from its `outbox` from plain code (Axon's
//!   `background` and `Handle`).
//! * Components whose body is plain blocking Rust on a thread of its own
//!   ([`ThreadedComponent`], made a component by [`Threaded`]), bridged to
//!   the scheduler by bounded lock-free queues: Axon's `threadedcomponent`.
//! * Axon's software transactional memory, for values shared between threads:
//!   [`stm`] (`Store`, `using`, `commit`, `ConcurrentUpdate`, `BusyRetry`).
//! * A panic in one component ends only that component, reported through
//!   `tracing`; [`Scheduler::set_fail_fast`] restores Axon's stop-everything mode.
//!
//! # Where this differs from Axon
//!
//! * **A collection wakes only those it concerns.** Axon wakes the owner of
//!   every outbox upstream of an inbox whenever anything is collected from it.
//!   Here a collection (`recv`, `drain`, `next`) wakes the owners of the
//!   outboxes that sent into the inbox, or were refused by it, since they were
//!   last woken, and of the outboxes they are linked through (outbox-to-outbox
//!   passthroughs). A paused producer is still woken when its message is
//!   collected; an outbox linked in after the send, which never sent, is not;
//!   and an inbox with ten thousand sources wakes one per message, not ten
//!   thousand.
//! * A [`Drain`] dropped before it is used up gives its messages back to the
//!   inbox they would now reach (downstream, if the inbox was linked onward
//!   meanwhile): nothing is lost.
//! * Deleting a dynamic box removes its links ([`Cx::delete_inbox`]).
//! * Linking and unlinking cost the same however many boxes are linked to the
//!   same inbox: only the subtree being attached or detached is re-pointed.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

// Leaves.
mod epoch;
mod error;
mod id;
pub mod ipc;
pub mod stm;
// The box layer.
mod boxes;
// The task layer.
mod task;
// The runtime.
mod runtime;
// The public API.
mod component;
mod component_ref;
mod fn_component;
mod handle;
mod postoffice;
mod threaded;
mod tracker;
mod yields;

pub use boxes::{
    Absent, BoxDecl, BoxInfo, BoxSet, CollectionWake, Drain, Inbox, Linkage, Next, NoBoxes, Outbox,
    OverflowPolicy, Passthrough, SendFuture, Standard,
};
pub use component::{Component, Cx, TrackedResource, YieldNow, YieldWith};
pub use component_ref::{AsComponent, ComponentRef};
pub use error::{
    BoxError, BoxLabel, LinkError, LinkErrorKind, NoSpaceInBox, ResourceError, ServiceError,
};
pub use fn_component::{from_fn, FnComponent};
pub use handle::{Background, Handle, DEFAULT_HANDLE_CAPACITY};
pub use id::{ComponentId, Direction};
pub use postoffice::{Agrees, LinkEnd, Named, Postoffice, Typed};
pub use runtime::park::{Park, ThreadPark, Unparker};
pub use runtime::remote::{Remote, RemoteSender, RemoteWaker};
pub use runtime::scheduler::{panic_message, Scheduler, DEFAULT_IO_POLL_INTERVAL};
pub use runtime::schedulers::run_schedulers;
pub use threaded::{
    Stopped, ThreadBoxError, ThreadBoxes, ThreadCx, ThreadInbox, ThreadOutbox, Threaded,
    ThreadedComponent, DEFAULT_QUEUE_LENGTH,
};
pub use tracker::{Service, Tracker};
pub use yields::{NewComponent, WaitComplete, Yieldable};

/// Plumbing that the [`boxes!`] macro and sealed traits need to name; not
/// part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::boxes::graph::link_work;
    pub use crate::boxes::{BoxOwner, ErasedBox, MakeBox};
    pub use crate::yields::RawYield;
}
