//! [`OneShot`]: one message, then done.

use std::fmt;

use axon::ipc::ProducerFinished;
use axon::{Component, Cx, Standard};

/// Sends one message out of `outbox`, yields once, then sends
/// `ProducerFinished` out of `signal` and ends: Kamaelia's `OneShot`.
///
/// The yield between the two lets the message reach its destination a
/// timeslice before the end of data does, as in the original.
///
/// # Inboxes
///
/// * `inbox`, `control`: not read.
///
/// # Outboxes
///
/// * `outbox` (`T`): the message.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): `ProducerFinished` after it.
///
/// # Examples
///
/// ```
/// use axon::Background;
/// use kamaelia::OneShot;
///
/// let background = Background::start()?;
/// let once = background.handle(|| OneShot::new("hello"));
/// assert_eq!(once.get(), Some("hello"));
/// assert_eq!(once.get(), None); // it has ended
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub struct OneShot<T> {
    message: T,
}

impl<T: 'static> OneShot<T> {
    /// A component that will send `message`.
    pub fn new(message: T) -> Self {
        OneShot { message }
    }
}

impl<T> fmt::Debug for OneShot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneShot")
    }
}

impl<T: 'static> Component for OneShot<T> {
    type Boxes = Standard<(), T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.outbox.send(self.message).await;
        cx.yield_now().await;
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rig::Rig;

    #[test]
    fn sends_its_message_then_producer_finished_a_timeslice_later() {
        let rig = Rig::<(), u8>::new(OneShot::new(7));
        rig.cycle_until(|rig| rig.waiting() == 1);
        assert_eq!(rig.take(), [7]);
        assert!(rig.signals().is_empty(), "not yet: it yields first");
        rig.run();
        assert!(rig.take().is_empty());
        let signals = rig.signals();
        assert_eq!(signals.len(), 1);
        match &signals[0] {
            axon::ipc::Ipc::ProducerFinished(pf) => {
                assert_eq!(pf.caller, Some(rig.component.id()))
            }
            other => panic!("{other:?}"),
        }
    }
}
