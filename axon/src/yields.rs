//! The values a component's body can hand to the scheduler when it yields.

use std::fmt;
use std::future::Future;
use std::rc::Rc;

use crate::boxes::{BoxSet, NoBoxes};
use crate::component::Cx;
use crate::component_ref::ComponentRef;
use crate::task::yields::{WaitStart, Yield};
use crate::task::{build_task, TaskDyn};

/// Makes the task that runs a `WaitComplete` sub-body for `parent`, sharing
/// its boxes.
fn new_sub_task<B, F>(
    parent: &Rc<dyn TaskDyn>,
    boxes: B,
    make_body: impl FnOnce(Cx<B>) -> F,
) -> Rc<dyn TaskDyn>
where
    B: BoxSet,
    F: Future<Output = ()> + 'static,
{
    fn kind() -> &'static str {
        "WaitComplete"
    }
    let sub = build_task(
        kind,
        |_| NoBoxes {},
        |_, runner| make_body(Cx::new(boxes, runner)),
    );
    sub.header()
        .with_extra(|e| e.parent = Some(Rc::downgrade(parent)));
    sub
}

/// Asks the scheduler to activate some components: Axon's `newComponent`.
///
/// Yield it from a body with [`Cx::yield_`]; the components are activated when
/// the scheduler receives the yield, and run from the next cycle on. Calling
/// [`ComponentRef::activate`] has the same effect without the yield.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, NewComponent, NoBoxes, Scheduler};
/// use std::{cell::Cell, rc::Rc};
///
/// struct Child(Rc<Cell<bool>>);
/// impl Component for Child {
///     type Boxes = NoBoxes;
///     async fn main(self, _cx: Cx<Self::Boxes>) {
///         self.0.set(true);
///     }
/// }
///
/// struct Parent(Rc<Cell<bool>>);
/// impl Component for Parent {
///     type Boxes = NoBoxes;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         let child = ComponentRef::new(Child(self.0));
///         cx.add_children([&child]);
///         cx.yield_(NewComponent::new([child])).await;
///     }
/// }
///
/// let ran = Rc::new(Cell::new(false));
/// let scheduler = Scheduler::new();
/// ComponentRef::new(Parent(ran.clone())).activate_on(&scheduler);
/// scheduler.run()?;
/// assert!(ran.get());
/// # std::io::Result::Ok(())
/// ```
pub struct NewComponent {
    components: Vec<ComponentRef>,
}

impl NewComponent {
    /// Names the components to activate.
    pub fn new(components: impl IntoIterator<Item = ComponentRef>) -> Self {
        NewComponent {
            components: components.into_iter().collect(),
        }
    }

    /// The components to activate, as Axon's `newComponent.components()`.
    pub fn components(&self) -> &[ComponentRef] {
        &self.components
    }
}

impl fmt::Debug for NewComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.components).finish()
    }
}

/// Runs a sub-body as its own microprocess and resumes the yielding body after
/// it has finished: Axon's `WaitComplete`.
///
/// The sub-body gets a [`Cx`] of its own over the same boxes, so it can receive,
/// send, pause and yield. While it runs, the parent is not scheduled; anything
/// that would wake the parent (a delivery to one of its inboxes, a collection
/// downstream, a finished child) wakes the sub-body instead. (In Axon a paused
/// sub-generator could only be woken by luck; here it works.) The parent resumes
/// after its `yield_` no earlier than the cycle after the sub-body finished.
///
/// Awaiting an `async fn` that takes `&Cx` does the same without the extra
/// microprocess; `WaitComplete` is there for faithful ports.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, NoBoxes, Scheduler, WaitComplete};
/// use std::{cell::RefCell, rc::Rc};
///
/// struct Steps(Rc<RefCell<Vec<&'static str>>>);
/// impl Component for Steps {
///     type Boxes = NoBoxes;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         let log = self.0.clone();
///         log.borrow_mut().push("before");
///         cx.yield_(WaitComplete::new(move |cx: Cx<NoBoxes>| async move {
///             self.0.borrow_mut().push("sub 1");
///             cx.yield_now().await;
///             self.0.borrow_mut().push("sub 2");
///         }))
///         .await;
///         log.borrow_mut().push("after");
///     }
/// }
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let scheduler = Scheduler::new();
/// ComponentRef::new(Steps(log.clone())).activate_on(&scheduler);
/// scheduler.run()?;
/// assert_eq!(*log.borrow(), ["before", "sub 1", "sub 2", "after"]);
/// # std::io::Result::Ok(())
/// ```
pub struct WaitComplete<F> {
    body: F,
    tag: Option<String>,
}

impl<F> WaitComplete<F> {
    /// Wraps a sub-body: a closure that receives its own [`Cx`] and returns the
    /// future to run.
    pub fn new(body: F) -> Self {
        WaitComplete { body, tag: None }
    }

    /// Names the sub-microprocess (Axon's `tag`), for tracing and listings.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }
}

impl<F> fmt::Debug for WaitComplete<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitComplete")
            .field("tag", &self.tag)
            .finish_non_exhaustive()
    }
}

/// Something a body can yield with [`Cx::yield_`]: [`NewComponent`],
/// [`WaitComplete`], or `()` for a plain yield.
///
/// This trait is sealed: the scheduler understands only these.
pub trait Yieldable<B>: sealed::Sealed {
    #[doc(hidden)]
    fn into_yield(self, cx: &Cx<B>) -> RawYield;
}

/// The scheduler's view of a [`Yieldable`]; not constructible outside axon.
#[doc(hidden)]
pub struct RawYield(pub(crate) Yield);

impl fmt::Debug for RawYield {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawYield")
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl Sealed for super::NewComponent {}
    impl<F> Sealed for super::WaitComplete<F> {}
}

impl<B> Yieldable<B> for () {
    fn into_yield(self, _cx: &Cx<B>) -> RawYield {
        RawYield(Yield::Continue)
    }
}

impl<B> Yieldable<B> for NewComponent {
    fn into_yield(self, _cx: &Cx<B>) -> RawYield {
        RawYield(Yield::NewComponent(
            self.components.into_iter().map(|c| c.0).collect(),
        ))
    }
}

impl<B, F, Fut> Yieldable<B> for WaitComplete<F>
where
    B: BoxSet,
    F: FnOnce(Cx<B>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    fn into_yield(self, cx: &Cx<B>) -> RawYield {
        let boxes = B::clone(cx);
        let body = self.body;
        RawYield(Yield::WaitComplete(Box::new(WaitStart {
            tag: self.tag,
            start: Box::new(move |parent| new_sub_task(parent, boxes, body)),
        })))
    }
}
