//! The boxes a component adds at run time (Axon's `addInbox`/`addOutbox`).

use std::collections::HashMap;

use slab::Slab;

use crate::boxes::ErasedBox;
use crate::id::Direction;

/// A box added at run time, with its name and doc string.
pub(crate) struct DynamicBox {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) node: ErasedBox,
}

/// The boxes added at run time. Deleted boxes' slots are reused, so a server
/// that adds and deletes boxes per connection does not grow; names are
/// indexed, so finding one does not depend on how many there are.
#[derive(Default)]
pub(crate) struct DynamicBoxes {
    pub(crate) slots: Slab<DynamicBox>,
    pub(crate) by_name: HashMap<String, usize>,
}

impl DynamicBoxes {
    pub(crate) fn get(&self, name: &str) -> Option<&DynamicBox> {
        self.by_name
            .get(name)
            .and_then(|&slot| self.slots.get(slot))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &DynamicBox> {
        self.slots.iter().map(|(_, b)| b)
    }

    /// Removes the box called `name`, if it goes in `direction`.
    pub(crate) fn remove(&mut self, name: &str, direction: Direction) -> Option<DynamicBox> {
        let slot = *self.by_name.get(name)?;
        if self.slots.get(slot)?.node.0.direction() != direction {
            return None;
        }
        self.by_name.remove(name);
        self.slots.try_remove(slot)
    }
}
