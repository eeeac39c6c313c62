//! [`Slot`]: one supervised child's place: its specification, its current
//! incarnation, and what that incarnation has said on `signal`.

use std::panic::{self, AssertUnwindSafe};

use axon::ipc::Ipc;
use axon::{BoxSet, ComponentRef, Cx, Inbox};

use super::child_spec::{Factory, Restart, Spec};
use crate::chassis::children::inherit_size;

/// How many messages a child's `signal` may have waiting for the supervisor:
/// a child saying more than that waits (its `send` does) until the
/// supervisor has read them.
const SIGNAL_QUEUE: usize = 16;

/// One child's place in a supervisor.
pub(super) struct Slot {
    pub(super) name: String,
    factory: Factory,
    pub(super) restart: Restart,
    /// The supervisor's inbox that hears this child's `signal`, whichever
    /// incarnation is running.
    signal: Inbox<Ipc>,
    /// The incarnation running.
    pub(super) child: Option<ComponentRef>,
    /// The incarnation that ended last, for its successor to take over what
    /// it left unread.
    previous: Option<ComponentRef>,
    /// The last thing the current incarnation said on `signal`.
    last_word: Option<Ipc>,
}

impl Slot {
    pub(super) fn new<B: BoxSet>(cx: &Cx<B>, spec: Spec) -> Self {
        let signal = cx.add_inbox::<Ipc>(
            &format!("{} signal", spec.name),
            "what the supervised child says on its `signal`",
        );
        signal.set_size(Some(SIGNAL_QUEUE));
        Slot {
            name: spec.name,
            factory: spec.factory,
            restart: spec.restart,
            signal,
            child: None,
            previous: None,
            last_word: None,
        }
    }

    /// Makes, links and activates a new incarnation, or says why it could not
    /// (the factory panicked). With `inbox`, the supervisor's `inbox` feeds
    /// the child's, and what the previous incarnation left unread in its own
    /// is handed on first, so that only the message it was working on when it
    /// failed is lost.
    pub(super) fn start<I: 'static, O: 'static>(
        &mut self,
        cx: &Cx<axon::Standard<I, O>>,
        inbox: bool,
    ) -> Result<(), String> {
        let previous = self.previous.take();
        self.last_word = None;
        let child =
            panic::catch_unwind(AssertUnwindSafe(&mut self.factory)).map_err(|payload| {
                format!("its factory panicked: {}", axon::panic_message(&*payload))
            })?;
        cx.add_children([&child]);
        let linked = (|| {
            if inbox && child.has_inbox("inbox") {
                inherit_size(cx.inbox.size(), &child, "inbox");
                if let Some(previous) = &previous {
                    self.hand_on_unread::<I>(previous, &child);
                }
                cx.link(&cx.inbox, (&child, "inbox"))?;
            }
            if child.has_outbox("outbox") {
                cx.link((&child, "outbox"), &cx.outbox)?;
            }
            if child.has_outbox("signal") {
                cx.link((&child, "signal"), &self.signal)?;
            }
            Ok::<(), axon::LinkError>(())
        })();
        if let Err(error) = linked {
            // The types were checked when the spec was made; only a child
            // linked elsewhere by its factory gets here.
            tracing::error!(target: "kamaelia::chassis", supervisor = %cx.id(), child = %self.name, %error, "a Supervisor could not link its child");
        }
        self.child = Some(child.clone().activate());
        Ok(())
    }

    /// Moves what `previous` left unread in its `inbox` to `next`'s.
    fn hand_on_unread<I: 'static>(&self, previous: &ComponentRef, next: &ComponentRef) {
        let (Ok(from), Ok(to)) = (previous.inbox::<I>("inbox"), next.inbox::<I>("inbox")) else {
            return;
        };
        for message in from.drain() {
            if to.deliver(message).is_err() {
                tracing::warn!(target: "kamaelia::chassis", child = %self.name, "a restarted child's inbox is smaller than its predecessor's backlog: message dropped");
            }
        }
    }

    /// Takes what the child has said on `signal` since the last call, and
    /// returns what the supervisor is to pass on at once (a `Status`, a
    /// `Notify`, an error not counted as a failure). The rest is kept as the
    /// child's last word, to be acted on when it ends.
    pub(super) fn hear(&mut self, error_is_failure: bool) -> Vec<Ipc> {
        let mut forward = Vec::new();
        for message in self.signal.drain() {
            if message.is_end_of_stream() || (error_is_failure && message.is_error()) {
                self.last_word = Some(message);
            } else {
                forward.push(message);
            }
        }
        forward
    }

    /// True if `component` is the incarnation running here.
    pub(super) fn runs(&self, component: &ComponentRef) -> bool {
        self.child.as_ref() == Some(component)
    }

    /// The incarnation has ended: says how it failed, if it did, and lets go
    /// of what it said (returning its end-of-stream last word, if any).
    pub(super) fn ended(&mut self, error_is_failure: bool) -> (Option<String>, Option<Ipc>) {
        let last_word = self.last_word.take();
        let Some(child) = self.child.take() else {
            return (None, None);
        };
        let panic = child.panic_message();
        self.previous = Some(child);
        if let Some(panic) = panic {
            return (Some(format!("panicked: {panic}")), None);
        }
        match last_word {
            Some(Ipc::ErrorInformation(error)) if error_is_failure => {
                let what = error
                    .exception
                    .as_ref()
                    .map_or_else(|| "no exception".to_string(), |e| e.to_string());
                (Some(format!("ended with ErrorInformation: {what}")), None)
            }
            other => (None, other.filter(Ipc::is_end_of_stream)),
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("child", &self.child)
            .finish_non_exhaustive()
    }
}
