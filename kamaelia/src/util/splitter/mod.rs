//! [`PlugSplitter`] and [`Plug`]: one stream copied to any number of sinks
//! that come and go (Kamaelia's `Kamaelia.Util.Splitter`), with flow control.

mod delivery;
mod feeder;
mod journal;
mod log;
mod plug;

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use axon::ipc::{Ipc, ShutdownMicroprocess};
use axon::{Component, ComponentId, ComponentRef, Cx};
use bytes::BytesMut;
use rustc_hash::FxHashMap;

use self::delivery::{Delivery, Encoded, Mapped, Sliced};
use self::feeder::{Feeder, FeederSetup};
use self::log::{Bounds, Entry, Log};
use crate::util::{Encode, Weigh};

pub use self::plug::Plug;

/// The default pacing bound of a [`PlugSplitter`], in messages: publishers
/// wait while a pacing sink has this many waiting.
pub const DEFAULT_MAX_BACKLOG_MESSAGES: usize = 1024;

/// The default pacing bound of a [`PlugSplitter`], in bytes ([`Weigh`]):
/// publishers wait while a pacing sink has this many bytes waiting.
pub const DEFAULT_PACING_BYTES: usize = 1 << 20;

/// The default byte cap of a [`PlugSplitter`]: a stalled sink whose backlog
/// grows over this many bytes is disconnected.
pub const DEFAULT_MAX_BACKLOG_BYTES: usize = 4 << 20;

/// How long, by default, a sink at its pacing bound may take nothing before a
/// [`PlugSplitter`] stops holding the publishers back for it.
pub const DEFAULT_STALL_GRACE: Duration = Duration::from_millis(200);

/// How long, by default, a sink may take nothing while messages wait for it
/// before a [`PlugSplitter`] disconnects it.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The default size limit of a [`PlugSplitter`]'s `inbox`.
pub const DEFAULT_SPLITTER_INBOX_SIZE: usize = 64;

/// A destination for a [`PlugSplitter`]'s copies: a component, the box its
/// data goes to, and the box its control messages go to (Kamaelia's
/// `addsink(sink, sinkbox, sinkcontrol)`).
///
/// A box may be an inbox, or an outbox of the sink (the copies then leave
/// through it, landing in the inbox its links lead to: a passthrough,
/// Kamaelia's `passthrough=2`; a [`SubscribeTo`](crate::util::SubscribeTo)
/// is fed so). Until that outbox's links lead to an inbox, the sink counts as
/// full: its copies wait in the splitter, where Kamaelia would drop them.
///
/// # Examples
///
/// ```
/// use axon::ComponentRef;
/// use kamaelia::util::{PassThrough, Sink};
///
/// let logger = ComponentRef::new(PassThrough::<u32>::new());
/// let sink = Sink::new(&logger).control("control");
/// assert_eq!(sink.inbox.as_deref(), Some("inbox"));
/// assert_eq!(sink.control.as_deref(), Some("control"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sink {
    /// The component receiving the copies.
    pub component: ComponentRef,
    /// Its box for data (`None`: it gets no data): a name is looked up among
    /// its inboxes, then its outboxes.
    pub inbox: Option<String>,
    /// Its box for control messages (`None`: it gets none).
    pub control: Option<String>,
    /// How its feeder hands it each message ([`filter_map`](Self::filter_map),
    /// [`encode`](Self::encode) or [`encoded_where`](Self::encoded_where));
    /// none: a clone.
    delivery: Option<OwnDelivery>,
}

/// Starts the feeder of a sink with its own way of delivery, for a splitter
/// of `T`.
type StartFeeder<T> = Box<dyn Fn(FeederSetup<T>) -> ComponentRef>;

/// A sink's [`Sink::filter_map`], [`Sink::encode`] or
/// [`Sink::encoded_where`]: a [`StartFeeder`] for the message type it was
/// made for, which the splitter finds by that type.
#[derive(Clone)]
struct OwnDelivery {
    start: Rc<dyn Any>,
    /// The type of message it takes, for the error if a splitter of another
    /// type is given it.
    takes: &'static str,
}

impl PartialEq for OwnDelivery {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.start, &other.start)
    }
}

impl Eq for OwnDelivery {}

impl fmt::Debug for OwnDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delivery of {}", self.takes)
    }
}

impl Sink {
    /// Data to `component`'s `inbox`, no control messages.
    pub fn new(component: &ComponentRef) -> Self {
        Sink {
            component: component.clone(),
            inbox: Some("inbox".into()),
            control: None,
            delivery: None,
        }
    }

    /// Delivers `f(&message)` for each message instead of a clone, and
    /// nothing for one it maps to `None`, which still counts as taken: each
    /// sink's own filter and conversion, applied by the splitter as it
    /// delivers (no component in between, so no hop and no resume per
    /// message). Its data box then takes `U`; the splitter must be one of
    /// `T`, or the sink is refused (logged).
    ///
    /// A message filtered out weighs on the sink's backlog until the sink's
    /// turn passes it, as any other does.
    ///
    /// # Examples
    ///
    /// Only the even numbers, as text:
    ///
    /// ```
    /// use axon::{ComponentRef, Scheduler};
    /// use axon::ipc::{Ipc, ProducerFinished};
    /// use kamaelia::util::{Configuration, PassThrough, PlugSplitter, Sink};
    ///
    /// let splitter = ComponentRef::new(PlugSplitter::<u32>::new());
    /// let evens = ComponentRef::new(PassThrough::<String>::new());
    /// let sink = Sink::new(&evens).filter_map(|n: &u32| n.is_multiple_of(2).then(|| n.to_string()));
    /// splitter
    ///     .inbox::<Configuration>("configuration")?
    ///     .deliver(Configuration::AddSink(sink))?;
    /// let scheduler = Scheduler::new();
    /// splitter.activate_on(&scheduler);
    /// scheduler.run_cycle();
    /// for n in 1..=4 {
    ///     splitter.inbox::<u32>("inbox")?.deliver(n)?;
    /// }
    /// splitter.inbox::<Ipc>("control")?.deliver(ProducerFinished::new().into())?;
    /// scheduler.run()?;
    /// let got: Vec<String> = evens.inbox::<String>("inbox")?.drain().collect();
    /// assert_eq!(got, ["2", "4"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn filter_map<T, U, F>(self, f: F) -> Self
    where
        T: Clone + 'static,
        U: 'static,
        F: Fn(&T) -> Option<U> + 'static,
    {
        let f = Rc::new(f);
        self.delivered(move || Mapped(Rc::clone(&f)))
    }

    /// Delivers the bytes `f` writes for each message, gathered: what a
    /// round of the splitter's delivery to this sink writes goes out as one
    /// `Bytes` (at most about 16 KiB; a message that writes nothing adds
    /// nothing). For a sink that is a byte stream, a connection above all:
    /// each message costs a copy of its bytes, and no message, clone, or
    /// queue entry of its own; a burst of them reaches the socket as one
    /// buffer. Its data box then takes `Bytes`; the splitter must be one of
    /// `T`, or the sink is refused (logged).
    ///
    /// What waits for the sink outside the log is then at most its box's
    /// size limit in such batches, plus one held back while the box is full.
    ///
    /// Where every sink takes the same bytes of a message, skipping some
    /// (a chat's clients), [`encoded_where`](Self::encoded_where) is
    /// cheaper: it writes them once for all the sinks, not once per sink.
    ///
    /// # Examples
    ///
    /// Each number on a line of its own, as text:
    ///
    /// ```
    /// use std::fmt::Write;
    ///
    /// use axon::{ComponentRef, Scheduler};
    /// use axon::ipc::{Ipc, ProducerFinished};
    /// use bytes::Bytes;
    /// use kamaelia::util::{Configuration, PassThrough, PlugSplitter, Sink};
    ///
    /// let splitter = ComponentRef::new(PlugSplitter::<u32>::new());
    /// let text = ComponentRef::new(PassThrough::<Bytes>::new());
    /// let sink = Sink::new(&text).encode(|n: &u32, out: &mut bytes::BytesMut| {
    ///     let _ = writeln!(out, "{n}");
    /// });
    /// splitter
    ///     .inbox::<Configuration>("configuration")?
    ///     .deliver(Configuration::AddSink(sink))?;
    /// let scheduler = Scheduler::new();
    /// splitter.activate_on(&scheduler);
    /// scheduler.run_cycle();
    /// for n in 1..=3 {
    ///     splitter.inbox::<u32>("inbox")?.deliver(n)?;
    /// }
    /// splitter.inbox::<Ipc>("control")?.deliver(ProducerFinished::new().into())?;
    /// scheduler.run()?;
    /// let got: Vec<u8> = text.inbox::<Bytes>("inbox")?.drain().flatten().collect();
    /// assert_eq!(got, b"1\n2\n3\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode<T, F>(self, f: F) -> Self
    where
        T: Clone + 'static,
        F: Fn(&T, &mut BytesMut) + 'static,
    {
        let f = Rc::new(f);
        self.delivered(move || Encoded::new(Rc::clone(&f)))
    }

    /// Delivers the bytes of each message `keep` keeps, as its type's
    /// [`Encode`] writes them, in slices of the splitter's *journal*: the
    /// splitter writes each message's bytes once, however many sinks take
    /// them, and a run of kept messages goes to the sink as one `Bytes`
    /// sliced from it (a refcount, no copy). Where every sink takes the same
    /// bytes of a message (a chat's lines, each client skipping its own),
    /// this is the cheapest way to feed byte streams; [`encode`](Self::encode)
    /// is for sinks that write different bytes for the same message. Its
    /// data box then takes `Bytes`; the splitter must be one of `T`, or the
    /// sink is refused (logged).
    ///
    /// While such a sink is added, the splitter writes the bytes of every
    /// message it takes, and keeps them as long as it keeps the message;
    /// when the last has gone, it stops, and gives back its spare room. A
    /// slice the sink has not yet written keeps the memory it was cut from
    /// alive (the journal takes room 64 KiB at a time), so a sink's box
    /// should not hold slices for long: a connection writes them at once.
    ///
    /// # Examples
    ///
    /// Every line but those that start with `#`:
    ///
    /// ```
    /// use axon::{ComponentRef, Scheduler};
    /// use axon::ipc::{Ipc, ProducerFinished};
    /// use bytes::Bytes;
    /// use kamaelia::util::{Configuration, PassThrough, PlugSplitter, Sink};
    ///
    /// let splitter = ComponentRef::new(PlugSplitter::<Bytes>::new());
    /// let text = ComponentRef::new(PassThrough::<Bytes>::new());
    /// let sink = Sink::new(&text).encoded_where(|line: &Bytes| !line.starts_with(b"#"));
    /// splitter
    ///     .inbox::<Configuration>("configuration")?
    ///     .deliver(Configuration::AddSink(sink))?;
    /// let scheduler = Scheduler::new();
    /// splitter.activate_on(&scheduler);
    /// scheduler.run_cycle();
    /// for line in ["one\n", "# not this\n", "two\n"] {
    ///     splitter.inbox::<Bytes>("inbox")?.deliver(Bytes::from(line))?;
    /// }
    /// splitter.inbox::<Ipc>("control")?.deliver(ProducerFinished::new().into())?;
    /// scheduler.run()?;
    /// let got: Vec<u8> = text.inbox::<Bytes>("inbox")?.drain().flatten().collect();
    /// assert_eq!(got, b"one\ntwo\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encoded_where<T, F>(self, keep: F) -> Self
    where
        T: Clone + Encode + 'static,
        F: Fn(&T) -> bool + 'static,
    {
        let keep = Rc::new(keep);
        self.started(move |setup: FeederSetup<T>| {
            setup.log.borrow_mut().write_bytes(T::encode);
            ComponentRef::new(Feeder::new(setup, Sliced::new(Rc::clone(&keep))))
        })
    }

    /// Has each feeder of this sink (one per splitter it is added to) hand
    /// over its messages with what `delivery` makes.
    fn delivered<T, D>(self, delivery: impl Fn() -> D + 'static) -> Self
    where
        T: Clone + 'static,
        D: Delivery<T>,
    {
        self.started(move |setup| ComponentRef::new(Feeder::new(setup, delivery())))
    }

    /// Has each feeder of this sink started by `start`.
    fn started<T: 'static>(
        mut self,
        start: impl Fn(FeederSetup<T>) -> ComponentRef + 'static,
    ) -> Self {
        let start: StartFeeder<T> = Box::new(start);
        self.delivery = Some(OwnDelivery {
            start: Rc::new(start),
            takes: std::any::type_name::<T>(),
        });
        self
    }

    /// Data to the box `name` instead (or to none).
    pub fn inbox(mut self, name: impl Into<Option<&'static str>>) -> Self {
        self.inbox = name.into().map(String::from);
        self
    }

    /// Control messages to the box `name`.
    pub fn control(mut self, name: &str) -> Self {
        self.control = Some(name.into());
        self
    }

    fn key(&self) -> (ComponentId, Option<String>, Option<String>) {
        (
            self.component.id(),
            self.inbox.clone(),
            self.control.clone(),
        )
    }
}

impl fmt::Display for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.component.id(),
            self.inbox.as_deref().unwrap_or("-"),
            self.control.as_deref().unwrap_or("-")
        )
    }
}

/// A message for a [`PlugSplitter`]'s `configuration` inbox.
#[derive(Clone, Debug)]
pub enum Configuration {
    /// Start copying to this sink, from the next message on (Kamaelia's
    /// `addsink`).
    AddSink(Sink),
    /// Stop copying to this sink at once (Kamaelia's `removesink`); what it
    /// had not taken yet is dropped.
    RemoveSink(Sink),
    /// Deliver to this sink what has reached the splitter so far, then send
    /// `ProducerFinished` to its control box and stop copying to it. (Not in
    /// Kamaelia: how a subscriber finishes without losing the tail.)
    FinishSink(Sink),
}

axon::boxes! {
    /// The boxes of a [`PlugSplitter`].
    pub struct PlugSplitterBoxes<T> {
        /// Messages to copy to every sink.
        inbox inbox: T,
        /// Copied to every sink's control box; `ProducerFinished` or
        /// `ShutdownMicroprocess` ends the splitter.
        inbox control: Ipc,
        /// [`Configuration`]: sinks joining and leaving.
        inbox configuration: Configuration,
        /// A copy of every message too (if linked).
        outbox outbox: T,
        /// A copy of every control message.
        outbox signal: Ipc,
    }
}

/// Copies every message from `inbox` to every sink, and every control message
/// to every sink's control box, with sinks joining and leaving at run time:
/// Kamaelia's `PlugSplitter`. A [`Plug`] makes a component a sink; a
/// [`Backplane`](crate::util::Backplane) is a splitter found by name.
///
/// # Flow control
///
/// Each message is kept once, in a log shared by the sinks (a clone per sink
/// is all a delivery costs: a refcount for [`Bytes`](bytes::Bytes)), until
/// every sink has taken it. For sinks that take bytes
/// ([`Sink::encoded_where`]), its bytes are kept once too, and a run of
/// messages reaches such a sink as one slice of them. Each sink takes from
/// the log at its own pace, delivering into its own box as that box has
/// room (its size limit,
/// [`Inbox::set_size`](axon::Inbox::set_size); for a
/// [`SubscribeTo`](crate::util::SubscribeTo), the limit of the inbox its
/// `outbox` leads to). A sink's *backlog* is what waits for it in the log, counted in
/// messages and in bytes (by [`Weigh`]; a message weighs at least one byte).
///
/// Each sink is in one of two tiers, with two bounds:
///
/// * **Pacing** (every sink starts so): while a pacing sink's backlog is at
///   the *pacing bound* — [`max_backlog_messages`](Self::max_backlog_messages)
///   messages or [`pacing_bytes`](Self::pacing_bytes) bytes — the splitter
///   takes nothing more from its `inbox`, which is bounded
///   ([`inbox_size`](Self::inbox_size)): publishers' sends wait. Publishers go
///   at the pace of the slowest sink that is making progress.
/// * **Stalled**: a sink at the pacing bound whose box stays full, taking
///   nothing for [`stall_grace`](Self::stall_grace) (default
///   [`DEFAULT_STALL_GRACE`], 200 ms), stops pacing: the publishers go on at
///   the pace of the others, and its backlog grows past the pacing bound. If
///   it takes something again, it is pacing again at once (the publishers
///   then wait while it works its backlog down under the pacing bound).
///
/// A stalled sink is **disconnected** when its backlog grows over the byte cap,
/// [`max_backlog_bytes`](Self::max_backlog_bytes) (default
/// [`DEFAULT_MAX_BACKLOG_BYTES`], 4 MiB; the pacing bound is held strictly
/// below it), or when it has taken nothing for
/// [`stall_timeout`](Self::stall_timeout) (default [`DEFAULT_STALL_TIMEOUT`],
/// 10 s), whichever comes first. A `tracing` warning names the sink and the
/// reason (`max_backlog_bytes` with the backlog, or `stall_timeout`); the
/// sink gets `ShutdownMicroprocess` on its control box (if it has one; a
/// [`SubscribeTo`](crate::util::SubscribeTo) passes it out of `signal`, so a
/// per-connection pipeline closes its connection); its backlog is released.
/// The others carry on and lose nothing.
///
/// What follows:
///
/// * **A sink that keeps reading is never dropped**, however hard the
///   publishers push: it paces them, so its backlog stays under the pacing
///   bound, below the cap. ("Keeps reading": it takes something at least once
///   per grace period while its backlog is at the pacing bound.)
/// * **A sink that stops reading delays the others by at most the grace
///   period**, not the stall timeout.
/// * **Memory is bounded**: the log holds at most the byte cap plus one
///   message for a stalled sink, the pacing bound plus one message for the
///   others, plus the splitter's inbox and each sink's box. The bounds count
///   what the log really holds: each message's weight ([`Weigh`]), the
///   log's record of it ([`RECORD_BYTES`](Self::RECORD_BYTES)) and, while a
///   sink takes bytes, the bytes the log keeps for it (in buffers of
///   64 KiB). Once a long backlog has gone, the log gives back the room it
///   took.
///
/// No step looks at every sink: a message is appended once and delivered once
/// per sink; a sink with room again is woken alone; a stall is noticed by the
/// stalled sink's own timer; a round of delivery, however many messages it
/// takes, and a sink leaving or stalling each move one count in the log;
/// a sink pacing again moves the point the bound is counted from back over
/// its backlog once; and the stalled sinks are kept in order of their
/// backlog, so an append checks the cap against one of them.
///
/// A control message reaches the sinks in order with the data. After
/// `ProducerFinished` or `ShutdownMicroprocess` the splitter takes nothing
/// more, and ends once every sink has taken what came before it (or been
/// dropped), as Kamaelia's ends and removes its sinks.
///
/// # Inboxes
///
/// * `inbox` (`T`): messages to copy.
/// * `control` ([`Ipc`]): copied to `signal` and to every sink's control box;
///   `ProducerFinished` or `ShutdownMicroprocess` ends the splitter.
/// * `configuration` ([`Configuration`]): `AddSink`, `RemoveSink`,
///   `FinishSink`.
///
/// # Outboxes
///
/// * `outbox` (`T`): a copy of every message, if linked (its consumer's pace
///   holds the splitter back too).
/// * `signal` ([`Ipc`]): a copy of every control message.
///
/// # Examples
///
/// ```
/// use axon::{ComponentRef, Scheduler};
/// use axon::ipc::ProducerFinished;
/// use kamaelia::util::{Configuration, PassThrough, PlugSplitter, Sink};
///
/// let splitter = ComponentRef::new(PlugSplitter::<u32>::new());
/// let a = ComponentRef::new(PassThrough::<u32>::new());
/// let b = ComponentRef::new(PassThrough::<u32>::new());
/// for sink in [&a, &b] {
///     splitter
///         .inbox::<Configuration>("configuration")?
///         .deliver(Configuration::AddSink(Sink::new(sink)))?;
/// }
/// let scheduler = Scheduler::new();
/// splitter.activate_on(&scheduler);
/// scheduler.run_cycle();
/// scheduler.run_cycle();
/// splitter.inbox::<u32>("inbox")?.deliver(42)?;
/// splitter.inbox::<axon::ipc::Ipc>("control")?.deliver(ProducerFinished::new().into())?;
/// scheduler.run()?;
/// assert_eq!(a.inbox::<u32>("inbox")?.recv(), Some(42));
/// assert_eq!(b.inbox::<u32>("inbox")?.recv(), Some(42));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PlugSplitter<T> {
    max_backlog_messages: usize,
    pacing_bytes: usize,
    max_backlog_bytes: usize,
    stall_grace: Duration,
    stall_timeout: Duration,
    inbox_size: usize,
    message: std::marker::PhantomData<fn(T) -> T>,
}

impl<T> PlugSplitter<T> {
    /// What the splitter's log holds for each waiting message besides the
    /// message's own weight ([`Weigh`]): its record of it, counted with the
    /// weight against the byte bounds. A backlog of small messages weighs
    /// mostly records: a 60-byte chat line takes a record larger than
    /// itself.
    ///
    /// ```
    /// use kamaelia::util::PlugSplitter;
    ///
    /// // A cap that holds 1,000 waiting messages of type u64:
    /// let cap = 1_000 * (8 + PlugSplitter::<u64>::RECORD_BYTES);
    /// let splitter = PlugSplitter::<u64>::new().max_backlog_bytes(cap);
    /// # let _ = splitter;
    /// ```
    pub const RECORD_BYTES: usize = log::slot_bytes::<T>();

    /// A splitter with no sinks and the default bounds.
    pub fn new() -> Self {
        PlugSplitter {
            max_backlog_messages: DEFAULT_MAX_BACKLOG_MESSAGES,
            pacing_bytes: DEFAULT_PACING_BYTES,
            max_backlog_bytes: DEFAULT_MAX_BACKLOG_BYTES,
            stall_grace: DEFAULT_STALL_GRACE,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            inbox_size: DEFAULT_SPLITTER_INBOX_SIZE,
            message: std::marker::PhantomData,
        }
    }

    /// The pacing bound in messages: stop taking messages while a pacing
    /// sink has this many waiting (at least 1; default
    /// [`DEFAULT_MAX_BACKLOG_MESSAGES`]).
    pub fn max_backlog_messages(mut self, messages: usize) -> Self {
        self.max_backlog_messages = messages.max(1);
        self
    }

    /// The pacing bound in bytes: stop taking messages while a pacing sink
    /// has this many bytes waiting (default [`DEFAULT_PACING_BYTES`]; kept
    /// below [`max_backlog_bytes`](Self::max_backlog_bytes)).
    pub fn pacing_bytes(mut self, bytes: usize) -> Self {
        self.pacing_bytes = bytes.max(1);
        self
    }

    /// The byte cap: disconnect a stalled sink whose backlog grows over this
    /// many bytes (at least 2; default [`DEFAULT_MAX_BACKLOG_BYTES`]). The
    /// pacing bound is held strictly below it.
    pub fn max_backlog_bytes(mut self, bytes: usize) -> Self {
        self.max_backlog_bytes = bytes.max(2);
        self
    }

    /// How long a sink at its pacing bound may take nothing before the
    /// publishers stop waiting for it (default [`DEFAULT_STALL_GRACE`]):
    /// the most a sink that stops reading delays the others.
    pub fn stall_grace(mut self, grace: Duration) -> Self {
        self.stall_grace = grace;
        self
    }

    /// Disconnect a sink that takes nothing for this long while messages wait
    /// for it (default [`DEFAULT_STALL_TIMEOUT`]).
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// The size limit of the splitter's `inbox` (at least 1; default
    /// [`DEFAULT_SPLITTER_INBOX_SIZE`]): how far publishers may run ahead of
    /// a full log.
    pub fn inbox_size(mut self, size: usize) -> Self {
        self.inbox_size = size.max(1);
        self
    }
}

impl<T> PlugSplitter<T> {
    /// The size limit its `inbox` will have.
    pub(crate) fn configured_inbox_size(&self) -> usize {
        self.inbox_size
    }
}

impl<T> Default for PlugSplitter<T> {
    fn default() -> Self {
        PlugSplitter::new()
    }
}

impl<T> fmt::Debug for PlugSplitter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlugSplitter")
            .field("type", &std::any::type_name::<T>())
            .field("max_backlog_messages", &self.max_backlog_messages)
            .field("pacing_bytes", &self.pacing_bytes)
            .field("max_backlog_bytes", &self.max_backlog_bytes)
            .field("stall_grace", &self.stall_grace)
            .field("stall_timeout", &self.stall_timeout)
            .finish()
    }
}

type SinkKey = (ComponentId, Option<String>, Option<String>);

/// The splitter's sinks: each served by a feeder child.
struct Sinks {
    feeders: FxHashMap<SinkKey, ComponentRef>,
    keys: FxHashMap<ComponentId, SinkKey>,
}

impl Sinks {
    /// Tells the feeder of `sink` (if any) to leave with `how`.
    fn tell(&mut self, sink: &Sink, how: Ipc) {
        let Some(feeder) = self.feeders.remove(&sink.key()) else {
            tracing::debug!(%sink, "no such sink to remove");
            return;
        };
        self.keys.remove(&feeder.id());
        if let Ok(control) = feeder.inbox::<Ipc>("control") {
            let _ = control.deliver(how);
        }
    }

    fn forget(&mut self, feeder: &ComponentRef) {
        if let Some(key) = self.keys.remove(&feeder.id()) {
            self.feeders.remove(&key);
        }
    }
}

impl<T: Clone + Weigh + 'static> PlugSplitter<T> {
    /// The bounds as the log applies them: the pacing bound strictly below
    /// the cap.
    fn bounds(&self) -> Bounds {
        Bounds {
            pacing_messages: self.max_backlog_messages,
            pacing_bytes: self.pacing_bytes.min(self.max_backlog_bytes - 1),
            max_bytes: self.max_backlog_bytes,
        }
    }

    /// Starts a feeder for `sink`; false if it is a sink already.
    fn add_sink(
        &self,
        cx: &Cx<PlugSplitterBoxes<T>>,
        log: &Rc<RefCell<Log<T>>>,
        sinks: &mut Sinks,
        sink: Sink,
    ) -> bool {
        let key = sink.key();
        if sinks.feeders.contains_key(&key) {
            tracing::debug!(%sink, "sink added twice; ignored");
            return false;
        }
        let own = sink.delivery.clone();
        let start = match &own {
            None => None,
            Some(own) => match own.start.downcast_ref::<StartFeeder<T>>() {
                Some(start) => Some(start),
                None => {
                    tracing::error!(
                        %sink,
                        "cannot add the sink: its own delivery takes {}, and this splitter carries {}",
                        own.takes,
                        std::any::type_name::<T>()
                    );
                    return false;
                }
            },
        };
        let setup = FeederSetup {
            log: log.clone(),
            cursor: log.borrow_mut().join(),
            sink,
            grace: self.stall_grace,
            stall_timeout: self.stall_timeout,
        };
        let feeder = match start {
            Some(start) => start(setup),
            None => ComponentRef::new(Feeder::new(setup, Mapped(Rc::new(delivery::copy::<T>)))),
        };
        cx.add_children([&feeder]);
        feeder.activate_on(&cx.scheduler());
        sinks.keys.insert(feeder.id(), key.clone());
        sinks.feeders.insert(key, feeder);
        true
    }
}

impl<T: Clone + Weigh + 'static> Component for PlugSplitter<T> {
    type Boxes = PlugSplitterBoxes<T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.inbox.set_size(Some(self.inbox_size));
        let log = Rc::new(RefCell::new(Log::new(self.bounds())));
        log.borrow_mut().set_splitter(Some(cx.component()));
        let mut sinks = Sinks {
            feeders: FxHashMap::default(),
            keys: FxHashMap::default(),
        };
        let mut ending = false;
        // Counted, not listed: at the end it is asked on every wake.
        let mut feeders_running = 0usize;
        loop {
            for child in cx.finished_children() {
                sinks.forget(&child);
                cx.remove_child(&child);
                feeders_running -= 1;
            }
            for change in cx.configuration.drain() {
                match change {
                    Configuration::AddSink(sink) if !ending => {
                        if self.add_sink(&cx, &log, &mut sinks, sink) {
                            feeders_running += 1;
                        }
                    }
                    Configuration::AddSink(_) => {}
                    Configuration::RemoveSink(sink) => {
                        sinks.tell(&sink, ShutdownMicroprocess::new().into())
                    }
                    Configuration::FinishSink(sink) => {
                        sinks.tell(&sink, axon::ipc::ProducerFinished::new().into())
                    }
                }
            }
            if ending {
                if feeders_running == 0 {
                    break;
                }
                cx.idle().await;
                continue;
            }
            let mut appended = false;
            while log.borrow().has_room() {
                let Some(message) = cx.inbox.recv() else {
                    break;
                };
                if cx.outbox.is_linked() {
                    cx.outbox.send(message.clone()).await;
                }
                let weight = message.weight();
                log.borrow_mut().push(Entry::Data(message), weight);
                appended = true;
            }
            // Control waits behind data still queued, so sinks see the order
            // it arrived in.
            if cx.inbox.is_empty() {
                while let Some(message) = cx.control.recv() {
                    ending = message.is_end_of_stream();
                    cx.signal.send(message.clone()).await;
                    log.borrow_mut().push(Entry::Control(message), 0);
                    appended = true;
                    if ending {
                        break;
                    }
                }
            }
            {
                let mut l = log.borrow_mut();
                if appended {
                    l.wake_parked();
                }
                if !l.has_room() {
                    l.want_room();
                }
            }
            if ending {
                // Feeders leave after delivering the end, waking us as they do.
                continue;
            }
            cx.idle().await;
        }
        log.borrow_mut().clear_components();
    }
}
