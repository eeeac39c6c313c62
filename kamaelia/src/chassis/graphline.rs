//! [`Graphline`]: named components, linked as you say (Kamaelia's
//! `Kamaelia.Chassis.Graphline`).

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{AsComponent, Component, ComponentRef, Cx, Inbox, Standard};

use super::children::{inherit_size, reap_finished};
use super::stage::Stage;
use super::ChassisError;

/// One end of a linkage: (component name, box name).
type End = (String, String);

/// Named components linked as you say: Kamaelia's `Graphline`.
///
/// Give each child a name, and list the linkages between named boxes. A
/// name that is **not** a child's means the Graphline itself (`"self"` by
/// convention): `("self", "inbox") → ("A", "inbox")` passes what arrives on
/// the Graphline's `inbox` to A's, and `("B", "outbox") → ("self", "outbox")`
/// makes B's output the Graphline's. A box named on the Graphline that it
/// does not have is created on it (on this Graphline only: the original's
/// leak of such boxes into every later Graphline is not copied), with the
/// type and doc string of the child's box at the other end.
///
/// The linkages are made by [`build`](GraphlineBuilder::build), so errors
/// come back there, naming both boxes and both types. The children become
/// children, and are activated, when the Graphline first runs (even those
/// with no linkages).
///
/// Shutdown follows the original:
///
/// * If nothing is linked from the Graphline's `control`, each message
///   arriving there is copied to the `control` of **every child that no
///   linkage ends at**; a `ShutdownMicroprocess` among them is remembered.
/// * The Graphline ends when all its children have ended. Then, if nothing
///   is linked to its `signal`, it sends the remembered
///   `ShutdownMicroprocess`, or else a `ProducerFinished`. If `signal` is
///   linked, it sends nothing of its own.
///
/// The original requires the `linkages` argument, raising `TypeError` when
/// it is missing (while its own tests expect `ValueError`). Here
/// [`build`](GraphlineBuilder::build) returns
/// [`ChassisError::LinkagesNotSet`] unless [`link`](GraphlineBuilder::link)
/// or [`linkages`](GraphlineBuilder::linkages) was called: say
/// `.linkages([])` for a Graphline with none.
///
/// A built Graphline is a [`Stage`] (it can sit in a
/// [`Pipeline!`](crate::Pipeline!)), becomes a [`ComponentRef`] with
/// `into()` (so it can be a ServerCore's protocol handler, or a child of
/// another Graphline), and names itself in links as `(&graphline, "box")`.
///
/// # Inboxes
///
/// * `inbox` (`I`), `control` ([`Ipc`]), and any named in linkages.
///
/// # Outboxes
///
/// * `outbox` (`O`), `signal` ([`Ipc`]), and any named in linkages.
///
/// # Examples
///
/// ```
/// use axon::{Background, Component, Cx, Standard};
/// use kamaelia::{Graphline, Pipeline};
///
/// /// Adds one to each number until its producer finishes.
/// struct AddOne;
///
/// impl Component for AddOne {
///     type Boxes = Standard<u32, u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         while let Some(n) = cx.recv_until_finished().await {
///             cx.outbox.send(n + 1).await;
///         }
///     }
/// }
///
/// let background = Background::start()?;
/// let handle = background.run_on(|| {
///     let graphline: Graphline<u32, u32> = Graphline! {
///         FIRST: AddOne,
///         SECOND: Pipeline![AddOne, AddOne];
///         ("self", "inbox") => ("FIRST", "inbox"),
///         ("FIRST", "outbox") => ("SECOND", "inbox"),
///         ("SECOND", "outbox") => ("self", "outbox"),
///     }?;
///     Ok::<_, kamaelia::chassis::ChassisError>(axon::Handle::<u32, u32>::new(&graphline.into())?)
/// })?;
/// handle.put(1);
/// assert_eq!(handle.get(), Some(4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Graphline<I, O> {
    component: ComponentRef,
    types: PhantomData<fn(I) -> O>,
}

/// A [`Graphline`] being described: its children and its linkages.
pub struct GraphlineBuilder<I, O> {
    children: Vec<(String, ComponentRef)>,
    linkages: Option<Vec<(End, End)>>,
    types: PhantomData<fn(I) -> O>,
}

impl<I: 'static, O: 'static> Graphline<I, O> {
    /// Starts describing a Graphline whose `inbox` takes `I` and whose
    /// `outbox` sends `O`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> GraphlineBuilder<I, O> {
        GraphlineBuilder {
            children: Vec::new(),
            linkages: None,
            types: PhantomData,
        }
    }

    /// The Graphline as a component.
    pub fn component(&self) -> &ComponentRef {
        &self.component
    }
}

impl<I: 'static, O: 'static> GraphlineBuilder<I, O> {
    /// Adds a child called `name`.
    pub fn child(mut self, name: &str, component: impl Into<ComponentRef>) -> Self {
        self.children.push((name.to_string(), component.into()));
        self
    }

    /// Adds a linkage from `source` to `sink`, each `(name, box)`.
    pub fn link(mut self, source: (&str, &str), sink: (&str, &str)) -> Self {
        let end = |(c, b): (&str, &str)| (c.to_string(), b.to_string());
        self.linkages
            .get_or_insert_with(Vec::new)
            .push((end(source), end(sink)));
        self
    }

    /// Adds these linkages (possibly none: that too says the linkages are
    /// set).
    pub fn linkages<'a>(
        mut self,
        linkages: impl IntoIterator<Item = ((&'a str, &'a str), (&'a str, &'a str))>,
    ) -> Self {
        self.linkages.get_or_insert_with(Vec::new);
        for (source, sink) in linkages {
            self = self.link(source, sink);
        }
        self
    }

    /// Makes the Graphline: creates the boxes its linkages name on itself
    /// and makes every linkage.
    ///
    /// # Errors
    ///
    /// [`ChassisError::LinkagesNotSet`], [`ChassisError::DuplicateName`],
    /// [`ChassisError::SelfToSelf`], or [`ChassisError::Link`] naming both
    /// boxes of a linkage that was refused.
    pub fn build(self) -> Result<Graphline<I, O>, ChassisError> {
        let linkages = self.linkages.ok_or(ChassisError::LinkagesNotSet)?;
        let mut by_name: HashMap<&str, &ComponentRef> = HashMap::new();
        for (name, child) in &self.children {
            if by_name.insert(name, child).is_some() {
                return Err(ChassisError::DuplicateName(name.clone()));
            }
        }
        let is_self = |name: &str| !by_name.contains_key(name);

        let control_linked = linkages
            .iter()
            .any(|(source, _)| is_self(&source.0) && source.1 == "control");
        let signal_linked = linkages
            .iter()
            .any(|(_, sink)| is_self(&sink.0) && sink.1 == "signal");
        let control_fed: std::collections::HashSet<&str> = linkages
            .iter()
            .filter(|(_, sink)| sink.1 == "control")
            .map(|(_, sink)| sink.0.as_str())
            .collect();
        let broadcast = if control_linked {
            Vec::new()
        } else {
            self.children
                .iter()
                .filter(|(name, _)| !control_fed.contains(name.as_str()))
                .filter_map(|(_, child)| child.inbox::<Ipc>("control").ok())
                .collect()
        };
        let fed_from_inbox = linkages
            .iter()
            .filter(|(source, sink)| is_self(&source.0) && source.1 == "inbox" && !is_self(&sink.0))
            .map(|(_, sink)| (by_name[sink.0.as_str()].clone(), sink.1.clone()))
            .collect();

        let component = ComponentRef::new(GraphlineBody::<I, O> {
            children: self.children.iter().map(|(_, c)| c.clone()).collect(),
            broadcast,
            signal_linked,
            control_linked,
            fed_from_inbox,
            types: PhantomData,
        });
        for (source, sink) in &linkages {
            let from = by_name.get(source.0.as_str()).copied();
            let to = by_name.get(sink.0.as_str()).copied();
            match (from, to) {
                (None, None) => {
                    return Err(ChassisError::SelfToSelf {
                        source: source.1.clone(),
                        sink: sink.1.clone(),
                    })
                }
                (None, Some(child)) if !component.has_inbox(&source.1) => {
                    component.add_box_like(&source.1, child, &sink.1)?;
                }
                (Some(child), None) if !component.has_outbox(&sink.1) => {
                    component.add_box_like(&sink.1, child, &source.1)?;
                }
                _ => {}
            }
            let from = from.unwrap_or(&component);
            let to = to.unwrap_or(&component);
            component.link((from, source.1.as_str()), (to, sink.1.as_str()))?;
        }
        Ok(Graphline {
            component,
            types: PhantomData,
        })
    }
}

impl<I, O> From<Graphline<I, O>> for ComponentRef {
    fn from(graphline: Graphline<I, O>) -> Self {
        graphline.component
    }
}

impl<I, O> AsComponent for Graphline<I, O> {
    fn as_component(&self) -> ComponentRef {
        self.component.clone()
    }
}

impl<I: 'static, O: 'static> Stage for Graphline<I, O> {
    type In = I;
    type Out = O;

    fn into_component(self) -> ComponentRef {
        self.component
    }
}

/// The Graphline's own behaviour, once built.
struct GraphlineBody<I, O> {
    children: Vec<ComponentRef>,
    /// The `control` inboxes of the children no linkage feeds, if the
    /// Graphline's own `control` is not linked.
    broadcast: Vec<Inbox<Ipc>>,
    signal_linked: bool,
    /// Whether the Graphline's own `control` is linked on to a child.
    control_linked: bool,
    /// The child boxes the Graphline's `inbox` is linked to.
    fed_from_inbox: Vec<(ComponentRef, String)>,
    types: PhantomData<fn(I) -> O>,
}

impl<I: 'static, O: 'static> Component for GraphlineBody<I, O> {
    type Boxes = Standard<I, O>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            for (child, name) in &self.fed_from_inbox {
                inherit_size(cx.inbox.size(), child, name);
            }
            // So is every child's `inbox`: bounded inside as at its door.
            for child in &self.children {
                inherit_size(cx.inbox.size(), child, "inbox");
            }
            cx.add_children(&self.children);
            for child in &self.children {
                child.clone().activate();
            }
            let mut running = self.children.len();
            let mut shutdown = None;
            loop {
                running -= reap_finished(&cx);
                // With `control` linked on to a child, it is not read here: an
                // inbox linked onward reads as its final inbox (as in Axon), so
                // reading it would take the child's messages.
                let own_control = if self.control_linked {
                    None
                } else {
                    Some(cx.control.drain())
                };
                for msg in own_control.into_iter().flatten() {
                    for control in &self.broadcast {
                        if control.deliver(msg.clone()).is_err() {
                            tracing::warn!(target: "kamaelia::chassis", graphline = %cx.id(), "a Graphline child's control inbox is full: message dropped");
                        }
                    }
                    if msg.is_shutdown_microprocess() {
                        shutdown = Some(msg);
                    }
                }
                if running == 0 {
                    break;
                }
                cx.idle().await;
            }
            if !self.signal_linked {
                let last_word = shutdown.unwrap_or_else(|| ProducerFinished::from(cx.id()).into());
                cx.signal.send(last_word).await;
            }
        }
    }
}

/// Makes a [`Graphline`]: the children as `NAME: component`, then `;`, then
/// the linkages as `("name", "box") => ("name", "box")`. It is
/// [`Graphline::new`], [`child`](GraphlineBuilder::child),
/// [`linkages`](GraphlineBuilder::linkages) and
/// [`build`](GraphlineBuilder::build), so it returns a `Result`.
#[macro_export]
macro_rules! Graphline {
    (
        $($name:ident : $child:expr),* $(,)? ;
        $( ($from:expr, $from_box:expr) => ($to:expr, $to_box:expr) ),* $(,)?
    ) => {
        $crate::chassis::Graphline::new()
            $( .child(::core::stringify!($name), $child) )*
            .linkages([ $( (($from, $from_box), ($to, $to_box)) ),* ])
            .build()
    };
}

impl<I, O> std::fmt::Debug for Graphline<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Graphline").field(&self.component).finish()
    }
}

impl<I, O> std::fmt::Debug for GraphlineBuilder<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphlineBuilder")
            .field("children", &self.children)
            .field("linkages", &self.linkages)
            .finish()
    }
}
