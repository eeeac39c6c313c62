//! `cargo run --example seq_and_carousel -- FILE...`
//!
//! Two chassis that run their components one after another, shown on a list
//! of files (this example's own source and `examples/support/mod.rs` if none
//! are given).
//!
//! **[`Seq`]** (Kamaelia's `Kamaelia.Chassis.Seq`) runs a fixed sequence:
//! each component in turn, the next only once the one before has ended, and
//! prints its text items when their turn comes. Here each component is a
//! little Pipeline that writes one file to the console,
//! `Pipeline![SimpleReader::new(path).lines(), ConsoleEchoer::new()]`, which
//! ends once the echoer has written the whole file; so each heading is
//! printed after the file before it, never in the middle.
//!
//! **[`Carousel`]** (Kamaelia's `Kamaelia.Chassis.Carousel`) makes each
//! component at run time, from a message: here a [`SimpleReader`] for each
//! path it is sent. It is wired to a `ForwardIteratingChooser` (Kamaelia's
//! `Kamaelia.Util.Chooser`), which holds the list, as Kamaelia's
//! `JoinChooserToCarousel` (in `Kamaelia.Chassis.Prefab`) wires them, in a
//! [`Graphline`]: the chooser sends the first path to the Carousel's `next`;
//! the Carousel starts a reader for it; when the reader ends the Carousel
//! asks for another (`"NEXT"` out of `requestNext`, into the chooser's
//! `inbox`); and when the list is done the chooser's `ProducerFinished`
//! reaches the Carousel's `control`, which ends it and, through the
//! Graphline's `signal`, the echoer after it. This is the pattern of
//! Kamaelia's `UsingChassis/_WhatIsTheCarouselFor/_SimpleMultiFileStreamer.py`.
//!
//! The whole run is itself a Seq: the Carousel's Pipeline is its last item.

mod support;

use std::path::PathBuf;

use axon::ipc::ProducerFinished;
use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::chassis::ChassisError;
use kamaelia::{Carousel, ConsoleEchoer, Graphline, Pipeline, Seq, SimpleReader};

/// Steps through a list of items: Kamaelia's `ForwardIteratingChooser`.
///
/// It sends the first item as it starts, and the next on each `"NEXT"`
/// (the same again on `"SAME"`); asked for more when the list is done, it
/// sends `ProducerFinished` and ends.
///
/// * `inbox` (`String`): `"NEXT"` or `"SAME"`.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): `ShutdownMicroprocess` ends it; it is passed on.
/// * `outbox` (`T`): the chosen items.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): `ProducerFinished` after the last item, or the
///   shutdown.
struct ForwardIteratingChooser<T> {
    items: Vec<T>,
}

impl<T: Clone + 'static> Component for ForwardIteratingChooser<T> {
    type Boxes = Standard<String, T>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let mut items = self.items.into_iter();
        let mut current = items.next();
        if let Some(item) = &current {
            cx.outbox.send(item.clone()).await;
        }
        loop {
            while let Some(command) = cx.inbox.recv() {
                match command.as_str() {
                    "NEXT" => current = items.next(),
                    "SAME" => {}
                    _ => continue,
                }
                match &current {
                    Some(item) => cx.outbox.send(item.clone()).await,
                    None => {
                        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
                        return;
                    }
                }
            }
            if let Some(msg) = cx.control.recv() {
                if msg.is_shutdown_microprocess() {
                    cx.signal.send(msg).await;
                    return;
                }
            }
            cx.idle().await;
        }
    }
}

/// Kamaelia's `JoinChooserToCarousel`: the chooser says what the Carousel
/// makes next, and the Carousel asks it for more.
fn join_chooser_to_carousel(
    chooser: ForwardIteratingChooser<PathBuf>,
    carousel: Carousel<PathBuf, (), Bytes>,
) -> Result<Graphline<(), Bytes>, ChassisError> {
    Graphline! {
        CHOOSER: chooser,
        CAROUSEL: carousel;
        ("CHOOSER", "outbox") => ("CAROUSEL", "next"),
        ("CHOOSER", "signal") => ("CAROUSEL", "control"),
        ("self", "inbox") => ("CAROUSEL", "inbox"),
        ("self", "control") => ("CHOOSER", "control"),
        ("CAROUSEL", "requestNext") => ("CHOOSER", "inbox"),
        ("CAROUSEL", "outbox") => ("self", "outbox"),
        ("CAROUSEL", "signal") => ("self", "signal"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = support::options(
        "seq_and_carousel",
        "Files written to the console one after another, by a Seq and by a Carousel.",
        [],
        [],
        Some("[FILE]..."),
    );
    let mut files = options.rest;
    if files.is_empty() {
        let here = concat!(env!("CARGO_MANIFEST_DIR"), "/", file!());
        let support = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/support/mod.rs");
        files = vec![here.to_string(), support.to_string()];
    }
    for file in &files {
        if let Err(e) = std::fs::File::open(file) {
            eprintln!("seq_and_carousel: cannot read {file}: {e}");
            std::process::exit(1);
        }
    }

    let mut seq = Seq::new().print("=== Seq: the files one after another");
    for file in &files {
        let reader = SimpleReader::new(file).lines();
        seq = seq
            .print(format!("--- {file}"))
            .then(Pipeline![reader, ConsoleEchoer::new()]);
    }
    let chooser = ForwardIteratingChooser {
        items: files.iter().map(PathBuf::from).collect(),
    };
    let carousel = Carousel::new(|path: PathBuf| SimpleReader::new(path).lines());
    let files_in_turn = join_chooser_to_carousel(chooser, carousel)?;
    seq.print("=== Carousel: the same files, each reader made when the last has ended")
        .then(Pipeline![files_in_turn, ConsoleEchoer::new()])
        .print("=== done")
        .run()?;
    Ok(())
}
