//! The thread's current scheduler and running microprocess.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::scheduler::Scheduler;
use crate::task::{self, TaskDyn};
use crate::yields::Yield;

thread_local! {
    /// Schedulers running on this thread, innermost last.
    static RUNNING: RefCell<Vec<Scheduler>> = const { RefCell::new(Vec::new()) };
    /// The scheduler `Scheduler::current` gives when none is running: Axon's
    /// `scheduler.run`, made on first use.
    static DEFAULT: RefCell<Option<Scheduler>> = const { RefCell::new(None) };
    /// The registry slot of the microprocess being resumed (`u32::MAX`: none).
    /// A slot, not a handle, so that marking costs no reference counting.
    static TASK: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// The running scheduler, or the thread's default one.
pub(crate) fn current_scheduler() -> Scheduler {
    if let Some(s) = RUNNING.with(|r| r.borrow().last().cloned()) {
        return s;
    }
    DEFAULT.with(|d| d.borrow_mut().get_or_insert_with(Scheduler::new).clone())
}

/// Marks a scheduler as running on this thread until the guard drops.
pub(crate) struct Running(());

pub(crate) fn enter(scheduler: &Scheduler) -> Running {
    RUNNING.with(|r| r.borrow_mut().push(scheduler.clone()));
    Running(())
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|r| r.borrow_mut().pop());
    }
}

/// Marks a task as the one being resumed until the guard drops.
pub(crate) struct Resuming(u32);

pub(crate) fn resuming(task: &Rc<dyn TaskDyn>) -> Resuming {
    Resuming(TASK.with(|t| t.replace(task.header().slot())))
}

impl Drop for Resuming {
    fn drop(&mut self) {
        let _ = TASK.try_with(|t| t.set(self.0));
    }
}

/// Pauses the running microprocess and yields it from a hand-written future,
/// which must then return `Poll::Pending`: what [`Outbox::send`] does while it
/// waits for room in an inbox.
///
/// [`Outbox::send`]: crate::Outbox::send
pub(crate) fn pause_and_yield_raw() {
    let task = RUNNING
        .with(|r| r.borrow().last().cloned())
        .and_then(|scheduler| scheduler.task_in_slot(TASK.with(Cell::get)))
        .expect("axon: `Outbox::send` was awaited outside a component's body");
    task::pause(&task);
    task.header().yielder().yield_raw(Yield::Continue);
}
