//! The non-generic part of a task, its [`Header`]: where it is in its life,
//! and what few tasks need (family, dynamic boxes, linkages), kept aside.
//!
//! # Lifecycle
//!
//! | state | meaning | entered when |
//! |---|---|---|
//! | `Created` | boxes exist, body not started | the component is made |
//! | `Active` | in the run queue (or about to join it) | activated; woken |
//! | `Sleeping` | out of the run queue until woken | end of a cycle in which it asked to pause and was not woken |
//! | `Waiting` | out of the run queue while a `WaitComplete` sub-body runs | it yielded `WaitComplete` |
//! | `Finished` | body gone, will never run again | its body returned or panicked, it was stopped, or the scheduler stopped |
//!
//! Rules the code relies on:
//!
//! * Only an `Active` task is ever resumed, and only from the run queue.
//! * A task is in the scheduler's registry exactly while it is `Active`,
//!   `Sleeping` or `Waiting`, so the scheduler keeps running while any exist.
//! * `woken_at` holds the clock of the cycle in which the task was last woken
//!   (a wake between cycles counts for the next one); at the end of a cycle a
//!   pause request is granted only if that is not the current cycle (a wake in
//!   the same cycle wins, as in Axon).
//! * A task woken from `Sleeping` joins the run queue at the end of the cycle
//!   its wake counted for, so it never runs in that cycle; its own pause
//!   requests are therefore never refused by the wake that woke it.
//! * A task is never in the run queue twice: only a `Sleeping` to `Active`
//!   transition (or activation) puts it on the wake list, and a task that ran
//!   stays `Active` until the end of its cycle.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use crate::boxes::graph::count_work;
use crate::boxes::linkage::SharedBook;
use crate::id::ComponentId;
use crate::task::coroutine::Yielder;
use crate::task::dynamic::DynamicBoxes;
use crate::task::family::Children;
use crate::task::resources::Resources;
use crate::task::{Host, TaskDyn};

/// Where a microprocess is in its life. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Created,
    Active,
    Sleeping,
    Waiting,
    Finished,
}

/// The non-generic part of every task. Kept small: a paused component costs
/// little more than this and its body.
pub(crate) struct Header {
    pub(crate) number: u64,
    /// Its type's full name ([`ComponentId`] cuts it when asked).
    kind: &'static str,
    pub(crate) state: Cell<State>,
    pub(crate) pause_requested: Cell<bool>,
    stop_requested: Cell<bool>,
    pub(crate) woken_at: Cell<u32>,
    slot: Cell<u32>,
    scheduler: OnceCell<Weak<dyn Host>>,
    yielder: Yielder,
    extra: OnceCell<Box<RefCell<Extra>>>,
    /// The first of its parents (the rest are in `Extra`): most components
    /// have one, and so need no `Extra` for it (a connection's handler, a
    /// Pipeline's stage).
    first_parent: Cell<Option<Weak<dyn TaskDyn>>>,
    /// The component's `tracing` span, made when it is activated, and only if
    /// a subscriber wants it: with none, resuming costs one test of this
    /// cell, and a component one pointer.
    span: OnceCell<Box<tracing::Span>>,
}

/// What few tasks need, allocated on first use.
///
/// A component's first parent is kept in its header, so a component with one
/// parent and nothing else of this needs no `Extra` at all; the parts only
/// parents, chassis and resource-tracking components use are each allocated
/// on their first use: `Extra` itself stays a fifth of its full size.
#[derive(Default)]
pub(crate) struct Extra {
    pub(crate) children: Rare<Children>,
    /// Children that have finished since the last `take_finished_children`,
    /// in the order they finished. A queue, because a parent that removes
    /// its children as they end (a TcpServer its adapters) removes them in
    /// that order: each is then found at the front. One removed from
    /// elsewhere in it (a ServerCore removes each connection's adapter and
    /// then its handler, which ended after every adapter of a burst) is left
    /// in place and counted in `finished_removed`, and the queue is rid of
    /// such entries once they are half of it: a removal then costs the same
    /// however many children ended before it, where looking for each cost
    /// a scan (a burst of 2,000 closes: 1,100 instructions per removal).
    finished: VecDeque<Rc<dyn TaskDyn>>,
    /// How many entries of `finished` may be of children removed since.
    finished_removed: usize,
    /// Its parents after the first (which is in the header).
    pub(crate) parents: Vec<Weak<dyn TaskDyn>>,
    /// The linkages this component's postoffice has made.
    pub(crate) book: Option<SharedBook>,
    pub(crate) dynamic: Rare<DynamicBoxes>,
    /// The `WaitComplete` sub-task this task is waiting for.
    pub(crate) waiting_on: Option<Rc<dyn TaskDyn>>,
    /// For a `WaitComplete` sub-task: the task it works for, to resume when it
    /// finishes.
    pub(crate) parent: Option<Weak<dyn TaskDyn>>,
    pub(crate) panic: Option<String>,
    /// The resources the component tracks (`Cx::track_resource` and
    /// `Cx::track_resource_information`).
    pub(crate) resources: Rare<Resources>,
}

impl Extra {
    /// Forgets `child`, just removed from `children`, in the list of those
    /// finished: at its front, where a child removed as it ends is; from
    /// elsewhere, by counting it, and ridding the list of such entries once
    /// they are half of it (see [`finished`](Self::finished)).
    pub(crate) fn forget_finished(&mut self, child: &Rc<dyn TaskDyn>) {
        count_work(1);
        if self.finished.front().is_some_and(|c| Rc::ptr_eq(c, child)) {
            self.finished.pop_front();
        } else if !self.finished.is_empty() {
            self.finished_removed += 1;
            if self.finished_removed * 2 > self.finished.len() {
                self.drop_removed_finished();
            }
        }
    }

    /// Rids the list of finished children of those no longer children.
    fn drop_removed_finished(&mut self) {
        let children = &self.children;
        self.finished.retain(|c| {
            count_work(1);
            children.get().is_some_and(|all| all.contains(c))
        });
        self.finished_removed = 0;
    }
}

/// A part of [`Extra`] allocated on its first write.
pub(crate) struct Rare<T>(Option<Box<T>>);

impl<T> Default for Rare<T> {
    fn default() -> Self {
        Rare(None)
    }
}

impl<T: Default> Rare<T> {
    /// The part, if it was ever written.
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.as_deref()
    }

    /// The part, allocated now if it was not.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Default::default)
    }

    /// The part, if it was ever written, without allocating it.
    pub(crate) fn existing_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }
}

impl Header {
    pub(crate) fn new(id: ComponentId, yielder: Yielder) -> Self {
        Header {
            number: id.number(),
            kind: id.full_kind(),
            state: Cell::new(State::Created),
            pause_requested: Cell::new(false),
            stop_requested: Cell::new(false),
            woken_at: Cell::new(u32::MAX),
            slot: Cell::new(u32::MAX),
            scheduler: OnceCell::new(),
            yielder,
            extra: OnceCell::new(),
            first_parent: Cell::new(None),
            span: OnceCell::new(),
        }
    }

    /// Makes the component's span (`component{id=Kind#n}`, at `INFO`), inside
    /// the span current now, so that it carries that span's fields too (a
    /// connection's peer, say, or the span of the component that made it):
    /// called when the component is activated. Kept only if a subscriber
    /// wants it.
    pub(crate) fn open_span(&self) {
        let span = tracing::info_span!(target: "axon::component", "component", id = %self.id());
        if !span.is_disabled() {
            let _ = self.span.set(Box::new(span));
        }
    }

    /// The component's span, if a subscriber wanted one when it was
    /// activated.
    pub(crate) fn span(&self) -> Option<&tracing::Span> {
        self.span.get().map(|span| &**span)
    }

    pub(crate) fn id(&self) -> ComponentId {
        ComponentId::new(self.number, self.kind)
    }

    /// The number of [`id`](Self::id).
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    pub(crate) fn state(&self) -> State {
        self.state.get()
    }

    pub(crate) fn set_state(&self, state: State) {
        self.state.set(state);
    }

    pub(crate) fn slot(&self) -> u32 {
        self.slot.get()
    }

    pub(crate) fn set_slot(&self, slot: u32) {
        self.slot.set(slot);
    }

    pub(crate) fn woken_at(&self) -> u32 {
        self.woken_at.get()
    }

    pub(crate) fn take_pause_request(&self) -> bool {
        self.pause_requested.replace(false)
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop_requested.get()
    }

    pub(crate) fn request_stop(&self) {
        self.stop_requested.set(true);
    }

    /// The scheduler this task was activated on, while it exists.
    pub(crate) fn scheduler(&self) -> Option<Rc<dyn Host>> {
        self.scheduler.get().and_then(Weak::upgrade)
    }

    /// Binds the task to a scheduler; false if it was already bound.
    pub(crate) fn bind(&self, scheduler: Weak<dyn Host>) -> bool {
        self.scheduler.set(scheduler).is_ok()
    }

    pub(crate) fn yielder(&self) -> &Yielder {
        &self.yielder
    }

    pub(crate) fn extra(&self) -> &RefCell<Extra> {
        self.extra.get_or_init(Default::default)
    }

    pub(crate) fn with_extra<R>(&self, f: impl FnOnce(&mut Extra) -> R) -> R {
        f(&mut self.extra().borrow_mut())
    }

    pub(crate) fn read_extra<R>(&self, f: impl FnOnce(&Extra) -> R) -> Option<R> {
        self.extra.get().map(|e| f(&e.borrow()))
    }

    pub(crate) fn waiting_on(&self) -> Option<Rc<dyn TaskDyn>> {
        self.read_extra(|e| e.waiting_on.clone()).flatten()
    }

    pub(crate) fn set_waiting_on(&self, sub: Option<Rc<dyn TaskDyn>>) {
        self.with_extra(|e| e.waiting_on = sub);
    }

    /// For a `WaitComplete` sub-task, the task it works for.
    pub(crate) fn parent_of_sub(&self) -> Option<Rc<dyn TaskDyn>> {
        self.read_extra(|e| e.parent.as_ref().and_then(Weak::upgrade))
            .flatten()
    }

    /// Records `parent` as one of this task's parents (the caller adds each
    /// at most once).
    pub(crate) fn add_parent(&self, parent: Weak<dyn TaskDyn>) {
        match self.first_parent.take() {
            None => self.first_parent.set(Some(parent)),
            Some(first) => {
                self.first_parent.set(Some(first));
                self.with_extra(|e| {
                    // Most components have one parent or two: grow by one,
                    // not to four.
                    e.parents.reserve_exact(1);
                    e.parents.push(parent)
                });
            }
        }
    }

    /// Forgets `parent`, if it is one of this task's parents.
    pub(crate) fn remove_parent(&self, parent: &Weak<dyn TaskDyn>) {
        match self.first_parent.take() {
            Some(first) if Weak::ptr_eq(&first, parent) => {}
            other => {
                self.first_parent.set(other);
                if let Some(e) = self.extra.get() {
                    e.borrow_mut().parents.retain(|p| !Weak::ptr_eq(p, parent));
                }
            }
        }
    }

    /// Takes the task's parents (those still alive), in the order they were
    /// added.
    pub(crate) fn take_parents(&self) -> impl Iterator<Item = Rc<dyn TaskDyn>> {
        // Taken out before iterating, so that the iterator holds no borrow;
        // and not gathered into a `Vec`, an allocation per component
        // finished for what is nearly always one parent.
        let first = self.first_parent.take();
        let rest = self
            .extra
            .get()
            .map(|e| std::mem::take(&mut e.borrow_mut().parents))
            .unwrap_or_default();
        first.into_iter().chain(rest).filter_map(|p| p.upgrade())
    }

    /// Records that `child` has finished. Only a parent hears of it (the
    /// child's parents are exactly those it was added to and not removed
    /// from), so it is one of this task's children.
    pub(crate) fn child_finished(&self, child: Rc<dyn TaskDyn>) {
        self.with_extra(|e| e.finished.push_back(child));
    }

    pub(crate) fn take_finished_children(&self) -> Vec<Rc<dyn TaskDyn>> {
        let Some(e) = self.extra.get() else {
            return Vec::new();
        };
        let mut e = e.borrow_mut();
        if e.finished_removed > 0 {
            e.drop_removed_finished();
        }
        // Most calls find none (a chassis or server asks at every turn): the
        // queue then keeps its buffer, which taking it would free, to be
        // allocated again at the next child's end.
        if e.finished.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut e.finished).into()
    }

    pub(crate) fn set_panic(&self, message: String) {
        self.with_extra(|e| e.panic = Some(message));
    }

    /// The book of linkages this task made, if it has made any.
    pub(crate) fn book_if_any(&self) -> Option<SharedBook> {
        self.read_extra(|e| e.book.clone()).flatten()
    }
}
