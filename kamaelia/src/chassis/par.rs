//! [`Par`]: components side by side (Kamaelia's `Kamaelia.Chassis.PAR`).

use std::marker::PhantomData;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Absent, Component, ComponentRef, Cx, Inbox, Standard};

use super::children::reap_finished;
use super::stage::Stage;
use super::ChassisError;

/// Components running side by side, their output merged: Kamaelia's `PAR`
/// (after Occam's).
///
/// Every child's `outbox` and `signal` come out of the Par's own. Each
/// message on `control` is copied to every child still running, and a
/// `ShutdownMicroprocess` also makes the Par end **at once**, without
/// waiting for its children (as the original does, whatever its docstring
/// says). Otherwise the Par ends when all its children have. On ending it
/// sends the `ShutdownMicroprocess` it was given, or else a
/// `ProducerFinished`, on `signal`, and lets go of the children (unlinking
/// them).
///
/// The original's default policy discards whatever arrives on `inbox`; here
/// the inbox carries [`Absent`], so nothing can be sent to it at all, and a
/// Par can only be the first stage of a [`Pipeline`](crate::Pipeline!).
///
/// Write one with [`PAR!`](crate::PAR!) or [`Par::of`] and
/// [`and`](Par::and), which check the children's output type at compile
/// time, or with [`Par::from_components`].
///
/// # Inboxes
///
/// * `inbox` ([`Absent`]): nothing.
/// * `control` ([`Ipc`]): copied to every running child; a
///   `ShutdownMicroprocess` ends the Par.
///
/// # Outboxes
///
/// * `outbox` (`O`): every child's `outbox`.
/// * `signal` ([`Ipc`]): every child's `signal`, then the Par's own
///   `ProducerFinished` or `ShutdownMicroprocess`.
///
/// # Examples
///
/// ```
/// use axon::ipc::ProducerFinished;
/// use axon::{Background, Component, Cx, Standard};
/// use kamaelia::PAR;
///
/// /// Says one thing, then that it has finished.
/// struct Say(&'static str);
///
/// impl Component for Say {
///     type Boxes = Standard<(), String>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.outbox.send(self.0.to_string()).await;
///         cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
///     }
/// }
///
/// let background = Background::start()?;
/// let both = background.run_on(|| {
///     let par = axon::ComponentRef::new(PAR![Say("left"), Say("right")]);
///     axon::Handle::<axon::Absent, String>::new(&par)
/// })?;
/// let mut heard = vec![both.get().unwrap(), both.get().unwrap()];
/// heard.sort();
/// assert_eq!(heard, ["left", "right"]);
/// background.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Par<O> {
    children: Vec<ComponentRef>,
    types: PhantomData<fn() -> O>,
}

impl Par<Absent> {
    /// A Par of one child so far; add more with [`and`](Par::and).
    pub fn of<S: Stage>(first: S) -> Par<S::Out> {
        Par {
            children: vec![first.into_component()],
            types: PhantomData,
        }
    }
}

impl<O: 'static> Par<O> {
    /// Adds a child, whose `outbox` must send what the others' do.
    pub fn and<S: Stage<Out = O>>(mut self, child: S) -> Self {
        self.children.push(child.into_component());
        self
    }

    /// A Par of components known only at run time (none is allowed: such a
    /// Par finishes at once).
    ///
    /// # Errors
    ///
    /// [`ChassisError::Box`] if a child has no `outbox` carrying `O`.
    pub fn from_components(
        components: impl IntoIterator<Item = ComponentRef>,
    ) -> Result<Self, ChassisError> {
        let children: Vec<ComponentRef> = components.into_iter().collect();
        for child in &children {
            child.outbox::<O>("outbox")?;
            if child.has_outbox("signal") {
                child.outbox::<Ipc>("signal")?;
            }
        }
        Ok(Par {
            children,
            types: PhantomData,
        })
    }
}

impl<O: 'static> Component for Par<O> {
    type Boxes = Standard<Absent, O>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.add_children(&self.children);
        for child in &self.children {
            let linked = cx.link((child, "outbox"), &cx.outbox).and_then(|_| {
                if child.has_outbox("signal") {
                    cx.link((child, "signal"), &cx.signal)?;
                }
                Ok(())
            });
            if let Err(error) = linked {
                tracing::error!(target: "kamaelia::chassis", par = %cx.id(), %error, "a PAR could not link a child");
            }
            child.clone().activate();
        }
        let controls: Vec<(ComponentRef, Inbox<Ipc>)> = self
            .children
            .iter()
            .filter_map(|c| Some((c.clone(), c.inbox::<Ipc>("control").ok()?)))
            .collect();
        cx.yield_now().await;

        let mut running = self.children.len();
        let mut shutdown = None;
        while running > 0 {
            running -= reap_finished(&cx);
            for control in cx.control.drain() {
                for (child, inbox) in &controls {
                    if !child.is_finished() && inbox.deliver(control.clone()).is_err() {
                        tracing::warn!(target: "kamaelia::chassis", %child, "a PAR child's control inbox is full: message dropped");
                    }
                }
                if control.is_shutdown_microprocess() {
                    shutdown = Some(control);
                    break;
                }
            }
            if shutdown.is_some() || running == 0 {
                break;
            }
            cx.idle().await;
        }
        let last_word = shutdown.unwrap_or_else(|| ProducerFinished::from(cx.id()).into());
        cx.signal.send(last_word).await;
        reap_finished(&cx);
        for child in cx.child_components() {
            cx.remove_child(&child);
        }
    }
}

/// Makes a [`Par`] of the components given: `PAR![a, b, c]`. Their
/// `outbox`es must carry the same type (checked at compile time).
#[macro_export]
macro_rules! PAR {
    ($first:expr $(, $rest:expr)* $(,)?) => {
        $crate::chassis::Par::of($first) $( .and($rest) )*
    };
}

impl<O> std::fmt::Debug for Par<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Par")
            .field("children", &self.children)
            .finish()
    }
}
