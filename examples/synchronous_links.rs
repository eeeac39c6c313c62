//! `cargo run --example synchronous_links`
//!
//! Port of Axon's `Axon/Examples/SynchronousLinks/basic_syncLinksAcceptanceTest.py`:
//! a producer sends ten messages to a slow consumer through an inbox that holds
//! one message. A send that finds the inbox full is refused
//! ([`NoSpaceInBox`](axon::NoSpaceInBox)); the producer says so and waits until
//! the consumer has taken the message in the way, so it can never run ahead.
//!
//! Axon spells the one-message inbox `synchronous=True` or `pipewidth=1` on the
//! link; here the size belongs to the inbox ([`Inbox::set_size`](axon::Inbox::set_size)),
//! whatever is linked to it.

use std::time::Duration;

use axon::{Component, Cx, NoBoxes, Standard};

/// Takes one message every 200 ms, ten in all.
struct SlowConsumer;

impl Component for SlowConsumer {
    type Boxes = Standard<String, ()>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        println!("     Consumer starting");
        for i in 0..10 {
            cx.sleep(Duration::from_millis(200)).await;
            let message = cx.inbox.next().await;
            println!("     C: got: {message} {i}");
        }
        println!("     Consumer has finished consumption !");
    }
}

/// Sends ten messages, pausing whenever the consumer's inbox is full.
struct Producer;

impl Component for Producer {
    type Boxes = Standard<(), String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        for i in 0..10 {
            let mut message = format!("hello{i}");
            loop {
                cx.yield_now().await;
                match cx.outbox.try_send(message) {
                    Ok(()) => {
                        println!("     P: sent: hello{i}");
                        break;
                    }
                    Err(refused) => {
                        println!(
                            "                                 P: fail: hello{i} PAUSING UNTIL READY TO SEND"
                        );
                        message = refused.into_inner();
                        // The consumer's next collection wakes us.
                        cx.pause();
                    }
                }
            }
        }
        println!("     Producer has finished production !!!");
    }
}

/// Runs a producer and a slow consumer linked through a one-message inbox,
/// and ends when both have.
struct TestComponent;

impl Component for TestComponent {
    type Boxes = NoBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let producer = Producer.activate();
        let consumer = SlowConsumer.activate();
        if let Err(e) = consumer
            .inbox::<String>("inbox")
            .map(|i| i.set_size(Some(1)))
        {
            eprintln!("synchronous_links: {e}");
            return;
        }
        if let Err(e) = cx.link((&producer, "outbox"), (&consumer, "inbox")) {
            eprintln!("synchronous_links: {e}");
            return;
        }
        cx.add_children([&producer, &consumer]);
        // Woken as each child ends.
        while !(producer.is_finished() && consumer.is_finished()) {
            cx.idle().await;
        }
    }
}

fn main() -> std::io::Result<()> {
    println!("=======================================");
    println!("Synchronous Link");
    TestComponent.run()
}
