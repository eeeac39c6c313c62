//! Every error type axon returns.
//!
//! Each names the boxes and components involved, so that the message alone says
//! what went wrong, and none loses a message: [`NoSpaceInBox`] hands the refused
//! message back.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use crate::id::{ComponentId, Direction};

/// Names one box of one component, as errors and traces show it:
/// `outbox "outbox" of Producer#3`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BoxLabel {
    /// The component the box belongs to, if it still exists.
    pub component: Option<ComponentId>,
    /// Inbox or outbox.
    pub direction: Direction,
    /// The box's name.
    pub name: Cow<'static, str>,
}

impl BoxLabel {
    pub(crate) fn new(component: ComponentId, direction: Direction, name: &str) -> Self {
        BoxLabel {
            component: Some(component),
            direction,
            name: Cow::Owned(name.to_string()),
        }
    }
}

impl fmt::Display for BoxLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.component {
            Some(c) => write!(f, "{} {:?} of {}", self.direction, self.name, c),
            None => write!(
                f,
                "{} {:?} of a component that no longer exists",
                self.direction, self.name
            ),
        }
    }
}

impl fmt::Debug for BoxLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A send refused because the destination inbox is full: Axon's `noSpaceInBox`.
///
/// It carries the inbox's length and size limit (Axon's `size, capacity =
/// e.args`) and the message, which [`into_inner`](Self::into_inner) gives back.
pub struct NoSpaceInBox<T> {
    len: usize,
    capacity: usize,
    message: T,
    inbox: BoxLabel,
}

impl<T> NoSpaceInBox<T> {
    pub(crate) fn new(len: usize, capacity: usize, message: T, inbox: BoxLabel) -> Self {
        NoSpaceInBox {
            len,
            capacity,
            message,
            inbox,
        }
    }

    /// How many messages the inbox held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a full inbox is never empty (its limit is at least the
    /// length). Present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The inbox's size limit.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The full inbox.
    pub fn inbox(&self) -> &BoxLabel {
        &self.inbox
    }

    /// The refused message.
    pub fn message(&self) -> &T {
        &self.message
    }

    /// Takes the refused message back.
    pub fn into_inner(self) -> T {
        self.message
    }
}

impl<T> fmt::Debug for NoSpaceInBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoSpaceInBox")
            .field("len", &self.len)
            .field("capacity", &self.capacity)
            .field("inbox", &self.inbox)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for NoSpaceInBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is full ({} of {} messages)",
            self.inbox, self.len, self.capacity
        )
    }
}

impl<T> Error for NoSpaceInBox<T> {}

/// A box looked up by name that is not there, or carries another type.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoxError {
    /// The component has no box of that name and direction.
    NoSuchBox {
        /// The component searched.
        component: ComponentId,
        /// Inbox or outbox.
        direction: Direction,
        /// The name asked for.
        name: String,
        /// The names it does have, in that direction.
        available: Vec<String>,
    },
    /// The box exists but carries another message type.
    WrongType {
        /// The box.
        label: BoxLabel,
        /// The type asked for.
        expected: &'static str,
        /// The type it carries.
        actual: &'static str,
    },
}

impl fmt::Display for BoxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoxError::NoSuchBox {
                component,
                direction,
                name,
                available,
            } => write!(
                f,
                "{component} has no {direction} {name:?} (its {direction}es: {})",
                available.join(", ")
            ),
            BoxError::WrongType {
                label,
                expected,
                actual,
            } => write!(f, "{label} carries {actual}, not {expected}"),
        }
    }
}

impl Error for BoxError {}

/// A linkage that was refused. [`kind`](Self::kind) says why; the `Display`
/// text names both boxes.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkError {
    kind: Box<LinkErrorKind>,
}

impl LinkError {
    /// Why the linkage was refused.
    pub fn kind(&self) -> &LinkErrorKind {
        &self.kind
    }
}

impl From<LinkErrorKind> for LinkError {
    fn from(kind: LinkErrorKind) -> Self {
        LinkError {
            kind: Box::new(kind),
        }
    }
}

impl fmt::Debug for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind, f)
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl Error for LinkError {}

/// Why a linkage was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkErrorKind {
    /// A box named in the linkage does not exist.
    NoSuchBox {
        /// The component searched.
        component: ComponentId,
        /// The name asked for.
        name: String,
        /// Every box the component does have.
        available: Vec<String>,
    },
    /// The two boxes carry different message types.
    TypeMismatch {
        /// The source box.
        source: BoxLabel,
        /// The type it carries.
        source_type: &'static str,
        /// The sink box.
        sink: BoxLabel,
        /// The type it carries.
        sink_type: &'static str,
    },
    /// The source is already linked: one source feeds one sink (Axon's
    /// `BoxAlreadyLinkedToDestination`).
    AlreadyLinked {
        /// The source box.
        source: BoxLabel,
        /// Where it is linked now.
        current: BoxLabel,
        /// Where it was asked to be linked.
        requested: BoxLabel,
    },
    /// Messages cannot flow from an inbox to an outbox.
    InboxToOutbox {
        /// The source inbox.
        source: BoxLabel,
        /// The sink outbox.
        sink: BoxLabel,
    },
    /// The link would close a loop of passthroughs, so messages would have no
    /// final destination.
    Cycle {
        /// The source box.
        source: BoxLabel,
        /// The sink box.
        sink: BoxLabel,
    },
}

impl fmt::Display for LinkErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkErrorKind::NoSuchBox {
                component,
                name,
                available,
            } => write!(
                f,
                "cannot link: {component} has no box {name:?} (its boxes: {})",
                available.join(", ")
            ),
            LinkErrorKind::TypeMismatch {
                source,
                source_type,
                sink,
                sink_type,
            } => write!(
                f,
                "cannot link {source} to {sink}: {source} carries {source_type} but {sink} carries {sink_type}"
            ),
            LinkErrorKind::AlreadyLinked {
                source,
                current,
                requested,
            } => write!(
                f,
                "cannot link {source} to {requested}: it is already linked to {current}, and a box feeds only one destination"
            ),
            LinkErrorKind::InboxToOutbox { source, sink } => {
                write!(f, "cannot link {source} to {sink}: messages cannot flow from an inbox to an outbox")
            }
            LinkErrorKind::Cycle { source, sink } => write!(
                f,
                "cannot link {source} to {sink}: it would close a loop of passthrough linkages"
            ),
        }
    }
}

/// A service registry operation that failed: Axon's CAT exceptions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceError {
    /// A service of that name is already registered (Axon's `ServiceAlreadyExists`).
    AlreadyExists(String),
    /// No service of that name is registered.
    NotFound(String),
    /// The component has no inbox of that name (Axon's `BadInbox`).
    BadInbox {
        /// The component.
        component: ComponentId,
        /// The inbox asked for.
        inbox: String,
    },
    /// A tracked value of that name already exists (Axon's `NamespaceClash`).
    NamespaceClash(String),
    /// No tracked value of that name exists, or it has another type (Axon's
    /// `AccessToUndeclaredTrackedVariable`).
    UndeclaredValue(String),
    /// The parent asked for is the tracker itself or one of its descendants,
    /// so lookups would go round for ever. (Axon's `BadParentTracker` is for a
    /// parent that is not a tracker, which Rust's types rule out; this is the
    /// misuse that remains.)
    ParentCycle,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::AlreadyExists(name) => {
                write!(f, "service {name:?} is already registered")
            }
            ServiceError::NotFound(name) => write!(f, "no service {name:?} is registered"),
            ServiceError::BadInbox { component, inbox } => {
                write!(
                    f,
                    "{component} has no inbox {inbox:?} to register as a service"
                )
            }
            ServiceError::NamespaceClash(name) => write!(f, "value {name:?} is already tracked"),
            ServiceError::UndeclaredValue(name) => {
                write!(f, "no tracked value {name:?} of that type")
            }
            ServiceError::ParentCycle => write!(
                f,
                "a tracker cannot be its own parent or the parent of its ancestors"
            ),
        }
    }
}

impl Error for ServiceError {}

/// A resource-tracking operation on a component that failed: Axon's
/// `AdaptiveCommsComponent` resource calls, which raise `KeyError`.
///
/// Each variant names the component, and the box or resource concerned
/// (a resource by its `Debug` text).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceError {
    /// A box named in the call does not exist (Axon's `KeyError` from
    /// `trackResource` and `trackResourceInformation`).
    NoSuchBox {
        /// The component.
        component: ComponentId,
        /// Inbox or outbox.
        direction: Direction,
        /// The name asked for.
        name: String,
    },
    /// A resource is already tracked on that inbox. (Axon replaces it
    /// silently; axon refuses, so that the first resource is not lost. Untrack
    /// it first.)
    InboxAlreadyTracked {
        /// The component.
        component: ComponentId,
        /// The inbox.
        inbox: String,
    },
    /// No resource is tracked on that inbox (Axon's `KeyError` from
    /// `retrieveTrackedResource`).
    InboxNotTracked {
        /// The component.
        component: ComponentId,
        /// The inbox.
        inbox: String,
    },
    /// Information is already tracked for that resource. (Axon replaces it
    /// silently; axon refuses. Cease tracking it first.)
    ResourceAlreadyTracked {
        /// The component.
        component: ComponentId,
        /// The resource, as `Debug` shows it.
        resource: String,
    },
    /// No information is tracked for that resource (Axon's `KeyError` from
    /// `retrieveTrackedResourceInformation` and `ceaseTrackingResource`).
    ResourceNotTracked {
        /// The component.
        component: ComponentId,
        /// The resource, as `Debug` shows it.
        resource: String,
    },
    /// Something is tracked, but as another type than the one asked for.
    WrongType {
        /// The component.
        component: ComponentId,
        /// What was looked up: `inbox "name"` or `resource <Debug text>`.
        key: String,
        /// The type asked for.
        expected: &'static str,
        /// The type it was tracked as.
        actual: &'static str,
    },
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceError::NoSuchBox {
                component,
                direction,
                name,
            } => write!(
                f,
                "{component} has no {direction} {name:?} to track a resource on"
            ),
            ResourceError::InboxAlreadyTracked { component, inbox } => write!(
                f,
                "inbox {inbox:?} of {component} already has a resource tracked on it"
            ),
            ResourceError::InboxNotTracked { component, inbox } => write!(
                f,
                "inbox {inbox:?} of {component} has no resource tracked on it"
            ),
            ResourceError::ResourceAlreadyTracked {
                component,
                resource,
            } => write!(f, "{component} already tracks resource {resource}"),
            ResourceError::ResourceNotTracked {
                component,
                resource,
            } => write!(f, "{component} tracks no resource {resource}"),
            ResourceError::WrongType {
                component,
                key,
                expected,
                actual,
            } => write!(f, "{component} tracks {key} as {actual}, not {expected}"),
        }
    }
}

/// A commit refused because another commit changed some of its keys since
/// they were read: Axon's STM `ConcurrentUpdate`.
///
/// Nothing of the refused commit was written. Read the keys again (with
/// `Store::using` or `Store::usevar`), redo the work, and commit again.
///
/// # Examples
///
/// ```
/// use axon::stm::{ConcurrentUpdate, Store};
///
/// let store = Store::new();
/// let mut late = store.usevar("n");
/// let mut early = store.usevar("n");
/// early.set(1);
/// early.commit()?;
/// late.set(2);
/// let refused: ConcurrentUpdate = late.commit().unwrap_err();
/// assert_eq!(refused.keys(), ["n"]);
/// assert!(refused.to_string().contains("\"n\""));
/// # Ok::<(), ConcurrentUpdate>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcurrentUpdate {
    keys: Vec<String>,
}

impl ConcurrentUpdate {
    pub(crate) fn new(keys: Vec<String>) -> Self {
        ConcurrentUpdate { keys }
    }

    /// The keys whose store version was newer than the version read, in the
    /// order the commit holds them.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut mine = store.using(["a", "b", "c"]);
    /// let mut theirs = store.using(["c", "a"]);
    /// theirs.set("a", 1);
    /// theirs.commit()?;
    /// mine.set("b", 2);
    /// assert_eq!(mine.commit().unwrap_err().keys(), ["a", "c"]);
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

impl fmt::Display for ConcurrentUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "concurrent update of ")?;
        for (n, key) in self.keys.iter().enumerate() {
            if n > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{key:?}")?;
        }
        write!(f, " since it was read: nothing was committed")
    }
}

impl Error for ConcurrentUpdate {}

/// A `try_` operation on an STM store refused because another thread is
/// reading from or committing to the store at that moment: Axon's STM
/// `BusyRetry`. Retry it (the blocking forms wait instead).
///
/// # Examples
///
/// ```
/// use axon::stm::{BusyRetry, Store};
///
/// let store: Store<u8> = Store::new();
/// let x = loop {
///     match store.try_usevar("x") {
///         Ok(x) => break x,
///         Err(BusyRetry) => std::thread::yield_now(),
///     }
/// };
/// assert_eq!(x.version(), 0);
/// assert!(BusyRetry.to_string().contains("retry"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusyRetry;

impl fmt::Display for BusyRetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the store is busy with another thread's read or commit: retry"
        )
    }
}

impl Error for BusyRetry {}

/// Why a non-blocking STM commit (`try_commit`) wrote nothing.
///
/// # Examples
///
/// ```
/// use axon::stm::{BusyRetry, Store, TryCommitError};
///
/// let store = Store::new();
/// let mut stale = store.usevar("x");
/// store.usevar("x").commit()?; // someone else commits first
/// stale.set(1);
/// let refused = stale.try_commit().unwrap_err();
/// assert!(matches!(refused, TryCommitError::Concurrent(ref c) if c.keys() == ["x"]));
/// assert_eq!(TryCommitError::from(BusyRetry), TryCommitError::Busy(BusyRetry));
/// # Ok::<(), axon::stm::ConcurrentUpdate>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryCommitError {
    /// The store was locked by another thread; nothing was checked. Retry the
    /// commit as it is.
    Busy(BusyRetry),
    /// Some key changed since it was read. Read again and redo the work.
    Concurrent(ConcurrentUpdate),
}

impl From<BusyRetry> for TryCommitError {
    fn from(e: BusyRetry) -> Self {
        TryCommitError::Busy(e)
    }
}

impl From<ConcurrentUpdate> for TryCommitError {
    fn from(e: ConcurrentUpdate) -> Self {
        TryCommitError::Concurrent(e)
    }
}

impl fmt::Display for TryCommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryCommitError::Busy(e) => e.fmt(f),
            TryCommitError::Concurrent(e) => e.fmt(f),
        }
    }
}

impl Error for ResourceError {}

impl Error for TryCommitError {}
