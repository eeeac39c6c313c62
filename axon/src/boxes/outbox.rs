//! [`Outbox`]: where messages leave a component.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use crate::boxes::collection_wake::CollectionWake;
use crate::boxes::graph::{target_of, AnyBox, Links};
use crate::boxes::inbox::{InboxNode, Sender};
use crate::boxes::owner::{label_of, Owner};
use crate::boxes::ErasedBox;
use crate::epoch::{epoch, NEVER};
use crate::error::{BoxError, BoxLabel, NoSpaceInBox};
use crate::id::{ComponentId, Direction};

/// An outbox: sends `T` messages to whatever inbox it is linked to.
///
/// An outbox stores nothing. A send goes straight into the final inbox of the
/// outbox's chain of linkages, in one hop. **A send from an outbox that is not
/// linked is dropped**, as in Axon; each drop is traced at `TRACE` level
/// (target `axon::outbox`).
///
/// There are two ways to send:
///
/// * [`send`](Self::send)`(msg).await`, inside a body, waits while the final
///   inbox is full (the component pauses, and the consumer's next collection
///   wakes it), so it never fails;
/// * [`try_send`](Self::try_send)`(msg)` returns at once, handing the message
///   back in [`NoSpaceInBox`] if the inbox is full: Axon's `send`, which raises
///   `noSpaceInBox`.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
///
/// struct Producer;
/// impl Component for Producer {
///     type Boxes = Standard<(), u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         for n in 0..10 {
///             cx.outbox.send(n).await; // waits whenever the consumer is full
///         }
///     }
/// }
///
/// struct Consumer;
/// impl Component for Consumer {
///     type Boxes = Standard<u32, ()>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.yield_now().await;
///     }
/// }
///
/// let producer = ComponentRef::new(Producer);
/// let consumer = ComponentRef::new(Consumer);
/// producer.link((&producer, "outbox"), (&consumer, "inbox"))?;
/// let inbox = consumer.inbox::<u32>("inbox")?;
/// inbox.set_size(Some(3));
///
/// let scheduler = Scheduler::new();
/// producer.activate_on(&scheduler);
/// scheduler.run_cycle(); // activation takes effect at the end of a cycle
/// scheduler.run_cycle();
/// assert_eq!(inbox.len(), 3); // full: the producer waits
/// assert_eq!(inbox.recv(), Some(0)); // collecting wakes it…
/// scheduler.run_cycle(); // …for the cycle after next, as in Axon
/// scheduler.run_cycle();
/// assert_eq!(inbox.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Outbox<T> {
    node: Rc<OutboxNode<T>>,
}

impl<T: 'static> Outbox<T> {
    pub(crate) fn from_node(node: Rc<OutboxNode<T>>) -> Self {
        Outbox { node }
    }

    pub(crate) fn node(&self) -> &Rc<OutboxNode<T>> {
        &self.node
    }

    pub(crate) fn from_erased(
        component: &ComponentId,
        name: &str,
        erased: ErasedBox,
    ) -> Result<Self, BoxError> {
        let actual = erased.0.type_name();
        match erased.0.into_any().downcast::<OutboxNode<T>>() {
            Ok(node) => Ok(Outbox { node }),
            Err(_) => Err(BoxError::WrongType {
                label: BoxLabel::new(*component, Direction::Outbox, name),
                expected: std::any::type_name::<T>(),
                actual,
            }),
        }
    }

    /// Sends at once: Axon's `send`.
    ///
    /// Returns `Ok(())` when the message was delivered, or dropped because the
    /// outbox is not linked.
    ///
    /// # Errors
    ///
    /// [`NoSpaceInBox`] if the final inbox is full. It carries the inbox's
    /// length and size limit, and gives the message back with
    /// [`into_inner`](NoSpaceInBox::into_inner). The consumer's next
    /// collection wakes this outbox's owner.
    #[inline(always)]
    pub fn try_send(&self, message: T) -> Result<(), NoSpaceInBox<T>> {
        let node = &self.node;
        let st = node.state.borrow();
        match &st.sink {
            // The hot path: this epoch's wake and registration are done.
            Some(sink) if node.stamp.get() == epoch() => match sink.offer(message) {
                Ok(()) => Ok(()),
                Err(message) => {
                    let sink = sink.clone();
                    drop(st);
                    node.full(&sink, message)
                }
            },
            Some(sink) => {
                let sink = sink.clone();
                drop(st);
                node.send_slow(&sink, message)
            }
            None => {
                drop(st);
                node.dropped();
                Ok(())
            }
        }
    }

    /// Sends, waiting while the final inbox is full.
    ///
    /// While it waits, the running component is paused; the consumer's next
    /// collection wakes it. Await it in a component's body: awaiting it
    /// elsewhere panics. A message to an unlinked outbox is dropped at once.
    #[inline]
    pub fn send(&self, message: T) -> SendFuture<'_, T> {
        SendFuture {
            outbox: self,
            message: Some(message),
        }
    }

    /// True if the outbox is linked, directly or through passthroughs, to an
    /// inbox (so that sends are delivered rather than dropped).
    pub fn is_linked(&self) -> bool {
        self.node.state.borrow().sink.is_some()
    }

    /// True if the final inbox is full, so that [`try_send`](Self::try_send)
    /// would fail.
    ///
    /// An outbox that finds its inbox full is woken by the next collection
    /// there, as a refused send is: a producer may look, pause, and try again
    /// when woken.
    pub fn is_full(&self) -> bool {
        let st = self.node.state.borrow();
        match &st.sink {
            Some(sink) if sink.is_full() => {
                let sink = sink.clone();
                drop(st);
                self.node.register(&sink);
                true
            }
            _ => false,
        }
    }

    /// Chooses whether the collection of what this outbox sent wakes this
    /// component ([`CollectionWake`]; the default is Axon's,
    /// [`Always`](CollectionWake::Always)). With
    /// [`WhenRefused`](CollectionWake::WhenRefused) it is woken only while it
    /// waits for room.
    pub fn set_collection_wake(&self, wake: CollectionWake) {
        self.node.room_only.set(wake == CollectionWake::WhenRefused);
    }

    /// Whether the collection of what this outbox sent wakes this component.
    pub fn collection_wake(&self) -> CollectionWake {
        if self.node.room_only.get() {
            CollectionWake::WhenRefused
        } else {
            CollectionWake::Always
        }
    }

    /// The outbox's name.
    pub fn name(&self) -> String {
        self.node.label().name.into_owned()
    }

    /// The component this outbox belongs to, if it still exists.
    pub fn component(&self) -> Option<ComponentId> {
        self.node.owner.upgrade().map(|o| o.id())
    }
}

impl<T> Clone for Outbox<T> {
    fn clone(&self) -> Self {
        Outbox {
            node: self.node.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("type", &std::any::type_name::<T>())
            .field("linked", &self.is_linked())
            .finish()
    }
}

/// The future returned by [`Outbox::send`].
///
/// Written by hand rather than as an `async fn` so that, when there is room,
/// awaiting it compiles down to one [`Outbox::try_send`].
#[must_use = "a send does nothing unless it is awaited"]
pub struct SendFuture<'a, T: 'static> {
    outbox: &'a Outbox<T>,
    message: Option<T>,
}

// The message is never pinned: it is moved in and out by value.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T: 'static> Future for SendFuture<'_, T> {
    type Output = ();

    // Always inlined: when there is room, awaiting a send is one `try_send`.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(message) = this.message.take() else {
            return Poll::Ready(());
        };
        match this.outbox.try_send(message) {
            Ok(()) => Poll::Ready(()),
            Err(full) => {
                this.message = Some(full.into_inner());
                this.outbox.node.suspend_running();
                Poll::Pending
            }
        }
    }
}

impl<T: 'static> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("outbox", self.outbox)
            .field("done", &self.message.is_none())
            .finish()
    }
}

/// The shared state behind an [`Outbox`] handle.
pub(crate) struct OutboxNode<T> {
    state: RefCell<OutboxState<T>>,
    /// The epoch of this outbox's last slow-path send: while it is current,
    /// the sink's owner has been woken and this outbox is on the sink's list
    /// of senders, so a send is one push.
    stamp: Cell<u64>,
    /// True while this outbox is on its sink's list of senders (until the
    /// next collection there tells it).
    registered: Cell<bool>,
    /// [`CollectionWake::WhenRefused`]: join the sink's senders only when
    /// refused, not with every epoch's first send.
    room_only: Cell<bool>,
    owner: Weak<dyn Owner>,
    index: u32,
}

struct OutboxState<T> {
    /// The final inbox of the chain, or `None` (sends are dropped).
    sink: Option<Rc<InboxNode<T>>>,
    links: Option<Box<Links>>,
}

impl<T: 'static> OutboxNode<T> {
    pub(crate) fn new(owner: Weak<dyn Owner>, index: u32) -> Rc<Self> {
        Rc::new(OutboxNode {
            state: RefCell::new(OutboxState {
                sink: None,
                links: None,
            }),
            stamp: Cell::new(NEVER),
            registered: Cell::new(false),
            room_only: Cell::new(false),
            owner,
            index,
        })
    }

    /// Points the outbox at a new final inbox (or none). Its stamps start
    /// afresh: the new sink's owner has not been woken, nor has this outbox
    /// joined its senders.
    pub(crate) fn set_sink(&self, sink: Option<Rc<InboxNode<T>>>) {
        self.state.borrow_mut().sink = sink;
        self.stamp.set(NEVER);
        self.registered.set(false);
    }

    /// The first send of an epoch: deliver, wake the sink's owner, and join
    /// the sink's senders so that the collection of this message wakes ours
    /// (unless this outbox or the sink says [`CollectionWake::WhenRefused`]).
    #[cold]
    #[inline(never)]
    fn send_slow(
        self: &Rc<Self>,
        sink: &Rc<InboxNode<T>>,
        message: T,
    ) -> Result<(), NoSpaceInBox<T>> {
        match sink.accept(message) {
            Ok(true) => {
                self.stamp.set(epoch());
                if !self.room_only.get() && !sink.senders_room_only() {
                    self.register(sink);
                }
                sink.wake_owner_once();
                Ok(())
            }
            // Dropped by the inbox's overflow policy: nothing arrived, so no
            // one is woken, and as this outbox never waits for room there is
            // nothing to register for. Not stamped either, so the next send
            // that is let in takes this path and wakes the owner.
            Ok(false) => Ok(()),
            Err(message) => Err(self.refused(sink, message)),
        }
    }

    /// A send that found the sink full, this epoch's wake done: the sink's
    /// overflow policy decides. A message it lets in needs no wake (done
    /// this epoch), and one it drops none at all.
    #[cold]
    #[inline(never)]
    fn full(self: &Rc<Self>, sink: &Rc<InboxNode<T>>, message: T) -> Result<(), NoSpaceInBox<T>> {
        match sink.overflow_with(message) {
            Ok(_) => Ok(()),
            Err(message) => Err(self.refused(sink, message)),
        }
    }

    /// A refused send: the next collection must wake us, to try again.
    #[cold]
    #[inline(never)]
    fn refused(self: &Rc<Self>, sink: &Rc<InboxNode<T>>, message: T) -> NoSpaceInBox<T> {
        self.register(sink);
        let (len, capacity) = sink.len_and_capacity();
        NoSpaceInBox::new(len, capacity, message, sink.label())
    }

    fn register(self: &Rc<Self>, sink: &Rc<InboxNode<T>>) {
        if !self.registered.replace(true) {
            let me: Weak<dyn Sender> = Rc::downgrade(self) as Weak<dyn Sender>;
            sink.add_sender(me);
        }
    }

    /// Pauses and yields the running body, for a send waiting for room.
    fn suspend_running(&self) {
        let owner = self
            .owner
            .upgrade()
            .expect("axon: an outbox was awaited after its component was dropped");
        owner.pause_and_yield_running();
    }

    pub(crate) fn label(&self) -> BoxLabel {
        label_of(&self.owner, Direction::Outbox, self.index)
    }

    #[cold]
    #[inline(never)]
    fn dropped(&self) {
        tracing::trace!(
            target: "axon::outbox",
            outbox = %self.label(),
            "message dropped: outbox is not linked"
        );
    }
}

impl<T: 'static> Sender for OutboxNode<T> {
    fn collected(&self) {
        self.registered.set(false);
        if let Some(owner) = self.owner.upgrade() {
            owner.wake();
        }
        // The message also left through the outboxes this one is linked to
        // (outbox-to-outbox passthroughs): their owners are woken too, as in
        // Axon. The walk is as long as the passthrough chain.
        let mut next = target_of(self);
        while let Some(node) = next.filter(|n| n.direction() == Direction::Outbox) {
            if let Some(owner) = node.owner().upgrade() {
                owner.wake();
            }
            next = target_of(&*node);
        }
    }
}

impl<T> Drop for OutboxNode<T> {
    fn drop(&mut self) {
        if let Some(links) = self.state.get_mut().links.as_mut() {
            links.leave_target();
        }
    }
}

impl<T: 'static> AnyBox for OutboxNode<T> {
    fn twin(&self, owner: Weak<dyn Owner>, index: u32) -> Rc<dyn AnyBox> {
        OutboxNode::<T>::new(owner, index)
    }

    fn direction(&self) -> Direction {
        Direction::Outbox
    }

    fn item_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn label(&self) -> BoxLabel {
        OutboxNode::label(self)
    }

    fn owner(&self) -> &Weak<dyn Owner> {
        &self.owner
    }

    fn index(&self) -> u32 {
        self.index
    }

    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }

    fn len(&self) -> usize {
        0
    }

    fn size(&self) -> Option<usize> {
        None
    }

    fn set_size(&self, _size: Option<usize>) {}

    fn dropped(&self) -> u64 {
        0
    }

    fn with_links(&self, f: &mut dyn FnMut(&mut Links)) {
        f(self
            .state
            .borrow_mut()
            .links
            .get_or_insert_with(Default::default))
    }

    fn read_links(&self, f: &mut dyn FnMut(&Links)) {
        if let Some(links) = &self.state.borrow().links {
            f(links)
        }
    }

    fn adopt(self: Rc<Self>, top: &Rc<dyn AnyBox>) {
        crate::boxes::graph::retarget::<T>(top, None);
    }
}
