//! `cargo run --example reverser` — type lines; each comes back reversed.
//! End with Ctrl-D.
//!
//! Port of Axon's `Axon/Examples/Handles/reverser.py`: plain code (this
//! `main`, reading standard input line by line) uses a component through a
//! [`Handle`](axon::Handle). [`Background`](axon::Background) runs the
//! scheduler on a thread of its own; `put` hands a line to the component's
//! `inbox` and `get` waits for what comes out of its `outbox`, without the
//! original's polling loop.

use std::io::BufRead;

use axon::{Background, Component, Cx, Standard};

/// Reverses each string it is given: Unix's `rev`.
struct Reverser;

impl Component for Reverser {
    type Boxes = Standard<String, String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(line) = cx.recv_until_finished().await {
            cx.outbox.send(line.chars().rev().collect()).await;
        }
    }
}

fn main() -> std::io::Result<()> {
    let background = Background::start()?;
    eprintln!("Similar to Unix's \"rev\" tool: type stuff, it reverses it");
    let reverser = background.handle(|| Reverser);
    for line in std::io::stdin().lock().lines() {
        reverser.put(line?.trim_end().to_string());
        match reverser.get() {
            Some(reversed) => println!("{reversed}"),
            None => break,
        }
    }
    reverser.finish();
    background.join()
}
