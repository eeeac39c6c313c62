//! Plain code driving components on a background scheduler: `Background`
//! and `Handle`, Axon's `background` and `Handle`.

mod util;

use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::Duration;

use axon::ipc::ProducerFinished;
use axon::{Background, Component, Cx, Scheduler, Standard, DEFAULT_HANDLE_CAPACITY};
use util::HANG_GUARD;

/// Doubles what it receives until its input ends, then says so on `signal`.
struct Doubler;

impl Component for Doubler {
    type Boxes = Standard<u64, u64>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(n) = cx.recv_until_finished().await {
            cx.outbox.send(n * 2).await;
        }
        cx.signal.send(ProducerFinished::from(cx.id()).into()).await;
    }
}

/// Never ends by itself.
struct Forever;

impl Component for Forever {
    type Boxes = Standard<(), ()>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        loop {
            cx.idle().await;
        }
    }
}

#[test]
fn many_more_messages_than_the_handle_holds_arrive_in_order_and_none_is_lost() {
    let background = Background::start().unwrap();
    let doubler = background.handle(|| Doubler);
    let n = 10 * DEFAULT_HANDLE_CAPACITY as u64;
    for i in 0..n {
        doubler.put(i);
    }
    // Nothing is read until everything has been put: the channel fills, the
    // forwarder sleeps, and each `get` that makes room wakes it.
    for i in 0..n {
        assert_eq!(doubler.get_timeout(HANG_GUARD), Ok(2 * i));
    }
    doubler.finish();
    assert_eq!(
        doubler.get_timeout(HANG_GUARD),
        Err(RecvTimeoutError::Disconnected)
    );
    assert!(doubler
        .try_get_signal()
        .is_ok_and(|s| s.is_producer_finished()));
    assert_eq!(doubler.try_get(), Err(TryRecvError::Disconnected));
    background.join_timeout(HANG_GUARD).unwrap();
}

#[test]
fn several_threads_can_put_through_one_handles_senders() {
    let background = Background::start().unwrap();
    let doubler = background.handle(|| Doubler);
    let putters: Vec<_> = (0..4u64)
        .map(|t| {
            let sender = doubler.sender();
            thread::spawn(move || {
                for i in 0..1000 {
                    sender.send(t * 1000 + i);
                }
            })
        })
        .collect();
    for putter in putters {
        putter.join().unwrap();
    }
    let mut got: Vec<u64> = (0..4000)
        .map(|_| doubler.get_timeout(HANG_GUARD).unwrap())
        .collect();
    got.sort_unstable();
    let expected: Vec<u64> = (0..4000).map(|i| 2 * i).collect();
    assert_eq!(got, expected, "every message once");
    doubler.finish();
    assert_eq!(
        doubler.get_timeout(HANG_GUARD),
        Err(RecvTimeoutError::Disconnected)
    );
    drop(doubler);
    background.join_timeout(HANG_GUARD).unwrap();
}

#[test]
fn run_on_runs_on_the_background_schedulers_thread() {
    let background = Background::start().unwrap();
    let (name, running) = background.run_on(|| {
        (
            thread::current().name().map(str::to_string),
            Scheduler::current().len(),
        )
    });
    assert_eq!(name.as_deref(), Some("axon-background"));
    assert_eq!(running, 1, "only the background's own component");
    background.join_timeout(HANG_GUARD).unwrap();
}

#[test]
fn try_get_does_not_wait_and_get_timeout_gives_up() {
    let background = Background::start().unwrap();
    let doubler = background.handle(|| Doubler);
    assert_eq!(doubler.try_get(), Err(TryRecvError::Empty));
    assert_eq!(
        doubler.get_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    doubler.finish();
    background.join_timeout(HANG_GUARD).unwrap();
}

#[test]
fn dropping_the_background_stops_components_that_never_end() {
    let background = Background::start().unwrap();
    let forever = background.handle(|| Forever);
    forever.put(());
    drop(background);
    // The scheduler and its components are gone: the handle sees the end.
    assert_eq!(
        forever.get_timeout(HANG_GUARD),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn a_dropped_handle_does_not_keep_the_background_from_finishing() {
    let background = Background::start().unwrap();
    let doubler = background.handle(|| Doubler);
    for i in 0..(3 * DEFAULT_HANDLE_CAPACITY as u64) {
        doubler.put(i);
    }
    doubler.finish();
    // Nobody reads: the forwarder stops when the handle goes, and the
    // doubler's remaining output is dropped as from any unlinked outbox.
    drop(doubler);
    background.join_timeout(HANG_GUARD).unwrap();
}
