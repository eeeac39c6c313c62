//! A test rig: one component under test on a scheduler of its own, its
//! `outbox` and `signal` linked to a sink that is never activated, so what it
//! sends stays queued there for the test to read.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon::ipc::Ipc;
use axon::{from_fn, Component, ComponentRef, Cx, Scheduler, Standard};

/// A guard against a hang, not a way of waiting.
const HANG_GUARD: Duration = Duration::from_secs(30);

pub(crate) struct Rig<I, O> {
    pub(crate) scheduler: Scheduler,
    pub(crate) component: ComponentRef,
    sink: ComponentRef,
    types: PhantomData<fn(I) -> O>,
}

impl<I: 'static, O: 'static> Rig<I, O> {
    /// `component`, activated, with its output linked to the sink.
    pub(crate) fn new<C: Component<Boxes = Standard<I, O>>>(component: C) -> Self {
        let scheduler = Scheduler::new();
        let component = ComponentRef::new(component);
        let sink = ComponentRef::new(from_fn(|_: Cx<Standard<O, ()>>| async {}));
        component
            .link((&component, "outbox"), (&sink, "inbox"))
            .and_then(|_| component.link((&component, "signal"), (&sink, "control")))
            .expect("linked");
        component.activate_on(&scheduler);
        Rig {
            scheduler,
            component,
            sink,
            types: PhantomData,
        }
    }

    pub(crate) fn put(&self, message: I) {
        let inbox = self.component.inbox::<I>("inbox").expect("an inbox");
        inbox.deliver(message).expect("delivered");
    }

    pub(crate) fn control(&self, message: Ipc) {
        let control = self.component.inbox::<Ipc>("control").expect("control");
        control.deliver(message).expect("delivered");
    }

    /// Runs until the component has finished (the scheduler sleeping
    /// through its timers).
    pub(crate) fn run(&self) {
        self.scheduler.run().expect("ran");
        assert!(self.component.is_finished());
    }

    /// Runs cycles until `done` holds.
    pub(crate) fn cycle_until(&self, mut done: impl FnMut(&Self) -> bool) {
        let guard = Instant::now() + HANG_GUARD;
        while !done(self) {
            assert!(self.scheduler.run_cycle(), "the component ended first");
            assert!(Instant::now() < guard, "never happened");
        }
    }

    /// Holds at most `size` messages from `outbox`: the component is held
    /// back until the test takes them.
    pub(crate) fn bound_output(&self, size: usize) {
        let inbox = self.sink.inbox::<O>("inbox").expect("inbox");
        inbox.set_size(Some(size));
    }

    /// Everything sent out of `outbox` since the last call.
    pub(crate) fn take(&self) -> Vec<O> {
        self.sink
            .inbox::<O>("inbox")
            .expect("inbox")
            .drain()
            .collect()
    }

    /// How much waits, sent out of `outbox` and not yet taken.
    pub(crate) fn waiting(&self) -> usize {
        self.sink.inbox_len("inbox").expect("inbox")
    }

    /// Everything sent out of `signal` since the last call.
    pub(crate) fn signals(&self) -> Vec<Ipc> {
        let control = self.sink.inbox::<Ipc>("control").expect("control");
        control.drain().collect()
    }
}
