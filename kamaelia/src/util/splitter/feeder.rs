//! The feeder: one per sink, it takes the sink's messages from the shared log
//! and delivers them, at the pace the sink takes them.
//!
//! Why a component per sink: axon wakes the owner of an outbox when the inbox
//! that refused it collects. With one outbox per sink on the splitter, a wake
//! would say "some sink has room" and the splitter would have to look at every
//! blocked sink to find which. A feeder owns its sink's outbox, so the wake
//! goes to exactly the sink that has room, and no step looks at the others.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{CollectionWake, Component, ComponentId, Cx, Standard};

use super::delivery::Delivery;
use super::log::{Entry, Eviction, Log};
use super::Sink;

/// Delivers the log to one sink: `outbox` is linked to the sink's data box and
/// `signal` to its control box. Each message is handed over as `delivery`
/// says (a clone, the sink's [`filter_map`](Sink::filter_map), or its bytes
/// gathered by the sink's [`encode`](Sink::encode)). `control` hears from
/// the splitter: `ShutdownMicroprocess` (leave now) or `ProducerFinished`
/// (deliver what was published so far, then pass it on and leave).
///
/// It also keeps its sink's tier: pacing, until the sink sits at the pacing
/// bound taking nothing for `grace`; stalled, until it takes something again.
///
/// A data box that is an outbox leads wherever that outbox is linked. Until
/// its chain of links ends in an inbox, a send would be dropped (axon's rule
/// for an unlinked outbox), so the sink counts as full: its messages wait in
/// the log, under the same flow control. Linking wakes no one, so a feeder
/// waiting for that looks again every [`UNLINKED_POLL`].
pub(crate) struct Feeder<T, D> {
    log: Rc<RefCell<Log<T>>>,
    cursor: u64,
    sink: Sink,
    grace: Duration,
    stall_timeout: Duration,
    delivery: D,
}

/// What the splitter gives a sink's feeder: where it starts in the log, and
/// the splitter's bounds in time.
pub(crate) struct FeederSetup<T> {
    pub(crate) log: Rc<RefCell<Log<T>>>,
    pub(crate) cursor: u64,
    pub(crate) sink: Sink,
    pub(crate) grace: Duration,
    pub(crate) stall_timeout: Duration,
}

impl<T: Clone + 'static, D: Delivery<T>> Feeder<T, D> {
    /// The feeder `setup` describes, handing over each message as
    /// `delivery` says.
    pub(crate) fn new(setup: FeederSetup<T>, delivery: D) -> Self {
        Feeder {
            log: setup.log,
            cursor: setup.cursor,
            sink: setup.sink,
            grace: setup.grace,
            stall_timeout: setup.stall_timeout,
            delivery,
        }
    }
}

/// How often a feeder whose data box leads to no inbox yet looks again.
///
/// Only a sink whose box is an outbox not yet linked onward waits so (a
/// [`SubscribeTo`](crate::util::SubscribeTo) activated before its `outbox`
/// was linked): a full inbox wakes its feeder when it is read, but a link
/// being made wakes no one.
const UNLINKED_POLL: Duration = Duration::from_millis(5);

/// How long a feeder with nothing new keeps the room its delivery holds
/// for the next round (an encoding feeder's buffer): through a burst it is
/// used again, round after round; a subscriber that then gets nothing for
/// this long (an idle chat client) gives it back.
const KEEP_ROOM: Duration = Duration::from_secs(1);

/// How a feeder's delivery round ended.
enum Round {
    /// Everything up to the end of the log is delivered.
    CaughtUp,
    /// The sink is full, or its data box leads to no inbox yet.
    Blocked,
    /// It delivered an end-of-stream control message, or reached its finish.
    Done,
}

impl<T: Clone + 'static, D: Delivery<T>> Feeder<T, D> {
    /// Links to the sink's boxes; false (logged) if they cannot be linked.
    fn plug_in(&self, cx: &Cx<Standard<(), D::Out>>) -> bool {
        let target = &self.sink.component;
        let linked = self
            .sink
            .inbox
            .as_deref()
            .map_or(Ok(()), |b| cx.link(&cx.outbox, (target, b)).map(drop))
            .and_then(|()| {
                self.sink
                    .control
                    .as_deref()
                    .map_or(Ok(()), |b| cx.link(&cx.signal, (target, b)).map(drop))
            });
        if let Err(e) = linked {
            tracing::error!(sink = %self.sink, "cannot add the sink: {e}");
            return false;
        }
        true
    }

    /// Delivers from the cursor until caught up, blocked, or done, then
    /// releases what it delivered in one go.
    fn deliver(
        &mut self,
        cx: &Cx<Standard<(), D::Out>>,
        finish_at: Option<u64>,
        pacing: bool,
    ) -> (Round, bool) {
        let from = self.cursor;
        // Nothing this round can link or unlink it: asked once.
        let takes_data = self.sink.inbox.is_some();
        let leads_somewhere = !takes_data || cx.outbox.is_linked();
        let takes_control = self.sink.control.is_some();
        // What a data entry meets, asked of one flag per entry: a sink
        // with no data box passes it (taken), one whose box leads nowhere
        // yet stops at it.
        let offers_data = takes_data && leads_somewhere;
        // Held for the round: a send only queues the message and wakes the
        // sink's owner, which runs later, so nothing it does reaches the log.
        let mut log = self.log.borrow_mut();
        log.seal_journal();
        let journal = log.journal();
        let finish = finish_at.unwrap_or(u64::MAX);
        let mut round = Round::CaughtUp;
        // No further than the finish; nowhere, while what the last round
        // kept has no room yet.
        let mut upto = finish;
        if leads_somewhere && !self.delivery.begin(&cx.outbox) {
            round = Round::Blocked;
            upto = from;
        }
        // Counted here and added once: the cursor is not kept in step.
        let mut taken = 0u64;
        for (entry, bytes) in log.entries(from, upto) {
            let mut ends = false;
            let sent = match entry {
                Entry::Data(m) => {
                    if offers_data {
                        self.delivery.offer(m, bytes, journal, &cx.outbox)
                    } else {
                        !takes_data
                    }
                }
                Entry::Control(c) => {
                    ends = c.is_end_of_stream();
                    // The data taken before it goes first.
                    (!leads_somewhere || self.delivery.flush(journal, &cx.outbox))
                        && (!takes_control || cx.signal.try_send(c.clone()).is_ok())
                }
            };
            if !sent {
                round = Round::Blocked;
                break;
            }
            taken += 1;
            if ends {
                round = Round::Done;
                break;
            }
        }
        self.cursor += taken;
        if self.cursor >= finish {
            round = Round::Done;
        }
        if leads_somewhere && !self.delivery.flush(journal, &cx.outbox) {
            // Taken from the log, but waiting for room in the sink.
            round = Round::Blocked;
        }
        log.release(from, self.cursor, pacing);
        (round, taken > 0)
    }

    fn leave(&self, stalled: Option<(u64, ComponentId)>) {
        self.log
            .borrow_mut()
            .leave(self.cursor, stalled, D::TAKES_BYTES);
    }

    /// Disconnects the sink: says why, and tells it.
    fn disconnect(&self, cx: &Cx<Standard<(), D::Out>>) {
        // Its control box may be full too; it is being dropped either way.
        let _ = cx.signal.try_send(ShutdownMicroprocess::new().into());
    }
}

impl<T: Clone + 'static, D: Delivery<T>> Component for Feeder<T, D> {
    type Boxes = Standard<(), D::Out>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(mut self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            // Woken by a collection only when refused: a sink's collections are
            // news to its feeder only when it waits for room. (Under Axon's rule
            // each collection would also wake the owners of the outboxes its
            // messages pass through, a `SubscribeTo` among them, for nothing.)
            cx.outbox.set_collection_wake(CollectionWake::WhenRefused);
            cx.signal.set_collection_wake(CollectionWake::WhenRefused);
            if !self.plug_in(&cx) {
                self.leave(None);
                return;
            }
            let eviction = Eviction::default();
            // The key it is stalled under in the log, while stalled.
            let mut stalled: Option<(u64, ComponentId)> = None;
            let mut last_progress = cx.now();
            // At most one timer pending at a time, however often it blocks.
            let mut timer: Option<Instant> = None;
            // The log's end when it parked: until the log grows past it, it is
            // still on the parked list and must not join it again.
            let mut parked_at: Option<u64> = None;
            let mut finish_at: Option<u64> = None;
            // When the room its delivery keeps for the next round goes back, if
            // no round has brought anything by then.
            let mut room_until: Option<Instant> = None;
            loop {
                if let Some(backlog) = eviction.get() {
                    tracing::warn!(
                        sink = %self.sink,
                        backlog_messages = backlog.messages,
                        backlog_bytes = backlog.bytes,
                        "subscriber stalled with a backlog over max_backlog_bytes ({} bytes); \
                         disconnecting it",
                        self.log.borrow().bounds().max_bytes
                    );
                    // The log has already released its share.
                    self.disconnect(&cx);
                    return;
                }
                match cx.control.recv() {
                    Some(Ipc::ProducerFinished(_)) => {
                        finish_at.get_or_insert(self.log.borrow().end());
                    }
                    Some(_) => {
                        self.leave(stalled);
                        return;
                    }
                    None => {}
                }
                let (round, progressed) = self.deliver(&cx, finish_at, stalled.is_none());
                // The scheduler's time, not the clock's: a feeder runs a round
                // for every batch of a burst, and its timers are of 5 ms and up.
                let now = if progressed || !matches!(round, Round::CaughtUp) {
                    cx.now()
                } else {
                    last_progress
                };
                if progressed {
                    last_progress = now;
                    if let Some(key) = stalled.take() {
                        tracing::debug!(sink = %self.sink, "stalled subscriber reads again; it paces the publishers again");
                        self.log.borrow_mut().unstall(key, self.cursor);
                    }
                }
                match round {
                    Round::Done => {
                        if finish_at.is_some() && self.sink.control.is_some() {
                            // Best effort: a sink too full to take it is ending anyway.
                            let _ = cx.signal.try_send(ProducerFinished::new().into());
                        }
                        self.leave(stalled);
                        return;
                    }
                    Round::CaughtUp => {
                        if progressed {
                            if self.delivery.keeps_room() && room_until.is_none_or(|at| at <= now) {
                                let at = now + KEEP_ROOM;
                                cx.wake_at(at);
                                room_until = Some(at);
                            }
                        } else if room_until.is_some_and(|at| cx.now() >= at) {
                            self.delivery.rest();
                            room_until = None;
                        }
                        let mut log = self.log.borrow_mut();
                        let end = log.end();
                        if parked_at.is_none_or(|at| end > at) {
                            log.park(cx.component());
                            parked_at = Some(end);
                        }
                    }
                    Round::Blocked => {
                        let deadline = last_progress + self.stall_timeout;
                        if now >= deadline {
                            tracing::warn!(
                                sink = %self.sink,
                                backlog_messages = self.log.borrow().backlog(self.cursor).messages,
                                "subscriber made no progress for {:?} (stall_timeout); disconnecting it",
                                self.stall_timeout
                            );
                            self.disconnect(&cx);
                            self.leave(stalled);
                            return;
                        }
                        let mut next = deadline;
                        if stalled.is_none() {
                            let grace_end = last_progress + self.grace;
                            if now < grace_end {
                                next = next.min(grace_end);
                            } else if self.log.borrow().is_at_pacing_bound(self.cursor) {
                                tracing::debug!(
                                    sink = %self.sink,
                                    "subscriber at its pacing bound took nothing for {:?}; \
                                     the publishers no longer wait for it",
                                    self.grace
                                );
                                self.log.borrow_mut().stall(
                                    self.cursor,
                                    cx.component(),
                                    eviction.clone(),
                                    D::TAKES_BYTES,
                                );
                                stalled = Some((self.cursor, cx.id()));
                                if eviction.get().is_some() {
                                    continue;
                                }
                            } else {
                                // Not holding anyone back yet: look again later.
                                next = next.min(now + self.grace);
                            }
                        }
                        if self.sink.inbox.is_some() && !cx.outbox.is_linked() {
                            next = next.min(now + UNLINKED_POLL);
                        }
                        if timer.is_none_or(|t| t <= now || next < t) {
                            cx.wake_at(next);
                            timer = Some(next);
                        }
                    }
                }
                cx.idle().await;
            }
        }
    }
}
