//! [`PassThrough`]: forwards what it receives, unchanged.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use axon::ipc::Ipc;
use axon::{Component, Cx, Standard};

/// Forwards every message from `inbox` to `outbox` and every message from
/// `control` to `signal`, unchanged: Kamaelia's `Kamaelia.Util.PassThrough`.
/// It ends after forwarding a control message its shutdown test accepts (by
/// default `ProducerFinished` or `ShutdownMicroprocess`; see
/// [`shutdown_on`](Self::shutdown_on)).
///
/// Order is kept: a control message goes out after every message that reached
/// `inbox` before it. The one exception is `ShutdownMicroprocess` ("stop
/// now"): it goes out at once, and whatever could not be forwarded yet is
/// dropped. So a `PassThrough` whose consumer has stopped reading (its
/// `outbox` full) still passes a stop on, and ends.
///
/// # Inboxes
///
/// * `inbox` (`T`): messages to forward.
/// * `control` ([`Ipc`]): forwarded to `signal`; a shutdown message ends it.
///
/// # Outboxes
///
/// * `outbox` (`T`): the messages from `inbox`, in order.
/// * `signal` ([`Ipc`]): the messages from `control`.
///
/// # Examples
///
/// ```
/// use axon::ipc::ProducerFinished;
/// use axon::{ComponentRef, Scheduler};
/// use kamaelia::util::PassThrough;
///
/// let relay = ComponentRef::new(PassThrough::<u32>::new());
/// let out = ComponentRef::new(PassThrough::<u32>::new());
/// relay.link((&relay, "outbox"), (&out, "inbox"))?;
/// relay.inbox::<u32>("inbox")?.deliver(7)?;
/// relay.inbox::<axon::ipc::Ipc>("control")?.deliver(ProducerFinished::new().into())?;
///
/// let scheduler = Scheduler::new();
/// relay.activate_on(&scheduler);
/// scheduler.run()?; // the relay ends after passing ProducerFinished on
/// assert_eq!(out.inbox::<u32>("inbox")?.recv(), Some(7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PassThrough<T> {
    shutdown_on: fn(&Ipc) -> bool,
    message: PhantomData<fn(T) -> T>,
}

impl<T> PassThrough<T> {
    /// A PassThrough that ends on `ProducerFinished` or `ShutdownMicroprocess`.
    pub fn new() -> Self {
        PassThrough {
            shutdown_on: Ipc::is_end_of_stream,
            message: PhantomData,
        }
    }

    /// Ends after forwarding a control message for which `test` is true
    /// (Kamaelia's `shutdownOn` list of message types).
    pub fn shutdown_on(mut self, test: fn(&Ipc) -> bool) -> Self {
        self.shutdown_on = test;
        self
    }
}

impl<T> Default for PassThrough<T> {
    fn default() -> Self {
        PassThrough::new()
    }
}

impl<T> fmt::Debug for PassThrough<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassThrough")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: 'static> Component for PassThrough<T> {
    type Boxes = Standard<T, T>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            // A message the outbox had no room for; `try_send` registered us, so
            // the consumer's next collection wakes us to try again.
            let mut held: Option<T> = None;
            let mut order: Option<Ipc> = None;
            loop {
                while let Some(message) = held.take().or_else(|| cx.inbox.recv()) {
                    if let Err(full) = cx.outbox.try_send(message) {
                        held = Some(full.into_inner());
                        break;
                    }
                }
                if order.is_none() {
                    order = cx.control.recv();
                }
                let due = order.as_ref().is_some_and(|o| {
                    o.is_shutdown_microprocess() || (held.is_none() && cx.inbox.is_empty())
                });
                if let Some(message) = order.take_if(|_| due) {
                    let ends = (self.shutdown_on)(&message);
                    cx.signal.send(message).await;
                    if ends {
                        return;
                    }
                    continue;
                }
                cx.idle().await;
            }
        }
    }
}
