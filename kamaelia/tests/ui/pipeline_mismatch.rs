use axon::{Component, Cx, Standard};
use kamaelia::{PassThrough, Pipeline};

/// Counts lines: takes `String`, sends `usize`.
struct Count;

impl Component for Count {
    type Boxes = Standard<String, usize>;
    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

/// Upper-cases lines: takes and sends `String`.
struct Upper;

impl Component for Upper {
    type Boxes = Standard<String, String>;
    async fn main(self, _cx: Cx<Self::Boxes>) {}
}

fn main() {
    // A generic stage between two that agree is fine...
    let _fine = Pipeline![Upper, PassThrough::new(), Upper];
    // ...and a stage that sends `usize` cannot feed one that takes `String`.
    let _wrong = Pipeline![Upper, Count, Upper];
}
