//! [`Selector`]: tells components when their sockets are ready.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use axon::ipc::Ipc;
use axon::{Component, ComponentRef, Cx, Inbox, Park, Scheduler, Unparker};
use slab::Slab;

use crate::ipc::{Ready, Selectable, SelectorRequest};
use crate::sys;

/// The name under which the Selector offers its `notify` inbox (Kamaelia's
/// `"selector"` service).
pub const SELECTOR_SERVICE: &str = "selector";

/// The name under which the Selector offers its `control` inbox (Kamaelia's
/// `"selectorshutdown"` service).
pub const SELECTOR_SHUTDOWN_SERVICE: &str = "selectorshutdown";

/// The tracked value holding a scheduler's selector core.
const CORE_VALUE: &str = "kamaelia.selector.core";

axon::boxes! {
    /// The Selector's boxes.
    pub struct SelectorBoxes {
        /// Requests: [`SelectorRequest::NewReader`], `NewWriter`, `RemoveReader`,
        /// `RemoveWriter`.
        inbox notify: SelectorRequest,
        /// `Shutdown` or `ShutdownMicroprocess`: end once no socket is watched.
        inbox control: Ipc,
        /// Not used.
        outbox signal: Ipc,
    }
}

/// Tells components when sockets are ready to read or write: Kamaelia's
/// `Selector`.
///
/// A component asks by sending a [`SelectorRequest`] to the Selector's
/// `notify` inbox, naming a socket and an inbox of its own; from then on the
/// Selector sends [`Ready`] to that inbox whenever the socket is readable (or
/// writable), until asked to stop. Use [`Selector::service`] to find the
/// running Selector (or start one), as Kamaelia's `getSelectorServices`.
///
/// Readiness is level-triggered, as Kamaelia's `select()`: a socket that is
/// still ready is reported again, so a component may read as much or as little
/// as it likes per notice. Notices do not pile up: one is sent only into an
/// empty inbox, and while the last one is still there the Selector stops
/// asking the operating system about that socket (and direction). So a
/// component that cannot act on readiness now (its consumer is full, say)
/// leaves the notice in its inbox and is not woken again; taking it resumes
/// the notices. Kamaelia's Selector forgets a socket after each notice, and the
/// component must ask again; here taking the notice is asking again.
///
/// There is no Selector thread. The Selector installs itself as its
/// scheduler's [`Park`]: when no component is runnable, the scheduler waits in
/// the Selector's poll, and readiness is delivered to the components' inboxes
/// from there, so an event reaches its component in the scheduler's next cycle.
/// While components are runnable the scheduler polls without blocking every
/// [`set_io_poll_interval`](axon::Scheduler::set_io_poll_interval) cycles.
///
/// The Selector ends once it watches no socket any more (after watching at
/// least one) or when told to shut down, withdrawing its services; a later
/// [`Selector::service`] starts a new one.
///
/// # Inboxes
///
/// * `notify`: [`SelectorRequest`]s.
/// * `control`: `Shutdown` or `ShutdownMicroprocess` ends it once idle.
///
/// # Outboxes
///
/// * `signal`: not used.
pub struct Selector {
    core: Rc<SelectorCore>,
}

impl Selector {
    /// The Selector serving `scheduler`: the registered `"selector"` service if
    /// there is one, otherwise a new Selector, registered and activated.
    ///
    /// # Errors
    ///
    /// If the operating system's poller cannot be created.
    pub fn service(scheduler: &Scheduler) -> io::Result<ComponentRef> {
        let tracker = scheduler.tracker();
        if let Ok(service) = tracker.retrieve_service(SELECTOR_SERVICE) {
            if !service.component.is_finished() {
                return Ok(service.component);
            }
            let _ = tracker.deregister_service(SELECTOR_SERVICE);
            let _ = tracker.deregister_service(SELECTOR_SHUTDOWN_SERVICE);
        }
        let core = SelectorCore::for_scheduler(scheduler)?;
        let selector = ComponentRef::new(Selector { core });
        tracker
            .register_service(SELECTOR_SERVICE, &selector, "notify")
            .and_then(|()| {
                tracker.register_service(SELECTOR_SHUTDOWN_SERVICE, &selector, "control")
            })
            .map_err(io::Error::other)?;
        selector.activate_on(scheduler);
        Ok(selector)
    }
}

/// Links `cx`'s `selector_signal` outbox to the `notify` inbox of the
/// Selector serving its scheduler, starting one if need be: how TcpServer,
/// TcpClient and the adapter reach it.
pub(crate) fn link_selector<B: axon::BoxSet>(cx: &Cx<B>) -> io::Result<()> {
    let selector = Selector::service(&cx.scheduler())?;
    cx.link((cx, "selector_signal"), (&selector, "notify"))
        .map(drop)
        .map_err(io::Error::other)
}

impl Component for Selector {
    type Boxes = SelectorBoxes;

    async fn main(self, cx: Cx<SelectorBoxes>) {
        let mut served = false;
        let mut shutting_down = false;
        loop {
            for request in cx.notify.drain() {
                served = true;
                self.core.apply(request);
            }
            for message in cx.control.drain() {
                if matches!(message, Ipc::Shutdown(_)) || message.is_shutdown_microprocess() {
                    shutting_down = true;
                }
            }
            if (served || shutting_down) && self.core.is_empty() && !cx.notify.data_ready() {
                break;
            }
            cx.pause();
            cx.yield_now().await;
        }
        let tracker = cx.tracker();
        let me = cx.component();
        if tracker
            .retrieve_service(SELECTOR_SERVICE)
            .is_ok_and(|s| s.component == me)
        {
            let _ = tracker.deregister_service(SELECTOR_SERVICE);
            let _ = tracker.deregister_service(SELECTOR_SHUTDOWN_SERVICE);
        }
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("watched", &self.core.len())
            .finish()
    }
}

/// What the Selector and its park share: the poller and what it watches.
pub(crate) struct SelectorCore {
    poller: RefCell<sys::Poller>,
    watched: RefCell<Watched>,
    /// Events from the last wait, reused so that polling does not allocate.
    ready: RefCell<Vec<(usize, bool, bool)>>,
}

#[derive(Default)]
struct Watched {
    /// The registrations; a registration's slot is its key in the poller.
    slots: Slab<Registration>,
    /// Slot of each watched source, by identity.
    by_source: HashMap<usize, usize>,
    /// Slots with a muted direction, to look at before each wait.
    muted: Vec<usize>,
}

struct Registration {
    selectable: Selectable,
    reader: Option<Inbox<Ready>>,
    writer: Option<Inbox<Ready>>,
    /// Directions whose last notice has not been taken: not asked of the
    /// poller until it is.
    read_muted: bool,
    write_muted: bool,
    /// Whether the source is in the poller now (it is left out while no
    /// direction is wanted, as a hung-up socket is reported whatever the
    /// interest).
    polled: bool,
}

#[derive(Clone, Copy, Debug)]
enum Interest {
    Read,
    Write,
}

impl Registration {
    fn target(&mut self, interest: Interest) -> &mut Option<Inbox<Ready>> {
        match interest {
            Interest::Read => &mut self.reader,
            Interest::Write => &mut self.writer,
        }
    }

    fn muted(&mut self, interest: Interest) -> &mut bool {
        match interest {
            Interest::Read => &mut self.read_muted,
            Interest::Write => &mut self.write_muted,
        }
    }

    /// True if watched in either direction, muted or not.
    fn is_watched(&self) -> bool {
        self.reader.is_some() || self.writer.is_some()
    }

    fn is_muted(&self) -> bool {
        self.read_muted || self.write_muted
    }

    /// Tells the poller what this registration wants now: the watched
    /// directions that are not muted.
    fn sync(&mut self, poller: &sys::Poller, slot: usize) -> io::Result<()> {
        let r = self.reader.is_some() && !self.read_muted;
        let w = self.writer.is_some() && !self.write_muted;
        let source = self.selectable.source();
        match (self.polled, r || w) {
            (true, true) => poller.modify(source, slot, r, w),
            (false, true) => {
                poller.add(source, slot, r, w)?;
                self.polled = true;
                Ok(())
            }
            (true, false) => {
                self.polled = false;
                poller.delete(source)
            }
            (false, false) => Ok(()),
        }
    }
}

impl SelectorCore {
    /// The core for `scheduler`, made (and installed as its park) on first use.
    fn for_scheduler(scheduler: &Scheduler) -> io::Result<Rc<SelectorCore>> {
        let tracker = scheduler.tracker();
        if let Ok(core) = tracker.retrieve_value::<Rc<SelectorCore>>(CORE_VALUE) {
            return Ok(Rc::clone(&core));
        }
        let core = Rc::new(SelectorCore {
            poller: RefCell::new(sys::Poller::new()?),
            watched: RefCell::new(Watched::default()),
            ready: RefCell::new(Vec::new()),
        });
        scheduler.set_park(Box::new(SelectorPark { core: core.clone() }));
        tracker
            .track_value(CORE_VALUE, core.clone())
            .map_err(io::Error::other)?;
        Ok(core)
    }

    fn len(&self) -> usize {
        self.watched.borrow().by_source.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn apply(&self, request: SelectorRequest) {
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
        if let Some(slot) = watched.by_source.get(&selectable.identity()).copied() {
            let registration = &mut watched.slots[slot];
            let target = registration.target(interest);
            if target.is_some() {
                tracing::debug!(target: "kamaelia::selector", ?selectable, ?interest, "already watched; request ignored");
                return Ok(());
            }
            *target = Some(reply);
            return registration.sync(&poller, slot);
        }
        let mut registration = Registration {
            selectable,
            reader: None,
            writer: None,
            read_muted: false,
            write_muted: false,
            polled: false,
        };
        *registration.target(interest) = Some(reply);
        let slot = watched.slots.vacant_key();
        registration.sync(&poller, slot)?;
        watched
            .by_source
            .insert(registration.selectable.identity(), slot);
        watched.slots.insert(registration);
        Ok(())
    }

    /// Stops watching a source in one direction; forgets it (deleting it from
    /// the poller before letting it go) once watched in neither.
    fn unwatch(&self, selectable: &Selectable, interest: Interest) -> io::Result<()> {
        let mut watched = self.watched.borrow_mut();
        let poller = self.poller.borrow();
        let Some(slot) = watched.by_source.get(&selectable.identity()).copied() else {
            return Ok(());
        };
        let registration = &mut watched.slots[slot];
        *registration.target(interest) = None;
        *registration.muted(interest) = false;
        if registration.is_watched() {
            return registration.sync(&poller, slot);
        }
        let mut registration = watched.slots.remove(slot);
        watched.by_source.remove(&selectable.identity());
        drop(watched);
        // Deleted before the last reference to the source can go (the
        // poller's invariant).
        let result = registration.sync(&poller, slot);
        drop(registration);
        result
    }

    /// Waits for readiness and tells the components that asked.
    ///
    /// Readiness is level-triggered: a socket that stays ready is reported at
    /// every wait. A notice is sent only into an empty inbox; finding the last
    /// one still there, the Selector mutes that direction (stops asking the
    /// poller about it) until the notice has been taken.
    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.unmute_taken();
        let mut ready = self.ready.borrow_mut();
        ready.clear();
        self.poller
            .borrow_mut()
            .wait(timeout, |key, r, w| ready.push((key, r, w)))?;
        let mut watched = self.watched.borrow_mut();
        let watched = &mut *watched;
        let poller = self.poller.borrow();
        for &(slot, readable, writable) in ready.iter() {
            let Some(registration) = watched.slots.get_mut(slot) else {
                continue;
            };
            let mut muted = false;
            for (interest, is_ready) in [(Interest::Read, readable), (Interest::Write, writable)] {
                let Some(inbox) = registration.target(interest).as_ref().filter(|_| is_ready)
                else {
                    continue;
                };
                if inbox.is_empty() {
                    let _ = inbox.deliver(Ready);
                } else if !*registration.muted(interest) {
                    *registration.muted(interest) = true;
                    muted = true;
                }
            }
            if muted {
                let was_muted = watched.muted.contains(&slot);
                if !was_muted {
                    watched.muted.push(slot);
                }
                if let Err(e) = registration.sync(&poller, slot) {
                    tracing::error!(target: "kamaelia::selector", error = %e, "could not mute a socket");
                }
            }
        }
        Ok(())
    }

    /// Unmutes the directions whose last notice has been taken.
    ///
    /// An error here (or in muting) is logged, not returned: it concerns one
    /// socket, and failing the park would stop the whole scheduler.
    fn unmute_taken(&self) {
        let mut watched = self.watched.borrow_mut();
        if watched.muted.is_empty() {
            return;
        }
        let watched = &mut *watched;
        let poller = self.poller.borrow();
        watched.muted.retain(|&slot| {
            let Some(registration) = watched.slots.get_mut(slot) else {
                return false;
            };
            let mut changed = false;
            for interest in [Interest::Read, Interest::Write] {
                let taken = registration
                    .target(interest)
                    .as_ref()
                    .map_or(true, |inbox| inbox.is_empty());
                if *registration.muted(interest) && taken {
                    *registration.muted(interest) = false;
                    changed = true;
                }
            }
            if changed {
                if let Err(e) = registration.sync(&poller, slot) {
                    tracing::error!(target: "kamaelia::selector", error = %e, "could not unmute a socket");
                }
            }
            registration.is_muted()
        });
    }
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

/// The scheduler's idle wait, when a Selector is in use: the poller.
struct SelectorPark {
    core: Rc<SelectorCore>,
}

impl Park for SelectorPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.core.poll(timeout)
    }

    fn unparker(&self) -> Unparker {
        let notifier = self.core.poller.borrow().notifier();
        Unparker::new(move || notifier.notify())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::marker::PhantomData;
    use std::net::{Shutdown, TcpListener, TcpStream};

    use axon::Standard;
    use bytes::Bytes;

    use super::*;
    use crate::ConnectedSocketAdapter;

    /// Stays paused for ever; only its boxes are used.
    struct Idle<I, O>(PhantomData<(I, O)>);

    impl<I: 'static, O: 'static> Component for Idle<I, O> {
        type Boxes = Standard<I, O>;

        async fn main(self, cx: Cx<Standard<I, O>>) {
            loop {
                cx.pause();
                cx.yield_now().await;
            }
        }
    }

    fn idle<I: 'static, O: 'static>(scheduler: &Scheduler) -> ComponentRef {
        let c = ComponentRef::new(Idle::<I, O>(PhantomData));
        c.activate_on(scheduler);
        c
    }

    /// A connected pair on loopback: (our side, non-blocking; the peer).
    fn pair() -> (Rc<TcpStream>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("bound")).expect("connect");
        let (ours, _) = listener.accept().expect("accept");
        ours.set_nonblocking(true).expect("non-blocking");
        (Rc::new(ours), peer)
    }

    /// Runs cycles (each polls without waiting) until `done`, failing after
    /// a bound instead of spinning for ever.
    fn run_until(scheduler: &Scheduler, what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            scheduler.run_cycle();
        }
        panic!("never happened: {what}");
    }

    /// Whether the registration of `source` is muted for reading, and whether
    /// the poller is asked about it at all; `None` if it is not watched.
    fn read_state(scheduler: &Scheduler, source: &Selectable) -> Option<(bool, bool)> {
        let core = SelectorCore::for_scheduler(scheduler).expect("core");
        let watched = core.watched.borrow();
        let slot = *watched.by_source.get(&source.identity())?;
        let registration = &watched.slots[slot];
        Some((registration.read_muted, registration.polled))
    }

    #[test]
    fn a_notice_left_in_the_inbox_mutes_the_socket_until_it_is_taken() {
        let scheduler = Scheduler::new();
        let selector = Selector::service(&scheduler).expect("selector");
        let watcher = idle::<Ready, ()>(&scheduler);
        let notices = watcher.inbox::<Ready>("inbox").expect("inbox");
        let (ours, mut peer) = pair();
        let source = Selectable::new(ours.clone());
        selector
            .inbox::<SelectorRequest>("notify")
            .expect("notify")
            .deliver(SelectorRequest::NewReader {
                selectable: source.clone(),
                reply: notices.clone(),
            })
            .expect("unbounded");
        scheduler.run_cycle();
        scheduler.run_cycle();
        assert!(notices.is_empty(), "nothing to read yet");

        peer.write_all(b"one").expect("write");
        run_until(&scheduler, "a notice", || notices.len() == 1);
        // Still readable, and the notice is still there: no second notice,
        // and the poller is no longer asked about the socket.
        run_until(&scheduler, "muted", || {
            read_state(&scheduler, &source) == Some((true, false))
        });
        for _ in 0..10 {
            scheduler.run_cycle();
        }
        assert_eq!(notices.len(), 1, "notices do not pile up");
        assert_eq!(read_state(&scheduler, &source), Some((true, false)));

        // Taking the notice without reading: level-triggered, so the socket
        // is reported again.
        assert!(notices.recv().is_some());
        run_until(&scheduler, "a second notice", || notices.len() == 1);

        // Reading everything and taking the notice: no more notices until
        // more comes, here the peer's FIN alone.
        let mut buf = [0; 16];
        assert_eq!((&*ours).read(&mut buf).expect("read"), 3);
        assert!(notices.recv().is_some());
        for _ in 0..10 {
            scheduler.run_cycle();
        }
        assert!(notices.is_empty(), "nothing new to read");
        assert_eq!(read_state(&scheduler, &source), Some((false, true)));
        peer.shutdown(Shutdown::Write).expect("shutdown");
        run_until(&scheduler, "a notice of the FIN", || notices.len() == 1);
        assert_eq!((&*ours).read(&mut buf).expect("read"), 0);
    }

    #[test]
    fn an_adapter_whose_consumer_is_full_sleeps_and_loses_nothing() {
        let scheduler = Scheduler::new();
        let (ours, mut peer) = pair();
        let csa = ComponentRef::new(
            ConnectedSocketAdapter::from_shared(ours.clone())
                .expect("adapter")
                .read_size(4),
        );
        let consumer = idle::<Bytes, Bytes>(&scheduler);
        let received = consumer.inbox::<Bytes>("inbox").expect("inbox");
        received.set_size(Some(1));
        csa.link((&csa, "outbox"), (&consumer, "inbox"))
            .expect("link");
        csa.activate_on(&scheduler);

        // 4-byte reads: the first chunk fills the consumer, the second waits
        // in the adapter, the rest stays in the socket.
        peer.write_all(b"aaaabbbbccccdddd").expect("write");
        run_until(&scheduler, "the consumer full", || received.is_full());
        run_until(&scheduler, "the adapter asleep", || csa.is_paused());
        let source = Selectable::new(ours.clone());
        run_until(&scheduler, "the socket muted", || {
            read_state(&scheduler, &source) == Some((true, false))
        });
        let cycles = scheduler.cycles();
        for _ in 0..50 {
            scheduler.run_cycle();
        }
        assert!(csa.is_paused());
        assert_eq!(
            scheduler.cycles(),
            cycles,
            "nothing is resumed while nothing can move"
        );

        // Collecting, one chunk at a time, gets everything in order, and the
        // FIN after it.
        peer.shutdown(Shutdown::Write).expect("shutdown");
        let mut all = Vec::new();
        run_until(&scheduler, "all the data", || {
            all.extend(received.drain().flat_map(|b| b.to_vec()));
            all.len() == 16
        });
        assert_eq!(all, b"aaaabbbbccccdddd");
        run_until(&scheduler, "the adapter to close", || csa.is_finished());
    }
}
