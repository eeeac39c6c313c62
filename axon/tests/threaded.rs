// Partly ported from sparkslabs/kamaelia: Tests/Python/Axon/test_ThreadedComponent.py
// Copyright 2010 British Broadcasting Corporation and Kamaelia Contributors,
// Apache License 2.0.
//
// Behaviours are ported; no Python code or text is copied. The ported tests
// are those from `the_queue_length_limits_what_waits_to_be_sent` on, and the
// further ones after them (from `the_scheduler_side_ends_when_the_thread_does`).
// Changes made in porting:
//
// * Python's tests step the component's generator by hand and sleep between
//   steps for the thread to catch up. Here the test runs scheduler cycles
//   until the thread reports, through a channel, what the Python test would
//   have looked at (`cycle_until`, `cycle_until_recv`), with `HANG_GUARD` only
//   turning a hang into a failure.
// * threadedcomponent's `main` is `ThreadedComponent::main`, given a
//   `ThreadCx`; its boxes are had as typed `ThreadInbox`/`ThreadOutbox`
//   handles, and `dataReady`/`recv`/`send` are their methods.
// * test_linksafe wraps the postoffice to catch re-entrant use. Here linking
//   from the thread goes through `ThreadCx::on_scheduler`, so the port checks
//   that each link and unlink it makes runs on the scheduler's thread (where
//   the test links and unlinks too), which is what rules out re-entry.
// * threadedadaptivecommscomponent is not a separate type: `ThreadCx` has
//   `add_inbox`, `add_outbox`, `delete_inbox`, `delete_outbox`. Axon's test
//   file has no deleteInbox/deleteOutbox cases for it; the port adds one
//   after its adaptive-comms component tests: a box added at run time can be
//   deleted once, and a declared one not at all.
// * The smoke tests of the constructor (boxes by default, arguments) are
//   covered by the type system and not ported.

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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let _inbox = cx.inbox::<u32>("inbox").unwrap();
        let _ = self.ready.send(());
        let _ = self.go.recv_timeout(HANG_GUARD);
    }
}

/// Runs cycles until the thread says it is ready (it needs the scheduler to
/// serve its requests for boxes).
fn cycle_until(scheduler: &Scheduler, ready: &mpsc::Receiver<()>) {
    cycle_until_recv(scheduler, ready);
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

    fn main(self, _cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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
    let inbox_name = cycle_until_recv(&scheduler, &ready);
    adaptive
        .inbox::<u32>(&inbox_name)
        .unwrap()
        .deliver(42)
        .unwrap();
    cycle_until_finished(&scheduler, &[&adaptive]);
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

    fn main(self, cx: ThreadCx<Self::Boxes>) {
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

// The behaviours below are further ones of Axon's `test_ThreadedComponent.py`
// (see the provenance note at the top of this file), ported.

/// Runs cycles until `rx` yields something, and returns it. The thread needs
/// the scheduler to serve its requests (for boxes, for `on_scheduler`), so
/// the test keeps cycling while it waits; `HANG_GUARD` only turns a hang into
/// a failure.
fn cycle_until_recv<T>(scheduler: &Scheduler, rx: &mpsc::Receiver<T>) -> T {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    loop {
        if let Ok(got) = rx.recv_timeout(Duration::from_millis(1)) {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the thread never answered"
        );
        scheduler.run_cycle();
    }
}

/// Runs cycles until every one of `components` has finished.
fn cycle_until_finished(scheduler: &Scheduler, components: &[&ComponentRef]) {
    let deadline = std::time::Instant::now() + HANG_GUARD;
    while !components.iter().all(|c| c.is_finished()) {
        assert!(std::time::Instant::now() < deadline, "never finished");
        scheduler.run_cycle();
        std::thread::yield_now();
    }
    for c in components {
        assert!(c.panic_message().is_none(), "{:?}", c.panic_message());
    }
}

/// A body that does nothing at all.
struct DoesNothing;

impl ThreadedComponent for DoesNothing {
    type Boxes = axon::NoBoxes;

    fn main(self, _cx: ThreadCx<Self::Boxes>) {}
}

#[test]
fn the_scheduler_side_ends_when_the_thread_does() {
    let scheduler = Scheduler::new();
    let idle = ComponentRef::new(Threaded::new(DoesNothing));
    idle.activate_on(&scheduler);
    cycle_until_finished(&scheduler, &[&idle]);
    assert!(
        scheduler.list_all().is_empty(),
        "nothing is left running on the scheduler"
    );
    scheduler.run().unwrap();
}

/// Reports the OS thread its body runs on.
struct WhereAmI {
    here: mpsc::Sender<std::thread::ThreadId>,
}

impl ThreadedComponent for WhereAmI {
    type Boxes = axon::NoBoxes;

    fn main(self, _cx: ThreadCx<Self::Boxes>) {
        self.here.send(std::thread::current().id()).unwrap();
    }
}

#[test]
fn the_body_runs_on_another_os_thread_than_the_scheduler() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let (on_scheduler_tx, on_scheduler) = mpsc::channel();
    let plain = util::body(move |_cx: Cx<axon::NoBoxes>| async move {
        on_scheduler_tx.send(std::thread::current().id()).unwrap();
    });
    let threaded = ComponentRef::new(Threaded::new(WhereAmI { here: tx }));
    plain.activate_on(&scheduler);
    threaded.activate_on(&scheduler);
    let body_thread = cycle_until_recv(&scheduler, &rx);
    let scheduler_thread = cycle_until_recv(&scheduler, &on_scheduler);
    assert_eq!(scheduler_thread, std::thread::current().id());
    assert_ne!(body_thread, scheduler_thread);
    cycle_until_finished(&scheduler, &[&plain, &threaded]);
}

/// Waits, with `data_ready` and `pause`, for one message on its inbox, takes
/// it with `try_recv`, and reports it.
struct PollingReceiver {
    got: mpsc::Sender<String>,
}

impl ThreadedComponent for PollingReceiver {
    type Boxes = Standard<String, ()>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let inbox = cx.inbox::<String>("inbox").unwrap();
        while !inbox.data_ready() && !cx.is_stopped() {
            cx.pause();
        }
        if let Some(message) = inbox.try_recv() {
            self.got.send(message).unwrap();
        }
    }
}

#[test]
fn the_body_receives_what_is_sent_to_its_inbox() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let receiver = ComponentRef::new(Threaded::new(PollingReceiver { got: tx }));
    let sender = util::body(|cx: Cx<Standard<(), String>>| async move {
        cx.outbox.send("hello!".to_string()).await;
    });
    sender
        .link((&sender, "outbox"), (&receiver, "inbox"))
        .unwrap();
    receiver.activate_on(&scheduler);
    sender.activate_on(&scheduler);
    assert_eq!(cycle_until_recv(&scheduler, &rx), "hello!");
    cycle_until_finished(&scheduler, &[&receiver, &sender]);
    assert!(rx.try_recv().is_err(), "one message, received once");
}

/// Sends one message from its thread and returns.
struct OneShot;

impl ThreadedComponent for OneShot {
    type Boxes = Standard<(), String>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let outbox = cx.outbox::<String>("outbox").unwrap();
        outbox.send("hello there!".to_string()).unwrap();
    }
}

#[test]
fn what_the_body_sends_reaches_the_linked_inbox() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let sender = ComponentRef::new(Threaded::new(OneShot));
    let receiver = util::body(move |cx: Cx<Standard<String, ()>>| async move {
        let message = cx.inbox.next().await;
        tx.send(message).unwrap();
    });
    sender
        .link((&sender, "outbox"), (&receiver, "inbox"))
        .unwrap();
    sender.activate_on(&scheduler);
    receiver.activate_on(&scheduler);
    cycle_until_finished(&scheduler, &[&sender, &receiver]);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["hello there!"]);
}

/// Ten times, links its outbox to its own inbox and unlinks it again, from
/// its thread through `on_scheduler`, reporting the thread each ran on and
/// whether the link was made and then gone.
struct RepeatedLinker {
    report: mpsc::Sender<(std::thread::ThreadId, bool)>,
}

impl ThreadedComponent for RepeatedLinker {
    type Boxes = Standard<u32, u32>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        for _ in 0..10 {
            let done = cx
                .on_scheduler(|me| {
                    let before = me.linkages().len();
                    let linked = match me.link((me, "outbox"), (me, "inbox")) {
                        Ok(linkage) => {
                            let made = me.linkages().len() == before + 1;
                            me.unlink(&linkage);
                            made && me.linkages().len() == before
                        }
                        Err(_) => false,
                    };
                    (std::thread::current().id(), linked)
                })
                .unwrap();
            self.report.send(done).unwrap();
        }
    }
}

#[test]
fn linking_from_the_thread_happens_on_the_scheduler_thread() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let linker = ComponentRef::new(Threaded::new(RepeatedLinker { report: tx }));
    linker.activate_on(&scheduler);
    let mut reports = Vec::new();
    while reports.len() < 10 {
        // Meanwhile this thread links and unlinks the same component too.
        let linkage = linker
            .link((&linker, "signal"), (&linker, "control"))
            .unwrap();
        linker.unlink(&linkage);
        reports.push(cycle_until_recv(&scheduler, &rx));
    }
    cycle_until_finished(&scheduler, &[&linker]);
    let here = std::thread::current().id();
    for (thread, linked) in reports {
        assert_eq!(thread, here, "the link was made on the scheduler's thread");
        assert!(linked, "linked and unlinked");
    }
    assert!(linker.linkages().is_empty());
}

/// Adds an inbox from its thread, says what it is called, then reports what
/// arrives there.
struct InboxAdder {
    name: mpsc::Sender<String>,
    got: mpsc::Sender<Option<String>>,
}

impl ThreadedComponent for InboxAdder {
    type Boxes = Standard<(), ()>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let inbox = cx
            .add_inbox::<String>("newbox", "added by the thread")
            .unwrap();
        self.name.send(inbox.name().to_string()).unwrap();
        let got = inbox.recv_timeout(HANG_GUARD).unwrap();
        self.got.send(got).unwrap();
    }
}

#[test]
fn an_inbox_added_from_the_thread_receives_what_is_delivered_there() {
    let scheduler = Scheduler::new();
    let (name_tx, name) = mpsc::channel();
    let (got_tx, got) = mpsc::channel();
    let adder = ComponentRef::new(Threaded::new(InboxAdder {
        name: name_tx,
        got: got_tx,
    }));
    adder.activate_on(&scheduler);
    let name = cycle_until_recv(&scheduler, &name);
    assert_eq!(name, "newbox");
    assert!(adder.has_inbox(&name), "the component has the inbox");
    adder
        .inbox::<String>(&name)
        .unwrap()
        .deliver("hello".to_string())
        .unwrap();
    assert_eq!(cycle_until_recv(&scheduler, &got).as_deref(), Some("hello"));
    cycle_until_finished(&scheduler, &[&adder]);
}

/// Adds an inbox and an outbox from its thread, says what they are called,
/// waits to be told to go, then deletes both (twice) and reports the results.
struct BoxDeleter {
    names: mpsc::Sender<(String, String)>,
    go: mpsc::Receiver<()>,
    deleted: mpsc::Sender<[bool; 5]>,
}

impl ThreadedComponent for BoxDeleter {
    type Boxes = Standard<(), ()>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let inbox = cx.add_inbox::<u32>("newin", "").unwrap();
        let outbox = cx.add_outbox::<u32>("newout", "").unwrap();
        let names = (inbox.name().to_string(), outbox.name().to_string());
        self.names.send(names.clone()).unwrap();
        self.go.recv_timeout(HANG_GUARD).unwrap();
        let is_box_error =
            |r: Result<(), axon::ThreadBoxError>| matches!(r, Err(axon::ThreadBoxError::Box(_)));
        self.deleted
            .send([
                cx.delete_inbox(&names.0).is_ok(),
                cx.delete_outbox(&names.1).is_ok(),
                is_box_error(cx.delete_inbox(&names.0)),
                is_box_error(cx.delete_outbox(&names.1)),
                // A declared box is not one added at run time.
                is_box_error(cx.delete_inbox("control")),
            ])
            .unwrap();
    }
}

#[test]
fn boxes_added_from_the_thread_can_be_deleted_from_it_once() {
    let scheduler = Scheduler::new();
    let (names_tx, names) = mpsc::channel();
    let (go_tx, go) = mpsc::channel();
    let (deleted_tx, deleted) = mpsc::channel();
    let deleter = ComponentRef::new(Threaded::new(BoxDeleter {
        names: names_tx,
        go,
        deleted: deleted_tx,
    }));
    deleter.activate_on(&scheduler);
    let (inbox, outbox) = cycle_until_recv(&scheduler, &names);
    assert!(deleter.has_inbox(&inbox) && deleter.has_outbox(&outbox));
    go_tx.send(()).unwrap();
    assert_eq!(cycle_until_recv(&scheduler, &deleted), [true; 5]);
    assert!(!deleter.has_inbox(&inbox), "the inbox is gone");
    assert!(!deleter.has_outbox(&outbox), "the outbox is gone");
    assert!(deleter.has_inbox("control"), "the declared inbox is kept");
    cycle_until_finished(&scheduler, &[&deleter]);
}

/// Adds an outbox from its thread, links it to the service "dst", then sends
/// what it is given through it.
struct OutboxAdder {
    message: mpsc::Receiver<String>,
    sent: mpsc::Sender<bool>,
}

impl ThreadedComponent for OutboxAdder {
    type Boxes = Standard<(), ()>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let outbox = cx
            .add_outbox::<String>("newbox", "added by the thread")
            .unwrap();
        let name = outbox.name().to_string();
        let linked = cx
            .on_scheduler(move |me| {
                let dst = Scheduler::current()
                    .tracker()
                    .retrieve_service("dst")
                    .unwrap();
                me.link((me, name.as_str()), (&dst.component, dst.inbox.as_str()))
                    .is_ok()
            })
            .unwrap();
        let message = self.message.recv_timeout(HANG_GUARD).unwrap();
        self.sent
            .send(linked && outbox.send(message).is_ok())
            .unwrap();
    }
}

#[test]
fn an_outbox_added_from_the_thread_delivers_what_it_sends() {
    let scheduler = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    let receiver = util::body(move |cx: Cx<Standard<String, ()>>| async move {
        let message = cx.inbox.next().await;
        tx.send(message).unwrap();
    });
    scheduler
        .tracker()
        .register_service("dst", &receiver, "inbox")
        .unwrap();
    let (message_tx, message) = mpsc::channel();
    let (sent_tx, sent) = mpsc::channel();
    let adder = ComponentRef::new(Threaded::new(OutboxAdder {
        message,
        sent: sent_tx,
    }));
    receiver.activate_on(&scheduler);
    adder.activate_on(&scheduler);
    message_tx.send("hello".to_string()).unwrap();
    assert!(cycle_until_recv(&scheduler, &sent), "linked and sent");
    cycle_until_finished(&scheduler, &[&adder, &receiver]);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["hello"]);
}
