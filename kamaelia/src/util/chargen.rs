//! [`Chargen`]: a source of `"Hello World"`, as fast as it is scheduled.

use axon::{Component, Cx, Standard};

/// What a [`Chargen`] sends.
pub const CHARGEN_MESSAGE: &str = "Hello World";

/// Sends `"Hello World"` out of `outbox` once per timeslice: Kamaelia's
/// `Chargen`, a test source for pipelines.
///
/// **Where it differs from Kamaelia's**: the original never stops. This one
/// ends on any message on `control`, passing it on out of `signal`, so a
/// system using it can be shut down. If whatever it feeds is bounded and
/// full, it waits for room rather than dropping messages.
///
/// # Inboxes
///
/// * `inbox`: not read.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it.
///
/// # Outboxes
///
/// * `outbox` (`String`): `"Hello World"`, once a timeslice.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): the message that ended it.
///
/// # Examples
///
/// ```
/// use axon::Background;
/// use axon::ipc::ShutdownMicroprocess;
/// use kamaelia::Chargen;
///
/// let background = Background::start()?;
/// let chargen = background.handle(Chargen::new);
/// assert_eq!(chargen.get().as_deref(), Some("Hello World"));
/// assert_eq!(chargen.get().as_deref(), Some("Hello World"));
/// chargen.put_control(ShutdownMicroprocess::new().into());
/// // What it sent before it saw the message is still there to take.
/// while chargen.get().is_some() {}
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Debug, Default)]
pub struct Chargen;

impl Chargen {
    /// A chargen.
    pub fn new() -> Self {
        Chargen
    }
}

impl Component for Chargen {
    type Boxes = Standard<(), String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            if let Some(stop) = cx.control.recv() {
                cx.signal.send(stop).await;
                return;
            }
            cx.outbox.send(CHARGEN_MESSAGE.to_string()).await;
            cx.yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::{Ipc, ProducerFinished};

    use super::*;
    use crate::util::rig::Rig;

    #[test]
    fn sends_one_message_a_timeslice_until_told_to_stop() {
        let rig = Rig::<(), String>::new(Chargen::new());
        rig.cycle_until(|rig| rig.waiting() == 1);
        for _ in 0..4 {
            assert!(rig.scheduler.run_cycle());
        }
        assert_eq!(rig.take(), vec![CHARGEN_MESSAGE; 5], "one a cycle");
        rig.control(ProducerFinished::new().into());
        rig.run();
        assert!(rig.take().is_empty(), "nothing after the control message");
        let signals = rig.signals();
        assert!(
            matches!(signals[..], [Ipc::ProducerFinished(_)]),
            "{signals:?}"
        );
    }
}
