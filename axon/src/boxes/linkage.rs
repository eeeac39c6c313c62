//! [`Linkage`]: the record of one link, and the [`LinkBook`] in which a
//! component's postoffice keeps the links it made.
//!
//! All behaviour lives in the boxes and their graph (see `graph.rs`); a
//! linkage is a handle for unlinking and for seeing what it joins.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::{Rc, Weak};

use crate::boxes::graph::{same_box, target_of, unlink_boxes, AnyBox};
use crate::id::ComponentId;

/// Which of Axon's three kinds of linkage this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Passthrough {
    /// Outbox to inbox (Axon's `passthrough=0`).
    Normal,
    /// Inbox to inbox, a parent's input forwarded to a child (`passthrough=1`).
    Inbox,
    /// Outbox to outbox, a child's output re-emitted by a parent (`passthrough=2`).
    Outbox,
}

impl Passthrough {
    /// Axon's number for this kind of linkage.
    pub fn as_axon(self) -> u8 {
        match self {
            Passthrough::Normal => 0,
            Passthrough::Inbox => 1,
            Passthrough::Outbox => 2,
        }
    }
}

/// A link between two boxes, as returned by [`Postoffice::link`]: a handle
/// for unlinking it later and for seeing what it joins.
///
/// All the behaviour lives in the boxes; the linkage only records the link.
/// Dropping it does not unlink.
///
/// [`Postoffice::link`]: crate::Postoffice::link
#[derive(Clone)]
pub struct Linkage {
    inner: Rc<LinkageInner>,
}

struct LinkageInner {
    /// Numbers linkages process-wide, so that a book finds one by number.
    number: u64,
    source: Endpoint,
    sink: Endpoint,
    passthrough: Passthrough,
    source_box: Weak<dyn AnyBox>,
    sink_box: Weak<dyn AnyBox>,
    live: Cell<bool>,
}

struct Endpoint {
    component: ComponentId,
    name: String,
}

impl Linkage {
    pub(crate) fn new(
        source: (ComponentId, &str, &Rc<dyn AnyBox>),
        sink: (ComponentId, &str, &Rc<dyn AnyBox>),
        passthrough: Passthrough,
    ) -> Self {
        Linkage {
            inner: Rc::new(LinkageInner {
                number: next_linkage_number(),
                source: Endpoint {
                    component: source.0,
                    name: source.1.to_string(),
                },
                sink: Endpoint {
                    component: sink.0,
                    name: sink.1.to_string(),
                },
                passthrough,
                source_box: Rc::downgrade(source.2),
                sink_box: Rc::downgrade(sink.2),
                live: Cell::new(true),
            }),
        }
    }

    /// The source component and box: Axon's `sourcePair()`.
    pub fn source_pair(&self) -> (ComponentId, &str) {
        (self.inner.source.component, &self.inner.source.name)
    }

    /// The sink component and box: Axon's `sinkPair()`.
    pub fn sink_pair(&self) -> (ComponentId, &str) {
        (self.inner.sink.component, &self.inner.sink.name)
    }

    /// Which kind of linkage this is.
    pub fn passthrough(&self) -> Passthrough {
        self.inner.passthrough
    }

    /// True until the linkage is unlinked, or one of its boxes is deleted.
    pub fn is_live(&self) -> bool {
        self.inner.live.get()
            && match (
                self.inner.source_box.upgrade(),
                self.inner.sink_box.upgrade(),
            ) {
                (Some(source), Some(sink)) => {
                    target_of(&*source).is_some_and(|target| same_box(&target, &sink))
                }
                _ => false,
            }
    }

    /// Removes the link from the boxes. Idempotent.
    pub(crate) fn disengage(&self) {
        if !self.inner.live.replace(false) {
            return;
        }
        if let (Some(source), Some(sink)) = (
            self.inner.source_box.upgrade(),
            self.inner.sink_box.upgrade(),
        ) {
            unlink_boxes(&source, &sink);
        }
    }
}

impl PartialEq for Linkage {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Linkage {}

impl fmt::Display for Linkage {
    /// Axon's format: `Link( source:[Producer#3,outbox], sink:[Consumer#4,inbox] )`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Link( source:[{},{}], sink:[{},{}] )",
            self.inner.source.component,
            self.inner.source.name,
            self.inner.sink.component,
            self.inner.sink.name
        )
    }
}

impl fmt::Debug for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passthrough={}",
            self,
            self.inner.passthrough.as_axon()
        )
    }
}

fn next_linkage_number() -> u64 {
    thread_local! {
        static NEXT: Cell<u64> = const { Cell::new(0) };
    }
    NEXT.with(|n| {
        let number = n.get();
        n.set(number + 1);
        number
    })
}

/// The linkages a postoffice has made, indexed so that finding or removing
/// one, those of a component, or those of one box, costs the same with ten or
/// ten thousand others recorded (a server records several per connection).
#[derive(Default)]
pub(crate) struct LinkBook {
    /// Every linkage, by its number: the order they were made.
    all: BTreeMap<u64, Linkage>,
    /// (component number, linkage number) for both ends of each linkage.
    by_component: BTreeSet<(u64, u64)>,
    /// (component number, box name, linkage number) for both ends.
    by_box: BTreeSet<(u64, String, u64)>,
}

impl LinkBook {
    fn ends(linkage: &Linkage) -> [(u64, &str); 2] {
        let inner = &linkage.inner;
        [
            (inner.source.component.number(), &inner.source.name),
            (inner.sink.component.number(), &inner.sink.name),
        ]
    }

    pub(crate) fn insert(&mut self, linkage: Linkage) {
        let number = linkage.inner.number;
        for (component, name) in LinkBook::ends(&linkage) {
            self.by_component.insert((component, number));
            self.by_box.insert((component, name.to_string(), number));
        }
        self.all.insert(number, linkage);
    }

    fn remove(&mut self, number: u64) -> Option<Linkage> {
        let linkage = self.all.remove(&number)?;
        for (component, name) in LinkBook::ends(&linkage) {
            self.by_component.remove(&(component, number));
            self.by_box.remove(&(component, name.to_string(), number));
        }
        Some(linkage)
    }

    /// Removes `linkage` from the book, if it is there.
    pub(crate) fn take(&mut self, linkage: &Linkage) -> Option<Linkage> {
        match self.all.get(&linkage.inner.number) {
            Some(found) if found == linkage => self.remove(linkage.inner.number),
            _ => None,
        }
    }

    pub(crate) fn contains(&self, linkage: &Linkage) -> bool {
        self.all.get(&linkage.inner.number) == Some(linkage)
    }

    /// Removes the linkages `component` is an end of.
    pub(crate) fn take_component(&mut self, component: u64) -> Vec<Linkage> {
        let numbers: Vec<u64> = self
            .by_component
            .range((component, 0)..=(component, u64::MAX))
            .map(|&(_, number)| number)
            .collect();
        numbers.into_iter().filter_map(|n| self.remove(n)).collect()
    }

    /// Removes the linkages box `name` of `component` is an end of.
    pub(crate) fn take_box(&mut self, component: u64, name: &str) -> Vec<Linkage> {
        let low = (component, name.to_string(), 0);
        let high = (component, name.to_string(), u64::MAX);
        let numbers: Vec<u64> = self
            .by_box
            .range(low..=high)
            .map(|(_, _, number)| *number)
            .collect();
        numbers.into_iter().filter_map(|n| self.remove(n)).collect()
    }

    /// Removes every linkage, in the order they were made.
    pub(crate) fn take_all(&mut self) -> Vec<Linkage> {
        let all = std::mem::take(self);
        all.all.into_values().collect()
    }

    /// The linkages recorded, in the order they were made.
    pub(crate) fn linkages(&self) -> Vec<Linkage> {
        self.all.values().cloned().collect()
    }
}

/// A [`LinkBook`] shared by a component and its public postoffice handle.
pub(crate) type SharedBook = Rc<RefCell<LinkBook>>;
