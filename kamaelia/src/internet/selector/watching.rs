//! [`Watching`]: a socket the Selector watches for a component, withdrawn
//! when dropped.

use std::cell::Cell;

use axon::Inbox;

use super::messages::{Ready, Selectable, SelectorRequest};
use super::SelectorNotify;

/// A socket the Selector watches for one component, in the directions it
/// asked for, withdrawn when it is dropped: the reading at once if the
/// request that started it has been applied (the Selector lets go of the
/// socket then, and it closes with its owner's last reference), otherwise
/// by a request after that one; the writing, which may be asked for and
/// withdrawn many times, always by request, in order.
///
/// A component ending normally drops it where it is done with the socket.
/// A component stopped from outside ([`ComponentRef::stop`](axon::ComponentRef::stop),
/// a supervisor) has its body dropped while suspended, and drops it then: a
/// request sent by hand after an `await` would never be sent, and the
/// Selector, which keeps each socket it watches open, would hold the
/// connection (or a TcpServer's listening port) open for ever.
pub(crate) struct Watching {
    selector: SelectorNotify,
    selectable: Selectable,
    /// Whether it was made [`reading`](Self::reading): that stays so.
    reading: bool,
    /// Whether writability is watched now.
    writing: Cell<bool>,
}

impl Watching {
    /// Asks `selector` to tell `reply` whenever `selectable` is readable.
    pub(crate) fn reading(
        selector: SelectorNotify,
        selectable: Selectable,
        reply: Inbox<Ready>,
    ) -> Self {
        selector.send(SelectorRequest::NewReader {
            selectable: selectable.clone(),
            reply,
        });
        Watching {
            selector,
            selectable,
            reading: true,
            writing: Cell::new(false),
        }
    }

    /// Asks `selector` to tell `reply` whenever `selectable` is writable.
    pub(crate) fn writing(
        selector: SelectorNotify,
        selectable: Selectable,
        reply: Inbox<Ready>,
    ) -> Self {
        let watching = Watching {
            selector,
            selectable,
            reading: false,
            writing: Cell::new(false),
        };
        watching.watch_writes(reply);
        watching
    }

    /// Asks to be told, at `reply`, whenever the socket is writable too
    /// (nothing if already asked).
    pub(crate) fn watch_writes(&self, reply: Inbox<Ready>) {
        if !self.writing.replace(true) {
            self.selector.send(SelectorRequest::NewWriter {
                selectable: self.selectable.clone(),
                reply,
            });
        }
    }

    /// Stops the notices that the socket is writable (nothing if none were
    /// asked for).
    pub(crate) fn unwatch_writes(&self) {
        if self.writing.replace(false) {
            self.selector.send(SelectorRequest::RemoveWriter {
                selectable: self.selectable.clone(),
            });
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if self.reading {
            self.selector.stop_reading(self.selectable.clone());
        }
        self.unwatch_writes();
    }
}
