//! [`Postoffice`]: makes linkages and remembers them so they can be removed;
//! and [`LinkEnd`], the two ways of naming a box to link: `(&component,
//! "name")` as in Axon, or a typed box handle, which the compiler checks.

use std::fmt;
use std::marker::PhantomData;

use crate::boxes::graph::link_boxes;
use crate::boxes::linkage::SharedBook;
use crate::boxes::{ErasedBox, Inbox, Linkage, Outbox};
use crate::component_ref::{AsComponent, ComponentRef};
use crate::error::LinkError;
use crate::id::Direction;

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
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
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
#[derive(Default, Clone)]
pub struct Postoffice {
    book: SharedBook,
}

impl Postoffice {
    /// An empty postoffice.
    pub fn new() -> Self {
        Postoffice::default()
    }

    pub(crate) fn from_book(book: SharedBook) -> Self {
        Postoffice { book }
    }

    /// Links the `source` box to the `sink` box, and records the linkage.
    ///
    /// Each end is written `(&component, "boxname")`, as in Axon, or is a
    /// typed box handle (`&Outbox<T>`, `&Inbox<T>`, such as `&cx.outbox`). When
    /// both ends are typed, the compiler checks that they carry the same
    /// message type; otherwise the check is made here, and refused with an
    /// error naming both boxes and both types.
    ///
    /// The kind of linkage follows from the boxes (see [`Passthrough`]): a
    /// source name is looked up among the outboxes first, a sink name among the
    /// inboxes first, so an outbox-to-inbox link is made whenever possible.
    ///
    /// Linking costs the same however many boxes are already linked to the
    /// sink: only the source's own tree of links is re-pointed.
    ///
    /// [`Passthrough`]: crate::Passthrough
    ///
    /// # Errors
    ///
    /// [`LinkError`], naming both boxes, if a box does not exist, the boxes
    /// carry different message types, the source is already linked elsewhere
    /// (one source feeds one sink), the link goes from an inbox to an outbox, or
    /// it would close a loop of passthroughs.
    pub fn link<S, D>(&self, source: S, sink: D) -> Result<Linkage, LinkError>
    where
        S: LinkEnd,
        D: LinkEnd,
        S::Item: Agrees<D::Item>,
    {
        let source = source.resolve(Direction::Outbox)?;
        let sink = sink.resolve(Direction::Inbox)?;
        let passthrough = link_boxes(&source.0, &sink.0)?;
        let linkage = Linkage::new(&source.0, &sink.0, passthrough);
        tracing::debug!(target: "axon::linkage", linkage = %linkage, "linked");
        self.book.borrow_mut().insert(linkage.clone());
        Ok(linkage)
    }

    /// Removes a linkage this postoffice made. Does nothing if it did not make
    /// it, or if it was already removed.
    pub fn unlink(&self, linkage: &Linkage) {
        let removed = self.book.borrow_mut().take(linkage);
        if let Some(linkage) = removed {
            linkage.disengage();
        }
    }

    /// Removes every linkage this postoffice made whose source or sink belongs
    /// to `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        let removed = self.book.borrow_mut().take_boxes(&component.0.boxes());
        // Disengaged outside the borrow: unlinking may drop boxes, and with
        // them anything their messages own.
        for linkage in removed {
            linkage.disengage();
        }
    }

    /// Removes every linkage this postoffice made.
    pub fn unlink_all(&self) {
        let removed = self.book.borrow_mut().take_all();
        for linkage in removed {
            linkage.disengage();
        }
    }

    /// True if this postoffice made `linkage` and has not removed it.
    pub fn is_registered(&self, linkage: &Linkage) -> bool {
        self.book.borrow().contains(linkage)
    }

    /// The linkages this postoffice has made and not removed, in the order
    /// they were made.
    pub fn linkages(&self) -> Vec<Linkage> {
        self.book.borrow().linkages()
    }
}

/// One end of a link: `(&component, "boxname")`, or a typed box handle
/// (`&Outbox<T>`, `&Inbox<T>`).
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, Postoffice, Standard};
///
/// struct Idle;
/// impl Component for Idle {
///     type Boxes = Standard<String, String>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
///
/// let (a, b) = (ComponentRef::new(Idle), ComponentRef::new(Idle));
/// let (out, inbox) = (a.outbox::<String>("outbox")?, b.inbox::<String>("inbox")?);
/// Postoffice::new().link(&out, &inbox)?; // checked by the compiler
/// out.try_send("hi".into())?;
/// assert_eq!(inbox.recv().as_deref(), Some("hi"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Typed ends of different types do not compile:
///
/// ```compile_fail
/// # use axon::{Component, ComponentRef, Cx, Postoffice, Standard};
/// # struct Idle;
/// # impl Component for Idle {
/// #     type Boxes = Standard<String, u32>;
/// #     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// # }
/// # let a = ComponentRef::new(Idle);
/// let out = a.outbox::<u32>("outbox").unwrap();
/// let inbox = a.inbox::<String>("inbox").unwrap();
/// Postoffice::new().link(&out, &inbox);
/// ```
pub trait LinkEnd {
    /// [`Typed<T>`] for a box handle carrying `T`, [`Named`] for a box
    /// named by a string (checked when linked).
    type Item;

    /// The box this end names. `preferred` is the direction a name is
    /// looked up in first.
    #[doc(hidden)]
    fn resolve(&self, preferred: Direction) -> Result<ErasedBox, LinkError>;
}

/// The [`LinkEnd::Item`] of a box named by a string: its type is checked
/// when the link is made.
#[derive(Debug)]
pub struct Named;

/// The [`LinkEnd::Item`] of a typed box handle carrying `T`.
#[derive(Debug)]
pub struct Typed<T>(PhantomData<fn() -> T>);

/// Says that two link ends may carry the same message type: always, unless
/// both are typed handles of different types, which do not compile.
#[diagnostic::on_unimplemented(
    message = "cannot link a box carrying `{Self}` to a box carrying `{Other}`",
    label = "the two boxes carry different message types"
)]
pub trait Agrees<Other> {}

impl<T> Agrees<Typed<T>> for Typed<T> {}
impl<T> Agrees<Named> for Typed<T> {}
impl<T> Agrees<Typed<T>> for Named {}
impl Agrees<Named> for Named {}

impl<S: AsComponent + ?Sized> LinkEnd for (&S, &str) {
    type Item = Named;

    fn resolve(&self, preferred: Direction) -> Result<ErasedBox, LinkError> {
        let component = self.0.as_component();
        component.0.find_box_either(self.1, preferred)
    }
}

impl<T: 'static> LinkEnd for &Outbox<T> {
    type Item = Typed<T>;

    fn resolve(&self, _: Direction) -> Result<ErasedBox, LinkError> {
        Ok(ErasedBox(self.node().clone()))
    }
}

impl<T: 'static> LinkEnd for &Inbox<T> {
    type Item = Typed<T>;

    fn resolve(&self, _: Direction) -> Result<ErasedBox, LinkError> {
        Ok(ErasedBox(self.node().clone()))
    }
}

impl fmt::Debug for Postoffice {
    /// Axon's format: `{{ POSTOFFICE: links [...] }}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{ POSTOFFICE: links {:?} }}}}", self.linkages())
    }
}
