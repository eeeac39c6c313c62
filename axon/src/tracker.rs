//! [`Tracker`]: named services and values shared between components.

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::component_ref::ComponentRef;
use crate::error::ServiceError;
use crate::id::Direction;
use crate::runtime::scheduler::Scheduler;

/// A registry of services (named inboxes that components offer to others) and
/// of tracked values: Axon's coordinating assistant tracker (the CAT).
///
/// Each scheduler has one ([`Scheduler::tracker`], [`Cx::tracker`]); handles
/// are cheap to clone. Kamaelia's Selector and Backplanes are found through it.
///
/// [`Scheduler::tracker`]: crate::Scheduler::tracker
/// [`Cx::tracker`]: crate::Cx::tracker
///
/// # Parents
///
/// A tracker may have a parent ([`with_parent`](Self::with_parent),
/// [`set_parent`](Self::set_parent)), as Axon's may. Axon stores the parent and
/// never consults it; here **lookups fall back to the parent chain**:
/// [`retrieve_service`](Self::retrieve_service) and
/// [`retrieve_value`](Self::retrieve_value) ask this tracker first, then its
/// parent, then the parent's parent, and the nearest tracker holding the name
/// answers (so a child's name shadows its parent's). That is what makes a
/// parent worth having: a subsystem can get a tracker of its own for its
/// private services and still find the system-wide ones (the Selector, the
/// Backplanes) without being handed each of them.
///
/// Everything else is local. Registering, tracking, deregistering and
/// [`zap`](Self::zap) change only this tracker, and a name taken in a parent
/// may be taken again here. [`update_value`](Self::update_value) changes the
/// value that [`retrieve_value`](Self::retrieve_value) would return, wherever
/// in the chain it lives. The listings
/// ([`services_registered`](Self::services_registered),
/// [`values_tracked`](Self::values_tracked)) list this tracker's own names, as
/// Axon's do.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Standard, Tracker};
///
/// struct Logger;
/// impl Component for Logger {
///     type Boxes = Standard<String, ()>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
///
/// let tracker = Tracker::new();
/// let logger = ComponentRef::new(Logger);
/// tracker.register_service("log", &logger, "inbox")?;
/// let service = tracker.retrieve_service("log")?;
/// assert_eq!(service.component, logger);
/// assert_eq!(service.inbox, "inbox");
/// assert!(tracker.register_service("log", &logger, "inbox").is_err());
/// # Ok::<(), axon::ServiceError>(())
/// ```
///
/// Two handles are equal (`==`) when they are handles on the same tracker.
#[derive(Clone, Default)]
pub struct Tracker {
    inner: Rc<RefCell<TrackerInner>>,
}

#[derive(Default)]
struct TrackerInner {
    services: BTreeMap<String, Service>,
    values: BTreeMap<String, Rc<dyn Any>>,
    /// Never makes a loop: `set_parent` refuses one.
    parent: Option<Tracker>,
}

/// A registered service: a component and the name of the inbox it serves on.
///
/// # Examples
///
/// ```
/// # use axon::{Component, ComponentRef, Cx, Standard};
/// # struct Logger;
/// # impl Component for Logger {
/// #     type Boxes = Standard<String, ()>;
/// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// # }
///
/// let tracker = axon::Tracker::new();
/// let logger = ComponentRef::new(Logger);
/// tracker.register_service("log", &logger, "inbox")?;
/// let axon::Service { component, inbox } = tracker.retrieve_service("log")?;
/// assert_eq!((component, inbox.as_str()), (logger, "inbox"));
/// # Ok::<(), axon::ServiceError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The component offering the service.
    pub component: ComponentRef,
    /// The inbox requests go to.
    pub inbox: String,
}

impl Tracker {
    /// An empty registry.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Tracker;
    ///
    /// let tracker = Tracker::new();
    /// assert!(tracker.services_registered().is_empty());
    /// assert!(tracker.values_tracked().is_empty());
    /// assert_eq!(tracker.parent(), None);
    /// assert_ne!(tracker, Tracker::new(), "each is a registry of its own");
    /// ```
    pub fn new() -> Self {
        Tracker::default()
    }

    /// An empty registry whose lookups fall back to `parent`: Axon's
    /// `coordinatingassistanttracker(parent)`. (Axon's `BadParentTracker`,
    /// for a parent that is not a tracker, cannot happen here: the type says
    /// it is one.) See [Parents](#parents).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Tracker;
    ///
    /// let system = Tracker::new();
    /// system.track_value("port", 1500u16)?;
    /// let local = Tracker::with_parent(&system);
    /// assert_eq!(local.parent(), Some(system));
    /// assert_eq!(*local.retrieve_value::<u16>("port")?, 1500);
    /// assert!(local.values_tracked().is_empty(), "listings are local");
    /// # Ok::<(), axon::ServiceError>(())
    /// ```
    pub fn with_parent(parent: &Tracker) -> Self {
        let tracker = Tracker::new();
        tracker.inner.borrow_mut().parent = Some(parent.clone());
        tracker
    }

    /// This tracker's parent, if it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Tracker;
    ///
    /// let system = Tracker::new();
    /// assert_eq!(system.parent(), None);
    /// let local = Tracker::with_parent(&system);
    /// assert_eq!(local.parent(), Some(system));
    /// ```
    pub fn parent(&self) -> Option<Tracker> {
        self.inner.borrow().parent.clone()
    }

    /// Gives this tracker a new parent, or none. Useful for a tracker made
    /// before its parent, such as a scheduler's ([`Scheduler::tracker`]).
    ///
    /// # Errors
    ///
    /// [`ServiceError::ParentCycle`] if `parent` is this tracker or one of its
    /// descendants: lookups would go round for ever. The parent is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{ServiceError, Tracker};
    ///
    /// let (system, local) = (Tracker::new(), Tracker::new());
    /// system.track_value("answer", 42)?;
    /// local.set_parent(Some(&system))?;
    /// assert_eq!(*local.retrieve_value::<i32>("answer")?, 42);
    /// assert!(matches!(system.set_parent(Some(&local)), Err(ServiceError::ParentCycle)));
    /// local.set_parent(None)?;
    /// assert!(local.retrieve_value::<i32>("answer").is_err());
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn set_parent(&self, parent: Option<&Tracker>) -> Result<(), ServiceError> {
        if let Some(parent) = parent {
            if parent.chain().any(|t| t == *self) {
                return Err(ServiceError::ParentCycle);
            }
        }
        self.inner.borrow_mut().parent = parent.cloned();
        Ok(())
    }

    /// This tracker, its parent, its parent's parent, and so on.
    fn chain(&self) -> impl Iterator<Item = Tracker> {
        std::iter::successors(Some(self.clone()), Tracker::parent)
    }

    /// Offers `component`'s `inbox` under `name`: Axon's `registerService`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::AlreadyExists`] if the name is taken;
    /// [`ServiceError::BadInbox`] if the component has no such inbox.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Component, ComponentRef, Cx, Standard};
    /// # struct Logger;
    /// # impl Component for Logger {
    /// #     type Boxes = Standard<String, ()>;
    /// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// # }
    ///
    /// use axon::{ServiceError, Tracker};
    ///
    /// let tracker = Tracker::new();
    /// let logger = ComponentRef::new(Logger);
    /// tracker.register_service("log", &logger, "inbox")?;
    /// assert!(matches!(
    ///     tracker.register_service("log", &logger, "inbox"),
    ///     Err(ServiceError::AlreadyExists(_))
    /// ));
    /// assert!(matches!(
    ///     tracker.register_service("other", &logger, "no such inbox"),
    ///     Err(ServiceError::BadInbox { .. })
    /// ));
    /// assert_eq!(tracker.services_registered(), ["log"]);
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn register_service(
        &self,
        name: &str,
        component: &ComponentRef,
        inbox: &str,
    ) -> Result<(), ServiceError> {
        if component.0.find_box(inbox, Direction::Inbox).is_err() {
            return Err(ServiceError::BadInbox {
                component: component.id(),
                inbox: inbox.to_string(),
            });
        }
        let mut inner = self.inner.borrow_mut();
        if inner.services.contains_key(name) {
            return Err(ServiceError::AlreadyExists(name.to_string()));
        }
        inner.services.insert(
            name.to_string(),
            Service {
                component: component.clone(),
                inbox: inbox.to_string(),
            },
        );
        Ok(())
    }

    /// Finds a service: Axon's `retrieveService`. If this tracker has no
    /// service of that name, its parents are asked, nearest first (see
    /// [Parents](#parents)).
    ///
    /// # Errors
    ///
    /// [`ServiceError::NotFound`] if no service has that name here or in any
    /// parent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Component, ComponentRef, Cx, Standard};
    /// # struct Logger;
    /// # impl Component for Logger {
    /// #     type Boxes = Standard<String, ()>;
    /// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// # }
    ///
    /// use axon::{ServiceError, Tracker};
    ///
    /// let system = Tracker::new();
    /// let logger = ComponentRef::new(Logger);
    /// system.register_service("log", &logger, "inbox")?;
    /// let local = Tracker::with_parent(&system);
    /// assert_eq!(local.retrieve_service("log")?.component, logger, "found in the parent");
    /// assert!(matches!(local.retrieve_service("nope"), Err(ServiceError::NotFound(_))));
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn retrieve_service(&self, name: &str) -> Result<Service, ServiceError> {
        self.chain()
            .find_map(|t| t.inner.borrow().services.get(name).cloned())
            .ok_or_else(|| ServiceError::NotFound(name.to_string()))
    }

    /// Withdraws a service: Axon's `deRegisterService`. Only this tracker's
    /// own services can be withdrawn through it, not its parents'.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NotFound`] if this tracker has no service of that name
    /// (Axon's `MultipleServiceDeletion`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Component, ComponentRef, Cx, Standard};
    /// # struct Logger;
    /// # impl Component for Logger {
    /// #     type Boxes = Standard<String, ()>;
    /// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// # }
    ///
    /// use axon::{ServiceError, Tracker};
    ///
    /// let tracker = Tracker::new();
    /// tracker.register_service("log", &ComponentRef::new(Logger), "inbox")?;
    /// tracker.deregister_service("log")?;
    /// assert!(tracker.retrieve_service("log").is_err());
    /// assert!(matches!(tracker.deregister_service("log"), Err(ServiceError::NotFound(_))));
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn deregister_service(&self, name: &str) -> Result<(), ServiceError> {
        self.inner
            .borrow_mut()
            .services
            .remove(name)
            .map(drop)
            .ok_or_else(|| ServiceError::NotFound(name.to_string()))
    }

    /// The names of the services registered with this tracker (not its
    /// parents), sorted: Axon's `servicesRegistered`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Component, ComponentRef, Cx, Standard};
    /// # struct Logger;
    /// # impl Component for Logger {
    /// #     type Boxes = Standard<String, ()>;
    /// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// # }
    ///
    /// use axon::Tracker;
    ///
    /// let system = Tracker::new();
    /// let logger = ComponentRef::new(Logger);
    /// system.register_service("system.log", &logger, "inbox")?;
    /// let local = Tracker::with_parent(&system);
    /// local.register_service("b", &logger, "inbox")?;
    /// local.register_service("a", &logger, "inbox")?;
    /// assert_eq!(local.services_registered(), ["a", "b"], "sorted, and only its own");
    /// # Ok::<(), axon::ServiceError>(())
    /// ```
    pub fn services_registered(&self) -> Vec<String> {
        self.inner.borrow().services.keys().cloned().collect()
    }

    /// The names of the values tracked by this tracker (not its parents),
    /// sorted: Axon's `informationItemsLogged`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Tracker;
    ///
    /// let tracker = Tracker::new();
    /// tracker.track_value("port", 1500u16)?;
    /// tracker.track_value("host", "localhost")?;
    /// assert_eq!(tracker.values_tracked(), ["host", "port"]);
    /// # Ok::<(), axon::ServiceError>(())
    /// ```
    pub fn values_tracked(&self) -> Vec<String> {
        self.inner.borrow().values.keys().cloned().collect()
    }

    /// Starts tracking a value under `name`: Axon's `trackValue`. A name
    /// tracked by a parent may be tracked again here, and shadows it.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NamespaceClash`] if this tracker already tracks the name.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{ServiceError, Tracker};
    ///
    /// let system = Tracker::new();
    /// system.track_value("port", 1500u16)?;
    /// assert!(matches!(system.track_value("port", 1u16), Err(ServiceError::NamespaceClash(_))));
    /// let local = Tracker::with_parent(&system);
    /// local.track_value("port", 8080u16)?; // shadows the parent's
    /// assert_eq!(*local.retrieve_value::<u16>("port")?, 8080);
    /// assert_eq!(*system.retrieve_value::<u16>("port")?, 1500);
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn track_value<T: Any>(&self, name: &str, value: T) -> Result<(), ServiceError> {
        let mut inner = self.inner.borrow_mut();
        if inner.values.contains_key(name) {
            return Err(ServiceError::NamespaceClash(name.to_string()));
        }
        inner.values.insert(name.to_string(), Rc::new(value));
        Ok(())
    }

    /// Replaces a tracked value: Axon's `updateValue`. The value replaced is
    /// the one [`retrieve_value`](Self::retrieve_value) finds: this tracker's,
    /// or else the nearest parent's.
    ///
    /// # Errors
    ///
    /// [`ServiceError::UndeclaredValue`] if no value has that name here or in
    /// any parent.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{ServiceError, Tracker};
    ///
    /// let system = Tracker::new();
    /// system.track_value("count", 1)?;
    /// let local = Tracker::with_parent(&system);
    /// local.update_value("count", 2)?; // the parent's value, the nearest one
    /// assert_eq!(*system.retrieve_value::<i32>("count")?, 2);
    /// assert!(matches!(local.update_value("nope", 0), Err(ServiceError::UndeclaredValue(_))));
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn update_value<T: Any>(&self, name: &str, value: T) -> Result<(), ServiceError> {
        let holder = self
            .chain()
            .find(|t| t.inner.borrow().values.contains_key(name))
            .ok_or_else(|| ServiceError::UndeclaredValue(name.to_string()))?;
        let old = holder
            .inner
            .borrow_mut()
            .values
            .insert(name.to_string(), Rc::new(value));
        // Dropped outside the borrow: a value's drop may use the tracker.
        drop(old);
        Ok(())
    }

    /// A tracked value: Axon's `retrieveValue`. If this tracker does not track
    /// the name, its parents are asked, nearest first; the nearest tracker
    /// holding the name answers.
    ///
    /// # Errors
    ///
    /// [`ServiceError::UndeclaredValue`] if no value has that name here or in
    /// any parent, or the nearest one is not a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::{ServiceError, Tracker};
    ///
    /// let tracker = Tracker::new();
    /// tracker.track_value("greeting", String::from("hello"))?;
    /// assert_eq!(tracker.retrieve_value::<String>("greeting")?.as_str(), "hello");
    /// assert!(tracker.retrieve_value::<u32>("greeting").is_err(), "not a u32");
    /// assert!(matches!(
    ///     tracker.retrieve_value::<String>("nope"),
    ///     Err(ServiceError::UndeclaredValue(_))
    /// ));
    /// # Ok::<(), ServiceError>(())
    /// ```
    pub fn retrieve_value<T: Any>(&self, name: &str) -> Result<Rc<T>, ServiceError> {
        self.chain()
            .find_map(|t| t.inner.borrow().values.get(name).cloned())
            .and_then(|v| v.downcast::<T>().ok())
            .ok_or_else(|| ServiceError::UndeclaredValue(name.to_string()))
    }

    /// Forgets every service and value of this tracker (its parents and its
    /// link to them are kept): Axon's `zap`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use axon::{Component, ComponentRef, Cx, Standard};
    /// # struct Logger;
    /// # impl Component for Logger {
    /// #     type Boxes = Standard<String, ()>;
    /// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
    /// # }
    ///
    /// use axon::Tracker;
    ///
    /// let system = Tracker::new();
    /// let local = Tracker::with_parent(&system);
    /// local.track_value("x", 1)?;
    /// local.register_service("log", &ComponentRef::new(Logger), "inbox")?;
    /// local.zap();
    /// assert!(local.values_tracked().is_empty() && local.services_registered().is_empty());
    /// assert_eq!(local.parent(), Some(system), "the parent is kept");
    /// # Ok::<(), axon::ServiceError>(())
    /// ```
    pub fn zap(&self) {
        let mut inner = self.inner.borrow_mut();
        let services = std::mem::take(&mut inner.services);
        let values = std::mem::take(&mut inner.values);
        drop(inner);
        // Dropped outside the borrow, as in `update_value`.
        drop((services, values));
    }
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("Tracker")
            .field("services", &inner.services.keys().collect::<Vec<_>>())
            .field("values", &inner.values.keys().collect::<Vec<_>>())
            .field("parent", &inner.parent)
            .finish()
    }
}

impl PartialEq for Tracker {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Tracker {}

impl Scheduler {
    /// The scheduler's service registry: Axon's coordinating assistant tracker.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::Scheduler;
    ///
    /// let scheduler = Scheduler::new();
    /// scheduler.tracker().track_value("answer", 42)?;
    /// assert_eq!(*scheduler.tracker().retrieve_value::<i32>("answer")?, 42);
    /// assert_eq!(scheduler.tracker(), scheduler.tracker(), "one per scheduler");
    /// # Ok::<(), axon::ServiceError>(())
    /// ```
    pub fn tracker(&self) -> Tracker {
        self.extension::<Tracker>()
    }
}
