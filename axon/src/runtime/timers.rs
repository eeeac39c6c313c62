//! [`Timers`]: the deadlines at which sleeping microprocesses are to be woken.

use std::cell::{Cell, RefCell};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::rc::{Rc, Weak};
use std::time::Instant;

use crate::task::TaskDyn;

/// A scheduler's timers, soonest first. A timer holds its microprocess
/// weakly: one that has finished is simply not woken.
#[derive(Default)]
pub(crate) struct Timers {
    heap: RefCell<BinaryHeap<Reverse<Timer>>>,
    /// Orders timers with the same deadline by when they were set.
    next_seq: Cell<u64>,
}

struct Timer {
    deadline: Instant,
    seq: u64,
    task: Weak<dyn TaskDyn>,
}

impl Timers {
    /// Arranges for `task` to be woken at `deadline`.
    pub(crate) fn add(&self, deadline: Instant, task: &Rc<dyn TaskDyn>) {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        self.heap.borrow_mut().push(Reverse(Timer {
            deadline,
            seq,
            task: Rc::downgrade(task),
        }));
    }

    /// Takes the soonest timer if it is due at `now`: `Ok` with its task (if
    /// that still exists), or `Err` with the next deadline (if any) when none
    /// is due.
    pub(crate) fn pop_due(&self, now: Instant) -> Result<Option<Rc<dyn TaskDyn>>, Option<Instant>> {
        let mut heap = self.heap.borrow_mut();
        match heap.peek() {
            Some(Reverse(t)) if t.deadline <= now => {
                Ok(heap.pop().and_then(|Reverse(t)| t.task.upgrade()))
            }
            Some(Reverse(t)) => Err(Some(t.deadline)),
            None => Err(None),
        }
    }

    /// Forgets every timer.
    pub(crate) fn clear(&self) {
        self.heap.borrow_mut().clear();
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}
