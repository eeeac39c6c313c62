//! Threaded components: a body on its own OS thread, bridged to the
//! scheduler by bounded queues (Axon's `threadedcomponent`).

mod util;

use std::sync::mpsc;
use std::time::Duration;

use axon::ipc::ProducerFinished;
use axon::{ComponentRef, Cx, Inbox, Scheduler, Standard, ThreadCx, Threaded, ThreadedComponent};
use util::{run_until_done, HANG_GUARD};

/// Doubles what arrives on `inbox` until a message comes on `control`, then
/// passes it on out of `signal` and ends.
struct Doubler;

impl ThreadedComponent for Doubler {
    type Boxes = Standard<u64, u64>;

    fn main(self, cx: ThreadCx) {
        let inbox = cx.inbox::<u64>("inbox").unwrap();
        let control = cx.inbox::<axon::ipc::Ipc>("control").unwrap();
        let outbox = cx.outbox::<u64>("outbox").unwrap();
        let signal = cx.outbox::<axon::ipc::Ipc>("signal").unwrap();
        while let Some(n) = cx.recv_until_finished(&inbox, &control) {
            outbox.send(n * 2).unwrap();
        }
        if let Some(message) = control.try_recv() {
            signal.send(message).unwrap();
        }
    }
}

/// Sends 0..n, then `ProducerFinished`.
fn producer(n: u64) -> ComponentRef {
    util::body(move |cx: Cx<Standard<(), u64>>| async move {
        for i in 0..n {
            cx.outbox.send(i).await;
        }
        cx.signal.send(ProducerFinished::new().into()).await;
    })
}

/// Collects into `tx` until `control` speaks.
fn collector(tx: mpsc::Sender<u64>) -> ComponentRef {
    util::body(move |cx: Cx<Standard<u64, ()>>| async move {
        while let Some(n) = cx.recv_until_finished().await {
            tx.send(n).unwrap();
        }
    })
}

#[test]
fn a_pipeline_through_a_thread_loses_nothing_and_keeps_order() {
    let scheduler = Scheduler::new();
    let n = 20_000;
    let (tx, rx) = mpsc::channel();
    let (source, doubler, sink) = (
        producer(n),
        ComponentRef::new(Threaded::new(Doubler)),
        collector(tx),
    );
    source
        .link((&source, "outbox"), (&doubler, "inbox"))
        .unwrap();
    source
        .link((&source, "signal"), (&doubler, "control"))
        .unwrap();
    doubler
        .link((&doubler, "outbox"), (&sink, "inbox"))
        .unwrap();
    doubler
        .link((&doubler, "signal"), (&sink, "control"))
        .unwrap();
    // Bounded inboxes everywhere: both directions are held back, not grown.
    for c in [&doubler, &sink] {
        c.inbox::<u64>("inbox").unwrap().set_size(Some(16));
    }
    for c in [&source, &doubler, &sink] {
        c.activate_on(&scheduler);
    }
    scheduler.run().unwrap();
    let got: Vec<u64> = rx.try_iter().collect();
    assert_eq!(got.len() as u64, n);
    assert!(got.iter().enumerate().all(|(i, &v)| v == 2 * i as u64));
    assert!(doubler.is_finished() && doubler.panic_message().is_none());
}

/// Takes its inbox, says so, then does nothing until told (through `go`)
/// to end.
struct Idler {
    ready: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
}

impl ThreadedComponent for Idler {
    type Boxes = Standard<u32, ()>;

    fn main(self, cx: ThreadCx) {
        let _inbox = cx.inbox::<u32>("inbox").unwrap();
        let _ = self.ready.send(());
        let _ = self.go.recv_timeout(HANG_GUARD);
    }
}

/// Runs cycles until the thread says it is ready (it needs the scheduler to
/// serve its requests for boxes).
fn cycle_until(scheduler: &Scheduler, ready: &mpsc::Receiver<()>) {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    while ready.recv_timeout(Duration::from_millis(1)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the thread never got ready"
        );
        scheduler.run_cycle();
    }
}

#[test]
fn a_sender_sees_the_inbox_size_plus_the_queue_length() {
    let scheduler = Scheduler::new();
    let (go_tx, go) = mpsc::channel();
    let (ready_tx, ready) = mpsc::channel();
    let idler = ComponentRef::new(
        Threaded::new(Idler {
            ready: ready_tx,
            go,
        })
        .queue_length(5),
    );
    let inbox: Inbox<u32> = idler.inbox("inbox").unwrap();
    inbox.set_size(Some(3));
    let source = util::plain::<(), u32>();
    source.link((&source, "outbox"), (&idler, "inbox")).unwrap();
    let outbox = source.outbox::<u32>("outbox").unwrap();
    idler.activate_on(&scheduler);
    cycle_until(&scheduler, &ready);
    let mut sent = 0;
    // Fill, let the bridge move what it can (on this thread, in its turns),
    // and again, until refused with nothing more moving.
    for _ in 0..10 {
        while outbox.try_send(sent).is_ok() {
            sent += 1;
        }
        scheduler.run_cycle();
        scheduler.run_cycle();
    }
    assert_eq!(sent, 3 + 5, "Axon's QSIZE + BSIZE");
    go_tx.send(()).unwrap();
    scheduler.run().unwrap();
    assert!(idler.is_finished());
}

/// Panics at once.
struct Panicker;

impl ThreadedComponent for Panicker {
    type Boxes = Standard<(), ()>;

    fn main(self, _cx: ThreadCx) {
        panic!("the thread gave up");
    }
}

#[test]
fn a_panic_on_the_thread_ends_the_component_and_is_reported_as_its_own() {
    let scheduler = Scheduler::new();
    let panicker = ComponentRef::new(Threaded::new(Panicker));
    let (tx, rx) = mpsc::channel();
    let bystander = producer(3);
    let sink = collector(tx);
    bystander
        .link((&bystander, "outbox"), (&sink, "inbox"))
        .unwrap();
    bystander
        .link((&bystander, "signal"), (&sink, "control"))
        .unwrap();
    for c in [&panicker, &bystander, &sink] {
        c.activate_on(&scheduler);
    }
    scheduler.run().unwrap();
    assert!(panicker.is_finished());
    let message = panicker.panic_message().expect("reported");
    assert!(message.contains("the thread gave up"), "{message}");
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        [0, 1, 2],
        "the others ran on"
    );
}

/// Sends `n` numbers and returns at once.
struct Blurter {
    n: u64,
}

impl ThreadedComponent for Blurter {
    type Boxes = Standard<(), u64>;

    fn main(self, cx: ThreadCx) {
        let outbox = cx.outbox::<u64>("outbox").unwrap();
        for i in 0..self.n {
            outbox.send(i).unwrap();
        }
    }
}

#[test]
fn everything_the_thread_sent_is_delivered_before_the_component_ends() {
    let scheduler = Scheduler::new();
    let n = 5_000;
    let blurter = ComponentRef::new(Threaded::new(Blurter { n }).queue_length(10));
    let (tx, rx) = mpsc::channel();
    let sink = util::body(move |cx: Cx<Standard<u64, ()>>| async move {
        // Ends once its producer has ended and nothing is left.
        loop {
            for n in cx.inbox.drain() {
                tx.send(n).unwrap();
            }
            if cx.child_components().iter().all(ComponentRef::is_finished) && cx.inbox.is_empty() {
                return;
            }
            cx.idle().await;
        }
    });
    sink.add_children([&blurter]);
    blurter
        .link((&blurter, "outbox"), (&sink, "inbox"))
        .unwrap();
    sink.inbox::<u64>("inbox").unwrap().set_size(Some(7));
    blurter.activate_on(&scheduler);
    sink.activate_on(&scheduler);
    scheduler.run().unwrap();
    let got: Vec<u64> = rx.try_iter().collect();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

/// Says it is ready, waits on its inbox, and reports when that wait ends.
struct Waiter {
    ready: mpsc::Sender<()>,
    ended: mpsc::Sender<Option<u32>>,
}

impl ThreadedComponent for Waiter {
    type Boxes = Standard<u32, ()>;

    fn main(self, cx: ThreadCx) {
        let inbox = cx.inbox::<u32>("inbox").unwrap();
        let _ = self.ready.send(());
        let _ = self.ended.send(inbox.recv());
    }
}

#[test]
fn stopping_the_component_ends_a_thread_waiting_to_receive() {
    let scheduler = Scheduler::new();
    let (tx, ended) = mpsc::channel();
    let (ready_tx, ready) = mpsc::channel();
    let waiter = ComponentRef::new(Threaded::new(Waiter {
        ready: ready_tx,
        ended: tx,
    }));
    waiter.activate_on(&scheduler);
    // Its thread asks the scheduler for its inbox: serve that, then stop it
    // while it waits.
    let deadline = std::time::Instant::now() + HANG_GUARD;
    while ready.recv_timeout(Duration::from_millis(1)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the thread never got its inbox"
        );
        scheduler.run_cycle();
    }
    waiter.stop();
    run_until_done(&scheduler, 100);
    assert_eq!(
        ended.recv_timeout(HANG_GUARD),
        Ok(None),
        "recv returned None once stopped"
    );
}

/// Links its own outbox, from the thread, to the inbox registered as the
/// service "sink", then sends to it.
struct SelfLinker;

impl ThreadedComponent for SelfLinker {
    type Boxes = Standard<(), u32>;

    fn main(self, cx: ThreadCx) {
        let linked = cx
            .on_scheduler(|me| {
                let Ok(sink) = Scheduler::current().tracker().retrieve_service("sink") else {
                    return false;
                };
                me.link((me, "outbox"), (&sink.component, sink.inbox.as_str()))
                    .is_ok()
            })
            .unwrap();
        if linked {
            let outbox = cx.outbox::<u32>("outbox").unwrap();
            outbox.send(7).unwrap();
        }
    }
}

#[test]
fn the_thread_can_link_its_boxes_on_the_scheduler_thread() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let sink = util::body(move |cx: Cx<Standard<u32, ()>>| async move {
        let n = cx.inbox.next().await;
        tx.send(n).unwrap();
    });
    scheduler
        .tracker()
        .register_service("sink", &sink, "inbox")
        .unwrap();
    let linker = ComponentRef::new(Threaded::new(SelfLinker));
    sink.activate_on(&scheduler);
    linker.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(7));
}

/// Adds an outbox and an inbox at run time, from its thread: sends 3 through
/// the outbox to the service "sink", echoes what comes to the added inbox
/// back out of the outbox, then deletes both and ends.
struct Adaptive {
    ready: mpsc::Sender<String>,
}

impl ThreadedComponent for Adaptive {
    type Boxes = axon::NoBoxes;

    fn main(self, cx: ThreadCx) {
        let out = cx.add_outbox::<u32>("extra", "added at run time").unwrap();
        let name = out.name().to_string();
        let linked = cx
            .on_scheduler(move |me| {
                let sink = Scheduler::current()
                    .tracker()
                    .retrieve_service("sink")
                    .unwrap();
                me.link((me, name.as_str()), (&sink.component, sink.inbox.as_str()))
                    .is_ok()
            })
            .unwrap();
        assert!(linked);
        for n in 1..=3 {
            out.send(n).unwrap();
        }
        let inbox = cx.add_inbox::<u32>("extra", "added at run time").unwrap();
        assert_ne!(inbox.name(), out.name(), "a taken name gets a number");
        self.ready.send(inbox.name().to_string()).unwrap();
        let n = inbox.recv().unwrap();
        out.send(n).unwrap();
        cx.delete_inbox(inbox.name()).unwrap();
        assert!(cx.delete_inbox(inbox.name()).is_err(), "deleted once");
    }
}

#[test]
fn a_threaded_component_adds_and_deletes_boxes_at_run_time() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let sink = util::body(move |cx: Cx<Standard<u32, ()>>| async move {
        loop {
            let n = cx.inbox.next().await;
            tx.send(n).unwrap();
        }
    });
    scheduler
        .tracker()
        .register_service("sink", &sink, "inbox")
        .unwrap();
    let (ready_tx, ready) = mpsc::channel();
    let adaptive = ComponentRef::new(Threaded::new(Adaptive { ready: ready_tx }));
    sink.activate_on(&scheduler);
    adaptive.activate_on(&scheduler);
    let deadline = std::time::Instant::now() + HANG_GUARD;
    let inbox_name = loop {
        if let Ok(name) = ready.recv_timeout(Duration::from_millis(1)) {
            break name;
        }
        assert!(std::time::Instant::now() < deadline, "never ready");
        scheduler.run_cycle();
    };
    adaptive
        .inbox::<u32>(&inbox_name)
        .unwrap()
        .deliver(42)
        .unwrap();
    while !adaptive.is_finished() {
        assert!(std::time::Instant::now() < deadline, "never finished");
        scheduler.run_cycle();
        std::thread::yield_now();
    }
    assert!(
        adaptive.panic_message().is_none(),
        "{:?}",
        adaptive.panic_message()
    );
    for _ in 0..3 {
        scheduler.run_cycle();
    }
    let got: Vec<u32> = rx.try_iter().collect();
    assert_eq!(got, [1, 2, 3, 42]);
    assert!(
        adaptive.inbox::<u32>(&inbox_name).is_err(),
        "the inbox is gone"
    );
}

// The behaviours below are those of Axon's `test_ThreadedComponent.py`
// (Tests/Python/Axon/ in the Kamaelia repository), ported.

/// Each time it is told to go, sends as many as its queue takes without
/// waiting, and reports how many.
struct Filler {
    ready: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
    sent: mpsc::Sender<usize>,
}

impl ThreadedComponent for Filler {
    type Boxes = Standard<(), u32>;

    fn main(self, cx: ThreadCx) {
        let outbox = cx.outbox::<u32>("outbox").unwrap();
        self.ready.send(()).unwrap();
        for () in self.go.iter() {
            let mut n = 0;
            while outbox.try_send(0).is_ok() {
                n += 1;
            }
            self.sent.send(n).unwrap();
        }
    }
}

/// A [`Filler`] with queues of `queue_length`, its `go` and `sent` ends.
fn filler(
    scheduler: &Scheduler,
    queue_length: usize,
) -> (ComponentRef, mpsc::Sender<()>, mpsc::Receiver<usize>) {
    let (ready_tx, ready) = mpsc::channel();
    let (go_tx, go) = mpsc::channel();
    let (sent_tx, sent) = mpsc::channel();
    let filler = ComponentRef::new(
        Threaded::new(Filler {
            ready: ready_tx,
            go,
            sent: sent_tx,
        })
        .queue_length(queue_length),
    );
    filler.activate_on(scheduler);
    cycle_until(scheduler, &ready);
    (filler, go_tx, sent)
}

/// Tells the filler to go, and returns how many it sent.
fn fill(go: &mpsc::Sender<()>, sent: &mpsc::Receiver<usize>) -> usize {
    go.send(()).unwrap();
    sent.recv_timeout(HANG_GUARD).unwrap()
}

#[test]
fn the_queue_length_limits_what_waits_to_be_sent() {
    let scheduler = Scheduler::new();
    // No cycle runs while it sends: only its queue takes messages.
    let (_filler, go, sent) = filler(&scheduler, 20);
    assert_eq!(fill(&go, &sent), 20);
    assert_eq!(fill(&go, &sent), 0, "and no more until the queue moves");
}

#[test]
fn a_full_destination_holds_the_thread_back_after_its_size_plus_the_queue_length() {
    let (queue, size) = (20, 10);
    let scheduler = Scheduler::new();
    let sink = util::plain::<u32, ()>();
    let sink_inbox: Inbox<u32> = sink.inbox("inbox").unwrap();
    sink_inbox.set_size(Some(size));
    let (filler, go, sent) = filler(&scheduler, queue);
    filler.link((&filler, "outbox"), (&sink, "inbox")).unwrap();
    let settle = |scheduler: &Scheduler| {
        for _ in 0..5 {
            scheduler.run_cycle();
        }
    };
    assert_eq!(fill(&go, &sent), queue);
    settle(&scheduler);
    assert_eq!(fill(&go, &sent), size, "the destination took `size`");
    settle(&scheduler);
    assert_eq!(fill(&go, &sent), 0, "QSIZE + BSIZE in all");

    // Taking from the destination lets as many more through.
    for _ in 0..5 {
        assert!(sink_inbox.recv().is_some());
    }
    settle(&scheduler);
    assert_eq!(fill(&go, &sent), 5);
    drop(go);
    while sink_inbox.recv().is_some() {}
}

/// Ends as soon as something is on its `control`, whatever waits on its
/// `inbox`.
struct Quitter;

impl ThreadedComponent for Quitter {
    type Boxes = Standard<u32, ()>;

    fn main(self, cx: ThreadCx) {
        let _inbox = cx.inbox::<u32>("inbox").unwrap();
        let control = cx.inbox::<axon::ipc::Ipc>("control").unwrap();
        while !control.data_ready() {
            cx.pause();
        }
    }
}

#[test]
fn the_component_ends_when_its_thread_does_even_with_input_left() {
    let scheduler = Scheduler::new();
    let quitter = ComponentRef::new(Threaded::new(Quitter).queue_length(5));
    let inbox: Inbox<u32> = quitter.inbox("inbox").unwrap();
    // More than the queue holds: the rest stays in the inbox.
    for n in 0..10 {
        inbox.deliver(n).unwrap();
    }
    quitter
        .inbox::<axon::ipc::Ipc>("control")
        .unwrap()
        .deliver(ProducerFinished::new().into())
        .unwrap();
    quitter.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert!(quitter.is_finished() && quitter.panic_message().is_none());
}

/// Receives with `recv_until_finished` and reports everything it got.
struct Receiver {
    got: mpsc::Sender<Vec<u32>>,
}

impl ThreadedComponent for Receiver {
    type Boxes = Standard<u32, ()>;

    fn main(self, cx: ThreadCx) {
        let inbox = cx.inbox::<u32>("inbox").unwrap();
        let control = cx.inbox::<axon::ipc::Ipc>("control").unwrap();
        let mut got = Vec::new();
        while let Some(n) = cx.recv_until_finished(&inbox, &control) {
            got.push(n);
        }
        assert!(control.data_ready(), "the control message is left there");
        self.got.send(got).unwrap();
    }
}

#[test]
fn recv_until_finished_gets_everything_sent_before_control_even_past_a_small_queue() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let receiver = ComponentRef::new(Threaded::new(Receiver { got: tx }).queue_length(2));
    let inbox: Inbox<u32> = receiver.inbox("inbox").unwrap();
    for n in 0..50 {
        inbox.deliver(n).unwrap();
    }
    // The control message reaches the thread while 48 still wait for room.
    receiver
        .inbox::<axon::ipc::Ipc>("control")
        .unwrap()
        .deliver(ProducerFinished::new().into())
        .unwrap();
    receiver.activate_on(&scheduler);
    scheduler.run().unwrap();
    assert_eq!(
        rx.recv_timeout(HANG_GUARD).unwrap(),
        (0..50).collect::<Vec<_>>()
    );
}
