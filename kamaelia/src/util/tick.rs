//! [`PeriodicTick`] and [`SingleTick`]: timers as components, as in
//! Kamaelia's `Kamaelia.Apps.SA.Time`.

use std::time::{Duration, Instant};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, Cx, Standard};

/// Waits on axon's timers until `deadline`, or until a message arrives on
/// `control`, which is returned.
async fn wait_until<O: 'static>(cx: &Cx<Standard<(), O>>, deadline: Instant) -> Option<Ipc> {
    cx.wake_at(deadline);
    loop {
        if let Some(message) = cx.control.recv() {
            return Some(message);
        }
        if Instant::now() >= deadline {
            return None;
        }
        cx.idle().await;
    }
}

/// Sends a tick out of `outbox` every `delay`, until told to stop:
/// Kamaelia's `PeriodicTick`.
///
/// The ticks keep to a fixed schedule (`start + n × delay`), so they do not
/// drift; after a stall, the ticks that fell due meanwhile go out together,
/// as in the original. The tick is `true` unless given with
/// [`tick_mesg`](Self::tick_mesg). Between ticks it sleeps on axon's timers:
/// the original's threaded component and `check_interval` polling are not
/// needed, since a control message wakes it at once.
///
/// # Inboxes
///
/// * `inbox`: not read.
/// * `control` ([`Ipc`]): any message ends it.
///
/// # Outboxes
///
/// * `outbox` (`T`): the tick.
/// * `signal` ([`Ipc`]): the message that ended it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use axon::Background;
/// use axon::ipc::ShutdownMicroprocess;
/// use kamaelia::PeriodicTick;
///
/// let background = Background::start()?;
/// let ticker = background.handle(|| PeriodicTick::new(Duration::from_millis(10)).tick_mesg("tick"));
/// assert_eq!(ticker.get(), Some("tick"));
/// assert_eq!(ticker.get(), Some("tick"));
/// ticker.put_control(ShutdownMicroprocess::new().into());
/// while ticker.get().is_some() {}
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug)]
pub struct PeriodicTick<T = bool> {
    delay: Duration,
    tick: T,
}

impl PeriodicTick {
    /// A tick of `true` every `delay`.
    pub fn new(delay: Duration) -> Self {
        PeriodicTick { delay, tick: true }
    }
}

impl<T: Clone + 'static> PeriodicTick<T> {
    /// Sends `tick` instead of `true`.
    pub fn tick_mesg<U: Clone + 'static>(self, tick: U) -> PeriodicTick<U> {
        PeriodicTick {
            delay: self.delay,
            tick,
        }
    }
}

impl<T: Clone + 'static> Component for PeriodicTick<T> {
    type Boxes = Standard<(), T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let start = Instant::now();
        let mut ticks: u32 = 1;
        loop {
            let due = start + self.delay.saturating_mul(ticks);
            if let Some(stop) = wait_until(&cx, due).await {
                cx.signal.send(stop).await;
                return;
            }
            cx.outbox.send(self.tick.clone()).await;
            ticks = ticks.saturating_add(1);
        }
    }
}

/// Sends one tick out of `outbox` after `delay`, then `ProducerFinished` out
/// of `signal`, and ends: Kamaelia's `SingleTick`.
///
/// A message on `control` before then cancels it: no tick is sent, and the
/// message is passed on out of `signal`. The tick is `true` unless given
/// with [`tick_mesg`](Self::tick_mesg).
///
/// # Inboxes
///
/// * `inbox`: not read.
/// * `control` ([`Ipc`]): any message cancels the tick and ends it.
///
/// # Outboxes
///
/// * `outbox` (`T`): the tick.
/// * `signal` ([`Ipc`]): `ProducerFinished` after the tick, or the message
///   that cancelled it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use axon::Background;
/// use kamaelia::SingleTick;
///
/// let background = Background::start()?;
/// let alarm = background.handle(|| SingleTick::new(Duration::from_millis(10)));
/// assert_eq!(alarm.get(), Some(true));
/// assert_eq!(alarm.get(), None); // and it has ended
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug)]
pub struct SingleTick<T = bool> {
    delay: Duration,
    tick: T,
}

impl SingleTick {
    /// A tick of `true` after `delay`.
    pub fn new(delay: Duration) -> Self {
        SingleTick { delay, tick: true }
    }
}

impl<T: 'static> SingleTick<T> {
    /// Sends `tick` instead of `true`.
    pub fn tick_mesg<U: 'static>(self, tick: U) -> SingleTick<U> {
        SingleTick {
            delay: self.delay,
            tick,
        }
    }
}

impl<T: 'static> Component for SingleTick<T> {
    type Boxes = Standard<(), T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let due = Instant::now() + self.delay;
        if let Some(cancel) = wait_until(&cx, due).await {
            cx.signal.send(cancel).await;
            return;
        }
        cx.outbox.send(self.tick).await;
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::ShutdownMicroprocess;

    use super::*;
    use crate::util::rig::Rig;

    #[test]
    fn periodic_ticks_keep_coming_until_a_control_message() {
        let delay = Duration::from_millis(5);
        let rig = Rig::<(), u8>::new(PeriodicTick::new(delay).tick_mesg(1));
        let start = Instant::now();
        rig.cycle_until(|rig| rig.waiting() >= 3);
        // The third tick is due three delays after the start, not before.
        assert!(start.elapsed() >= 3 * delay);
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert!(rig.take().iter().all(|&t| t == 1));
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
    }

    #[test]
    fn a_periodic_tick_sleeps_between_ticks() {
        // A tick an hour: after the scheduler has started it, nothing is runnable.
        let rig = Rig::<(), bool>::new(PeriodicTick::new(Duration::from_secs(3600)));
        rig.cycle_until(|rig| rig.component.is_paused());
        let cycles = rig.scheduler.cycles();
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert!(
            rig.scheduler.cycles() - cycles < 5,
            "woken by the message, not polling"
        );
        assert!(rig.take().is_empty());
    }

    #[test]
    fn a_single_tick_ticks_once_then_finishes() {
        let rig = Rig::<(), bool>::new(SingleTick::new(Duration::from_millis(5)));
        rig.run();
        assert_eq!(rig.take(), [true]);
        match &rig.signals()[..] {
            [Ipc::ProducerFinished(pf)] => assert_eq!(pf.caller, Some(rig.component.id())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_control_message_cancels_a_single_tick() {
        let rig = Rig::<(), bool>::new(SingleTick::new(Duration::from_secs(3600)));
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert!(rig.take().is_empty());
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
    }
}
