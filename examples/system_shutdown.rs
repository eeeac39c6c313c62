//! `cargo run --example system_shutdown`
//!
//! Port of Axon's `Axon/Examples/SystemShutdown.py`: one component ticks
//! every half second for two seconds and then stops the whole scheduler,
//! which stops every component still running, including one that has paused
//! for ever. As in Axon, a stopped component's body does not run again; what it
//! must do when stopped it does when its body is dropped (here a guard's
//! `Drop`).

use std::time::{Duration, Instant};

use axon::{Component, Cx, NoBoxes};

/// Ticks for two seconds, then stops the scheduler.
struct ShutterDown;

impl Component for ShutterDown {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let start = Instant::now();
        println!("tick");
        // Axon's version spins, asking the time on each cycle; sleeping on a
        // timer ticks as often and costs nothing in between.
        while start.elapsed() < Duration::from_secs(2) {
            cx.sleep(Duration::from_millis(500)).await;
            println!("tick");
        }
        println!("stopped");
        cx.scheduler().stop();
    }
}

/// Pauses for ever, and says so when it is stopped.
struct Eternal;

/// What `Eternal` does when stopped: Axon's overridden `stop()`.
struct OnStop;

impl Drop for OnStop {
    fn drop(&mut self) {
        println!("Urgent shutdown here, honest gov!");
    }
}

impl Component for Eternal {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let _on_stop = OnStop;
        loop {
            cx.idle().await;
        }
    }
}

fn main() -> std::io::Result<()> {
    Eternal.activate();
    ShutterDown.run()
}
