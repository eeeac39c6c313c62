//! [`SelectorCore`]: what the Selector watches, and the poll that tells the
//! components.
//!
//! The core is shared by the [`Selector`](super::Selector) component (which
//! applies the requests it receives) and the scheduler's park (which polls when
//! nothing is runnable). Each poll costs what happened since the last one: the
//! notices taken (re-armed from the [`RearmQueue`]) and the events the poller
//! reports, never a pass over everything watched or muted.

use std::cell::{Cell, RefCell, RefMut};
use std::io;
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::rc::Rc;
use std::time::Duration;

use axon::{ComponentRef, Inbox, Scheduler};
use rustc_hash::FxHashMap;
use slab::Slab;

use super::messages::{Ready, Selectable, SelectorRequest};
use super::notice::{Key, Notice, RearmQueue, State};
use super::park::SelectorPark;
use crate::internet::inline_protocol::InlineProtocol;
use crate::internet::lent_protocol::{Lent, TakenBack};
use crate::sys;

/// The most reads one poll makes for a lent protocol: a peer that keeps
/// sending is read again at the next poll (the poller is level-triggered),
/// after the others.
const LENT_READS: usize = 16;

/// The most of its capacity the answer buffer keeps between polls.
const OUT_KEPT: usize = 64 * 1024;

/// The tracked value holding a scheduler's selector core.
const CORE_VALUE: &str = "kamaelia.selector.core";

/// What the Selector and its park share: the poller and what it watches.
pub(crate) struct SelectorCore {
    pub(super) poller: RefCell<sys::Poller>,
    watched: RefCell<Watched>,
    /// Events from the last wait, reused so that polling does not allocate:
    /// (key, readable, writable, peer closed).
    ready: RefCell<Vec<(usize, bool, bool, bool)>>,
    /// Where dropped notices of muted sockets queue their keys.
    rearm: Rc<RearmQueue>,
    /// The keys being re-armed, reused (swapped with the queue's buffer).
    rearming: RefCell<Vec<Key>>,
    /// How many registrations re-arming has looked at, ever: the work a poll
    /// does besides its events, which tests count.
    rearm_visits: Cell<u64>,
    /// What lent protocols' connections are read into, and their answers
    /// gathered in.
    scratch: RefCell<Vec<u8>>,
    out: RefCell<Vec<u8>>,
    /// The `notify` inbox of the Selector running on this core, where
    /// [`SelectorNotify`](super::SelectorNotify) sends; forgotten as that
    /// Selector ends.
    pub(super) notify: RefCell<Option<Inbox<SelectorRequest>>>,
    /// The thread's io_uring, which connections read and write through and
    /// the park waits in, if the kernel gave one.
    #[cfg(uring)]
    pub(super) ring: Option<super::ring::RingCore>,
}

#[derive(Default)]
struct Watched {
    /// The registrations; a registration's slot is its key in the poller.
    slots: Slab<Registration>,
    /// Slot of each watched source, by identity.
    by_source: FxHashMap<usize, usize>,
}

/// One watched source.
struct Registration {
    selectable: Selectable,
    reader: Option<Watch>,
    writer: Option<Watch>,
    /// Whether the source is in the poller now (it is left out while no
    /// direction is wanted, as a hung-up socket is reported whatever the
    /// interest).
    polled: bool,
    /// The inline protocol of the adapter reading it, while lent; made at
    /// its first lending and kept (an inline connection's protocol is lent
    /// whenever it is idle).
    lent: Option<Box<SelectorLent>>,
}

/// An inline protocol lent by the adapter reading a socket, and what
/// answering for it needs.
struct SelectorLent {
    lent: Lent,
    /// In whose span it is called.
    adapter: ComponentRef,
    /// The most one read takes (the adapter's). (The socket is the
    /// registration's own.)
    read_size: u32,
}

/// One watched direction of a source.
struct Watch {
    /// Where notices go.
    reply: Inbox<Ready>,
    /// Shared with the notice out, if one is.
    notice: Rc<Notice>,
    /// Not asked of the poller until the notice out has been taken.
    muted: bool,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.notice.retire();
    }
}

#[derive(Clone, Copy, Debug)]
enum Interest {
    Read,
    Write,
}

impl Interest {
    fn of(key: Key) -> Self {
        if key.write {
            Interest::Write
        } else {
            Interest::Read
        }
    }

    fn key(self, slot: usize) -> Key {
        Key {
            slot,
            write: matches!(self, Interest::Write),
        }
    }
}

impl Registration {
    fn watch(&mut self, interest: Interest) -> &mut Option<Watch> {
        match interest {
            Interest::Read => &mut self.reader,
            Interest::Write => &mut self.writer,
        }
    }

    /// True if watched in either direction, muted or not.
    fn is_watched(&self) -> bool {
        self.reader.is_some() || self.writer.is_some()
    }

    /// Tells the poller what this registration wants now: the watched
    /// directions that are not muted.
    fn sync(&mut self, poller: &sys::Poller, slot: usize) -> io::Result<()> {
        let wanted = |w: &Option<Watch>| w.as_ref().is_some_and(|w| !w.muted);
        let (r, w) = (wanted(&self.reader), wanted(&self.writer));
        let source = self.selectable.source();
        match (self.polled, r || w) {
            (true, true) => poller.modify(source, slot, r, w),
            (false, true) => {
                poller.add(source, slot, r, w)?;
                self.polled = true;
                Ok(())
            }
            (true, false) => {
                // Cleared whether or not the delete works: a failed delete
                // means the poller no longer has it (the socket was closed
                // under it), and adding it again must be tried afresh.
                self.polled = false;
                poller.delete(source)
            }
            (false, false) => Ok(()),
        }
    }
}

impl SelectorCore {
    fn new() -> io::Result<Self> {
        Ok(SelectorCore {
            poller: RefCell::new(sys::Poller::new()?),
            watched: RefCell::new(Watched::default()),
            ready: RefCell::new(Vec::new()),
            rearm: Rc::new(RearmQueue::default()),
            rearming: RefCell::new(Vec::new()),
            rearm_visits: Cell::new(0),
            scratch: RefCell::new(Vec::new()),
            out: RefCell::new(Vec::new()),
            notify: RefCell::new(None),
            #[cfg(uring)]
            ring: match super::ring::RingCore::new() {
                Ok(ring) => Some(ring),
                Err(e) => {
                    tracing::warn!(
                        target: "kamaelia::selector",
                        error = %e,
                        "the kernel refused an io_uring; connections use epoll"
                    );
                    None
                }
            },
        })
    }

    /// Waits for what the Selector watches (at most `timeout`) and tells its
    /// watchers: the scheduler's park. With a ring, the wait is the ring's,
    /// and the poller's events are collected when its descriptor is readable.
    pub(super) fn park(&self, timeout: Option<Duration>) -> io::Result<()> {
        #[cfg(uring)]
        if let Some(ring) = &self.ring {
            self.rearm_taken();
            let poller_ready = {
                let poller = self.poller.borrow();
                ring.park(poller.as_fd(), timeout)?
            };
            if poller_ready {
                self.poll(Some(Duration::ZERO))?;
            }
            return Ok(());
        }
        self.poll(timeout)
    }

    /// The core for `scheduler`, made (and installed as its park) on first use.
    pub(super) fn for_scheduler(scheduler: &Scheduler) -> io::Result<Rc<SelectorCore>> {
        let tracker = scheduler.tracker();
        if let Ok(core) = tracker.retrieve_value::<Rc<SelectorCore>>(CORE_VALUE) {
            return Ok(Rc::clone(&core));
        }
        let core = Rc::new(SelectorCore::new()?);
        scheduler.set_park(Box::new(SelectorPark::new(core.clone())));
        tracker
            .track_value(CORE_VALUE, core.clone())
            .map_err(io::Error::other)?;
        Ok(core)
    }

    /// How many sources are watched.
    pub(super) fn len(&self) -> usize {
        self.watched.borrow().by_source.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn apply(&self, request: SelectorRequest) {
        let result = match request {
            SelectorRequest::NewReader { selectable, reply } => {
                self.watch(selectable, Interest::Read, reply)
            }
            SelectorRequest::NewWriter { selectable, reply } => {
                self.watch(selectable, Interest::Write, reply)
            }
            SelectorRequest::RemoveReader { selectable } => {
                self.unwatch(&selectable, Interest::Read)
            }
            SelectorRequest::RemoveWriter { selectable } => {
                self.unwatch(&selectable, Interest::Write)
            }
        };
        if let Err(e) = result {
            tracing::error!(target: "kamaelia::selector", error = %e, "could not change what the selector watches");
        }
    }

    /// Starts (or extends) watching a source. As in Kamaelia, the first
    /// requester for a direction wins; a second is ignored.
    fn watch(
        &self,
        selectable: Selectable,
        interest: Interest,
        reply: Inbox<Ready>,
    ) -> io::Result<()> {
        let mut watched = self.watched.borrow_mut();
        let poller = self.poller.borrow();
        let existing = watched.by_source.get(&selectable.identity()).copied();
        let slot = existing.unwrap_or_else(|| watched.slots.vacant_key());
        let watch = Watch {
            reply,
            notice: Notice::new(interest.key(slot), self.rearm.clone()),
            muted: false,
        };
        if let Some(slot) = existing {
            let registration = &mut watched.slots[slot];
            let target = registration.watch(interest);
            if target.is_some() {
                tracing::debug!(target: "kamaelia::selector", ?selectable, ?interest, "already watched; request ignored");
                return Ok(());
            }
            *target = Some(watch);
            return registration.sync(&poller, slot);
        }
        let mut registration = Registration {
            selectable,
            reader: None,
            writer: None,
            polled: false,
            lent: None,
        };
        *registration.watch(interest) = Some(watch);
        // Added to the poller before it is recorded: a failed add leaves
        // nothing half-registered.
        registration.sync(&poller, slot)?;
        watched
            .by_source
            .insert(registration.selectable.identity(), slot);
        watched.slots.insert(registration);
        Ok(())
    }

    /// Stops watching `selectable` for reading at once, without waiting for
    /// the Selector's turn, if that can be done in order: the request that
    /// started it has been applied (then it is the only read request there
    /// was: a source's reading is asked for once and withdrawn once), and
    /// this is not called from inside a poll. True if done; otherwise the
    /// caller sends the request, to be applied after the one pending.
    pub(super) fn stop_reading_now(&self, selectable: &Selectable) -> bool {
        let (Ok(watched), Ok(poller)) = (self.watched.try_borrow_mut(), self.poller.try_borrow())
        else {
            return false;
        };
        let Some(slot) = watched.by_source.get(&selectable.identity()).copied() else {
            return false;
        };
        if watched.slots[slot].reader.is_none() {
            return false;
        }
        if let Err(e) = Self::unwatch_slot(watched, &poller, slot, selectable, Interest::Read) {
            tracing::error!(target: "kamaelia::selector", error = %e, "could not change what the selector watches");
        }
        true
    }

    /// Stops watching a source in one direction; forgets it (deleting it from
    /// the poller before letting it go) once watched in neither.
    fn unwatch(&self, selectable: &Selectable, interest: Interest) -> io::Result<()> {
        let watched = self.watched.borrow_mut();
        let poller = self.poller.borrow();
        let Some(slot) = watched.by_source.get(&selectable.identity()).copied() else {
            return Ok(());
        };
        Self::unwatch_slot(watched, &poller, slot, selectable, interest)
    }

    /// [`unwatch`](Self::unwatch) of the source registered at `slot`.
    fn unwatch_slot(
        mut watched: RefMut<'_, Watched>,
        poller: &sys::Poller,
        slot: usize,
        selectable: &Selectable,
        interest: Interest,
    ) -> io::Result<()> {
        let registration = &mut watched.slots[slot];
        // Dropping the watch retires its notice: one still out re-arms nothing.
        let gone = registration.watch(interest).take();
        if registration.is_watched() {
            let result = registration.sync(poller, slot);
            drop(watched);
            drop(gone);
            return result;
        }
        let mut registration = watched.slots.remove(slot);
        watched.by_source.remove(&selectable.identity());
        drop(watched);
        drop(gone);
        // Deleted before the last reference to the source can go (the
        // poller's invariant).
        let result = registration.sync(poller, slot);
        drop(registration);
        result
    }

    /// Waits for readiness and tells the components that asked.
    ///
    /// First re-arms the directions whose notice has been taken since the last
    /// poll (only those: see [`notice`](super::notice)). Then waits; for each
    /// event, a direction with no notice out gets one (saying whether the
    /// poller saw that the peer had closed its side), and one whose notice is
    /// still out is muted (not asked of the poller) until that notice is taken.
    ///
    /// An error concerning one socket is logged, not returned: failing the
    /// park would stop the whole scheduler.
    pub(super) fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.rearm_taken();
        let mut ready = self.ready.borrow_mut();
        ready.clear();
        self.poller
            .borrow_mut()
            .wait(timeout, |key, r, w, closed| ready.push((key, r, w, closed)))?;
        let mut watched = self.watched.borrow_mut();
        let poller = self.poller.borrow();
        for &(slot, readable, writable, peer_closed) in ready.iter() {
            let Some(registration) = watched.slots.get_mut(slot) else {
                continue;
            };
            // A lent protocol answers what came, and its adapter hears of
            // it only if it must see to something (the end of the input
            // included: its read finds it).
            let mut readable = readable;
            if readable && !peer_closed {
                let idle = registration
                    .reader
                    .as_ref()
                    .is_some_and(|watch| watch.notice.state() == State::Idle);
                let source = registration.selectable.source();
                if let Some(lent) = registration.lent.as_deref_mut() {
                    if idle && lent.lent.may_answer() {
                        readable = self.answer_lent(source, lent);
                    }
                }
            }
            let mut muted = false;
            for (interest, is_ready) in [(Interest::Read, readable), (Interest::Write, writable)] {
                let Some(watch) = registration.watch(interest).as_mut().filter(|_| is_ready) else {
                    continue;
                };
                match watch.notice.state() {
                    State::Idle => {
                        watch.notice.send(peer_closed);
                        // Refused (a full inbox): the notice comes back and is
                        // dropped, which makes it `Idle` again.
                        let _ = watch.reply.deliver(Ready::new(watch.notice.clone()));
                    }
                    State::Out => {
                        watch.notice.mute();
                        watch.muted = true;
                        muted = true;
                    }
                    State::OutMuted | State::Retired => {}
                }
            }
            if muted {
                if let Err(e) = registration.sync(&poller, slot) {
                    tracing::error!(target: "kamaelia::selector", error = %e, "could not mute a socket");
                }
            }
        }
        Ok(())
    }

    /// Lends `protocol`, of `adapter` reading `socket` (at most `read_size`
    /// bytes at a time), to the Selector: its poll answers what comes with
    /// it (see [`Lent`]). Given back if the socket is not watched for
    /// reading (yet: the Selector applies requests in its own turns).
    pub(super) fn lend(
        &self,
        socket: &Rc<TcpStream>,
        adapter: impl FnOnce() -> ComponentRef,
        read_size: usize,
        protocol: Box<dyn InlineProtocol>,
    ) -> Result<(), Box<dyn InlineProtocol>> {
        let mut watched = self.watched.borrow_mut();
        let Some(&slot) = watched.by_source.get(&identity(socket)) else {
            return Err(protocol);
        };
        let registration = &mut watched.slots[slot];
        if registration.reader.is_none() {
            return Err(protocol);
        }
        let lent = registration.lent.get_or_insert_with(|| {
            Box::new(SelectorLent {
                lent: Lent::default(),
                adapter: adapter(),
                read_size: u32::try_from(read_size).unwrap_or(u32::MAX),
            })
        });
        lent.lent.lend(protocol);
        Ok(())
    }

    /// Takes back the protocol lent for `socket`, with what its answers
    /// left.
    pub(super) fn take_back(&self, socket: &Rc<TcpStream>) -> TakenBack {
        let mut watched = self.watched.borrow_mut();
        let Some(&slot) = watched.by_source.get(&identity(socket)) else {
            return TakenBack::default();
        };
        watched.slots[slot]
            .lent
            .as_deref_mut()
            .map(|lent| lent.lent.take_back())
            .unwrap_or_default()
    }

    /// Reads what came for a lent protocol and answers it, until the socket
    /// is empty (or [`LENT_READS`] reads): whether its adapter must hear of
    /// it (to see to what was handed back, or to read the end of the input
    /// or an error itself).
    fn answer_lent(&self, socket: &dyn AsFd, lent: &mut SelectorLent) -> bool {
        let read_size = lent.read_size as usize;
        let mut scratch = self.scratch.borrow_mut();
        if scratch.len() < read_size {
            scratch.resize(read_size, 0);
        }
        let mut out = self.out.borrow_mut();
        let mut wake = false;
        for _ in 0..LENT_READS {
            match sys::recv(socket, &mut scratch[..read_size]) {
                Ok(0) => {
                    wake = true;
                    break;
                }
                Ok(n) => {
                    wake = match lent.lent.call(&lent.adapter, &scratch[..n], &mut out) {
                        Some(answer) => lent
                            .lent
                            .send(answer, &mut out, |out| sys::send_some(socket, out)),
                        None => true,
                    };
                    out.clear();
                    // A short read has emptied the socket (as the adapter
                    // reads: more is reported at the next wait).
                    if wake || n < read_size {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    lent.lent.fail(e);
                    wake = true;
                    break;
                }
            }
        }
        if out.capacity() > OUT_KEPT {
            *out = Vec::new();
        }
        wake
    }

    /// Un-mutes the directions whose notice has been taken since the last
    /// poll: the keys their notices queued, and nothing else.
    fn rearm_taken(&self) {
        let mut keys = self.rearming.borrow_mut();
        self.rearm.take_into(&mut keys);
        if keys.is_empty() {
            return;
        }
        let mut watched = self.watched.borrow_mut();
        let poller = self.poller.borrow();
        for key in keys.drain(..) {
            self.rearm_visits.set(self.rearm_visits.get() + 1);
            let Some(registration) = watched.slots.get_mut(key.slot) else {
                continue;
            };
            let Some(watch) = registration.watch(Interest::of(key)).as_mut() else {
                continue;
            };
            if !watch.muted || watch.notice.state() != State::Idle {
                continue;
            }
            watch.muted = false;
            if let Err(e) = registration.sync(&poller, key.slot) {
                tracing::error!(target: "kamaelia::selector", error = %e, "could not unmute a socket");
            }
        }
    }
}

/// A socket's identity, as a [`Selectable`] of it says it.
fn identity(socket: &Rc<TcpStream>) -> usize {
    Rc::as_ptr(socket) as *const () as usize
}

impl Drop for SelectorCore {
    fn drop(&mut self) {
        let poller = self.poller.get_mut();
        for registration in self.watched.get_mut().slots.drain() {
            if registration.polled {
                let _ = poller.delete(registration.selectable.source());
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    use axon::{Component, ComponentRef, Cx, Standard};

    use super::*;

    /// Whether the registration of `source` is muted for reading, and whether
    /// the poller is asked about it at all; `None` if it is not watched.
    pub(in crate::internet) fn read_state(
        scheduler: &Scheduler,
        source: &Selectable,
    ) -> Option<(bool, bool)> {
        let core = SelectorCore::for_scheduler(scheduler).expect("core");
        let watched = core.watched.borrow();
        let slot = *watched.by_source.get(&source.identity())?;
        let registration = &watched.slots[slot];
        let muted = registration.reader.as_ref().is_some_and(|w| w.muted);
        Some((muted, registration.polled))
    }

    /// Does nothing; only its inbox is used.
    struct Holder;

    impl Component for Holder {
        type Boxes = Standard<Ready, ()>;

        async fn main(self, _cx: Cx<Self::Boxes>) {}
    }

    /// A server holds many connections whose notices wait untaken (backed-up
    /// or half-closed): each poll must cost what changed, not what is muted.
    #[test]
    fn a_poll_looks_only_at_the_sockets_whose_notice_was_taken() {
        const SOCKETS: usize = 10_000;
        let core = SelectorCore::new().expect("core");
        let holder = ComponentRef::new(Holder);
        let notices = holder.inbox::<Ready>("inbox").expect("inbox");
        // Both ends of each pair are watched, and each has a byte to read: all
        // readable, and so all muted once their first notice is left untaken.
        let mut pairs = Vec::with_capacity(SOCKETS / 2);
        for _ in 0..SOCKETS / 2 {
            let (a, b) = UnixStream::pair().expect("socket pair");
            (&a).write_all(b"x").expect("write");
            (&b).write_all(b"x").expect("write");
            let (a, b) = (Rc::new(a), Rc::new(b));
            for end in [&a, &b] {
                core.apply(SelectorRequest::NewReader {
                    selectable: Selectable::new(end.clone()),
                    reply: notices.clone(),
                });
            }
            pairs.push((a, b));
        }
        assert_eq!(core.len(), SOCKETS);
        let muted = |core: &SelectorCore| {
            let watched = core.watched.borrow();
            watched
                .slots
                .iter()
                .filter(|(_, r)| r.reader.as_ref().is_some_and(|w| w.muted))
                .count()
        };
        // Each poll reports at most the poller's batch; keep going until every
        // socket has its notice out and is muted.
        for _ in 0..100 {
            if muted(&core) == SOCKETS {
                break;
            }
            core.poll(Some(Duration::ZERO)).expect("poll");
        }
        assert_eq!(muted(&core), SOCKETS, "every socket muted");
        assert_eq!(notices.len(), SOCKETS, "one notice each, none piled up");

        // Nothing taken: a poll re-arms nothing and looks at nothing.
        let visits = core.rearm_visits.get();
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(core.rearm_visits.get(), visits);

        // Three taken: a poll looks at those three, and they (still readable)
        // get a notice again.
        for _ in 0..3 {
            drop(notices.recv().expect("a notice"));
        }
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(core.rearm_visits.get() - visits, 3);
        assert_eq!(muted(&core), SOCKETS - 3);
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(
            notices.len(),
            SOCKETS,
            "the three re-armed sockets told again"
        );
        assert_eq!(core.rearm_visits.get() - visits, 3);
    }

    /// A component re-registering with a notice of its old registration still
    /// in its inbox is told about the new one too, and taking the old notice
    /// does not re-arm anything.
    #[test]
    fn a_notice_of_a_withdrawn_registration_is_inert() {
        let core = SelectorCore::new().expect("core");
        let holder = ComponentRef::new(Holder);
        let notices = holder.inbox::<Ready>("inbox").expect("inbox");
        let (a, b) = UnixStream::pair().expect("socket pair");
        (&b).write_all(b"x").expect("write");
        let a = Rc::new(a);
        let watch = || SelectorRequest::NewReader {
            selectable: Selectable::new(a.clone()),
            reply: notices.clone(),
        };
        core.apply(watch());
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(notices.len(), 1);
        core.apply(SelectorRequest::RemoveReader {
            selectable: Selectable::new(a.clone()),
        });
        core.apply(watch());
        // The old notice is not this registration's: a new one is sent.
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(notices.len(), 2);
        // Still out: the next poll mutes instead of sending a third.
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(notices.len(), 2);
        let visits = core.rearm_visits.get();
        drop(notices.recv());
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(
            core.rearm_visits.get(),
            visits,
            "the old notice re-arms nothing"
        );
        drop(notices.recv());
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(core.rearm_visits.get(), visits + 1);
        core.poll(Some(Duration::ZERO)).expect("poll");
        assert_eq!(notices.len(), 1, "re-armed and told again");
    }
}
