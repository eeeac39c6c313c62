use axon::{Component, Cx, Standard};
use kamaelia::Pipeline;

/// Counts lines: takes `String`, sends `usize`.
struct Count;

impl Component for Count {
    type Boxes = Standard<String, usize>;
    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

fn main() {
    // The last stage's `outbox` comes round to the first stage's `inbox`.
    let _wrong = Pipeline![circular: Count];
}
