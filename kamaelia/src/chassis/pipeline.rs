//! [`Pipeline`]: components in a row, each one's `outbox` feeding the next
//! one's `inbox` (Kamaelia's `Kamaelia.Chassis.Pipeline`).

use std::future::Future;
use std::marker::PhantomData;

use axon::{Absent, Component, ComponentRef, Cx, Postoffice, Standard};

use super::children::{inherit_size, until_children_done};
use super::stage::{LinksTo, Stage};
use super::ChassisError;

/// Components in a row, like a Unix pipeline: Kamaelia's `Pipeline`.
///
/// Each child's `outbox` is linked to the next child's `inbox`, and each
/// child's `signal` to the next child's `control`, so data flows down the
/// row and so does shutdown. The Pipeline's own `inbox` and `control` feed
/// the first child, and the last child's `outbox` and `signal` come out of
/// the Pipeline's own: so a Pipeline is itself a component, and nests. A
/// *circular* Pipeline links the last child's `outbox` and `signal` back to
/// the first child's `inbox` and `control` instead.
///
/// Write one with the [`Pipeline!`](crate::Pipeline!) macro, which checks
/// at compile time that each stage's `outbox` carries what the next stage's
/// `inbox` takes; or with [`Pipeline::chain`] and [`then`](PipelineChain::then),
/// which is what the macro does; or, for components known only at run time,
/// with [`Pipeline::from_components`], which checks the types when called.
///
/// The children are linked and activated when the Pipeline first runs, and
/// the Pipeline ends when **all** of them have ended. It never touches the
/// data, and sends no message of its own: the shutdown signal is whatever
/// the last child sends. (A stage without a `signal` outbox or a `control`
/// inbox is simply not linked for shutdown.)
///
/// If the Pipeline's `inbox` has a size limit when it starts (a ServerCore
/// gives its protocol handler's one), every stage's `inbox` without a limit
/// of its own gets the same: so a Pipeline serving a connection holds a
/// bounded amount however fast its peer sends, each stage waiting for the
/// next, and the connection stops reading while the first is full. The
/// limit counts messages, whatever their size: a stage after one that cuts
/// a chunk into many lines should have a limit in lines of its own
/// ([`Stage::with_inbox_size`](crate::chassis::Stage::with_inbox_size)), or
/// a burst goes through in pieces of the chunks' limit.
///
/// # Inboxes
///
/// * `inbox` (`I`): data for the first child (a passthrough: it lands in the
///   first child's `inbox`).
/// * `control` ([`Ipc`](axon::ipc::Ipc)): for the first child's `control`.
///
/// # Outboxes
///
/// * `outbox` (`O`): the last child's `outbox` (nothing, if circular).
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): the last child's `signal` (nothing, if circular).
///
/// # Examples
///
/// ```
/// use axon::{Background, Component, Cx, Standard};
/// use kamaelia::Pipeline;
///
/// /// Upper-cases each line until its producer finishes, then passes the
/// /// finish on.
/// struct Upper;
///
/// impl Component for Upper {
///     type Boxes = Standard<String, String>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(line) = cx.recv_until_finished().await {
///             cx.outbox.send(line.to_uppercase()).await;
///         }
///         for msg in cx.control.drain() {
///             cx.signal.send(msg).await;
///         }
///     }
/// }
///
/// /// Appends `!` to each line, likewise.
/// struct Shout;
///
/// impl Component for Shout {
///     type Boxes = Standard<String, String>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(line) = cx.recv_until_finished().await {
///             cx.outbox.send(line + "!").await;
///         }
///         for msg in cx.control.drain() {
///             cx.signal.send(msg).await;
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let shout = background.handle(|| Pipeline![Upper, Shout]);
/// shout.put("hello".to_string());
/// assert_eq!(shout.get().as_deref(), Some("HELLO!"));
/// shout.finish(); // ProducerFinished runs down the pipeline, which ends
/// assert_eq!(shout.get(), None);
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
///
/// Neighbours that do not agree do not compile, and the first error names
/// both stages, both boxes and both types:
///
/// ```compile_fail,E0277
/// # use axon::{Component, Cx, Standard};
/// # use kamaelia::Pipeline;
/// struct Count;
/// impl Component for Count {
///     type Boxes = Standard<String, usize>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
/// struct Upper;
/// impl Component for Upper {
///     type Boxes = Standard<String, String>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
/// // error[E0277]: a Pipeline cannot link the `outbox` of `Count` (it
/// // sends `usize`) to the `inbox` of `Upper` (it takes `String`)
/// let _ = Pipeline![Count, Upper];
/// ```
pub struct Pipeline<I, O> {
    children: Vec<ComponentRef>,
    circular: bool,
    types: PhantomData<fn(I) -> O>,
}

/// A Pipeline being put together a stage at a time, checking types as it
/// goes: see [`Pipeline::chain`]. `First` and `Last` are the first and the
/// latest stage's types, so that a mismatch can name them.
pub struct PipelineChain<I, O, First, Last> {
    children: Vec<ComponentRef>,
    types: PhantomData<fn(I, First, Last) -> O>,
}

impl Pipeline<Absent, Absent> {
    /// Starts a Pipeline with its first stage; add the rest with
    /// [`then`](PipelineChain::then) and finish with
    /// [`build`](PipelineChain::build) or
    /// [`build_circular`](PipelineChain::build_circular). The Pipeline's
    /// types come from its stages.
    pub fn chain<S: Stage>(first: S) -> PipelineChain<S::In, S::Out, S, S> {
        PipelineChain {
            children: vec![first.into_component()],
            types: PhantomData,
        }
    }
}

impl<I: 'static, O: 'static> Pipeline<I, O> {
    /// A Pipeline of components known only at run time, checked now: each
    /// link between neighbours is tried, and the first child's `inbox` must
    /// take `I` and the last child's `outbox` send `O` (unless `circular`).
    ///
    /// # Errors
    ///
    /// [`ChassisError::NoComponents`] for an empty list;
    /// [`ChassisError::Link`] (naming both boxes and both types) for
    /// neighbours that cannot be linked; [`ChassisError::Box`] if the ends
    /// do not carry `I` and `O`.
    pub fn from_components(
        components: impl IntoIterator<Item = ComponentRef>,
        circular: bool,
    ) -> Result<Self, ChassisError> {
        let children: Vec<ComponentRef> = components.into_iter().collect();
        let (first, last) = match (children.first(), children.last()) {
            (Some(first), Some(last)) => (first, last),
            _ => return Err(ChassisError::NoComponents),
        };
        first.inbox::<I>("inbox")?;
        if !circular {
            last.outbox::<O>("outbox")?;
        }
        // Tried on a postoffice of its own, and undone: the real links are
        // the Pipeline's, made when it runs.
        let trial = Postoffice::new();
        let result = link_children(&trial, &children, circular);
        trial.unlink_all();
        result?;
        Ok(Pipeline {
            children,
            circular,
            types: PhantomData,
        })
    }

    /// The children, in order.
    pub fn children(&self) -> &[ComponentRef] {
        &self.children
    }
}

impl<I: 'static, O: 'static, First, Last> PipelineChain<I, O, First, Last> {
    /// Adds the next stage, whose `inbox` must take what the last stage's
    /// `outbox` sends (checked at compile time; see [`LinksTo`]).
    pub fn then<S>(mut self, next: S) -> PipelineChain<I, S::Out, First, S>
    where
        // The first bound gives the message that names both stages; the
        // second lets a generic stage take its types from its neighbours.
        O: LinksTo<S::In, Last, S>,
        S: Stage<In = O>,
    {
        self.children.push(next.into_component());
        PipelineChain {
            children: self.children,
            types: PhantomData,
        }
    }

    /// The Pipeline: the first stage's `inbox` is its `inbox`, the last
    /// stage's `outbox` its `outbox`.
    pub fn build(self) -> Pipeline<I, O> {
        Pipeline {
            children: self.children,
            circular: false,
            types: PhantomData,
        }
    }

    /// A circular Pipeline: the last stage's `outbox` and `signal` feed the
    /// first stage's `inbox` and `control`, so its `outbox` sends nothing.
    pub fn build_circular(self) -> Pipeline<I, O>
    where
        O: LinksTo<I, Last, First>,
        First: Stage<In = O>,
    {
        Pipeline {
            children: self.children,
            circular: true,
            types: PhantomData,
        }
    }
}

/// Links neighbours `outbox` → `inbox` and `signal` → `control` (where both
/// have them), and the last back to the first if `circular`.
fn link_children(
    postoffice: &Postoffice,
    children: &[ComponentRef],
    circular: bool,
) -> Result<(), ChassisError> {
    let wrap = match (circular, children.first()) {
        (true, Some(first)) => Some(first),
        _ => None,
    };
    let pairs = children.windows(2).map(|w| (&w[0], &w[1]));
    let back = children.last().zip(wrap);
    for (from, to) in pairs.chain(back) {
        // A stage that only signals (no `outbox`), feeding one that takes
        // nothing (an `inbox` of `Absent`, such as a PAR), still hands on
        // its shutdown.
        if from.has_outbox("outbox") && to.has_inbox("inbox") {
            postoffice.link((from, "outbox"), (to, "inbox"))?;
        }
        if from.has_outbox("signal") && to.has_inbox("control") {
            postoffice.link((from, "signal"), (to, "control"))?;
        }
    }
    Ok(())
}

impl<I: 'static, O: 'static> Component for Pipeline<I, O> {
    type Boxes = Standard<I, O>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            let (Some(first), Some(last)) = (self.children.first(), self.children.last()) else {
                return;
            };
            cx.add_children(&self.children);
            // Every stage's `inbox` takes the Pipeline's size limit, unless it
            // has its own: a Pipeline serving a connection (a ServerCore limits
            // its handler's `inbox`) is bounded from end to end, whatever the
            // peer sends.
            for child in &self.children {
                inherit_size(cx.inbox.size(), child, "inbox");
            }
            let me = cx.component();
            let linked =
                link_children(&me.postoffice(), &self.children, self.circular).and_then(|()| {
                    // A first stage with no `inbox` (a ConsoleReader, say) leaves
                    // the Pipeline's unused, but its other boxes are still linked.
                    if first.has_inbox("inbox") {
                        cx.link(&cx.inbox, (first, "inbox"))?;
                    }
                    if first.has_inbox("control") {
                        cx.link(&cx.control, (first, "control"))?;
                    }
                    if !self.circular {
                        if last.has_outbox("outbox") {
                            cx.link((last, "outbox"), &cx.outbox)?;
                        }
                        if last.has_outbox("signal") {
                            cx.link((last, "signal"), &cx.signal)?;
                        }
                    }
                    Ok(())
                });
            if let Err(error) = linked {
                // Only a child linked elsewhere since the Pipeline was built gets
                // here: the types were checked then.
                tracing::error!(target: "kamaelia::chassis", pipeline = %cx.id(), %error, "a Pipeline could not link its children");
            }
            for child in &self.children {
                child.clone().activate();
            }
            until_children_done(&cx, self.children.len()).await;
        }
    }
}

/// Makes a [`Pipeline`] of the stages given, checking at compile time that
/// each stage's `outbox` carries what the next one's `inbox` takes.
///
/// `Pipeline![a, b, c]` is a Pipeline; `Pipeline![circular: a, b, c]` is a
/// circular one (the last stage feeds the first). See [`Pipeline`].
///
/// ```
/// # use axon::{Component, Cx, Standard};
/// use bytes::Bytes;
/// use kamaelia::{ConsoleEchoer, Pipeline};
///
/// struct Greeter;
/// impl Component for Greeter {
///     type Boxes = Standard<(), Bytes>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.outbox.send(Bytes::from("hello\n")).await;
///     }
/// }
///
/// let _pipeline = Pipeline![Greeter, ConsoleEchoer::new()];
/// ```
#[macro_export]
macro_rules! Pipeline {
    (circular: $first:expr $(, $rest:expr)* $(,)?) => {
        $crate::chassis::Pipeline::chain($first)
            $( .then($rest) )*
            .build_circular()
    };
    ($first:expr $(, $rest:expr)* $(,)?) => {
        $crate::chassis::Pipeline::chain($first)
            $( .then($rest) )*
            .build()
    };
}

impl<I, O> std::fmt::Debug for Pipeline<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("children", &self.children)
            .field("circular", &self.circular)
            .finish()
    }
}

impl<I, O, First, Last> std::fmt::Debug for PipelineChain<I, O, First, Last> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineChain")
            .field("children", &self.children)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::{Ipc, ProducerFinished};
    use axon::{Absent, Background, Component, ComponentRef, Cx, Handle};

    use crate::util::PassThrough;

    axon::boxes! {
        /// A source's boxes: no `inbox` at all, like a ConsoleReader's.
        struct SourceBoxes {
            /// Not read.
            inbox control: Ipc,
            /// The numbers.
            outbox outbox: u8,
            /// `ProducerFinished` after them.
            outbox signal: Ipc,
        }
    }

    /// Sends two numbers, then finishes.
    struct Two;

    impl Component for Two {
        type Boxes = SourceBoxes;
        async fn main(self, cx: Cx<SourceBoxes>) {
            cx.outbox.send(1).await;
            cx.outbox.send(2).await;
            cx.signal.send(ProducerFinished::new().into()).await;
        }
    }

    #[test]
    fn a_first_stage_without_an_inbox_still_feeds_the_rest() {
        let background = Background::start().expect("a background scheduler");
        let pipeline = background.run_on(|| {
            let pipeline = ComponentRef::new(Pipeline![Two, PassThrough::<u8>::new()]);
            Handle::<Absent, u8>::new(&pipeline)
        });
        let pipeline = pipeline.expect("a Pipeline's boxes");
        assert_eq!(pipeline.get(), Some(1));
        assert_eq!(pipeline.get(), Some(2));
        assert_eq!(pipeline.get(), None, "the Pipeline has ended");
        background.join().expect("ended");
    }
}
