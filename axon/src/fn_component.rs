//! [`from_fn`]: a component whose body is a closure.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use crate::boxes::BoxSet;
use crate::component::{Component, Cx};

/// Makes a component whose body is `body`: for a one-off behaviour that needs
/// no configuration struct of its own.
///
/// The component's boxes are the `B` of the closure's `Cx<B>` argument, so
/// annotate it (`|cx: Cx<Standard<u32, u32>>|`). Like any component, the
/// result is made into a running one with [`ComponentRef::new`] or
/// [`Component::activate`]; what the closure captures is its configuration.
///
/// [`ComponentRef::new`]: crate::ComponentRef::new
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
/// use axon::ipc::ProducerFinished;
/// use std::{cell::RefCell, rc::Rc};
///
/// let scheduler = Scheduler::current();
/// let producer = ComponentRef::new(axon::from_fn(|cx: Cx<Standard<(), u32>>| async move {
///     for n in 1..=3 {
///         cx.outbox.send(n).await;
///         cx.yield_now().await;
///     }
///     cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
/// }));
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let log = seen.clone();
/// let consumer = axon::from_fn(move |cx: Cx<Standard<u32, ()>>| async move {
///     while let Some(n) = cx.recv_until_finished().await {
///         log.borrow_mut().push(n * 2);
///     }
/// });
/// let consumer = consumer.activate(); // on the current scheduler
/// producer.link((&producer, "outbox"), (&consumer, "inbox"))?;
/// producer.link((&producer, "signal"), (&consumer, "control"))?;
/// producer.activate_on(&scheduler);
/// scheduler.run()?;
/// assert_eq!(*seen.borrow(), [2, 4, 6]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_fn<B, F, Fut>(body: F) -> FnComponent<B, F>
where
    B: BoxSet,
    F: FnOnce(Cx<B>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    FnComponent {
        body,
        boxes: PhantomData,
    }
}

/// A component whose body is a closure, with boxes `B`: made by [`from_fn`].
///
/// # Examples
///
/// ```
/// use axon::{Component, Cx, FnComponent, Scheduler, Standard};
/// use std::{cell::Cell, rc::Rc};
///
/// let ran = Rc::new(Cell::new(false));
/// let flag = ran.clone();
/// type Body = Standard<(), ()>;
/// let component: FnComponent<Body, _> = axon::from_fn(move |cx: Cx<Body>| async move {
///     cx.yield_now().await;
///     flag.set(true);
/// });
/// assert!(format!("{component:?}").starts_with("FnComponent"));
/// # Scheduler::current().set_fail_fast(true);
/// component.run()?; // on the current scheduler, until it ends
/// assert!(ran.get());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FnComponent<B, F> {
    body: F,
    boxes: PhantomData<fn() -> B>,
}

impl<B, F, Fut> Component for FnComponent<B, F>
where
    B: BoxSet,
    F: FnOnce(Cx<B>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    type Boxes = B;

    fn main(self, cx: Cx<B>) -> impl Future<Output = ()> + 'static {
        (self.body)(cx)
    }
}

impl<B, F> fmt::Debug for FnComponent<B, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnComponent")
            .field("boxes", &std::any::type_name::<B>())
            .finish_non_exhaustive()
    }
}
