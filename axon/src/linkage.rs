//! [`Linkage`]s and the rules that make a send travel any chain of them in one hop.
//!
//! # How boxes are linked
//!
//! Linking a *source* box to a *sink* box makes the source's messages go to the
//! sink. Three forms exist, as in Axon:
//!
//! | source | sink | Axon | what it is for |
//! |---|---|---|---|
//! | outbox | inbox | `passthrough=0` | one component feeding another |
//! | inbox | inbox | `passthrough=1` | a parent handing its input to a child |
//! | outbox | outbox | `passthrough=2` | a child's output leaving through its parent |
//!
//! A source has at most one sink; a sink may have many sources. The links
//! therefore form trees whose roots are boxes with no sink. When the root is an
//! inbox it is the *final destination* of every box in its tree: each outbox in
//! the tree holds a direct pointer to the root's queue (so a send is one hop),
//! each inbox in the tree forwards to it (and the messages it held when linked
//! move there), and the root wakes every outbox owner in the tree when a message
//! is collected. When the root is an outbox, sends anywhere in its tree are
//! dropped, as they are from any unlinked outbox.
//!
//! After every link or unlink the affected trees are recomputed from their
//! roots; that is rare work, done so that sending stays one pointer away.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::fmt;
use std::rc::{Rc, Weak};

use crate::box_set::Direction;
use crate::component_ref::ComponentId;
use crate::error::{BoxLabel, LinkError, LinkErrorKind};
use crate::inbox::InboxNode;
use crate::outbox::OutboxNode;
use crate::task::TaskDyn;

/// Which of Axon's three kinds of linkage this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Passthrough {
    /// Outbox to inbox (Axon's `passthrough=0`).
    None,
    /// Inbox to inbox, a parent's input forwarded to a child (`passthrough=1`).
    Inbox,
    /// Outbox to outbox, a child's output re-emitted by a parent (`passthrough=2`).
    Outbox,
}

impl Passthrough {
    /// Axon's number for this kind of linkage.
    pub fn as_axon(self) -> u8 {
        match self {
            Passthrough::None => 0,
            Passthrough::Inbox => 1,
            Passthrough::Outbox => 2,
        }
    }
}

/// A box with its message type erased: what linking and the link trees need.
pub(crate) trait AnyBox: Any {
    fn direction(&self) -> Direction;
    fn item_type(&self) -> TypeId;
    fn type_name(&self) -> &'static str;
    fn label(&self) -> BoxLabel;
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
    /// Messages waiting in the box itself (always 0 for an outbox).
    fn len(&self) -> usize;
    fn with_links(&self, f: &mut dyn FnMut(&mut Links));
    /// Recomputes the tree of which this box is the root.
    fn refresh_tree(self: Rc<Self>);
}

/// Where a box sits in its link tree.
#[derive(Default)]
pub(crate) struct Links {
    /// The box this one is linked to.
    target: Option<Weak<dyn AnyBox>>,
    /// The boxes linked to this one.
    sources: Vec<Weak<dyn AnyBox>>,
}

fn target_of(node: &dyn AnyBox) -> Option<Rc<dyn AnyBox>> {
    let mut target = None;
    node.with_links(&mut |l| target = l.target.as_ref().and_then(Weak::upgrade));
    target
}

fn sources_of(node: &dyn AnyBox) -> Vec<Rc<dyn AnyBox>> {
    let mut sources = Vec::new();
    node.with_links(&mut |l| {
        l.sources.retain(|s| s.strong_count() > 0);
        sources.extend(l.sources.iter().filter_map(Weak::upgrade));
    });
    sources
}

fn root_of(node: Rc<dyn AnyBox>) -> Rc<dyn AnyBox> {
    let mut node = node;
    while let Some(next) = target_of(&*node) {
        node = next;
    }
    node
}

fn same_box(a: &Rc<dyn AnyBox>, b: &Rc<dyn AnyBox>) -> bool {
    std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
}

/// Recomputes the tree rooted at `root`: every box in it is pointed at the
/// root's queue (or at nothing, if the root is an outbox), queued messages of
/// inboxes that are no longer final move to the root, and the root learns which
/// components to wake on collection.
pub(crate) fn refresh<T: 'static>(root: Rc<dyn AnyBox>) {
    let final_inbox: Option<Rc<InboxNode<T>>> = match root.direction() {
        Direction::Inbox => root.clone().into_any().downcast::<InboxNode<T>>().ok(),
        Direction::Outbox => None,
    };
    let mut waiters: Vec<Weak<dyn TaskDyn>> = Vec::new();
    let mut stack = sources_of(&*root);
    while let Some(node) = stack.pop() {
        stack.extend(sources_of(&*node));
        match node.direction() {
            Direction::Outbox => {
                if let Ok(outbox) = node.into_any().downcast::<OutboxNode<T>>() {
                    outbox.set_sink(final_inbox.clone());
                    let owner = outbox.owner_weak();
                    if !waiters.iter().any(|w| Weak::ptr_eq(w, &owner)) {
                        waiters.push(owner);
                    }
                }
            }
            Direction::Inbox => {
                if let Ok(inbox) = node.into_any().downcast::<InboxNode<T>>() {
                    let moved = inbox.set_forward(final_inbox.clone());
                    if let Some(target) = &final_inbox {
                        target.absorb(moved);
                    }
                }
            }
        }
    }
    match final_inbox {
        Some(inbox) => {
            let moved = inbox.set_forward(None);
            debug_assert!(moved.is_empty());
            inbox.set_pop_waiters(waiters);
        }
        None => {
            if let Ok(outbox) = root.into_any().downcast::<OutboxNode<T>>() {
                outbox.set_sink(None);
            }
        }
    }
}

/// Links `source` to `sink` in the box graph, or says why not.
pub(crate) fn link_boxes(
    source: &Rc<dyn AnyBox>,
    sink: &Rc<dyn AnyBox>,
) -> Result<Passthrough, LinkError> {
    let passthrough = match (source.direction(), sink.direction()) {
        (Direction::Outbox, Direction::Inbox) => Passthrough::None,
        (Direction::Inbox, Direction::Inbox) => Passthrough::Inbox,
        (Direction::Outbox, Direction::Outbox) => Passthrough::Outbox,
        (Direction::Inbox, Direction::Outbox) => {
            return Err(LinkErrorKind::InboxToOutbox {
                source: source.label(),
                sink: sink.label(),
            }
            .into())
        }
    };
    if source.item_type() != sink.item_type() {
        return Err(LinkErrorKind::TypeMismatch {
            source: source.label(),
            source_type: source.type_name(),
            sink: sink.label(),
            sink_type: sink.type_name(),
        }
        .into());
    }
    if let Some(current) = target_of(&**source) {
        return Err(LinkErrorKind::AlreadyLinked {
            source: source.label(),
            current: current.label(),
            requested: sink.label(),
        }
        .into());
    }
    let mut node = Some(sink.clone());
    while let Some(n) = node {
        if same_box(&n, source) {
            return Err(LinkErrorKind::Cycle {
                source: source.label(),
                sink: sink.label(),
            }
            .into());
        }
        node = target_of(&*n);
    }
    let weak_sink = Rc::downgrade(sink);
    source.with_links(&mut |l| l.target = Some(weak_sink.clone()));
    let weak_source = Rc::downgrade(source);
    sink.with_links(&mut |l| l.sources.push(weak_source.clone()));
    root_of(sink.clone()).refresh_tree();
    Ok(passthrough)
}

/// Removes the link from `source` to `sink`, if there is one.
pub(crate) fn unlink_boxes(source: &Rc<dyn AnyBox>, sink: &Rc<dyn AnyBox>) {
    match target_of(&**source) {
        Some(target) if same_box(&target, sink) => {}
        _ => return,
    }
    source.with_links(&mut |l| l.target = None);
    sink.with_links(&mut |l| {
        l.sources.retain(|s| {
            s.upgrade()
                .is_some_and(|s| !std::ptr::addr_eq(Rc::as_ptr(&s), Rc::as_ptr(source)))
        })
    });
    source.clone().refresh_tree();
    root_of(sink.clone()).refresh_tree();
}

/// Removes every link into and out of `node`: for a box that is being
/// deleted, so that nothing keeps sending into a queue no one reads.
pub(crate) fn detach(node: &Rc<dyn AnyBox>) {
    if let Some(target) = target_of(&**node) {
        unlink_boxes(node, &target);
    }
    for source in sources_of(&**node) {
        unlink_boxes(&source, node);
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
