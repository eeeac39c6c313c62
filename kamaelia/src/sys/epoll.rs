//! [`Poller`] on Linux: `epoll` itself (through `rustix`), one system call
//! per wait, and the news that the peer has closed its side.
//!
//! `polling`'s epoll backend (the portable poller, `poller.rs`) costs five
//! system calls per wait: it arms a timerfd for the timeout (`timerfd_settime`,
//! then `epoll_ctl` to watch it), waits (`epoll_wait`), reads its notifier and
//! re-arms it (`read`, `epoll_ctl`: the notifier is one-shot). A server's scheduler waits once per cycle with nothing to run,
//! so that is four calls too many on every hop through the Selector. And it
//! never asks for `EPOLLRDHUP`, so a reader cannot tell that the FIN came with
//! the data: it reads once more, a poll cycle later, only to find the 0.
//!
//! Here a wait is one `epoll_wait`:
//!
//! * The timeout is given to `epoll_wait` itself, in whole milliseconds
//!   rounded up: a timer is never woken early, at worst under a millisecond
//!   late (the scheduler's timers promise "not before").
//! * The notifier is an eventfd, watched level-triggered like everything else:
//!   no re-arming. It is read (cleared) only in the waits that report it, and
//!   [`Notifier::notify`] writes to it only if no wake-up is pending already.
//! * Read interest is `EPOLLIN | EPOLLRDHUP`, and each event says whether the
//!   peer had closed its side (`peer_closed`).

use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};
use rustix::io::Errno;

/// How many events one wait takes at most. Readiness is level-triggered, so
/// what does not fit is reported by the next wait.
const EVENTS: usize = 1024;

/// The key the notifier's eventfd is registered under. No registration can
/// have it: the Selector's keys are slab slots, and [`Poller::add`] refuses it.
const NOTIFY_KEY: u64 = u64::MAX;

/// The longest wait asked of `epoll_wait`, in milliseconds (24.8 days): what
/// fits its `int` timeout. A longer one is cut to this, and the wait returns
/// early, which a wait may do. (Longer timeouts would need `epoll_pwait2`,
/// which kernels before 5.11 do not have.)
const MAX_WAIT_MS: u128 = i32::MAX as u128;

/// Readiness notification for registered sockets.
///
/// # Invariant
///
/// Every source registered with [`add`](Self::add) stays open until it has
/// been [`delete`](Self::delete)d: the caller (the Selector) keeps a strong
/// reference to each registered source until it deletes it, and deletes every
/// source before dropping the poller.
///
/// `rustix`'s epoll calls are safe (they borrow the descriptor only for the
/// call), so breaking this is no longer undefined behaviour, but it is still a
/// bug: epoll watches the open socket, not the number, and the number of a
/// socket closed while registered is soon another socket's. `modify` and
/// `delete` would then act on that other socket (or fail), and events of the
/// old socket, if it lived on elsewhere, would still come under a key the
/// Selector may have given to another registration.
pub(crate) struct Poller {
    epoll: OwnedFd,
    wake: Arc<Wake>,
    /// Filled by each wait; allocated once.
    events: Vec<epoll::Event>,
}

/// Level-triggered (no `EPOLLET`): a socket is reported for as long as it is
/// ready, so a reader may stop after a short read (a FIN that came with the
/// data is still reported), and the Selector mutes a socket whose owner is not
/// taking notices, instead of the poller forgetting it.
fn interest(readable: bool, writable: bool) -> EventFlags {
    let mut flags = EventFlags::empty();
    if readable {
        // RDHUP: the peer's FIN is reported as such, not only as readable.
        flags |= EventFlags::IN | EventFlags::RDHUP;
    }
    if writable {
        flags |= EventFlags::OUT;
    }
    flags
}

impl Poller {
    pub(crate) fn new() -> io::Result<Self> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = Arc::new(Wake {
            fd: eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?,
            pending: AtomicBool::new(false),
        });
        epoll::add(
            &epoll,
            &wake.fd,
            EventData::new_u64(NOTIFY_KEY),
            EventFlags::IN,
        )?;
        Ok(Poller {
            epoll,
            wake,
            events: Vec::with_capacity(EVENTS),
        })
    }

    /// Watches `source` for the given readiness, reporting it under `key`.
    ///
    /// Safe here (the portable poller's `add` is the crate's `unsafe` call),
    /// but this type's `# Invariant` holds all the same.
    pub(crate) fn add(
        &self,
        source: &dyn AsFd,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        let flags = interest(readable, writable);
        epoll::add(&self.epoll, source.as_fd(), event_data(key)?, flags)?;
        Ok(())
    }

    /// Changes what `source` is watched for.
    pub(crate) fn modify(
        &self,
        source: &dyn AsFd,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        let flags = interest(readable, writable);
        epoll::modify(&self.epoll, source.as_fd(), event_data(key)?, flags)?;
        Ok(())
    }

    /// Stops watching `source`.
    pub(crate) fn delete(&self, source: &dyn AsFd) -> io::Result<()> {
        epoll::delete(&self.epoll, source.as_fd())?;
        Ok(())
    }

    /// Waits for readiness (at most `timeout`, rounded up to a whole
    /// millisecond; `None` waits until something happens or
    /// [`Notifier::notify`] is called) and calls `ready` for each event with
    /// its key, whether it is readable and writable, and whether the peer had
    /// closed its side (so that nothing will follow what is there to read).
    ///
    /// May return early with nothing reported (a signal, say), as a park may.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        mut ready: impl FnMut(usize, bool, bool, bool),
    ) -> io::Result<()> {
        let timeout = timeout.map(whole_millis);
        self.events.clear();
        match epoll::wait(
            &self.epoll,
            spare_capacity(&mut self.events),
            timeout.as_ref(),
        ) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        for event in &self.events {
            // Copied out: the kernel's struct is packed on x86-64.
            let epoll::Event { flags, data, .. } = *event;
            if data.u64() == NOTIFY_KEY {
                self.wake.clear();
                continue;
            }
            // An error or hang-up is reported as both: the owner's next read or
            // write finds out what happened.
            let broken = flags.intersects(EventFlags::ERR | EventFlags::HUP);
            let readable = broken || flags.intersects(EventFlags::IN | EventFlags::RDHUP);
            let writable = broken || flags.contains(EventFlags::OUT);
            // The FIN (RDHUP), or both directions shut (HUP). Not with an
            // error: a reset is for the reader's next read to report, which
            // taking a short read for the end of the input would hide.
            let peer_closed = flags.intersects(EventFlags::RDHUP | EventFlags::HUP)
                && !flags.contains(EventFlags::ERR);
            ready(data.u64() as usize, readable, writable, peer_closed);
        }
        Ok(())
    }

    /// The epoll descriptor, for a ring to watch.
    #[cfg(uring)]
    pub(crate) fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.epoll.as_fd()
    }

    /// A handle that wakes a waiting [`wait`](Self::wait) from any thread.
    pub(crate) fn notifier(&self) -> Notifier {
        Notifier(self.wake.clone())
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("epoll", &self.epoll)
            .field("wake", &self.wake.fd)
            .finish()
    }
}

/// A registration's key as epoll's user data; the notifier's is refused.
fn event_data(key: usize) -> io::Result<EventData> {
    let key = key as u64;
    if key == NOTIFY_KEY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the poller's key for its notifier",
        ));
    }
    Ok(EventData::new_u64(key))
}

/// `timeout` as `epoll_wait` takes it: whole milliseconds, rounded up so that
/// the wait is never shorter than asked (1.5 ms waits 2), and at most
/// [`MAX_WAIT_MS`].
fn whole_millis(timeout: Duration) -> Timespec {
    let ms = timeout.as_nanos().div_ceil(1_000_000).min(MAX_WAIT_MS) as i64;
    Timespec {
        tv_sec: ms / 1000,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    }
}

/// The notifier's eventfd, and whether a wake-up is pending on it.
struct Wake {
    fd: OwnedFd,
    /// Set by the notify that writes to the eventfd, cleared by the wait that
    /// reads it: the notifies in between write nothing.
    pending: AtomicBool,
}

impl Wake {
    fn notify(&self) {
        // Release: what the notifier did before (queue a message, say) is seen
        // by the wait that clears this. A notify that finds it set leaves the
        // write to the one that set it.
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Err(e) = rustix::io::write(&self.fd, &1u64.to_ne_bytes()) {
            tracing::error!(target: "kamaelia::selector", error = %e, "could not wake the poller");
        }
    }

    /// The wait saw the eventfd readable: empty it, then allow the next write.
    ///
    /// In this order. Cleared first, a notify between the two would write,
    /// have its write read away here, and leave `pending` set with the eventfd
    /// empty: no notify would ever write again. This way a notify between the
    /// two writes nothing, but this wait has not returned yet, and (Acquire)
    /// sees what that notifier did before.
    fn clear(&self) {
        let mut count = [0; 8];
        // Fails only with EAGAIN (already empty): nothing to clear.
        let _ = rustix::io::read(&self.fd, &mut count);
        self.pending.swap(false, Ordering::AcqRel);
    }
}

/// Wakes a [`Poller`] from any thread.
#[derive(Clone)]
pub(crate) struct Notifier(Arc<Wake>);

impl Notifier {
    pub(crate) fn notify(&self) {
        self.0.notify();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::unix::net::UnixStream;
    use std::thread;
    use std::time::Instant;

    use super::*;

    /// What one wait reported, as (key, readable, writable, peer_closed).
    fn wait(poller: &mut Poller, timeout: Option<Duration>) -> Vec<(usize, bool, bool, bool)> {
        let mut got = Vec::new();
        poller
            .wait(timeout, |k, r, w, c| got.push((k, r, w, c)))
            .expect("wait");
        got
    }

    /// A connected pair on loopback: (ours, non-blocking; the peer).
    fn tcp_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("bound")).expect("connect");
        let (ours, _) = listener.accept().expect("accept");
        ours.set_nonblocking(true).expect("non-blocking");
        (ours, peer)
    }

    #[test]
    fn a_socket_with_data_is_readable_for_as_long_as_the_data_is_there() {
        let mut poller = Poller::new().expect("poller");
        let (ours, mut peer) = UnixStream::pair().expect("pair");
        poller.add(&ours, 7, true, false).expect("add");
        assert_eq!(wait(&mut poller, Some(Duration::ZERO)), []);

        peer.write_all(b"x").expect("write");
        assert_eq!(wait(&mut poller, None), [(7, true, false, false)]);
        // Level-triggered: still there, still reported.
        assert_eq!(
            wait(&mut poller, Some(Duration::ZERO)),
            [(7, true, false, false)]
        );
        (&ours).read_exact(&mut [0]).expect("read");
        assert_eq!(wait(&mut poller, Some(Duration::ZERO)), []);
        poller.delete(&ours).expect("delete");
    }

    #[test]
    fn a_socket_with_room_is_writable_and_modify_changes_the_interest() {
        let mut poller = Poller::new().expect("poller");
        let (ours, _peer) = tcp_pair();
        poller.add(&ours, 3, false, true).expect("add");
        assert_eq!(wait(&mut poller, None), [(3, false, true, false)]);
        poller.modify(&ours, 3, true, false).expect("modify");
        assert_eq!(wait(&mut poller, Some(Duration::ZERO)), []);
        poller.delete(&ours).expect("delete");
    }

    /// The id of this process's thread named `name`, from `/proc`.
    fn thread_id(name: &str) -> Option<String> {
        std::fs::read_dir("/proc/self/task")
            .ok()?
            .filter_map(Result::ok)
            .find(|task| {
                std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == name)
            })
            .map(|task| task.file_name().to_string_lossy().into_owned())
    }

    /// Whether thread `tid` of this process is asleep (in a system call).
    fn asleep(tid: &str) -> bool {
        let stat =
            std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
        // "tid (comm) S ...": the state follows the command's closing parenthesis.
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('S'))
    }

    #[test]
    fn notify_wakes_a_wait_under_way_on_another_thread() {
        const NAME: &str = "epoll-waiter";
        let (notifier_tx, notifier) = std::sync::mpsc::channel();
        // The poller is made on the waiting thread: its event buffer (of
        // rustix's events, which may hold pointers) keeps it on one thread.
        let waiter = thread::Builder::new()
            .name(NAME.into())
            .spawn(move || {
                let mut poller = Poller::new().expect("poller");
                notifier_tx.send(poller.notifier()).expect("send");
                // Nothing is registered: only the notifier can end this wait.
                let got = wait(&mut poller, None);
                let pending = poller.wake.pending.load(Ordering::Acquire);
                (got, pending)
            })
            .expect("spawn");
        let notifier = notifier.recv().expect("the waiter's notifier");
        // Until the waiter sleeps, which after sending is in `epoll_wait`.
        // (Were /proc not there, the notification would wait for the wait:
        // the eventfd stays readable until a wait takes it.)
        if let Some(tid) = thread_id(NAME) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !asleep(&tid) && Instant::now() < deadline {
                thread::yield_now();
            }
        }
        notifier.notify();
        let (got, pending) = waiter.join().expect("the waiter");
        assert_eq!(got, [], "the notifier is not reported as a source");
        assert!(!pending, "the wait took the notification");
    }

    #[test]
    fn notifications_coalesce_until_a_wait_takes_them() {
        let mut poller = Poller::new().expect("poller");
        let notifier = poller.notifier();
        notifier.notify();
        notifier.notify();
        assert!(poller.wake.pending.load(Ordering::Acquire));
        let mut count = [0; 8];
        rustix::io::read(&poller.wake.fd, &mut count).expect("one write");
        assert_eq!(
            u64::from_ne_bytes(count),
            1,
            "the second notify wrote nothing"
        );
        rustix::io::write(&poller.wake.fd, &count).expect("put it back");

        let started = Instant::now();
        assert_eq!(wait(&mut poller, Some(Duration::from_secs(10))), []);
        assert!(started.elapsed() < Duration::from_secs(10), "woken");
        assert!(!poller.wake.pending.load(Ordering::Acquire));
        // Taken: the next wait is not woken by it again.
        let timeout = Duration::from_millis(1);
        let started = Instant::now();
        assert_eq!(wait(&mut poller, Some(timeout)), []);
        assert!(started.elapsed() >= timeout, "not woken");
        // And the next notify writes again.
        notifier.notify();
        let started = Instant::now();
        assert_eq!(wait(&mut poller, Some(Duration::from_secs(10))), []);
        assert!(started.elapsed() < Duration::from_secs(10), "woken");
        assert!(!poller.wake.pending.load(Ordering::Acquire));
    }

    #[test]
    fn a_timeout_is_rounded_up_to_a_whole_millisecond_never_down() {
        assert_eq!(whole_millis(Duration::ZERO), Timespec::default());
        let ms = |ms: u64| Timespec::try_from(Duration::from_millis(ms)).expect("fits");
        assert_eq!(whole_millis(Duration::from_nanos(1)), ms(1));
        assert_eq!(whole_millis(Duration::from_micros(1500)), ms(2));
        assert_eq!(whole_millis(Duration::from_millis(2)), ms(2));
        assert_eq!(whole_millis(Duration::from_millis(1234)), ms(1234));
        assert_eq!(whole_millis(Duration::MAX), ms(i32::MAX as u64));

        let mut poller = Poller::new().expect("poller");
        for _ in 0..5 {
            let timeout = Duration::from_micros(1500);
            let started = Instant::now();
            assert_eq!(wait(&mut poller, Some(timeout)), []);
            let waited = started.elapsed();
            assert!(waited >= timeout, "returned after {waited:?}");
        }
    }

    #[test]
    fn the_peers_shutdown_is_reported_while_its_data_is_unread() {
        let mut poller = Poller::new().expect("poller");
        let (ours, mut peer) = tcp_pair();
        poller.add(&ours, 1, true, false).expect("add");
        peer.write_all(b"last words").expect("write");
        assert_eq!(wait(&mut poller, None), [(1, true, false, false)]);

        peer.shutdown(Shutdown::Write).expect("shutdown");
        // The FIN comes after the data: wait until it is reported.
        let mut got = wait(&mut poller, None);
        while got == [(1, true, false, false)] {
            got = wait(&mut poller, None);
        }
        assert_eq!(got, [(1, true, false, true)]);
        // The data is all still there, and then the end.
        let mut buf = [0; 64];
        assert_eq!((&ours).read(&mut buf).expect("read"), 10);
        assert_eq!((&ours).read(&mut buf).expect("read"), 0);
        poller.delete(&ours).expect("delete");
    }

    #[test]
    fn a_socket_deleted_is_not_reported_and_can_be_added_again() {
        let mut poller = Poller::new().expect("poller");
        let (ours, mut peer) = UnixStream::pair().expect("pair");
        peer.write_all(b"x").expect("write");
        poller.add(&ours, 5, true, false).expect("add");
        assert_eq!(wait(&mut poller, None), [(5, true, false, false)]);
        poller.delete(&ours).expect("delete");
        assert_eq!(wait(&mut poller, Some(Duration::ZERO)), []);
        assert!(poller.delete(&ours).is_err(), "deleted already");
        poller.add(&ours, 6, true, false).expect("add again");
        assert_eq!(wait(&mut poller, None), [(6, true, false, false)]);
        poller.delete(&ours).expect("delete");
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_notifiers_key_is_refused() {
        let poller = Poller::new().expect("poller");
        let (ours, _peer) = UnixStream::pair().expect("pair");
        assert!(poller.add(&ours, usize::MAX, true, false).is_err());
    }
}
