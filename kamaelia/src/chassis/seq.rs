//! [`Seq`]: components one after another (Kamaelia's
//! `Kamaelia.Chassis.Seq`).

use std::marker::PhantomData;

use axon::ipc::ProducerFinished;
use axon::{Component, ComponentRef, Cx, Standard};

use super::children::{inherit_size, until_children_done};
use super::stage::Stage;

/// One item of a [`Seq`]: a line to print, or a component to run.
#[derive(Debug)]
enum Item {
    Print(String),
    Run(ComponentRef),
}

/// Components run one after another: Kamaelia's `Seq`.
///
/// Each component in turn becomes the Seq's only child: the Seq's `inbox`
/// feeds the child's `inbox` and the child's `outbox` comes out of the Seq's
/// `outbox`. When the child ends, the Seq unlinks it and starts the next.
/// The child's `signal` is dropped on purpose (so one finishing does not
/// stop what follows) and its `control` is not linked. A text item is
/// printed on standard output when its turn comes, as the original prints
/// its strings. When the sequence is done the Seq sends
/// `ProducerFinished` on `signal` and ends. It ignores `control`.
///
/// The original takes strings and components mixed in one argument list;
/// here they are added in order with [`print`](Seq::print) and
/// [`then`](Seq::then), and each component must take `I` and send `O`.
///
/// # Inboxes
///
/// * `inbox` (`I`): for the current child's `inbox`.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): ignored.
///
/// # Outboxes
///
/// * `outbox` (`O`): the current child's `outbox`.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): `ProducerFinished` at the end.
///
/// # Examples
///
/// ```
/// use axon::{Background, Component, Cx, Standard};
/// use kamaelia::Seq;
///
/// /// Sends one message and ends.
/// struct OneShot(u32);
///
/// impl Component for OneShot {
///     type Boxes = Standard<(), u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.outbox.send(self.0).await;
///     }
/// }
///
/// let background = Background::start()?;
/// let seq = background.handle(|| {
///     Seq::new().print("BEGIN SEQUENCE").then(OneShot(1)).then(OneShot(2)).print("END SEQUENCE")
/// });
/// assert_eq!(seq.get(), Some(1));
/// assert_eq!(seq.get(), Some(2));
/// assert_eq!(seq.get(), None); // the Seq has ended
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct Seq<I, O> {
    items: Vec<Item>,
    types: PhantomData<fn(I) -> O>,
}

impl<I: 'static, O: 'static> Seq<I, O> {
    /// An empty sequence: it sends `ProducerFinished` and ends at once.
    pub fn new() -> Self {
        Seq {
            items: Vec::new(),
            types: PhantomData,
        }
    }

    /// Adds a line to print on standard output when its turn comes.
    pub fn print(mut self, text: impl Into<String>) -> Self {
        self.items.push(Item::Print(text.into()));
        self
    }

    /// Adds a component to run after those before it have ended.
    pub fn then<S: Stage<In = I, Out = O>>(mut self, component: S) -> Self {
        self.items.push(Item::Run(component.into_component()));
        self
    }
}

impl<I: 'static, O: 'static> Default for Seq<I, O> {
    fn default() -> Self {
        Seq::new()
    }
}

impl<I: 'static, O: 'static> Component for Seq<I, O> {
    type Boxes = Standard<I, O>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        for item in self.items {
            let child = match item {
                Item::Print(text) => {
                    println!("{text}");
                    continue;
                }
                Item::Run(child) => child,
            };
            cx.add_children([&child]);
            child.clone().activate();
            // The types were checked by `then`; a box may still be missing
            // (a stage with no `inbox` has `In = Absent`).
            if child.has_outbox("outbox") {
                if let Err(error) = cx.link((&child, "outbox"), &cx.outbox) {
                    tracing::error!(target: "kamaelia::chassis", seq = %cx.id(), %error, "a Seq could not link a child");
                }
            }
            if child.has_inbox("inbox") {
                inherit_size(cx.inbox.size(), &child, "inbox");
                if let Err(error) = cx.link(&cx.inbox, (&child, "inbox")) {
                    tracing::error!(target: "kamaelia::chassis", seq = %cx.id(), %error, "a Seq could not link a child");
                }
            }
            // Removing the finished child removes the links made to it.
            until_children_done(&cx, 1).await;
        }
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

impl<I, O> std::fmt::Debug for Seq<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seq").field("items", &self.items).finish()
    }
}
