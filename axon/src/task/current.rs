//! The microprocess being resumed on this thread, for the futures that pause
//! and yield it (a send waiting for room, a receive waiting for a message).

use std::cell::RefCell;
use std::rc::Rc;

use crate::task::{pause, TaskDyn};

thread_local! {
    /// The microprocess being resumed, if any. Nested schedulers save and
    /// restore it.
    static RUNNING: RefCell<Option<Rc<dyn TaskDyn>>> = const { RefCell::new(None) };
}

/// Marks a task as the one being resumed until the guard drops.
pub(crate) struct Resuming(Option<Rc<dyn TaskDyn>>);

pub(crate) fn resuming(task: &Rc<dyn TaskDyn>) -> Resuming {
    Resuming(RUNNING.with(|r| r.replace(Some(task.clone()))))
}

impl Drop for Resuming {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = RUNNING.try_with(|r| r.replace(previous));
    }
}

/// Pauses the running microprocess and yields it from a hand-written future,
/// which must then return `Poll::Pending`.
///
/// # Panics
///
/// If no component body is being resumed on this thread: the future was
/// awaited outside a body.
pub(crate) fn pause_and_yield() {
    let task = RUNNING
        .with(|r| r.borrow().clone())
        .expect("axon: a box's future was awaited outside a component's body");
    pause(&task);
    task.header().yielder().yield_continue();
}
