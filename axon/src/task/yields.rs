//! What a body hands the scheduler when it yields, as the scheduler sees it.

use std::rc::Rc;

use crate::task::TaskDyn;

/// What a body yields.
pub(crate) enum Yield {
    /// Axon's `yield 1`: run me again next cycle unless I paused.
    Continue,
    /// Axon's `yield newComponent(...)`: activate these, then carry on.
    NewComponent(Vec<Rc<dyn TaskDyn>>),
    /// Axon's `yield WaitComplete(...)`: run this as its own microprocess and
    /// resume me after it has finished.
    WaitComplete(Box<WaitStart>),
}

/// Builds the sub-microprocess of a `WaitComplete` for the task that
/// yielded it.
pub(crate) struct WaitStart {
    pub(crate) tag: Option<String>,
    pub(crate) start: SubTaskBuilder,
}

/// Makes a `WaitComplete` sub-task, given the task it works for.
pub(crate) type SubTaskBuilder = Box<dyn FnOnce(&Rc<dyn TaskDyn>) -> Rc<dyn TaskDyn>>;
