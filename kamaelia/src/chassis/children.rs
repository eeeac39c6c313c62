//! What every chassis does with its children: wait for them to finish, stop
//! the rest when one has panicked, and hand its own inbox's size limit on to
//! the child that really holds the messages.

use axon::{BoxSet, ComponentRef, Cx};

/// Removes the children that have finished since the last call and returns
/// how many there were: Kamaelia's `childrenDone()`, without looking at the
/// children still running (a chassis of ten thousand pays per finish, not
/// per child per wake).
///
/// A child that panicked has left a hole in the chassis's wiring (a stage
/// nothing passes through, a `signal` that will never come), and the others
/// would wait on it for ever: they are stopped, so that the chassis ends and
/// whoever made it learns (a ServerCore closes the connection of a protocol
/// handler whose component panicked, instead of holding it open).
pub(crate) fn reap_finished<B: BoxSet>(cx: &Cx<B>) -> usize {
    let finished = cx.finished_children();
    for child in &finished {
        cx.remove_child(child);
        if child.panic_message().is_some() {
            tracing::warn!(target: "kamaelia::chassis", chassis = %cx.id(), child = %child.id(), "a child panicked; stopping the others");
            for sibling in cx.child_components() {
                sibling.stop();
            }
        }
    }
    finished.len()
}

/// Sleeps until `running` children have finished, removing each.
pub(crate) async fn until_children_done<B: BoxSet>(cx: &Cx<B>, mut running: usize) {
    loop {
        running = running.saturating_sub(reap_finished(cx));
        if running == 0 {
            return;
        }
        cx.idle().await;
    }
}

/// Gives `child`'s inbox `name` the size limit `size` (the chassis's own
/// inbox's), if it has none of its own.
///
/// Only the final inbox of a passthrough chain limits it, so a limit set on a
/// chassis (as a ServerCore sets one on each protocol handler) would
/// otherwise be lost once the chassis links its inbox on; and a chassis's
/// inner links would be unbounded, so that a peer could fill the queue
/// between two of its stages.
pub(crate) fn inherit_size(size: Option<usize>, child: &ComponentRef, name: &str) {
    if let Some(size) = size {
        if matches!(child.inbox_size(name), Ok(None)) {
            let _ = child.set_inbox_size(name, Some(size));
        }
    }
}
