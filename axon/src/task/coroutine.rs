//! The one module that touches `genawaiter`.
//!
//! genawaiter 0.99.1 is frozen (no release since 2020) and has sharp edges, all
//! of which are handled here so that nothing else in axon needs to know:
//!
//! * Only the `rc` flavour is used: it is the fastest safe one (the `stack`
//!   flavour of 0.99.1 has unsound code fixed only on an unreleased branch), and
//!   a component never leaves its scheduler's thread.
//! * The resume argument is `()`, so the "first resume argument is lost" quirk
//!   cannot bite.
//! * A finished generator is never resumed again: [`Coroutine::resume`] drops it.
//! * A body may await only axon's yields. Anything else that returns `Pending`
//!   makes genawaiter panic (its airlock still holds the resume argument, as
//!   nothing was yielded); [`explain_panic`] adds what went wrong and how to
//!   fix it.
//!   (The scheduler catches it like any other panic in a component.)
//! * Yields are written by hand as small futures ([`Yielder::yield_raw`]), so a
//!   suspended body stores a few bytes for its yield, not genawaiter's futures.
//! * What passes through genawaiter's airlock is [`Handed`], which has nothing
//!   to drop. genawaiter replaces the airlock's value twice per resume and
//!   drops the old one each time; with [`Yield`] there (whose rare variants
//!   own a list or a box) each drop was a call, 40 instructions per resume
//!   in all (callgrind, an echo round trip). The rare payloads go round the
//!   airlock instead, through [`HANDOFF`].

use std::cell::RefCell;
use std::fmt;
use std::future::Future;

use genawaiter::rc::{Co, Gen};
use genawaiter::GeneratorState;

use crate::task::yields::Yield;

/// What one resume of a coroutine produced.
pub(crate) enum Step {
    /// The body yielded this value and can be resumed again.
    Yielded(Yield),
    /// The body returned. It must not be resumed again.
    Complete,
}

/// What a body hands genawaiter when it yields: no payload, so that the
/// airlock's values need no drop.
#[derive(Clone, Copy)]
enum Handed {
    /// A plain yield ([`Yield::Continue`]), nearly every one.
    Continue,
    /// A yield whose [`Yield`] waits in [`HANDOFF`].
    Payload,
}

thread_local! {
    /// The [`Yield`] of a [`Handed::Payload`] yield, from the yield to the
    /// end of the same resume. Nothing runs in between (the body returns
    /// `Pending` right after yielding), so one slot per thread is enough.
    static HANDOFF: RefCell<Option<Yield>> = const { RefCell::new(None) };
}

/// A component's body as a resumable generator.
///
/// [`resume`](Self::resume) takes the coroutine by value when it completes, so
/// a finished generator cannot be resumed again.
pub(crate) struct Coroutine<F: Future<Output = ()>> {
    gen: Gen<Handed, (), F>,
}

impl<F: Future<Output = ()>> Coroutine<F> {
    /// Runs the body until its next yield or its end. On the end, `slot` is
    /// emptied (the body is dropped), so it is never resumed again.
    pub(crate) fn resume(slot: &mut Option<Self>) -> Option<Step> {
        let coroutine = slot.as_mut()?;
        match coroutine.gen.resume() {
            GeneratorState::Yielded(Handed::Continue) => Some(Step::Yielded(Yield::Continue)),
            GeneratorState::Yielded(Handed::Payload) => {
                let value = HANDOFF.with(|h| h.borrow_mut().take());
                Some(Step::Yielded(
                    value.expect("a payload yield stores its payload"),
                ))
            }
            GeneratorState::Complete(()) => {
                *slot = None;
                Some(Step::Complete)
            }
        }
    }
}

/// The yield half of a coroutine, kept by the task it runs in.
pub(crate) struct Yielder {
    co: Co<Handed>,
}

impl Yielder {
    /// Yields from a hand-written future: hands `value` to the scheduler; the
    /// caller must then return `Poll::Pending`, and is polled again when the
    /// body is next resumed.
    ///
    /// This is what awaiting genawaiter's `yield_` does, minus the await:
    /// `yield_` stores the value at once, and the future it returns only waits
    /// for the next resume, which is exactly when a pending future inside the
    /// body is polled again. Dropping that future leaves the resume argument
    /// (`()`) in genawaiter's airlock, where the next yield overwrites it;
    /// genawaiter accepts that in every build.
    pub(crate) fn yield_raw(&self, value: Yield) {
        if let Yield::Continue = value {
            return self.yield_continue();
        }
        HANDOFF.with(|h| *h.borrow_mut() = Some(value));
        drop(self.co.yield_(Handed::Payload));
    }

    /// [`yield_raw`](Self::yield_raw) of [`Yield::Continue`], nearly every
    /// yield: no [`Yield`] is made, so none is dropped.
    pub(crate) fn yield_continue(&self) {
        drop(self.co.yield_(Handed::Continue));
    }
}

impl fmt::Debug for Yielder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Yielder")
    }
}

/// Builds a coroutine from a body, and the yielder through which it yields.
/// The body is not run.
pub(crate) fn coroutine<F>(body: F) -> (Coroutine<F>, Yielder)
where
    F: Future<Output = ()>,
{
    let mut co = None;
    let gen = Gen::new(|c| {
        co = Some(c);
        body
    });
    let co = co.expect("genawaiter calls the producer at once");
    (Coroutine { gen }, Yielder { co })
}

/// What genawaiter says when a body returns `Pending` without having yielded
/// (its airlock still holds the resume argument): the first in debug builds,
/// the second in release builds. No other path leads there, since every axon
/// yield stores its value before returning `Pending`.
const FOREIGN_AWAIT_PANICS: [&str; 2] =
    ["resumed via a non-async method", "misused async generator"];

/// The message for a panic caught while resuming a body, explaining
/// genawaiter's panics for a body that awaited a future that is not one of
/// axon's yields.
pub(crate) fn explain_panic(message: String) -> String {
    if FOREIGN_AWAIT_PANICS.iter().any(|p| message.contains(p)) {
        format!(
            "{message}: the component awaited a future that is not an axon yield; \
             component bodies may await only axon's futures (`Cx::yield_now`, \
             `Cx::yield_`, `Cx::sleep`, `Outbox::send`), and blocking or I/O work \
             belongs in a threaded component or behind the Selector"
        )
    } else {
        message
    }
}
