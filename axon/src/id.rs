//! Identities: [`ComponentId`], which component a thing belongs to, and
//! [`Direction`], which way a box carries messages. A leaf: it imports nothing
//! of axon's.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The identity of a component: a process-wide unique number plus the name of
/// its type, so that it displays as `Producer#3`.
///
/// Two ids are equal when their numbers are.
#[derive(Clone, Copy)]
pub struct ComponentId {
    number: u64,
    /// Its type's full name (or a kind given as such), cut to the kind only
    /// when read: most ids are never displayed, and cutting it costs a
    /// search of the name for every component made.
    kind: &'static str,
}

impl ComponentId {
    pub(crate) fn new(number: u64, kind: &'static str) -> Self {
        ComponentId { number, kind }
    }

    pub(crate) fn next(kind: &'static str) -> Self {
        ComponentId {
            number: NEXT_ID.fetch_add(1, AtomicOrdering::Relaxed),
            kind,
        }
    }

    /// The unique number (Axon's `id`).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Its type's full name, as kept (see [`kind`](Self::kind)).
    pub(crate) fn full_kind(&self) -> &'static str {
        self.kind
    }

    /// The component's kind: its type's name without the module path.
    pub fn kind(&self) -> &'static str {
        kind_in(self.kind)
    }
}

impl PartialEq for ComponentId {
    fn eq(&self, other: &Self) -> bool {
        self.number == other.number
    }
}

impl Eq for ComponentId {}

impl Hash for ComponentId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.number.hash(state)
    }
}

impl PartialOrd for ComponentId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ComponentId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.number.cmp(&other.number)
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.kind(), self.number)
    }
}

impl fmt::Debug for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The name a type gets as a component kind: its last path segment, generics
/// kept (`kamaelia::Pipeline<..>` becomes `Pipeline<..>`).
pub(crate) fn kind_of<T: ?Sized>() -> &'static str {
    kind_in(std::any::type_name::<T>())
}

/// The kind in a type's full name (a name without a path is its own kind).
fn kind_in(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    // A path's segments cannot hold a colon, so the last one ends the path:
    // a byte search, where a search for "::" sets up a substring searcher
    // (about 180 instructions for every component made).
    let start = base.rfind(':').map(|i| i + 1).unwrap_or(0);
    &full[start..]
}

/// Whether a box receives (inbox) or emits (outbox) messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Messages arrive here.
    Inbox,
    /// Messages leave from here.
    Outbox,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbox => "inbox",
            Direction::Outbox => "outbox",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    struct Pipe<T>(#[allow(dead_code)] T);

    #[test]
    fn an_ids_kind_is_its_types_name_without_the_path() {
        let id = ComponentId::next(std::any::type_name::<Echo>());
        assert_eq!(id.kind(), "Echo");
        assert_eq!(id.to_string(), format!("Echo#{}", id.number()));
        let generic = ComponentId::next(std::any::type_name::<Pipe<Echo>>());
        assert_eq!(generic.kind(), "Pipe<axon::id::tests::Echo>");
        assert_eq!(ComponentId::new(0, "(dropped)").kind(), "(dropped)");
    }
}
