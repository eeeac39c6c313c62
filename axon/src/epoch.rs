//! The thread's *epoch*: a counter that tells a box whether a wake it did is
//! still in effect. A leaf: it imports nothing of axon's.
//!
//! # What it means
//!
//! Every scheduler on the thread advances the epoch twice per cycle: once when
//! it has granted the cycle's pause requests, and once when its end-of-cycle
//! wait for wakes is over. Between two advances, a wake has the same effect
//! however often it is repeated: the woken component is already due to run (or
//! its pause request is already overridden). So a box that stamps the epoch in
//! which it woken someone may skip further wakes until the epoch moves.
//!
//! # What cannot happen
//!
//! * The epoch never goes backwards, and never repeats (a `u64` at one advance
//!   per nanosecond lasts five centuries).
//! * A stamp left by a past epoch is never mistaken for the current one, so the
//!   worst a stale stamp causes is one more (harmless) wake.
//!
//! Several schedulers on one thread share the epoch; each advance is then
//! merely an extra, harmless, slow-path wake for the boxes of the others.

use std::cell::Cell;

thread_local! {
    static EPOCH: Cell<u64> = const { Cell::new(0) };
}

/// An epoch no cycle has: the stamp of a box that has woken no one yet.
pub(crate) const NEVER: u64 = u64::MAX;

/// The thread's current epoch.
#[inline(always)]
pub(crate) fn epoch() -> u64 {
    EPOCH.with(Cell::get)
}

/// Moves the thread to a new epoch: wakes done before now may need doing again.
pub(crate) fn advance_epoch() {
    EPOCH.with(|e| {
        let next = e.get() + 1;
        debug_assert_ne!(next, NEVER, "the epoch ran out");
        e.set(next);
    });
}
