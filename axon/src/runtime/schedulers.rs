//! [`run_schedulers`]: several schedulers, each on a thread of its own, so that
//! one program uses every core.

use std::io;
use std::sync::{Mutex, PoisonError};
use std::thread;

use crate::runtime::remote::Remote;
use crate::runtime::scheduler::Scheduler;

/// Runs one scheduler per item of `each`, each on a thread of its own, and
/// returns when all of them have ended.
///
/// On each scheduler's thread, `setup` is called with that scheduler's item
/// while [`Scheduler::current`] is that scheduler: it makes and activates the
/// components that live there (a server with its own listening socket, say),
/// and then the scheduler runs them until none is left. The first item's
/// scheduler runs on the calling thread, so with one item this is exactly
/// `setup(item)` followed by `Scheduler::current().run()`.
///
/// Components never move between schedulers: each is made on its scheduler's
/// thread and stays there, so a component's own state needs no locks. What
/// must cross (a message published on one scheduler for the subscribers of
/// all) goes through a thread-safe queue, such as a [`RemoteSender`] or
/// kamaelia's spanning `Backplane`.
///
/// Why items rather than a count: an item is how a scheduler gets what is its
/// own (its listening socket, its index), moved to its thread without a
/// lock.
///
/// # Errors
///
/// The first error a `setup` returns, or an I/O error of a scheduler's wait.
/// When one `setup` fails, the schedulers already running are stopped (as by
/// [`Remote::stop`]), and those not started yet are not started.
///
/// # Panics
///
/// A panic in `setup` on another thread is passed on to the caller once the
/// other schedulers have been stopped.
///
/// [`RemoteSender`]: crate::RemoteSender
///
/// # Examples
///
/// ```
/// use axon::{from_fn, ComponentRef, Cx, Standard};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let ran = Arc::new(AtomicUsize::new(0));
/// axon::run_schedulers(0..4, |index: usize| {
///     let ran = ran.clone();
///     // Made on, and running on, scheduler `index`'s thread.
///     ComponentRef::new(from_fn(move |_cx: Cx<Standard<(), ()>>| async move {
///         ran.fetch_add(index + 1, Ordering::Relaxed);
///     }))
///     .activate();
///     Ok(())
/// })?;
/// assert_eq!(ran.load(Ordering::Relaxed), 1 + 2 + 3 + 4);
/// # std::io::Result::Ok(())
/// ```
pub fn run_schedulers<T, F>(each: impl IntoIterator<Item = T>, setup: F) -> io::Result<()>
where
    T: Send,
    F: Fn(T) -> io::Result<()> + Sync,
{
    let mut items = each.into_iter();
    let Some(first) = items.next() else {
        return Ok(());
    };
    let group = Group {
        remotes: Mutex::new(Vec::new()),
        failed: Mutex::new(None),
    };
    thread::scope(|scope| {
        let others: Vec<_> = items
            .enumerate()
            .map(|(n, item)| {
                let (group, setup) = (&group, &setup);
                thread::Builder::new()
                    .name(format!("axon-scheduler-{}", n + 1))
                    .spawn_scoped(scope, move || group.run_one(item, setup))
            })
            .collect();
        // A thread that could not even start is a failure like any other.
        let mut spawn_error = None;
        for spawned in &others {
            if let Err(e) = spawned {
                spawn_error.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
            }
        }
        if let Some(e) = spawn_error {
            group.fail(e);
        }
        group.run_one(first, &setup);
        for handle in others.into_iter().flatten() {
            if let Err(panic) = handle.join() {
                group.stop_all();
                std::panic::resume_unwind(panic);
            }
        }
    });
    match group
        .failed
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What the schedulers of one [`run_schedulers`] share.
struct Group {
    /// How to stop each scheduler that has started.
    remotes: Mutex<Vec<Remote>>,
    /// The first failure; once set, no scheduler starts and all are stopped.
    failed: Mutex<Option<io::Error>>,
}

impl Group {
    fn run_one<T>(&self, item: T, setup: &(impl Fn(T) -> io::Result<()> + Sync)) {
        let scheduler = Scheduler::current();
        self.remotes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(scheduler.remote());
        if self.has_failed() {
            return;
        }
        if let Err(e) = setup(item) {
            self.fail(e);
            return;
        }
        // A failure elsewhere after the check above has stopped this
        // scheduler through its remote, so `run` returns at once.
        if let Err(e) = scheduler.run() {
            self.fail(e);
        }
    }

    fn has_failed(&self) -> bool {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn fail(&self, e: io::Error) {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(e);
        self.stop_all();
    }

    fn stop_all(&self) {
        for remote in self
            .remotes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            remote.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::{from_fn, ComponentRef, Cx, Standard};

    /// A component that runs until its scheduler is stopped.
    fn forever() -> ComponentRef {
        ComponentRef::new(from_fn(|cx: Cx<Standard<(), ()>>| async move {
            loop {
                cx.idle().await;
            }
        }))
    }

    #[test]
    fn each_item_gets_a_scheduler_of_its_own_on_its_own_thread() {
        let threads = Mutex::new(Vec::new());
        run_schedulers(0..3, |n: usize| {
            threads.lock().unwrap().push((
                n,
                thread::current().id(),
                Scheduler::current().remote(),
            ));
            Ok(())
        })
        .unwrap();
        let mut threads = threads.into_inner().unwrap();
        threads.sort_by_key(|(n, _, _)| *n);
        assert_eq!(threads.len(), 3);
        assert_eq!(threads[0].1, thread::current().id(), "the first runs here");
        assert_ne!(threads[1].1, threads[2].1);
        assert_ne!(threads[0].1, threads[1].1);
    }

    #[test]
    fn no_items_runs_nothing() {
        run_schedulers(std::iter::empty::<()>(), |_| panic!("no setup")).unwrap();
    }

    #[test]
    fn a_failed_setup_stops_the_schedulers_already_running() {
        // Run on a thread of its own, so that schedulers left running (the
        // bug) fail the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let started = Arc::new(AtomicUsize::new(0));
            let result = run_schedulers(0..4, |n: usize| {
                if n == 2 {
                    // Fail only once the others are up and running forever.
                    while started.load(Ordering::SeqCst) < 3 {
                        thread::yield_now();
                    }
                    return Err(io::Error::other("cannot listen"));
                }
                forever().activate();
                started.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
            let _ = tx.send(result);
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the running schedulers were stopped");
        let e = result.expect_err("the setup's error");
        assert_eq!(e.to_string(), "cannot listen");
    }
}
