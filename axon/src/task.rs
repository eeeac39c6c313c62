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
use std::rc::{Rc, Weak};

use crate::box_set::{
    clean_doc, BoxDecl, BoxInfo, BoxOwner, BoxSet, Direction, ErasedBox, NoBoxes,
};
use crate::component::{Component, Cx};
use crate::component_ref::{kind_of, ComponentId, ComponentRef};
use crate::coroutine::{coroutine, BodyBuilder, Resumable, Step, Yielder};
use crate::error::{BoxError, LinkError, LinkErrorKind};
use crate::postoffice::Postoffice;
use crate::remote::RemoteWaker;
use crate::scheduler::SchedShared;
use crate::yields::WaitStart;

/// Where a microprocess is in its life. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Created,
    Active,
    Sleeping,
    Waiting,
    Finished,
}

/// The non-generic part of every task.
pub(crate) struct Header {
    id: ComponentId,
    state: Cell<State>,
    pause_requested: Cell<bool>,
    stop_requested: Cell<bool>,
    woken_at: Cell<u32>,
    slot: Cell<u32>,
    scheduler: OnceCell<Weak<SchedShared>>,
    yielder: OnceCell<Yielder>,
    extra: RefCell<Option<Box<Extra>>>,
}

/// What few tasks need, allocated on first use.
#[derive(Default)]
struct Extra {
    children: Vec<ComponentRef>,
    parents: Vec<Weak<dyn TaskDyn>>,
    postoffice: Rc<Postoffice>,
    dynamic: Vec<Option<DynamicBox>>,
    /// The `WaitComplete` sub-task this task is waiting for.
    waiting_on: Option<Rc<dyn TaskDyn>>,
    /// For a `WaitComplete` sub-task: the task to resume when it finishes.
    resume_after: Option<Weak<dyn TaskDyn>>,
    panic: Option<String>,
}

struct DynamicBox {
    name: String,
    doc: String,
    node: ErasedBox,
}

impl Header {
    fn new(id: ComponentId) -> Self {
        Header {
            id,
            state: Cell::new(State::Created),
            pause_requested: Cell::new(false),
            stop_requested: Cell::new(false),
            woken_at: Cell::new(u32::MAX),
            slot: Cell::new(u32::MAX),
            scheduler: OnceCell::new(),
            yielder: OnceCell::new(),
            extra: RefCell::new(None),
        }
    }

    pub(crate) fn id(&self) -> ComponentId {
        self.id
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

    pub(crate) fn set_yielder(&self, yielder: Yielder) {
        let fresh = self.yielder.set(yielder).is_ok();
        debug_assert!(fresh, "a task's body was built twice");
    }

    pub(crate) fn yielder(&self) -> &Yielder {
        self.yielder
            .get()
            .expect("axon: yield from a component whose body has not started")
    }

    fn with_extra<R>(&self, f: impl FnOnce(&mut Extra) -> R) -> R {
        let mut extra = self.extra.borrow_mut();
        f(extra.get_or_insert_with(Default::default))
    }

    fn read_extra<R>(&self, f: impl FnOnce(&Extra) -> R) -> Option<R> {
        self.extra.borrow().as_deref().map(f)
    }

    pub(crate) fn waiting_on(&self) -> Option<Rc<dyn TaskDyn>> {
        self.read_extra(|e| e.waiting_on.clone()).flatten()
    }

    pub(crate) fn set_waiting_on(&self, sub: Option<Rc<dyn TaskDyn>>) {
        self.with_extra(|e| e.waiting_on = sub);
    }

    pub(crate) fn take_resume_after(&self) -> Option<Rc<dyn TaskDyn>> {
        self.extra
            .borrow_mut()
            .as_mut()
            .and_then(|e| e.resume_after.take())
            .and_then(|w| w.upgrade())
    }

    pub(crate) fn take_parents(&self) -> Vec<Rc<dyn TaskDyn>> {
        self.extra
            .borrow_mut()
            .as_mut()
            .map(|e| std::mem::take(&mut e.parents))
            .unwrap_or_default()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    pub(crate) fn set_panic(&self, message: String) {
        self.with_extra(|e| e.panic = Some(message));
    }

    pub(crate) fn postoffice_if_any(&self) -> Option<Rc<Postoffice>> {
        self.read_extra(|e| e.postoffice.clone())
    }
}

/// A task with its message type erased: what the scheduler and the boxes hold.
pub(crate) trait TaskDyn {
    fn header(&self) -> &Header;
    fn declared(&self) -> &'static [BoxDecl];
    fn declared_box(&self, index: usize) -> Option<ErasedBox>;
    /// Builds the body's coroutine. Called once, at activation.
    fn start(self: Rc<Self>);
    /// Runs the body to its next yield; `None` if it has no running body.
    fn resume(&self) -> Option<Step>;
    /// Takes the body out, so that it can be dropped outside any borrow.
    fn take_body(&self) -> Option<Box<dyn Resumable>>;
}

enum Body<B> {
    Unstarted(BodyBuilder<Rc<Task<B>>>),
    Running(Box<dyn Resumable>),
    Done,
}

/// A component: its header, its boxes, its body.
pub(crate) struct Task<B> {
    header: Header,
    boxes: B,
    body: RefCell<Body<B>>,
}

impl<B> Task<B> {
    pub(crate) fn boxes(&self) -> &B {
        &self.boxes
    }
}

impl<B: BoxSet> TaskDyn for Task<B> {
    fn header(&self) -> &Header {
        &self.header
    }

    fn declared(&self) -> &'static [BoxDecl] {
        B::BOXES
    }

    fn declared_box(&self, index: usize) -> Option<ErasedBox> {
        self.boxes.erased(index)
    }

    fn start(self: Rc<Self>) {
        let body = std::mem::replace(&mut *self.body.borrow_mut(), Body::Done);
        let running = match body {
            Body::Unstarted(start) => Body::Running(start(self.clone())),
            other => other,
        };
        *self.body.borrow_mut() = running;
    }

    fn resume(&self) -> Option<Step> {
        match &mut *self.body.borrow_mut() {
            Body::Running(body) => Some(body.resume()),
            _ => None,
        }
    }

    fn take_body(&self) -> Option<Box<dyn Resumable>> {
        match std::mem::replace(&mut *self.body.borrow_mut(), Body::Done) {
            Body::Running(body) => Some(body),
            _ => None,
        }
    }
}

/// Makes the task for a component: its boxes now, its body at activation.
pub(crate) fn new_task<C: Component>(component: C) -> Rc<dyn TaskDyn> {
    let task: Rc<Task<C::Boxes>> = Rc::new_cyclic(|weak: &Weak<Task<C::Boxes>>| {
        let owner = BoxOwner { task: weak.clone() };
        Task {
            header: Header::new(ComponentId::next(kind_of::<C>())),
            boxes: C::Boxes::create(&owner),
            body: RefCell::new(Body::Unstarted(Box::new(
                move |task: Rc<Task<C::Boxes>>| {
                    let runner: Rc<dyn TaskDyn> = task.clone();
                    coroutine(move |yielder| {
                        runner.header().set_yielder(yielder);
                        component.main(Cx::new(task, runner))
                    })
                },
            ))),
        }
    });
    task
}

/// Makes the task that runs a `WaitComplete` sub-body for `parent`.
pub(crate) fn new_sub_task(parent: &Rc<dyn TaskDyn>, wait: WaitStart) -> Rc<dyn TaskDyn> {
    let start = wait.start;
    let task: Rc<Task<NoBoxes>> = Rc::new(Task {
        header: Header::new(ComponentId::next("WaitComplete")),
        boxes: NoBoxes {},
        body: RefCell::new(Body::Unstarted(Box::new(move |task: Rc<Task<NoBoxes>>| {
            start(task)
        }))),
    });
    task.header
        .with_extra(|e| e.resume_after = Some(Rc::downgrade(parent)));
    if let Some(tag) = wait.tag {
        tracing::debug!(target: "axon::scheduler", sub = %task.header.id, %tag, "WaitComplete started");
    }
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
pub(crate) fn pause(task: &Rc<dyn TaskDyn>) {
    let header = task.header();
    if header.state() != State::Active || header.pause_requested.replace(true) {
        return;
    }
    if let Some(scheduler) = header.scheduler() {
        scheduler.push_pause(task.clone());
    } else {
        header.pause_requested.set(false);
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
            .ok_or_else(|| BoxError::NoSuchBox {
                component: self.header().id(),
                direction,
                name: name.to_string(),
                available: self
                    .box_infos(direction)
                    .into_iter()
                    .map(|b| b.name)
                    .collect(),
            })
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
                e.dynamic.iter().flatten().find_map(|b| {
                    (b.name == name && b.node.0.direction() == direction).then(|| b.node.clone())
                })
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
                .read_extra(|e| {
                    e.dynamic
                        .get(i)
                        .and_then(|b| b.as_ref().map(|b| b.name.clone()))
                })
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
                .flatten()
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
                    .flatten()
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
            name = format!(
                "{wanted}{}",
                crate::component_ref::ComponentId::next("box").number()
            );
        }
        let index = self.declared().len() + self.header().with_extra(|e| e.dynamic.len());
        let node = make(Rc::downgrade(self), index as u32);
        let entry = DynamicBox {
            name: name.clone(),
            doc: clean_doc(doc),
            node: node.clone(),
        };
        self.header().with_extra(|e| e.dynamic.push(Some(entry)));
        (name, node)
    }

    /// Deletes a box added at run time. Messages in it are lost, as in Axon.
    pub(crate) fn delete_dynamic_box(
        &self,
        name: &str,
        direction: Direction,
    ) -> Result<(), BoxError> {
        let removed = self.header().with_extra(|e| {
            e.dynamic
                .iter_mut()
                .find(|b| {
                    b.as_ref()
                        .is_some_and(|b| b.name == name && b.node.0.direction() == direction)
                })
                .and_then(Option::take)
        });
        match removed {
            Some(_) => Ok(()),
            None => Err(BoxError::NoSuchBox {
                component: self.header().id(),
                direction,
                name: name.to_string(),
                available: self
                    .box_infos(direction)
                    .into_iter()
                    .map(|b| b.name)
                    .collect(),
            }),
        }
    }

    /// Runs `f` with this task's postoffice, outside any borrow of the task.
    pub(crate) fn postoffice<R>(&self, f: impl FnOnce(&Postoffice) -> R) -> R {
        let postoffice = self.header().with_extra(|e| e.postoffice.clone());
        f(&postoffice)
    }

    pub(crate) fn add_child(self: &Rc<Self>, child: &ComponentRef) {
        let me = Rc::downgrade(self);
        child.0.header().with_extra(|e| e.parents.push(me));
        self.header().with_extra(|e| e.children.push(child.clone()));
    }

    pub(crate) fn remove_child(self: &Rc<Self>, child: &ComponentRef) {
        let me: Weak<dyn TaskDyn> = Rc::downgrade(self);
        self.header()
            .with_extra(|e| e.children.retain(|c| !c.same(child)));
        child
            .0
            .header()
            .with_extra(|e| e.parents.retain(|p| !Weak::ptr_eq(p, &me)));
        self.postoffice(|po| po.unlink_component(child));
    }

    pub(crate) fn children(&self) -> Vec<ComponentRef> {
        self.header()
            .read_extra(|e| e.children.clone())
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
