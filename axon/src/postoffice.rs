//! [`Postoffice`]: makes linkages and remembers them so they can be removed.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::box_set::Direction;
use crate::component_ref::{AsComponent, ComponentRef};
use crate::error::LinkError;
use crate::linkage::{link_boxes, Linkage};

/// Makes linkages between boxes and keeps track of them: Axon's `postoffice`.
///
/// Every component has one, used through [`ComponentRef::link`] and
/// [`Cx::link`](crate::Cx::link); when a component finishes, every linkage its
/// postoffice made is removed. A free-standing `Postoffice` is for plain code
/// that wires components together outside any component.
///
/// Only the postoffice that made a linkage can remove it by component, as in Axon.
///
/// [`ComponentRef::link`]: crate::ComponentRef::link
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Passthrough, Postoffice, Standard};
///
/// struct Idle;
/// impl Component for Idle {
///     type Boxes = Standard<String, String>;
///     async fn main(self, _cx: Cx<Standard<String, String>>) {}
/// }
///
/// let (a, b, c) = (ComponentRef::new(Idle), ComponentRef::new(Idle), ComponentRef::new(Idle));
/// let po = Postoffice::new();
/// po.link((&a, "outbox"), (&b, "inbox"))?;
/// let l = po.link((&b, "inbox"), (&c, "inbox"))?; // passthrough: b hands its input to c
/// assert_eq!(l.passthrough(), Passthrough::Inbox);
///
/// a.outbox::<String>("outbox")?.try_send("hello".into())?;
/// assert_eq!(c.inbox::<String>("inbox")?.recv().as_deref(), Some("hello"));
///
/// po.unlink(&l);
/// a.outbox::<String>("outbox")?.try_send("bye".into())?;
/// assert_eq!(b.inbox::<String>("inbox")?.recv().as_deref(), Some("bye"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Postoffice {
    book: RefCell<Book>,
}

/// The linkages a postoffice has made, indexed so that removing those of one
/// component costs the same with ten or ten thousand others recorded (a
/// server records several per connection).
#[derive(Default)]
struct Book {
    /// Numbers the linkages in the order they were made.
    next: u64,
    /// Every linkage, by its number.
    all: BTreeMap<u64, Linkage>,
    /// (component number, linkage number) for both ends of each linkage.
    ends: BTreeSet<(u64, u64)>,
}

impl Book {
    fn ends_of(linkage: &Linkage) -> [u64; 2] {
        [
            linkage.source_pair().0.number(),
            linkage.sink_pair().0.number(),
        ]
    }

    fn insert(&mut self, linkage: Linkage) {
        let number = self.next;
        self.next += 1;
        for end in Book::ends_of(&linkage) {
            self.ends.insert((end, number));
        }
        self.all.insert(number, linkage);
    }

    fn remove(&mut self, number: u64) -> Option<Linkage> {
        let linkage = self.all.remove(&number)?;
        for end in Book::ends_of(&linkage) {
            self.ends.remove(&(end, number));
        }
        Some(linkage)
    }

    /// The numbers of the linkages `component` is an end of.
    fn of(&self, component: u64) -> Vec<u64> {
        self.ends
            .range((component, 0)..=(component, u64::MAX))
            .map(|&(_, number)| number)
            .collect()
    }

    fn find(&self, linkage: &Linkage) -> Option<u64> {
        let source = linkage.source_pair().0.number();
        self.ends
            .range((source, 0)..=(source, u64::MAX))
            .map(|&(_, number)| number)
            .find(|number| self.all.get(number) == Some(linkage))
    }
}

impl Postoffice {
    /// An empty postoffice.
    pub fn new() -> Self {
        Postoffice::default()
    }

    /// Links the `source` box to the `sink` box, each written `(&component,
    /// "boxname")`, and records the linkage.
    ///
    /// The kind of linkage follows from the boxes (see [`Passthrough`]): a
    /// source name is looked up among the outboxes first, a sink name among the
    /// inboxes first, so an outbox-to-inbox link is made whenever possible.
    ///
    /// [`Passthrough`]: crate::Passthrough
    ///
    /// # Errors
    ///
    /// [`LinkError`], naming both boxes, if a box does not exist, the boxes
    /// carry different message types, the source is already linked elsewhere
    /// (one source feeds one sink), the link goes from an inbox to an outbox, or
    /// it would close a loop of passthroughs.
    pub fn link<S, D>(&self, source: (&S, &str), sink: (&D, &str)) -> Result<Linkage, LinkError>
    where
        S: AsComponent + ?Sized,
        D: AsComponent + ?Sized,
    {
        let (source_component, source_name) = (source.0.as_component(), source.1);
        let (sink_component, sink_name) = (sink.0.as_component(), sink.1);
        let source_box = source_component
            .0
            .find_box_either(source_name, Direction::Outbox)?;
        let sink_box = sink_component
            .0
            .find_box_either(sink_name, Direction::Inbox)?;
        let passthrough = link_boxes(&source_box.0, &sink_box.0)?;
        let linkage = Linkage::new(
            (source_component.id(), source_name, &source_box.0),
            (sink_component.id(), sink_name, &sink_box.0),
            passthrough,
        );
        tracing::debug!(target: "axon::linkage", linkage = %linkage, "linked");
        self.book.borrow_mut().insert(linkage.clone());
        Ok(linkage)
    }

    /// Removes a linkage this postoffice made. Does nothing if it did not make
    /// it, or if it was already removed.
    pub fn unlink(&self, linkage: &Linkage) {
        let removed = {
            let mut book = self.book.borrow_mut();
            book.find(linkage).and_then(|number| book.remove(number))
        };
        if let Some(linkage) = removed {
            linkage.disengage();
        }
    }

    /// Removes every linkage this postoffice made whose source or sink belongs
    /// to `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        let removed: Vec<Linkage> = {
            let mut book = self.book.borrow_mut();
            book.of(component.0.header().number())
                .into_iter()
                .filter_map(|number| book.remove(number))
                .collect()
        };
        // Disengaged outside the borrow: unlinking may drop boxes, and with
        // them anything their messages own.
        for linkage in removed {
            linkage.disengage();
        }
    }

    /// Forgets the linkages this postoffice made to or from box `name` of
    /// component `component` (by number), a box that has been deleted (and
    /// so already detached from them).
    pub(crate) fn forget_box(&self, component: u64, name: &str) {
        let mut book = self.book.borrow_mut();
        let gone: Vec<u64> = book
            .of(component)
            .into_iter()
            .filter(|number| {
                book.all.get(number).is_some_and(|l| {
                    [l.source_pair(), l.sink_pair()]
                        .iter()
                        .any(|(id, end)| id.number() == component && *end == name)
                })
            })
            .collect();
        // Dropped after the borrow: a linkage may hold the last handle on a box.
        let removed: Vec<Linkage> = gone.into_iter().filter_map(|n| book.remove(n)).collect();
        drop(book);
        drop(removed);
    }

    /// Removes every linkage this postoffice made.
    pub fn unlink_all(&self) {
        let removed = std::mem::take(&mut *self.book.borrow_mut());
        for linkage in removed.all.into_values() {
            linkage.disengage();
        }
    }

    /// True if this postoffice made `linkage` and has not removed it.
    pub fn is_registered(&self, linkage: &Linkage) -> bool {
        self.book.borrow().find(linkage).is_some()
    }

    /// The linkages this postoffice has made and not removed, in the order
    /// they were made.
    pub fn linkages(&self) -> Vec<Linkage> {
        self.book.borrow().all.values().cloned().collect()
    }
}

impl fmt::Debug for Postoffice {
    /// Axon's format: `{{ POSTOFFICE: links [...] }}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{ POSTOFFICE: links {:?} }}}}", self.linkages())
    }
}
