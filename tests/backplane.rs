//! The splitter's, the Plug's and the Backplane's behaviours (after Kamaelia's
//! `Test/Util/test_Splitter.py`), and the flow-control policy: every sink
//! that keeps taking gets every message in order, however many sinks and
//! however hard the publisher pushes; a sink that stops taking stops pacing
//! the publisher after the grace, and is disconnected and told when its
//! backlog passes the byte cap or it makes no progress for the stall timeout.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axon::ipc::{ErrorInformation, Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{from_fn, ComponentId, ComponentRef, Cx, Scheduler, Standard};
use kamaelia::util::{
    publish_service, Backplane, Configuration, PassThrough, PlugSplitter, PublishTo, Sink,
    SubscribeTo,
};

/// What a reader has taken.
type Seen<T> = Rc<RefCell<Vec<T>>>;
type Log = Seen<u64>;
/// The control messages a reader has been told.
type Told = Rc<RefCell<Vec<Ipc>>>;

/// What a waiting `u64` weighs against a splitter's byte bounds: its 8 bytes
/// and the log's record of it.
const U64_WEIGHT: usize = 8 + PlugSplitter::<u64>::RECORD_BYTES;

/// A sink that takes everything (its inbox bounded to `size`) until a
/// control message, which it records.
fn reader<T: 'static>(
    size: usize,
    seen: Rc<RefCell<Vec<T>>>,
    told: Rc<RefCell<Vec<Ipc>>>,
) -> ComponentRef {
    let c = ComponentRef::new(from_fn(move |cx: Cx<Standard<T, ()>>| async move {
        while let Some(n) = cx.recv_until_finished().await {
            seen.borrow_mut().push(n);
        }
        if let Some(m) = cx.control.recv() {
            told.borrow_mut().push(m);
        }
    }));
    c.inbox::<T>("inbox").unwrap().set_size(Some(size));
    c
}

/// A sink that never takes data and ends on a control message, recording it.
fn staller(told: Rc<RefCell<Vec<Ipc>>>) -> ComponentRef {
    let c = ComponentRef::new(from_fn(move |cx: Cx<Standard<u64, ()>>| async move {
        let m = cx.control.next().await;
        told.borrow_mut().push(m);
    }));
    c.inbox::<u64>("inbox").unwrap().set_size(Some(4));
    c
}

/// [`publishing`] `0..count`.
fn publisher(count: u64, splitter: &ComponentRef) -> ComponentRef {
    publishing(0..count, splitter)
}

/// [`publisher`], of the [`lines`] `0\n`, `1\n`, ….
fn line_publisher(count: u64, splitter: &ComponentRef) -> ComponentRef {
    publishing(lines(count), splitter)
}

/// The lines `0\n` to `{count - 1}\n`, as `String`s.
fn lines(count: u64) -> impl Iterator<Item = String> {
    (0..count).map(|n| format!("{n}\n"))
}

/// Ends `component`'s input: `ProducerFinished` to its `control`.
fn finish(component: &ComponentRef) {
    component
        .inbox::<Ipc>("control")
        .unwrap()
        .deliver(ProducerFinished::new().into())
        .unwrap();
}

/// `messages` runs of `each` bytes, the n-th all `n`: what a sink of the
/// messages `[n; each]` must get.
fn runs_of(messages: usize, each: usize) -> Vec<u8> {
    (0..messages)
        .flat_map(|n| std::iter::repeat_n(n as u8, each))
        .collect()
}

/// Sends `messages` into `splitter`'s inbox as fast as it is let, then
/// `ProducerFinished` to its control.
fn publishing<T: 'static>(
    messages: impl Iterator<Item = T> + 'static,
    splitter: &ComponentRef,
) -> ComponentRef {
    let p = ComponentRef::new(from_fn(move |cx: Cx<Standard<(), T>>| async move {
        for message in messages {
            cx.outbox.send(message).await;
        }
        cx.signal.send(ProducerFinished::new().into()).await;
    }));
    p.link((&p, "outbox"), (splitter, "inbox")).unwrap();
    p.link((&p, "signal"), (splitter, "control")).unwrap();
    p
}

fn add(splitter: &ComponentRef, sink: Sink) {
    splitter
        .inbox::<Configuration>("configuration")
        .unwrap()
        .deliver(Configuration::AddSink(sink))
        .unwrap();
}

#[test]
fn ten_thousand_subscribers_each_get_every_message_in_order() {
    const SINKS: usize = 10_000;
    const MESSAGES: u64 = 50;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<u64>::new().max_backlog_messages(8));
    let mut logs = Vec::new();
    for _ in 0..SINKS {
        let seen: Log = Default::default();
        let r = reader(2, seen.clone(), Default::default());
        add(&splitter, Sink::new(&r).control("control"));
        r.activate_on(&scheduler);
        logs.push(seen);
    }
    splitter.activate_on(&scheduler);
    publisher(MESSAGES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();
    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, seen) in logs.iter().enumerate() {
        assert_eq!(*seen.borrow(), expected, "sink {i}");
    }
}

#[test]
fn a_flood_slows_the_publisher_and_drops_only_the_stalled_subscriber() {
    const MESSAGES: u64 = 20_000;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(
        PlugSplitter::<u64>::new()
            .max_backlog_messages(16)
            .stall_timeout(Duration::from_millis(200)),
    );
    let mut logs = Vec::new();
    for _ in 0..20 {
        let seen: Log = Default::default();
        let r = reader(3, seen.clone(), Default::default());
        add(&splitter, Sink::new(&r).control("control"));
        r.activate_on(&scheduler);
        logs.push(seen);
    }
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let stalled = staller(told.clone());
    add(&splitter, Sink::new(&stalled).control("control"));
    stalled.activate_on(&scheduler);
    splitter.activate_on(&scheduler);
    publisher(MESSAGES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();

    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, seen) in logs.iter().enumerate() {
        assert_eq!(
            *seen.borrow(),
            expected,
            "reader {i} lost or reordered messages"
        );
    }
    let told = told.borrow();
    assert_eq!(told.len(), 1);
    assert!(
        told[0].is_shutdown_microprocess(),
        "the stalled sink is told to stop: {:?}",
        told[0]
    );
}

#[test]
fn data_and_control_reach_every_sink_and_the_splitter_outbox_in_order() {
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<u64>::new());
    let own: Log = Default::default();
    let own_told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let direct = reader(100, own.clone(), own_told.clone());
    splitter
        .link((&splitter, "outbox"), (&direct, "inbox"))
        .unwrap();
    splitter
        .link((&splitter, "signal"), (&direct, "control"))
        .unwrap();
    let seen: Log = Default::default();
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let sink = reader(100, seen.clone(), told.clone());
    add(&splitter, Sink::new(&sink).control("control"));
    for c in [&splitter, &direct, &sink] {
        c.activate_on(&scheduler);
    }
    publisher(5, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();
    assert_eq!(*own.borrow(), [0, 1, 2, 3, 4]);
    assert_eq!(*seen.borrow(), [0, 1, 2, 3, 4]);
    assert!(told.borrow()[0].is_producer_finished());
    assert!(own_told.borrow()[0].is_producer_finished());
}

#[test]
fn a_removed_sink_gets_nothing_more_and_the_others_carry_on() {
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<u64>::new());
    let kept: Log = Default::default();
    let gone: Log = Default::default();
    let a = reader(100, kept.clone(), Default::default());
    let b = reader(100, gone.clone(), Default::default());
    add(&splitter, Sink::new(&a).control("control"));
    add(&splitter, Sink::new(&b));
    for c in [&splitter, &a, &b] {
        c.activate_on(&scheduler);
    }
    for _ in 0..4 {
        scheduler.run_cycle();
    }
    let input = splitter.inbox::<u64>("inbox").unwrap();
    input.deliver(1).unwrap();
    for _ in 0..4 {
        scheduler.run_cycle();
    }
    splitter
        .inbox::<Configuration>("configuration")
        .unwrap()
        .deliver(Configuration::RemoveSink(Sink::new(&b)))
        .unwrap();
    for _ in 0..4 {
        scheduler.run_cycle();
    }
    input.deliver(2).unwrap();
    finish(&splitter);
    for _ in 0..10 {
        scheduler.run_cycle();
    }
    assert!(
        splitter.is_finished(),
        "the splitter ends after ProducerFinished"
    );
    assert_eq!(*kept.borrow(), [1, 2]);
    assert_eq!(*gone.borrow(), [1]);
    b.stop();
    scheduler.run().unwrap();
}

#[test]
fn a_plug_unplugs_when_its_child_ends() {
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<u64>::new());
    let child = ComponentRef::new(PassThrough::<u64>::new());
    let plug = ComponentRef::new(kamaelia::util::Plug::<u64, u64>::new(
        &splitter,
        child.clone(),
    ));
    splitter.activate_on(&scheduler);
    plug.activate_on(&scheduler);
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    assert_eq!(
        splitter.child_components().len(),
        1,
        "one feeder while plugged in"
    );
    child
        .inbox::<Ipc>("control")
        .unwrap()
        .deliver(ShutdownMicroprocess::new().into())
        .unwrap();
    for _ in 0..10 {
        scheduler.run_cycle();
    }
    assert!(plug.is_finished());
    assert!(splitter.child_components().is_empty(), "its sink is gone");
    splitter.stop();
    scheduler.run().unwrap();
}

#[test]
fn a_duplicate_backplane_name_is_an_error() {
    let scheduler = Scheduler::new();
    let _first = Backplane::<u64>::new("dup")
        .activate_on(&scheduler)
        .unwrap();
    let second = Backplane::<u64>::new("dup").activate_on(&scheduler);
    assert!(matches!(second, Err(axon::ServiceError::AlreadyExists(_))));
}

#[test]
fn a_missing_backplane_ends_publisher_and_subscriber_with_an_error_signal() {
    let scheduler = Scheduler::new();
    for c in [
        ComponentRef::new(PublishTo::<u64>::new("nowhere")),
        ComponentRef::new(SubscribeTo::<u64>::new("nowhere")),
    ] {
        let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
        let watcher = staller(told.clone());
        c.link((&c, "signal"), (&watcher, "control")).unwrap();
        c.activate_on(&scheduler);
        watcher.activate_on(&scheduler);
        scheduler.run().unwrap();
        assert!(matches!(told.borrow()[0], Ipc::ErrorInformation(_)));
    }
}

#[test]
fn publishers_reach_every_subscriber_through_a_backplane() {
    let scheduler = Scheduler::new();
    let backplane = Backplane::<u64>::new("counts")
        .activate_on(&scheduler)
        .unwrap();
    let mut logs = Vec::new();
    for _ in 0..3 {
        let sub = ComponentRef::new(SubscribeTo::<u64>::new("counts"));
        let seen: Log = Default::default();
        let r = reader(2, seen.clone(), Default::default());
        sub.link((&sub, "outbox"), (&r, "inbox")).unwrap();
        sub.link((&sub, "signal"), (&r, "control")).unwrap();
        sub.activate_on(&scheduler);
        r.activate_on(&scheduler);
        logs.push(seen);
    }
    for _ in 0..10 {
        scheduler.run_cycle();
    }
    let publish = ComponentRef::new(PublishTo::<u64>::new("counts"));
    let source = ComponentRef::new(from_fn(|cx: Cx<Standard<(), u64>>| async move {
        for n in 0..1000 {
            cx.outbox.send(n).await;
        }
        cx.signal.send(ProducerFinished::new().into()).await;
    }));
    source
        .link((&source, "outbox"), (&publish, "inbox"))
        .unwrap();
    source
        .link((&source, "signal"), (&backplane, "control"))
        .unwrap();
    publish.activate_on(&scheduler);
    source.activate_on(&scheduler);
    for _ in 0..20_000 {
        if backplane.is_finished() {
            break;
        }
        scheduler.run_cycle();
    }
    publish.stop();
    scheduler.run().unwrap();
    let expected: Vec<u64> = (0..1000).collect();
    for seen in &logs {
        assert_eq!(*seen.borrow(), expected);
    }
}

/// A sink that calls `each` with every message it takes (its inbox bounded to
/// `size`), then `end` with the control message that ended it.
fn reader_with(
    size: usize,
    each: impl Fn(u64) + 'static,
    end: impl FnOnce(Option<Ipc>) + 'static,
) -> ComponentRef {
    let c = ComponentRef::new(from_fn(move |cx: Cx<Standard<u64, ()>>| async move {
        while let Some(n) = cx.recv_until_finished().await {
            each(n);
        }
        end(cx.control.recv());
    }));
    c.inbox::<u64>("inbox").unwrap().set_size(Some(size));
    c
}

/// The `tracing` output while `f` runs, as text.
fn logged(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = captured.0.lock().unwrap().clone();
    String::from_utf8_lossy(&text).into_owned()
}

#[test]
fn a_subscriber_that_stops_reading_stops_pacing_the_flood_after_the_grace() {
    const READERS: usize = 20;
    const MESSAGES: u64 = 5_000;
    let scheduler = Scheduler::new();
    // A stall timeout far longer than the test and a cap never reached: only
    // the grace can let the readers past the stalled one.
    let splitter = ComponentRef::new(
        PlugSplitter::<u64>::new()
            .max_backlog_messages(16)
            .max_backlog_bytes(1 << 30)
            .stall_timeout(Duration::from_secs(60)),
    );
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let stalled = staller(told.clone());
    let stalled_sink = Sink::new(&stalled).control("control");
    let done = Rc::new(Cell::new(0));
    let mut logs = Vec::new();
    for _ in 0..READERS {
        let seen: Log = Default::default();
        let (log, done, config, stalled, sink, told) = (
            seen.clone(),
            done.clone(),
            splitter.clone(),
            stalled.clone(),
            stalled_sink.clone(),
            told.clone(),
        );
        let r = reader_with(
            3,
            move |n| log.borrow_mut().push(n),
            move |_| {
                done.set(done.get() + 1);
                if done.get() == READERS {
                    assert!(
                        told.borrow().is_empty(),
                        "the stalled sink was dropped by the stall timeout before \
                         the readers had everything: it went on pacing them"
                    );
                    config
                        .inbox::<Configuration>("configuration")
                        .unwrap()
                        .deliver(Configuration::RemoveSink(sink))
                        .unwrap();
                    stalled.stop();
                }
            },
        );
        add(&splitter, Sink::new(&r).control("control"));
        r.activate_on(&scheduler);
        logs.push(seen);
    }
    add(&splitter, stalled_sink);
    stalled.activate_on(&scheduler);
    splitter.activate_on(&scheduler);
    publisher(MESSAGES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();

    assert_eq!(done.get(), READERS);
    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, seen) in logs.iter().enumerate() {
        assert_eq!(*seen.borrow(), expected, "reader {i}");
    }
    assert!(told.borrow().is_empty(), "it was removed, not dropped");
}

#[test]
fn a_stalled_subscriber_is_dropped_with_a_logged_reason_when_its_backlog_passes_the_byte_cap() {
    const MESSAGES: u64 = 5_000;
    const CAP: usize = 400 * U64_WEIGHT; // 400 messages
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let mut logs = Vec::new();
    let log = logged(|| {
        let scheduler = Scheduler::new();
        let splitter = ComponentRef::new(
            PlugSplitter::<u64>::new()
                .max_backlog_messages(16)
                .max_backlog_bytes(CAP)
                .stall_timeout(Duration::from_secs(60)),
        );
        for _ in 0..20 {
            let seen: Log = Default::default();
            let r = reader(3, seen.clone(), Default::default());
            add(&splitter, Sink::new(&r).control("control"));
            r.activate_on(&scheduler);
            logs.push(seen);
        }
        let stalled = staller(told.clone());
        add(&splitter, Sink::new(&stalled).control("control"));
        stalled.activate_on(&scheduler);
        splitter.activate_on(&scheduler);
        publisher(MESSAGES, &splitter).activate_on(&scheduler);
        scheduler.run().unwrap();
    });

    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, seen) in logs.iter().enumerate() {
        assert_eq!(*seen.borrow(), expected, "reader {i}");
    }
    let told = told.borrow();
    assert_eq!(told.len(), 1);
    assert!(told[0].is_shutdown_microprocess(), "{:?}", told[0]);
    assert!(
        log.contains("max_backlog_bytes"),
        "the reason is logged: {log}"
    );
    // Dropped by the first message over the cap: its memory was bounded.
    assert!(
        log.contains(&format!("backlog_bytes={}", CAP + U64_WEIGHT)),
        "dropped at the cap plus one message: {log}"
    );
    assert!(!log.contains("stall_timeout"), "not by the timeout: {log}");
}

#[test]
fn a_slow_subscriber_that_keeps_reading_is_never_dropped_however_small_the_byte_cap() {
    const MESSAGES: u64 = 300;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(
        PlugSplitter::<u64>::new()
            // The pacing bound is then one byte less: 7 messages.
            .max_backlog_bytes(8 * U64_WEIGHT)
            .stall_grace(Duration::from_secs(2))
            .stall_timeout(Duration::from_secs(60)),
    );
    let mut logs = Vec::new();
    let mut tolds = Vec::new();
    for _ in 0..5 {
        let seen: Log = Default::default();
        let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
        let r = reader(3, seen.clone(), told.clone());
        add(&splitter, Sink::new(&r).control("control"));
        r.activate_on(&scheduler);
        logs.push(seen);
        tolds.push(told);
    }
    let slow_seen: Log = Default::default();
    let slow_told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let (seen, told) = (slow_seen.clone(), slow_told.clone());
    let slow = ComponentRef::new(from_fn(move |cx: Cx<Standard<u64, ()>>| async move {
        while let Some(n) = cx.recv_until_finished().await {
            seen.borrow_mut().push(n);
            cx.sleep(Duration::from_millis(2)).await;
        }
        if let Some(m) = cx.control.recv() {
            told.borrow_mut().push(m);
        }
    }));
    slow.inbox::<u64>("inbox").unwrap().set_size(Some(1));
    add(&splitter, Sink::new(&slow).control("control"));
    slow.activate_on(&scheduler);
    logs.push(slow_seen);
    tolds.push(slow_told);
    splitter.activate_on(&scheduler);
    publisher(MESSAGES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();

    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, (seen, told)) in logs.iter().zip(&tolds).enumerate() {
        assert_eq!(*seen.borrow(), expected, "sink {i}");
        assert!(
            told.borrow()[0].is_producer_finished(),
            "sink {i} ended by the end of the stream, not dropped: {:?}",
            told.borrow()
        );
    }
}

#[test]
fn a_stalled_subscriber_that_reads_again_paces_again_and_gets_everything() {
    const READERS: usize = 10;
    const MESSAGES: u64 = 1_000;
    // How far the readers get before it reads again: far past the pacing
    // bound, so it had stopped pacing them.
    const RESUME_AT: usize = 100;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(
        PlugSplitter::<u64>::new()
            .max_backlog_messages(16)
            .max_backlog_bytes(600 * U64_WEIGHT)
            .stall_timeout(Duration::from_secs(60)),
    );
    let first_got = Rc::new(Cell::new(0usize));
    let seen: Log = Default::default();
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    // (the readers' lead when it read again, their greatest lead after)
    let leads = Rc::new(Cell::new((0usize, 0usize)));
    let resumer = {
        let (got, seen, told, leads) =
            (first_got.clone(), seen.clone(), told.clone(), leads.clone());
        ComponentRef::new(from_fn(move |cx: Cx<Standard<u64, ()>>| async move {
            while got.get() < RESUME_AT {
                cx.idle().await;
            }
            let at_resume = got.get();
            let mut most = 0;
            while let Some(n) = cx.recv_until_finished().await {
                seen.borrow_mut().push(n);
                most = most.max(got.get().saturating_sub(seen.borrow().len()));
                // Slower than the readers: only pacing keeps it in reach.
                cx.sleep(Duration::from_millis(1)).await;
            }
            leads.set((at_resume, most));
            if let Some(m) = cx.control.recv() {
                told.borrow_mut().push(m);
            }
        }))
    };
    resumer.inbox::<u64>("inbox").unwrap().set_size(Some(4));
    let mut logs = Vec::new();
    for i in 0..READERS {
        let mine: Log = Default::default();
        let (log, got, resumer) = (mine.clone(), first_got.clone(), resumer.clone());
        let r = reader_with(
            3,
            move |n| {
                log.borrow_mut().push(n);
                if i == 0 {
                    got.set(got.get() + 1);
                    if got.get() == RESUME_AT {
                        resumer.unpause();
                    }
                }
            },
            |_| {},
        );
        add(&splitter, Sink::new(&r).control("control"));
        r.activate_on(&scheduler);
        logs.push(mine);
    }
    add(&splitter, Sink::new(&resumer).control("control"));
    resumer.activate_on(&scheduler);
    splitter.activate_on(&scheduler);
    publisher(MESSAGES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();

    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, log) in logs.iter().enumerate() {
        assert_eq!(*log.borrow(), expected, "reader {i}");
    }
    assert_eq!(*seen.borrow(), expected, "the resumed sink lost nothing");
    assert!(
        told.borrow()[0].is_producer_finished(),
        "{:?}",
        told.borrow()
    );
    let (at_resume, most) = leads.get();
    assert!(at_resume >= RESUME_AT);
    assert!(
        most <= at_resume + 40,
        "after reading again it paces the readers: their lead went from \
         {at_resume} to {most}"
    );
}

/// The chat's case at scale: 10,000 sinks taking slices of the journal,
/// each skipping the lines of its own "sender", each get every other line,
/// in order, whole.
#[test]
fn ten_thousand_sinks_taking_slices_each_get_every_line_but_their_own() {
    const SINKS: usize = 10_000;
    const LINES: u64 = 50;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<String>::new().max_backlog_messages(8));
    let mut seen = Vec::new();
    for i in 0..SINKS {
        let got: Seen<bytes::Bytes> = Default::default();
        let r = reader(2, got.clone(), Default::default());
        let me = (i % 10).to_string();
        add(
            &splitter,
            Sink::new(&r)
                .control("control")
                .encoded_where(move |line: &String| !line.ends_with(&format!("{me}\n"))),
        );
        r.activate_on(&scheduler);
        seen.push(got);
    }
    splitter.activate_on(&scheduler);
    line_publisher(LINES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();
    for (i, got) in seen.iter().enumerate() {
        let me = (i % 10).to_string();
        let expected: String = lines(LINES)
            .filter(|line| !line.ends_with(&format!("{me}\n")))
            .collect();
        assert_eq!(text_of(&got.borrow()).0, expected, "sink {i}");
    }
}

#[test]
fn ten_thousand_subscribers_with_a_thousand_stalled_ones() {
    const SINKS: usize = 10_000;
    const MESSAGES: u64 = 50;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(
        PlugSplitter::<u64>::new()
            .max_backlog_messages(8)
            .max_backlog_bytes(20 * U64_WEIGHT)
            .stall_timeout(Duration::from_secs(60)),
    );
    let mut logs = Vec::new();
    let mut tolds = Vec::new();
    for i in 0..SINKS {
        let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
        let sink = if i % 10 == 9 {
            staller(told.clone())
        } else {
            let seen: Log = Default::default();
            logs.push(seen.clone());
            reader(2, seen, Default::default())
        };
        add(&splitter, Sink::new(&sink).control("control"));
        sink.activate_on(&scheduler);
        if i % 10 == 9 {
            tolds.push(told);
        }
    }
    splitter.activate_on(&scheduler);
    publisher(MESSAGES, &splitter).activate_on(&scheduler);
    scheduler.run().unwrap();
    let expected: Vec<u64> = (0..MESSAGES).collect();
    for (i, seen) in logs.iter().enumerate() {
        assert_eq!(*seen.borrow(), expected, "reader {i}");
    }
    for told in &tolds {
        assert!(told.borrow()[0].is_shutdown_microprocess());
    }
}

#[test]
fn a_subscriber_hears_what_its_own_pipeline_publishes_in_its_first_cycle() {
    // A chat connection's Pipeline publishes and subscribes; the client's
    // first line may be waiting before the Pipeline has run, and reaches the
    // backplane in the cycle the stages start. It must still come back.
    let scheduler = Scheduler::new();
    let _backplane = Backplane::<u64>::new("echo-first")
        .activate_on(&scheduler)
        .unwrap();
    let connection = ComponentRef::new(kamaelia::Pipeline![
        PassThrough::<u64>::new(),
        PublishTo::new("echo-first"),
        SubscribeTo::new("echo-first"),
    ]);
    let seen = Log::default();
    let told = Rc::new(RefCell::new(Vec::new()));
    let client = reader(16, seen.clone(), told);
    connection
        .link((&connection, "outbox"), (&client, "inbox"))
        .unwrap();
    connection
        .inbox::<u64>("inbox")
        .unwrap()
        .deliver(7)
        .unwrap();
    connection.activate_on(&scheduler);
    client.activate_on(&scheduler);
    for _ in 0..20 {
        scheduler.run_cycle();
    }
    assert_eq!(*seen.borrow(), [7]);
}

/// A reader (inbox of `room`) of what `subscriber` sends out and of how its
/// subscription ends, with what it has seen and been told.
fn reading(subscriber: &ComponentRef, room: usize) -> (ComponentRef, Log, Rc<RefCell<Vec<Ipc>>>) {
    reading_of(subscriber, room)
}

/// [`reading`], of any type of message.
fn reading_of<T: 'static>(subscriber: &ComponentRef, room: usize) -> (ComponentRef, Seen<T>, Told) {
    let seen: Rc<RefCell<Vec<T>>> = Default::default();
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let r = reader(room, seen.clone(), told.clone());
    subscriber
        .link((subscriber, "outbox"), (&r, "inbox"))
        .unwrap();
    subscriber
        .link((subscriber, "signal"), (&r, "control"))
        .unwrap();
    (r, seen, told)
}

/// The component publishers on the backplane `name` publish to (its
/// splitter's `inbox`).
fn entry(scheduler: &Scheduler, name: &str) -> ComponentRef {
    scheduler
        .tracker()
        .retrieve_service(&publish_service(name))
        .unwrap()
        .component
}

/// Ends the backplane and runs the rest: the reader must have seen
/// `0..count`, in order, and then heard `ProducerFinished`.
fn end_and_expect(
    scheduler: &Scheduler,
    backplane: &ComponentRef,
    (seen, told): (&Log, &Rc<RefCell<Vec<Ipc>>>),
    count: u64,
) {
    finish(backplane);
    scheduler.run().unwrap();
    assert_eq!(*seen.borrow(), (0..count).collect::<Vec<u64>>());
    assert!(
        told.borrow()[0].is_producer_finished(),
        "{:?}",
        told.borrow()
    );
}

#[test]
fn a_subscriber_is_one_component_and_what_is_published_lands_in_its_readers_inbox() {
    let scheduler = Scheduler::new();
    let backplane = Backplane::<u64>::new("direct")
        .activate_on(&scheduler)
        .unwrap();
    let sub = ComponentRef::new(SubscribeTo::<u64>::new("direct"));
    let (r, seen, told) = reading(&sub, 4);
    sub.activate_on(&scheduler);
    r.activate_on(&scheduler);
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    // No Plug, no relay: the backplane, its splitter, the splitter's feeder
    // for the subscriber, the subscriber, and its reader.
    assert!(sub.child_components().is_empty());
    assert_eq!(scheduler.list_all().len(), 5);
    let feeder = entry(&scheduler, "direct")
        .child_components()
        .pop()
        .expect("a feeder for the subscriber");
    assert!(
        feeder
            .linkages()
            .iter()
            .any(|l| l.sink_pair().0 == sub.id()),
        "the feeder sends through the subscriber's own boxes"
    );

    let inbox = entry(&scheduler, "direct").inbox::<u64>("inbox").unwrap();
    for n in 0..3 {
        inbox.deliver(n).unwrap();
    }
    for _ in 0..3 {
        scheduler.run_cycle();
    }
    // Were there a relay, the reader's inbox would still be empty: the
    // splitter and the feeder have had a turn each since, nothing more.
    assert_eq!(r.inbox_len("inbox").unwrap() + seen.borrow().len(), 3);

    for n in 3..100 {
        inbox.deliver(n).unwrap();
        scheduler.run_cycle();
    }
    end_and_expect(&scheduler, &backplane, (&seen, &told), 100);
}

#[test]
fn what_is_published_before_a_subscribers_outbox_is_linked_onward_is_not_lost() {
    let scheduler = Scheduler::new();
    let backplane = Backplane::<u64>::new("late")
        .activate_on(&scheduler)
        .unwrap();
    let sub = ComponentRef::new(SubscribeTo::<u64>::new("late"));
    sub.activate_on(&scheduler);
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    // Subscribed, with an `outbox` that leads nowhere yet.
    let inbox = entry(&scheduler, "late").inbox::<u64>("inbox").unwrap();
    for n in 0..20 {
        inbox.deliver(n).unwrap();
    }
    for _ in 0..20 {
        scheduler.run_cycle();
    }
    // Smaller than what waits: the rest waits in the backplane.
    let (r, seen, told) = reading(&sub, 4);
    r.activate_on(&scheduler);
    end_and_expect(&scheduler, &backplane, (&seen, &told), 20);
}

#[test]
fn a_subscriber_told_to_shut_down_sends_nothing_more() {
    let scheduler = Scheduler::new();
    let _backplane = Backplane::<u64>::new("stop")
        .activate_on(&scheduler)
        .unwrap();
    let sub = ComponentRef::new(SubscribeTo::<u64>::new("stop"));
    let (r, seen, told) = reading(&sub, 64);
    sub.activate_on(&scheduler);
    r.activate_on(&scheduler);
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    let inbox = entry(&scheduler, "stop").inbox::<u64>("inbox").unwrap();
    inbox.deliver(1).unwrap();
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    sub.inbox::<Ipc>("control")
        .unwrap()
        .deliver(ShutdownMicroprocess::new().into())
        .unwrap();
    // Published in the same cycle: the subscriber has left before the
    // splitter takes it.
    inbox.deliver(2).unwrap();
    for _ in 0..20 {
        scheduler.run_cycle();
    }
    assert!(sub.is_finished());
    assert_eq!(*seen.borrow(), [1]);
    assert!(
        told.borrow()[0].is_shutdown_microprocess(),
        "{:?}",
        told.borrow()
    );
    assert_eq!(
        entry(&scheduler, "stop").child_components().len(),
        0,
        "its feeder has gone"
    );
}

/// A sink's `filter_map` is applied as the splitter delivers: the sink gets
/// only what it keeps, converted; what it drops counts as taken, so a sink
/// that drops everything never holds the publisher back, however small its
/// box and the pacing bound, and is never disconnected.
#[test]
fn a_sink_gets_what_its_filter_map_keeps_and_what_it_drops_counts_as_taken() {
    const MESSAGES: u64 = 10_000;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(
        PlugSplitter::<u64>::new()
            .max_backlog_messages(8)
            .stall_grace(Duration::from_millis(1))
            .stall_timeout(Duration::from_millis(1)),
    );
    let tens: Rc<RefCell<Vec<String>>> = Default::default();
    let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let converted = reader(2, tens.clone(), told.clone());
    // Never reads, with room for one: were what it drops sent, or counted
    // as waiting, it would stall and be dropped within a millisecond.
    let dropped_told: Rc<RefCell<Vec<Ipc>>> = Default::default();
    let drops_all = staller(dropped_told.clone());
    drops_all.inbox::<u64>("inbox").unwrap().set_size(Some(1));
    add(
        &splitter,
        Sink::new(&converted)
            .control("control")
            .filter_map(|n: &u64| n.is_multiple_of(10).then(|| format!("#{n}"))),
    );
    add(
        &splitter,
        Sink::new(&drops_all)
            .control("control")
            .filter_map(|_: &u64| None::<u64>),
    );
    let p = publisher(MESSAGES, &splitter);
    for c in [&splitter, &converted, &drops_all, &p] {
        c.activate_on(&scheduler);
    }
    scheduler.run().unwrap();
    let expected: Vec<String> = (0..MESSAGES)
        .filter(|n| n.is_multiple_of(10))
        .map(|n| format!("#{n}"))
        .collect();
    assert_eq!(*tens.borrow(), expected);
    assert!(
        told.borrow()[0].is_producer_finished(),
        "{:?}",
        told.borrow()
    );
    assert!(
        dropped_told.borrow()[0].is_producer_finished(),
        "the sink that drops everything was disconnected: {:?}",
        dropped_told.borrow()
    );
    assert!(drops_all.inbox::<u64>("inbox").unwrap().is_empty());
}

/// A `filter_map` made for another type of message than the splitter's is
/// refused with a logged reason; the other sinks carry on.
#[test]
fn a_sink_whose_filter_map_takes_another_type_is_refused_and_the_others_carry_on() {
    let log = logged(|| {
        let scheduler = Scheduler::new();
        let splitter = ComponentRef::new(PlugSplitter::<u64>::new());
        let seen = Log::default();
        let told: Rc<RefCell<Vec<Ipc>>> = Default::default();
        let good = reader(4, seen.clone(), told.clone());
        let wrong = reader(4, Log::default(), Default::default());
        add(&splitter, Sink::new(&good).control("control"));
        add(
            &splitter,
            Sink::new(&wrong)
                .control("control")
                .filter_map(|text: &String| text.parse::<u64>().ok()),
        );
        let p = publisher(100, &splitter);
        for c in [&splitter, &good, &wrong, &p] {
            c.activate_on(&scheduler);
        }
        for _ in 0..1_000 {
            scheduler.run_cycle();
        }
        assert_eq!(*seen.borrow(), (0..100).collect::<Vec<u64>>());
        assert!(
            splitter.is_finished(),
            "the splitter ended with its one sink"
        );
        assert!(wrong.inbox::<u64>("inbox").unwrap().is_empty());
        assert!(wrong.inbox::<Ipc>("control").unwrap().is_empty());
    });
    assert!(
        log.contains("cannot add the sink") && log.contains("alloc::string::String"),
        "{log}"
    );
}

/// A subscriber of even numbers as text, with a goodbye `on_error`: what
/// its reader has seen and been told once the backplane has published
/// `0..10`, the subscriber's own `inbox` has had 100 and 101, and `end`
/// (given the subscriber's id) has come to its `control`.
fn a_mapped_subscriber_ending_with(
    end: impl FnOnce(ComponentId) -> Ipc,
) -> (Vec<String>, Vec<Ipc>) {
    let scheduler = Scheduler::new();
    let _backplane = Backplane::<u64>::new("mapped")
        .activate_on(&scheduler)
        .unwrap();
    let sub = ComponentRef::new(
        SubscribeTo::<u64>::new("mapped")
            .filter_map(|n: &u64| n.is_multiple_of(2).then(|| format!("even {n}")))
            .on_error(|_: &Ipc| Some("goodbye".to_string())),
    );
    let (r, seen, told) = reading_of::<String>(&sub, 4);
    sub.activate_on(&scheduler);
    r.activate_on(&scheduler);
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    let inbox = entry(&scheduler, "mapped").inbox::<u64>("inbox").unwrap();
    for n in 0..10 {
        inbox.deliver(n).unwrap();
        scheduler.run_cycle();
    }
    sub.inbox::<u64>("inbox").unwrap().deliver(100).unwrap();
    sub.inbox::<u64>("inbox").unwrap().deliver(101).unwrap();
    for _ in 0..20 {
        scheduler.run_cycle();
    }
    sub.inbox::<Ipc>("control")
        .unwrap()
        .deliver(end(sub.id()))
        .unwrap();
    for _ in 0..20 {
        scheduler.run_cycle();
    }
    assert!(sub.is_finished());
    let seen = seen.borrow().clone();
    let told = told.borrow().clone();
    (seen, told)
}

/// A SubscribeTo's `filter_map` reaches its reader as what is published
/// passes, and what comes to its own `inbox` goes through it too; when the
/// component before it fails, its `on_error` is the last thing it sends out,
/// and the error is passed on.
#[test]
fn a_subscriber_sends_out_what_its_filter_map_keeps_then_its_on_error() {
    let (seen, told) = a_mapped_subscriber_ending_with(|sub| {
        ErrorInformation::new(sub, std::io::Error::other("the splitter before")).into()
    });
    assert_eq!(
        seen,
        ["even 0", "even 2", "even 4", "even 6", "even 8", "even 100", "goodbye"]
    );
    assert!(told[0].is_error(), "{told:?}");
}

/// `on_error` is for a failure: a subscriber told to shut down sends out
/// nothing more, its `on_error` included.
#[test]
fn a_subscriber_told_to_shut_down_does_not_send_its_on_error() {
    let (seen, told) = a_mapped_subscriber_ending_with(|_| ShutdownMicroprocess::new().into());
    assert_eq!(
        seen,
        ["even 0", "even 2", "even 4", "even 6", "even 8", "even 100"]
    );
    assert!(told[0].is_shutdown_microprocess(), "{told:?}");
}

/// The lines `0\n` to `999\n`, published to a splitter whose one sink
/// (taking bytes) is made by `sink`: what the sink got, once the end has
/// reached it.
fn bytes_of_lines(sink: impl FnOnce(Sink) -> Sink) -> Vec<bytes::Bytes> {
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<String>::new().inbox_size(256));
    let got: Seen<bytes::Bytes> = Default::default();
    let told: Told = Default::default();
    let text = reader(1_000, got.clone(), told.clone());
    add(&splitter, sink(Sink::new(&text).control("control")));
    let p = line_publisher(1_000, &splitter);
    for c in [&splitter, &text, &p] {
        c.activate_on(&scheduler);
    }
    scheduler.run().unwrap();
    assert!(
        told.borrow()[0].is_producer_finished(),
        "{:?}",
        told.borrow()
    );
    let got = got.borrow().clone();
    assert!(got.iter().all(|b| !b.is_empty()), "an empty message");
    got
}

/// The text of `lines`, and how many messages it came in.
fn text_of(lines: &[bytes::Bytes]) -> (String, usize) {
    let text: Vec<u8> = lines.iter().flatten().copied().collect();
    (String::from_utf8(text).unwrap(), lines.len())
}

/// A sink's `encode` writes each message's bytes into a batch: the sink
/// gets a round's bytes as one message, not one per message, all of them
/// in order, and the end after them.
#[test]
fn an_encoding_sink_gets_a_rounds_bytes_as_one_message() {
    let (text, messages) = text_of(&bytes_of_lines(|sink| {
        sink.encode(|line: &String, out: &mut bytes::BytesMut| {
            if line.len().is_multiple_of(2) {
                out.extend_from_slice(line.as_bytes());
            }
        })
    }));
    let expected: String = lines(1_000)
        .filter(|line| line.len().is_multiple_of(2))
        .collect();
    assert_eq!(text, expected);
    assert!(messages <= 20, "{messages} messages: not gathered");
}

/// An encoding sink whose box is full holds back one batch, and takes
/// nothing more from the log until it has gone; it is woken when its box
/// has room, and gets the end only after the bytes before it: nothing is
/// lost or reordered while it waits.
#[test]
fn an_encoding_sink_that_is_full_loses_nothing_and_gets_the_end_after_its_bytes() {
    const MESSAGES: usize = 100;
    const EACH: usize = 1_000;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<u64>::new().inbox_size(MESSAGES));
    let sink = taken_by_hand(1);
    add(
        &splitter,
        Sink::new(&sink)
            .control("control")
            .encode(|n: &u64, out: &mut bytes::BytesMut| out.extend_from_slice(&[*n as u8; EACH])),
    );
    splitter.activate_on(&scheduler);
    scheduler.run_cycle();
    let input = splitter.inbox::<u64>("inbox").unwrap();
    for n in 0..MESSAGES as u64 {
        input.deliver(n).unwrap();
    }
    finish(&splitter);
    let expected = runs_of(MESSAGES, EACH);
    take_slowly(&scheduler, &sink, &expected);
    assert!(splitter.is_finished());
}

/// A sink of bytes that never runs, its inbox bounded to `room`: the test
/// takes from its boxes.
fn taken_by_hand(room: usize) -> ComponentRef {
    let sink = ComponentRef::new(from_fn(|_cx: Cx<Standard<bytes::Bytes, ()>>| async {}));
    sink.inbox::<bytes::Bytes>("inbox")
        .unwrap()
        .set_size(Some(room));
    sink
}

/// Takes what waits in `sink`'s inbox one message at a time, running the
/// scheduler between, until the end reaches its control box: the bytes must
/// be `expected`, in more than two messages, with the end after them all.
fn take_slowly(scheduler: &Scheduler, sink: &ComponentRef, expected: &[u8]) {
    let inbox = sink.inbox::<bytes::Bytes>("inbox").unwrap();
    let signals = sink.inbox::<Ipc>("control").unwrap();
    let mut got = Vec::new();
    let mut batches = 0;
    while signals.is_empty() {
        for _ in 0..20 {
            scheduler.run_cycle();
        }
        let Some(batch) = inbox.recv() else {
            break;
        };
        assert!(
            signals.is_empty() || got.len() + batch.len() == expected.len(),
            "the end came before the bytes it follows"
        );
        got.extend_from_slice(&batch);
        batches += 1;
    }
    for _ in 0..20 {
        scheduler.run_cycle();
    }
    assert_eq!(got.len(), expected.len(), "bytes lost");
    assert!(got == expected, "bytes reordered");
    assert!(batches > 2, "{batches} batches");
    assert!(signals.recv().is_some_and(|m| m.is_producer_finished()));
}

/// A sink's `encoded_where` takes each kept message's bytes from the
/// journal: in order, in slices of runs of them, not a message each; what
/// its filter drops counts as taken; the end after.
#[test]
fn an_encoded_where_sink_gets_runs_of_kept_messages_as_slices() {
    // Drops one line in a hundred: a run breaks there.
    let (text, messages) = text_of(&bytes_of_lines(|sink| {
        sink.encoded_where(|line: &String| !line.starts_with("99"))
    }));
    let expected: String = lines(1_000)
        .filter(|line| !line.starts_with("99"))
        .collect();
    assert_eq!(text, expected);
    assert!(messages <= 40, "{messages} slices: not runs");
}

/// A sink taking slices of the journal whose box is full holds back one
/// slice and takes nothing more until it has gone; it is woken when its box
/// has room, and gets the end only after the bytes before it. Meanwhile
/// another sink takes everything: the journal keeps the full sink's bytes
/// for it, and nothing is lost or reordered.
#[test]
fn an_encoded_where_sink_that_is_full_loses_nothing_while_another_takes_all() {
    const MESSAGES: usize = 100;
    const EACH: usize = 1_000;
    let scheduler = Scheduler::new();
    let splitter = ComponentRef::new(PlugSplitter::<bytes::Bytes>::new().inbox_size(MESSAGES));
    let sink = taken_by_hand(1);
    add(
        &splitter,
        Sink::new(&sink)
            .control("control")
            .encoded_where(|_: &bytes::Bytes| true),
    );
    let all: Seen<bytes::Bytes> = Default::default();
    let other = reader(MESSAGES, all.clone(), Default::default());
    add(
        &splitter,
        Sink::new(&other)
            .control("control")
            .encoded_where(|_: &bytes::Bytes| true),
    );
    splitter.activate_on(&scheduler);
    other.activate_on(&scheduler);
    scheduler.run_cycle();
    let input = splitter.inbox::<bytes::Bytes>("inbox").unwrap();
    // The journal seals a block at each round of a feeder: one message each
    // for the first half (the splitter takes it, the other sink's feeder
    // seals it), so every run breaks at every message; a few each after.
    for n in 0..MESSAGES {
        input
            .deliver(bytes::Bytes::from(vec![n as u8; EACH]))
            .unwrap();
        if n < MESSAGES / 2 {
            scheduler.run_cycle();
            scheduler.run_cycle();
        } else if n % 7 == 0 {
            scheduler.run_cycle();
        }
    }
    finish(&splitter);
    let expected = runs_of(MESSAGES, EACH);
    take_slowly(&scheduler, &sink, &expected);
    let others: Vec<u8> = all.borrow().iter().flatten().copied().collect();
    assert!(others == expected, "the other sink's bytes");
    assert!(splitter.is_finished());
}

/// A subscriber's `encoded_where`: what the backplane publishes reaches its
/// reader as the kept messages' bytes, and what arrives on its own inbox is
/// encoded and sent out too, if kept.
#[test]
fn an_encoded_where_subscriber_sends_out_the_kept_bytes_of_both_sources() {
    let scheduler = Scheduler::new();
    let backplane = Backplane::<String>::new("lines")
        .activate_on(&scheduler)
        .unwrap();
    let sub = ComponentRef::new(
        SubscribeTo::<String>::new("lines").encoded_where(|line: &String| !line.contains("mine")),
    );
    let (r, seen, told) = reading_of::<bytes::Bytes>(&sub, 64);
    sub.activate_on(&scheduler);
    r.activate_on(&scheduler);
    for _ in 0..5 {
        scheduler.run_cycle();
    }
    let input = entry(&scheduler, "lines").inbox::<String>("inbox").unwrap();
    for line in ["a\n", "mine\n", "b\n"] {
        input.deliver(line.to_string()).unwrap();
    }
    for _ in 0..10 {
        scheduler.run_cycle();
    }
    let own = sub.inbox::<String>("inbox").unwrap();
    own.deliver("c\n".to_string()).unwrap();
    own.deliver("mine too\n".to_string()).unwrap();
    for _ in 0..10 {
        scheduler.run_cycle();
    }
    finish(&backplane);
    scheduler.run().unwrap();
    let got: Vec<u8> = seen.borrow().iter().flatten().copied().collect();
    assert_eq!(String::from_utf8(got).unwrap(), "a\nb\nc\n");
    assert!(
        told.borrow()[0].is_producer_finished(),
        "{:?}",
        told.borrow()
    );
}
