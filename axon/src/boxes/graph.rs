//! The link graph: which box feeds which, and how a link or unlink re-points
//! only what it moves.
//!
//! # Shape
//!
//! A source box has at most one sink; a sink may have many sources. Links
//! therefore form trees whose roots are boxes with no sink. When the root is an
//! inbox it is the *final destination* of every box in its tree: each outbox in
//! the tree holds a direct pointer to the root's queue (so a send is one hop)
//! and each inbox in the tree forwards to it. When the root is an outbox, sends
//! anywhere in its tree are dropped, as from any unlinked outbox.
//!
//! # Cost
//!
//! Linking box `s` under box `k` re-points only `s`'s subtree (at the root
//! found by walking up from `k`), and unlinking re-points only `s`'s subtree
//! (at `s`). Nothing else in the tree is visited, so the cost of linking a
//! new connection into an inbox that already has ten thousand sources is the
//! same as into one that has none. Each box keeps its sources in a keyed set
//! ([`Few`]) and knows its key in its sink's set, so removing one is O(1).

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::rc::{Rc, Weak};

use crate::boxes::few::Few;
use crate::boxes::inbox::InboxNode;
use crate::boxes::linkage::Linkage;
use crate::boxes::outbox::OutboxNode;
use crate::boxes::owner::Owner;
use crate::error::{BoxLabel, LinkError, LinkErrorKind};
use crate::id::Direction;

thread_local! {
    /// Boxes and linkage records looked at by linking, unlinking and their
    /// bookkeeping on this thread: what the scale tests count, so that a cost
    /// that grows with the number of sources fails a test, not a benchmark.
    static LINK_WORK: Cell<u64> = const { Cell::new(0) };
}

/// Counts `n` boxes or records looked at (see [`LINK_WORK`]).
#[inline]
pub(crate) fn count_work(n: u64) {
    LINK_WORK.with(|w| w.set(w.get() + n));
}

/// The boxes and linkage records looked at so far on this thread by
/// linking, unlinking and their bookkeeping (removing a child counts the
/// entries of its parent's list of finished children it looks at).
pub fn link_work() -> u64 {
    LINK_WORK.with(Cell::get)
}

/// A box with its message type erased: what linking and the link trees need.
pub(crate) trait AnyBox: Any {
    fn direction(&self) -> Direction;
    fn item_type(&self) -> TypeId;
    fn type_name(&self) -> &'static str;
    fn label(&self) -> BoxLabel;
    fn owner(&self) -> &Weak<dyn Owner>;
    /// The box's number among its owner's boxes (see [`Owner::box_name`]).
    fn index(&self) -> u32;
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
    /// Messages waiting in the box itself (always 0 for an outbox).
    fn len(&self) -> usize;
    /// The box's size limit (always `None` for an outbox).
    fn size(&self) -> Option<usize>;
    /// Sets the box's size limit (nothing, for an outbox).
    fn set_size(&self, size: Option<usize>);
    /// Messages the box has dropped under its overflow policy (always 0 for
    /// an outbox).
    fn dropped(&self) -> u64;
    fn with_links(&self, f: &mut dyn FnMut(&mut Links));
    /// Runs `f` on the box's links, if it has ever had any: unlike
    /// [`with_links`](Self::with_links), never allocates them (looking at
    /// every box of a component being removed must not give each one a link
    /// record it never had).
    fn read_links(&self, f: &mut dyn FnMut(&Links));
    /// Called on the root of a tree: points every box of `top`'s subtree
    /// (`top` included) at this root's final destination.
    fn adopt(self: Rc<Self>, top: &Rc<dyn AnyBox>);
    /// A new, unlinked box of the same direction and message type, owned by
    /// `owner`: for a box created to match another (a Graphline's own box).
    fn twin(&self, owner: Weak<dyn Owner>, index: u32) -> Rc<dyn AnyBox>;
}

/// Where a box sits in its link tree.
#[derive(Default)]
pub(crate) struct Links {
    /// The box this one is linked to.
    target: Option<Target>,
    /// The boxes linked to this one.
    sources: Few<Weak<dyn AnyBox>>,
    /// The recorded linkages this box is an end of (see `LinkBook`).
    pub(crate) ends: Few<Linkage>,
}

struct Target {
    node: Weak<dyn AnyBox>,
    /// This box's key in the target's `sources`.
    key: usize,
}

impl Links {
    /// Forgets the target, returning it and this box's key there.
    fn take_target(&mut self) -> Option<(Weak<dyn AnyBox>, usize)> {
        self.target.take().map(|t| (t.node, t.key))
    }

    /// Removes this box from its target's sources: for a box being dropped.
    pub(crate) fn leave_target(&mut self) {
        if let Some((target, key)) = self.take_target() {
            if let Some(target) = target.upgrade() {
                target.with_links(&mut |l| {
                    l.sources.remove(key);
                });
            }
        }
    }

    /// The box this one is linked to, if it still exists.
    pub(crate) fn target(&self) -> Option<Rc<dyn AnyBox>> {
        self.target.as_ref().and_then(|t| t.node.upgrade())
    }
}

pub(crate) fn target_of(node: &dyn AnyBox) -> Option<Rc<dyn AnyBox>> {
    let mut target = None;
    node.read_links(&mut |l| target = l.target());
    target
}

fn sources_of(node: &dyn AnyBox, into: &mut Vec<Rc<dyn AnyBox>>) {
    node.read_links(&mut |l| into.extend(l.sources.iter().filter_map(Weak::upgrade)));
}

fn root_of(node: Rc<dyn AnyBox>) -> Rc<dyn AnyBox> {
    let mut node = node;
    while let Some(next) = target_of(&*node) {
        count_work(1);
        node = next;
    }
    node
}

pub(crate) fn same_box(a: &Rc<dyn AnyBox>, b: &Rc<dyn AnyBox>) -> bool {
    std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
}

/// Points every box of `top`'s subtree (`top` included) at `root`, the final
/// inbox (or at nothing: sends are dropped). Messages queued in inboxes that
/// are no longer final move to `root`.
pub(crate) fn retarget<T: 'static>(top: &Rc<dyn AnyBox>, root: Option<&Rc<InboxNode<T>>>) {
    // The stack allocates only if `top` has sources: linking a lone outbox,
    // what a server does per connection, allocates nothing here.
    let mut stack = Vec::new();
    let mut next = Some(top.clone());
    while let Some(node) = next.take().or_else(|| stack.pop()) {
        count_work(1);
        sources_of(&*node, &mut stack);
        match node.direction() {
            Direction::Outbox => {
                if let Ok(outbox) = node.into_any().downcast::<OutboxNode<T>>() {
                    outbox.set_sink(root.cloned());
                }
            }
            Direction::Inbox => {
                if let Ok(inbox) = node.into_any().downcast::<InboxNode<T>>() {
                    let forward = root.filter(|r| !Rc::ptr_eq(r, &inbox)).cloned();
                    let moved = inbox.set_forward(forward);
                    if let Some(root) = root {
                        root.absorb(moved);
                    }
                }
            }
        }
    }
}

/// Links `source` to `sink` in the box graph, or says why not. Returns the
/// kind of link made.
pub(crate) fn link_boxes(
    source: &Rc<dyn AnyBox>,
    sink: &Rc<dyn AnyBox>,
) -> Result<crate::boxes::linkage::Passthrough, LinkError> {
    use crate::boxes::linkage::Passthrough;
    let passthrough = match (source.direction(), sink.direction()) {
        (Direction::Outbox, Direction::Inbox) => Passthrough::Normal,
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
    // Only the path from the sink up to its root is walked: its depth is the
    // length of a passthrough chain, not the number of sources.
    let mut node = Some(sink.clone());
    while let Some(n) = node {
        count_work(1);
        if same_box(&n, source) {
            return Err(LinkErrorKind::Cycle {
                source: source.label(),
                sink: sink.label(),
            }
            .into());
        }
        node = target_of(&*n);
    }
    let weak_source = Rc::downgrade(source);
    let mut key = 0;
    sink.with_links(&mut |l| key = l.sources.insert(weak_source.clone()));
    let weak_sink = Rc::downgrade(sink);
    source.with_links(&mut |l| {
        l.target = Some(Target {
            node: weak_sink.clone(),
            key,
        })
    });
    root_of(sink.clone()).adopt(source);
    Ok(passthrough)
}

/// Removes the link from `source` to `sink`, if there is one. The source
/// becomes the root of its own tree.
pub(crate) fn unlink_boxes(source: &Rc<dyn AnyBox>, sink: &Rc<dyn AnyBox>) {
    let mut key = None;
    source.with_links(&mut |l| {
        if l.target()
            .is_some_and(|t| std::ptr::addr_eq(Rc::as_ptr(&t), Rc::as_ptr(sink)))
        {
            key = l.take_target().map(|(_, key)| key);
        }
    });
    let Some(key) = key else {
        return;
    };
    sink.with_links(&mut |l| {
        l.sources.remove(key);
    });
    source.clone().adopt(source);
}

/// Removes every link into and out of `node`: for a box that is being
/// deleted, so that nothing keeps sending into a queue no one reads.
pub(crate) fn detach(node: &Rc<dyn AnyBox>) {
    if let Some(target) = target_of(&**node) {
        unlink_boxes(node, &target);
    }
    let mut sources = Vec::new();
    sources_of(&**node, &mut sources);
    for source in sources {
        unlink_boxes(&source, node);
    }
}
