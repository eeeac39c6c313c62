//! [`BackplaneSpan`]: the backplanes of one name on several schedulers (one
//! per core), joined so that what is published on any reaches the
//! subscribers of all.
//!
//! Each scheduler keeps its own [`Backplane`](super::Backplane), with its own
//! splitter and flow control; a spanning one adds two components:
//!
//! * **`SpanOut`**, where the local publishers publish: it passes each message
//!   to the local splitter, then puts a copy in the queue of every other
//!   member;
//! * **`SpanIn`**, which takes what the other members put in this member's
//!   queue and publishes it on the local splitter (and nowhere else, so
//!   nothing goes round twice).
//!
//! The queues are bounded and lock-free (`crossbeam_queue::ArrayQueue`, one
//! per member, shared by the members that send to it). A full queue holds its
//! sender back: `SpanOut` keeps the message, stops taking more (so its own
//! bounded inbox fills and the local publishers wait, as they wait for a full
//! splitter), and is woken by the member's `SpanIn` once it has taken some.
//! So nothing is dropped between schedulers, and every member's flow control
//! (pacing, the stall grace, disconnecting a client that stopped reading)
//! applies to remote publishers as to local ones.
//!
//! Wakes are coalesced: a burst of messages into one member's queue costs
//! that member's scheduler one wake, not one per message.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axon::{Component, Cx, RemoteWaker, Standard};
use crossbeam_queue::ArrayQueue;

/// The default length of each member's queue, in messages.
pub const DEFAULT_SPAN_QUEUE: usize = 1024;

/// Where the backplanes of one name on several schedulers meet: make one,
/// hand a clone to each scheduler's thread, and there make the backplane with
/// [`Backplane::spanning`](super::Backplane::spanning). Then a message
/// published on any scheduler reaches the subscribers on every scheduler,
/// each publisher's messages in the order it sent them, none dropped (the
/// queues between schedulers are bounded, and a full one holds its
/// publishers back).
///
/// A span has a fixed number of members (the number of schedulers), so that
/// sending a message reads no lock: the cost of a message is one queue push
/// per other member, plus one wake per burst.
///
/// # Examples
///
/// ```
/// use kamaelia::util::{Backplane, BackplaneSpan};
///
/// let span = BackplaneSpan::<String>::new(2);
/// axon::run_schedulers([span.clone(), span], |span| {
///     let backplane = Backplane::<String>::new("news")
///         .spanning(&span)
///         .map_err(std::io::Error::other)?
///         .activate()
///         .map_err(std::io::Error::other)?;
///     // … a server publishing to and subscribing to "news" …
/// #   let control = backplane.inbox::<axon::ipc::Ipc>("control").map_err(std::io::Error::other)?;
/// #   let _ = control.deliver(axon::ipc::ProducerFinished::new().into());
///     Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct BackplaneSpan<T> {
    shared: Arc<SpanShared<T>>,
}

impl<T> Clone for BackplaneSpan<T> {
    fn clone(&self) -> Self {
        BackplaneSpan {
            shared: self.shared.clone(),
        }
    }
}

impl<T> fmt::Debug for BackplaneSpan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackplaneSpan")
            .field("members", &self.shared.members.len())
            .field("joined", &self.shared.joined.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T: Send> BackplaneSpan<T> {
    /// A span for `members` backplanes (at least 1), each with a queue of
    /// [`DEFAULT_SPAN_QUEUE`] messages.
    pub fn new(members: usize) -> Self {
        BackplaneSpan::with_queue(members, DEFAULT_SPAN_QUEUE)
    }

    /// A span for `members` backplanes, each with a queue of `messages` (at
    /// least 1): how far the other schedulers' publishers may run ahead of
    /// this one.
    pub fn with_queue(members: usize, messages: usize) -> Self {
        let members = (0..members.max(1))
            .map(|_| Member::new(messages.max(1)))
            .collect();
        BackplaneSpan {
            shared: Arc::new(SpanShared {
                members,
                joined: AtomicUsize::new(0),
            }),
        }
    }

    /// How many backplanes it joins.
    pub fn members(&self) -> usize {
        self.shared.members.len()
    }

    /// Takes the next free place, for a backplane joining.
    pub(crate) fn join(&self) -> Result<SpanPlace<T>, SpanFull> {
        let members = self.shared.members.len();
        let place = self
            .shared
            .joined
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < members).then_some(n + 1)
            })
            .map_err(|_| SpanFull { members })?;
        Ok(SpanPlace {
            shared: self.shared.clone(),
            me: place,
        })
    }
}

/// Every place of a [`BackplaneSpan`] is taken: more backplanes tried to join
/// it than it was made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanFull {
    /// How many members the span was made for.
    pub members: usize,
}

impl fmt::Display for SpanFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the backplane span was made for {} members, and all have joined",
            self.members
        )
    }
}

impl std::error::Error for SpanFull {}

struct SpanShared<T> {
    members: Box<[Member<T>]>,
    joined: AtomicUsize,
}

/// One member's side of the span: the queue the others send to.
struct Member<T> {
    queue: ArrayQueue<T>,
    /// Wakes the member's `SpanIn`; set when it starts (messages sent before
    /// then wait in the queue, and it takes them first).
    reader: OnceLock<RemoteWaker>,
    /// A wake is on its way to the reader (or it is about to look): set by
    /// the sender that asks for one, cleared by the reader before it looks.
    told: AtomicBool,
    /// Senders held back by a full queue, to wake once there is room.
    waiting: Mutex<Vec<RemoteWaker>>,
    any_waiting: AtomicBool,
    /// The member's backplane has ended: it is sent nothing more.
    closed: AtomicBool,
}

impl<T> Member<T> {
    fn new(messages: usize) -> Self {
        Member {
            queue: ArrayQueue::new(messages),
            reader: OnceLock::new(),
            told: AtomicBool::new(false),
            waiting: Mutex::new(Vec::new()),
            any_waiting: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    /// Wakes the senders waiting for room.
    fn wake_waiting(&self) {
        if self.any_waiting.swap(false, Ordering::SeqCst) {
            let waiting =
                std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
            for sender in waiting {
                sender.wake();
            }
        }
    }
}

/// One backplane's place in a span.
pub(crate) struct SpanPlace<T> {
    shared: Arc<SpanShared<T>>,
    me: usize,
}

impl<T> Clone for SpanPlace<T> {
    fn clone(&self) -> Self {
        SpanPlace {
            shared: self.shared.clone(),
            me: self.me,
        }
    }
}

impl<T> SpanPlace<T> {
    fn member(&self) -> &Member<T> {
        &self.shared.members[self.me]
    }
}

impl<T: Clone + Send> SpanPlace<T> {
    /// Puts a copy of `message` in the queue of every other member, starting
    /// at member `from`. `Err(at)` if member `at`'s queue is full: `sender` is
    /// woken once it has room, and the offer should be made again from `at`.
    fn offer(&self, message: &T, from: usize, sender: &RemoteWaker) -> Result<(), usize> {
        for (at, member) in self.shared.members.iter().enumerate().skip(from) {
            if at == self.me || member.closed.load(Ordering::Acquire) {
                continue;
            }
            if member.queue.push(message.clone()).is_err() {
                member
                    .waiting
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(sender.clone());
                member.any_waiting.store(true, Ordering::SeqCst);
                // The reader may have made room before it could see us
                // waiting: try once more before giving up the turn.
                if member.queue.push(message.clone()).is_err() {
                    return Err(at);
                }
            }
            if !member.told.swap(true, Ordering::SeqCst) {
                if let Some(reader) = member.reader.get() {
                    reader.wake();
                }
            }
        }
        Ok(())
    }
}

impl<T> fmt::Debug for SpanPlace<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanPlace({} of {})", self.me, self.shared.members.len())
    }
}

/// Where a spanning backplane's publishers publish: each message goes to the
/// local splitter, then to every other member of the span.
///
/// # Inboxes
///
/// * `inbox` (`T`): messages published on this scheduler.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it, once it has
///   handed the other members what was published before (each member takes
///   it or has closed, so this ends).
///
/// # Outboxes
///
/// * `outbox` (`T`): to the local splitter.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): not used.
pub(crate) struct SpanOut<T> {
    place: SpanPlace<T>,
}

impl<T> SpanOut<T> {
    pub(crate) fn new(place: SpanPlace<T>) -> Self {
        SpanOut { place }
    }
}

impl<T> fmt::Debug for SpanOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanOut")
            .field("place", &self.place)
            .finish()
    }
}

impl<T: Clone + Send + 'static> Component for SpanOut<T> {
    type Boxes = Standard<T, T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let Some(me) = cx.component().remote_waker() else {
            return;
        };
        // A message some member had no room for, and the member to go on from.
        let mut held: Option<(T, usize)> = None;
        // Once told to end, it still hands the other members what was
        // published here before the end (the local splitter has gone): a
        // publisher's last lines reach the other schedulers however the
        // backplanes' ends interleave. This is bounded, as each member either
        // takes its messages or has closed, and only the messages in its
        // inbox when the end came are taken: a publisher still publishing
        // cannot keep it going. `ending` counts how many are left to take.
        let mut ending: Option<usize> = None;
        loop {
            // Only its Backplane sends it anything, and only to end it.
            if ending.is_none() && cx.control.recv().is_some() {
                ending = Some(cx.inbox.len());
            }
            if let Some((message, from)) = held.take() {
                if let Err(at) = self.place.offer(&message, from, &me) {
                    held = Some((message, at));
                    cx.idle().await;
                    continue;
                }
            }
            loop {
                if ending == Some(0) {
                    return;
                }
                let Some(message) = cx.inbox.recv() else {
                    if ending.is_some() {
                        return;
                    }
                    break;
                };
                match &mut ending {
                    Some(left) => *left -= 1,
                    None => cx.outbox.send(message.clone()).await,
                }
                if let Err(at) = self.place.offer(&message, 0, &me) {
                    held = Some((message, at));
                    break;
                }
            }
            cx.idle().await;
        }
    }
}

/// Takes what the other members of a span sent to this one and publishes it
/// on the local splitter.
///
/// # Inboxes
///
/// * `inbox` (`T`): not used.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it (and closes its place:
///   the others send it nothing more).
///
/// # Outboxes
///
/// * `outbox` (`T`): to the local splitter.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): not used.
pub(crate) struct SpanIn<T> {
    place: SpanPlace<T>,
}

impl<T> SpanIn<T> {
    pub(crate) fn new(place: SpanPlace<T>) -> Self {
        SpanIn { place }
    }
}

impl<T> fmt::Debug for SpanIn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanIn")
            .field("place", &self.place)
            .finish()
    }
}

/// Closes a member's place however its reader ends (stopped with its
/// scheduler, say), so that no sender waits for it forever.
struct CloseOnDrop<'a, T>(&'a Member<T>);

impl<T> Drop for CloseOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        while self.0.queue.pop().is_some() {}
        // Waiting senders see it closed and go on to the next member.
        self.0.any_waiting.store(true, Ordering::SeqCst);
        self.0.wake_waiting();
    }
}

impl<T: Send + 'static> Component for SpanIn<T> {
    type Boxes = Standard<T, T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let member = self.place.member();
        let _close = CloseOnDrop(member);
        if let Some(me) = cx.component().remote_waker() {
            let _ = member.reader.set(me);
        }
        loop {
            // Only its Backplane sends it anything, and only to end it.
            if cx.control.recv().is_some() {
                return;
            }
            // Cleared before looking: a message sent after this asks for a
            // wake of its own.
            member.told.store(false, Ordering::SeqCst);
            while let Some(message) = member.queue.pop() {
                member.wake_waiting();
                cx.outbox.send(message).await;
            }
            cx.idle().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_takes_as_many_members_as_it_was_made_for() {
        let span = BackplaneSpan::<u32>::new(2);
        assert!(span.join().is_ok());
        assert!(span.join().is_ok());
        let full = span.join().expect_err("full");
        assert_eq!(full, SpanFull { members: 2 });
        assert!(full.to_string().contains("made for 2 members"));
        assert!(
            format!("{span:?}").contains("joined: 2"),
            "a refused join takes no place: {span:?}"
        );
    }
}
