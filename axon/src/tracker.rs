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
#[derive(Clone, Default)]
pub struct Tracker {
    inner: Rc<RefCell<TrackerInner>>,
}

#[derive(Default)]
struct TrackerInner {
    services: BTreeMap<String, Service>,
    values: BTreeMap<String, Rc<dyn Any>>,
}

/// A registered service: a component and the name of the inbox it serves on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The component offering the service.
    pub component: ComponentRef,
    /// The inbox requests go to.
    pub inbox: String,
}

impl Tracker {
    /// An empty registry.
    pub fn new() -> Self {
        Tracker::default()
    }

    /// Offers `component`'s `inbox` under `name`: Axon's `registerService`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::AlreadyExists`] if the name is taken;
    /// [`ServiceError::BadInbox`] if the component has no such inbox.
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

    /// Finds a service: Axon's `retrieveService`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NotFound`] if no service has that name.
    pub fn retrieve_service(&self, name: &str) -> Result<Service, ServiceError> {
        self.inner
            .borrow()
            .services
            .get(name)
            .cloned()
            .ok_or_else(|| ServiceError::NotFound(name.to_string()))
    }

    /// Withdraws a service: Axon's `deRegisterService`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NotFound`] if no service has that name (Axon's
    /// `MultipleServiceDeletion`).
    pub fn deregister_service(&self, name: &str) -> Result<(), ServiceError> {
        self.inner
            .borrow_mut()
            .services
            .remove(name)
            .map(drop)
            .ok_or_else(|| ServiceError::NotFound(name.to_string()))
    }

    /// The names of the registered services, sorted.
    pub fn services_registered(&self) -> Vec<String> {
        self.inner.borrow().services.keys().cloned().collect()
    }

    /// Starts tracking a value under `name`: Axon's `trackValue`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::NamespaceClash`] if the name is taken.
    pub fn track_value<T: Any>(&self, name: &str, value: T) -> Result<(), ServiceError> {
        let mut inner = self.inner.borrow_mut();
        if inner.values.contains_key(name) {
            return Err(ServiceError::NamespaceClash(name.to_string()));
        }
        inner.values.insert(name.to_string(), Rc::new(value));
        Ok(())
    }

    /// Replaces a tracked value: Axon's `updateValue`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::UndeclaredValue`] if no value has that name.
    pub fn update_value<T: Any>(&self, name: &str, value: T) -> Result<(), ServiceError> {
        let mut inner = self.inner.borrow_mut();
        match inner.values.get_mut(name) {
            Some(slot) => {
                *slot = Rc::new(value);
                Ok(())
            }
            None => Err(ServiceError::UndeclaredValue(name.to_string())),
        }
    }

    /// A tracked value: Axon's `retrieveValue`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::UndeclaredValue`] if no value has that name, or it is
    /// not a `T`.
    pub fn retrieve_value<T: Any>(&self, name: &str) -> Result<Rc<T>, ServiceError> {
        self.inner
            .borrow()
            .values
            .get(name)
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
            .ok_or_else(|| ServiceError::UndeclaredValue(name.to_string()))
    }

    /// Forgets every service and value: Axon's `zap`.
    pub fn zap(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.services.clear();
        inner.values.clear();
    }
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("Tracker")
            .field("services", &inner.services.keys().collect::<Vec<_>>())
            .field("values", &inner.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Scheduler {
    /// The scheduler's service registry: Axon's coordinating assistant tracker.
    pub fn tracker(&self) -> Tracker {
        self.extension::<Tracker>()
    }
}
