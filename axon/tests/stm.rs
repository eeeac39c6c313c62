//! The behaviours of Axon's STM (`Axon/STM.py` in Kamaelia, Copyright 2010
//! British Broadcasting Corporation and Kamaelia Contributors, Apache License
//! 2.0), ported as tests of `axon::stm`.
//!
//! Axon has no test file for its STM; these follow the demonstrations in
//! `STM.py`'s `__main__` and its module documentation (versions, a refused
//! single-value commit, the accounts transfer whose stale commit writes
//! nothing), plus what its code does (missing keys, `BusyRetry`).
//! Changes: `Value.value` is `value()`, `D[key].set(v)` is `D.set(key, v)`;
//! the plain forms wait for the store's lock where Axon raises `BusyRetry`, and
//! the `try_` forms raise it; `ConcurrentUpdate` names the stale keys.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

use axon::stm::{BusyRetry, Collection, ConcurrentUpdate, Store, TryCommitError, Value};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn store_and_copies_can_cross_threads() {
    assert_send_sync::<Store<String>>();
    assert_send_sync::<Collection<String>>();
    assert_send_sync::<Value<String>>();
    assert_send_sync::<ConcurrentUpdate>();
    assert_send_sync::<TryCommitError>();
}

#[test]
fn a_missing_key_reads_as_version_0_with_no_value() {
    let store: Store<String> = Store::new();
    let greeting = store.usevar("hello");
    assert_eq!(greeting.key(), "hello");
    assert_eq!(greeting.version(), 0);
    assert_eq!(greeting.value(), None);

    let both = store.using(["hello", "world"]);
    assert_eq!(both.keys().collect::<Vec<_>>(), ["hello", "world"]);
    assert_eq!(both.version("world"), 0);
    assert_eq!(both["world"], None);
}

#[test]
fn a_commit_makes_the_version_read_plus_one_in_store_and_copy() {
    let store = Store::new();
    let mut greeting = store.usevar("hello");
    greeting.set("Hello World");
    assert_eq!(
        store.usevar("hello").value(),
        None,
        "set changes only the copy"
    );

    greeting.commit().expect("nobody else wrote hello");
    assert_eq!(greeting.version(), 1);
    let read = store.usevar("hello");
    assert_eq!((read.version(), read.value()), (1, Some(&"Hello World")));

    // The copy carries on from the version it wrote.
    greeting.set("Hello again");
    greeting.commit().expect("still nobody else");
    assert_eq!(greeting.version(), 2);
    assert_eq!(store.usevar("hello").version(), 2);
}

#[test]
fn a_stale_single_value_is_refused_and_the_store_keeps_the_winner() {
    // STM.py's last demonstration: greeting and par both read "hello"; par
    // commits first, so greeting's commit "should fail".
    let store = Store::new();
    let mut greeting = store.usevar("hello");
    greeting.set("Hello World");
    greeting.commit().expect("first commit");

    let mut par = store.usevar("hello");
    par.set("Woo");
    par.commit().expect("par read the latest version");

    greeting.set("Woo");
    let refused = greeting
        .commit()
        .expect_err("greeting read version 1, the store has 2");
    assert_eq!(refused.keys(), ["hello"]);
    assert_eq!(
        greeting.version(),
        1,
        "a refused commit leaves the copy's version"
    );
    let read = store.usevar("hello");
    assert_eq!((read.version(), read.value()), (2, Some(&"Woo")));
}

#[test]
fn a_stale_collection_writes_none_of_its_keys() {
    // STM.py's first demonstration: D sums two accounts into myaccount; E
    // changes account_one and myaccount meanwhile; D's commit must fail and
    // write nothing, not even account_two, which E did not touch.
    let store = Store::new();
    let mut d = store.using(["account_one", "account_two", "myaccount"]);
    d.set("myaccount", 0);
    d.set("account_one", 50);
    d.set("account_two", 100);
    d.commit().expect("commit 1");

    let mut d = store.using(["account_one", "account_two", "myaccount"]);
    let total = d["account_one"].unwrap_or(0) + d["account_two"].unwrap_or(0);
    d.set("myaccount", total);

    let mut e = store.using(["account_one", "myaccount"]);
    e.set("myaccount", e["myaccount"].unwrap_or(0) - 100);
    e.set("account_one", 100);
    e.commit().expect("commit 2");

    d.set("account_one", 0);
    d.set("account_two", 0);
    let refused = d.commit().expect_err("commit 3 should fail");
    assert_eq!(refused.keys(), ["account_one", "myaccount"]);

    let after = store.using(["account_one", "account_two", "myaccount"]);
    assert_eq!(after["account_one"], Some(100));
    assert_eq!(
        after["account_two"],
        Some(100),
        "the fresh key was not written"
    );
    assert_eq!(after["myaccount"], Some(-100));
    assert_eq!(after.version("account_two"), 1);
    assert_eq!(after.version("account_one"), 2);
}

#[test]
fn a_fresh_collection_writes_all_its_keys() {
    let store = Store::new();
    let mut d = store.using(["account_one", "account_two", "myaccount"]);
    d.set("account_one", 50);
    d.set("account_two", 100);
    d.commit().expect("first commit");

    let mut d = store.using(["account_one", "account_two", "myaccount"]);
    let total = d["account_one"].unwrap_or(0) + d["account_two"].unwrap_or(0);
    d["myaccount"] = Some(total);
    d["account_one"] = Some(0);
    d["account_two"] = Some(0);
    d.commit().expect("second commit");

    let after = store.using(["account_one", "account_two", "myaccount"]);
    assert_eq!(
        after.values().map(|v| v.copied()).collect::<Vec<_>>(),
        [Some(0), Some(0), Some(150)]
    );
    // myaccount had no value at the first commit but was written (None) then.
    assert_eq!(
        ["account_one", "account_two", "myaccount"].map(|k| after.version(k)),
        [2, 2, 2]
    );
}

#[test]
fn a_single_value_commit_conflicts_with_a_collection_commit() {
    let store = Store::new();
    let mut forks = store.using(["fork.1", "fork.2"]);
    let mut fork2 = store.usevar("fork.2");
    fork2.set("Socrates");
    fork2.commit().expect("nobody else wrote fork.2");

    forks.set("fork.1", "Plato");
    forks.set("fork.2", "Plato");
    assert_eq!(
        forks.commit().expect_err("fork.2 moved on").keys(),
        ["fork.2"]
    );
    assert_eq!(store.usevar("fork.1").value(), None);
}

#[test]
fn a_committed_collection_can_change_and_commit_again() {
    // What the philosophers do: take both forks in one commit, then release
    // them with a second commit of the same collection.
    let store = Store::new();
    let mut forks = store.using(["fork.1", "fork.2"]);
    forks.set("fork.1", "Plato");
    forks.set("fork.2", "Plato");
    forks.commit().expect("take the forks");
    forks.set("fork.1", None);
    forks.set("fork.2", None);
    forks.commit().expect("release the forks");

    let after = store.using(["fork.1", "fork.2"]);
    assert_eq!((after["fork.1"], after.version("fork.1")), (None, 2));
    assert_eq!((after["fork.2"], after.version("fork.2")), (None, 2));
}

#[test]
fn a_key_named_twice_is_copied_once() {
    let store = Store::new();
    let mut d = store.using(["a", "b", "a"]);
    assert_eq!(d.keys().collect::<Vec<_>>(), ["a", "b"]);
    d.set("a", 1);
    d.commit().expect("commit");
    assert_eq!(store.usevar("a").version(), 1);
}

#[test]
#[should_panic(expected = "\"c\" is not a key of this STM collection")]
fn a_key_outside_the_collection_is_a_programmer_error() {
    let store: Store<u8> = Store::new();
    let d = store.using(["a", "b"]);
    let _ = d["c"];
}

#[test]
fn clones_of_a_store_share_its_values() {
    let store = Store::new();
    let other = store.clone();
    let mut x = other.usevar("x");
    x.set(7);
    x.commit().expect("commit");
    assert_eq!(store.usevar("x").value(), Some(&7));
}

#[test]
fn errors_say_what_went_wrong() {
    let store = Store::new();
    let mut d = store.using(["a", "b"]);
    let mut e = store.using(["a", "b"]);
    e.set("a", 1);
    e.commit().expect("commit");
    d.set("b", 2);
    let refused = d.commit().expect_err("stale");
    assert_eq!(
        refused.to_string(),
        "concurrent update of \"a\", \"b\" since it was read: nothing was committed"
    );
    assert_eq!(
        BusyRetry.to_string(),
        "the store is busy with another thread's read or commit: retry"
    );
    assert_eq!(
        TryCommitError::from(refused.clone()).to_string(),
        refused.to_string()
    );
}

#[test]
fn debug_shows_keys_versions_and_values_like_dump() {
    let store = Store::new();
    let mut d = store.using(["b", "a"]);
    d.set("a", 1);
    d.commit().expect("commit");
    assert_eq!(
        format!("{store:?}"),
        r#"{"a": (1, Some(1)), "b": (1, None)}"#
    );
}

/// A value whose clone can be made to stop half way, holding up whoever is
/// copying it (the store copies values out under its lock), until released.
#[derive(Debug)]
struct Gated {
    gate: Arc<Gate>,
}

#[derive(Debug)]
struct Gate {
    /// The next clone stops.
    armed: AtomicBool,
    /// Told when a clone has stopped.
    stopped: Mutex<mpsc::Sender<()>>,
    /// Waited on by a stopped clone.
    release: Mutex<mpsc::Receiver<()>>,
}

impl Clone for Gated {
    fn clone(&self) -> Self {
        if self.gate.armed.swap(false, Ordering::SeqCst) {
            let _ = self.gate.stopped.lock().expect("gate").send(());
            let _ = self.gate.release.lock().expect("gate").recv();
        }
        Gated {
            gate: Arc::clone(&self.gate),
        }
    }
}

#[test]
fn try_forms_refuse_with_busy_retry_while_another_thread_reads() {
    let (stopped_tx, stopped) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        armed: AtomicBool::new(false),
        stopped: Mutex::new(stopped_tx),
        release: Mutex::new(release_rx),
    });
    let store = Store::new();
    let mut x = store.usevar("x");
    x.set(Gated {
        gate: Arc::clone(&gate),
    });
    x.commit().expect("commit");
    let mut y = store.usevar("y");
    let mut both = store.using(["x", "y"]);

    // Another thread reads x and is held up copying it, inside the store.
    gate.armed.store(true, Ordering::SeqCst);
    let reader = {
        let store = store.clone();
        thread::spawn(move || store.using(["x"]).version("x"))
    };
    stopped
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the reader's clone stopped inside the store");

    assert_eq!(store.try_usevar("x").map(|_| ()), Err(BusyRetry));
    assert_eq!(store.try_using(["y"]).map(|_| ()), Err(BusyRetry));
    assert_eq!(y.try_commit(), Err(TryCommitError::Busy(BusyRetry)));
    assert_eq!(both.try_commit(), Err(TryCommitError::Busy(BusyRetry)));

    // A blocking commit from a third thread waits, then goes through.
    let writer = thread::spawn(move || y.commit().map(|()| y.version()));
    release.send(()).expect("the reader waits for its release");
    assert_eq!(reader.join().expect("reader"), 1);
    assert_eq!(writer.join().expect("writer"), Ok(1));

    // Nothing was written by the refused commits, and the try forms work again.
    assert_eq!(store.try_usevar("x").map(|x| x.version()), Ok(1));
    match both.try_commit() {
        Err(TryCommitError::Concurrent(e)) => assert_eq!(e.keys(), ["y"]),
        other => panic!("the writer moved y on, so {other:?}"),
    }
}

/// A value whose clone panics when armed.
#[derive(Debug)]
struct Fragile {
    panics: Arc<AtomicBool>,
}

impl Clone for Fragile {
    fn clone(&self) -> Self {
        if self.panics.swap(false, Ordering::SeqCst) {
            panic!("fragile clone");
        }
        Fragile {
            panics: Arc::clone(&self.panics),
        }
    }
}

#[test]
fn a_clone_that_panics_inside_the_store_leaves_it_usable() {
    let panics = Arc::new(AtomicBool::new(false));
    let store = Store::new();
    let mut x = store.usevar("x");
    x.set(Fragile {
        panics: Arc::clone(&panics),
    });
    x.commit().expect("commit");

    panics.store(true, Ordering::SeqCst);
    let reader = {
        let store = store.clone();
        thread::spawn(move || store.usevar("x").version())
    };
    assert!(reader.join().is_err(), "the reader's clone panicked");

    let mut x = store.usevar("x");
    assert_eq!(x.version(), 1);
    x.set(None);
    x.commit().expect("the store still commits");
    assert_eq!(store.try_usevar("x").map(|x| x.version()), Ok(2));
}

const THREADS: usize = 4;
const ROUNDS: usize = if cfg!(miri) { 20 } else { 2_000 };

#[test]
fn threads_incrementing_with_retry_loops_lose_no_update() {
    let store: Store<usize> = Store::new();
    let conflicts = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    // Two counters that move together, in one commit.
                    loop {
                        let mut pair = store.using(["a", "b"]);
                        pair["a"] = Some(pair["a"].unwrap_or(0) + 1);
                        pair["b"] = Some(pair["b"].unwrap_or(0) + 1);
                        match pair.commit() {
                            Ok(()) => break,
                            Err(_) => conflicts.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                    // And one alone.
                    loop {
                        let mut n = store.usevar("n");
                        n.set(n.value().copied().unwrap_or(0) + 1);
                        if n.commit().is_ok() {
                            break;
                        }
                    }
                }
            });
        }
    });
    let total = THREADS * ROUNDS;
    let after = store.using(["a", "b", "n"]);
    assert_eq!(after["a"], Some(total));
    assert_eq!(after["b"], Some(total));
    assert_eq!(after["n"], Some(total));
    // One version per successful commit.
    assert_eq!(after.version("a"), total as u64);
    assert_eq!(after.version("n"), total as u64);
}

#[test]
fn threads_using_only_try_forms_lose_no_update() {
    let store: Store<usize> = Store::new();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    'transaction: loop {
                        let mut pair = match store.try_using(["a", "b"]) {
                            Ok(pair) => pair,
                            Err(BusyRetry) => {
                                thread::yield_now();
                                continue;
                            }
                        };
                        pair["a"] = Some(pair["a"].unwrap_or(0) + 1);
                        pair["b"] = Some(pair["b"].unwrap_or(0) + 2);
                        loop {
                            match pair.try_commit() {
                                Ok(()) => break 'transaction,
                                Err(TryCommitError::Busy(_)) => thread::yield_now(),
                                Err(_) => continue 'transaction,
                            }
                        }
                    }
                }
            });
        }
    });
    let after = store.using(["a", "b"]);
    assert_eq!(after["a"], Some(THREADS * ROUNDS));
    assert_eq!(after["b"], Some(2 * THREADS * ROUNDS));
}
