//! [`ChildSpec`]: how a [`Supervisor`](super::Supervisor) makes one child,
//! and [`Restart`]: when it makes it again.

use std::fmt;
use std::marker::PhantomData;

use axon::ComponentRef;

use crate::chassis::Stage;

/// When a supervised child is made again after it has ended: OTP's restart
/// types.
///
/// A child *fails* when its body panics, or (unless the supervisor was told
/// [`error_information_is_failure(false)`](super::Supervisor::error_information_is_failure))
/// when the last thing it said on `signal` was an
/// [`ErrorInformation`](axon::ipc::ErrorInformation): Axon's way of ending
/// with an abnormal exit reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Restart {
    /// Made again whenever it ends, normally or not: a service that should
    /// always be there.
    Permanent,
    /// Made again only if it fails; a child that ends normally has done its
    /// job. The default.
    #[default]
    Transient,
    /// Never made again: once ended, it is gone (even when a sibling's failure
    /// stops it under [`AllForOne`](super::Strategy::AllForOne)).
    Temporary,
}

impl Restart {
    /// Whether a child of this type that ended (`failed` or not) is made again.
    pub(super) fn again(self, failed: bool) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => failed,
            Restart::Temporary => false,
        }
    }
}

/// Makes a fresh child.
pub(super) type Factory = Box<dyn FnMut() -> ComponentRef>;

/// How a [`Supervisor`](super::Supervisor) makes one child: a name (for the
/// log and for [`GaveUp`](super::GaveUp)), a factory called for each
/// incarnation, and a [`Restart`] type.
///
/// `I` and `O` are what the child's `inbox` takes and its `outbox` sends, so
/// that the supervisor can check them against its own at compile time.
///
/// # Examples
///
/// ```
/// use axon::{Component, Cx, Standard};
/// use kamaelia::chassis::{ChildSpec, Restart};
///
/// struct Worker;
/// impl Component for Worker {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
///
/// let spec = ChildSpec::new("worker", || Worker).restart(Restart::Permanent);
/// assert_eq!(spec.name(), "worker");
/// assert_eq!(spec.restart_type(), Restart::Permanent);
/// ```
pub struct ChildSpec<I, O> {
    pub(super) spec: Spec,
    types: PhantomData<fn(I) -> O>,
}

/// A [`ChildSpec`] without its types, once they have been checked.
pub(super) struct Spec {
    pub(super) name: String,
    pub(super) factory: Factory,
    pub(super) restart: Restart,
}

impl<I: 'static, O: 'static> ChildSpec<I, O> {
    /// A [`Transient`](Restart::Transient) child called `name`, each
    /// incarnation made by `factory`.
    pub fn new<S, F>(name: impl Into<String>, mut factory: F) -> Self
    where
        F: FnMut() -> S + 'static,
        S: Stage<In = I, Out = O>,
    {
        ChildSpec {
            spec: Spec {
                name: name.into(),
                factory: Box::new(move || factory().into_component()),
                restart: Restart::default(),
            },
            types: PhantomData,
        }
    }

    /// Sets when the child is made again (default [`Restart::Transient`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.spec.restart = restart;
        self
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// When the child is made again.
    pub fn restart_type(&self) -> Restart {
        self.spec.restart
    }
}

impl<I, O> fmt::Debug for ChildSpec<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.spec.name)
            .field("restart", &self.spec.restart)
            .finish_non_exhaustive()
    }
}
