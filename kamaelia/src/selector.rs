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
/// Selector sends [`Ready`] to that inbox whenever the socket becomes readable
/// (or writable), until asked to stop. Use [`Selector::service`] to find the
/// running Selector (or start one), as Kamaelia's `getSelectorServices`.
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
}

struct Registration {
    selectable: Selectable,
    reader: Option<Inbox<Ready>>,
    writer: Option<Inbox<Ready>>,
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

    fn interests(&self) -> (bool, bool) {
        (self.reader.is_some(), self.writer.is_some())
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
            let (r, w) = registration.interests();
            return poller.modify(registration.selectable.source(), slot, r, w);
        }
        let mut registration = Registration {
            selectable,
            reader: None,
            writer: None,
        };
        *registration.target(interest) = Some(reply);
        let slot = watched.slots.vacant_key();
        let (r, w) = registration.interests();
        poller.add(registration.selectable.source(), slot, r, w)?;
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
        let (r, w) = registration.interests();
        if r || w {
            return poller.modify(registration.selectable.source(), slot, r, w);
        }
        let registration = watched.slots.remove(slot);
        watched.by_source.remove(&selectable.identity());
        drop(watched);
        // Deleted before the last reference to the source can go (the
        // poller's invariant).
        let result = poller.delete(registration.selectable.source());
        drop(registration);
        result
    }

    /// Waits for readiness and tells the components that asked.
    fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        let mut ready = self.ready.borrow_mut();
        ready.clear();
        self.poller
            .borrow_mut()
            .wait(timeout, |key, r, w| ready.push((key, r, w)))?;
        for &(slot, readable, writable) in ready.iter() {
            let targets = {
                let watched = self.watched.borrow();
                match watched.slots.get(slot) {
                    Some(reg) => (
                        reg.reader.clone().filter(|_| readable),
                        reg.writer.clone().filter(|_| writable),
                    ),
                    None => continue,
                }
            };
            for inbox in [targets.0, targets.1].into_iter().flatten() {
                // One notice at a time: a component that has not yet taken the
                // last one will look at the socket anyway.
                if inbox.is_empty() {
                    let _ = inbox.deliver(Ready);
                }
            }
        }
        Ok(())
    }
}

impl Drop for SelectorCore {
    fn drop(&mut self) {
        let poller = self.poller.get_mut();
        for registration in self.watched.get_mut().slots.drain() {
            let _ = poller.delete(registration.selectable.source());
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
