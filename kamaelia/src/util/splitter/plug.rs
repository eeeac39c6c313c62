//! [`Plug`]: makes a component a sink of a splitter for as long as it runs.

use std::fmt;
use std::marker::PhantomData;

use axon::ipc::{ErrorInformation, Ipc};
use axon::{BoxError, Component, ComponentRef, Cx, Inbox, Standard};

use super::{Configuration, Sink};

/// Wraps a child component and plugs it into a [`PlugSplitter`](super::PlugSplitter)
/// as a sink, for as long as the child runs: Kamaelia's `Plug`.
///
/// When it is made, the Plug asks the splitter's `configuration` to add its
/// child's `inbox` and `control` as a sink (`AddSink`), so the child receives
/// every message and control message the splitter copies from then on. The child's `outbox` and
/// `signal` come out of the Plug's. When the child ends, the Plug sends
/// `RemoveSink` and ends too.
///
/// The Plug's own `control` is for whoever owns it: `ProducerFinished` asks
/// for a graceful unplug (`FinishSink`: the child still gets what the
/// splitter took before, then `ProducerFinished`); `ShutdownMicroprocess`
/// or `ErrorInformation` unplugs at once and is passed to the child. Other
/// messages go to the child.
///
/// # Inboxes
///
/// * `inbox` (`I`): not used (the splitter delivers to the child directly).
/// * `control` ([`Ipc`]): see above.
///
/// # Outboxes
///
/// * `outbox` (`O`): the child's `outbox`.
/// * `signal` ([`Ipc`]): the child's `signal`; `ErrorInformation` if it
///   could not plug in.
///
/// # Examples
///
/// ```
/// use axon::{ComponentRef, Scheduler};
/// use axon::ipc::ProducerFinished;
/// use kamaelia::util::{PassThrough, Plug, PlugSplitter};
///
/// let splitter = ComponentRef::new(PlugSplitter::<u32>::new());
/// let plug = ComponentRef::new(Plug::<u32, u32>::new(&splitter, PassThrough::<u32>::new()));
/// let out = ComponentRef::new(PassThrough::<u32>::new());
/// plug.link((&plug, "outbox"), (&out, "inbox"))?;
///
/// let scheduler = Scheduler::new();
/// splitter.activate_on(&scheduler);
/// plug.activate_on(&scheduler);
/// for _ in 0..5 {
///     scheduler.run_cycle();
/// }
/// splitter.inbox::<u32>("inbox")?.deliver(1)?;
/// splitter.inbox::<axon::ipc::Ipc>("control")?.deliver(ProducerFinished::new().into())?;
/// scheduler.run()?; // the end reaches the child, which ends, and the plug with it
/// assert_eq!(out.inbox::<u32>("inbox")?.recv(), Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Plug<I, O> {
    splitter: ComponentRef,
    child: ComponentRef,
    /// The splitter's `configuration`, told directly of the child's joining
    /// and leaving (it has no size limit, so it refuses nothing), or why
    /// the splitter has none.
    configuration: Result<Inbox<Configuration>, BoxError>,
    boxes: PhantomData<fn(I) -> O>,
}

impl<I, O> Plug<I, O> {
    /// A Plug of `child` into `splitter`.
    ///
    /// The child is a sink from now, not from when the Plug first runs: the
    /// `AddSink` is queued at once on the splitter's `configuration`, which
    /// the splitter reads before its `inbox`. So a message published after
    /// this call reaches the child, even one a publisher made in the same
    /// cycle sends before the Plug has run. (A Plug made and never activated
    /// leaves its child a sink that takes nothing, which the splitter drops
    /// as it drops any sink that stops reading.)
    pub fn new(splitter: &ComponentRef, child: impl Into<ComponentRef>) -> Self {
        let child = child.into();
        let configuration = splitter.inbox::<Configuration>("configuration");
        if let Ok(configuration) = &configuration {
            let _ = configuration.deliver(Configuration::AddSink(sink_of(&child)));
        }
        Plug {
            splitter: splitter.clone(),
            child,
            configuration,
            boxes: PhantomData,
        }
    }
}

/// The sink a Plug makes of its child: its `inbox` and `control`.
fn sink_of(child: &ComponentRef) -> Sink {
    Sink::new(child).control("control")
}

impl<I, O> fmt::Debug for Plug<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plug")
            .field("splitter", &self.splitter)
            .field("child", &self.child)
            .finish()
    }
}

impl<I: 'static, O: 'static> Component for Plug<I, O> {
    type Boxes = Standard<I, O>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let child = &self.child;
        let configuration = match self.configuration {
            Ok(configuration) => configuration,
            Err(e) => {
                tracing::error!("a Plug cannot plug into its splitter: {e}");
                cx.signal
                    .send(ErrorInformation::new(cx.id(), e).into())
                    .await;
                return;
            }
        };
        let wired = cx
            .link((child, "outbox"), (&cx, "outbox"))
            .and_then(|_| cx.link((child, "signal"), (&cx, "signal")));
        if let Err(e) = wired {
            tracing::error!("a Plug cannot plug into its splitter: {e}");
            cx.signal
                .send(ErrorInformation::new(cx.id(), e).into())
                .await;
            return;
        }
        let tell = |what| {
            let _ = configuration.deliver(what);
        };
        let sink = sink_of(child);
        let child_control = child.inbox::<Ipc>("control").ok();
        cx.add_children([child]);
        child.activate_on(&cx.scheduler());
        while cx.finished_children().is_empty() {
            while let Some(message) = cx.control.recv() {
                let change = match &message {
                    Ipc::ProducerFinished(_) => Some(Configuration::FinishSink(sink.clone())),
                    Ipc::ShutdownMicroprocess(_) | Ipc::ErrorInformation(_) => {
                        Some(Configuration::RemoveSink(sink.clone()))
                    }
                    _ => None,
                };
                match change {
                    Some(Configuration::FinishSink(s)) => tell(Configuration::FinishSink(s)),
                    Some(other) => {
                        tell(other);
                        if let Some(control) = &child_control {
                            let _ = control.deliver(message);
                        }
                    }
                    None => {
                        if let Some(control) = &child_control {
                            let _ = control.deliver(message);
                        }
                    }
                }
            }
            cx.idle().await;
        }
        tell(Configuration::RemoveSink(sink));
    }
}
