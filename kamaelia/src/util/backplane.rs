//! [`Backplane`], [`PublishTo`], [`SubscribeTo`]: a named splitter that
//! components publish to and subscribe to without being wired to each other
//! (Kamaelia's `Kamaelia.Util.Backplane`).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};

use axon::ipc::{ErrorInformation, Ipc, ShutdownMicroprocess};
use axon::{
    Component, ComponentRef, Cx, Inbox, LinkError, Linkage, Scheduler, ServiceError, Standard,
    Tracker,
};

use crate::util::span::{BackplaneSpan, SpanFull, SpanIn, SpanOut};
use crate::util::{Configuration, Encode, PlugSplitter, Sink, Weigh};

/// The tracker service under which the backplane `name` takes publications.
pub fn publish_service(name: &str) -> String {
    format!("Backplane_I_{name}")
}

/// The tracker service under which the backplane `name` takes subscriptions.
pub fn subscribe_service(name: &str) -> String {
    format!("Backplane_O_{name}")
}

/// A named meeting point: whatever any [`PublishTo`]`(name)` receives, every
/// [`SubscribeTo`]`(name)` sends out. Kamaelia's `Backplane`.
///
/// It is a [`PlugSplitter`] registered with the scheduler's [`Tracker`] as the
/// services `Backplane_I_<name>` (its `inbox`) and `Backplane_O_<name>` (its
/// `configuration`); the flow control is the splitter's (see [`PlugSplitter`]):
///
/// * publishers are slowed to the pace of the subscribers that are making
///   progress: while one has the pacing bound waiting (default 1024 messages
///   or 1 MiB), publishing waits; a subscriber that keeps reading is never
///   dropped;
/// * a subscriber at the pacing bound that takes nothing for the grace period
///   (default 200 ms) stops holding the publishers back; it is disconnected
///   when its backlog passes the byte cap (default 4 MiB) or it has taken
///   nothing for the stall timeout (default 10 s), with a logged warning
///   naming the reason and `ShutdownMicroprocess` out of its `signal`.
///
/// Configure the splitter with [`with_splitter`](Self::with_splitter).
///
/// With the `redis` feature, `Backplane::bridged` joins it to the
/// backplanes on the same Redis channel in other processes, on other
/// machines (see `RedisBridge`).
///
/// On a server with one scheduler per core, give each scheduler's backplane
/// the same [`BackplaneSpan`] with [`spanning`](Self::spanning): what is
/// published on any of them then reaches the subscribers of all.
///
/// Register it (by [`activate`](Self::activate), or
/// [`register`](Self::register)) before its publishers and subscribers first
/// run. A name already taken is an error ([`ServiceError::AlreadyExists`]),
/// not a panic. Its `inbox` is not used for publishing.
///
/// A message on `control` goes to every subscriber, in order with the data;
/// `ProducerFinished` or `ShutdownMicroprocess` ends the backplane (and so
/// every subscriber) and withdraws its services.
///
/// # Inboxes
///
/// * `inbox` (`T`): not used.
/// * `control` ([`Ipc`]): passed to the splitter.
///
/// # Outboxes
///
/// * `outbox` (`T`): not used.
/// * `signal` ([`Ipc`]): the splitter's `signal`; `ErrorInformation` if it
///   could not register.
///
/// # Examples
///
/// ```
/// use axon::{ComponentRef, Scheduler};
/// use axon::ipc::ProducerFinished;
/// use kamaelia::util::{Backplane, PassThrough, PublishTo, SubscribeTo};
///
/// let scheduler = Scheduler::new();
/// let backplane = Backplane::<String>::new("news").activate_on(&scheduler)?;
/// assert!(Backplane::<String>::new("news").activate_on(&scheduler).is_err(), "taken");
///
/// let reader = ComponentRef::new(SubscribeTo::<String>::new("news"));
/// let got = ComponentRef::new(PassThrough::<String>::new());
/// reader.link((&reader, "outbox"), (&got, "inbox"))?;
/// reader.activate_on(&scheduler);
/// let writer = ComponentRef::new(PublishTo::<String>::new("news"));
/// writer.activate_on(&scheduler);
/// for _ in 0..5 {
///     scheduler.run_cycle();
/// }
/// writer.inbox::<String>("inbox")?.deliver("hello".into())?;
/// backplane.inbox::<axon::ipc::Ipc>("control")?.deliver(ProducerFinished::new().into())?;
/// writer.inbox::<axon::ipc::Ipc>("control")?.deliver(ProducerFinished::new().into())?;
/// scheduler.run()?;
/// assert_eq!(got.inbox::<String>("inbox")?.recv().as_deref(), Some("hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Backplane<T> {
    name: String,
    splitter: ComponentRef,
    /// The size limit of the splitter's `inbox`, which a span's entry takes
    /// too.
    inbox_size: usize,
    /// A spanning backplane's `SpanOut` (where its publishers publish) and
    /// `SpanIn`; or a bridged one's `RedisOut` and `RedisSubscriber`, which
    /// keep the same contract (each sends to the splitter, and ends on any
    /// message on its `control`).
    span: Option<(ComponentRef, ComponentRef)>,
    message: PhantomData<fn(T) -> T>,
}

impl<T: Clone + Weigh + 'static> Backplane<T> {
    /// A backplane called `name`, with a splitter of the default bounds.
    pub fn new(name: &str) -> Self {
        Backplane::with_splitter(name, PlugSplitter::new())
    }

    /// A backplane called `name` on `splitter` (for its bounds and stall
    /// timeout).
    pub fn with_splitter(name: &str, splitter: PlugSplitter<T>) -> Self {
        Backplane {
            name: name.to_string(),
            inbox_size: splitter.configured_inbox_size(),
            splitter: ComponentRef::new(splitter),
            span: None,
            message: PhantomData,
        }
    }

    /// The component publishers publish to: the splitter, or a span's
    /// `SpanOut`.
    fn entry(&self) -> &ComponentRef {
        self.span.as_ref().map_or(&self.splitter, |(out, _)| out)
    }

    /// Registers its two services with `tracker`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::AlreadyExists`] if a backplane of this name is
    /// registered there; nothing is registered then.
    pub fn register(&self, tracker: &Tracker) -> Result<(), ServiceError> {
        tracker.register_service(&publish_service(&self.name), self.entry(), "inbox")?;
        let registered = tracker.register_service(
            &subscribe_service(&self.name),
            &self.splitter,
            "configuration",
        );
        if registered.is_err() {
            let _ = tracker.deregister_service(&publish_service(&self.name));
        }
        registered
    }

    /// Registers it with `scheduler`'s tracker and activates it there.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register).
    pub fn activate_on(self, scheduler: &Scheduler) -> Result<ComponentRef, ServiceError> {
        self.register(&scheduler.tracker())?;
        let backplane = ComponentRef::new(self);
        backplane.activate_on(scheduler);
        Ok(backplane)
    }

    /// Registers it with the current scheduler's tracker and activates it:
    /// Kamaelia's `Backplane(name).activate()`.
    ///
    /// # Errors
    ///
    /// As [`register`](Self::register).
    pub fn activate(self) -> Result<ComponentRef, ServiceError> {
        self.activate_on(&Scheduler::current())
    }
}

impl<T: Clone + Weigh + Send + 'static> Backplane<T> {
    /// Joins this backplane to `span`, the meeting point of the backplanes of
    /// this name on the other schedulers: whatever is published here also
    /// reaches their subscribers, and what is published there reaches this
    /// one's. See [`BackplaneSpan`].
    ///
    /// Call it on the scheduler the backplane will run on. A span of one
    /// member has no other to reach: its backplane joins it and stays as it
    /// is, with no hop added on the way of each message (a server run with
    /// one scheduler pays nothing for being able to run with more).
    ///
    /// # Errors
    ///
    /// [`SpanFull`] if as many backplanes as the span was made for have
    /// already joined it.
    pub fn spanning(mut self, span: &BackplaneSpan<T>) -> Result<Self, SpanFull> {
        let place = span.join()?;
        if span.members() == 1 {
            return Ok(self);
        }
        let out = ComponentRef::new(SpanOut::new(place.clone()));
        if let Ok(inbox) = out.inbox::<T>("inbox") {
            inbox.set_size(Some(self.inbox_size));
        }
        let into = ComponentRef::new(SpanIn::new(place));
        self.span = Some((out, into));
        Ok(self)
    }
}

#[cfg(feature = "redis")]
impl<T: Clone + Weigh + Send + crate::util::Marshall + 'static> Backplane<T> {
    /// Joins this backplane to the broker channel of `bridge`: whatever is
    /// published here also reaches the subscribers of every backplane
    /// bridged to that channel, in any process, and what they publish
    /// reaches this one's (see [`RedisBridge`](crate::util::RedisBridge)).
    /// Publishing and subscribing are unchanged.
    ///
    /// # Errors
    ///
    /// [`BridgeError::Spanning`](crate::util::BridgeError::Spanning) if it
    /// already spans schedulers: bridge each scheduler's backplane instead.
    ///
    /// # Examples
    ///
    /// See [`RedisBridge`](crate::util::RedisBridge).
    pub fn bridged(
        mut self,
        bridge: crate::util::RedisBridge<T>,
    ) -> Result<Self, crate::util::BridgeError> {
        if self.span.is_some() {
            return Err(crate::util::BridgeError::Spanning);
        }
        self.span = Some(bridge.into_ends(self.inbox_size));
        Ok(self)
    }
}

impl<T> fmt::Debug for Backplane<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backplane")
            .field("name", &self.name)
            .field("spanning", &self.span.is_some())
            .finish()
    }
}

impl<T: Clone + Weigh + 'static> Component for Backplane<T> {
    type Boxes = Standard<T, T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let tracker = cx.tracker();
        let ours = tracker
            .retrieve_service(&publish_service(&self.name))
            .is_ok_and(|s| &s.component == self.entry());
        if !ours {
            // Made with `ComponentRef::new` and activated directly.
            if let Err(e) = self.register(&tracker) {
                tracing::error!(backplane = %self.name, "cannot start the backplane: {e}");
                cx.signal
                    .send(ErrorInformation::new(cx.id(), e).into())
                    .await;
                return;
            }
        }
        let splitter = &self.splitter;
        let wired = cx
            .link((&cx, "control"), (splitter, "control"))
            .and_then(|_| cx.link((splitter, "signal"), (&cx, "signal")));
        if let Err(e) = wired {
            tracing::error!(backplane = %self.name, "cannot wire the backplane: {e}");
        }
        cx.add_children([splitter]);
        if let Some((out, into)) = &self.span {
            let wired = cx
                .link((out, "outbox"), (splitter, "inbox"))
                .and_then(|_| cx.link((into, "outbox"), (splitter, "inbox")));
            if let Err(e) = wired {
                tracing::error!(backplane = %self.name, "cannot wire the span: {e}");
            }
            cx.add_children([out, into]);
            out.activate_on(&cx.scheduler());
            into.activate_on(&cx.scheduler());
        }
        splitter.activate_on(&cx.scheduler());
        while !splitter.is_finished() {
            cx.finished_children();
            cx.idle().await;
        }
        if let Some((out, into)) = &self.span {
            // The span's two ends end with the splitter; `SpanIn` closes this
            // member's place, so the other schedulers send it nothing more.
            for end in [out, into] {
                if let Ok(control) = end.inbox::<Ipc>("control") {
                    let _ = control.deliver(ShutdownMicroprocess::new().into());
                }
            }
            while !(out.is_finished() && into.is_finished()) {
                cx.finished_children();
                cx.idle().await;
            }
        }
        let _ = tracker.deregister_service(&publish_service(&self.name));
        let _ = tracker.deregister_service(&subscribe_service(&self.name));
    }
}

/// Publishes everything it receives on the backplane `name`: Kamaelia's
/// `PublishTo`.
///
/// Its `inbox` is linked straight to the backplane's (a passthrough), so a
/// message published costs one hop. With [`forwarder`](Self::forwarder) it
/// instead copies each message to the backplane and to its own `outbox`.
/// Either way its sends wait while the backplane is full (see
/// [`PlugSplitter`]'s flow control: at most the grace period for a subscriber
/// that stopped reading). It ends on `ProducerFinished`,
/// `ShutdownMicroprocess` or `ErrorInformation` on `control`, passing it on
/// out of `signal`; the backplane carries on.
///
/// If there is no backplane of that name, it logs an error and ends with
/// `ErrorInformation` on `signal`.
///
/// # Inboxes
///
/// * `inbox` (`T`): messages to publish.
/// * `control` ([`Ipc`]): a shutdown message ends it.
///
/// # Outboxes
///
/// * `outbox` (`T`): a copy of each message, as a forwarder; else unused.
/// * `signal` ([`Ipc`]): the shutdown message, or `ErrorInformation`.
///
/// # Examples
///
/// See [`Backplane`].
pub struct PublishTo<T> {
    name: String,
    forwarder: bool,
    message: PhantomData<fn(T) -> T>,
}

impl<T> PublishTo<T> {
    /// Publishes to the backplane `name`.
    pub fn new(name: &str) -> Self {
        PublishTo {
            name: name.to_string(),
            forwarder: false,
            message: PhantomData,
        }
    }

    /// Also copies every message to its own `outbox`.
    pub fn forwarder(mut self, forwarder: bool) -> Self {
        self.forwarder = forwarder;
        self
    }
}

impl<T> fmt::Debug for PublishTo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishTo")
            .field("name", &self.name)
            .field("forwarder", &self.forwarder)
            .finish()
    }
}

/// Finds a backplane's service, or says why not (logged and signalled).
async fn find<B: axon::BoxSet>(
    cx: &Cx<B>,
    signal: &axon::Outbox<Ipc>,
    service: &str,
) -> Option<ComponentRef> {
    match cx.tracker().retrieve_service(service) {
        Ok(found) => Some(found.component),
        Err(e) => {
            give_up(cx, signal, "no backplane to connect to", e).await;
            None
        }
    }
}

/// Why a publisher or subscriber cannot start: logged, and sent out of its
/// `signal` as `ErrorInformation`, before it ends.
///
/// Boxed, as the other steps taken once (subscribing, leaving) are: a
/// component's frame is as large as the largest state it awaits in, for as
/// long as it lives, and an error path's future (the error, with the names
/// of both boxes of a refused link) would otherwise be carried by every
/// connection's publisher and subscriber while they sit idle.
fn give_up<'a, B: axon::BoxSet>(
    cx: &Cx<B>,
    signal: &'a axon::Outbox<Ipc>,
    what: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
    tracing::error!("{what}: {error}");
    Box::pin(signal.send(ErrorInformation::new(cx.id(), error).into()))
}

impl<T: Clone + 'static> Component for PublishTo<T> {
    type Boxes = Standard<T, T>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            // Found and linked in a step of its own, boxed: its state
            // would otherwise stay in the frame.
            let Some(publish) = Box::pin(self.publish(&cx)).await else {
                return;
            };
            loop {
                if let Some(out) = &publish {
                    // `let … else`, not `while let`: the latter's `Option`
                    // would stay in the frame beside the message.
                    loop {
                        let Some(message) = cx.inbox.recv() else {
                            break;
                        };
                        out.send(message.clone()).await;
                        cx.outbox.send(message).await;
                    }
                }
                // An error before it (an over-long line, say) ends the
                // publishing as the end of the data does.
                let end = cx
                    .control
                    .recv()
                    .filter(|message| message.is_end_of_stream() || message.is_error());
                if let Some(end) = end {
                    Box::pin(cx.signal.send(end)).await;
                    return;
                }
                cx.idle().await;
            }
        }
    }
}

impl<T: Clone + 'static> PublishTo<T> {
    /// Links to the backplane's splitter: its `inbox` (passed through), or
    /// for a forwarder an outbox of its own, returned. `None` if it cannot,
    /// having said why.
    async fn publish(&self, cx: &Cx<Standard<T, T>>) -> Option<Option<axon::Outbox<T>>> {
        let splitter = find(cx, &cx.signal, &publish_service(&self.name)).await?;
        let publish = if self.forwarder {
            let out = cx.add_outbox::<T>("publish", "to the backplane");
            cx.link(&out, (&splitter, "inbox")).map(|_| Some(out))
        } else {
            cx.link((cx, "inbox"), (&splitter, "inbox")).map(|_| None)
        };
        match publish {
            Ok(publish) => Some(publish),
            Err(e) => {
                let what = format!("cannot publish on backplane {}", self.name);
                give_up(cx, &cx.signal, &what, e).await;
                None
            }
        }
    }
}

/// Sends out everything published on the backplane `name`: Kamaelia's
/// `SubscribeTo`, with nothing between the backplane and whatever reads it.
///
/// It joins the backplane's splitter as a sink whose data box is its own
/// `feed` outbox, linked to its `outbox`: the splitter's feeder for it sends
/// through that chain of outboxes, which axon resolves to the inbox at its
/// end, so a published message lands straight in the inbox its `outbox` is
/// linked to (in a chat, the next stage's), in one hop, crossing no other
/// component. How the backplane ends the subscription comes to its
/// `subscription` inbox. So the SubscribeTo itself only handles the ending,
/// and what arrives on its own `inbox`, which it also sends out, as
/// Kamaelia's does.
///
/// # Flow control
///
/// Nothing waits in the SubscribeTo. A message published waits for its
/// reader in the inbox its `outbox` leads to, bounded by that inbox's own
/// size limit, and beyond it in the backplane, bounded by the backplane's
/// pacing bound and byte cap (see [`PlugSplitter`]). A Pipeline gives every
/// stage the size limit of its own `inbox`, which a server sets on each
/// connection's protocol handler, and a connection's adapter limits its
/// `inbox` too: so whatever a remote peer does, what waits for it is
/// bounded. Link its `outbox` to an inbox with a size limit: an unbounded one
/// takes everything at once, and never holds a publisher back.
///
/// While its reader keeps reading, the publishers wait for it at the
/// backplane's pacing bound, and it loses nothing. If it stops reading, the
/// publishers wait for it at most the backplane's grace period; it is
/// disconnected once its backlog passes the backplane's byte cap or it has
/// read nothing for the stall timeout: it then sends `ShutdownMicroprocess`
/// out of `signal` and ends (in a per-connection pipeline, that closes the
/// connection).
///
/// Its `outbox` may be linked onward after it has subscribed: until it leads
/// to an inbox, what is published waits in the backplane, as for a reader
/// that is full, and none of it is lost; but it is a reader that takes
/// nothing, so the bounds above apply (link it within the stall timeout).
///
/// With [`filter_map`](Self::filter_map), each message is filtered and
/// converted by the backplane as it delivers to this subscriber: the reader
/// gets `U`, and only what the filter keeps. With [`encode`](Self::encode),
/// the backplane writes each message's bytes into a batch, and the reader
/// (a client's connection) gets a burst of messages as one `Bytes`. With
/// [`encoded_where`](SubscribeTo::encoded_where), the reader gets the bytes
/// of the messages its filter keeps, as slices of what the backplane writes
/// of each message once, for every such subscriber.
///
/// On `control`, `ProducerFinished` unsubscribes gracefully (what the
/// backplane had already taken is still sent out, then `ProducerFinished`
/// on `signal`); `ShutdownMicroprocess` unsubscribes at once (nothing more
/// is sent out), and so does `ErrorInformation` (the component before it
/// failed; what [`on_error`](Self::on_error) makes of it is sent out
/// first); either is passed on out of `signal`. When the backplane ends, so
/// does every subscriber, passing the end on.
///
/// It is subscribed from its first turn: everything published after that
/// reaches it, even what a publisher started in the same cycle sends at once
/// (the first line of a chat client whose bytes were already waiting). What
/// reached the backplane before (a line from another connection, or from a
/// bridged server, while this one's pipeline was being started) is not for
/// it. It logs `subscribed` at `DEBUG` (target `kamaelia::backplane`) once it
/// is.
///
/// If there is no backplane of that name, it logs an error and ends with
/// `ErrorInformation` on `signal`.
///
/// # Inboxes
///
/// * `inbox` (`T`): sent out too (through `filter_map`, `encode` or
///   `encoded_where`, if it has one).
/// * `control` ([`Ipc`]): see above.
/// * `subscription` ([`Ipc`]): from the backplane, the control messages
///   published on it and how the subscription ended; passed on out of
///   `signal`.
///
/// # Outboxes
///
/// * `outbox` (`U`): what is published, in order (as `filter_map`,
///   `encode` or `encoded_where` makes it: `T` if it has none of them).
/// * `signal` ([`Ipc`]): how the subscription ended.
/// * `feed` (`U`): what is published, linked to `outbox`; the backplane's
///   feeder sends through it.
/// * `splitter` ([`Configuration`]): joining and leaving the backplane's
///   splitter.
///
/// # Examples
///
/// See [`Backplane`].
pub struct SubscribeTo<T, U = T> {
    name: String,
    /// Gives its sink its [`filter_map`](Self::filter_map),
    /// [`encode`](Self::encode) or [`encoded_where`](Self::encoded_where),
    /// if it has one.
    delivery: Option<Box<dyn FnOnce(Sink) -> Sink>>,
    /// What it sends out for a message on its own `inbox`.
    pass: Box<dyn Fn(T) -> Option<U>>,
    on_error: Option<LastWord<U>>,
    message: PhantomData<fn(T) -> U>,
}

/// What `write` writes, as a message of its own; none if it writes nothing.
/// (How an encoding subscriber sends out what arrives on its own `inbox`.)
fn written(write: impl FnOnce(&mut BytesMut)) -> Option<Bytes> {
    let mut out = BytesMut::new();
    write(&mut out);
    (!out.is_empty()).then(|| out.freeze())
}

/// A [`SubscribeTo::on_error`].
type LastWord<U> = Box<dyn Fn(&Ipc) -> Option<U>>;

impl<T: 'static> SubscribeTo<T> {
    /// Subscribes to the backplane `name`.
    pub fn new(name: &str) -> Self {
        SubscribeTo {
            name: name.to_string(),
            delivery: None,
            pass: Box::new(Some),
            on_error: None,
            message: PhantomData,
        }
    }
}

impl<T: Clone + 'static> SubscribeTo<T> {
    /// Sends out `f(&message)` for each message published, and nothing for
    /// one it maps to `None`: this subscriber's own filter and conversion,
    /// applied by the backplane as it delivers ([`Sink::filter_map`]), so a
    /// message it filters out costs no hop, and one it converts is never
    /// copied first. (A component after the SubscribeTo doing the same
    /// would be resumed for every batch, and each message would cross one
    /// more inbox.) What arrives on its own `inbox` goes through `f` too.
    ///
    /// Call it before [`on_error`](SubscribeTo::on_error).
    ///
    /// # Examples
    ///
    /// A chat client's subscription: every line but its own, as bytes.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use kamaelia::util::SubscribeTo;
    ///
    /// #[derive(Clone)]
    /// struct Said {
    ///     by: u64,
    ///     line: Bytes,
    /// }
    ///
    /// let me = 7;
    /// let others = SubscribeTo::<Said>::new("chat")
    ///     .filter_map(move |said: &Said| (said.by != me).then(|| said.line.clone()));
    /// # let _: SubscribeTo<Said, Bytes> = others;
    /// ```
    pub fn filter_map<U, F>(self, f: F) -> SubscribeTo<T, U>
    where
        U: 'static,
        F: Fn(&T) -> Option<U> + 'static,
    {
        let f = Rc::new(f);
        let g = Rc::clone(&f);
        self.delivered(
            move |sink| sink.filter_map(move |message: &T| f(message)),
            move |message| g(&message),
        )
    }

    /// Sends out the bytes `f` writes for each message published, gathered
    /// by the backplane as it delivers ([`Sink::encode`]): what one round of
    /// its delivery writes goes out as one `Bytes` (at most about 16 KiB),
    /// so a burst of messages reaches a connection as one buffer, with no
    /// message, clone or queue entry per message. For a subscriber whose
    /// reader is a byte stream (a client's connection). What arrives on its
    /// own `inbox` is encoded too, and sent out on its own. Where every
    /// subscriber takes the same bytes of a message, skipping some (a chat's
    /// clients), [`encoded_where`](Self::encoded_where) is cheaper: the
    /// backplane writes them once for all.
    ///
    /// Give its reader room for many batches (a connection's default
    /// `inbox` limit, 64, does). A client that has stopped reading still
    /// takes a little now and then, as the kernel makes room in its
    /// buffers; with room for only a few batches, each such trickle reaches
    /// the backplane as the reader taking something again, and the
    /// publishers wait out the grace period for it over and over (a chat
    /// test with room for 4 took 135 s instead of 4).
    ///
    /// Call it before [`on_error`](SubscribeTo::on_error).
    ///
    /// # Examples
    ///
    /// A chat client's subscription: every line but its own, its bytes
    /// written straight into the batch for the client's connection.
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use kamaelia::util::SubscribeTo;
    ///
    /// #[derive(Clone)]
    /// struct Said {
    ///     by: u64,
    ///     line: Bytes,
    /// }
    ///
    /// let me = 7;
    /// let others = SubscribeTo::<Said>::new("chat").encode(move |said: &Said, out: &mut BytesMut| {
    ///     if said.by != me {
    ///         out.extend_from_slice(&said.line);
    ///     }
    /// });
    /// # let _: SubscribeTo<Said, Bytes> = others;
    /// ```
    pub fn encode<F>(self, f: F) -> SubscribeTo<T, Bytes>
    where
        F: Fn(&T, &mut BytesMut) + 'static,
    {
        let f = Rc::new(f);
        let g = Rc::clone(&f);
        self.delivered(
            move |sink| sink.encode(move |message: &T, out: &mut BytesMut| f(message, out)),
            move |message| written(|out| g(&message, out)),
        )
    }
}

impl<T: Clone + Encode + 'static> SubscribeTo<T> {
    /// Sends out the bytes of each message published that `keep` keeps, as
    /// its type's [`Encode`] writes them, in slices of the backplane's
    /// journal ([`Sink::encoded_where`]): the backplane writes each
    /// message's bytes once, whatever the number of subscribers, and a run of
    /// kept messages goes out as one `Bytes`, with no copy. For subscribers
    /// whose readers are byte streams and take the same bytes of a message
    /// (a chat's clients, each skipping its own lines); [`encode`](Self::encode)
    /// is for subscribers that write their own. What arrives on its own
    /// `inbox` is encoded too, if kept, and sent out on its own.
    ///
    /// Give its reader room for many slices, as for `encode` (a
    /// connection's default `inbox` limit, 64, does).
    ///
    /// Call it before [`on_error`](SubscribeTo::on_error).
    ///
    /// # Examples
    ///
    /// A chat client's subscription: every line but its own, in slices of
    /// the lines' bytes as the backplane keeps them.
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use kamaelia::util::{Encode, SubscribeTo};
    ///
    /// #[derive(Clone)]
    /// struct Said {
    ///     by: u64,
    ///     line: Bytes,
    /// }
    ///
    /// impl Encode for Said {
    ///     fn encode(&self, out: &mut BytesMut) {
    ///         out.extend_from_slice(&self.line);
    ///     }
    /// }
    ///
    /// let me = 7;
    /// let others = SubscribeTo::<Said>::new("chat").encoded_where(move |said: &Said| said.by != me);
    /// # let _: SubscribeTo<Said, Bytes> = others;
    /// ```
    pub fn encoded_where<F>(self, keep: F) -> SubscribeTo<T, Bytes>
    where
        F: Fn(&T) -> bool + 'static,
    {
        let keep = Rc::new(keep);
        let kept = Rc::clone(&keep);
        self.delivered(
            move |sink| sink.encoded_where(move |message: &T| keep(message)),
            move |message| {
                kept(&message)
                    .then(|| written(|out| message.encode(out)))
                    .flatten()
            },
        )
    }
}

impl<T: Clone + 'static> SubscribeTo<T> {
    /// This subscription with its own delivery: `own` gives the sink it
    /// joins with its way of delivery, and `pass` makes what it sends out
    /// of a message on its own `inbox`.
    fn delivered<U>(
        self,
        own: impl FnOnce(Sink) -> Sink + 'static,
        pass: impl Fn(T) -> Option<U> + 'static,
    ) -> SubscribeTo<T, U> {
        SubscribeTo {
            name: self.name,
            delivery: Some(Box::new(own)),
            pass: Box::new(pass),
            on_error: None,
            message: PhantomData,
        }
    }
}

impl<T, U> SubscribeTo<T, U> {
    /// When the component before it fails (`ErrorInformation` on
    /// `control`), sends out `f(&error)`, if it is `Some` and there is room
    /// for it, before it passes the error on: a per-connection pipeline's
    /// last word to its client (a reason, a goodbye) with no component on
    /// the path of every message to say it.
    pub fn on_error<F>(mut self, f: F) -> Self
    where
        F: Fn(&Ipc) -> Option<U> + 'static,
    {
        self.on_error = Some(Box::new(f));
        self
    }
}

impl<T, U> fmt::Debug for SubscribeTo<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeTo")
            .field("name", &self.name)
            .field("own_delivery", &self.delivery.is_some())
            .field("on_error", &self.on_error.is_some())
            .finish()
    }
}

axon::boxes! {
    /// The boxes of a [`SubscribeTo`] of `T` sending out `U` (the same,
    /// unless it has a [`filter_map`](SubscribeTo::filter_map), an
    /// [`encode`](SubscribeTo::encode) or an
    /// [`encoded_where`](SubscribeTo::encoded_where)).
    pub struct SubscribeToBoxes<T, U> {
        /// Sent out too (through its `filter_map`, `encode` or
        /// `encoded_where`).
        inbox inbox: T,
        /// `ProducerFinished` leaves gracefully; `ShutdownMicroprocess` or
        /// `ErrorInformation` leaves at once.
        inbox control: Ipc,
        /// From the backplane: its control messages, and how the
        /// subscription ended.
        inbox subscription: Ipc,
        /// What is published, in order.
        outbox outbox: U,
        /// How the subscription ended.
        outbox signal: Ipc,
        /// What is published, linked to `outbox`: the backplane's feeder
        /// sends through it.
        outbox feed: U,
    }
}

/// A SubscribeTo's hold on its backplane, once it has subscribed.
struct Subscription {
    sink: Sink,
    /// `feed` → `outbox`: unlinked to stop the deliveries at once.
    feeding: Linkage,
    /// The splitter's `configuration`, told of joining and leaving
    /// directly: three messages in a subscriber's life need no box and
    /// linkage of its own, which every connection of a chat would carry.
    /// It has no size limit, so it refuses nothing.
    configuration: Inbox<Configuration>,
}

impl<T: Clone + 'static, U: 'static> SubscribeTo<T, U> {
    /// Finds the backplane and joins it; `None` if it cannot, having said
    /// why.
    async fn join(&mut self, cx: &Cx<SubscribeToBoxes<T, U>>) -> Option<Subscription> {
        let splitter = find(cx, &cx.signal, &subscribe_service(&self.name)).await?;
        let configuration = match splitter.inbox::<Configuration>("configuration") {
            Ok(configuration) => configuration,
            Err(e) => {
                let what = format!("cannot subscribe to backplane {}", self.name);
                give_up(cx, &cx.signal, &what, e).await;
                return None;
            }
        };
        match self.subscribe(cx, configuration) {
            Ok(subscription) => {
                // From here on it misses nothing published: the splitter
                // takes its new sink before the next message.
                tracing::debug!(target: "kamaelia::backplane", backplane = %self.name, "subscribed");
                Some(subscription)
            }
            Err(e) => {
                let what = format!("cannot subscribe to backplane {}", self.name);
                give_up(cx, &cx.signal, &what, e).await;
                None
            }
        }
    }

    /// Links the boxes the backplane feeds, and joins it as a sink through
    /// its splitter's `configuration`.
    fn subscribe(
        &mut self,
        cx: &Cx<SubscribeToBoxes<T, U>>,
        configuration: Inbox<Configuration>,
    ) -> Result<Subscription, LinkError> {
        let feeding = cx.link(&cx.feed, &cx.outbox)?;
        let mut sink = Sink::new(&cx.component())
            .inbox("feed")
            .control("subscription");
        if let Some(own) = self.delivery.take() {
            sink = own(sink);
        }
        let subscription = Subscription {
            sink,
            feeding,
            configuration,
        };
        // Done before the first turn ends: the splitter, which reads its
        // `configuration` before its `inbox`, takes this subscriber before
        // anything published since.
        subscription.tell(Configuration::AddSink(subscription.sink.clone()));
        Ok(subscription)
    }
}

impl Subscription {
    /// Tells the splitter `what`.
    fn tell(&self, what: Configuration) {
        // Unlimited, so never refused; and a splitter that has gone hears
        // nothing, as through a linkage to it.
        let _ = self.configuration.deliver(what);
    }

    /// Leaves at once: nothing more goes out of `outbox` from the backplane.
    fn leave<T: 'static, U: 'static>(&self, cx: &Cx<SubscribeToBoxes<T, U>>) {
        // Unlinked first: until the splitter has told the feeder, what it
        // sends leads nowhere, and waits (it is dropped with the feeder).
        cx.unlink(&self.feeding);
        self.tell(Configuration::RemoveSink(self.sink.clone()));
    }

    /// Passes on what the backplane says of the subscription, on
    /// `subscription`; true if the subscription has ended.
    async fn heard<T: 'static, U: 'static>(
        &self,
        cx: &Cx<SubscribeToBoxes<T, U>>,
        message: Ipc,
    ) -> bool {
        // The backplane's feeder leaves after an end of the stream (the
        // backplane's end, the end of a graceful leave, or a
        // disconnection); after an error it would carry on.
        let error = message.is_error();
        let ends = message.is_end_of_stream() || error;
        if error {
            self.leave(cx);
        }
        cx.signal.send(message).await;
        ends
    }

    /// Acts on a message on `control`; true if the subscriber ends.
    async fn control<T: 'static, U: 'static>(
        &self,
        cx: &Cx<SubscribeToBoxes<T, U>>,
        message: Ipc,
        on_error: Option<&LastWord<U>>,
    ) -> bool {
        match message {
            Ipc::ProducerFinished(_) => {
                // Passed on when the feeder has delivered the rest and says
                // so on `subscription`.
                self.tell(Configuration::FinishSink(self.sink.clone()));
                false
            }
            Ipc::ShutdownMicroprocess(_) | Ipc::ErrorInformation(_) => {
                self.leave(cx);
                let last = match (&message, on_error) {
                    (Ipc::ErrorInformation(_), Some(f)) => f(&message),
                    _ => None,
                };
                if let Some(last) = last {
                    // A reader with no room does without it: the connection
                    // is ending either way.
                    let _ = cx.outbox.try_send(last);
                }
                cx.signal.send(message).await;
                true
            }
            other => {
                cx.signal.send(other).await;
                false
            }
        }
    }
}

impl<T: Clone + 'static, U: 'static> Component for SubscribeTo<T, U> {
    type Boxes = SubscribeToBoxes<T, U>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(mut self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            // Subscribed in a step of its own, boxed: its state would
            // otherwise stay in the frame.
            let Some(subscription) = Box::pin(self.join(&cx)).await else {
                return;
            };
            loop {
                // `let … else`, not `while let` and `if let`: their
                // `Option`s would stay in the frame beside the send.
                loop {
                    let Some(message) = cx.inbox.recv() else {
                        break;
                    };
                    let Some(message) = (self.pass)(message) else {
                        continue;
                    };
                    cx.outbox.send(message).await;
                }
                // Boxed, as subscribing is: what it takes to end would
                // otherwise stay in the frame of every idle subscriber.
                let heard = cx
                    .subscription
                    .recv()
                    .map(|message| Box::pin(subscription.heard(&cx, message)));
                if let Some(heard) = heard {
                    if heard.await {
                        return;
                    }
                    continue;
                }
                let on_error = self.on_error.as_ref();
                let told = cx
                    .control
                    .recv()
                    .map(|message| Box::pin(subscription.control(&cx, message, on_error)));
                if let Some(told) = told {
                    if told.await {
                        return;
                    }
                    continue;
                }
                cx.idle().await;
            }
        }
    }
}
