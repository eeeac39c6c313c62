//! `cargo run --example simple_producer_consumer`
//!
//! Port of Axon's first example, `Axon/Examples/Simple/all.py`: a parent
//! component makes a Producer and a Consumer its children, links the
//! producer's `result` outbox to the consumer's `source` inbox and the
//! consumer's `result` outbox back to its own `_input` inbox, and waits for
//! the consumer's answer. The box names are the example's own, not the
//! standard four: a component declares whatever boxes it needs.

use axon::{Component, ComponentRef, Cx, NewComponent};

axon::boxes! {
    /// The Producer's one box.
    struct ProducerBoxes {
        /// `"hello29"` down to `"hello0"`, one per scheduler cycle.
        outbox result: String,
    }
}

/// Sends thirty greetings, one per cycle.
struct Producer;

impl Component for Producer {
    type Boxes = ProducerBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        for i in (0..30).rev() {
            let message = format!("hello{i}");
            cx.result.send(message.clone()).await;
            println!("{} sent --> {message}", cx.component());
            cx.yield_now().await;
        }
        println!("Producer has finished production !!!");
    }
}

axon::boxes! {
    /// The Consumer's boxes.
    struct ConsumerBoxes {
        /// Greetings to consume.
        inbox source: String,
        /// The last greeting it consumed, when it has finished.
        outbox result: Option<String>,
    }
}

/// Looks for a greeting on each of thirty cycles, and reports the last it got.
struct Consumer;

impl Component for Consumer {
    type Boxes = ConsumerBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        cx.yield_now().await;
        let mut last = None;
        for _ in 0..30 {
            if let Some(op) = cx.source.recv() {
                println!("{} received -->  {op}", cx.component());
                last = Some(op);
            }
            cx.yield_now().await;
        }
        println!("Consumer has finished consumption !!!");
        cx.result.send(last).await;
    }
}

axon::boxes! {
    /// The parent's one box.
    struct TestBoxes {
        /// The consumer's result.
        inbox _input: Option<String>,
    }
}

/// Owns the producer and the consumer, and prints what the consumer found.
struct TestComponent;

impl Component for TestComponent {
    type Boxes = TestBoxes;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let producer = ComponentRef::new(Producer);
        let consumer = ComponentRef::new(Consumer);
        cx.add_children([&producer, &consumer]);
        let linked = cx
            .link((&producer, "result"), (&consumer, "source"))
            .and_then(|_| cx.link((&consumer, "result"), (&cx, "_input")));
        if let Err(e) = linked {
            eprintln!("simple_producer_consumer: {e}");
            return;
        }
        cx.yield_(NewComponent::new([producer, consumer])).await;
        let result = cx._input.next().await;
        println!(
            "consumer finished with result: {} !",
            result.as_deref().unwrap_or("None")
        );
    }
}

fn main() -> std::io::Result<()> {
    TestComponent.run()
}
