//! [`Linkage`]: the record of one link, and the [`LinkBook`] in which a
//! component's postoffice keeps the links it made.
//!
//! All behaviour lives in the boxes and their graph (see `graph.rs`); a
//! linkage is a handle for unlinking and for seeing what it joins.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::hash::Hash;
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
/// a hundred thousand others recorded (a server records several per
/// connection, all with the server's own component at one end).
#[derive(Default)]
pub(crate) struct LinkBook {
    /// Every linkage, by its number (numbers grow: sorting by them gives the
    /// order the linkages were made).
    all: HashMap<u64, Linkage>,
    /// Component number -> the linkages it is an end of.
    by_component: HashMap<u64, HashSet<u64>>,
    /// Box (by address) -> the linkages it is an end of.
    by_box: HashMap<usize, HashSet<u64>>,
}

/// The address of a box, as the book's key for it.
pub(crate) fn box_key(node: &Rc<dyn AnyBox>) -> usize {
    Rc::as_ptr(node) as *const () as usize
}

fn add<K: Eq + Hash>(index: &mut HashMap<K, HashSet<u64>>, key: K, number: u64) {
    index.entry(key).or_default().insert(number);
}

fn forget<K: Eq + Hash>(index: &mut HashMap<K, HashSet<u64>>, key: K, number: u64) {
    if let Some(set) = index.get_mut(&key) {
        set.remove(&number);
        if set.is_empty() {
            index.remove(&key);
        }
    }
}

impl LinkBook {
    fn keys(linkage: &Linkage) -> ([u64; 2], [usize; 2]) {
        let inner = &linkage.inner;
        (
            [
                inner.source.component.number(),
                inner.sink.component.number(),
            ],
            [
                inner.source_box.as_ptr() as *const () as usize,
                inner.sink_box.as_ptr() as *const () as usize,
            ],
        )
    }

    pub(crate) fn insert(&mut self, linkage: Linkage) {
        let number = linkage.inner.number;
        let (components, boxes) = LinkBook::keys(&linkage);
        for component in components {
            add(&mut self.by_component, component, number);
        }
        for node in boxes {
            add(&mut self.by_box, node, number);
        }
        self.all.insert(number, linkage);
    }

    fn remove(&mut self, number: u64) -> Option<Linkage> {
        let linkage = self.all.remove(&number)?;
        let (components, boxes) = LinkBook::keys(&linkage);
        for component in components {
            forget(&mut self.by_component, component, number);
        }
        for node in boxes {
            forget(&mut self.by_box, node, number);
        }
        Some(linkage)
    }

    fn remove_all(&mut self, mut numbers: Vec<u64>) -> Vec<Linkage> {
        numbers.sort_unstable();
        numbers.into_iter().filter_map(|n| self.remove(n)).collect()
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

    /// Removes the linkages `component` is an end of, in the order they
    /// were made.
    pub(crate) fn take_component(&mut self, component: u64) -> Vec<Linkage> {
        let numbers = self
            .by_component
            .get(&component)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        self.remove_all(numbers)
    }

    /// Removes the linkages box `node` (see [`box_key`]) is an end of.
    pub(crate) fn take_box(&mut self, node: usize) -> Vec<Linkage> {
        let numbers = self
            .by_box
            .get(&node)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        self.remove_all(numbers)
    }

    /// Removes every linkage, in the order they were made.
    pub(crate) fn take_all(&mut self) -> Vec<Linkage> {
        let mut all: Vec<Linkage> = std::mem::take(self).all.into_values().collect();
        all.sort_unstable_by_key(|l| l.inner.number);
        all
    }

    /// The linkages recorded, in the order they were made.
    pub(crate) fn linkages(&self) -> Vec<Linkage> {
        let mut all: Vec<Linkage> = self.all.values().cloned().collect();
        all.sort_unstable_by_key(|l| l.inner.number);
        all
    }
}

/// A [`LinkBook`] shared by a component and its public postoffice handle.
pub(crate) type SharedBook = Rc<RefCell<LinkBook>>;
