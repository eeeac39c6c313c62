//! [`ComponentRef`], the handle through which components are wired, activated
//! and inspected; and the [`Scheduler`] methods that take one.

use std::fmt;
use std::rc::Rc;

use crate::boxes::inbox::InboxNode;
use crate::boxes::outbox::OutboxNode;
use crate::boxes::{BoxInfo, ErasedBox, Inbox, Linkage, Outbox};
use crate::component::{new_task, Component, Cx};
use crate::error::{BoxError, LinkError};
use crate::id::{ComponentId, Direction};
use crate::postoffice::{LinkEnd, Postoffice};
use crate::runtime::remote::RemoteWaker;
use crate::runtime::scheduler::Scheduler;
use crate::task::{State, TaskDyn};

/// A handle to a component: its boxes, its place in the scheduler, its children.
///
/// A `ComponentRef` is made from a value implementing [`Component`]. Making it
/// creates the component's boxes, so it can be linked at once; it runs only once
/// activated. Handles are cheap to clone and all refer to the same component.
///
/// Outside a component's body (in tests, or in plain code wiring a system up),
/// the typed box handles from [`inbox`](Self::inbox) and [`outbox`](Self::outbox)
/// let you send to and receive from it directly, as Axon's tests do.
///
/// # Examples
///
/// ```
/// use axon::{ComponentRef, Standard, Component, Cx};
///
/// struct Quiet;
/// impl Component for Quiet {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
///
/// let a = ComponentRef::new(Quiet);
/// let b = ComponentRef::new(Quiet);
/// a.link((&a, "outbox"), (&b, "inbox"))?;
/// a.outbox::<u32>("outbox")?.try_send(7)?;
/// assert_eq!(b.inbox::<u32>("inbox")?.recv(), Some(7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ComponentRef(pub(crate) Rc<dyn TaskDyn>);

impl ComponentRef {
    /// Makes a component from `component`, creating its boxes. It does not run
    /// until activated.
    pub fn new<C: Component>(component: C) -> Self {
        ComponentRef(new_task(component))
    }

    /// The component's identity.
    pub fn id(&self) -> ComponentId {
        self.0.header().id()
    }

    /// Activates the component on the current thread's scheduler (the one
    /// running, else the thread's default) and returns it, so that
    /// `ComponentRef::new(x).activate()` reads as Axon's `X().activate()`.
    ///
    /// Activating a component that is already active, or has finished, does
    /// nothing.
    ///
    /// # Logging
    ///
    /// Each component runs in a `tracing` span of its own,
    /// `component{id=Kind#n}`, made when it is activated (and only if a
    /// subscriber wants `INFO` spans of target `axon::component`): whatever it
    /// logs, and its panic if it panics, carries its name and id. The span is
    /// made inside the span current at activation, so activating a component
    /// inside a span of your own gives what it logs that span's fields too;
    /// and a component activated by another (its children) runs inside that
    /// one's span.
    ///
    /// # Examples
    ///
    /// A connection's handler whose every line names the client:
    ///
    /// ```
    /// use axon::{ComponentRef, Cx, Standard};
    ///
    /// let handler = ComponentRef::new(axon::from_fn(|cx: Cx<Standard<(), ()>>| async move {
    ///     tracing::info!("hello"); // logged as connection{peer=…}:component{id=…}: hello
    ///     let _ = cx;
    /// }));
    /// let connection = tracing::info_span!("connection", peer = "192.0.2.7:50000");
    /// let handler = connection.in_scope(|| handler.activate());
    /// # axon::Scheduler::current().run()?;
    /// # assert!(handler.is_finished());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn activate(self) -> Self {
        Scheduler::current().activate(&self);
        self
    }

    /// Activates the component on a given scheduler (its span, as for
    /// [`activate`](Self::activate), inside the span current now).
    pub fn activate_on(&self, scheduler: &Scheduler) {
        scheduler.activate(self);
    }

    /// A typed handle to one of the component's inboxes.
    ///
    /// # Errors
    ///
    /// [`BoxError`] if there is no inbox of that name or it carries another type.
    pub fn inbox<T: 'static>(&self, name: &str) -> Result<Inbox<T>, BoxError> {
        let node = self.0.find_box(name, Direction::Inbox)?;
        Inbox::from_erased(&self.id(), name, node)
    }

    /// A typed handle to one of the component's outboxes.
    ///
    /// # Errors
    ///
    /// [`BoxError`] if there is no outbox of that name or it carries another type.
    pub fn outbox<T: 'static>(&self, name: &str) -> Result<Outbox<T>, BoxError> {
        let node = self.0.find_box(name, Direction::Outbox)?;
        Outbox::from_erased(&self.id(), name, node)
    }

    /// The component's inboxes, declared ones first, with their doc strings
    /// and the type each carries.
    pub fn inboxes(&self) -> Vec<BoxInfo> {
        self.0.box_infos(Direction::Inbox)
    }

    /// The component's outboxes, declared ones first.
    pub fn outboxes(&self) -> Vec<BoxInfo> {
        self.0.box_infos(Direction::Outbox)
    }

    /// How many messages wait in the inbox called `name`, whatever type it
    /// carries: what an introspector shows as the inbox's queue. An inbox
    /// linked onward (a passthrough) holds none, since deliveries go straight
    /// to the final inbox.
    ///
    /// # Errors
    ///
    /// [`BoxError`] if there is no inbox of that name.
    ///
    /// ```
    /// use axon::{Component, ComponentRef, Cx, Standard};
    ///
    /// struct Quiet;
    /// impl Component for Quiet {
    ///     type Boxes = Standard<u32, u32>;
    ///     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// }
    ///
    /// let quiet = ComponentRef::new(Quiet);
    /// quiet.inbox::<u32>("inbox")?.deliver(7)?;
    /// assert_eq!(quiet.inbox_len("inbox")?, 1);
    /// assert_eq!(quiet.inbox_len("control")?, 0);
    /// assert!(quiet.inbox_len("nowhere").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inbox_len(&self, name: &str) -> Result<usize, BoxError> {
        Ok(self.0.find_box(name, Direction::Inbox)?.0.len())
    }

    /// The size limit of the inbox called `name`, whatever type it carries
    /// (see [`Inbox::size`]).
    ///
    /// # Errors
    ///
    /// [`BoxError`] if there is no inbox of that name.
    pub fn inbox_size(&self, name: &str) -> Result<Option<usize>, BoxError> {
        Ok(self.0.find_box(name, Direction::Inbox)?.0.size())
    }

    /// Limits the inbox called `name` to `size` messages, whatever type it
    /// carries (see [`Inbox::set_size`]): for a chassis bounding the inboxes
    /// of children it knows only as components.
    ///
    /// # Errors
    ///
    /// [`BoxError`] if there is no inbox of that name.
    ///
    /// ```
    /// use axon::{Component, ComponentRef, Cx, Standard};
    ///
    /// struct Quiet;
    /// impl Component for Quiet {
    ///     type Boxes = Standard<u32, u32>;
    ///     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// }
    ///
    /// let quiet = ComponentRef::new(Quiet);
    /// assert_eq!(quiet.inbox_size("inbox")?, None);
    /// quiet.set_inbox_size("inbox", Some(1))?;
    /// assert_eq!(quiet.inbox_size("inbox")?, Some(1));
    /// quiet.inbox::<u32>("inbox")?.deliver(7)?;
    /// assert!(quiet.inbox::<u32>("inbox")?.deliver(8).is_err()); // full
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_inbox_size(&self, name: &str, size: Option<usize>) -> Result<(), BoxError> {
        self.0.find_box(name, Direction::Inbox)?.0.set_size(size);
        Ok(())
    }

    /// How many messages the inbox called `name` has dropped under its
    /// overflow policy, whatever type it carries (see [`Inbox::dropped`]):
    /// for tools that know a component only by its boxes' names, such as an
    /// introspector.
    ///
    /// # Errors
    ///
    /// [`BoxError`] if there is no inbox of that name.
    ///
    /// ```
    /// use axon::{Component, ComponentRef, Cx, OverflowPolicy, Standard};
    ///
    /// struct Quiet;
    /// impl Component for Quiet {
    ///     type Boxes = Standard<u32, u32>;
    ///     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// }
    ///
    /// let quiet = ComponentRef::new(Quiet);
    /// let inbox = quiet.inbox::<u32>("inbox")?;
    /// inbox.set_size(Some(1));
    /// inbox.set_overflow(OverflowPolicy::DropNewest);
    /// inbox.deliver(7)?;
    /// inbox.deliver(8)?; // dropped
    /// assert_eq!(quiet.inbox_dropped("inbox")?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inbox_dropped(&self, name: &str) -> Result<u64, BoxError> {
        Ok(self.0.find_box(name, Direction::Inbox)?.0.dropped())
    }

    /// Adds an inbox at run time (see [`Cx::add_inbox`]).
    pub(crate) fn add_dynamic_inbox<T: 'static>(&self, name: &str, doc: &str) -> Inbox<T> {
        let (actual, node) = self.0.add_dynamic_box(name, doc, |owner, index| {
            ErasedBox(InboxNode::<T>::new(owner, index))
        });
        Inbox::from_erased(&self.id(), &actual, node)
            .expect("a new inbox has the type it was made with")
    }

    /// Adds an outbox at run time (see [`Cx::add_outbox`]).
    pub(crate) fn add_dynamic_outbox<T: 'static>(&self, name: &str, doc: &str) -> Outbox<T> {
        let (actual, node) = self.0.add_dynamic_box(name, doc, |owner, index| {
            ErasedBox(OutboxNode::<T>::new(owner, index))
        });
        Outbox::from_erased(&self.id(), &actual, node)
            .expect("a new outbox has the type it was made with")
    }

    /// Adds a box at run time with the direction, message type and doc string
    /// of `model`'s box `model_box` (looked up among its inboxes first): how a
    /// Kamaelia Graphline makes the boxes its linkages name on itself. If
    /// `name` is taken, a number is appended; the result says what it got.
    ///
    /// # Errors
    ///
    /// [`BoxError::NoSuchBox`] if `model` has no box called `model_box`.
    pub fn add_box_like(
        &self,
        name: &str,
        model: &ComponentRef,
        model_box: &str,
    ) -> Result<BoxInfo, BoxError> {
        let (node, direction) = match model.0.find_box(model_box, Direction::Inbox) {
            Ok(node) => (node, Direction::Inbox),
            Err(_) => (
                model.0.find_box(model_box, Direction::Outbox)?,
                Direction::Outbox,
            ),
        };
        let doc = model
            .0
            .box_infos(direction)
            .into_iter()
            .find(|info| info.name == model_box)
            .map(|info| info.doc)
            .unwrap_or_default();
        let (actual, _) = self.0.add_dynamic_box(name, &doc, |owner, index| {
            ErasedBox(node.0.twin(owner, index))
        });
        Ok(BoxInfo {
            name: actual,
            doc,
            direction,
            type_name: node.0.type_name(),
        })
    }

    /// True if the component has an outbox called `name`, declared or added:
    /// Axon's `name in component.Outboxes`.
    pub fn has_outbox(&self, name: &str) -> bool {
        self.0.has_box(name, Direction::Outbox)
    }

    /// True if the component has an inbox called `name`: Axon's
    /// `name in component.Inboxes`.
    pub fn has_inbox(&self, name: &str) -> bool {
        self.0.has_box(name, Direction::Inbox)
    }

    /// The name of the first inbox holding messages, in declaration order:
    /// Axon's `anyReady()`.
    pub fn any_ready(&self) -> Option<String> {
        self.0.any_ready()
    }

    /// Links two boxes, recording the linkage in this component's postoffice so
    /// that [`unlink`](Self::unlink) and the component's close-down can remove it.
    /// See [`Postoffice::link`](crate::Postoffice::link) for the rules.
    ///
    /// # Errors
    ///
    /// [`LinkError`] names both boxes when the link is refused.
    pub fn link<S, D>(&self, source: S, sink: D) -> Result<Linkage, LinkError>
    where
        S: LinkEnd,
        D: LinkEnd,
        S::Item: crate::postoffice::Agrees<D::Item>,
    {
        self.postoffice().link(source, sink)
    }

    /// This component's postoffice: the linkages it has made.
    pub fn postoffice(&self) -> Postoffice {
        Postoffice::from_book(self.0.book())
    }

    /// Removes a linkage this component made. Removing one it did not make, or
    /// one already removed, does nothing.
    pub fn unlink(&self, linkage: &Linkage) {
        self.postoffice().unlink(linkage)
    }

    /// Removes every linkage this component made that involves `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        self.postoffice().unlink_component(component)
    }

    /// The linkages this component has made and not removed.
    pub fn linkages(&self) -> Vec<Linkage> {
        self.postoffice().linkages()
    }

    /// Makes components children of this one: when a child finishes, this
    /// component is woken. Adding does not activate them.
    pub fn add_children<'a>(&self, children: impl IntoIterator<Item = &'a ComponentRef>) {
        for child in children {
            self.0.add_child(&child.0);
        }
    }

    /// Stops treating `child` as a child and removes every linkage this
    /// component made involving it.
    pub fn remove_child(&self, child: &ComponentRef) {
        self.0.remove_child(&child.0);
    }

    /// This component's children.
    pub fn child_components(&self) -> Vec<ComponentRef> {
        self.0.children().into_iter().map(ComponentRef).collect()
    }

    /// The child of this component with the id `id`, if it has one. A
    /// parent of ten thousand children finds one without looking at the
    /// others, so it need not keep its own table of them beside Axon's.
    ///
    /// ```
    /// use axon::{Component, ComponentRef, Cx, Standard};
    ///
    /// struct Idle;
    /// impl Component for Idle {
    ///     type Boxes = Standard<u32, u32>;
    ///     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// }
    ///
    /// let parent = ComponentRef::new(Idle);
    /// let child = ComponentRef::new(Idle);
    /// parent.add_children([&child]);
    /// assert_eq!(parent.child_count(), 1);
    /// assert_eq!(parent.child(&child.id()).map(|c| c.id()), Some(child.id()));
    /// parent.remove_child(&child);
    /// assert!(parent.child(&child.id()).is_none());
    /// assert_eq!(parent.child_count(), 0);
    /// ```
    pub fn child(&self, id: &ComponentId) -> Option<ComponentRef> {
        self.0.child(id.number()).map(ComponentRef)
    }

    /// How many children this component has.
    pub fn child_count(&self) -> usize {
        self.0.child_count()
    }

    /// Asks the scheduler to pause this component at the end of the current
    /// cycle: Axon's `pause()`. A wake in the same cycle wins.
    pub fn pause(&self) {
        crate::task::pause(&self.0);
    }

    /// Wakes this component if it is paused: Axon's `unpause()`.
    pub fn unpause(&self) {
        crate::task::wake(&self.0);
    }

    /// Runs `f` inside the component's `tracing` span, as if it ran in the
    /// component's turn: what it logs carries the component's name and id.
    /// For code that works for a component outside its turns (a Selector
    /// answering a connection's bytes for its adapter, say). While no
    /// subscriber wants `INFO` (the level of components' spans), it costs
    /// one atomic load, and looks at nothing of the component's.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{ComponentRef, Component, Cx, Standard};
    ///
    /// struct Quiet;
    /// impl Component for Quiet {
    ///     type Boxes = Standard<(), ()>;
    ///     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// }
    ///
    /// let quiet = ComponentRef::new(Quiet);
    /// let answer = quiet.in_span(|| {
    ///     tracing::info!("logged as the component's");
    ///     42
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    pub fn in_span<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = if tracing::level_filters::LevelFilter::current()
            >= tracing::level_filters::LevelFilter::INFO
        {
            self.0.header().span().map(tracing::Span::enter)
        } else {
            None
        };
        f()
    }

    /// Stops the component: it will not run its body again, and the scheduler
    /// closes it down (waking its parents, removing its linkages) at its next turn.
    pub fn stop(&self) {
        self.0.header().request_stop();
        crate::task::wake(&self.0);
    }

    /// True once activated.
    pub fn is_activated(&self) -> bool {
        self.0.header().state() != State::Created
    }

    /// True while the component sleeps, waiting to be woken.
    pub fn is_paused(&self) -> bool {
        self.0.header().state() == State::Sleeping
    }

    /// True once the component has been asked to stop or has finished.
    pub fn is_stopped(&self) -> bool {
        self.0.header().stop_requested() || self.is_finished()
    }

    /// True once the component's body has ended (normally, by panic, or stopped).
    pub fn is_finished(&self) -> bool {
        self.0.header().state() == State::Finished
    }

    /// If the body ended by panicking, the panic's message.
    pub fn panic_message(&self) -> Option<String> {
        self.0.panic_message()
    }

    /// A handle that wakes this component from any thread. `None` until the
    /// component has been activated.
    pub fn remote_waker(&self) -> Option<RemoteWaker> {
        let header = self.0.header();
        if header.state() == State::Created {
            return None;
        }
        let scheduler = Scheduler::of_task(&*self.0)?;
        Some(scheduler.remote_waker(header.slot(), header.id()))
    }

    pub(crate) fn same(&self, other: &ComponentRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<C: Component> From<C> for ComponentRef {
    fn from(component: C) -> Self {
        ComponentRef::new(component)
    }
}

impl PartialEq for ComponentRef {
    fn eq(&self, other: &Self) -> bool {
        self.same(other)
    }
}

impl Eq for ComponentRef {}

impl fmt::Debug for ComponentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.id(), self.0.header().state())
    }
}

impl fmt::Display for ComponentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.id(), f)
    }
}

/// Anything that names a component in a linkage endpoint: a [`ComponentRef`]
/// or, inside a body, the body's own [`Cx`].
///
/// `(&x, "boxname")` is how an endpoint is written, as in Axon's
/// `(component, "boxname")`.
pub trait AsComponent {
    /// The component this refers to.
    fn as_component(&self) -> ComponentRef;
}

impl AsComponent for ComponentRef {
    fn as_component(&self) -> ComponentRef {
        self.clone()
    }
}

impl<B: crate::BoxSet> AsComponent for Cx<B> {
    fn as_component(&self) -> ComponentRef {
        self.component()
    }
}

/// The scheduler's methods that take or give components.
impl Scheduler {
    /// Activates a component: it joins the run queue at the end of the current
    /// (or, between cycles, the next) cycle, and runs from the cycle after.
    /// Activating a component that is already active on some scheduler, or has
    /// finished, does nothing.
    pub fn activate(&self, component: &ComponentRef) {
        self.activate_task(&component.0);
    }

    /// Every activated microprocess that has not finished, paused or not:
    /// Axon's `listAllThreads()`.
    pub fn list_all(&self) -> Vec<ComponentRef> {
        self.tasks().into_iter().map(ComponentRef).collect()
    }

    /// True if the component is paused, or is not one of this scheduler's
    /// live microprocesses: Axon's `isThreadPaused`.
    pub fn is_paused(&self, component: &ComponentRef) -> bool {
        let ours = Scheduler::of_task(&*component.0).is_some_and(|s| s.same(self));
        !ours
            || matches!(
                component.0.header().state(),
                State::Sleeping | State::Created | State::Finished
            )
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::Standard;

    /// What `tracing` writes while `f` runs, as text.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Captured(Arc<Mutex<Vec<u8>>>);
        impl Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("not poisoned").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            // Another test's thread may have met the component span's
            // callsite first, with no subscriber about, and had `tracing`
            // remember it as never wanted (seen once, in a full run of the
            // crate's tests: the span was missing from the line). Asked
            // again, it is wanted here.
            tracing::callsite::rebuild_interest_cache();
            f()
        });
        let text = captured.0.lock().expect("not poisoned").clone();
        String::from_utf8_lossy(&text).into_owned()
    }

    struct Sleeper;

    impl Component for Sleeper {
        type Boxes = Standard<(), ()>;
        async fn main(self, cx: Cx<Self::Boxes>) {
            cx.idle().await;
        }
    }

    /// What is logged inside `in_span` carries the component's span (its
    /// id); what is logged outside does not.
    #[test]
    fn in_span_logs_as_the_component() {
        let text = logged(|| {
            let scheduler = Scheduler::new();
            let sleeper = ComponentRef::new(Sleeper);
            sleeper.activate_on(&scheduler);
            scheduler.run_cycle();
            sleeper.in_span(|| tracing::info!("inside"));
            tracing::info!("outside");
            let id = sleeper.id().to_string();
            tracing::info!(%id, "the id");
        });
        let line = |word: &str| {
            text.lines()
                .find(|line| line.contains(word))
                .unwrap_or_else(|| panic!("no line with {word:?} in {text:?}"))
                .to_owned()
        };
        let id = line("the id");
        let id = id.rsplit("id=").next().expect("an id").trim();
        assert!(
            line("inside").contains(&format!("component{{id={id}}}")),
            "{text}"
        );
        assert!(!line("outside").contains("component{"), "{text}");
    }
}
