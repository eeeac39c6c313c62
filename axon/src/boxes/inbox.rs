//! [`Inbox`]: where messages arrive.
//!
//! # Delivery and wake-ups
//!
//! An inbox is a FIFO queue owned by one component. Every outbox or inbox linked
//! into it (however long the chain of passthrough links) sends straight into the
//! queue of the *final* inbox: one hop, whatever the chain.
//!
//! * A delivery wakes the final inbox's owner.
//! * A collection (`recv`, `drain`, `next`) wakes the owners of the outboxes
//!   that have sent into the inbox, or been refused by it, since they were last
//!   woken this way, and the owners of the outboxes their messages passed
//!   through (outbox-to-outbox passthroughs). So a producer paused on a full
//!   inbox learns there is room, and a paused producer is woken when its
//!   message is collected, as in Axon; but a source that has sent nothing is
//!   not woken, however many sources the inbox has. An outbox or inbox set to
//!   [`CollectionWake::WhenRefused`] leaves only the refused on the list (and
//!   those that found the inbox full with `Outbox::is_full`).
//!
//! Waking is idempotent within a scheduler cycle, so each box takes its slow
//! path at most once per *epoch* (see `epoch.rs`): an outbox stamps the epoch of
//! its last slow-path send (it woke the inbox's owner and put itself on the
//! inbox's list of senders), and later sends in the same epoch are one push.
//!
//! **Where this differs from Axon:** Axon wakes every outbox owner upstream on
//! every collection, including outboxes linked in after the message was sent
//! and outboxes that never sent anything. Here only the senders (and those
//! refused) are woken: with ten thousand sources, one collection wakes one.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use crate::boxes::collection_wake::CollectionWake;
use crate::boxes::graph::{AnyBox, Links};
use crate::boxes::overflow::{log_drops, OverflowPolicy};
use crate::boxes::owner::{label_of, Owner};
use crate::boxes::ErasedBox;
use crate::epoch::{epoch, NEVER};
use crate::error::{BoxError, BoxLabel, NoSpaceInBox};
use crate::id::{ComponentId, Direction};

/// An inbox: a queue of `T` messages owned by one component.
///
/// Inside a body, the inboxes are fields of the component's box set
/// (`cx.inbox`, `cx.control`); outside, [`ComponentRef::inbox`] gives a handle.
/// Handles are cheap to clone and all refer to the same box.
///
/// [`ComponentRef::inbox`]: crate::ComponentRef::inbox
///
/// # Examples
///
/// A body waits for its next message with [`next`](Self::next) or, for the
/// standard boxes, with [`Cx::recv_until_finished`](crate::Cx::recv_until_finished),
/// which also ends the loop once `control` has spoken and the inbox is empty:
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
///
/// struct Doubler;
/// impl Component for Doubler {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(n) = cx.recv_until_finished().await {
///             cx.outbox.send(n * 2).await;
///         }
///     }
/// }
///
/// let doubler = ComponentRef::new(Doubler);
/// let sink = ComponentRef::new(Doubler);
/// doubler.link((&doubler, "outbox"), (&sink, "inbox"))?;
/// doubler.inbox::<u32>("inbox")?.deliver(21)?;
/// let scheduler = Scheduler::new();
/// doubler.activate_on(&scheduler);
/// scheduler.run_cycle(); // activation is handled at the end of a cycle…
/// scheduler.run_cycle(); // …so the doubler first runs in the next
/// assert_eq!(sink.inbox::<u32>("inbox")?.recv(), Some(42));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Inbox<T> {
    node: Rc<InboxNode<T>>,
}

impl<T: 'static> Inbox<T> {
    pub(crate) fn from_node(node: Rc<InboxNode<T>>) -> Self {
        Inbox { node }
    }

    pub(crate) fn node(&self) -> &Rc<InboxNode<T>> {
        &self.node
    }

    pub(crate) fn from_erased(
        component: &ComponentId,
        name: &str,
        erased: ErasedBox,
    ) -> Result<Self, BoxError> {
        let actual = erased.0.type_name();
        match erased.0.into_any().downcast::<InboxNode<T>>() {
            Ok(node) => Ok(Inbox { node }),
            Err(_) => Err(BoxError::WrongType {
                label: BoxLabel::new(*component, Direction::Inbox, name),
                expected: std::any::type_name::<T>(),
                actual,
            }),
        }
    }

    /// Takes the oldest message, or `None` if there is none: Axon's `recv`.
    ///
    /// If this inbox is linked onward to another inbox (a passthrough), this
    /// takes from the final inbox of the chain, as Axon does.
    #[inline]
    pub fn recv(&self) -> Option<T> {
        self.node.pop()
    }

    /// Waits for the next message and takes it: inside a body, the component
    /// sleeps (costing nothing) while the inbox is empty, and a delivery wakes
    /// it. Await it in a component's body: awaiting it elsewhere panics.
    ///
    /// It never ends by itself: to stop when told to, wait with
    /// [`Cx::recv_until_finished`](crate::Cx::recv_until_finished), or use
    /// [`recv`](Self::recv) and look at `control` yourself.
    pub fn next(&self) -> Next<'_, T> {
        Next { inbox: self }
    }

    /// True if messages are waiting in this inbox: Axon's `dataReady`.
    ///
    /// An inbox linked onward to another inbox holds nothing itself: its
    /// messages wait in the final inbox.
    #[inline]
    pub fn data_ready(&self) -> bool {
        !self.node.state.borrow().queue.is_empty()
    }

    /// How many messages are waiting in this inbox.
    pub fn len(&self) -> usize {
        self.node.state.borrow().queue.len()
    }

    /// True if no messages are waiting in this inbox.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes every waiting message at once, for a `for` loop: Axon's
    /// `for msg in self.Inbox("inbox")`.
    ///
    /// The producers are woken once for the whole batch. Messages that arrive
    /// while you iterate wait for the next drain. If the iterator is dropped
    /// before it is used up, the messages it still holds go back to the front
    /// of the inbox, in order (or, if the inbox has been linked onward since,
    /// to the front of the inbox it now forwards to): nothing is lost.
    pub fn drain(&self) -> Drain<T> {
        InboxNode::drain(&self.node)
    }

    /// Limits the inbox to `size` messages (`None`: unlimited, the default):
    /// Axon's `setInboxSize`. A send to a full inbox is refused with
    /// [`NoSpaceInBox`], unless the inbox's [overflow
    /// policy](Self::set_overflow) drops a message instead.
    ///
    /// Only the final inbox of a chain limits it: a limited inbox that is linked
    /// onward has no effect until the link is removed.
    pub fn set_size(&self, size: Option<usize>) {
        AnyBox::set_size(&*self.node, size);
    }

    /// The size limit, if any.
    pub fn size(&self) -> Option<usize> {
        AnyBox::size(&*self.node)
    }

    /// Chooses what the inbox does with a message that finds it full
    /// (see [`OverflowPolicy`]; the default is
    /// [`Refuse`](OverflowPolicy::Refuse)).
    ///
    /// As with the size limit, only the final inbox of a chain decides: a
    /// policy set on an inbox that is linked onward waits until the link is
    /// removed.
    ///
    /// A dropped message wakes no one: nothing arrived. A message that
    /// [`DropOldest`](OverflowPolicy::DropOldest) lets in wakes the owner as
    /// any delivery does. With either drop policy, senders on other threads
    /// ([`RemoteSender`](crate::RemoteSender)), which the size limit does not
    /// refuse (nothing could be handed back to them), are held to it: their
    /// messages are dropped by the policy when they reach the inbox. Messages
    /// that were already accepted (those moved in when an inbox is linked
    /// onward, and those a [`Drain`] gives back) are never dropped, so after a
    /// give-back the inbox may briefly hold more than its size.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, ComponentRef, Cx, OverflowPolicy, Scheduler, Standard};
    ///
    /// /// Sends 0..100 as fast as it can.
    /// struct Fast;
    /// impl Component for Fast {
    ///     type Boxes = Standard<(), u32>;
    ///     async fn main(self, cx: Cx<Self::Boxes>) {
    ///         for n in 0..100 {
    ///             cx.outbox.send(n).await; // never waits: the inbox drops
    ///         }
    ///     }
    /// }
    /// struct Slow;
    /// impl Component for Slow {
    ///     type Boxes = Standard<u32, ()>;
    ///     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// }
    ///
    /// let (fast, slow) = (ComponentRef::new(Fast), ComponentRef::new(Slow));
    /// fast.link((&fast, "outbox"), (&slow, "inbox"))?;
    /// let inbox = slow.inbox::<u32>("inbox")?;
    /// inbox.set_size(Some(3));
    /// inbox.set_overflow(OverflowPolicy::DropNewest);
    /// let scheduler = Scheduler::new();
    /// fast.activate_on(&scheduler);
    /// scheduler.run()?;
    /// assert_eq!(inbox.drain().collect::<Vec<_>>(), [0, 1, 2]); // the first three
    /// assert_eq!(inbox.dropped(), 97);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_overflow(&self, policy: OverflowPolicy) {
        self.node.state.borrow_mut().extra().overflow = policy;
    }

    /// Chooses whether a collection from this inbox wakes the components
    /// that sent what was collected ([`CollectionWake`]; the default is
    /// Axon's, [`Always`](CollectionWake::Always)). With
    /// [`WhenRefused`](CollectionWake::WhenRefused) it wakes only those
    /// waiting for room.
    ///
    /// As with the size limit, only the final inbox of a chain decides.
    pub fn set_collection_wake(&self, wake: CollectionWake) {
        self.node.state.borrow_mut().senders_room_only = wake == CollectionWake::WhenRefused;
    }

    /// Whether a collection from this inbox wakes the senders of what it took.
    pub fn collection_wake(&self) -> CollectionWake {
        if self.node.senders_room_only() {
            CollectionWake::WhenRefused
        } else {
            CollectionWake::Always
        }
    }

    /// The inbox's overflow policy.
    pub fn overflow(&self) -> OverflowPolicy {
        self.node.overflow()
    }

    /// How many messages this inbox has dropped under its overflow policy
    /// since it was made ([`Refuse`](OverflowPolicy::Refuse) drops none).
    pub fn dropped(&self) -> u64 {
        AnyBox::dropped(&*self.node)
    }

    /// True if the inbox holds as many messages as its size limit allows.
    pub fn is_full(&self) -> bool {
        self.node.is_full()
    }

    /// Puts a message straight into this inbox (or the final inbox of its
    /// chain), waking its owner: Axon's `_deliver`, for tests and for plain code
    /// feeding a component.
    ///
    /// # Errors
    ///
    /// [`NoSpaceInBox`], holding the message, if the inbox is full and its
    /// overflow policy is [`Refuse`](OverflowPolicy::Refuse).
    pub fn deliver(&self, message: T) -> Result<(), NoSpaceInBox<T>> {
        self.node.final_inbox().append(message, true)
    }

    /// The inbox's name.
    pub fn name(&self) -> String {
        self.node.label().name.into_owned()
    }

    /// The component this inbox belongs to, if it still exists.
    pub fn component(&self) -> Option<ComponentId> {
        self.node.owner.upgrade().map(|o| o.id())
    }
}

impl<T> Clone for Inbox<T> {
    fn clone(&self) -> Self {
        Inbox {
            node: self.node.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.node.state.borrow();
        f.debug_struct("Inbox")
            .field("type", &std::any::type_name::<T>())
            .field("len", &st.queue.len())
            .field("size", &(st.capacity != usize::MAX).then_some(st.capacity))
            .field("overflow", &self.node.overflow())
            .finish()
    }
}

/// The future returned by [`Inbox::next`].
#[must_use = "a receive does nothing unless it is awaited"]
pub struct Next<'a, T> {
    inbox: &'a Inbox<T>,
}

impl<T: 'static> Future for Next<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        match self.inbox.recv() {
            Some(message) => Poll::Ready(message),
            None => {
                self.inbox.node.suspend_running();
                Poll::Pending
            }
        }
    }
}

impl<T: 'static> fmt::Debug for Next<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("inbox", self.inbox).finish()
    }
}

/// The messages taken by [`Inbox::drain`], oldest first.
///
/// Dropping it before it is used up puts the rest back at the front of the
/// inbox (or of the inbox it forwards to by then).
pub struct Drain<T: 'static> {
    /// The inbox to give the buffer (and anything not taken) back to; `None`
    /// for an empty drain, which has nothing to give back.
    node: Option<Rc<InboxNode<T>>>,
    batch: VecDeque<T>,
}

impl<T: 'static> Drain<T> {
    /// Moves what is left of the drain to the back of `queue`, oldest first,
    /// in one go rather than message by message: when `queue` is empty the
    /// two swap buffers, otherwise the messages are copied across in bulk.
    ///
    /// For a component that keeps its own queue of work (a socket adapter's
    /// chunks waiting for the socket): a burst of a thousand messages costs
    /// it a swap, not a thousand pushes.
    ///
    /// ```
    /// use std::collections::VecDeque;
    /// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
    ///
    /// struct Keeper;
    ///
    /// impl Component for Keeper {
    ///     type Boxes = Standard<u32, u32>;
    ///
    ///     async fn main(self, cx: Cx<Self::Boxes>) {
    ///         let mut waiting = VecDeque::from([1]);
    ///         cx.inbox.drain().append_to(&mut waiting);
    ///         assert_eq!(waiting, [1, 2, 3]);
    ///     }
    /// }
    ///
    /// let keeper = ComponentRef::new(Keeper);
    /// let inbox = keeper.inbox::<u32>("inbox")?;
    /// inbox.deliver(2)?;
    /// inbox.deliver(3)?;
    /// let scheduler = Scheduler::new();
    /// keeper.activate_on(&scheduler);
    /// scheduler.run()?;
    /// assert!(keeper.is_finished());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_to(mut self, queue: &mut VecDeque<T>) {
        if queue.is_empty() {
            // The queue's empty buffer goes back to the inbox as its spare.
            std::mem::swap(queue, &mut self.batch);
        } else {
            queue.append(&mut self.batch);
        }
    }
}

impl<T: 'static> Iterator for Drain<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        self.batch.pop_front()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.batch.len(), Some(self.batch.len()))
    }
}

impl<T: 'static> ExactSizeIterator for Drain<T> {}

impl<T: 'static> Drop for Drain<T> {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            node.give_back(std::mem::take(&mut self.batch));
        }
    }
}

impl<T: 'static> fmt::Debug for Drain<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("remaining", &self.batch.len())
            .finish()
    }
}

/// Something to wake when a message it put into an inbox is collected: an
/// outbox that sent (or was refused) since it was last woken.
pub(crate) trait Sender {
    /// A message from it (or room for one) has been collected: wake whom it
    /// concerns.
    fn collected(&self);
}

/// The shared state behind an [`Inbox`] handle.
pub(crate) struct InboxNode<T> {
    state: RefCell<InboxState<T>>,
    owner: Weak<dyn Owner>,
    index: u32,
}

struct InboxState<T> {
    queue: VecDeque<T>,
    /// `usize::MAX` when unlimited.
    capacity: usize,
    /// The epoch in which the owner was last woken by a delivery that did not
    /// come through an outbox's own stamp (plain code, other threads, moves).
    delivered: u64,
    /// True while `extra.senders` is not empty: the next collection has
    /// someone to wake. Kept here so that a collection checks one flag.
    has_senders: bool,
    /// [`CollectionWake::WhenRefused`]: senders join `extra.senders` only
    /// when refused.
    senders_room_only: bool,
    /// Link bookkeeping, allocated when first linked. Apart from the rest of
    /// `extra`: an inbox that is only linked into (every connection's are)
    /// needs nothing else of it.
    links: Option<Box<Links>>,
    /// What fewer inboxes need, allocated when first needed.
    extra: Option<Box<InboxExtra<T>>>,
}

struct InboxExtra<T> {
    /// The final inbox of the chain when this inbox is linked onward.
    forward: Option<Rc<InboxNode<T>>>,
    /// Outboxes to tell at the next collection: each is here at most once
    /// (it keeps a flag saying so), so the list is as long as the number of
    /// distinct recent senders, never the number of sources.
    senders: Vec<Weak<dyn Sender>>,
    /// The empty buffer that [`Inbox::drain`] swaps in, so draining never allocates.
    spare: VecDeque<T>,
    /// What the runtime attaches for senders on other threads (its queue and
    /// pump), opaque here.
    remote: Option<Box<dyn Any>>,
    /// What to do when full. Here rather than beside `capacity` because it is
    /// read only once the inbox is full: the send that finds room reads
    /// nothing more than before.
    overflow: OverflowPolicy,
    /// Messages dropped under `overflow`.
    dropped: u64,
}

impl<T> Default for InboxExtra<T> {
    fn default() -> Self {
        InboxExtra {
            forward: None,
            senders: Vec::new(),
            spare: VecDeque::new(),
            remote: None,
            overflow: OverflowPolicy::Refuse,
            dropped: 0,
        }
    }
}

impl<T> InboxState<T> {
    fn extra(&mut self) -> &mut InboxExtra<T> {
        self.extra.get_or_insert_with(Default::default)
    }

    fn forward(&self) -> Option<Rc<InboxNode<T>>> {
        self.extra.as_ref().and_then(|e| e.forward.clone())
    }
}

impl<T: 'static> InboxNode<T> {
    pub(crate) fn new(owner: Weak<dyn Owner>, index: u32) -> Rc<Self> {
        Rc::new(InboxNode {
            state: RefCell::new(InboxState {
                queue: VecDeque::new(),
                capacity: usize::MAX,
                delivered: NEVER,
                has_senders: false,
                senders_room_only: false,
                links: None,
                extra: None,
            }),
            owner,
            index,
        })
    }

    /// An outbox's send, the hot path: appends to this (final) inbox without
    /// waking anyone (the outbox has done that this epoch), or gives the
    /// message back if the inbox is full, for the caller to apply the
    /// overflow policy ([`overflow_with`](Self::overflow_with)) on its cold
    /// path. The policy is not applied here: doing so cost the hops bench
    /// about one instruction per hop (callgrind), though the branch never
    /// runs there.
    #[inline(always)]
    pub(crate) fn offer(&self, message: T) -> Result<(), T> {
        let mut st = self.state.borrow_mut();
        if st.queue.len() >= st.capacity {
            return Err(message);
        }
        st.queue.push_back(message);
        Ok(())
    }

    /// As [`offer`](Self::offer) with the overflow policy applied, saying
    /// whether the message was queued (`Ok(true)`) or dropped (`Ok(false)`):
    /// for a sender that must wake the owner for a message that arrived, and
    /// only then.
    pub(crate) fn accept(&self, message: T) -> Result<bool, T> {
        match self.offer(message) {
            Ok(()) => Ok(true),
            Err(message) => self.overflow_with(message),
        }
    }

    /// A message for a full inbox: refused (`Err`), dropped (`Ok(false)`), or
    /// queued in place of the oldest (`Ok(true)`), as the policy says.
    #[cold]
    #[inline(never)]
    pub(crate) fn overflow_with(&self, message: T) -> Result<bool, T> {
        let mut st = self.state.borrow_mut();
        let capacity = st.capacity;
        let extra = st.extra();
        let policy = extra.overflow;
        let (queued, gone) = match policy {
            OverflowPolicy::Refuse => return Err(message),
            OverflowPolicy::DropNewest => (false, VecDeque::from([message])),
            OverflowPolicy::DropOldest if capacity == 0 => (false, VecDeque::from([message])),
            OverflowPolicy::DropOldest => {
                // Down to one below the limit (more than one message if the
                // limit was lowered under a full inbox), then the new one.
                let excess = st.queue.len() + 1 - capacity;
                let gone: VecDeque<T> = st.queue.drain(..excess).collect();
                st.queue.push_back(message);
                (true, gone)
            }
        };
        let extra = st.extra();
        let before = extra.dropped;
        extra.dropped += gone.len() as u64;
        let after = extra.dropped;
        // The dropped messages' own drops run with the inbox released: they
        // may be anything, even something that reaches back into this inbox.
        drop(st);
        drop(gone);
        log_drops(&self.label(), policy, before, after);
        Ok(queued)
    }

    /// The overflow policy.
    fn overflow(&self) -> OverflowPolicy {
        let st = self.state.borrow();
        st.extra
            .as_ref()
            .map_or(OverflowPolicy::Refuse, |e| e.overflow)
    }

    /// Appends to this inbox, which must be a final destination, waking the
    /// owner (once an epoch). If the inbox is full, its overflow policy
    /// decides; under [`Refuse`](OverflowPolicy::Refuse), the message is
    /// refused if `bounded`, and queued past the limit if not (for senders
    /// that cannot be handed it back).
    pub(crate) fn append(
        self: &Rc<Self>,
        message: T,
        bounded: bool,
    ) -> Result<(), NoSpaceInBox<T>> {
        let mut st = self.state.borrow_mut();
        if st.queue.len() >= st.capacity {
            drop(st);
            match self.overflow_with(message) {
                Ok(true) => {}
                // Dropped: nothing arrived, so no one is woken.
                Ok(false) => return Ok(()),
                Err(message) if bounded => {
                    let (len, capacity) = self.len_and_capacity();
                    return Err(NoSpaceInBox::new(len, capacity, message, self.label()));
                }
                Err(message) => self.state.borrow_mut().queue.push_back(message),
            }
            st = self.state.borrow_mut();
        } else {
            st.queue.push_back(message);
        }
        if st.delivered != epoch() {
            drop(st);
            self.on_delivery();
        }
        Ok(())
    }

    /// Wakes the owner for a delivery, unless that was done this epoch.
    pub(crate) fn wake_owner_once(&self) {
        if self.state.borrow().delivered != epoch() {
            self.on_delivery();
        }
    }

    /// Puts `sender` on the list of those to tell at the next collection.
    /// The caller makes sure it is not there already.
    pub(crate) fn add_sender(&self, sender: Weak<dyn Sender>) {
        let mut st = self.state.borrow_mut();
        st.has_senders = true;
        st.extra().senders.push(sender);
    }

    /// True if this inbox's senders join its list only when refused.
    pub(crate) fn senders_room_only(&self) -> bool {
        self.state.borrow().senders_room_only
    }

    pub(crate) fn is_full(&self) -> bool {
        let st = self.state.borrow();
        st.queue.len() >= st.capacity
    }

    pub(crate) fn len_and_capacity(&self) -> (usize, usize) {
        let st = self.state.borrow();
        (st.queue.len(), st.capacity)
    }

    /// The final inbox of this inbox's chain (itself, if it is not linked on).
    pub(crate) fn final_inbox(self: &Rc<Self>) -> Rc<Self> {
        let forward = self.state.borrow().forward();
        forward.unwrap_or_else(|| self.clone())
    }

    /// Pauses and yields the running body, for a future waiting on this inbox.
    fn suspend_running(&self) {
        let owner = self
            .owner
            .upgrade()
            .expect("axon: an inbox was awaited after its component was dropped");
        owner.pause_and_yield_running();
    }

    #[inline(always)]
    fn pop(self: &Rc<Self>) -> Option<T> {
        let mut st = self.state.borrow_mut();
        match st.queue.pop_front() {
            Some(message) => {
                if st.has_senders {
                    drop(st);
                    self.on_collection();
                }
                Some(message)
            }
            None => {
                let forward = st.forward();
                drop(st);
                forward.and_then(|target| target.pop())
            }
        }
    }

    fn drain(self: &Rc<Self>) -> Drain<T> {
        let mut st = self.state.borrow_mut();
        if st.queue.is_empty() {
            if let Some(target) = st.forward() {
                drop(st);
                return target.drain();
            }
            return Drain {
                node: None,
                batch: VecDeque::new(),
            };
        }
        let spare = st
            .extra
            .as_mut()
            .map_or_else(VecDeque::new, |e| std::mem::take(&mut e.spare));
        let batch = std::mem::replace(&mut st.queue, spare);
        let wake = st.has_senders;
        drop(st);
        if wake {
            self.on_collection();
        }
        Drain {
            node: Some(self.clone()),
            batch,
        }
    }

    /// Takes back what a [`Drain`] did not hand out, and its buffer. The
    /// messages go to the front of this inbox's final inbox: if this inbox was
    /// linked onward while the drain was out, they belong downstream now.
    fn give_back(self: &Rc<Self>, mut batch: VecDeque<T>) {
        if !batch.is_empty() {
            let target = self.final_inbox();
            let mut st = target.state.borrow_mut();
            if st.queue.is_empty() {
                std::mem::swap(&mut st.queue, &mut batch);
            } else {
                while let Some(message) = batch.pop_back() {
                    st.queue.push_front(message);
                }
            }
            let moved = !Rc::ptr_eq(&target, self);
            drop(st);
            if moved {
                // They arrive there as new messages, so its owner must hear.
                target.on_delivery();
            }
        }
        if batch.capacity() > 0 {
            let mut st = self.state.borrow_mut();
            if st.extra.is_none() && st.queue.capacity() == 0 {
                // Nothing arrived while the drain was out: its buffer is the
                // queue again, and an inbox that is drained now and then
                // needs no spare.
                st.queue = batch;
            } else {
                st.extra().spare = batch;
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn on_delivery(&self) {
        self.state.borrow_mut().delivered = epoch();
        if let Some(owner) = self.owner.upgrade() {
            owner.wake();
        }
    }

    /// Tells every recent sender that a collection happened, and empties the
    /// list (keeping its buffer).
    #[cold]
    #[inline(never)]
    fn on_collection(&self) {
        let mut senders = {
            let mut st = self.state.borrow_mut();
            st.has_senders = false;
            std::mem::take(&mut st.extra().senders)
        };
        for sender in senders.drain(..).filter_map(|s| s.upgrade()) {
            sender.collected();
        }
        let mut st = self.state.borrow_mut();
        let extra = st.extra();
        if extra.senders.is_empty() {
            extra.senders = senders;
        }
    }

    pub(crate) fn label(&self) -> BoxLabel {
        label_of(&self.owner, Direction::Inbox, self.index)
    }

    /// Points this inbox at the final inbox of its chain (or back at itself),
    /// returning the messages it held, which now belong downstream.
    pub(crate) fn set_forward(&self, forward: Option<Rc<InboxNode<T>>>) -> VecDeque<T> {
        let mut st = self.state.borrow_mut();
        let moved = if forward.is_some() {
            std::mem::take(&mut st.queue)
        } else {
            VecDeque::new()
        };
        st.extra().forward = forward;
        moved
    }

    /// Appends messages moved from an inbox that was linked into this one.
    /// They were already accepted once, so the size limit does not refuse them.
    pub(crate) fn absorb(&self, moved: VecDeque<T>) {
        if moved.is_empty() {
            return;
        }
        self.state.borrow_mut().queue.extend(moved);
        self.on_delivery();
    }

    /// Runs `f` on the runtime's attachment slot (see `InboxExtra::remote`).
    pub(crate) fn with_remote<R>(&self, f: impl FnOnce(&mut Option<Box<dyn Any>>) -> R) -> R {
        f(&mut self.state.borrow_mut().extra().remote)
    }

    /// The owner's host (its scheduler), opaque here.
    pub(crate) fn host(&self) -> Option<Rc<dyn Any>> {
        self.owner.upgrade()?.host()
    }
}

impl<T> Drop for InboxNode<T> {
    fn drop(&mut self) {
        if let Some(links) = self.state.get_mut().links.as_mut() {
            links.leave_target();
        }
    }
}

impl<T: 'static> AnyBox for InboxNode<T> {
    fn twin(&self, owner: Weak<dyn Owner>, index: u32) -> Rc<dyn AnyBox> {
        InboxNode::<T>::new(owner, index)
    }

    fn direction(&self) -> Direction {
        Direction::Inbox
    }

    fn item_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn label(&self) -> BoxLabel {
        InboxNode::label(self)
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
        self.state.borrow().queue.len()
    }

    fn size(&self) -> Option<usize> {
        match self.state.borrow().capacity {
            usize::MAX => None,
            n => Some(n),
        }
    }

    fn set_size(&self, size: Option<usize>) {
        self.state.borrow_mut().capacity = size.unwrap_or(usize::MAX);
    }

    fn dropped(&self) -> u64 {
        let st = self.state.borrow();
        st.extra.as_ref().map_or(0, |e| e.dropped)
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
        crate::boxes::graph::retarget::<T>(top, Some(&self));
    }
}
