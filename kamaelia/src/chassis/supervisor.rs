//! [`Supervisor`]: children made again when they fail, as Erlang/OTP's
//! supervisors make them. No Kamaelia has one; every actor runtime since
//! Erlang does.

mod child_spec;
mod gave_up;
mod intensity;
mod slot;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use axon::ipc::{ErrorInformation, Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{Absent, Component, ComponentRef, Cx, Standard};

pub use child_spec::{ChildSpec, Restart};
pub use gave_up::GaveUp;
pub use intensity::{DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW};

use super::DEFAULT_SHUTDOWN_GRACE;
use child_spec::Spec;
use intensity::Intensity;
use slot::Slot;

/// Which children a [`Supervisor`] makes again when one fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// Only the child that failed (OTP's `one_for_one`). The default.
    #[default]
    OneForOne,
    /// Every child: the others are stopped, then all are made again, in the
    /// order they were given (OTP's `one_for_all`), for children that cannot
    /// work without each other.
    AllForOne,
}

/// A chassis that makes its children again when they fail: an Erlang/OTP
/// supervisor.
///
/// Each child is given as a [`ChildSpec`]: a name and a factory that makes a
/// fresh component for each incarnation. The Supervisor makes and starts
/// them all, in order, when it starts. A child *fails* when its body panics
/// (the scheduler catches the panic and ends only that component), or when
/// the last thing it said on `signal` before ending was an
/// [`ErrorInformation`] (turn that off with
/// [`error_information_is_failure(false)`](Self::error_information_is_failure)).
/// Whether an ended child is made again is its [`Restart`] type
/// ([`Transient`](Restart::Transient) by default: only if it failed);
/// which children are made again is the [`Strategy`]
/// ([`OneForOne`](Strategy::OneForOne) by default). Each restart is logged
/// (`warn`, target `kamaelia::chassis`) with the child's name and how it
/// failed.
///
/// At most [`DEFAULT_MAX_RESTARTS`] restarts are made within
/// [`DEFAULT_RESTART_WINDOW`] (OTP's 3 in 5 s; see
/// [`intensity`](Self::intensity)). One failure more and the Supervisor gives
/// up: it logs an `error`, stops its other children, sends an
/// [`ErrorInformation`] whose `exception` is a [`GaveUp`] on `signal`, and
/// ends, so that a supervisor or Graphline above it hears why: to a
/// Supervisor above it, that is a failure, so Supervisors nest into a tree
/// as OTP's do.
///
/// # Two forms
///
/// * [`Supervisor::wrap`]: a worker whose `inbox` and `outbox` are the
///   Supervisor's own (linked through, as a Pipeline's are). Each new
///   incarnation is linked in their place, so whoever is linked to the
///   Supervisor never sees a restart; what the failed incarnation had not yet
///   read in its `inbox` is handed to the next, so only the message it was
///   working on when it failed is lost.
/// * [`Supervisor::new`]: independent children only, added with
///   [`child`](Self::child) (servers, clients, anything that talks through
///   services or a [`Backplane`](crate::Backplane)); nothing can be sent to
///   its `inbox`.
///
/// Either way, [`child`](Self::child) adds independent children, whose
/// `outbox`es are merged into the Supervisor's, as a [`Par`](super::Par)'s
/// are.
///
/// # Ending
///
/// `ProducerFinished` on `control` is passed to every child's `control`, and
/// to each incarnation made after it: the children finish their work and
/// end, and one that fails meanwhile is still made again, so that the work
/// left in its `inbox` is done. `ShutdownMicroprocess` is passed on too, but
/// nothing is made again after it, and children that have not ended within
/// [`shutdown_grace`](Self::shutdown_grace) are stopped. Either way the
/// Supervisor sends the message on `signal` once its children have ended,
/// and ends. Other messages on `control` are copied to every child's.
///
/// When every child has ended and none is to be made again, the Supervisor
/// ends too, sending the last `ProducerFinished` or `ShutdownMicroprocess` a
/// child said on `signal`, or else a `ProducerFinished` of its own. What
/// children say on `signal` otherwise (`Status`, `Notify`, an error not
/// counted as a failure) comes out of the Supervisor's `signal` at once.
///
/// # Inboxes
///
/// * `inbox` (`I`): the wrapped child's `inbox` (a passthrough); [`Absent`]
///   for a Supervisor of independent children only.
/// * `control` ([`Ipc`]): `ProducerFinished` (finish the work, then end)
///   or `ShutdownMicroprocess` (end now); each is also copied to every
///   child's `control`, as anything else is.
/// * `<name> signal` ([`Ipc`], one per child, added when it starts):
///   internal, what the child says on its `signal`.
///
/// # Outboxes
///
/// * `outbox` (`O`): the children's `outbox`es.
/// * `signal` ([`Ipc`]): what the children say that is not for the
///   Supervisor; then, as it ends, the shutdown message, the children's last
///   word, or an [`ErrorInformation`] carrying a [`GaveUp`].
///
/// # Examples
///
/// ```
/// use axon::{Background, Component, Cx, Standard};
/// use kamaelia::chassis::{ChildSpec, Supervisor};
///
/// /// Doubles each number; a 0 makes it panic.
/// struct Doubler;
///
/// impl Component for Doubler {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(n) = cx.recv_until_finished().await {
///             assert_ne!(n, 0, "zero is not a number to double");
///             cx.outbox.send(n * 2).await;
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let doubler = background.handle(|| Supervisor::wrap(ChildSpec::new("doubler", || Doubler)));
/// doubler.put(1);
/// doubler.put(0); // the Doubler panics, and a new one takes its place
/// doubler.put(2);
/// assert_eq!(doubler.get(), Some(2));
/// assert_eq!(doubler.get(), Some(4)); // from the second Doubler
/// doubler.finish();
/// assert_eq!(doubler.get(), None); // the Supervisor has ended
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct Supervisor<I, O> {
    children: Vec<Spec>,
    /// Whether the Supervisor's `inbox` feeds its first child's.
    wraps: bool,
    strategy: Strategy,
    max_restarts: usize,
    within: Duration,
    backoff: Duration,
    shutdown_grace: Duration,
    error_is_failure: bool,
    types: PhantomData<fn(I) -> O>,
}

impl<I: 'static, O: 'static> Supervisor<I, O> {
    fn of(children: Vec<Spec>, wraps: bool) -> Self {
        Supervisor {
            children,
            wraps,
            strategy: Strategy::default(),
            max_restarts: DEFAULT_MAX_RESTARTS,
            within: DEFAULT_RESTART_WINDOW,
            backoff: Duration::ZERO,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            error_is_failure: true,
            types: PhantomData,
        }
    }

    /// A Supervisor of one child whose `inbox` and `outbox` are the
    /// Supervisor's own: a worker whose restarts those linked to it do not
    /// see.
    pub fn wrap(child: ChildSpec<I, O>) -> Self {
        Supervisor::of(vec![child.spec], true)
    }

    /// Adds an independent child (started after those before it), whose
    /// `outbox` must send what the others' do. The Supervisor's `inbox` does
    /// not feed it.
    pub fn child<J: 'static>(mut self, child: ChildSpec<J, O>) -> Self {
        self.children.push(child.spec);
        self
    }

    /// Which children a failure restarts (default [`Strategy::OneForOne`]).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Allows at most `max_restarts` restarts within `within` (default
    /// [`DEFAULT_MAX_RESTARTS`] in [`DEFAULT_RESTART_WINDOW`]); one more
    /// failure and the Supervisor gives up. With `0`, the first failure
    /// does; within [`Duration::ZERO`], never.
    pub fn intensity(mut self, max_restarts: usize, within: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.within = within;
        self
    }

    /// Waits `backoff` before each restart (default none), on the
    /// scheduler's timers: for a child that fails because something outside
    /// it (a server it connects to) needs a moment. A shutdown on `control`
    /// cuts the wait short.
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long children told to end (by a shutdown, by a sibling's failure
    /// under [`Strategy::AllForOne`], or as the Supervisor gives up) have to
    /// do so before they are stopped (default [`DEFAULT_SHUTDOWN_GRACE`],
    /// OTP's 5 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Whether a child ending with an [`ErrorInformation`] as the last thing
    /// it said on `signal` has failed (default `true`). With `false` only a
    /// panic is a failure, and the `ErrorInformation` comes out of the
    /// Supervisor's `signal`.
    pub fn error_information_is_failure(mut self, yes: bool) -> Self {
        self.error_is_failure = yes;
        self
    }
}

impl<O: 'static> Supervisor<Absent, O> {
    /// A Supervisor of independent children, none yet: add them with
    /// [`child`](Self::child). With none, it ends at once.
    pub fn new() -> Self {
        Supervisor::of(Vec::new(), false)
    }
}

impl<O: 'static> Default for Supervisor<Absent, O> {
    fn default() -> Self {
        Supervisor::new()
    }
}

impl<I: 'static, O: 'static> Component for Supervisor<I, O> {
    type Boxes = Standard<I, O>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut run = Run {
            slots: self
                .children
                .into_iter()
                .map(|spec| Slot::new(&cx, spec))
                .collect(),
            cx: &cx,
            wraps: self.wraps,
            strategy: self.strategy,
            intensity: Intensity::new(self.max_restarts, self.within),
            backoff: self.backoff,
            shutdown_grace: self.shutdown_grace,
            error_is_failure: self.error_is_failure,
            to_restart: VecDeque::new(),
            finishing: None,
            last_word: None,
        };
        let last_word = run.supervise().await;
        cx.signal.send(last_word).await;
    }
}

/// A Supervisor at work.
struct Run<'a, I, O> {
    cx: &'a Cx<Standard<I, O>>,
    slots: Vec<Slot>,
    wraps: bool,
    strategy: Strategy,
    intensity: Intensity,
    backoff: Duration,
    shutdown_grace: Duration,
    error_is_failure: bool,
    /// The children that have ended and are to be made again, and why.
    to_restart: VecDeque<(usize, String)>,
    /// The `ProducerFinished` heard on `control`, once it has been: every
    /// child, each new incarnation included, is told it, and only failures
    /// are made again.
    finishing: Option<Ipc>,
    /// The last `ProducerFinished` or `ShutdownMicroprocess` a child that
    /// ended for good said on `signal`.
    last_word: Option<Ipc>,
}

impl<I: 'static, O: 'static> Run<'_, I, O> {
    /// Supervises until the end; returns what to say on `signal`.
    async fn supervise(&mut self) -> Ipc {
        for index in 0..self.slots.len() {
            self.start(index);
        }
        loop {
            if let Some(stop) = self.hear_control() {
                return self.shut_down(stop).await;
            }
            self.hear_signals().await;
            for child in self.cx.finished_children() {
                self.cx.remove_child(&child);
                if let Some(index) = self.slots.iter().position(|s| s.runs(&child)) {
                    self.ended(index);
                }
            }
            while let Some((index, reason)) = self.to_restart.pop_front() {
                if !self.intensity.allow(Instant::now()) {
                    return self.give_up(index, reason).await;
                }
                if let Some(stop) = self.restart(index, reason).await {
                    return self.shut_down(stop).await;
                }
            }
            if self.slots.iter().all(|s| s.child.is_none()) {
                let own = || ProducerFinished::from(self.cx.id()).into();
                let last_word = self.finishing.take().or_else(|| self.last_word.take());
                return last_word.unwrap_or_else(own);
            }
            self.cx.idle().await;
        }
    }

    /// Starts the child in `index`, or queues its restart if it could not be
    /// made.
    fn start(&mut self, index: usize) {
        let fed = self.wraps && index == 0;
        if let Err(reason) = self.slots[index].start(self.cx, fed) {
            self.to_restart.push_back((index, reason));
        } else if let (Some(finished), Some(child)) = (&self.finishing, &self.slots[index].child) {
            tell(child, finished.clone());
        }
    }

    /// The child in `index` has ended: queues its restart, or lets it go.
    fn ended(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        let (failure, last_word) = slot.ended(self.error_is_failure);
        let told_to_finish = self.finishing.is_some() && failure.is_none();
        if slot.restart.again(failure.is_some()) && !told_to_finish {
            let reason = failure.unwrap_or_else(|| "ended (it is permanent)".to_string());
            self.to_restart.push_back((index, reason));
        } else if let Some(reason) = failure {
            tracing::warn!(target: "kamaelia::chassis", supervisor = %self.cx.id(), child = %slot.name, %reason, "a temporary supervised child failed: not restarted");
        } else if last_word.is_some() {
            self.last_word = last_word;
        }
    }

    /// Makes the child in `index` again (and, all for one, the others);
    /// returns the shutdown message if `control` asked for one meanwhile.
    async fn restart(&mut self, index: usize, reason: String) -> Option<Ipc> {
        let name = &self.slots[index].name;
        tracing::warn!(target: "kamaelia::chassis", supervisor = %self.cx.id(), child = %name, %reason, "restarting a supervised child");
        let mut group = vec![index];
        if self.strategy == Strategy::AllForOne {
            let running = (0..self.slots.len()).filter(|&i| self.slots[i].child.is_some());
            group.extend(running.filter(|&i| self.slots[i].restart != Restart::Temporary));
            // One restart of everything answers every failure queued with it.
            group.extend(self.to_restart.drain(..).map(|(i, _)| i));
            group.sort_unstable();
            group.dedup();
            self.stop_children(ShutdownMicroprocess::new().into()).await;
        }
        if !self.backoff.is_zero() {
            let deadline = Instant::now() + self.backoff;
            self.cx.wake_at(deadline);
            while Instant::now() < deadline {
                if let Some(stop) = self.hear_control() {
                    return Some(stop);
                }
                self.cx.idle().await;
            }
        }
        if let Some(stop) = self.hear_control() {
            return Some(stop);
        }
        for index in group {
            self.start(index);
        }
        None
    }

    /// Past the restart intensity: stops the other children; returns the
    /// `ErrorInformation` to send.
    async fn give_up(&mut self, index: usize, reason: String) -> Ipc {
        let gave_up = GaveUp {
            child: self.slots[index].name.clone(),
            reason,
            restarts: self.intensity.max(),
            within: self.intensity.within(),
        };
        tracing::error!(target: "kamaelia::chassis", supervisor = %self.cx.id(), child = %gave_up.child, error = %gave_up, "a Supervisor gave up");
        self.stop_children(ShutdownMicroprocess::new().into()).await;
        ErrorInformation::new(self.cx.id(), gave_up).into()
    }

    /// Ends every child with `stop`, which is then the Supervisor's last word.
    async fn shut_down(&mut self, stop: Ipc) -> Ipc {
        self.stop_children(stop.clone()).await;
        stop
    }

    /// Sends `stop` to every running child's `control` and waits for them to
    /// end, stopping those still running after the grace. Nothing is
    /// restarted, whatever way they end.
    async fn stop_children(&mut self, stop: Ipc) {
        for child in self.slots.iter().filter_map(|s| s.child.as_ref()) {
            let told = child
                .inbox::<Ipc>("control")
                .is_ok_and(|control| control.deliver(stop.clone()).is_ok());
            if !told {
                // No `control`, or a full one: it cannot hear, so it is stopped.
                child.stop();
            }
        }
        let deadline = Instant::now() + self.shutdown_grace;
        self.cx.wake_at(deadline);
        let mut forced = false;
        loop {
            self.hear_signals().await;
            for child in self.cx.finished_children() {
                self.cx.remove_child(&child);
                if let Some(slot) = self.slots.iter_mut().find(|s| s.runs(&child)) {
                    slot.ended(self.error_is_failure);
                }
            }
            let mut running = self
                .slots
                .iter()
                .filter_map(|s| Some((s, s.child.as_ref()?)));
            if running.clone().next().is_none() {
                return;
            }
            if !forced && Instant::now() >= deadline {
                forced = true;
                for (slot, child) in &mut running {
                    tracing::warn!(target: "kamaelia::chassis", supervisor = %self.cx.id(), child = %slot.name, grace = ?self.shutdown_grace, "a supervised child did not end in time: stopped");
                    child.stop();
                }
            }
            self.cx.idle().await;
        }
    }

    /// Takes what came on `control`, copying it to every running child's
    /// `control`; returns a `ShutdownMicroprocess` (the rest is left), for
    /// the caller to stop everything with. A `ProducerFinished` starts the
    /// finish.
    fn hear_control(&mut self) -> Option<Ipc> {
        while let Some(message) = self.cx.control.recv() {
            if message.is_shutdown_microprocess() {
                return Some(message);
            }
            if message.is_producer_finished() {
                if self.finishing.is_some() {
                    continue;
                }
                self.finishing = Some(message.clone());
            }
            for child in self.slots.iter().filter_map(|s| s.child.as_ref()) {
                tell(child, message.clone());
            }
        }
        None
    }

    /// Passes on what the children said on `signal` that is not for the
    /// Supervisor to act on.
    async fn hear_signals(&mut self) {
        let mut forward = Vec::new();
        for slot in &mut self.slots {
            forward.extend(slot.hear(self.error_is_failure));
        }
        for message in forward {
            self.cx.signal.send(message).await;
        }
    }
}

/// Copies `message` to `child`'s `control`, if it has room.
fn tell(child: &ComponentRef, message: Ipc) {
    if let Ok(control) = child.inbox::<Ipc>("control") {
        if control.deliver(message).is_err() {
            tracing::warn!(target: "kamaelia::chassis", %child, "a supervised child's control inbox is full: message dropped");
        }
    }
}

impl<I, O> std::fmt::Debug for Supervisor<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.children.iter().map(|c| c.name.as_str()).collect();
        f.debug_struct("Supervisor")
            .field("children", &names)
            .field("wraps", &self.wraps)
            .field("strategy", &self.strategy)
            .field("max_restarts", &self.max_restarts)
            .field("within", &self.within)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}
