//! [`CollectionWake`]: whether collecting a message wakes the component that
//! sent it.

/// Whether the collection of a message wakes its sender: chosen per box, by
/// the box's owner, with [`Outbox::set_collection_wake`] (for what this
/// component sends) and [`Inbox::set_collection_wake`] (for what this
/// component collects).
///
/// * [`Always`](Self::Always), the default, is Axon's rule: a collection
///   wakes the owner of every outbox that sent into the inbox since its last
///   such wake. So a producer learns that there is room, and a producer that
///   paused after sending learns that its message was taken.
/// * [`WhenRefused`](Self::WhenRefused) wakes a sender only if it needs room:
///   its send was refused by the full inbox, or it found the inbox full with
///   [`Outbox::is_full`]. A collection that no one waits on wakes no one.
///
/// The sender is woken only if both its outbox and the final inbox say
/// `Always`, or if it was refused. So a component can say it for its own side
/// alone: for the outboxes whose collection is no news to it, and for the
/// inboxes whose senders do not wait on its collections.
///
/// Why it exists: each needless wake is a resume of a component that then
/// finds nothing to do. A socket's adapter and its protocol handler send each
/// other one message per round trip; under Axon's rule each collection resumes
/// the other side once more, for nothing. The adapter says `WhenRefused` for
/// its own boxes, so an echo round trip takes three resumes instead of four,
/// and the handler is still woken when the adapter's inbox has room again.
///
/// It is the *final* inbox's choice that counts, as with the size limit: one
/// set on an inbox that is linked onward waits until the link is removed.
///
/// [`Outbox::set_collection_wake`]: crate::Outbox::set_collection_wake
/// [`Inbox::set_collection_wake`]: crate::Inbox::set_collection_wake
/// [`Outbox::is_full`]: crate::Outbox::is_full
///
/// # Examples
///
/// A producer that sends and pauses is woken when its message is collected
/// (Axon's rule), but not once its outbox says `WhenRefused`:
///
/// ```
/// use axon::{CollectionWake, Component, ComponentRef, Cx, Scheduler, Standard};
/// use std::{cell::Cell, rc::Rc};
///
/// /// Sends one message, then counts how often it is resumed.
/// struct Once(Rc<Cell<u32>>, CollectionWake);
/// impl Component for Once {
///     type Boxes = Standard<(), u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.outbox.set_collection_wake(self.1);
///         cx.outbox.send(1).await;
///         loop {
///             cx.idle().await;
///             self.0.set(self.0.get() + 1);
///         }
///     }
/// }
/// struct Sink;
/// impl Component for Sink {
///     type Boxes = Standard<u32, ()>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
///
/// for (rule, wakes) in [(CollectionWake::Always, 1), (CollectionWake::WhenRefused, 0)] {
///     let resumed = Rc::new(Cell::new(0));
///     let (once, sink) = (ComponentRef::new(Once(resumed.clone(), rule)), ComponentRef::new(Sink));
///     once.link((&once, "outbox"), (&sink, "inbox"))?;
///     let scheduler = Scheduler::new();
///     once.activate_on(&scheduler);
///     for _ in 0..3 {
///         scheduler.run_cycle();
///     }
///     assert_eq!(sink.inbox::<u32>("inbox")?.recv(), Some(1)); // the collection
///     for _ in 0..3 {
///         scheduler.run_cycle();
///     }
///     assert_eq!(resumed.get(), wakes);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CollectionWake {
    /// Every collection wakes the senders of what was collected (Axon's rule).
    #[default]
    Always,
    /// A collection wakes only the senders that are waiting for room.
    WhenRefused,
}
