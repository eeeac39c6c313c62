//! [`PureTransformer`]: a function applied to every message.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, Cx, Standard};

/// Sends `f(message)` for every message it receives, unless `f` returns
/// `None`, in which case nothing is sent: Kamaelia's `PureTransformer`.
///
/// It ends on `ProducerFinished` or the legacy `Shutdown` on `control`, once
/// every message that arrived before it has been transformed, and then sends
/// `ProducerFinished` (from itself) out of `signal`, as the original does.
/// That `ProducerFinished` carries the received one's message, if it had one,
/// so the reason the stream ended (say, the peer closed) reaches the end of
/// a pipeline. Other control messages (`Notify`, `Status`, …) are ignored.
///
/// **Where it differs from Kamaelia's**: the original does not end on
/// `ShutdownMicroprocess`, so a pipeline told to stop would wait on it for
/// ever. This one ends on it too (once `inbox` is empty, like the others),
/// and passes the `ShutdownMicroprocess` itself on out of `signal`, so the
/// components after it are told to stop rather than that data is complete.
/// Likewise an `ErrorInformation` (the component before it failed, as a
/// [`LineSplitter`](crate::LineSplitter) does on an over-long line) ends it
/// and is passed on, so the end of the pipeline learns what went wrong.
///
/// # Inboxes
///
/// * `inbox` (`I`): the messages to transform.
/// * `control` ([`Ipc`]): `ProducerFinished`, `Shutdown`,
///   `ShutdownMicroprocess` or `ErrorInformation` ends it once `inbox` is
///   empty.
///
/// # Outboxes
///
/// * `outbox` (`O`): each `f(message)` that is `Some`.
/// * `signal` ([`Ipc`]): `ProducerFinished` when it ends (the
///   `ShutdownMicroprocess` or `ErrorInformation` that stopped it, if that
///   was it).
///
/// # Examples
///
/// ```
/// use axon::Background;
/// use kamaelia::PureTransformer;
///
/// let background = Background::start()?;
/// // Doubles the even numbers, drops the odd ones.
/// let evens = background.handle(|| {
///     PureTransformer::new(|n: u32| (n % 2 == 0).then_some(n * 2))
/// });
/// for n in 1..=4 {
///     evens.put(n);
/// }
/// evens.finish();
/// assert_eq!(std::iter::from_fn(|| evens.get()).collect::<Vec<_>>(), [4, 8]);
/// assert!(evens.get_signal_timeout(std::time::Duration::from_secs(5))?.is_producer_finished());
/// background.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PureTransformer<F, I, O> {
    function: F,
    types: PhantomData<fn(I) -> O>,
}

impl<F, I, O> PureTransformer<F, I, O>
where
    F: FnMut(I) -> Option<O> + 'static,
{
    /// A transformer applying `function` to every message.
    pub fn new(function: F) -> Self {
        PureTransformer {
            function,
            types: PhantomData,
        }
    }
}

impl<F, I, O> fmt::Debug for PureTransformer<F, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PureTransformer")
    }
}

impl<F, I, O> Component for PureTransformer<F, I, O>
where
    F: FnMut(I) -> Option<O> + 'static,
    I: 'static,
    O: 'static,
{
    type Boxes = Standard<I, O>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(mut self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            loop {
                // `let … else` rather than `for` and `if let`: their
                // temporaries (the message, its result) would stay in the
                // frame beside the send that holds the result.
                let mut drain = cx.inbox.drain();
                loop {
                    let Some(message) = drain.next() else { break };
                    let Some(out) = (self.function)(message) else {
                        continue;
                    };
                    cx.outbox.send(out).await;
                }
                drop(drain);
                // Control is read only with `inbox` empty (nothing runs between
                // this test and the read): what was sent before the producer
                // finished is all transformed first.
                if !cx.inbox.is_empty() {
                    continue;
                }
                let last = match cx.control.recv() {
                    Some(stop @ (Ipc::ShutdownMicroprocess(_) | Ipc::ErrorInformation(_))) => stop,
                    Some(Ipc::ProducerFinished(received)) => ProducerFinished {
                        message: received.message,
                        ..ProducerFinished::from(cx.id())
                    }
                    .into(),
                    Some(Ipc::Shutdown(_)) => ProducerFinished::from(cx.id()).into(),
                    Some(_) => continue,
                    None => {
                        cx.idle().await;
                        continue;
                    }
                };
                // Boxed: sent once, at the end.
                Box::pin(cx.signal.send(last)).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::Payload;
    use axon::ipc::{ErrorInformation, Shutdown, ShutdownMicroprocess, Status};

    use super::*;
    use crate::util::rig::Rig;

    fn halver() -> PureTransformer<impl FnMut(u32) -> Option<u32>, u32, u32> {
        PureTransformer::new(|n: u32| n.is_multiple_of(2).then_some(n / 2))
    }

    #[test]
    fn transforms_all_that_came_before_producer_finished_and_drops_none_results() {
        let rig = Rig::<u32, u32>::new(halver());
        for n in 0..10 {
            rig.put(n);
        }
        rig.control(ProducerFinished::new().into());
        rig.run();
        assert_eq!(rig.take(), [0, 1, 2, 3, 4]);
        let signals = rig.signals();
        match &signals[..] {
            [Ipc::ProducerFinished(pf)] => assert_eq!(pf.caller, Some(rig.component.id())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_legacy_shutdown_ends_it_with_producer_finished() {
        let rig = Rig::<u32, u32>::new(halver());
        rig.put(4);
        rig.control(Shutdown.into());
        rig.run();
        assert_eq!(rig.take(), [2]);
        assert!(matches!(rig.signals()[..], [Ipc::ProducerFinished(_)]));
    }

    #[test]
    fn shutdown_microprocess_ends_it_and_is_passed_on() {
        let rig = Rig::<u32, u32>::new(halver());
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
    }

    #[test]
    fn producer_finished_keeps_the_reason_it_was_given() {
        let rig = Rig::<u32, u32>::new(halver());
        rig.control(
            ProducerFinished::new()
                .with_message(Payload::new("peer closed"))
                .into(),
        );
        rig.run();
        match &rig.signals()[..] {
            [Ipc::ProducerFinished(pf)] => {
                assert_eq!(pf.caller, Some(rig.component.id()));
                let reason = pf.message.as_ref().and_then(|m| m.downcast_ref::<&str>());
                assert_eq!(reason, Some(&"peer closed"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_upstream_error_ends_it_after_the_queued_messages_and_is_passed_on() {
        let rig = Rig::<u32, u32>::new(halver());
        rig.put(6);
        let failed = ErrorInformation::new(rig.component.id(), std::fmt::Error);
        rig.control(failed.into());
        rig.run();
        assert_eq!(rig.take(), [3]);
        assert!(matches!(rig.signals()[..], [Ipc::ErrorInformation(_)]));
    }

    #[test]
    fn other_control_messages_are_ignored() {
        let rig = Rig::<u32, u32>::new(halver());
        rig.control(Status::new(Payload::new("busy")).into());
        rig.put(8);
        rig.cycle_until(|rig| rig.waiting() == 1);
        assert!(!rig.component.is_finished());
        assert_eq!(rig.take(), [4]);
        assert!(rig.signals().is_empty());
        rig.control(ProducerFinished::new().into());
        rig.run();
    }
}
