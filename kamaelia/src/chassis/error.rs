//! [`ChassisError`]: why a chassis could not be built.

use std::error::Error;
use std::fmt;

use axon::{BoxError, LinkError};

/// Why a chassis could not be built. Each says which boxes or names are at
/// fault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChassisError {
    /// A chassis needs at least one component (Kamaelia's Pipeline fails
    /// with an `IndexError` in `main`).
    NoComponents,
    /// A Graphline was built without saying what its linkages are (Kamaelia
    /// raises `TypeError("linkages must be set")`). Say `.linkages([])` for
    /// a Graphline with none.
    LinkagesNotSet,
    /// Two Graphline children were given the same name.
    DuplicateName(String),
    /// A Graphline linkage names the Graphline itself at both ends.
    SelfToSelf {
        /// The source box, on the Graphline.
        source: String,
        /// The sink box, on the Graphline.
        sink: String,
    },
    /// A linkage was refused: the error names both boxes and both types.
    Link(LinkError),
    /// A box a chassis links is missing or carries another type than the
    /// chassis's own.
    Box(BoxError),
}

impl fmt::Display for ChassisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChassisError::NoComponents => f.write_str("a chassis needs at least one component"),
            ChassisError::LinkagesNotSet => f.write_str(
                "linkages must be set: a Graphline needs its linkages, even if there are none (`.linkages([])`)",
            ),
            ChassisError::DuplicateName(name) => {
                write!(f, "two Graphline children are both called {name:?}")
            }
            ChassisError::SelfToSelf { source, sink } => write!(
                f,
                "the linkage ({source:?} -> {sink:?}) names the Graphline itself at both ends"
            ),
            ChassisError::Link(e) => fmt::Display::fmt(e, f),
            ChassisError::Box(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl Error for ChassisError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ChassisError::Link(e) => Some(e),
            ChassisError::Box(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LinkError> for ChassisError {
    fn from(e: LinkError) -> Self {
        ChassisError::Link(e)
    }
}

impl From<BoxError> for ChassisError {
    fn from(e: BoxError) -> Self {
        ChassisError::Box(e)
    }
}
