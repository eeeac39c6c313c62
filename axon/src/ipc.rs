//! The messages components exchange about themselves: Axon's `Ipc` module.
//!
//! By convention a component's `signal` outbox is linked to the next component's
//! `control` inbox, and both carry [`Ipc`]:
//!
//! * [`ProducerFinished`] means "no more data is coming": finish what you have
//!   buffered, then end (and usually pass the message on out of `signal`).
//! * [`ShutdownMicroprocess`] means "stop as soon as you can".
//!
//! The other messages ([`Notify`], [`Status`], [`WouldBlock`],
//! [`ErrorInformation`], [`Shutdown`]) are carried the same way.
//! [`NewComponent`](crate::NewComponent) and [`WaitComplete`](crate::WaitComplete)
//! are yielded to the scheduler rather than sent, so they live in
//! [`yields`](crate::NewComponent).
//!
//! # Examples
//!
//! ```
//! use axon::ipc::{Ipc, ProducerFinished};
//!
//! let msg: Ipc = ProducerFinished::new().into();
//! assert!(msg.is_producer_finished());
//! assert!(!msg.is_shutdown_microprocess());
//! ```

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::id::ComponentId;

/// Any value attached to a message, shared cheaply between the copies a
/// broadcast makes. Look inside with [`Payload::downcast_ref`].
///
/// # Examples
///
/// ```
/// use axon::ipc::Payload;
///
/// let p = Payload::new(42u32);
/// assert_eq!(p.downcast_ref::<u32>(), Some(&42));
/// assert_eq!(p.downcast_ref::<String>(), None);
/// assert_eq!(format!("{p:?}"), "Payload(u32)");
/// ```
#[derive(Clone)]
pub struct Payload {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

impl Payload {
    /// Wraps a value.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Payload {
            value: Arc::new(value),
            type_name: std::any::type_name::<T>(),
        }
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The name of the wrapped value's type.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.downcast_ref::<String>() {
            return f.debug_tuple("Payload").field(s).finish();
        }
        if let Some(s) = self.downcast_ref::<&'static str>() {
            return f.debug_tuple("Payload").field(s).finish();
        }
        write!(f, "Payload({})", self.type_name)
    }
}

/// A message for a `control` inbox or from a `signal` outbox.
///
/// Each variant wraps the struct of the same name, which carries Axon's fields.
/// Use the `is_*` methods to test a message the way Axon code uses `isinstance`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Ipc {
    /// No more data will come: finish buffered work, then end.
    ProducerFinished(ProducerFinished),
    /// Stop as soon as possible.
    ShutdownMicroprocess(ShutdownMicroprocess),
    /// Axon's legacy shutdown message (prefer [`ShutdownMicroprocess`]).
    Shutdown(Shutdown),
    /// A general-purpose notification carrying a payload.
    Notify(Notify),
    /// A status report.
    Status(Status),
    /// The sender would have blocked.
    WouldBlock(WouldBlock),
    /// Something went wrong in the sender.
    ErrorInformation(ErrorInformation),
}

impl Ipc {
    /// True for [`ProducerFinished`].
    pub fn is_producer_finished(&self) -> bool {
        matches!(self, Ipc::ProducerFinished(_))
    }

    /// True for [`ShutdownMicroprocess`].
    pub fn is_shutdown_microprocess(&self) -> bool {
        matches!(self, Ipc::ShutdownMicroprocess(_))
    }

    /// True for either message that asks a component to end
    /// ([`ProducerFinished`] or [`ShutdownMicroprocess`]).
    pub fn is_end_of_stream(&self) -> bool {
        self.is_producer_finished() || self.is_shutdown_microprocess()
    }

    /// True for [`ErrorInformation`]: the sender failed. A component that
    /// receives it on `control` from the component before it in a chain
    /// usually ends and passes it on, so that the end of the chain learns
    /// what went wrong.
    pub fn is_error(&self) -> bool {
        matches!(self, Ipc::ErrorInformation(_))
    }

    /// The message of a [`ProducerFinished`], if this is one whose message is
    /// a `T`: why the producer finished.
    ///
    /// ```
    /// use axon::ipc::{Ipc, Payload, ProducerFinished};
    ///
    /// let finished: Ipc = ProducerFinished::new().with_message(Payload::new(7u32)).into();
    /// assert_eq!(finished.finished_with::<u32>(), Some(&7));
    /// assert_eq!(finished.finished_with::<String>(), None);
    /// ```
    pub fn finished_with<T: Any>(&self) -> Option<&T> {
        match self {
            Ipc::ProducerFinished(pf) => pf.message.as_ref()?.downcast_ref(),
            _ => None,
        }
    }
}

macro_rules! into_ipc {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Ipc {
            fn from(msg: $variant) -> Ipc {
                Ipc::$variant(msg)
            }
        }
    )*};
}

into_ipc!(
    ProducerFinished,
    ShutdownMicroprocess,
    Shutdown,
    Notify,
    Status,
    WouldBlock,
    ErrorInformation
);

/// "No more data is coming": Axon's `producerFinished(caller, message)`.
///
/// On receiving it a component should finish processing what it has buffered,
/// then end, usually passing the message on out of its `signal` outbox.
#[derive(Clone, Debug, Default)]
pub struct ProducerFinished {
    /// The component that finished, if it said.
    pub caller: Option<ComponentId>,
    /// Why it finished, if it said: for a network component, typically the
    /// `std::io::Error` that ended the connection.
    pub message: Option<Payload>,
}

impl ProducerFinished {
    /// A bare `producerFinished()`.
    pub fn new() -> Self {
        ProducerFinished::default()
    }

    /// A `producerFinished(caller)`.
    pub fn from(caller: ComponentId) -> Self {
        ProducerFinished {
            caller: Some(caller),
            message: None,
        }
    }

    /// Attaches a message (the reason), returning the updated value.
    pub fn with_message(mut self, message: Payload) -> Self {
        self.message = Some(message);
        self
    }
}

/// "Stop as soon as possible": Axon's `shutdownMicroprocess(*microprocesses)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownMicroprocess {
    /// The microprocesses the message concerns (often none).
    pub microprocesses: Vec<ComponentId>,
}

impl ShutdownMicroprocess {
    /// A bare `shutdownMicroprocess()`.
    pub fn new() -> Self {
        ShutdownMicroprocess::default()
    }
}

/// Axon's legacy `shutdown()` message. Axon's own docstring says to use
/// [`ShutdownMicroprocess`] instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shutdown;

/// Axon's `notify(caller, payload)`.
#[derive(Clone, Debug)]
pub struct Notify {
    /// Who sent the notification.
    pub caller: ComponentId,
    /// What it is about (Axon's `.object`).
    pub object: Payload,
}

impl Notify {
    /// A notification from `caller` about `object`.
    pub fn new(caller: ComponentId, object: Payload) -> Self {
        Notify { caller, object }
    }
}

/// Axon's `status(status)`.
#[derive(Clone, Debug)]
pub struct Status {
    /// The status being reported.
    pub status: Payload,
}

impl Status {
    /// A status report.
    pub fn new(status: Payload) -> Self {
        Status { status }
    }
}

/// Axon's `wouldblock(caller)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WouldBlock {
    /// The component that would have blocked.
    pub caller: ComponentId,
}

/// Axon's `errorInformation(caller, exception, message)`.
#[derive(Clone, Debug)]
pub struct ErrorInformation {
    /// The component the error happened in.
    pub caller: ComponentId,
    /// The error itself, if there is one.
    pub exception: Option<Arc<dyn Error + Send + Sync>>,
    /// Anything else the sender wanted to say.
    pub message: Option<Payload>,
}

impl ErrorInformation {
    /// Reports `exception`, raised in `caller`.
    pub fn new(caller: ComponentId, exception: impl Error + Send + Sync + 'static) -> Self {
        ErrorInformation {
            caller,
            exception: Some(Arc::new(exception)),
            message: None,
        }
    }
}
