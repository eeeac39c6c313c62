//! A Backplane spanning several schedulers (one per core): what is published
//! on any reaches the subscribers of all, each publisher's messages in order,
//! none lost, none duplicated, however small the queues between schedulers;
//! and the chat server on two schedulers, with clients on both.

mod util;

#[path = "../examples/support/chat.rs"]
#[allow(dead_code)]
mod chat;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axon::ipc::{Ipc, ProducerFinished};
use axon::{from_fn, ComponentRef, Cx, Scheduler, Standard};
use bytes::Bytes;
use kamaelia::util::{Backplane, BackplaneSpan, PublishTo, SubscribeTo};
use kamaelia::ServerCore;
use util::{join_chat, Client, Example, InProcessServer, LOG_CONNECTIONS};

/// What each scheduler's subscriber received.
type Received = Arc<Mutex<Vec<Vec<u64>>>>;

/// Publisher `from`'s message number `n`, as one number.
fn message(from: usize, n: u64) -> u64 {
    ((from as u64) << 32) | n
}

/// Runs `members` schedulers, each with a spanning backplane, a publisher of
/// `count` messages and a subscriber; returns what each subscriber received.
fn run_span(members: usize, count: u64, queue: usize) -> Vec<Vec<u64>> {
    let span = BackplaneSpan::<u64>::with_queue(members, queue);
    let received: Received = Arc::new(Mutex::new(vec![Vec::new(); members]));
    let expected = members as u64 * count;
    axon::run_schedulers(0..members, |me| {
        let backplane = Backplane::new("numbers")
            .spanning(&span)
            .map_err(std::io::Error::other)?
            .activate()
            .map_err(std::io::Error::other)?;
        // Subscribed before anything is published anywhere: made with the
        // backplane, before this scheduler runs.
        let subscriber = ComponentRef::new(SubscribeTo::<u64>::new("numbers"));
        let publisher = ComponentRef::new(PublishTo::<u64>::new("numbers"));
        let source = ComponentRef::new(from_fn(move |cx: Cx<Standard<(), u64>>| async move {
            for n in 0..count {
                cx.outbox.send(message(me, n)).await;
            }
        }));
        source
            .link((&source, "outbox"), (&publisher, "inbox"))
            .map_err(std::io::Error::other)?;
        // Once this scheduler's subscriber has everything, its backplane (and
        // with it the subscriber and the span's ends) and its publisher can go.
        let ends = [&backplane, &publisher].map(|c| c.inbox::<Ipc>("control").unwrap());
        let received = received.clone();
        let collector = ComponentRef::new(from_fn(move |cx: Cx<Standard<u64, ()>>| async move {
            let mut got = Vec::new();
            while (got.len() as u64) < expected {
                got.push(cx.inbox.next().await);
            }
            received.lock().unwrap()[me] = got;
            for end in &ends {
                let _ = end.deliver(ProducerFinished::new().into());
            }
        }));
        subscriber
            .link((&subscriber, "outbox"), (&collector, "inbox"))
            .map_err(std::io::Error::other)?;
        for c in [&subscriber, &collector, &publisher, &source] {
            c.activate_on(&Scheduler::current());
        }
        Ok(())
    })
    .expect("the schedulers ran");
    Arc::try_unwrap(received).unwrap().into_inner().unwrap()
}

/// Checks that `got` holds every publisher's `count` messages, each
/// publisher's in order, none twice.
fn assert_complete(got: &[u64], members: usize, count: u64, who: usize) {
    let mut next: HashMap<usize, u64> = HashMap::new();
    for &m in got {
        let (from, n) = ((m >> 32) as usize, m & 0xffff_ffff);
        let expected = next.entry(from).or_insert(0);
        assert_eq!(
            n, *expected,
            "scheduler {who}: publisher {from}'s messages out of order or repeated"
        );
        *expected += 1;
    }
    for from in 0..members {
        assert_eq!(
            next.get(&from).copied().unwrap_or(0),
            count,
            "scheduler {who}: messages from publisher {from}"
        );
    }
    assert_eq!(got.len() as u64, members as u64 * count);
}

#[test]
fn every_message_reaches_every_scheduler_in_order() {
    let (members, count) = (2, 20_000);
    for (who, got) in run_span(members, count, 1024).iter().enumerate() {
        assert_complete(got, members, count, who);
    }
}

/// A span of one member adds nothing to its backplane (no hop on the way
/// of each message), and the backplane works as any other.
#[test]
fn a_span_of_one_is_a_plain_backplane() {
    let count = 20_000;
    let got = run_span(1, count, 1024);
    assert_complete(&got[0], 1, count, 0);
}

#[test]
fn a_full_queue_between_schedulers_holds_back_and_loses_nothing() {
    // Four schedulers on two cores, queues of four messages: the publishers
    // are held back by full queues all the time.
    let (members, count) = (4, 10_000);
    for (who, got) in run_span(members, count, 4).iter().enumerate() {
        assert_complete(got, members, count, who);
    }
}

/// This scheduler's "numbers" backplane, joined to `span`.
fn numbers_backplane(span: &BackplaneSpan<u64>) -> ComponentRef {
    Backplane::<u64>::new("numbers")
        .spanning(span)
        .expect("a place in the span")
        .activate()
        .expect("the backplane")
}

/// A backplane ended right after its publisher published still hands those
/// messages to the other schedulers, though they wait for room in a full
/// queue: here the other scheduler only starts once the first has been told
/// to end.
#[test]
fn messages_published_before_a_backplane_ends_still_reach_the_others() {
    const COUNT: u64 = 5;
    let span = BackplaneSpan::<u64>::with_queue(2, 1);
    let (ended, ended_rx) = std::sync::mpsc::channel();
    let first = {
        let span = span.clone();
        std::thread::spawn(move || {
            let backplane = numbers_backplane(&span);
            let publisher = ComponentRef::new(PublishTo::<u64>::new("numbers"));
            let ends = [&backplane, &publisher].map(|c| c.inbox::<Ipc>("control").unwrap());
            let source = ComponentRef::new(from_fn(move |cx: Cx<Standard<(), u64>>| async move {
                for n in 0..COUNT {
                    cx.outbox.send(n).await;
                }
                // Published, though the other scheduler cannot take them yet:
                // its queue holds one, and it is not running.
                for end in &ends {
                    let _ = end.deliver(ProducerFinished::new().into());
                }
                let _ = ended.send(());
            }));
            source
                .link((&source, "outbox"), (&publisher, "inbox"))
                .unwrap();
            for c in [&publisher, &source] {
                c.activate_on(&Scheduler::current());
            }
            Scheduler::current().run().expect("the first scheduler ran");
        })
    };
    ended_rx
        .recv()
        .expect("the first backplane was told to end");
    let (got_tx, got_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let backplane = numbers_backplane(&span);
        let subscriber = ComponentRef::new(SubscribeTo::<u64>::new("numbers"));
        let end = backplane.inbox::<Ipc>("control").unwrap();
        let collector = ComponentRef::new(from_fn(move |cx: Cx<Standard<u64, ()>>| async move {
            for _ in 0..COUNT {
                let _ = got_tx.send(cx.inbox.next().await);
            }
            let _ = end.deliver(ProducerFinished::new().into());
        }));
        subscriber
            .link((&subscriber, "outbox"), (&collector, "inbox"))
            .unwrap();
        for c in [&subscriber, &collector] {
            c.activate_on(&Scheduler::current());
        }
        Scheduler::current()
            .run()
            .expect("the second scheduler ran");
    });
    // Waiting with a limit only turns a loss (which would hang) into a failure.
    let got: Vec<u64> = (0..COUNT)
        .map(|n| {
            got_rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("message {n} never reached the other scheduler"))
        })
        .collect();
    assert_eq!(got, (0..COUNT).collect::<Vec<_>>());
    first.join().expect("the first scheduler's thread");
}

#[test]
fn a_span_refuses_more_backplanes_than_it_was_made_for() {
    let span = BackplaneSpan::<u32>::new(1);
    let scheduler = Scheduler::new();
    Backplane::<u32>::new("a")
        .spanning(&span)
        .expect("the first")
        .activate_on(&scheduler)
        .expect("registered");
    let err = Backplane::<u32>::new("b")
        .spanning(&span)
        .expect_err("full");
    assert_eq!(err.members, 1);
}

/// Two chat servers, each on a scheduler (thread) of its own with its own
/// port, their backplanes joined by one span: so which scheduler each client
/// is on is known, not left to the kernel.
#[test]
fn chat_clients_on_different_schedulers_hear_each_other() {
    let span = BackplaneSpan::<Bytes>::new(2);
    let start = |span: BackplaneSpan<Bytes>| {
        InProcessServer::start(move || {
            Backplane::<Bytes>::new(chat::CHAT)
                .spanning(&span)
                .expect("a place in the span")
                .activate()
                .expect("the backplane");
            ServerCore::new(chat::protocol)
        })
    };
    let (one, two) = (start(span.clone()), start(span));
    let joining = [
        (one.addr, "a (scheduler 1)"),
        (two.addr, "b (scheduler 2)"),
        (two.addr, "c (scheduler 2)"),
    ];
    // This chat sends a client's lines back to it too, prefixed with who
    // said it. A client that hears its own line is subscribed; each joins
    // and says hello in turn, heard by itself and by those before it.
    let said = |client: &Client, line: &str| format!("{} says {line}", client.local_addr());
    let mut clients: Vec<Client> = Vec::new();
    for (n, (addr, name)) in joining.into_iter().enumerate() {
        clients.push(Client::named(addr, name));
        let hello = said(&clients[n], "hello\n");
        clients[n].send(b"hello\n");
        for earlier in &mut clients[..=n] {
            earlier.expect_line(hello.as_bytes());
        }
    }
    // Now every line reaches everyone, across the schedulers both ways.
    for (n, sender) in [0usize, 1, 2, 0].into_iter().enumerate() {
        let line = format!("line {n}\n");
        let heard = said(&clients[sender], &line);
        clients[sender].send(line.as_bytes());
        for client in &mut clients {
            client.expect_line(heard.as_bytes());
        }
    }
    drop(clients);
    for server in [&one, &two] {
        server.shutdown();
        server.expect_finished_signal();
    }
}

/// The chat server itself, `simple_server --schedulers 2`: the kernel spreads
/// the clients over the two schedulers' listening sockets, and every line
/// still reaches every other client.
#[test]
fn the_chat_server_on_two_schedulers_delivers_every_line_to_every_other_client() {
    const CLIENTS: usize = 16;
    let server = Example::server_with("simple_server", &["--schedulers", "2"], LOG_CONNECTIONS);
    let mut clients = join_chat(&server, CLIENTS);
    // Every client sends a burst; every other client gets all of them, each
    // sender's in order, and never its own.
    const LINES: usize = 50;
    for (n, client) in clients.iter_mut().enumerate() {
        let burst: String = (0..LINES).map(|i| format!("{n}:{i}\n")).collect();
        client.send(burst.as_bytes());
    }
    for (me, client) in clients.iter_mut().enumerate() {
        let mut next = [0usize; CLIENTS];
        for _ in 0..(CLIENTS - 1) * LINES {
            let line = String::from_utf8(client.read_line()).expect("text");
            let (from, i) = line.trim_end().split_once(':').expect("n:i");
            let (from, i): (usize, usize) = (from.parse().unwrap(), i.parse().unwrap());
            assert_ne!(from, me, "client {me} got its own line back");
            assert_eq!(i, next[from], "client {me}: client {from}'s lines in order");
            next[from] += 1;
        }
    }
}
