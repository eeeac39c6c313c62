//! [`Selector`]: tells components when their sockets are ready
//! (Kamaelia's `Kamaelia.Internet.Selector`).
//!
//! | file | holds |
//! |---|---|
//! | `mod.rs` | the component: its boxes, its service, its loop |
//! | `messages.rs` | [`SelectorRequest`], [`Ready`], [`Selectable`] |
//! | `core.rs` | what is watched, and the poll that tells the components |
//! | `notice.rs` | what a [`Ready`] shares with its registration, and the re-arm queue |
//! | `watching.rs` | a socket watched for a component, withdrawn when dropped |
//! | `park.rs` | the scheduler's idle wait: the poll |
//! | `ring.rs` | the thread's io_uring, its park, and each connection's [`RingLink`] (the `io-uring` feature) |
//! | `no_ring.rs` | [`RingLink`] without that feature: a type with no values |

mod core;
mod messages;
#[cfg(not(uring))]
mod no_ring;
mod notice;
mod park;
#[cfg(uring)]
mod ring;
mod watching;

use std::fmt;
use std::io;
use std::rc::Rc;

use axon::ipc::Ipc;
use axon::{Component, ComponentRef, Cx, Scheduler};

use self::core::SelectorCore;
pub use messages::{Ready, Selectable, SelectorRequest};
#[cfg(not(uring))]
use no_ring::ring_link;
#[cfg(not(uring))]
pub(crate) use no_ring::RingLink;
#[cfg(uring)]
use ring::ring_link;
#[cfg(uring)]
pub(crate) use ring::RingLink;
pub(crate) use watching::Watching;

/// The name under which the Selector offers its `notify` inbox (Kamaelia's
/// `"selector"` service).
pub const SELECTOR_SERVICE: &str = "selector";

/// The name under which the Selector offers its `control` inbox (Kamaelia's
/// `"selectorshutdown"` service).
pub const SELECTOR_SHUTDOWN_SERVICE: &str = "selectorshutdown";

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
/// as it likes per notice. Notices do not pile up: one is sent only once the
/// last one (for that socket and direction) has been taken, and while the last
/// one is still out the Selector stops asking the operating system about that
/// socket (and direction). So a component that cannot act on readiness now
/// (its consumer is full, say) leaves the notice in its inbox and is not woken
/// again; taking it resumes the notices. Kamaelia's Selector forgets a socket
/// after each notice, and the component must ask again; here taking the notice
/// is asking again.
///
/// # Re-arming
///
/// A [`Ready`] is a token: dropping it (receiving it and letting it go) is
/// what tells the Selector the notice was taken. If that socket was muted, the
/// drop queues it to be watched again before the Selector's next wait. So each
/// poll costs the notices taken and the events reported since the last one,
/// however many sockets are muted: a server may hold ten thousand backed-up
/// connections, and their silence costs nothing per poll.
///
/// There is no Selector thread. The Selector installs itself as its
/// scheduler's [`Park`](axon::Park): when no component is runnable, the scheduler waits in
/// the Selector's poll, and readiness is delivered to the components' inboxes
/// from there, so an event reaches its component in the scheduler's next cycle.
/// While components are runnable the scheduler polls without blocking every
/// [`set_io_poll_interval`](axon::Scheduler::set_io_poll_interval) cycles.
/// A server whose latency matters more than its CPU may have the scheduler
/// go on polling for a few tens of microseconds before it blocks
/// ([`set_spin_before_park`](axon::Scheduler::set_spin_before_park)): a
/// request that then finds it awake is answered sooner, and its client is
/// spared waking it (one echo connection: 1.27× the round trips per second,
/// at a third to two fifths more CPU per round trip: `docs/PERFORMANCE.md`).
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

/// Where a component sends its requests to the Selector: the `notify` inbox
/// of the Selector serving its scheduler (the one running now, which the
/// core keeps).
///
/// TcpServer, TcpClient and the adapter put their requests straight into it
/// rather than sending them out of an outbox linked to it (Kamaelia's
/// `_selectorSignal`): for an adapter, that linkage was a record, two link
/// lists and a box, and the linking and unlinking (measured: 506 bytes less
/// heap per idle connection without it). Holds the core weakly: the core
/// holds an adapter whose protocol is lent, and the adapter holds this.
#[derive(Clone)]
pub(crate) struct SelectorNotify(std::rc::Weak<SelectorCore>);

/// Where an adapter on epoll lends its inline protocol while it sleeps:
/// the Selector's entry for its socket, whose poll then answers what comes
/// with it (see [`Lent`](crate::internet::lent_protocol::Lent)). Holds the
/// Selector's core weakly, as the ring's [`RingLink`] does: the core holds
/// the adapter while its protocol is lent.
pub(crate) struct SelectorLend(std::rc::Weak<SelectorCore>);

impl SelectorLend {
    /// Lends `protocol`, of `adapter` reading `socket`: given back if the
    /// Selector does not watch the socket for reading (yet).
    pub(crate) fn lend(
        &self,
        socket: &Rc<std::net::TcpStream>,
        adapter: impl FnOnce() -> ComponentRef,
        read_size: usize,
        protocol: Box<dyn crate::internet::InlineProtocol>,
    ) -> Result<(), Box<dyn crate::internet::InlineProtocol>> {
        match self.0.upgrade() {
            Some(core) => core.lend(socket, adapter, read_size, protocol),
            None => Err(protocol),
        }
    }

    /// Takes back the protocol lent for `socket`, with what its answers
    /// left.
    pub(crate) fn take_back(
        &self,
        socket: &Rc<std::net::TcpStream>,
    ) -> crate::internet::lent_protocol::TakenBack {
        self.0
            .upgrade()
            .map(|core| core.take_back(socket))
            .unwrap_or_default()
    }
}

/// A scheduler's Selector as the components that use it see it, found with
/// one look-up of its core: where requests go ([`SelectorNotify`]), where an
/// inline protocol is lent ([`SelectorLend`]), and the thread's ring
/// ([`RingLink`]). An adapter takes all three as it starts; looking each up
/// by name was about 1,250 instructions per connection.
pub(crate) struct SelectorAccess {
    core: Rc<SelectorCore>,
}

impl SelectorAccess {
    /// The Selector's core of `scheduler`, made (and installed as its park)
    /// if it has none yet.
    ///
    /// # Errors
    ///
    /// If the operating system's poller cannot be created.
    pub(crate) fn for_scheduler(scheduler: &Scheduler) -> io::Result<Self> {
        SelectorCore::for_scheduler(scheduler).map(|core| SelectorAccess { core })
    }

    /// The `notify` inbox of the Selector serving `scheduler`, starting one
    /// if none runs. The core keeps the running Selector's inbox, and the
    /// Selector forgets it as its body is dropped (whether it ended, was
    /// stopped or panicked), so a Selector that has ended is never sent to.
    pub(crate) fn notify(&self, scheduler: &Scheduler) -> io::Result<SelectorNotify> {
        if self.core.notify.borrow().is_none() {
            let notify = Selector::service(scheduler)?
                .inbox::<SelectorRequest>("notify")
                .map_err(io::Error::other)?;
            *self.core.notify.borrow_mut() = Some(notify);
        }
        Ok(SelectorNotify(Rc::downgrade(&self.core)))
    }

    /// Where an adapter on epoll lends its inline protocol.
    pub(crate) fn lend_place(&self) -> SelectorLend {
        SelectorLend(Rc::downgrade(&self.core))
    }

    /// A place on the thread's io_uring for the adapter `adapter` of
    /// `socket`, if the thread has a ring (the kernel may refuse one: then
    /// `None`, and the adapter uses the Selector).
    pub(crate) fn ring_link(
        &self,
        adapter: ComponentRef,
        socket: &Rc<std::net::TcpStream>,
    ) -> Option<RingLink> {
        ring_link(&self.core, adapter, socket)
    }
}

impl SelectorNotify {
    /// The `notify` inbox of the Selector serving `scheduler`, starting one
    /// if need be.
    pub(crate) fn for_scheduler(scheduler: &Scheduler) -> io::Result<Self> {
        SelectorAccess::for_scheduler(scheduler)?.notify(scheduler)
    }

    /// Sends `request` to the Selector. Its `notify` inbox has no size limit,
    /// so it is refused only if someone gave it one: that is logged. With no
    /// Selector running (one stopped from outside, or the system stopping:
    /// one that ends by itself watches nothing and has no request waiting),
    /// a request to stop watching has nothing to withdraw, and one to start
    /// is logged as an error.
    pub(crate) fn send(&self, request: SelectorRequest) {
        let core = self.0.upgrade();
        let notify = core.as_ref().map(|core| core.notify.borrow());
        let Some(notify) = notify.as_ref().and_then(|notify| notify.as_ref()) else {
            match request {
                SelectorRequest::RemoveReader { .. } | SelectorRequest::RemoveWriter { .. } => {
                    tracing::debug!(target: "kamaelia::selector", ?request, "no Selector runs: nothing to withdraw from");
                }
                _ => {
                    tracing::error!(target: "kamaelia::selector", ?request, "no Selector runs to take a request");
                }
            }
            return;
        };
        if let Err(refused) = notify.deliver(request) {
            tracing::error!(target: "kamaelia::selector", "a request to the Selector was refused: {refused}");
        }
    }

    /// Stops the Selector watching `selectable` for reading. At once if the
    /// request that started it has been applied (see
    /// [`SelectorCore::stop_reading_now`]): the socket is let go now, and
    /// closes with its owner's last reference, without waiting for the
    /// Selector's turn; otherwise by request, in order. (The Selector hears
    /// of it anyway if it now watches nothing: it ends then.)
    pub(crate) fn stop_reading(&self, selectable: Selectable) {
        if let Some(core) = self.0.upgrade() {
            if core.stop_reading_now(&selectable) && !core.is_empty() {
                return;
            }
        }
        self.send(SelectorRequest::RemoveReader { selectable });
    }
}

impl Component for Selector {
    type Boxes = SelectorBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
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
            cx.idle().await;
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

impl Drop for Selector {
    // The body is dropped as the component finishes, however it finishes:
    // from then on the core's inbox would reach no one.
    fn drop(&mut self) {
        self.core.notify.borrow_mut().take();
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("watched", &self.core.len())
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{Read, Write};
    use std::marker::PhantomData;
    use std::net::{Shutdown, TcpListener, TcpStream};

    use axon::Standard;
    use bytes::Bytes;

    use super::core::tests::read_state;
    use super::*;
    use crate::internet::ConnectedSocketAdapter;

    /// Stays paused for ever; only its boxes are used.
    struct Idle<I, O>(PhantomData<(I, O)>);

    impl<I: 'static, O: 'static> Component for Idle<I, O> {
        type Boxes = Standard<I, O>;

        async fn main(self, cx: Cx<Self::Boxes>) {
            loop {
                cx.idle().await;
            }
        }
    }

    pub(in crate::internet) fn idle<I: 'static, O: 'static>(scheduler: &Scheduler) -> ComponentRef {
        let c = ComponentRef::new(Idle::<I, O>(PhantomData));
        c.activate_on(scheduler);
        c
    }

    /// A connected pair on loopback: (our side, non-blocking; the peer).
    pub(super) fn pair() -> (Rc<TcpStream>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("bound")).expect("connect");
        let (ours, _) = listener.accept().expect("accept");
        ours.set_nonblocking(true).expect("non-blocking");
        (Rc::new(ours), peer)
    }

    /// Runs cycles (each polls without waiting) until `done`, failing after
    /// a bound instead of spinning for ever.
    pub(crate) fn run_until(scheduler: &Scheduler, what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            scheduler.run_cycle();
        }
        panic!("never happened: {what}");
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

    /// Registers a socket for reading through `notify`, and sees its first
    /// notice come: the Selector behind `notify` serves requests. Returns
    /// the socket, still watched.
    fn served_through(scheduler: &Scheduler, notify: &SelectorNotify) -> Selectable {
        let watcher = idle::<Ready, ()>(scheduler);
        let notices = watcher.inbox::<Ready>("inbox").expect("inbox");
        let (ours, mut peer) = pair();
        let selectable = Selectable::new(ours);
        notify.send(SelectorRequest::NewReader {
            selectable: selectable.clone(),
            reply: notices.clone(),
        });
        peer.write_all(b"x").expect("write");
        run_until(scheduler, "a notice", || notices.len() == 1);
        selectable
    }

    #[test]
    fn requests_go_to_the_selector_running_not_one_that_has_ended() {
        let scheduler = Scheduler::new();
        let access = SelectorAccess::for_scheduler(&scheduler).expect("core");
        let first = served_through(&scheduler, &access.notify(&scheduler).expect("notify"));
        let selector = Selector::service(&scheduler).expect("selector");

        // Stopped: its body is dropped without reaching its end, and the
        // next request starts another Selector.
        selector.stop();
        run_until(&scheduler, "stopped", || selector.is_finished());
        let notify = access.notify(&scheduler).expect("notify");
        let second = served_through(&scheduler, &notify);
        let replacement = Selector::service(&scheduler).expect("selector");
        assert!(replacement != selector, "a new Selector");

        // Told to shut down, it ends once it watches nothing; again the next
        // request starts another.
        for selectable in [first, second] {
            notify.send(SelectorRequest::RemoveReader { selectable });
        }
        replacement
            .inbox::<Ipc>("control")
            .expect("control")
            .deliver(Ipc::Shutdown(axon::ipc::Shutdown))
            .expect("unbounded");
        run_until(&scheduler, "ended", || replacement.is_finished());
        served_through(&scheduler, &access.notify(&scheduler).expect("notify"));
        let third = Selector::service(&scheduler).expect("selector");
        assert!(
            third != replacement && third != selector,
            "a third Selector"
        );
    }

    /// A socket's reading withdrawn (its `Watching` dropped) is let go at
    /// once if the request that started it has been applied: nothing waits
    /// for the Selector's turn, and its owner's last reference closes it. If
    /// that request still waits, the withdrawal follows it, so the socket is
    /// not left watched. And the Selector, once it watches nothing, ends as
    /// before.
    #[test]
    fn a_dropped_watch_lets_the_socket_go_at_once_or_after_its_start() {
        let scheduler = Scheduler::new();
        let access = SelectorAccess::for_scheduler(&scheduler).expect("core");
        let notify = access.notify(&scheduler).expect("notify");
        let selector = Selector::service(&scheduler).expect("selector");
        let watcher = idle::<Ready, ()>(&scheduler);
        let notices = watcher.inbox::<Ready>("inbox").expect("inbox");
        let watch = |ours: &Rc<TcpStream>| {
            Watching::reading(
                notify.clone(),
                Selectable::new(ours.clone()),
                notices.clone(),
            )
        };
        // Another socket stays watched until the end.
        let (other, _other_peer) = pair();
        let other = watch(&other);

        let (ours, _peer) = pair();
        let watching = watch(&ours);
        run_until(&scheduler, "both watched", || access.core.len() == 2);
        drop(watching);
        assert_eq!(access.core.len(), 1, "let go before the Selector's turn");
        assert_eq!(
            Rc::strong_count(&ours),
            1,
            "the socket's owner holds it alone"
        );

        let (ours, _peer) = pair();
        drop(watch(&ours));
        for _ in 0..10 {
            scheduler.run_cycle();
        }
        assert_eq!(access.core.len(), 1, "a watch withdrawn before it began");
        assert_eq!(Rc::strong_count(&ours), 1, "the Selector let go of it");

        assert!(!selector.is_finished());
        drop(other);
        assert!(access.core.is_empty());
        run_until(&scheduler, "the Selector's end", || selector.is_finished());
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
        // Watched by the Selector, the socket is muted; through the ring,
        // no receive is asked.
        if !cfg!(uring) {
            let source = Selectable::new(ours.clone());
            run_until(&scheduler, "the socket muted", || {
                read_state(&scheduler, &source) == Some((true, false))
            });
        }
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
