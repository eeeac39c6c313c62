//! [`Carousel`]: one child at a time, each made from a message (Kamaelia's
//! `Kamaelia.Chassis.Carousel`).

use axon::ipc::{Ipc, ShutdownMicroprocess};
use axon::{Component, ComponentRef, Cx};

use super::children::reap_finished;
use super::stage::Stage;

axon::boxes! {
    /// The boxes of a [`Carousel`]. The names are the original's
    /// (`requestNext`, `_signal`), since they are what linkages name.
    #[allow(non_snake_case)]
    pub struct CarouselBoxes<M, I, O> {
        /// Data for the current child's `inbox`.
        inbox inbox: I,
        /// Requests to replace the child: each is given to the factory.
        inbox next: M,
        /// `ProducerFinished`: finish the queued requests, then end.
        /// `ShutdownMicroprocess`: drop them, stop the child, and end.
        inbox control: Ipc,
        /// The current child's `outbox`.
        outbox outbox: O,
        /// The shutdown message, once the Carousel has ended.
        outbox signal: Ipc,
        /// Internal: shutdown messages to the current child's `control`.
        outbox _signal: Ipc,
        /// `"NEXT"` when a child has ended: a request for the next message
        /// on `next`.
        outbox requestNext: String,
    }
}

/// Makes the next child from a request.
type Factory<M> = Box<dyn FnMut(M) -> ComponentRef>;

/// A chassis that runs one child at a time, making each from a message with
/// a factory: Kamaelia's `Carousel`, named after a broadcast carousel, where
/// programmes run one after another.
///
/// A message on `next` is given to the factory, and the component it makes
/// becomes the single child: the Carousel's `inbox` feeds it and its
/// `outbox` comes out of the Carousel's; its `control` hears the Carousel's
/// `_signal`, and its `signal` is **not** linked (a child finishing is seen by
/// its ending, not by what it says). When the child ends, the Carousel sends
/// `"NEXT"` on `requestNext`, unless another `next` is already waiting or it
/// has been told to stop. A `next` that arrives while a child runs asks the
/// child to stop (`ShutdownMicroprocess`), and is acted on once it has.
///
/// On `control`, `ProducerFinished` means: pass it to the child once the
/// queued `next` messages have been worked through, then end when the child
/// has; `ShutdownMicroprocess` means: pass it to the child now, drop queued
/// `next` messages, and end when the child has. Either is sent on `signal`
/// as the Carousel ends. With no child, it ends at once.
///
/// [`make_1st_request`](Self::make_1st_request) sends a `"NEXT"` as it
/// starts, for a source of requests that waits to be asked.
///
/// # Inboxes
///
/// * `inbox` (`I`): for the child's `inbox`.
/// * `next` (`M`): requests to replace the child.
/// * `control` ([`Ipc`]): `ProducerFinished` or `ShutdownMicroprocess`.
///
/// # Outboxes
///
/// * `outbox` (`O`): the child's `outbox`.
/// * `signal` ([`Ipc`]): the shutdown message, when it ends.
/// * `_signal` ([`Ipc`]): internal, to the child's `control`.
/// * `requestNext` (`String`): `"NEXT"`.
///
/// # Examples
///
/// ```
/// use axon::ipc::{Ipc, ProducerFinished};
/// use axon::{ComponentRef, Component, Cx, Scheduler, Standard};
/// use kamaelia::Carousel;
///
/// /// Sends its number twice over, then ends.
/// struct Twice(u32);
///
/// impl Component for Twice {
///     type Boxes = Standard<(), u32>;
///     async fn main(self, cx: Cx<Self::Boxes>) {
///         cx.outbox.send(self.0).await;
///         cx.outbox.send(self.0).await;
///     }
/// }
///
/// let carousel = ComponentRef::new(Carousel::new(Twice));
/// let out = axon::Postoffice::new();
/// let sink = ComponentRef::new(axon::from_fn(|_cx: Cx<Standard<u32, ()>>| async {}));
/// out.link((&carousel, "outbox"), (&sink, "inbox"))?;
/// carousel.inbox::<u32>("next")?.deliver(1).unwrap();
/// carousel.inbox::<u32>("next")?.deliver(2).unwrap();
/// carousel.inbox::<Ipc>("control")?.deliver(ProducerFinished::new().into()).unwrap();
///
/// let scheduler = Scheduler::new();
/// carousel.activate_on(&scheduler);
/// scheduler.run()?;
/// let got: Vec<u32> = sink.inbox::<u32>("inbox")?.drain().collect();
/// assert_eq!(got, [1, 1, 2, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Carousel<M, I, O> {
    factory: Factory<M>,
    make_1st_request: bool,
    types: std::marker::PhantomData<fn(I) -> O>,
}

impl<M: 'static, I: 'static, O: 'static> Carousel<M, I, O> {
    /// A Carousel making each child with `factory` from a `next` message.
    pub fn new<F, S>(mut factory: F) -> Self
    where
        F: FnMut(M) -> S + 'static,
        S: Stage<In = I, Out = O>,
    {
        Carousel {
            factory: Box::new(move |request| factory(request).into_component()),
            make_1st_request: false,
            types: std::marker::PhantomData,
        }
    }

    /// Sends `"NEXT"` on `requestNext` as soon as it starts (Kamaelia's
    /// `make1stRequest=True`).
    pub fn make_1st_request(mut self) -> Self {
        self.make_1st_request = true;
        self
    }
}

/// What `control` has said so far: the original's `mustStop` and
/// `pleaseStop`.
#[derive(Default)]
struct Stops {
    must: Option<Ipc>,
    please: Option<Ipc>,
}

impl Stops {
    fn hear(&mut self, control: &axon::Inbox<Ipc>) {
        for msg in control.drain() {
            if msg.is_producer_finished() {
                self.please = Some(msg);
            } else if msg.is_shutdown_microprocess() {
                self.must = Some(msg);
            }
        }
    }
}

impl<M: 'static, I: 'static, O: 'static> Component for Carousel<M, I, O> {
    type Boxes = CarouselBoxes<M, I, O>;

    async fn main(mut self, cx: Cx<Self::Boxes>) {
        if self.make_1st_request {
            cx.requestNext.send("NEXT".to_string()).await;
        }
        let mut stops = Stops::default();
        loop {
            // No child: wait for a request or a stop.
            loop {
                stops.hear(&cx.control);
                if let Some(stop) = stops.must.take() {
                    cx.signal.send(stop).await;
                    return;
                } else if let Some(request) = cx.next.recv() {
                    self.start_child(&cx, request);
                    break;
                } else if let Some(stop) = stops.please.take() {
                    cx.signal.send(stop).await;
                    return;
                }
                cx.idle().await;
            }
            cx.yield_now().await;
            // A child runs: ask it to stop when there is cause, once.
            let mut stopping = false;
            while reap_finished(&cx) == 0 {
                stops.hear(&cx.control);
                if !stopping {
                    let stop = if let Some(must) = &stops.must {
                        Some(must.clone())
                    } else if cx.next.data_ready() {
                        Some(ShutdownMicroprocess::new().into())
                    } else {
                        stops.please.clone()
                    };
                    if let Some(stop) = stop {
                        stopping = true;
                        if cx._signal.try_send(stop).is_err() {
                            tracing::warn!(target: "kamaelia::chassis", carousel = %cx.id(), "a Carousel child's control inbox is full");
                        }
                        continue;
                    }
                }
                cx.idle().await;
            }
            if !cx.next.data_ready() && stops.please.is_none() && stops.must.is_none() {
                cx.requestNext.send("NEXT".to_string()).await;
            }
        }
    }
}

impl<M: 'static, I: 'static, O: 'static> Carousel<M, I, O> {
    /// Makes, links and starts the child for `request`.
    fn start_child(&mut self, cx: &Cx<CarouselBoxes<M, I, O>>, request: M) {
        let child = (self.factory)(request);
        cx.add_children([&child]);
        let linked = (|| {
            if child.has_inbox("inbox") {
                cx.link(&cx.inbox, (&child, "inbox"))?;
            }
            if child.has_inbox("control") {
                cx.link(&cx._signal, (&child, "control"))?;
            }
            if child.has_outbox("outbox") {
                cx.link((&child, "outbox"), &cx.outbox)?;
            }
            Ok::<(), axon::LinkError>(())
        })();
        if let Err(error) = linked {
            tracing::error!(target: "kamaelia::chassis", carousel = %cx.id(), %error, "a Carousel could not link its child");
        }
        child.activate();
    }
}

impl<M, I, O> std::fmt::Debug for Carousel<M, I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carousel")
            .field("make_1st_request", &self.make_1st_request)
            .finish_non_exhaustive()
    }
}
