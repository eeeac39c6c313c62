//! [`Lifecycle`]: how a connection ends, as a state machine.
//!
//! # States
//!
//! | state | means | the adapter |
//! |---|---|---|
//! | `Open` | both sides open, not told to finish | reads and writes |
//! | `PeerClosed` | the peer has closed its side, and the handler has been told ([`PeerClosed`](crate::ipc::PeerClosed)) | writes what it is given |
//! | `Flushing { peer_closed }` | told to finish (`ProducerFinished`) | writes what is queued; `peer_closed` says whether the peer has closed (and been reported) too |
//! | `Lingering(linger)` | all sent and its own side shut; waiting for the peer to close | reads: passes on what the handler still takes, and drops what it has no room for (it has finished; reading on lets the peer finish sending and see the close, where a full socket would hold it until the linger ran out) |
//! | `Closed` | done | shuts the socket, stops watching it, reports [`SocketShutdown`](crate::ipc::SocketShutdown) |
//!
//! # Transitions, one method per event
//!
//! | event | method | from → to |
//! |---|---|---|
//! | `ProducerFinished` on `control` | [`on_finish`](Lifecycle::on_finish) | `Open` → `Flushing { peer_closed: false }`; `PeerClosed` → `Flushing { peer_closed: true }`; others unchanged |
//! | `ProducerFinished` with `CloseWhenFlushed` | [`on_finish_without_linger`](Lifecycle::on_finish_without_linger) | as `on_finish`; and `Lingering` ends now |
//! | `ShutdownMicroprocess` on `control` | [`on_shutdown`](Lifecycle::on_shutdown) | any → `Closed` |
//! | the peer's end of data, all passed on | [`on_peer_closed`](Lifecycle::on_peer_closed) | `Open` → `PeerClosed` (handler told) or, with nothing linked to `signal`, `Flushing { peer_closed: true }`; `Flushing { false }` and `Lingering` → `Flushing { true }` (handler told) |
//! | nothing left to send | [`on_flushed`](Lifecycle::on_flushed) | `Flushing` → `Closed` if the peer has closed, else `Lingering` (shutting the sending side); `Lingering` → `Closed` once the peer has closed or the linger has run out |
//! | an I/O error | (the adapter returns it) | any → `Closed` |
//!
//! Rules:
//! * The handler hears of the peer's close at most once: only the moves out of
//!   `Open`, `Flushing { peer_closed: false }` and `Lingering` tell it, and
//!   none leads back to them.
//! * `Lingering` is entered only with the peer still open (a peer that had
//!   closed makes `on_flushed` close at once), so the sending side is shut
//!   exactly once, on entry; leaving it for `Flushing { peer_closed: true }`
//!   (the peer closed while the handler had queued more) ends in `Closed`.
//! * `Closed` is final: no event leaves it.

use std::time::{Duration, Instant};

/// Where a connection is in its ending; see the module's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lifecycle {
    /// Both sides open; not told to finish.
    Open,
    /// The peer has closed its side, and the handler has been told; what the
    /// handler still sends is delivered.
    PeerClosed,
    /// Told to finish: sending what is queued.
    Flushing {
        /// The peer's close has been seen (and reported) too.
        peer_closed: bool,
    },
    /// Everything sent and the sending side shut: waiting for the peer to
    /// close, for at most the linger.
    Lingering(Linger),
    /// Done.
    Closed,
}

/// How long a lingering connection waits for the peer to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Linger {
    /// For as long as the peer keeps the connection open.
    Forever,
    /// Until this instant, then closes anyway.
    Until(Instant),
}

impl Linger {
    /// The linger starting now, for a configured time (`None`: forever).
    fn starting_now(linger: Option<Duration>) -> Self {
        match linger {
            Some(time) => Linger::Until(Instant::now() + time),
            None => Linger::Forever,
        }
    }
}

/// What the adapter must do after [`Lifecycle::on_flushed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterFlush {
    /// Nothing more.
    Nothing,
    /// Shut the sending side (the peer reads the end of the data), and be
    /// woken at the linger's end if it has one.
    ShutWrite(Linger),
}

impl Lifecycle {
    /// `ProducerFinished` arrived: send what is queued, then close.
    pub(super) fn on_finish(&mut self) {
        *self = match *self {
            Lifecycle::Open => Lifecycle::Flushing { peer_closed: false },
            Lifecycle::PeerClosed => Lifecycle::Flushing { peer_closed: true },
            other => other,
        };
    }

    /// `ProducerFinished` carrying [`CloseWhenFlushed`](crate::ipc::CloseWhenFlushed)
    /// arrived (at `now`): as [`on_finish`](Self::on_finish), but a linger
    /// already begun ends now. The adapter also lingers no more from then on.
    pub(super) fn on_finish_without_linger(&mut self, now: Instant) {
        self.on_finish();
        if let Lifecycle::Lingering(_) = *self {
            *self = Lifecycle::Lingering(Linger::Until(now));
        }
    }

    /// `ShutdownMicroprocess` arrived: close now, dropping what is queued.
    pub(super) fn on_shutdown(&mut self) {
        *self = Lifecycle::Closed;
    }

    /// The peer's end of data has been read and all it sent passed on.
    /// Returns whether to tell the handler ([`PeerClosed`](crate::ipc::PeerClosed)
    /// out of `signal`), which it is if `signal_linked` and not told before.
    /// With nothing linked to `signal`, no one can finish the connection, so
    /// it finishes itself.
    pub(super) fn on_peer_closed(&mut self, signal_linked: bool) -> bool {
        match *self {
            Lifecycle::Open if signal_linked => {
                *self = Lifecycle::PeerClosed;
                true
            }
            Lifecycle::Open => {
                *self = Lifecycle::Flushing { peer_closed: true };
                false
            }
            Lifecycle::Flushing { peer_closed: false } => {
                *self = Lifecycle::Flushing { peer_closed: true };
                signal_linked
            }
            // The sending side is already shut: what is left is to send
            // anything the handler queued meanwhile, then close.
            Lifecycle::Lingering(_) => {
                *self = Lifecycle::Flushing { peer_closed: true };
                signal_linked
            }
            Lifecycle::PeerClosed
            | Lifecycle::Flushing { peer_closed: true }
            | Lifecycle::Closed => false,
        }
    }

    /// Nothing is left to send (none pending, none queued in `inbox`).
    /// `peer_eof` says whether the peer's end of data has been read (even if
    /// some of what it sent is still waiting for the handler's room: the
    /// connection closes without it, as the handler has finished). `linger`
    /// is the adapter's configured linger, `now` the time.
    pub(super) fn on_flushed(
        &mut self,
        peer_eof: bool,
        linger: Option<Duration>,
        now: Instant,
    ) -> AfterFlush {
        match *self {
            Lifecycle::Flushing { .. } | Lifecycle::Lingering(_) if peer_eof => {
                *self = Lifecycle::Closed;
            }
            Lifecycle::Flushing { peer_closed } => {
                debug_assert!(!peer_closed, "a reported peer close is an end of data");
                let linger = Linger::starting_now(linger);
                *self = Lifecycle::Lingering(linger);
                return AfterFlush::ShutWrite(linger);
            }
            Lifecycle::Lingering(Linger::Until(at)) if now >= at => {
                *self = Lifecycle::Closed;
            }
            Lifecycle::Open
            | Lifecycle::PeerClosed
            | Lifecycle::Lingering(_)
            | Lifecycle::Closed => {}
        }
        AfterFlush::Nothing
    }

    /// True once the connection is to close.
    pub(super) fn is_closed(&self) -> bool {
        *self == Lifecycle::Closed
    }

    /// True once told to finish (flushing or lingering).
    pub(super) fn is_finishing(&self) -> bool {
        matches!(self, Lifecycle::Flushing { .. } | Lifecycle::Lingering(_))
    }

    /// True while waiting for the peer to close, everything sent.
    pub(super) fn is_lingering(&self) -> bool {
        matches!(self, Lifecycle::Lingering(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handler_hears_of_the_peer_once_whatever_the_order() {
        // Peer first, then the handler finishes.
        let mut life = Lifecycle::Open;
        assert!(life.on_peer_closed(true));
        assert_eq!(life, Lifecycle::PeerClosed);
        assert!(!life.on_peer_closed(true));
        life.on_finish();
        assert_eq!(life, Lifecycle::Flushing { peer_closed: true });
        assert!(!life.on_peer_closed(true));
        let now = Instant::now();
        assert_eq!(life.on_flushed(true, None, now), AfterFlush::Nothing);
        assert!(life.is_closed());

        // The handler first, then the peer while flushing.
        let mut life = Lifecycle::Open;
        life.on_finish();
        assert!(life.on_peer_closed(true));
        assert!(!life.on_peer_closed(true));
        assert_eq!(life.on_flushed(true, None, now), AfterFlush::Nothing);
        assert!(life.is_closed());
    }

    #[test]
    fn with_nothing_linked_to_signal_a_peer_close_finishes() {
        let mut life = Lifecycle::Open;
        assert!(!life.on_peer_closed(false));
        assert_eq!(life, Lifecycle::Flushing { peer_closed: true });
    }

    #[test]
    fn flushed_before_the_peer_closes_shuts_the_sending_side_once_and_lingers() {
        let mut life = Lifecycle::Open;
        life.on_finish();
        let now = Instant::now();
        let linger = Duration::from_secs(5);
        let after = life.on_flushed(false, Some(linger), now);
        let AfterFlush::ShutWrite(Linger::Until(at)) = after else {
            panic!("expected to shut the sending side with a deadline, got {after:?}");
        };
        assert_eq!(life, Lifecycle::Lingering(Linger::Until(at)));
        assert_eq!(
            life.on_flushed(false, Some(linger), now),
            AfterFlush::Nothing
        );
        assert!(!life.is_closed(), "still within the linger");
        // The peer closes: told once, then closed.
        assert!(life.on_peer_closed(true));
        assert!(!life.on_peer_closed(true));
        assert_eq!(
            life.on_flushed(true, Some(linger), now),
            AfterFlush::Nothing
        );
        assert!(life.is_closed());
    }

    #[test]
    fn a_linger_runs_out_and_forever_does_not() {
        let mut life = Lifecycle::Flushing { peer_closed: false };
        let now = Instant::now();
        let after = life.on_flushed(false, Some(Duration::ZERO), now);
        assert!(matches!(after, AfterFlush::ShutWrite(Linger::Until(_))));
        life.on_flushed(false, None, now + Duration::from_secs(1));
        assert!(life.is_closed());

        let mut life = Lifecycle::Flushing { peer_closed: false };
        assert_eq!(
            life.on_flushed(false, None, now),
            AfterFlush::ShutWrite(Linger::Forever)
        );
        life.on_flushed(false, None, now + Duration::from_secs(3600));
        assert_eq!(life, Lifecycle::Lingering(Linger::Forever));
    }

    #[test]
    fn told_to_close_when_flushed_a_lingering_connection_closes_at_once() {
        let now = Instant::now();
        let mut life = Lifecycle::Open;
        life.on_finish();
        let linger = Some(Duration::from_secs(5));
        assert!(matches!(
            life.on_flushed(false, linger, now),
            AfterFlush::ShutWrite(_)
        ));
        life.on_finish_without_linger(now);
        assert_eq!(life.on_flushed(false, linger, now), AfterFlush::Nothing);
        assert!(life.is_closed(), "the peer is not waited for");

        // From Open, it flushes first, like any finish.
        let mut life = Lifecycle::Open;
        life.on_finish_without_linger(now);
        assert_eq!(life, Lifecycle::Flushing { peer_closed: false });
    }

    #[test]
    fn closed_is_final() {
        let mut life = Lifecycle::Open;
        life.on_shutdown();
        life.on_finish();
        assert!(!life.on_peer_closed(true));
        assert_eq!(
            life.on_flushed(false, None, Instant::now()),
            AfterFlush::Nothing
        );
        assert!(life.is_closed());
    }
}
