//! Re-arming at the cost of the notices taken: what a [`Ready`] shares with
//! the registration that sent it.
//!
//! The Selector mutes a socket (stops asking the poller about it, in one
//! direction) while its last notice is still out, and must un-mute it once the
//! notice has been taken. Looking at every muted socket before each wait to
//! see whether its notice has gone would cost each poll as much as the number
//! of muted sockets, which on a server holding many idle-but-readable or
//! backed-up connections is most of them. Instead the notice tells the
//! Selector itself: each watched (socket, direction) has one [`Notice`],
//! shared by every [`Ready`] it sends, and dropping a `Ready` whose socket is
//! muted pushes that registration's [`Key`] onto the [`RearmQueue`]. Before
//! each wait the Selector looks at the keys queued, and only those.
//!
//! # States of a notice
//!
//! | state | means | moves to |
//! |---|---|---|
//! | `Idle` | no notice out; the next readiness sends one | `Out` when the Selector sends a `Ready` |
//! | `Out` | a `Ready` is out; the socket is still watched | `Idle` when it is dropped; `OutMuted` when the Selector finds the socket ready again meanwhile |
//! | `OutMuted` | a `Ready` is out; the socket is not watched in this direction | `Idle` when it is dropped, queueing the key |
//! | `Retired` | the registration has gone (or the Selector) | nothing: a `Ready` dropped now does nothing |
//!
//! Rules:
//! * At most one `Ready` per `Notice` is out: the Selector sends one only from
//!   `Idle`, and a `Ready` cannot be cloned.
//! * A key is queued only on `OutMuted` → `Idle`, so only for a registration
//!   that is still there (an unwatched direction is `Retired` first): the
//!   queue holds at most one key per muted direction, and each poll's re-arming
//!   costs what was taken, never what is muted.
//!
//! [`Ready`]: super::Ready

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

/// Which registration and direction a notice is for: the registration's slot
/// (its key in the poller) and whether it is for writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) slot: usize,
    pub(super) write: bool,
}

/// Where a (socket, direction)'s notice stands; see the module's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Idle,
    Out,
    OutMuted,
    Retired,
}

/// One watched (socket, direction)'s notice, shared by the registration and
/// the [`Ready`](super::Ready) it has out.
pub(super) struct Notice {
    key: Key,
    state: Cell<State>,
    /// Whether the poller had seen the peer close its side when the `Ready`
    /// out (or the last one) was sent.
    peer_closed: Cell<bool>,
    queue: Rc<RearmQueue>,
}

impl Notice {
    pub(super) fn new(key: Key, queue: Rc<RearmQueue>) -> Rc<Self> {
        Rc::new(Notice {
            key,
            state: Cell::new(State::Idle),
            peer_closed: Cell::new(false),
            queue,
        })
    }

    pub(super) fn state(&self) -> State {
        self.state.get()
    }

    /// The Selector is sending a `Ready` (`Idle` → `Out`), for an event that
    /// said whether the peer had closed its side.
    pub(super) fn send(&self, peer_closed: bool) {
        debug_assert_eq!(self.state(), State::Idle, "one notice out at a time");
        self.state.set(State::Out);
        self.peer_closed.set(peer_closed);
    }

    /// What the event of the `Ready` out (or the last sent) said of the
    /// peer: set only when a `Ready` is sent, so constant while it is out.
    pub(super) fn peer_closed(&self) -> bool {
        self.peer_closed.get()
    }

    /// The socket was found ready again while the notice is out, and the
    /// Selector stops watching it (`Out` → `OutMuted`).
    pub(super) fn mute(&self) {
        debug_assert_eq!(self.state(), State::Out, "only an out notice mutes");
        self.state.set(State::OutMuted);
    }

    /// The registration has gone: nothing is to be re-armed.
    pub(super) fn retire(&self) {
        self.state.set(State::Retired);
    }

    /// The `Ready` has been dropped: `Out` → `Idle`, or `OutMuted` → `Idle`
    /// queueing the key.
    pub(super) fn taken(&self) {
        match self.state() {
            State::Out => self.state.set(State::Idle),
            State::OutMuted => {
                self.state.set(State::Idle);
                self.queue.push(self.key);
            }
            State::Idle | State::Retired => {}
        }
    }
}

impl fmt::Debug for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notice")
            .field("key", &self.key)
            .field("state", &self.state())
            .field("peer_closed", &self.peer_closed())
            .finish()
    }
}

/// The keys of muted directions whose notice has been taken, for the Selector
/// to re-arm before its next wait.
///
/// Borrowed only for a push or a swap, never across a call out, so a `Ready`
/// dropped anywhere (even inside the Selector's own poll) can always push.
#[derive(Debug, Default)]
pub(super) struct RearmQueue {
    keys: RefCell<Vec<Key>>,
}

impl RearmQueue {
    fn push(&self, key: Key) {
        self.keys.borrow_mut().push(key);
    }

    /// Moves the queued keys into `into` (which should be empty), leaving the
    /// queue with `into`'s old buffer: no allocation once both have grown.
    pub(super) fn take_into(&self, into: &mut Vec<Key>) {
        std::mem::swap(&mut *self.keys.borrow_mut(), into);
    }
}
