//! The scheduler's record of one microprocess: its lifecycle, its body, its
//! boxes and its family.
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

use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use slab::Slab;

use crate::box_set::{
    clean_doc, BoxDecl, BoxInfo, BoxOwner, BoxSet, Direction, ErasedBox, NoBoxes,
};
use crate::component::{Component, Cx};
use crate::component_ref::{kind_of, ComponentId, ComponentRef};
use crate::coroutine::{coroutine, Coroutine, Step, Yielder};
use crate::error::{BoxError, LinkError, LinkErrorKind};
use crate::postoffice::Postoffice;
use crate::remote::RemoteWaker;
use crate::scheduler::SchedShared;

/// Numbers appended to a dynamic box's name when the wanted one is taken
/// (Axon appends an id the same way).
static NEXT_BOX: AtomicU64 = AtomicU64::new(1);

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
    number: u64,
    kind: fn() -> &'static str,
    state: Cell<State>,
    pause_requested: Cell<bool>,
    stop_requested: Cell<bool>,
    woken_at: Cell<u32>,
    slot: Cell<u32>,
    scheduler: OnceCell<Weak<SchedShared>>,
    yielder: Yielder,
    extra: OnceCell<Box<RefCell<Extra>>>,
}

/// What few tasks need, allocated on first use.
#[derive(Default)]
struct Extra {
    children: Children,
    /// Children that have finished since the last `take_finished_children`.
    finished: Vec<ComponentRef>,
    parents: Vec<Weak<dyn TaskDyn>>,
    postoffice: Rc<Postoffice>,
    dynamic: DynamicBoxes,
    /// The `WaitComplete` sub-task this task is waiting for.
    waiting_on: Option<Rc<dyn TaskDyn>>,
    /// For a `WaitComplete` sub-task: the task it works for, to resume when it
    /// finishes.
    parent: Option<Weak<dyn TaskDyn>>,
    panic: Option<String>,
}

struct DynamicBox {
    name: String,
    doc: String,
    node: ErasedBox,
}

/// A task's children, in the order they were added, indexed by component so
/// that adding or removing one does not look at the others (a server has two
/// per connection).
#[derive(Default)]
struct Children {
    /// Numbers the children in the order they were added.
    next: u64,
    in_order: BTreeMap<u64, ComponentRef>,
    /// Component number -> its place in `in_order`.
    place: HashMap<u64, u64>,
}

impl Children {
    /// Adds `child`; false if it was already there.
    fn add(&mut self, child: &ComponentRef) -> bool {
        let number = child.0.header().number();
        if self.place.contains_key(&number) {
            return false;
        }
        self.place.insert(number, self.next);
        self.in_order.insert(self.next, child.clone());
        self.next += 1;
        true
    }

    fn remove(&mut self, child: &ComponentRef) {
        if let Some(place) = self.place.remove(&child.0.header().number()) {
            self.in_order.remove(&place);
        }
    }

    fn to_vec(&self) -> Vec<ComponentRef> {
        self.in_order.values().cloned().collect()
    }
}

/// The boxes added at run time. Deleted boxes' slots are reused, so a server
/// that adds and deletes boxes per connection does not grow; names are
/// indexed, so finding one does not depend on how many there are.
#[derive(Default)]
struct DynamicBoxes {
    slots: Slab<DynamicBox>,
    by_name: HashMap<String, usize>,
}

impl DynamicBoxes {
    fn get(&self, name: &str) -> Option<&DynamicBox> {
        self.by_name
            .get(name)
            .and_then(|&slot| self.slots.get(slot))
    }

    fn iter(&self) -> impl Iterator<Item = &DynamicBox> {
        self.slots.iter().map(|(_, b)| b)
    }

    /// The slot the next added box will take.
    fn remove(&mut self, name: &str, direction: Direction) -> Option<DynamicBox> {
        let slot = *self.by_name.get(name)?;
        if self.slots.get(slot)?.node.0.direction() != direction {
            return None;
        }
        self.by_name.remove(name);
        self.slots.try_remove(slot)
    }
}

impl Header {
    fn new(id: ComponentId, kind: fn() -> &'static str, yielder: Yielder) -> Self {
        Header {
            number: id.number(),
            kind,
            state: Cell::new(State::Created),
            pause_requested: Cell::new(false),
            stop_requested: Cell::new(false),
            woken_at: Cell::new(u32::MAX),
            slot: Cell::new(u32::MAX),
            scheduler: OnceCell::new(),
            yielder,
            extra: OnceCell::new(),
        }
    }

    pub(crate) fn id(&self) -> ComponentId {
        ComponentId::new(self.number, (self.kind)())
    }

    /// The number of [`id`](Self::id), without working out the kind's name.
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
    pub(crate) fn scheduler(&self) -> Option<Rc<SchedShared>> {
        self.scheduler.get().and_then(Weak::upgrade)
    }

    /// Binds the task to a scheduler; false if it was already bound.
    pub(crate) fn bind(&self, scheduler: Weak<SchedShared>) -> bool {
        self.scheduler.set(scheduler).is_ok()
    }

    pub(crate) fn yielder(&self) -> &Yielder {
        &self.yielder
    }

    fn extra(&self) -> &RefCell<Extra> {
        self.extra.get_or_init(Default::default)
    }

    fn with_extra<R>(&self, f: impl FnOnce(&mut Extra) -> R) -> R {
        f(&mut self.extra().borrow_mut())
    }

    fn read_extra<R>(&self, f: impl FnOnce(&Extra) -> R) -> Option<R> {
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

    pub(crate) fn take_parents(&self) -> Vec<Rc<dyn TaskDyn>> {
        match self.extra.get() {
            Some(e) => std::mem::take(&mut e.borrow_mut().parents)
                .iter()
                .filter_map(Weak::upgrade)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Records that `child` has finished. Only a parent hears of it (the
    /// child's parents are exactly those it was added to and not removed
    /// from), so it is one of this task's children.
    pub(crate) fn child_finished(&self, child: ComponentRef) {
        self.with_extra(|e| e.finished.push(child));
    }

    pub(crate) fn take_finished_children(&self) -> Vec<ComponentRef> {
        match self.extra.get() {
            Some(e) => std::mem::take(&mut e.borrow_mut().finished),
            None => Vec::new(),
        }
    }

    pub(crate) fn set_panic(&self, message: String) {
        self.with_extra(|e| e.panic = Some(message));
    }

    pub(crate) fn postoffice_if_any(&self) -> Option<Rc<Postoffice>> {
        self.read_extra(|e| e.postoffice.clone())
    }
}

/// A task with its types erased: what the scheduler and the boxes hold.
pub(crate) trait TaskDyn {
    fn header(&self) -> &Header;
    fn declared(&self) -> &'static [BoxDecl];
    fn declared_box(&self, index: usize) -> Option<ErasedBox>;
    /// Runs the body to its next yield; `None` if it has no body any more.
    fn resume(&self) -> Option<Step>;
    /// Drops the body. Called outside any borrow of the scheduler, since the
    /// body's destructors may do anything.
    fn drop_body(&self);
}

/// A component: its header, its boxes, its body (the generator running its
/// `main`, stored inline, until it finishes).
pub(crate) struct Task<B, F: Future<Output = ()>> {
    header: Header,
    boxes: B,
    body: RefCell<Option<Coroutine<F>>>,
}

impl<B: BoxSet, F: Future<Output = ()> + 'static> TaskDyn for Task<B, F> {
    fn header(&self) -> &Header {
        &self.header
    }

    fn declared(&self) -> &'static [BoxDecl] {
        B::BOXES
    }

    fn declared_box(&self, index: usize) -> Option<ErasedBox> {
        self.boxes.erased(index)
    }

    fn resume(&self) -> Option<Step> {
        Coroutine::resume(&mut self.body.borrow_mut())
    }

    fn drop_body(&self) {
        let body = self.body.borrow_mut().take();
        drop(body);
    }
}

/// Makes the task for a component: its boxes, and its body ready to run.
pub(crate) fn new_task<C: Component>(component: C) -> Rc<dyn TaskDyn> {
    build_task(kind_of::<C>, C::Boxes::create, |boxes, runner| {
        component.main(Cx::new(boxes, runner))
    })
}

/// Builds a task around a body made from the task's boxes and a weak handle
/// to the task itself (what the body's `Cx` holds).
pub(crate) fn build_task<B, F>(
    kind: fn() -> &'static str,
    make_boxes: impl FnOnce(&BoxOwner) -> B,
    make_body: impl FnOnce(B, Weak<dyn TaskDyn>) -> F,
) -> Rc<dyn TaskDyn>
where
    B: BoxSet,
    F: Future<Output = ()> + 'static,
{
    let task: Rc<Task<B, F>> = Rc::new_cyclic(|weak: &Weak<Task<B, F>>| {
        let weak: Weak<dyn TaskDyn> = weak.clone();
        let boxes = make_boxes(&BoxOwner { task: weak.clone() });
        let (body, yielder) = coroutine(make_body(boxes.clone(), weak));
        Task {
            header: Header::new(ComponentId::next((kind)()), kind, yielder),
            boxes,
            body: RefCell::new(Some(body)),
        }
    });
    task
}

/// Makes the task that runs a `WaitComplete` sub-body for `parent`, sharing
/// its boxes.
pub(crate) fn new_sub_task<B, F>(
    parent: &Rc<dyn TaskDyn>,
    boxes: B,
    make_body: impl FnOnce(Cx<B>) -> F,
) -> Rc<dyn TaskDyn>
where
    B: BoxSet,
    F: Future<Output = ()> + 'static,
{
    fn kind() -> &'static str {
        "WaitComplete"
    }
    let sub = build_task(
        kind,
        |_| NoBoxes {},
        |_, runner| make_body(Cx::new(boxes, runner)),
    );
    sub.header()
        .with_extra(|e| e.parent = Some(Rc::downgrade(parent)));
    sub
}

/// Wakes a task: Axon's `unpause`. A wake of an active task still counts, so
/// that a pause requested in the same cycle is not granted.
pub(crate) fn wake(task: &Rc<dyn TaskDyn>) {
    let header = task.header();
    match header.state() {
        State::Active => {
            if let Some(scheduler) = header.scheduler() {
                header.woken_at.set(scheduler.clock());
            }
        }
        State::Sleeping => {
            if let Some(scheduler) = header.scheduler() {
                header.woken_at.set(scheduler.clock());
                header.state.set(State::Active);
                scheduler.push_wake(task.clone());
            }
        }
        State::Waiting => {
            if let Some(sub) = header.waiting_on() {
                wake(&sub);
            }
        }
        State::Created | State::Finished => {}
    }
}

/// Asks for a task to be paused at the end of the current cycle: Axon's `pause`.
/// The scheduler looks at the request after the task's next turn.
pub(crate) fn pause(task: &Rc<dyn TaskDyn>) {
    let header = task.header();
    if header.state() == State::Active {
        header.pause_requested.set(true);
    }
}

/// What every task can do, whatever its boxes.
impl dyn TaskDyn {
    fn dynamic_index(&self, index: usize) -> Option<usize> {
        index.checked_sub(self.declared().len())
    }

    /// Finds a box by name and direction.
    pub(crate) fn find_box(&self, name: &str, direction: Direction) -> Result<ErasedBox, BoxError> {
        self.lookup(name, direction)
            .ok_or_else(|| self.no_such_box(name, direction))
    }

    /// The error for a box that is not there, listing those that are.
    fn no_such_box(&self, name: &str, direction: Direction) -> BoxError {
        BoxError::NoSuchBox {
            component: self.header().id(),
            direction,
            name: name.to_string(),
            available: self
                .box_infos(direction)
                .into_iter()
                .map(|b| b.name)
                .collect(),
        }
    }

    /// Finds a box by name, trying `preferred` first, then the other direction.
    pub(crate) fn find_box_either(
        &self,
        name: &str,
        preferred: Direction,
    ) -> Result<ErasedBox, LinkError> {
        let other = match preferred {
            Direction::Inbox => Direction::Outbox,
            Direction::Outbox => Direction::Inbox,
        };
        self.lookup(name, preferred)
            .or_else(|| self.lookup(name, other))
            .ok_or_else(|| {
                LinkErrorKind::NoSuchBox {
                    component: self.header().id(),
                    name: name.to_string(),
                    available: self
                        .box_infos(Direction::Inbox)
                        .into_iter()
                        .chain(self.box_infos(Direction::Outbox))
                        .map(|b| format!("{} {}", b.direction, b.name))
                        .collect(),
                }
                .into()
            })
    }

    fn lookup(&self, name: &str, direction: Direction) -> Option<ErasedBox> {
        if let Some(i) = self
            .declared()
            .iter()
            .position(|d| d.name == name && d.direction == direction)
        {
            return self.declared_box(i);
        }
        self.header()
            .read_extra(|e| {
                e.dynamic
                    .get(name)
                    .filter(|b| b.node.0.direction() == direction)
                    .map(|b| b.node.clone())
            })
            .flatten()
    }

    /// The name of the box at `index`, declared or dynamic.
    pub(crate) fn box_name(&self, index: u32) -> Cow<'static, str> {
        let index = index as usize;
        if let Some(decl) = self.declared().get(index) {
            return Cow::Borrowed(decl.name);
        }
        let dynamic = self.dynamic_index(index).and_then(|i| {
            self.header()
                .read_extra(|e| e.dynamic.slots.get(i).map(|b| b.name.clone()))
                .flatten()
        });
        Cow::Owned(dynamic.unwrap_or_else(|| format!("#{index}")))
    }

    pub(crate) fn box_infos(&self, direction: Direction) -> Vec<BoxInfo> {
        let mut infos: Vec<BoxInfo> = self
            .declared()
            .iter()
            .filter(|d| d.direction == direction)
            .map(BoxInfo::from_decl)
            .collect();
        if let Some(dynamic) = self.header().read_extra(|e| {
            e.dynamic
                .iter()
                .filter(|b| b.node.0.direction() == direction)
                .map(|b| BoxInfo {
                    name: b.name.clone(),
                    doc: b.doc.clone(),
                    direction,
                    type_name: b.node.0.type_name(),
                })
                .collect::<Vec<_>>()
        }) {
            infos.extend(dynamic);
        }
        infos
    }

    /// The first inbox holding messages, in declaration order: Axon's `anyReady`.
    pub(crate) fn any_ready(&self) -> Option<String> {
        for (i, decl) in self.declared().iter().enumerate() {
            if decl.direction == Direction::Inbox
                && self.declared_box(i).is_some_and(|b| b.0.len() > 0)
            {
                return Some(decl.name.to_string());
            }
        }
        self.header()
            .read_extra(|e| {
                e.dynamic
                    .iter()
                    .find(|b| b.node.0.direction() == Direction::Inbox && b.node.0.len() > 0)
                    .map(|b| b.name.clone())
            })
            .flatten()
    }

    /// Adds a box at run time, returning its (unique) name and index.
    pub(crate) fn add_dynamic_box(
        self: &Rc<Self>,
        wanted: &str,
        doc: &str,
        make: impl FnOnce(Weak<dyn TaskDyn>, u32) -> ErasedBox,
    ) -> (String, ErasedBox) {
        let direction_taken = |name: &str| {
            self.lookup(name, Direction::Inbox).is_some()
                || self.lookup(name, Direction::Outbox).is_some()
        };
        let mut name = wanted.to_string();
        while direction_taken(&name) {
            name = format!("{wanted}{}", NEXT_BOX.fetch_add(1, AtomicOrdering::Relaxed));
        }
        let (owner, declared) = (Rc::downgrade(self), self.declared().len());
        let node = self.header().with_extra(|e| {
            let vacant = e.dynamic.slots.vacant_entry();
            let slot = vacant.key();
            let node = make(owner, (declared + slot) as u32);
            vacant.insert(DynamicBox {
                name: name.clone(),
                doc: clean_doc(doc),
                node: node.clone(),
            });
            e.dynamic.by_name.insert(name.clone(), slot);
            node
        });
        (name, node)
    }

    /// Deletes a box added at run time, and the links into and out of it.
    /// Messages in it are lost, as in Axon.
    pub(crate) fn delete_dynamic_box(
        &self,
        name: &str,
        direction: Direction,
    ) -> Result<(), BoxError> {
        let removed = self
            .header()
            .with_extra(|e| e.dynamic.remove(name, direction));
        match removed {
            Some(entry) => {
                crate::linkage::detach(&entry.node.0);
                // The owner's own record of those links goes too (links that
                // other components made stay in their records, dead).
                let number = self.header().number();
                self.postoffice(|po| po.forget_box(number, name));
                Ok(())
            }
            None => Err(self.no_such_box(name, direction)),
        }
    }

    /// Runs `f` with this task's postoffice, outside any borrow of the task.
    pub(crate) fn postoffice<R>(&self, f: impl FnOnce(&Postoffice) -> R) -> R {
        let postoffice = self.header().with_extra(|e| e.postoffice.clone());
        f(&postoffice)
    }

    pub(crate) fn add_child(self: &Rc<Self>, child: &ComponentRef) {
        if self.header().with_extra(|e| e.children.add(child)) {
            let me = Rc::downgrade(self);
            child.0.header().with_extra(|e| e.parents.push(me));
        }
    }

    pub(crate) fn remove_child(self: &Rc<Self>, child: &ComponentRef) {
        let me: Weak<dyn TaskDyn> = Rc::downgrade(self);
        self.header().with_extra(|e| {
            e.finished.retain(|c| !c.same(child));
            e.children.remove(child);
        });
        child
            .0
            .header()
            .with_extra(|e| e.parents.retain(|p| !Weak::ptr_eq(p, &me)));
        self.postoffice(|po| po.unlink_component(child));
    }

    pub(crate) fn children(&self) -> Vec<ComponentRef> {
        self.header()
            .read_extra(|e| e.children.to_vec())
            .unwrap_or_default()
    }

    pub(crate) fn panic_message(&self) -> Option<String> {
        self.header().read_extra(|e| e.panic.clone()).flatten()
    }

    pub(crate) fn remote_waker(&self) -> Option<RemoteWaker> {
        let header = self.header();
        if header.state() == State::Created {
            return None;
        }
        let scheduler = header.scheduler()?;
        Some(scheduler.remote_waker(header.slot(), header.id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::InboxNode;
    use crate::Standard;

    struct Idle;

    impl Component for Idle {
        type Boxes = Standard<u32, u32>;

        async fn main(self, _cx: Cx<Standard<u32, u32>>) {}
    }

    /// A server adds and deletes a box per connection: what it keeps for
    /// dynamic boxes must not grow with the number of connections it has had.
    #[test]
    fn deleted_dynamic_boxes_leave_nothing_behind() {
        let component = ComponentRef::new(Idle);
        let task = &component.0;
        let add = |name: &str| {
            task.add_dynamic_box(name, "", |owner, index| {
                ErasedBox(InboxNode::<u32>::new(owner, index))
            })
            .0
        };
        let kept = add("kept");
        for _ in 0..1000 {
            let name = add("conn");
            task.delete_dynamic_box(&name, Direction::Inbox).unwrap();
        }
        let (slots, names) = task
            .header()
            .read_extra(|e| (e.dynamic.slots.capacity(), e.dynamic.by_name.len()))
            .unwrap();
        assert!(slots <= 4, "{slots} slots for one box and one at a time");
        assert_eq!(names, 1, "only {kept:?} is still named");
    }
}
