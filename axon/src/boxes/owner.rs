//! [`Owner`]: the one thing the box layer knows about the components that own
//! boxes. The task layer implements it; boxes call through it to wake their
//! owners, name themselves, and suspend a body waiting for room.

use std::any::Any;
use std::borrow::Cow;
use std::rc::{Rc, Weak};

use crate::error::BoxLabel;
use crate::id::{ComponentId, Direction};

/// What a box needs from the component that owns it.
pub(crate) trait Owner {
    /// The owner's identity, for labels and errors.
    fn id(&self) -> ComponentId;

    /// The name of the owner's box at `index` (declared or added at run time).
    fn box_name(&self, index: u32) -> Cow<'static, str>;

    /// Wakes the owner: Axon's `unpause`. Idempotent within a cycle.
    fn wake(self: Rc<Self>);

    /// Pauses the microprocess running right now and yields it; the caller, a
    /// hand-written future, must then return `Poll::Pending`. (Not necessarily
    /// this owner: a `WaitComplete` sub-body runs on its parent's boxes.)
    ///
    /// # Panics
    ///
    /// If no component body is running on this thread.
    fn pause_and_yield_running(&self);

    /// Whatever runs the owner (its scheduler), opaque to this layer, for the
    /// runtime to attach cross-thread senders to its boxes. `None` until the
    /// owner is activated.
    fn host(&self) -> Option<Rc<dyn Any>>;
}

/// Names box `index` of `owner`, or says the owner is gone.
pub(crate) fn label_of(owner: &Weak<dyn Owner>, direction: Direction, index: u32) -> BoxLabel {
    match owner.upgrade() {
        Some(owner) => BoxLabel {
            component: Some(owner.id()),
            direction,
            name: owner.box_name(index),
        },
        None => BoxLabel {
            component: None,
            direction,
            name: Cow::Owned(format!("#{index}")),
        },
    }
}
