//! A task's family: its children, indexed so that a parent with ten thousand
//! children adds, removes and hears of one without looking at the others.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::task::TaskDyn;

/// A task's children, in the order they were added, indexed by component so
/// that adding or removing one does not look at the others (a server has two
/// per connection).
#[derive(Default)]
pub(crate) struct Children {
    /// Numbers the children in the order they were added.
    next: u64,
    in_order: BTreeMap<u64, Rc<dyn TaskDyn>>,
    /// Component number -> its place in `in_order`.
    place: FxHashMap<u64, u64>,
}

impl Children {
    /// Adds `child`; false if it was already there.
    pub(crate) fn add(&mut self, child: &Rc<dyn TaskDyn>) -> bool {
        let number = child.header().number();
        if self.place.contains_key(&number) {
            return false;
        }
        self.place.insert(number, self.next);
        self.in_order.insert(self.next, child.clone());
        self.next += 1;
        true
    }

    pub(crate) fn remove(&mut self, child: &Rc<dyn TaskDyn>) {
        if let Some(place) = self.place.remove(&child.header().number()) {
            self.in_order.remove(&place);
        }
    }

    /// The child whose component number is `number`, if it is one.
    pub(crate) fn get(&self, number: u64) -> Option<&Rc<dyn TaskDyn>> {
        self.place
            .get(&number)
            .and_then(|place| self.in_order.get(place))
    }

    /// Whether `child` is one of them.
    pub(crate) fn contains(&self, child: &Rc<dyn TaskDyn>) -> bool {
        self.place.contains_key(&child.header().number())
    }

    /// How many children there are.
    pub(crate) fn len(&self) -> usize {
        self.place.len()
    }

    pub(crate) fn to_vec(&self) -> Vec<Rc<dyn TaskDyn>> {
        self.in_order.values().cloned().collect()
    }
}
