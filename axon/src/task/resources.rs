//! The resources a component tracks (Axon's `AdaptiveCommsComponent`
//! resource store), kept in the task's extras so that components that track
//! none pay nothing.
//!
//! Two maps, as in Axon: inbox name → resource (`trackResource`), and
//! resource → the boxes and information that go with it
//! (`trackResourceInformation`). The second is keyed by the resource itself;
//! resources of different types live in different maps, one per type, found by
//! `TypeId`.

use std::any::{type_name, Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

/// A value stored with the name of its type, for error messages.
pub(crate) struct Stored {
    pub(crate) value: Box<dyn Any>,
    pub(crate) type_name: &'static str,
}

impl Stored {
    pub(crate) fn new<T: Any>(value: T) -> Self {
        Stored {
            value: Box::new(value),
            type_name: type_name::<T>(),
        }
    }
}

/// The boxes and information tracked for one resource.
pub(crate) struct Entry {
    pub(crate) inboxes: Vec<String>,
    pub(crate) outboxes: Vec<String>,
    pub(crate) information: Stored,
}

/// What one component tracks. Empty maps do not allocate.
#[derive(Default)]
pub(crate) struct Resources {
    /// Inbox name → the resource tracked on it.
    pub(crate) by_inbox: HashMap<String, Stored>,
    /// For each resource type `R`, a `HashMap<R, Entry>`.
    by_resource: HashMap<TypeId, Box<dyn Any>>,
}

impl Resources {
    /// The map for resources of type `R`, if any were ever tracked.
    pub(crate) fn entries<R: Any + Eq + Hash>(&self) -> Option<&HashMap<R, Entry>> {
        self.by_resource
            .get(&TypeId::of::<R>())
            .and_then(|m| m.downcast_ref())
    }

    /// The map for resources of type `R`, made if need be.
    pub(crate) fn entries_mut<R: Any + Eq + Hash>(&mut self) -> &mut HashMap<R, Entry> {
        self.by_resource
            .entry(TypeId::of::<R>())
            .or_insert_with(|| Box::new(HashMap::<R, Entry>::new()))
            .downcast_mut()
            .expect("each map is keyed by its own type")
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("inboxes", &self.by_inbox.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
