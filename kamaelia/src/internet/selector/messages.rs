//! The Selector's messages: asking it to watch a socket
//! ([`SelectorRequest`], Kamaelia's `newReader`, `newWriter`, `removeReader`,
//! `removeWriter`), and what it answers ([`Ready`]).

use std::fmt;
use std::os::fd::AsFd;
use std::rc::Rc;

use axon::Inbox;

use super::notice::Notice;

/// "This socket may be ready": what the Selector sends to the inbox a component
/// named when it asked to be told.
///
/// Readiness is level-triggered: while the socket stays ready, taking the
/// notice brings another. A notice is *out* from the moment the Selector sends
/// it until it is dropped (which is what receiving it and letting it go does).
/// A second notice for the same socket and direction is not sent while one is
/// out, and while it is out the Selector does not watch that socket (in that
/// direction) at all. So a component may read as much as it likes per notice,
/// and one that cannot act on readiness now simply leaves the notice in its
/// inbox until it can.
///
/// A notice is a token, not a plain value: dropping it tells the Selector
/// that this socket may be watched again, at the cost of that one socket (see
/// the Selector's [re-arming](super::Selector#re-arming)). So it can be neither
/// copied nor made outside the Selector; receive it, act, and let it go.
pub struct Ready {
    notice: Rc<Notice>,
}

impl Ready {
    /// A notice for the registration that `notice` stands for, which the
    /// caller has just marked as out.
    pub(super) fn new(notice: Rc<Notice>) -> Self {
        Ready { notice }
    }

    /// True if, when this notice was sent, the peer had already closed its
    /// side (its FIN had come, or the connection had hung up): nothing will
    /// follow what is in the socket now, so a read that comes back short has
    /// reached the end of the input, without reading again to find the 0.
    ///
    /// `false` says nothing either way: it is what the portable poller (not on
    /// Linux, or with the `portable-poller` feature) always says, and what a
    /// notice says when the socket has an error (a reset, which the next read
    /// reports). Then only a read of 0 tells the end of the input.
    pub fn peer_closed(&self) -> bool {
        self.notice.peer_closed()
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        self.notice.taken();
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.peer_closed() {
            f.write_str("Ready(peer closed)")
        } else {
            f.write_str("Ready")
        }
    }
}

/// A socket (or anything with a file descriptor) that the Selector can watch.
/// The Selector keeps it open for as long as it is registered.
#[derive(Clone)]
pub struct Selectable(Rc<dyn AsFd>);

impl Selectable {
    /// Wraps a shared socket.
    pub fn new<S: AsFd + 'static>(source: Rc<S>) -> Self {
        Selectable(source)
    }

    pub(crate) fn source(&self) -> &dyn AsFd {
        &*self.0
    }

    /// Identifies the shared source, whatever handle refers to it.
    pub(crate) fn identity(&self) -> usize {
        Rc::as_ptr(&self.0) as *const () as usize
    }
}

impl fmt::Debug for Selectable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::os::fd::AsRawFd;
        write!(f, "Selectable(fd {})", self.0.as_fd().as_raw_fd())
    }
}

/// A request to the Selector's `notify` inbox: Kamaelia's `newReader`,
/// `newWriter`, `removeReader` and `removeWriter`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SelectorRequest {
    /// Send [`Ready`] to `reply` whenever `selectable` becomes readable.
    NewReader {
        /// The socket to watch.
        selectable: Selectable,
        /// Where to send [`Ready`].
        reply: Inbox<Ready>,
    },
    /// Send [`Ready`] to `reply` whenever `selectable` becomes writable.
    NewWriter {
        /// The socket to watch.
        selectable: Selectable,
        /// Where to send [`Ready`].
        reply: Inbox<Ready>,
    },
    /// Stop reporting that `selectable` is readable.
    RemoveReader {
        /// The socket.
        selectable: Selectable,
    },
    /// Stop reporting that `selectable` is writable.
    RemoveWriter {
        /// The socket.
        selectable: Selectable,
    },
}
