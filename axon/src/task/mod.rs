//! The task layer: the scheduler's record of one microprocess (its
//! [`Header`](state::Header), its boxes and its body), and the rules for
//! waking and pausing it.
//!
//! It sits on the box layer, which it reaches as the boxes' [`Owner`], and
//! reaches whatever runs it only through the [`Host`] trait, which the
//! runtime's scheduler implements.

pub(crate) mod coroutine;
pub(crate) mod current;
pub(crate) mod dynamic;
pub(crate) mod family;
pub(crate) mod resources;
pub(crate) mod state;
pub(crate) mod yields;

use std::any::Any;
use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use crate::boxes::graph::AnyBox;
use crate::boxes::linkage::{named_as, named_by, remember_ends_at, SharedBook};
use crate::boxes::owner::Owner;
use crate::boxes::{clean_doc, BoxDecl, BoxInfo, BoxOwner, BoxSet, ErasedBox};
use crate::error::{BoxError, LinkError, LinkErrorKind};
use crate::id::{ComponentId, Direction};
use crate::task::coroutine::{coroutine, Coroutine, Step};
use crate::task::dynamic::DynamicBox;
pub(crate) use crate::task::state::{Header, State};

/// Numbers appended to a dynamic box's name when the wanted one is taken
/// (Axon appends an id the same way).
static NEXT_BOX: AtomicU64 = AtomicU64::new(1);

/// What runs tasks, as the task layer sees it: the runtime's scheduler.
pub(crate) trait Host {
    /// The number of the cycle a wake now counts for.
    fn clock(&self) -> u32;
    /// Queues a task woken from sleep to join the run queue.
    fn push_wake(&self, task: Rc<dyn TaskDyn>);
    /// The host itself, for the runtime to recover its own type.
    fn as_any(self: Rc<Self>) -> Rc<dyn Any>;
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
    /// The task as the owner of its boxes.
    fn as_owner(self: Rc<Self>) -> Rc<dyn Owner>;
}

/// A component: its header, its boxes, its body (the generator running its
/// `main`, stored inline, until it finishes).
pub(crate) struct Task<B: BoxSet, F: Future<Output = ()> + 'static> {
    header: Header,
    boxes: B,
    body: RefCell<Option<Coroutine<F>>>,
}

/// A task names its boxes (see [`Owner::box_name`]), and a linkage names its
/// ends through them only when asked: so the linkages that can still be
/// seen, with one of its boxes at an end, take their names as it goes.
impl<B: BoxSet, F: Future<Output = ()> + 'static> Drop for Task<B, F> {
    fn drop(&mut self) {
        let me: &dyn Owner = &*self;
        let named = named_by(me);
        for index in 0..B::BOXES.len() {
            if let Some(node) = self.boxes.erased(index) {
                remember_ends_at(&node.0, &named);
            }
        }
        self.header.read_extra(|e| {
            for dynamic in e.dynamic.get().into_iter().flat_map(|d| d.iter()) {
                remember_ends_at(&dynamic.node.0, &named);
            }
        });
    }
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

    fn as_owner(self: Rc<Self>) -> Rc<dyn Owner> {
        self
    }
}

impl<B: BoxSet, F: Future<Output = ()> + 'static> Owner for Task<B, F> {
    fn id(&self) -> ComponentId {
        self.header.id()
    }

    fn box_name(&self, index: u32) -> Cow<'static, str> {
        (self as &dyn TaskDyn).box_name(index)
    }

    fn wake(self: Rc<Self>) {
        let task: Rc<dyn TaskDyn> = self;
        wake(&task);
    }

    fn pause_and_yield_running(&self) {
        current::pause_and_yield();
    }

    fn host(&self) -> Option<Rc<dyn Any>> {
        self.header.scheduler().map(Host::as_any)
    }
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
        let owner: Weak<dyn Owner> = weak.clone();
        let boxes = make_boxes(&BoxOwner { owner });
        let (body, yielder) = coroutine(make_body(boxes.clone(), weak.clone()));
        Task {
            header: Header::new(ComponentId::next(kind()), yielder),
            boxes,
            body: RefCell::new(Some(body)),
        }
    });
    task
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

    /// True if there is a box of that name and direction.
    pub(crate) fn has_box(&self, name: &str, direction: Direction) -> bool {
        self.lookup(name, direction).is_some()
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
                    .get()?
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
                .read_extra(|e| e.dynamic.get()?.slots.get(i).map(|b| b.name.clone()))
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
        if let Some(Some(dynamic)) = self.header().read_extra(|e| {
            let dynamic = e.dynamic.get()?;
            dynamic
                .iter()
                .filter(|b| b.node.0.direction() == direction)
                .map(|b| BoxInfo {
                    name: b.name.clone(),
                    doc: b.doc.clone(),
                    direction,
                    type_name: b.node.0.type_name(),
                })
                .collect::<Vec<_>>()
                .into()
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
                    .get()?
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
        make: impl FnOnce(Weak<dyn Owner>, u32) -> ErasedBox,
    ) -> (String, ErasedBox) {
        let direction_taken = |name: &str| {
            self.lookup(name, Direction::Inbox).is_some()
                || self.lookup(name, Direction::Outbox).is_some()
        };
        let mut name = wanted.to_string();
        while direction_taken(&name) {
            name = format!("{wanted}{}", NEXT_BOX.fetch_add(1, AtomicOrdering::Relaxed));
        }
        let owner = Rc::downgrade(&self.clone().as_owner());
        let declared = self.declared().len();
        let node = self.header().with_extra(|e| {
            let dynamic = e.dynamic.get_mut();
            let vacant = dynamic.slots.vacant_entry();
            let slot = vacant.key();
            let node = make(owner, (declared + slot) as u32);
            vacant.insert(DynamicBox {
                name: name.clone(),
                doc: clean_doc(doc),
                node: node.clone(),
            });
            dynamic.by_name.insert(name.clone(), slot);
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
        let (removed, resource) = self.header().with_extra(|e| {
            let removed = e
                .dynamic
                .existing_mut()
                .and_then(|d| d.remove(name, direction));
            // A resource tracked on a deleted inbox goes with it, so that a
            // box later given the same name starts untracked.
            let resource = match (&removed, direction) {
                (Some(_), Direction::Inbox) => e
                    .resources
                    .existing_mut()
                    .and_then(|r| r.by_inbox.remove(name)),
                _ => None,
            };
            (removed, resource)
        });
        // Dropped outside the borrow: a resource's drop may use this task.
        drop(resource);
        match removed {
            Some(entry) => {
                // Named now: once out of the table, its number names nothing
                // (or another box, when the slot is taken again).
                remember_ends_at(
                    &entry.node.0,
                    &named_as(&entry.node.0, self.header().id(), &entry.name),
                );
                crate::boxes::graph::detach(&entry.node.0);
                // The owner's own record of those links goes too (links that
                // other components made stay in their records, dead).
                let forgotten = self.book().borrow_mut().take_boxes([&entry.node.0]);
                // Dropped outside the borrow: a linkage may hold the last
                // handle on a box.
                drop(forgotten);
                Ok(())
            }
            None => Err(self.no_such_box(name, direction)),
        }
    }

    /// Every box, declared and dynamic.
    pub(crate) fn boxes(&self) -> Vec<Rc<dyn AnyBox>> {
        let mut boxes: Vec<Rc<dyn AnyBox>> = (0..self.declared().len())
            .filter_map(|i| self.declared_box(i).map(|b| b.0))
            .collect();
        self.header().read_extra(|e| {
            let dynamic = e.dynamic.get().into_iter().flat_map(|d| d.iter());
            boxes.extend(dynamic.map(|b| b.node.0.clone()))
        });
        boxes
    }

    /// The book of the linkages this task's postoffice has made.
    pub(crate) fn book(&self) -> SharedBook {
        self.header()
            .with_extra(|e| e.book.get_or_insert_with(Default::default).clone())
    }

    pub(crate) fn add_child(self: &Rc<Self>, child: &Rc<dyn TaskDyn>) {
        if self
            .header()
            .with_extra(|e| e.children.get_mut().add(child))
        {
            let me: Weak<dyn TaskDyn> = Rc::downgrade(self);
            child.header().add_parent(me);
        }
    }

    /// Forgets `child`, and removes the linkages this task made involving it.
    pub(crate) fn remove_child(self: &Rc<Self>, child: &Rc<dyn TaskDyn>) {
        let me: Weak<dyn TaskDyn> = Rc::downgrade(self);
        self.header().with_extra(|e| {
            if let Some(children) = e.children.existing_mut() {
                children.remove(child);
            }
            // Only a finished child can be in the list of those finished.
            if child.header().state() == State::Finished {
                e.forget_finished(child);
            }
        });
        child.header().remove_parent(&me);
        // A parent that has made no linkages (a TcpServer, whose adapters
        // are wired by no one) has none to remove: the child's boxes are
        // not gathered, which was half the cost of removing a child.
        let Some(book) = self.header().book_if_any() else {
            return;
        };
        if book.borrow().is_empty() {
            return;
        }
        let removed = book.borrow_mut().take_boxes(&child.boxes());
        // Disengaged outside the borrow: unlinking may drop boxes, and with
        // them anything their messages own.
        for linkage in removed {
            linkage.disengage();
        }
    }

    /// The child whose component number is `number`, if it is one.
    pub(crate) fn child(&self, number: u64) -> Option<Rc<dyn TaskDyn>> {
        self.header()
            .read_extra(|e| e.children.get().and_then(|c| c.get(number).cloned()))
            .flatten()
    }

    /// How many children this task has.
    pub(crate) fn child_count(&self) -> usize {
        self.header()
            .read_extra(|e| e.children.get().map_or(0, family::Children::len))
            .unwrap_or(0)
    }

    pub(crate) fn children(&self) -> Vec<Rc<dyn TaskDyn>> {
        self.header()
            .read_extra(|e| e.children.get().map(|c| c.to_vec()))
            .flatten()
            .unwrap_or_default()
    }

    pub(crate) fn panic_message(&self) -> Option<String> {
        self.header().read_extra(|e| e.panic.clone()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boxes::inbox::InboxNode;
    use crate::{Component, ComponentRef, Cx, Standard};

    struct Idle;

    impl Component for Idle {
        type Boxes = Standard<u32, u32>;

        async fn main(self, _cx: Cx<Self::Boxes>) {}
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
            .read_extra(|e| {
                e.dynamic
                    .get()
                    .map(|d| (d.slots.capacity(), d.by_name.len()))
            })
            .flatten()
            .unwrap();
        assert!(slots <= 4, "{slots} slots for one box and one at a time");
        assert_eq!(names, 1, "only {kept:?} is still named");
    }
}
