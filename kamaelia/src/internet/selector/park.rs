//! [`SelectorPark`]: the scheduler's idle wait, when a Selector is in use.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use axon::{Park, Unparker};

use super::core::SelectorCore;

/// The scheduler's idle wait, when a Selector is in use: the poller. When no
/// component is runnable the scheduler waits here, and readiness is delivered
/// to the components' inboxes from here.
pub(super) struct SelectorPark {
    core: Rc<SelectorCore>,
}

impl SelectorPark {
    pub(super) fn new(core: Rc<SelectorCore>) -> Self {
        SelectorPark { core }
    }
}

impl Park for SelectorPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.core.park(timeout)
    }

    fn unparker(&self) -> Unparker {
        let notifier = self.core.poller.borrow().notifier();
        Unparker::new(move || notifier.notify())
    }
}
