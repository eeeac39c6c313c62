//! The cast of Kamaelia's three `UsingChassis/Graphline/*Shutdown.py`
//! examples: a [`Pinger`] that sends a shutdown message, [`Waiter`]s that end
//! when one reaches them, and a [`Whinger`] that complains until one does.
//!
//! The Pinger and the Whinger sleep, so, as in the originals, they are
//! threaded components ([`ThreadedComponent`]): a thread of their own may
//! block without holding up the scheduler.

use std::time::Duration;

use axon::ipc::{Ipc, ProducerFinished};
use axon::{Component, Cx, Standard, ThreadCx, Threaded, ThreadedComponent};

use crate::support::Count;

/// The options the three examples share: `--delay-ms` (the Pinger's) and
/// `--whinge-ms` (the Whinger's), each a second by default, as in the
/// originals.
pub(crate) fn options() -> [Count; 2] {
    [
        Count {
            name: "delay-ms",
            help: "how long the Pinger waits before it sends",
            value: 1000,
        },
        Count {
            name: "whinge-ms",
            help: "how often the Whinger complains",
            value: 1000,
        },
    ]
}

/// `ms` milliseconds.
pub(crate) fn ms(ms: usize) -> Duration {
    Duration::from_millis(ms as u64)
}

/// What the example's components carry on their data boxes: nothing.
type NoData = Standard<(), ()>;

/// Sleeps, then sends `ProducerFinished` out of `signal` and ends.
///
/// * `signal` ([`Ipc`]): the `ProducerFinished`.
pub(crate) struct Pinger {
    delay: Duration,
}

impl Pinger {
    /// A Pinger that waits `delay` before it sends.
    pub(crate) fn new(delay: Duration) -> Threaded<Pinger> {
        Threaded::new(Pinger { delay })
    }
}

impl ThreadedComponent for Pinger {
    type Boxes = NoData;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(signal) = cx.outbox::<Ipc>("signal") else {
            return;
        };
        std::thread::sleep(self.delay);
        if signal.send(ProducerFinished::new().into()).is_ok() {
            println!("PINGER: sent producerFinished");
        }
    }
}

/// Waits for a message on `control`, then passes it on out of `signal` and
/// ends.
///
/// * `control` ([`Ipc`]): any message ends it.
/// * `signal` ([`Ipc`]): that message.
pub(crate) struct Waiter {
    /// Its name in the Graphline, for what it prints (the originals print
    /// Axon's numeric id).
    name: &'static str,
}

impl Waiter {
    /// A Waiter called `name`.
    pub(crate) fn new(name: &'static str) -> Waiter {
        Waiter { name }
    }
}

impl Component for Waiter {
    type Boxes = NoData;

    async fn main(self, cx: Cx<Self::Boxes>) {
        println!("WAITER {} waiting", self.name);
        let msg = cx.control.next().await;
        println!(
            "WAITER {} shutting down having received: {}",
            self.name,
            kamaelia_name(&msg)
        );
        cx.signal.send(msg).await;
    }
}

/// Complains every `interval` until a message arrives on `control`.
///
/// * `control` ([`Ipc`]): any message ends it.
pub(crate) struct Whinger {
    interval: Duration,
}

impl Whinger {
    /// A Whinger that complains every `interval`.
    pub(crate) fn new(interval: Duration) -> Threaded<Whinger> {
        Threaded::new(Whinger { interval })
    }
}

impl ThreadedComponent for Whinger {
    type Boxes = NoData;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(control) = cx.inbox::<Ipc>("control") else {
            return;
        };
        loop {
            println!("WHINGER: waiting for shutdown");
            match control.recv_timeout(self.interval) {
                Ok(None) => continue,
                Ok(Some(_)) => break,
                // Stopped with the scheduler: no shutdown ever came.
                Err(_) => return,
            }
        }
        println!("WHINGER: shutdown");
    }
}

/// The message's name as Axon spells it.
pub(crate) fn kamaelia_name(msg: &Ipc) -> String {
    match msg {
        Ipc::ProducerFinished(_) => "producerFinished".to_string(),
        Ipc::ShutdownMicroprocess(_) => "shutdownMicroprocess".to_string(),
        other => format!("{other:?}"),
    }
}
