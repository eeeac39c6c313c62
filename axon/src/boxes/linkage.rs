//! [`Linkage`]: the record of one link, and the [`LinkBook`] in which a
//! component's postoffice keeps the links it made.
//!
//! All behaviour lives in the boxes and their graph (see `graph.rs`); a
//! linkage is a handle for unlinking and for seeing what it joins.

use slab::Slab;
use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use crate::boxes::graph::{count_work, same_box, target_of, unlink_boxes, AnyBox};
use crate::boxes::owner::Owner;
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
    /// Numbers linkages in the order they were made, on this thread.
    number: u64,
    /// Where the book that recorded it keeps it (a linkage is recorded by
    /// the one postoffice that made it).
    slot: Cell<usize>,
    /// Its places in its source's and its sink's lists of linkages, while it
    /// is in a book.
    places: Cell<[usize; 2]>,
    passthrough: Passthrough,
    live: Cell<bool>,
    source_box: Weak<dyn AnyBox>,
    sink_box: Weak<dyn AnyBox>,
    /// The names of its two ends (component and box), taken from the boxes'
    /// owners when first asked for. A box is named by its owner, so they
    /// are also taken just before they could no longer be (see
    /// [`Linkage::remember_ends`]): kept apart, and only then, because most
    /// linkages are never asked (a server makes several per connection),
    /// and two names in every one were half its size.
    ends: OnceCell<Box<[Endpoint; 2]>>,
}

pub(crate) struct Endpoint {
    component: ComponentId,
    /// Borrowed for a declared box.
    name: Cow<'static, str>,
}

impl Endpoint {
    /// The name of `node`'s end: `named`'s, if it names it, or its
    /// owner's.
    fn of(node: &Weak<dyn AnyBox>, named: &dyn Fn(&dyn AnyBox) -> Option<Endpoint>) -> Self {
        let Some(node) = node.upgrade() else {
            return Endpoint {
                component: ComponentId::new(0, "(dropped)"),
                name: Cow::Borrowed("(dropped)"),
            };
        };
        if let Some(end) = named(&*node) {
            return end;
        }
        let label = node.label();
        Endpoint {
            component: label
                .component
                .unwrap_or_else(|| ComponentId::new(0, "(dropped)")),
            name: label.name,
        }
    }
}

impl Linkage {
    pub(crate) fn new(
        source: &Rc<dyn AnyBox>,
        sink: &Rc<dyn AnyBox>,
        passthrough: Passthrough,
    ) -> Self {
        Linkage {
            inner: Rc::new(LinkageInner {
                number: next_linkage_number(),
                slot: Cell::new(usize::MAX),
                places: Cell::new([usize::MAX; 2]),
                passthrough,
                live: Cell::new(true),
                source_box: Rc::downgrade(source),
                sink_box: Rc::downgrade(sink),
                ends: OnceCell::new(),
            }),
        }
    }

    /// The names of its ends, taken now if they were not yet.
    fn ends(&self) -> &[Endpoint; 2] {
        self.remember_ends(&|_| None)
    }

    /// Takes the names of its ends now, if it has not yet: `named` names
    /// the boxes whose owner is going (and so can no longer name them),
    /// the boxes' owners name the others. Called for every linkage that
    /// can still be seen when an owner goes, or a box is deleted, or when
    /// its book lets go of it while someone else holds it.
    pub(crate) fn remember_ends(
        &self,
        named: &dyn Fn(&dyn AnyBox) -> Option<Endpoint>,
    ) -> &[Endpoint; 2] {
        self.inner.ends.get_or_init(|| {
            Box::new([
                Endpoint::of(&self.inner.source_box, named),
                Endpoint::of(&self.inner.sink_box, named),
            ])
        })
    }

    /// The source component and box: Axon's `sourcePair()`.
    pub fn source_pair(&self) -> (ComponentId, &str) {
        let [source, _] = self.ends();
        (source.component, &source.name)
    }

    /// The sink component and box: Axon's `sinkPair()`.
    pub fn sink_pair(&self) -> (ComponentId, &str) {
        let [_, sink] = self.ends();
        (sink.component, &sink.name)
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
        let [source, sink] = self.ends();
        write!(
            f,
            "Link( source:[{},{}], sink:[{},{}] )",
            source.component, source.name, sink.component, sink.name
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

/// The linkages a postoffice has made.
///
/// The book holds them in a slab (each linkage knows its slot), and each box
/// keeps the list of linkages it is an end of (each linkage knows its place
/// in both lists). So recording or removing a linkage touches only its own
/// two boxes and the end of the slab, and finding those of one box or one
/// component looks only at that box's or component's own lists: the cost is
/// the same with ten or a hundred thousand other linkages recorded (a server
/// records several per connection, all with its own component at one end).
#[derive(Default)]
pub(crate) struct LinkBook {
    records: Slab<Linkage>,
}

impl LinkBook {
    pub(crate) fn insert(&mut self, linkage: Linkage) {
        count_work(1);
        let inner = &linkage.inner;
        let mut places = [usize::MAX; 2];
        for (place, end) in places.iter_mut().zip([&inner.source_box, &inner.sink_box]) {
            if let Some(node) = end.upgrade() {
                node.with_links(&mut |l| *place = l.ends.insert(linkage.clone()));
            }
        }
        inner.places.set(places);
        let slot = self.records.insert(linkage.clone());
        linkage.inner.slot.set(slot);
    }

    fn remove(&mut self, slot: usize) -> Option<Linkage> {
        let linkage = self.records.try_remove(slot)?;
        count_work(1);
        let inner = &linkage.inner;
        for (place, end) in inner
            .places
            .get()
            .into_iter()
            .zip([&inner.source_box, &inner.sink_box])
        {
            if let Some(node) = end.upgrade() {
                node.with_links(&mut |l| {
                    l.ends.remove(place);
                });
            }
        }
        // No box lists it now, so no owner going will name its ends: if
        // anyone but the caller holds it, it takes their names while the
        // owners can give them.
        if Rc::strong_count(&linkage.inner) > 1 {
            linkage.remember_ends(&|_| None);
        }
        Some(linkage)
    }

    /// The slot of `linkage`, if this book holds it.
    fn slot_of(&self, linkage: &Linkage) -> Option<usize> {
        let slot = linkage.inner.slot.get();
        (self.records.get(slot) == Some(linkage)).then_some(slot)
    }

    /// Removes `linkage` from the book, if it is there.
    pub(crate) fn take(&mut self, linkage: &Linkage) -> Option<Linkage> {
        self.slot_of(linkage).and_then(|slot| self.remove(slot))
    }

    pub(crate) fn contains(&self, linkage: &Linkage) -> bool {
        self.slot_of(linkage).is_some()
    }

    /// Whether it holds no linkage.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Removes the linkages this book holds that have an end at one of
    /// `nodes` (a component's boxes, or one box), in the order they were made.
    pub(crate) fn take_boxes<'a>(
        &mut self,
        nodes: impl IntoIterator<Item = &'a Rc<dyn AnyBox>>,
    ) -> Vec<Linkage> {
        let mut slots = Vec::new();
        for node in nodes {
            node.read_links(&mut |l| {
                slots.extend(l.ends.iter().filter_map(|linkage| {
                    count_work(1);
                    self.slot_of(linkage)
                }))
            });
        }
        slots.sort_unstable();
        slots.dedup();
        let mut removed: Vec<Linkage> = slots.into_iter().filter_map(|s| self.remove(s)).collect();
        removed.sort_unstable_by_key(|l| l.inner.number);
        removed
    }

    /// Removes every linkage, in the order they were made.
    pub(crate) fn take_all(&mut self) -> Vec<Linkage> {
        let slots: Vec<usize> = self.records.iter().map(|(slot, _)| slot).collect();
        let mut all: Vec<Linkage> = slots.into_iter().filter_map(|s| self.remove(s)).collect();
        all.sort_unstable_by_key(|l| l.inner.number);
        all
    }

    /// The linkages recorded, in the order they were made.
    pub(crate) fn linkages(&self) -> Vec<Linkage> {
        let mut all: Vec<Linkage> = self.records.iter().map(|(_, l)| l.clone()).collect();
        all.sort_unstable_by_key(|l| l.inner.number);
        all
    }
}

/// The book of linkages one postoffice has made, shared with the boxes' owners.
pub(crate) type SharedBook = Rc<RefCell<LinkBook>>;

/// Has every linkage that has `node` at an end, and can still be seen,
/// take the names of its ends now: `node`'s owner is going, or `node` is
/// being deleted, and `named` names what can then no longer be asked of it.
pub(crate) fn remember_ends_at(
    node: &Rc<dyn AnyBox>,
    named: &dyn Fn(&dyn AnyBox) -> Option<Endpoint>,
) {
    node.read_links(&mut |l| {
        for linkage in l.ends.iter() {
            linkage.remember_ends(named);
        }
    });
}

/// Names the boxes owned by `owner` as it would, for an owner that is
/// going (whose boxes can no longer ask it through their weak handles).
pub(crate) fn named_by(owner: &dyn Owner) -> impl Fn(&dyn AnyBox) -> Option<Endpoint> + '_ {
    move |node: &dyn AnyBox| {
        let mine = std::ptr::addr_eq(node.owner().as_ptr(), owner as *const dyn Owner);
        mine.then(|| Endpoint {
            component: owner.id(),
            name: owner.box_name(node.index()),
        })
    }
}

/// Names `node` `name`, for a box that is being deleted by `owner`.
pub(crate) fn named_as<'a>(
    node: &'a Rc<dyn AnyBox>,
    owner: ComponentId,
    name: &'a str,
) -> impl Fn(&dyn AnyBox) -> Option<Endpoint> + 'a {
    move |other: &dyn AnyBox| {
        std::ptr::addr_eq(other as *const dyn AnyBox, Rc::as_ptr(node)).then(|| Endpoint {
            component: owner,
            name: Cow::Owned(name.to_string()),
        })
    }
}
