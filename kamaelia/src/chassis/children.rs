//! What every chassis does with its children: wait for them to finish, and
//! hand its own inbox's size limit on to the child that really holds the
//! messages.

use axon::{BoxSet, ComponentRef, Cx, Inbox};

/// Removes the children that have finished since the last call and returns
/// how many there were: Kamaelia's `childrenDone()`, without looking at the
/// children still running (a chassis of ten thousand pays per finish, not
/// per child per wake).
pub(crate) fn reap_finished<B: BoxSet>(cx: &Cx<B>) -> usize {
    let finished = cx.finished_children();
    for child in &finished {
        cx.remove_child(child);
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

/// Gives `child`'s inbox `name` the size limit of `own` (the chassis's inbox
/// that forwards to it), if it has none of its own.
///
/// Only the final inbox of a passthrough chain limits it, so a limit set on a
/// chassis (as a ServerCore sets one on each protocol handler) would
/// otherwise be lost once the chassis links its inbox on.
pub(crate) fn inherit_size<T: 'static>(own: &Inbox<T>, child: &ComponentRef, name: &str) {
    if let (Some(size), Ok(inbox)) = (own.size(), child.inbox::<T>(name)) {
        if inbox.size().is_none() {
            inbox.set_size(Some(size));
        }
    }
}
