//! A task's family: its children, indexed so that a parent with ten thousand
//! children adds, removes and hears of one without looking at the others.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::task::TaskDyn;

/// How many children a task keeps in a plain list, looked through, before it
/// indexes them: a chassis has a few (a Pipeline one per stage), and the
/// smallest tree node and hash table that index them take some 430 bytes
/// for four, where the list takes 64; a server, with children by the
/// thousand, has them indexed.
const FEW: usize = 8;

/// A task's children, in the order they were added: up to [`FEW`] in a list,
/// then indexed by component so that adding or removing one does not look at
/// the others (a server has two per connection).
#[derive(Default)]
pub(crate) struct Children {
    /// The children while there are at most [`FEW`] (empty once indexed).
    few: Vec<Rc<dyn TaskDyn>>,
    /// The children, once there have been more than [`FEW`].
    many: Option<Box<Indexed>>,
}

/// Children indexed by component, in the order they were added.
#[derive(Default)]
struct Indexed {
    /// Numbers the children in the order they were added.
    next: u64,
    in_order: BTreeMap<u64, Rc<dyn TaskDyn>>,
    /// Component number -> its place in `in_order`.
    place: FxHashMap<u64, u64>,
}

impl Indexed {
    fn add(&mut self, child: &Rc<dyn TaskDyn>) -> bool {
        let number = child.header().number();
        if self.place.contains_key(&number) {
            return false;
        }
        self.place.insert(number, self.next);
        self.in_order.insert(self.next, child.clone());
        self.next += 1;
        true
    }
}

impl Children {
    /// Adds `child`; false if it was already there.
    pub(crate) fn add(&mut self, child: &Rc<dyn TaskDyn>) -> bool {
        if let Some(many) = &mut self.many {
            return many.add(child);
        }
        if self.contains(child) {
            return false;
        }
        if self.few.len() < FEW {
            self.few.push(child.clone());
            return true;
        }
        let mut many = Box::<Indexed>::default();
        for earlier in self.few.drain(..) {
            many.add(&earlier);
        }
        self.few = Vec::new();
        let added = many.add(child);
        self.many = Some(many);
        added
    }

    pub(crate) fn remove(&mut self, child: &Rc<dyn TaskDyn>) {
        let number = child.header().number();
        match &mut self.many {
            Some(many) => {
                if let Some(place) = many.place.remove(&number) {
                    many.in_order.remove(&place);
                }
            }
            None => {
                if let Some(i) = self.few.iter().position(|c| c.header().number() == number) {
                    self.few.remove(i);
                }
            }
        }
    }

    /// The child whose component number is `number`, if it is one.
    pub(crate) fn get(&self, number: u64) -> Option<&Rc<dyn TaskDyn>> {
        match &self.many {
            Some(many) => many
                .place
                .get(&number)
                .and_then(|place| many.in_order.get(place)),
            None => self.few.iter().find(|c| c.header().number() == number),
        }
    }

    /// Whether `child` is one of them.
    pub(crate) fn contains(&self, child: &Rc<dyn TaskDyn>) -> bool {
        self.get(child.header().number()).is_some()
    }

    /// How many children there are.
    pub(crate) fn len(&self) -> usize {
        match &self.many {
            Some(many) => many.place.len(),
            None => self.few.len(),
        }
    }

    pub(crate) fn to_vec(&self) -> Vec<Rc<dyn TaskDyn>> {
        match &self.many {
            Some(many) => many.in_order.values().cloned().collect(),
            None => self.few.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Component, ComponentRef, Cx, Standard};

    struct Idle;

    impl Component for Idle {
        type Boxes = Standard<(), ()>;

        async fn main(self, _cx: Cx<Self::Boxes>) {}
    }

    fn numbers(children: &Children) -> Vec<u64> {
        children
            .to_vec()
            .iter()
            .map(|c| c.header().number())
            .collect()
    }

    /// The same behaviour in a list and indexed: few children, exactly
    /// [`FEW`], one more (indexed on the way), and many.
    #[test]
    fn children_keep_their_order_and_are_found_listed_or_indexed() {
        for n in [3, FEW, FEW + 1, 3 * FEW] {
            let tasks: Vec<Rc<dyn TaskDyn>> = (0..n).map(|_| ComponentRef::new(Idle).0).collect();
            let mut children = Children::default();
            for task in &tasks {
                assert!(children.add(task));
                assert!(!children.add(task), "added once");
            }
            assert_eq!(children.many.is_some(), n > FEW, "{n} children");
            let all: Vec<u64> = tasks.iter().map(|t| t.header().number()).collect();
            assert_eq!(numbers(&children), all);
            assert_eq!(children.len(), n);
            for task in &tasks {
                let found = children.get(task.header().number());
                assert!(found.is_some_and(|c| Rc::ptr_eq(c, task)));
            }
            // Every other one removed: the rest keep their order.
            for task in tasks.iter().step_by(2) {
                children.remove(task);
                assert!(!children.contains(task));
            }
            let rest: Vec<u64> = all.iter().copied().skip(1).step_by(2).collect();
            assert_eq!(numbers(&children), rest);
            assert_eq!(children.len(), rest.len());
            // One removed and added again goes last.
            assert!(children.add(&tasks[0]));
            assert_eq!(numbers(&children).last(), Some(&all[0]));
        }
    }
}
