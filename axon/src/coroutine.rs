//! The one module that touches `genawaiter`.
//!
//! genawaiter 0.99.1 is frozen (no release since 2020) and has sharp edges, all
//! of which are handled here so that nothing else in axon needs to know:
//!
//! * Only the `rc` flavour is used: it is the fastest safe one (the `stack`
//!   flavour of 0.99.1 has unsound code fixed only on an unreleased branch), and a
//!   component never leaves its scheduler's thread.
//! * The resume argument is `()`, so the "first resume argument is lost" quirk
//!   cannot bite.
//! * A finished generator is never resumed again: [`Coroutine`] remembers.
//! * A body may await only its own yields. Anything else that returns `Pending`
//!   makes genawaiter panic with "entered unreachable code". The guard below turns
//!   that into a panic that says what went wrong and how to fix it; the scheduler
//!   catches it like any other panic in a component.

use std::cell::Cell;
use std::fmt;
use std::future::Future;

use genawaiter::rc::{Co, Gen};
use genawaiter::GeneratorState;

use crate::yields::Yield;

thread_local! {
    /// Set when a body yields through axon, cleared before every resume. A body
    /// that returns `Pending` without setting it awaited a foreign future.
    static YIELDED: Cell<bool> = const { Cell::new(false) };
}

/// What one resume of a coroutine produced.
pub(crate) enum Step {
    /// The body yielded this value and can be resumed again.
    Yielded(Yield),
    /// The body returned. It must not be resumed again.
    Complete,
}

/// A type-erased, resumable component body.
pub(crate) trait Resumable {
    /// Runs the body until its next yield or its end.
    fn resume(&mut self) -> Step;
}

/// Builds a body once the task `T` that will run it exists.
pub(crate) type BodyBuilder<T> = Box<dyn FnOnce(T) -> Box<dyn Resumable>>;

/// The yield half of a coroutine, kept by the microprocess it belongs to.
pub(crate) struct Yielder {
    co: Co<Yield>,
}

impl Yielder {
    /// Suspends the running body, handing `value` to the scheduler.
    pub(crate) async fn yield_(&self, value: Yield) {
        YIELDED.with(|y| y.set(true));
        self.co.yield_(value).await
    }

    /// Yields from a hand-written future: hands `value` to the scheduler; the
    /// caller must then return `Poll::Pending`, and is polled again when the
    /// body is next resumed.
    ///
    /// This is what awaiting [`yield_`](Self::yield_) does, minus the await:
    /// genawaiter's `yield_` stores the value at once, and the future it
    /// returns only waits for the next resume, which is exactly when a pending
    /// future inside the body is polled again. Dropping that future leaves the
    /// resume argument (`()`) in genawaiter's airlock, where the next yield
    /// overwrites it; genawaiter accepts that in every build.
    pub(crate) fn yield_raw(&self, value: Yield) {
        YIELDED.with(|y| y.set(true));
        drop(self.co.yield_(value));
    }
}

impl fmt::Debug for Yielder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Yielder")
    }
}

struct Coroutine<F: Future<Output = ()>> {
    gen: Gen<Yield, (), F>,
    complete: bool,
}

impl<F: Future<Output = ()>> Resumable for Coroutine<F> {
    fn resume(&mut self) -> Step {
        assert!(!self.complete, "axon resumed a finished coroutine");
        YIELDED.with(|y| y.set(false));
        match self.gen.resume() {
            GeneratorState::Yielded(value) => Step::Yielded(value),
            GeneratorState::Complete(()) => {
                self.complete = true;
                Step::Complete
            }
        }
    }
}

/// Builds a coroutine. `producer` receives the [`Yielder`] through which the body
/// it returns will yield, and returns that body.
pub(crate) fn coroutine<P, F>(producer: P) -> Box<dyn Resumable>
where
    P: FnOnce(Yielder) -> F,
    F: Future<Output = ()> + 'static,
{
    let gen = Gen::new(move |co| guarded(producer(Yielder { co })));
    Box::new(Coroutine {
        gen,
        complete: false,
    })
}

/// Wraps a body so that awaiting anything but an axon yield fails clearly.
async fn guarded<F: Future<Output = ()>>(body: F) {
    let mut body = std::pin::pin!(body);
    std::future::poll_fn(|cx| {
        let poll = body.as_mut().poll(cx);
        if poll.is_pending() && !YIELDED.with(|y| y.get()) {
            panic!(
                "a component awaited a future that is not an axon yield; component \
                 bodies may await only `Cx` yields and the futures axon returns \
                 (blocking or I/O work belongs in a threaded component or behind \
                 the Selector)"
            );
        }
        poll
    })
    .await
}
