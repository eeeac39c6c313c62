//! [`Postoffice`]: makes linkages and remembers them so they can be removed.

use std::cell::RefCell;
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
    linkages: RefCell<Vec<Linkage>>,
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
        self.linkages.borrow_mut().push(linkage.clone());
        Ok(linkage)
    }

    /// Removes a linkage this postoffice made. Does nothing if it did not make
    /// it, or if it was already removed.
    pub fn unlink(&self, linkage: &Linkage) {
        let found = {
            let mut linkages = self.linkages.borrow_mut();
            let before = linkages.len();
            linkages.retain(|l| l != linkage);
            linkages.len() != before
        };
        if found {
            linkage.disengage();
        }
    }

    /// Removes every linkage this postoffice made whose source or sink belongs
    /// to `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        let id = component.id();
        let removed: Vec<Linkage> = {
            let mut linkages = self.linkages.borrow_mut();
            let (gone, kept) = linkages.drain(..).partition(|l| l.involves(id));
            *linkages = kept;
            gone
        };
        for linkage in removed {
            linkage.disengage();
        }
    }

    /// Removes every linkage this postoffice made.
    pub fn unlink_all(&self) {
        let removed = std::mem::take(&mut *self.linkages.borrow_mut());
        for linkage in removed {
            linkage.disengage();
        }
    }

    /// True if this postoffice made `linkage` and has not removed it.
    pub fn is_registered(&self, linkage: &Linkage) -> bool {
        self.linkages.borrow().contains(linkage)
    }

    /// The linkages this postoffice has made and not removed.
    pub fn linkages(&self) -> Vec<Linkage> {
        self.linkages.borrow().clone()
    }
}

impl fmt::Debug for Postoffice {
    /// Axon's format: `{{ POSTOFFICE: links [...] }}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{{{ POSTOFFICE: links {:?} }}}}",
            self.linkages.borrow()
        )
    }
}
