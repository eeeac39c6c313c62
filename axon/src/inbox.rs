//! [`Inbox`]: where messages arrive.
//!
//! # Delivery and wake-ups, as Axon does them
//!
//! An inbox is a FIFO queue owned by one component. Every outbox or inbox linked
//! into it (however long the chain of passthrough links) sends straight into the
//! queue of the *final* inbox: one hop, whatever the chain.
//!
//! * A delivery wakes the final inbox's owner.
//! * A collection (`recv`, `drain`) wakes the owner of every outbox upstream in
//!   the chain, so a producer paused on a full inbox learns there is room.
//!
//! Both wakes are idempotent within a scheduler cycle, so each inbox takes its
//! slow path (waking) at most once per cycle per direction. It records when it
//! last did with the thread's *epoch*, a counter every scheduler on the thread
//! advances at the end of each cycle: while the epoch has not moved, the owner's
//! scheduler is still in the cycle whose wake was recorded, so another wake
//! would change nothing. A stamp left by an epoch that has moved on only causes
//! one more (harmless) wake.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use crate::box_set::{Direction, ErasedBox};
use crate::component_ref::ComponentId;
use crate::error::{BoxError, BoxLabel, NoSpaceInBox};
use crate::linkage::{AnyBox, Links};
use crate::remote::{Pump, RemoteQueue, RemoteSender};
use crate::scheduler::epoch;
use crate::task::{self, TaskDyn};

/// An epoch no cycle has: the stamp of an inbox that has not woken anyone.
const NEVER: u64 = u64::MAX;

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
/// Axon's receive loop, `while self.dataReady("inbox"): self.recv("inbox")`,
/// is a [`drain`](Self::drain):
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
///
/// struct Doubler;
/// impl Component for Doubler {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, cx: Cx<Standard<u32, u32>>) {
///         while !cx.control.data_ready() {
///             for n in cx.inbox.drain() {
///                 cx.outbox.send(n * 2).await;
///             }
///             cx.pause();
///             cx.yield_now().await;
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
    /// The upstream producers are woken once for the whole batch. Messages
    /// that arrive while you iterate wait for the next drain. If the iterator is
    /// dropped before it is used up, the messages it still holds go back to the
    /// front of the inbox, in order: nothing is lost.
    pub fn drain(&self) -> Drain<T> {
        InboxNode::drain(&self.node)
    }

    /// Limits the inbox to `size` messages (`None`: unlimited, the default):
    /// Axon's `setInboxSize`. A send to a full inbox is refused with
    /// [`NoSpaceInBox`].
    ///
    /// Only the final inbox of a chain limits it: a limited inbox that is linked
    /// onward has no effect until the link is removed.
    pub fn set_size(&self, size: Option<usize>) {
        self.node.state.borrow_mut().capacity = size.unwrap_or(usize::MAX);
    }

    /// The size limit, if any.
    pub fn size(&self) -> Option<usize> {
        match self.node.state.borrow().capacity {
            usize::MAX => None,
            n => Some(n),
        }
    }

    /// True if the inbox holds as many messages as its size limit allows.
    pub fn is_full(&self) -> bool {
        let st = self.node.state.borrow();
        st.queue.len() >= st.capacity
    }

    /// Puts a message straight into this inbox (or the final inbox of its
    /// chain), waking its owner: Axon's `_deliver`, for tests and for plain code
    /// feeding a component.
    ///
    /// # Errors
    ///
    /// [`NoSpaceInBox`], holding the message, if the inbox is full.
    pub fn deliver(&self, message: T) -> Result<(), NoSpaceInBox<T>> {
        InboxNode::deliver(&self.node, message)
    }

    /// The inbox's name.
    pub fn name(&self) -> String {
        self.node.label().name.into_owned()
    }

    /// A handle for sending into this inbox from other threads; `None` until
    /// the inbox's component has been activated. See [`RemoteSender`].
    pub fn remote_sender(&self) -> Option<RemoteSender<T>>
    where
        T: Send,
    {
        let scheduler = self.node.owner.upgrade()?.header().scheduler()?;
        // One queue and pump per inbox, however many senders are made.
        let mut st = self.node.state.borrow_mut();
        let (queue, pump) = st.extra().remote.get_or_insert_with(|| {
            let inbox = Rc::downgrade(&self.node);
            scheduler.add_pump(move |queue| Rc::new(InboxPump { inbox, queue }))
        });
        Some(scheduler.remote_sender(queue.clone(), *pump))
    }
}

/// Moves messages sent from other threads into an inbox.
struct InboxPump<T> {
    inbox: Weak<InboxNode<T>>,
    queue: Arc<RemoteQueue<T>>,
}

impl<T: 'static> Pump for InboxPump<T> {
    fn pump(&self) -> bool {
        let Some(inbox) = self.inbox.upgrade() else {
            return false;
        };
        let target = inbox.final_inbox();
        self.queue.take_each(|message| {
            let accepted = target.append(message, false);
            debug_assert!(accepted.is_ok(), "an unbounded append is never refused");
        });
        true
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
            .finish()
    }
}

/// The messages taken by [`Inbox::drain`], oldest first.
///
/// Dropping it before it is used up puts the rest back at the front of the inbox.
pub struct Drain<T: 'static> {
    /// The inbox to give the buffer (and anything not taken) back to; `None`
    /// for an empty drain, which has nothing to give back.
    node: Option<Rc<InboxNode<T>>>,
    batch: VecDeque<T>,
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

/// The shared state behind an [`Inbox`] handle.
pub(crate) struct InboxNode<T> {
    state: RefCell<InboxState<T>>,
    owner: Weak<dyn TaskDyn>,
    index: u32,
}

struct InboxState<T> {
    queue: VecDeque<T>,
    /// `usize::MAX` when unlimited.
    capacity: usize,
    /// The epoch in which the owner was last woken for a delivery.
    delivered: u64,
    /// The epoch in which the upstream outbox owners were last woken for a
    /// collection.
    collected: u64,
    /// Link bookkeeping and the drain buffer, allocated when first needed.
    extra: Option<Box<InboxExtra<T>>>,
}

struct InboxExtra<T> {
    links: Links,
    /// The final inbox of the chain when this inbox is linked onward.
    forward: Option<Rc<InboxNode<T>>>,
    /// Owners of every outbox upstream of this (final) inbox.
    pop_waiters: Vec<Weak<dyn TaskDyn>>,
    /// The empty buffer that [`Inbox::drain`] swaps in, so draining never allocates.
    spare: VecDeque<T>,
    /// The queue (and its pump's number) of this inbox's remote senders.
    remote: Option<(Arc<RemoteQueue<T>>, u32)>,
}

impl<T> Default for InboxExtra<T> {
    fn default() -> Self {
        InboxExtra {
            links: Links::default(),
            forward: None,
            pop_waiters: Vec::new(),
            spare: VecDeque::new(),
            remote: None,
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
    pub(crate) fn new(owner: Weak<dyn TaskDyn>, index: u32) -> Rc<Self> {
        Rc::new(InboxNode {
            state: RefCell::new(InboxState {
                queue: VecDeque::new(),
                capacity: usize::MAX,
                delivered: NEVER,
                collected: NEVER,
                extra: None,
            }),
            owner,
            index,
        })
    }

    /// Appends to this inbox, which must be a final destination.
    #[inline(always)]
    pub(crate) fn push(self: &Rc<Self>, message: T) -> Result<(), NoSpaceInBox<T>> {
        self.append(message, true)
    }

    /// Appends to this inbox, which must be a final destination, refusing
    /// the message if `bounded` and the inbox is full.
    #[inline(always)]
    fn append(self: &Rc<Self>, message: T, bounded: bool) -> Result<(), NoSpaceInBox<T>> {
        let mut st = self.state.borrow_mut();
        if bounded && st.queue.len() >= st.capacity {
            let (len, capacity) = (st.queue.len(), st.capacity);
            drop(st);
            return Err(NoSpaceInBox::new(len, capacity, message, self.label()));
        }
        st.queue.push_back(message);
        if st.delivered != epoch() {
            drop(st);
            self.on_delivery();
        }
        Ok(())
    }

    pub(crate) fn is_full(&self) -> bool {
        let st = self.state.borrow();
        st.queue.len() >= st.capacity
    }

    /// Appends to the final inbox of this inbox's chain.
    pub(crate) fn deliver(self: &Rc<Self>, message: T) -> Result<(), NoSpaceInBox<T>> {
        self.final_inbox().push(message)
    }

    /// The final inbox of this inbox's chain (itself, if it is not linked on).
    fn final_inbox(self: &Rc<Self>) -> Rc<Self> {
        let forward = self.state.borrow().forward();
        forward.unwrap_or_else(|| self.clone())
    }

    #[inline(always)]
    fn pop(self: &Rc<Self>) -> Option<T> {
        let mut st = self.state.borrow_mut();
        match st.queue.pop_front() {
            Some(message) => {
                if st.collected != epoch() {
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
        let spare = std::mem::take(&mut st.extra().spare);
        let batch = std::mem::replace(&mut st.queue, spare);
        let wake = st.collected != epoch();
        drop(st);
        if wake {
            self.on_collection();
        }
        Drain {
            node: Some(self.clone()),
            batch,
        }
    }

    /// Takes back what a [`Drain`] did not hand out, and its buffer.
    fn give_back(&self, mut batch: VecDeque<T>) {
        let mut st = self.state.borrow_mut();
        if !batch.is_empty() {
            if st.queue.is_empty() {
                std::mem::swap(&mut st.queue, &mut batch);
            } else {
                while let Some(message) = batch.pop_back() {
                    st.queue.push_front(message);
                }
            }
        }
        if batch.capacity() > 0 {
            st.extra().spare = batch;
        }
    }

    #[cold]
    #[inline(never)]
    fn on_delivery(self: &Rc<Self>) {
        self.state.borrow_mut().delivered = epoch();
        if let Some(owner) = self.owner.upgrade() {
            task::wake(&owner);
        }
    }

    #[cold]
    #[inline(never)]
    fn on_collection(self: &Rc<Self>) {
        let mut st = self.state.borrow_mut();
        st.collected = epoch();
        // Waking touches only the waiters' headers and the scheduler's queues,
        // never this inbox, so it is safe under this borrow (and no list of
        // waiters is allocated).
        if let Some(extra) = &st.extra {
            for waiter in extra.pop_waiters.iter().filter_map(Weak::upgrade) {
                task::wake(&waiter);
            }
        }
    }

    pub(crate) fn label(&self) -> BoxLabel {
        BoxLabel::of(&self.owner, Direction::Inbox, self.index)
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
    pub(crate) fn absorb(self: &Rc<Self>, moved: VecDeque<T>) {
        if moved.is_empty() {
            return;
        }
        self.state.borrow_mut().queue.extend(moved);
        self.on_delivery();
    }

    pub(crate) fn set_pop_waiters(&self, waiters: Vec<Weak<dyn TaskDyn>>) {
        let mut st = self.state.borrow_mut();
        st.extra().pop_waiters = waiters;
        // New producers may have joined: let the next collection wake them.
        st.collected = NEVER;
        st.delivered = NEVER;
    }
}

impl<T: 'static> AnyBox for InboxNode<T> {
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

    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }

    fn len(&self) -> usize {
        self.state.borrow().queue.len()
    }

    fn with_links(&self, f: &mut dyn FnMut(&mut Links)) {
        f(&mut self.state.borrow_mut().extra().links)
    }

    fn refresh_tree(self: Rc<Self>) {
        crate::linkage::refresh::<T>(self);
    }
}
