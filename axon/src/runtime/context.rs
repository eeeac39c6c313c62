//! The thread's current scheduler: the one running, or the thread's default.

use std::cell::RefCell;

use crate::runtime::scheduler::Scheduler;

thread_local! {
    /// Schedulers running on this thread, innermost last.
    static RUNNING: RefCell<Vec<Scheduler>> = const { RefCell::new(Vec::new()) };
    /// The scheduler `Scheduler::current` gives when none is running: Axon's
    /// `scheduler.run`, made on first use.
    static DEFAULT: RefCell<Option<Scheduler>> = const { RefCell::new(None) };
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
