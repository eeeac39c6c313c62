//! [`Component`], the trait every component implements, and [`Cx`], what its
//! body works through.

use std::any::{type_name, Any};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::io;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::boxes::{BoxSet, Inbox, Linkage, Outbox, Standard};
use crate::component_ref::ComponentRef;
use crate::error::{BoxError, LinkError, ResourceError};
use crate::id::{ComponentId, Direction};
use crate::postoffice::{Agrees, LinkEnd};
use crate::runtime::scheduler::Scheduler;
use crate::task::resources::{Entry, Stored};
use crate::task::yields::Yield;
use crate::task::{self, build_task, TaskDyn};
use crate::tracker::Tracker;
use crate::yields::Yieldable;

/// A component: a body that runs as a resumable generator, with named boxes.
///
/// This is Axon's `component` class. Implement it for a struct holding the
/// component's configuration (Axon's keyword arguments become fields, set by a
/// constructor or builder); name its boxes with [`Boxes`](Self::Boxes); write
/// its behaviour as the `async fn main`, which yields to the scheduler with
/// `cx.yield_now().await` where Axon's `main` says `yield 1`.
///
/// A body may await only what axon gives it ([`Cx::yield_now`], [`Cx::yield_`],
/// [`Cx::sleep`], [`Outbox::send`]). Blocking work belongs elsewhere.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
/// use axon::ipc::ProducerFinished;
///
/// /// Sends `count` greetings, then says it has finished.
/// struct Producer {
///     count: usize,
/// }
///
/// impl Component for Producer {
///     type Boxes = Standard<(), String>;
///
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         for n in 0..self.count {
///             cx.outbox.send(format!("hello{n}")).await;
///             cx.yield_now().await;
///         }
///         cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
///     }
/// }
///
/// /// Collects what it receives until told that the producer has finished.
/// struct Consumer {
///     seen: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
/// }
///
/// impl Component for Consumer {
///     type Boxes = Standard<String, ()>;
///
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(msg) = cx.recv_until_finished().await {
///             self.seen.borrow_mut().push(msg);
///         }
///     }
/// }
///
/// let seen = Default::default();
/// let producer = ComponentRef::new(Producer { count: 3 });
/// let consumer = ComponentRef::new(Consumer { seen: std::rc::Rc::clone(&seen) });
/// producer.link((&producer, "outbox"), (&consumer, "inbox"))?;
/// producer.link((&producer, "signal"), (&consumer, "control"))?;
///
/// let scheduler = Scheduler::new();
/// producer.activate_on(&scheduler);
/// consumer.activate_on(&scheduler);
/// scheduler.run()?;
/// assert_eq!(*seen.borrow(), ["hello0", "hello1", "hello2"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Component: Sized + 'static {
    /// The component's boxes: usually [`Standard`](crate::Standard)`<In, Out>`,
    /// [`NoBoxes`](crate::NoBoxes), or a set declared with
    /// [`boxes!`](crate::boxes).
    type Boxes: BoxSet;

    /// The component's behaviour: Axon's `main` generator.
    ///
    /// When it returns, the component has finished: its parents are woken and
    /// the linkages it made are removed. A panic inside it ends only this
    /// component (unless the scheduler is [fail-fast](Scheduler::set_fail_fast)).
    ///
    /// Its generator's frame is the component's memory while it waits: as
    /// large as the largest state it awaits in, for as long as it lives. An
    /// `async fn main` keeps `self` and `cx` in it twice (Rust moves an async
    /// fn's arguments into locals beside the originals, rust-lang/rust#62958).
    /// A component made by the thousand (one per connection, say) can write
    /// `main` as a function returning an `async move` block, which holds them
    /// once, and box the futures of steps taken once (`Box::pin(step).await`)
    /// so that their state does not stay in every idle instance's frame:
    ///
    /// ```
    /// use std::future::Future;
    ///
    /// use axon::{Component, ComponentRef, Cx, Scheduler, Standard};
    ///
    /// /// Doubles what it receives.
    /// struct Doubler;
    ///
    /// impl Component for Doubler {
    ///     type Boxes = Standard<u32, u32>;
    ///
    ///     #[allow(clippy::manual_async_fn)]
    ///     fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
    ///         async move {
    ///             while let Some(n) = cx.recv_until_finished().await {
    ///                 cx.outbox.send(2 * n).await;
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// let (doubler, sink) = (ComponentRef::new(Doubler), ComponentRef::new(Doubler));
    /// doubler.link((&doubler, "outbox"), (&sink, "inbox"))?;
    /// doubler.inbox::<u32>("inbox")?.deliver(21)?;
    /// let scheduler = Scheduler::new();
    /// doubler.activate_on(&scheduler);
    /// scheduler.run_cycle();
    /// scheduler.run_cycle();
    /// assert_eq!(sink.inbox::<u32>("inbox")?.recv(), Some(42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static;

    /// Makes the component and activates it on the current scheduler:
    /// Axon's `X().activate()`.
    fn activate(self) -> ComponentRef {
        ComponentRef::new(self).activate()
    }

    /// Makes the component, activates it, and runs the current thread's
    /// scheduler until no component is left: Axon's `X().run()`.
    ///
    /// # Errors
    ///
    /// An I/O error from the scheduler's idle wait (see [`Scheduler::run`]).
    fn run(self) -> io::Result<()> {
        let component = ComponentRef::new(self);
        let scheduler = Scheduler::current();
        scheduler.activate(&component);
        scheduler.run()
    }
}

/// Makes the task for a component: its boxes, and its body ready to run.
pub(crate) fn new_task<C: Component>(component: C) -> Rc<dyn TaskDyn> {
    build_task(type_name::<C>, C::Boxes::create, |boxes, runner| {
        component.main(Cx::new(boxes, runner))
    })
}

/// What a component's body works through: its boxes (by [`Deref`]), and the
/// Axon calls that act on the component itself.
///
/// `cx.inbox`, `cx.outbox` and the other boxes are the fields of the
/// component's [`BoxSet`]. The rest is Axon's component API in Rust case:
/// [`pause`](Self::pause), [`yield_now`](Self::yield_now), [`any_ready`](Self::any_ready),
/// [`link`](Self::link), [`unlink`](Self::unlink),
/// [`add_children`](Self::add_children), [`remove_child`](Self::remove_child),
/// [`child_components`](Self::child_components), and dynamic boxes with
/// [`add_inbox`](Self::add_inbox) and [`add_outbox`](Self::add_outbox).
pub struct Cx<B> {
    boxes: B,
    /// The microprocess running this body: the component itself, or a
    /// `WaitComplete` sub-task working on its behalf. Weak, so that a body does
    /// not keep its own task alive.
    runner: Weak<dyn TaskDyn>,
}

impl<B: BoxSet> Cx<B> {
    pub(crate) fn new(boxes: B, runner: Weak<dyn TaskDyn>) -> Self {
        Cx { boxes, runner }
    }

    fn runner(&self) -> Rc<dyn TaskDyn> {
        running(&self.runner)
    }

    /// The component whose boxes these are: the top of the chain when a
    /// `WaitComplete` body itself waits on another.
    fn task(&self) -> Rc<dyn TaskDyn> {
        let mut task = self.runner();
        while let Some(parent) = task.header().parent_of_sub() {
            task = parent;
        }
        task
    }

    /// This component, as a handle for links and for other components.
    pub fn component(&self) -> ComponentRef {
        ComponentRef(self.task())
    }

    /// This component's identity.
    pub fn id(&self) -> ComponentId {
        self.task().header().id()
    }

    /// Asks to be paused: from the end of this cycle the scheduler skips this
    /// component until something wakes it: a message arriving in any of its
    /// inboxes, a message it sent being collected, a child finishing, or
    /// [`ComponentRef::unpause`].
    ///
    /// The pause takes effect at the next yield; code after `pause()` still
    /// runs. If something wakes the component in the same cycle, the wake wins,
    /// so no wake-up is lost.
    pub fn pause(&self) {
        task::pause(&self.runner());
    }

    /// Pauses and yields in one call: sleeps until something wakes this
    /// component (a message arriving, a message it sent being collected, a
    /// child finishing, a timer). Axon's `self.pause(); yield 1`.
    ///
    /// Waking is level-free: the component may be woken for something other
    /// than what it waits for, so check again after `idle()` returns.
    pub fn idle(&self) -> YieldNow<'_> {
        YieldNow {
            runner: &self.runner,
            pause: true,
            yielded: false,
        }
    }

    /// Yields to the scheduler: Axon's `yield 1`. The body resumes here in the
    /// next cycle, or when woken if it asked to pause.
    pub fn yield_now(&self) -> YieldNow<'_> {
        YieldNow {
            runner: &self.runner,
            pause: false,
            yielded: false,
        }
    }

    /// Yields a value to the scheduler: a [`NewComponent`](crate::NewComponent)
    /// to activate, a [`WaitComplete`](crate::WaitComplete) to run and wait for,
    /// or `()` (the same as [`yield_now`](Self::yield_now)).
    pub fn yield_<Y: Yieldable<B>>(&self, value: Y) -> YieldWith<'_> {
        YieldWith {
            runner: &self.runner,
            value: Some(value.into_yield(self).0),
        }
    }

    /// Sleeps for at least `duration`, letting everything else run. Other wakes
    /// (deliveries, collections) do not cut it short.
    pub async fn sleep(&self, duration: Duration) {
        let deadline = Instant::now() + duration;
        // One timer: woken early by something else, the body sleeps again
        // and the same timer still fires at the deadline.
        self.wake_at(deadline);
        while Instant::now() < deadline {
            self.idle().await;
        }
    }

    /// The time as of the scheduler's last end of a cycle, or of a wait
    /// ([`Scheduler::now`]): no clock read, so cheap to ask at every resume,
    /// and behind the clock by at most the current cycle's run. For
    /// timeouts of milliseconds and more; read the clock to measure.
    pub fn now(&self) -> Instant {
        Scheduler::of_task(&*self.runner()).map_or_else(Instant::now, |s| s.now())
    }

    /// Arranges for this body to be woken at `deadline` (or soon after), even if
    /// it pauses and nothing else happens.
    pub fn wake_at(&self, deadline: Instant) {
        let runner = self.runner();
        if let Some(scheduler) = Scheduler::of_task(&*runner) {
            scheduler.add_timer(deadline, &runner);
        }
    }

    /// The name of the first inbox holding messages, in declaration order:
    /// Axon's `anyReady()`.
    pub fn any_ready(&self) -> Option<String> {
        self.task().any_ready()
    }

    /// Links two boxes, recording the linkage in this component's postoffice:
    /// Axon's `self.link(source, sink)`. Write an end as a typed box handle
    /// (`&cx.outbox`, `&child_inbox`), which the compiler checks, or as
    /// `(&component, "name")` (this component's own boxes: `(&cx, "name")`).
    /// See [`Postoffice::link`](crate::Postoffice::link).
    ///
    /// # Errors
    ///
    /// [`LinkError`] names both boxes when the link is refused.
    pub fn link<S, D>(&self, source: S, sink: D) -> Result<Linkage, LinkError>
    where
        S: LinkEnd,
        D: LinkEnd,
        S::Item: Agrees<D::Item>,
    {
        self.component().link(source, sink)
    }

    /// Removes a linkage this component made.
    pub fn unlink(&self, linkage: &Linkage) {
        self.component().unlink(linkage)
    }

    /// Removes every linkage this component made involving `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        self.component().unlink_component(component)
    }

    /// Makes components children of this one (a finished child wakes it).
    pub fn add_children<'a>(&self, children: impl IntoIterator<Item = &'a ComponentRef>) {
        self.component().add_children(children)
    }

    /// Stops treating `child` as a child, and removes the linkages this
    /// component made involving it.
    pub fn remove_child(&self, child: &ComponentRef) {
        self.component().remove_child(child)
    }

    /// This component's children.
    pub fn child_components(&self) -> Vec<ComponentRef> {
        self.component().child_components()
    }

    /// The child with the id `id`, if this component has one (see
    /// [`ComponentRef::child`]).
    pub fn child(&self, id: &ComponentId) -> Option<ComponentRef> {
        self.component().child(id)
    }

    /// How many children this component has.
    pub fn child_count(&self) -> usize {
        self.component().child_count()
    }

    /// The children that have finished since the last call, in the order they
    /// finished. (They stay children until [`remove_child`](Self::remove_child).)
    /// A parent with many children learns this way which ended without looking
    /// at them all, where Kamaelia's chassis scan them with `childrenDone()`.
    pub fn finished_children(&self) -> Vec<ComponentRef> {
        self.task()
            .header()
            .take_finished_children()
            .into_iter()
            .map(ComponentRef)
            .collect()
    }

    /// Adds an inbox at run time: Axon's `addInbox`. If `name` is taken, a
    /// number is appended; the handle's [`name`](Inbox::name) says what it got.
    pub fn add_inbox<T: 'static>(&self, name: &str, doc: &str) -> Inbox<T> {
        self.component().add_dynamic_inbox(name, doc)
    }

    /// Adds an outbox at run time: Axon's `addOutbox`.
    pub fn add_outbox<T: 'static>(&self, name: &str, doc: &str) -> Outbox<T> {
        self.component().add_dynamic_outbox(name, doc)
    }

    /// Deletes an inbox added at run time: Axon's `deleteInbox`. Messages still
    /// in it are lost. Unlike Axon, the links into and out of it go with it, so
    /// nothing goes on sending into a box no one reads, and so does this
    /// component's own record of them (its [`linkages`](ComponentRef::linkages)).
    ///
    /// # Errors
    ///
    /// [`BoxError::NoSuchBox`] if no inbox of that name was added.
    pub fn delete_inbox(&self, name: &str) -> Result<(), BoxError> {
        self.task().delete_dynamic_box(name, Direction::Inbox)
    }

    /// Deletes an outbox added at run time: Axon's `deleteOutbox`. Its links
    /// go with it, as for [`delete_inbox`](Self::delete_inbox).
    ///
    /// # Errors
    ///
    /// [`BoxError::NoSuchBox`] if no outbox of that name was added.
    pub fn delete_outbox(&self, name: &str) -> Result<(), BoxError> {
        self.task().delete_dynamic_box(name, Direction::Outbox)
    }

    /// Associates `resource` with `inbox`, so that when a message arrives
    /// there the component can find what it concerns: Axon's `trackResource`.
    /// Typically `inbox` was [added](Self::add_inbox) for one connection and
    /// the resource stands for that connection (its handler component, its
    /// socket). Any inbox will do, declared or added.
    ///
    /// A resource can be any `'static` value; it is kept, typed, in the
    /// component's extras, and [retrieved](Self::retrieve_tracked_resource) as
    /// the type it was tracked as. [Deleting](Self::delete_inbox) the inbox
    /// stops tracking it.
    ///
    /// # Errors
    ///
    /// [`ResourceError::NoSuchBox`] if the component has no such inbox;
    /// [`ResourceError::InboxAlreadyTracked`] if a resource is tracked on it
    /// already (Axon replaces it; [`untrack_resource`](Self::untrack_resource)
    /// first to do that).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, Cx, Inbox, ResourceError, Scheduler, Standard};
    ///
    /// fn serve(cx: &Cx<Standard<(), ()>>) -> Result<(), ResourceError> {
    ///     let conn: Inbox<String> = cx.add_inbox("conn", "one client's lines");
    ///     cx.track_resource(7u32, &conn.name())?;
    ///     assert_eq!(cx.retrieve_tracked_resource::<u32>(&conn.name())?, 7);
    ///     cx.delete_inbox(&conn.name()).unwrap();
    ///     assert!(matches!(
    ///         cx.retrieve_tracked_resource::<u32>("conn"),
    ///         Err(ResourceError::InboxNotTracked { .. })
    ///     ));
    ///     Ok(())
    /// }
    ///
    /// # Scheduler::current().set_fail_fast(true);
    /// axon::from_fn(|cx: Cx<Standard<(), ()>>| async move { serve(&cx).unwrap() }).run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn track_resource<R: Any>(&self, resource: R, inbox: &str) -> Result<(), ResourceError> {
        let task = self.task();
        let header = task.header();
        if !task.has_box(inbox, Direction::Inbox) {
            return Err(ResourceError::NoSuchBox {
                component: header.id(),
                direction: Direction::Inbox,
                name: inbox.to_string(),
            });
        }
        header.with_extra(|e| {
            let resources = e.resources.get_mut();
            if resources.by_inbox.contains_key(inbox) {
                return Err(ResourceError::InboxAlreadyTracked {
                    component: header.id(),
                    inbox: inbox.to_string(),
                });
            }
            resources
                .by_inbox
                .insert(inbox.to_string(), Stored::new(resource));
            Ok(())
        })
    }

    /// The resource tracked on `inbox`: Axon's `retrieveTrackedResource`. A
    /// clone of it, as the type it was tracked as (wrap a resource that should
    /// not be copied in an `Rc`).
    ///
    /// # Errors
    ///
    /// [`ResourceError::InboxNotTracked`] if nothing is tracked on `inbox`
    /// (or there is no such inbox); [`ResourceError::WrongType`] if it is not
    /// an `R`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, Cx, Inbox, ResourceError, Scheduler, Standard};
    /// use std::rc::Rc;
    ///
    /// fn serve(cx: &Cx<Standard<(), ()>>) -> Result<(), ResourceError> {
    ///     let conn: Inbox<String> = cx.add_inbox("conn", "");
    ///     cx.track_resource(Rc::new(String::from("socket 3")), &conn.name())?;
    ///     let socket: Rc<String> = cx.retrieve_tracked_resource(&conn.name())?;
    ///     assert_eq!(socket.as_str(), "socket 3");
    ///     assert!(matches!(
    ///         cx.retrieve_tracked_resource::<u32>(&conn.name()),
    ///         Err(ResourceError::WrongType { .. })
    ///     ));
    ///     assert!(matches!(
    ///         cx.retrieve_tracked_resource::<u32>("inbox"),
    ///         Err(ResourceError::InboxNotTracked { .. })
    ///     ));
    ///     Ok(())
    /// }
    ///
    /// # Scheduler::current().set_fail_fast(true);
    /// axon::from_fn(|cx: Cx<Standard<(), ()>>| async move { serve(&cx).unwrap() }).run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn retrieve_tracked_resource<R: Any + Clone>(
        &self,
        inbox: &str,
    ) -> Result<R, ResourceError> {
        let task = self.task();
        let header = task.header();
        let found = header.read_extra(|e| {
            e.resources.get()?.by_inbox.get(inbox).map(|stored| {
                stored
                    .value
                    .downcast_ref::<R>()
                    .cloned()
                    .ok_or(stored.type_name)
            })
        });
        match found.flatten() {
            Some(Ok(resource)) => Ok(resource),
            Some(Err(actual)) => Err(ResourceError::WrongType {
                component: header.id(),
                key: format!("inbox {inbox:?}"),
                expected: type_name::<R>(),
                actual,
            }),
            None => Err(ResourceError::InboxNotTracked {
                component: header.id(),
                inbox: inbox.to_string(),
            }),
        }
    }

    /// Stops tracking the resource on `inbox` (not in Axon, where a tracked
    /// resource can only be replaced).
    ///
    /// # Errors
    ///
    /// [`ResourceError::InboxNotTracked`] if nothing is tracked on `inbox`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, Cx, ResourceError, Scheduler, Standard};
    ///
    /// fn serve(cx: &Cx<Standard<(), ()>>) -> Result<(), ResourceError> {
    ///     cx.track_resource(1u8, "inbox")?;
    ///     assert!(cx.track_resource(2u8, "inbox").is_err(), "tracked already");
    ///     cx.untrack_resource("inbox")?;
    ///     cx.track_resource(2u8, "inbox")?; // free again
    ///     assert_eq!(cx.retrieve_tracked_resource::<u8>("inbox")?, 2);
    ///     cx.untrack_resource("inbox")?;
    ///     assert!(matches!(
    ///         cx.untrack_resource("inbox"),
    ///         Err(ResourceError::InboxNotTracked { .. })
    ///     ));
    ///     Ok(())
    /// }
    ///
    /// # Scheduler::current().set_fail_fast(true);
    /// axon::from_fn(|cx: Cx<Standard<(), ()>>| async move { serve(&cx).unwrap() }).run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn untrack_resource(&self, inbox: &str) -> Result<(), ResourceError> {
        let task = self.task();
        let header = task.header();
        let removed = header.with_extra(|e| {
            e.resources
                .existing_mut()
                .and_then(|r| r.by_inbox.remove(inbox))
        });
        match removed {
            // Dropped outside the borrow: a resource's drop may use this task.
            Some(stored) => {
                drop(stored);
                Ok(())
            }
            None => Err(ResourceError::InboxNotTracked {
                component: header.id(),
                inbox: inbox.to_string(),
            }),
        }
    }

    /// Records which of this component's boxes serve `resource`, with any
    /// `information` the component wants kept with them: Axon's
    /// `trackResourceInformation`. Kamaelia's servers track each connection
    /// this way, to find its boxes (and its socket) again when it closes.
    ///
    /// The resource is the key: any `'static` value that can be compared and
    /// hashed, and printed with `Debug` for error messages (a
    /// [`ComponentRef`], a connection number). The box names are checked now
    /// and stored as given; deleting a box later does not change them.
    ///
    /// # Errors
    ///
    /// [`ResourceError::NoSuchBox`] for the first named inbox or outbox that
    /// does not exist; [`ResourceError::ResourceAlreadyTracked`] if the
    /// resource is tracked already (Axon replaces it;
    /// [`cease_tracking_resource`](Self::cease_tracking_resource) first to do
    /// that). Nothing is recorded then.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, Cx, Inbox, Outbox, ResourceError, Scheduler, Standard};
    ///
    /// fn serve(cx: &Cx<Standard<(), ()>>) -> Result<(), ResourceError> {
    ///     let from_client: Inbox<Vec<u8>> = cx.add_inbox("from", "");
    ///     let to_client: Outbox<Vec<u8>> = cx.add_outbox("to", "");
    ///     cx.track_resource_information(
    ///         42u64,
    ///         &[from_client.name()],
    ///         &[to_client.name()],
    ///         "127.0.0.1:5000",
    ///     )?;
    ///     let tracked = cx.retrieve_tracked_resource_information::<u64, &str>(&42)?;
    ///     assert_eq!(tracked.inboxes, ["from"]);
    ///     assert_eq!(tracked.outboxes, ["to"]);
    ///     assert_eq!(tracked.information, "127.0.0.1:5000");
    ///     cx.cease_tracking_resource(&42u64)
    /// }
    ///
    /// # Scheduler::current().set_fail_fast(true);
    /// axon::from_fn(|cx: Cx<Standard<(), ()>>| async move { serve(&cx).unwrap() }).run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn track_resource_information<R, I>(
        &self,
        resource: R,
        inboxes: &[impl AsRef<str>],
        outboxes: &[impl AsRef<str>],
        information: I,
    ) -> Result<(), ResourceError>
    where
        R: Any + Eq + Hash + fmt::Debug,
        I: Any,
    {
        let task = self.task();
        let header = task.header();
        let entry = Entry {
            inboxes: existing_boxes(&task, inboxes, Direction::Inbox)?,
            outboxes: existing_boxes(&task, outboxes, Direction::Outbox)?,
            information: Stored::new(information),
        };
        header.with_extra(|e| {
            let entries = e.resources.get_mut().entries_mut::<R>();
            if entries.contains_key(&resource) {
                return Err(ResourceError::ResourceAlreadyTracked {
                    component: header.id(),
                    resource: format!("{resource:?}"),
                });
            }
            entries.insert(resource, entry);
            Ok(())
        })
    }

    /// The boxes and information tracked for `resource`: Axon's
    /// `retrieveTrackedResourceInformation`. The information is cloned, as the
    /// type `I` it was tracked as.
    ///
    /// # Errors
    ///
    /// [`ResourceError::ResourceNotTracked`] if nothing is tracked for it (a
    /// resource is found only as the type it was tracked as);
    /// [`ResourceError::WrongType`] if the information is not an `I`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, Cx, ResourceError, Scheduler, Standard};
    ///
    /// fn serve(cx: &Cx<Standard<(), ()>>) -> Result<(), ResourceError> {
    ///     cx.track_resource_information("client 1", &["inbox"], &["outbox"], 8080u16)?;
    ///     let tracked = cx.retrieve_tracked_resource_information::<&str, u16>(&"client 1")?;
    ///     assert_eq!((tracked.inboxes, tracked.outboxes), (vec!["inbox".to_string()], vec!["outbox".to_string()]));
    ///     assert_eq!(tracked.information, 8080);
    ///     assert!(matches!(
    ///         cx.retrieve_tracked_resource_information::<&str, u16>(&"client 2"),
    ///         Err(ResourceError::ResourceNotTracked { .. })
    ///     ));
    ///     assert!(matches!(
    ///         cx.retrieve_tracked_resource_information::<&str, String>(&"client 1"),
    ///         Err(ResourceError::WrongType { .. })
    ///     ));
    ///     Ok(())
    /// }
    ///
    /// # Scheduler::current().set_fail_fast(true);
    /// axon::from_fn(|cx: Cx<Standard<(), ()>>| async move { serve(&cx).unwrap() }).run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn retrieve_tracked_resource_information<R, I>(
        &self,
        resource: &R,
    ) -> Result<TrackedResource<I>, ResourceError>
    where
        R: Any + Eq + Hash + fmt::Debug,
        I: Any + Clone,
    {
        let task = self.task();
        let header = task.header();
        let found = header.read_extra(|e| {
            e.resources
                .get()?
                .entries::<R>()
                .and_then(|m| m.get(resource))
                .map(|entry| match entry.information.value.downcast_ref::<I>() {
                    Some(information) => Ok(TrackedResource {
                        inboxes: entry.inboxes.clone(),
                        outboxes: entry.outboxes.clone(),
                        information: information.clone(),
                    }),
                    None => Err(entry.information.type_name),
                })
        });
        match found.flatten() {
            Some(Ok(tracked)) => Ok(tracked),
            Some(Err(actual)) => Err(ResourceError::WrongType {
                component: header.id(),
                key: format!("resource {resource:?}"),
                expected: type_name::<I>(),
                actual,
            }),
            None => Err(ResourceError::ResourceNotTracked {
                component: header.id(),
                resource: format!("{resource:?}"),
            }),
        }
    }

    /// Forgets the boxes and information tracked for `resource`: Axon's
    /// `ceaseTrackingResource`. The boxes themselves are untouched.
    ///
    /// # Errors
    ///
    /// [`ResourceError::ResourceNotTracked`] if nothing is tracked for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{Component, Cx, ResourceError, Scheduler, Standard};
    ///
    /// fn serve(cx: &Cx<Standard<(), ()>>) -> Result<(), ResourceError> {
    ///     cx.track_resource_information(7u32, &["inbox"], &["outbox"], ())?;
    ///     cx.cease_tracking_resource(&7u32)?;
    ///     assert!(cx.retrieve_tracked_resource_information::<u32, ()>(&7).is_err());
    ///     assert!(matches!(
    ///         cx.cease_tracking_resource(&7u32),
    ///         Err(ResourceError::ResourceNotTracked { .. })
    ///     ));
    ///     // The boxes are untouched, and the resource can be tracked again.
    ///     cx.track_resource_information(7u32, &["inbox"], &["outbox"], ())?;
    ///     Ok(())
    /// }
    ///
    /// # Scheduler::current().set_fail_fast(true);
    /// axon::from_fn(|cx: Cx<Standard<(), ()>>| async move { serve(&cx).unwrap() }).run()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cease_tracking_resource<R>(&self, resource: &R) -> Result<(), ResourceError>
    where
        R: Any + Eq + Hash + fmt::Debug,
    {
        let task = self.task();
        let header = task.header();
        let removed = header.with_extra(|e| {
            e.resources
                .existing_mut()
                .and_then(|r| r.entries_mut::<R>().remove(resource))
        });
        match removed {
            // Dropped outside the borrow: information's drop may use this task.
            Some(entry) => {
                drop(entry);
                Ok(())
            }
            None => Err(ResourceError::ResourceNotTracked {
                component: header.id(),
                resource: format!("{resource:?}"),
            }),
        }
    }

    /// The scheduler running this component.
    pub fn scheduler(&self) -> Scheduler {
        Scheduler::of_task(&*self.runner()).unwrap_or_else(Scheduler::current)
    }

    /// The service registry of the scheduler running this component: Axon's
    /// coordinating assistant tracker.
    pub fn tracker(&self) -> Tracker {
        self.scheduler().tracker()
    }
}

/// What a component tracks for a resource: the boxes serving it and the
/// information kept with them. Returned by
/// [`Cx::retrieve_tracked_resource_information`] (Axon returns the tuple
/// `(inboxes, outboxes, information)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedResource<I> {
    /// The inboxes named when the resource was tracked.
    pub inboxes: Vec<String>,
    /// The outboxes named when the resource was tracked.
    pub outboxes: Vec<String>,
    /// The information tracked with them.
    pub information: I,
}

/// For components with the [`Standard`] boxes.
impl<I: 'static, O: 'static> Cx<Standard<I, O>> {
    /// Waits for the next message on `inbox`, until the input is exhausted
    /// and `control` has spoken: the receive loop of most components.
    ///
    /// Returns `Some(message)` while `inbox` has messages, waiting (asleep)
    /// while it is empty. Returns `None` once `inbox` is empty **and** a
    /// message has arrived on `control` (a `ProducerFinished`, say), which is
    /// left there for the caller. So everything sent before the producer
    /// finished is received, however far behind this component is.
    ///
    /// # Examples
    ///
    /// Kamaelia's EchoProtocol:
    ///
    /// ```
    /// use axon::{Component, Cx, Standard};
    ///
    /// struct Echo;
    ///
    /// impl Component for Echo {
    ///     type Boxes = Standard<String, String>;
    ///
    ///     async fn main(self, cx: Cx<Self::Boxes>) {
    ///         while let Some(line) = cx.recv_until_finished().await {
    ///             cx.outbox.send(line).await;
    ///         }
    ///     }
    /// }
    /// # let _ = Echo;
    /// ```
    pub async fn recv_until_finished(&self) -> Option<I> {
        loop {
            if let Some(message) = self.inbox.recv() {
                return Some(message);
            }
            if self.control.data_ready() {
                return None;
            }
            self.idle().await;
        }
    }
}

impl<B> Deref for Cx<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.boxes
    }
}

impl<B: BoxSet> fmt::Debug for Cx<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx").field("component", &self.id()).finish()
    }
}

/// The names in `boxes`, if `task` has a box of each in `direction`.
fn existing_boxes(
    task: &Rc<dyn TaskDyn>,
    boxes: &[impl AsRef<str>],
    direction: Direction,
) -> Result<Vec<String>, ResourceError> {
    boxes
        .iter()
        .map(|name| {
            let name = name.as_ref();
            if task.has_box(name, direction) {
                Ok(name.to_string())
            } else {
                Err(ResourceError::NoSuchBox {
                    component: task.header().id(),
                    direction,
                    name: name.to_string(),
                })
            }
        })
        .collect()
}

/// Yields `value` from the body `runner` is running: the first poll of a
/// yield future.
fn yield_value(runner: &Weak<dyn TaskDyn>, value: Yield) {
    running(runner).header().yielder().yield_raw(value);
}

/// The task a body runs in, from the weak reference its `Cx` and yield
/// futures keep (the task owns the body, so it is alive while the body is).
fn running(runner: &Weak<dyn TaskDyn>) -> Rc<dyn TaskDyn> {
    runner
        .upgrade()
        .expect("axon: a body's task outlives the body")
}

/// The future returned by [`Cx::yield_now`] and [`Cx::idle`]: pending once,
/// while the scheduler runs the others (having asked to pause, for `idle`),
/// then ready.
#[must_use = "a yield does nothing unless it is awaited"]
pub struct YieldNow<'a> {
    runner: &'a Weak<dyn TaskDyn>,
    pause: bool,
    yielded: bool,
}

impl Future for YieldNow<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.yielded, true) {
            return Poll::Ready(());
        }
        // One upgrade for the pause and the yield: `idle` is the yield a
        // component makes at every turn.
        let runner = running(self.runner);
        if self.pause {
            task::pause(&runner);
        }
        runner.header().yielder().yield_continue();
        Poll::Pending
    }
}

impl fmt::Debug for YieldNow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YieldNow")
            .field("pause", &self.pause)
            .field("yielded", &self.yielded)
            .finish()
    }
}

/// The future returned by [`Cx::yield_`]: hands its value to the scheduler,
/// then is ready when the body is resumed.
#[must_use = "a yield does nothing unless it is awaited"]
pub struct YieldWith<'a> {
    runner: &'a Weak<dyn TaskDyn>,
    value: Option<Yield>,
}

impl Future for YieldWith<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        match self.value.take() {
            Some(value) => {
                yield_value(self.runner, value);
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}

impl fmt::Debug for YieldWith<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YieldWith")
            .field("yielded", &self.value.is_none())
            .finish()
    }
}
