//! Software transactional memory: Axon's `Axon.STM`, for sharing values
//! between threads (and, later, threaded components) without holding locks
//! while working on them.
//!
//! A [`Store`] holds values by key, each with a version. You take local
//! copies ([`Store::usevar`] for one key, [`Store::using`] for several), work
//! on the copies as long as you like, and then `commit` them. A commit checks
//! that nobody has committed to those keys since you read them: if so, it
//! writes every copy and bumps each version; if not, it writes nothing and
//! returns [`ConcurrentUpdate`], naming the keys that changed, and you read
//! again and redo the work. It is version control for variables.
//!
//! A key nobody has written yet reads as version 0 with no value (Axon's
//! `None`), so values are `Option<V>`.
//!
//! # One value
//!
//! ```
//! use axon::stm::Store;
//!
//! let store = Store::new();
//! let mut greeting = store.usevar("hello");
//! assert_eq!(greeting.value(), None);
//! assert_eq!(greeting.version(), 0);
//!
//! greeting.set("Hello World");
//! greeting.commit()?;
//! assert_eq!(greeting.version(), 1);
//! assert_eq!(store.usevar("hello").value(), Some(&"Hello World"));
//! # Ok::<(), axon::stm::ConcurrentUpdate>(())
//! ```
//!
//! # Several values, committed together
//!
//! A [`Collection`] commits all its keys or none of them.
//!
//! ```
//! use axon::stm::Store;
//!
//! let store = Store::new();
//! let mut accounts = store.using(&["account_one", "account_two", "myaccount"]);
//! accounts.set("account_one", 50);
//! accounts.set("account_two", 100);
//! accounts.commit()?;
//!
//! let mut accounts = store.using(&["account_one", "account_two", "myaccount"]);
//! let total = accounts["account_one"].unwrap_or(0) + accounts["account_two"].unwrap_or(0);
//! accounts.set("myaccount", total);
//! accounts.set("account_one", 0);
//! accounts.set("account_two", 0);
//! accounts.commit()?;
//! assert_eq!(store.usevar("myaccount").value(), Some(&150));
//! # Ok::<(), axon::stm::ConcurrentUpdate>(())
//! ```
//!
//! # What can go wrong: a conflict
//!
//! Two transactions read the same key; the first to commit wins and the
//! second is refused, with nothing written:
//!
//! ```
//! use axon::stm::Store;
//!
//! let store = Store::new();
//! let mut mine = store.using(&["account_one", "myaccount"]);
//! let mut theirs = store.using(&["account_one"]);
//!
//! theirs.set("account_one", 100);
//! theirs.commit()?;
//!
//! mine.set("account_one", 0);
//! mine.set("myaccount", 50);
//! let refused = mine.commit().unwrap_err();
//! assert_eq!(refused.keys(), ["account_one"]);
//! // Neither key was written, not even the one nobody else touched.
//! assert_eq!(store.usevar("account_one").value(), Some(&100));
//! assert_eq!(store.usevar("myaccount").value(), None);
//! # Ok::<(), axon::stm::ConcurrentUpdate>(())
//! ```
//!
//! # The retry loop
//!
//! So every update is a loop: read, work, commit, and on
//! [`ConcurrentUpdate`] go round again with fresh copies.
//!
//! ```
//! use std::thread;
//! use axon::stm::Store;
//!
//! /// Adds one to `counter`, however many others are doing the same.
//! fn increment(store: &Store<u64>, counter: &str) {
//!     loop {
//!         let mut n = store.usevar(counter);
//!         n.set(n.value().copied().unwrap_or(0) + 1);
//!         match n.commit() {
//!             Ok(()) => return,
//!             Err(_conflict) => continue, // someone was quicker: read again
//!         }
//!     }
//! }
//!
//! let store = Store::new();
//! thread::scope(|s| {
//!     for _ in 0..4 {
//!         s.spawn(|| (0..100).for_each(|_| increment(&store, "hits")));
//!     }
//! });
//! assert_eq!(store.usevar("hits").value(), Some(&400));
//! ```
//!
//! # Blocking and `try_` forms: `BusyRetry`
//!
//! Reads and commits hold the store's lock for a moment (to copy values out,
//! or to check versions and write). Axon never waits for that lock: it raises
//! `BusyRetry` and leaves the retrying to you, so that a generator never
//! blocks its scheduler. Here the plain forms ([`Store::using`],
//! [`Store::usevar`], [`Collection::commit`], [`Value::commit`]) wait for the
//! lock, which is what a thread usually wants and never deadlocks (no lock is
//! held between calls). The `try_` forms ([`Store::try_using`],
//! [`Store::try_usevar`], [`Collection::try_commit`], [`Value::try_commit`])
//! are Axon's: they return [`BusyRetry`] rather than wait, for code that must
//! not block.
//!
//! ```
//! use axon::stm::{Store, TryCommitError};
//!
//! let store: Store<u32> = Store::new();
//! let mut x = loop {
//!     match store.try_usevar("x") {
//!         Ok(x) => break x,
//!         Err(_busy) => std::thread::yield_now(), // or yield to the scheduler
//!     }
//! };
//! x.set(1);
//! match x.try_commit() {
//!     Ok(()) => {}
//!     Err(TryCommitError::Busy(_)) => { /* commit again, as it is */ }
//!     Err(TryCommitError::Concurrent(_)) => { /* read again, redo the work */ }
//!     Err(e) => panic!("{e}"),
//! }
//! ```
//!
//! # Where this differs from Axon
//!
//! * A store holds one value type `V` (Axon's holds any object). Use an enum,
//!   or `Box<dyn Any + Send>` wrapped in something `Clone`, to mix types.
//!   Copies are made with `Clone`, where Axon deep-copies.
//! * The plain forms wait for the lock; the `try_` forms are Axon's
//!   non-blocking ones.
//! * [`ConcurrentUpdate`] names the keys that changed.
//! * `Store::dump()` is the store's `Debug` output: `println!("{store:#?}")`.
//! * A value's clone that panics while the store copies it out leaves the store
//!   as it was; the next user carries on (the lock's poisoning is ignored).

use std::collections::HashMap;
use std::fmt;
use std::ops::{Index, IndexMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

pub use crate::error::{BusyRetry, ConcurrentUpdate, TryCommitError};

/// One key's value in the store.
///
/// `version` counts the commits to the key: 0 until the first. `value` is
/// `None` until a commit gives it one (or after a commit sets it to `None`).
struct Slot<V> {
    version: u64,
    value: Option<V>,
}

/// The keys and their versioned values, behind the store's one lock.
type Slots<V> = HashMap<String, Slot<V>>;

/// A thread-safe, versioned store of values by key: Axon's `Store`.
///
/// Cloning a `Store` is cheap and gives another handle on the same values, to
/// pass to another thread. Reads ([`using`](Self::using),
/// [`usevar`](Self::usevar)) give local copies; commits of those copies are
/// checked against the versions read. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use axon::stm::Store;
///
/// let store = Store::new();
/// let other = store.clone();
/// let handle = std::thread::spawn(move || {
///     let mut x = other.usevar("x");
///     x.set(42);
///     x.commit()
/// });
/// handle.join().expect("the thread ran").expect("nobody else wrote x");
/// assert_eq!(store.usevar("x").value(), Some(&42));
/// assert_eq!(store.usevar("x").version(), 1);
/// ```
pub struct Store<V> {
    slots: Arc<Mutex<Slots<V>>>,
}

impl<V> Clone for Store<V> {
    fn clone(&self) -> Self {
        Store {
            slots: Arc::clone(&self.slots),
        }
    }
}

impl<V> Default for Store<V> {
    fn default() -> Self {
        Store {
            slots: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<V: Clone> Store<V> {
    /// An empty store: every key reads as version 0 with no value.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store: Store<i32> = Store::new();
    /// assert_eq!(store.usevar("anything").version(), 0);
    /// assert_eq!(store.usevar("anything").value(), None);
    /// ```
    pub fn new() -> Self {
        Store::default()
    }

    /// A local copy of the value at `key`, waiting if another thread holds the
    /// store for a moment. A key never written is created at version 0 with no
    /// value.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store: Store<String> = Store::new();
    /// let fresh = store.usevar("name");
    /// assert_eq!((fresh.version(), fresh.value()), (0, None));
    /// ```
    pub fn usevar(&self, key: &str) -> Value<V> {
        let mut slots = self.lock();
        self.read_one(&mut slots, key)
    }

    /// As [`usevar`](Self::usevar), but refuses with [`BusyRetry`] rather than
    /// wait if another thread holds the store (Axon's `usevar`).
    ///
    /// # Errors
    ///
    /// [`BusyRetry`] if another thread is reading or committing at that moment.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut x = store.try_usevar("x").expect("nobody else holds the store");
    /// x.set(5);
    /// x.commit()?;
    /// assert_eq!(store.try_usevar("x").expect("free").value(), Some(&5));
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn try_usevar(&self, key: &str) -> Result<Value<V>, BusyRetry> {
        let mut slots = self.try_lock()?;
        Ok(self.read_one(&mut slots, key))
    }

    /// Local copies of the values at `keys`, read at one moment, to be
    /// committed together with [`Collection::commit`]. Waits if another
    /// thread holds the store for a moment. Keys never written are created at
    /// version 0 with no value; a key named twice is copied once.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let forks = ["fork.1".to_string(), "fork.2".to_string()];
    /// let mut both = store.using(&forks);
    /// if both.values().all(|holder| holder.is_none()) {
    ///     both.set("fork.1", "Plato");
    ///     both.set("fork.2", "Plato");
    ///     both.commit()?;
    /// }
    /// assert_eq!(store.usevar("fork.2").value(), Some(&"Plato"));
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn using<K: AsRef<str>>(&self, keys: impl IntoIterator<Item = K>) -> Collection<V> {
        let mut slots = self.lock();
        self.read_many(&mut slots, keys)
    }

    /// As [`using`](Self::using), but refuses with [`BusyRetry`] rather than
    /// wait if another thread holds the store (Axon's `using`).
    ///
    /// # Errors
    ///
    /// [`BusyRetry`] if another thread is reading or committing at that moment.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut pair = store.try_using(["a", "b"]).expect("nobody else holds the store");
    /// pair.set("a", 1);
    /// pair.set("b", 2);
    /// pair.commit()?;
    /// let again = store.try_using(["b", "a"]).expect("free");
    /// assert_eq!((again["a"], again["b"]), (Some(1), Some(2)));
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn try_using<K: AsRef<str>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Collection<V>, BusyRetry> {
        let mut slots = self.try_lock()?;
        Ok(self.read_many(&mut slots, keys))
    }

    fn read_one(&self, slots: &mut Slots<V>, key: &str) -> Value<V> {
        Value {
            copy: read(slots, key),
            store: self.clone(),
        }
    }

    fn read_many<K: AsRef<str>>(
        &self,
        slots: &mut Slots<V>,
        keys: impl IntoIterator<Item = K>,
    ) -> Collection<V> {
        let mut copies: Vec<Local<V>> = Vec::new();
        for key in keys {
            let key = key.as_ref();
            if !copies.iter().any(|c| c.key == key) {
                copies.push(read(slots, key));
            }
        }
        Collection {
            copies,
            store: self.clone(),
        }
    }
}

impl<V> Store<V> {
    /// The store's lock, waiting for it. A panic while it was held (only a
    /// value's `clone` can panic there, before anything is changed) leaves
    /// the values consistent, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Slots<V>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store's lock if nobody holds it; poisoning ignored as in `lock`.
    fn try_lock(&self) -> Result<MutexGuard<'_, Slots<V>>, BusyRetry> {
        match self.slots.try_lock() {
            Ok(slots) => Ok(slots),
            Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => Err(BusyRetry),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for Store<V> {
    /// Every key with its version and value, sorted by key: Axon's `dump()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.lock();
        let mut keys: Vec<&String> = slots.keys().collect();
        keys.sort();
        let mut map = f.debug_map();
        for key in keys {
            let slot = &slots[key];
            map.entry(key, &(slot.version, &slot.value));
        }
        map.finish()
    }
}

/// A local copy of one key: the version read and the value as changed so far.
struct Local<V> {
    key: String,
    version: u64,
    value: Option<V>,
}

impl<V: fmt::Debug> fmt::Debug for Local<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("key", &self.key)
            .field("version", &self.version)
            .field("value", &self.value)
            .finish()
    }
}

/// Copies `key` out of the store, creating it (version 0, no value) if it has
/// never been used.
fn read<V: Clone>(slots: &mut Slots<V>, key: &str) -> Local<V> {
    let slot = match slots.get(key) {
        Some(slot) => slot,
        None => slots.entry(key.to_string()).or_insert(Slot {
            version: 0,
            value: None,
        }),
    };
    Local {
        key: key.to_string(),
        version: slot.version,
        value: slot.value.clone(),
    }
}

/// Commits `copies` all together or not at all. `values` are the new values,
/// cloned from the copies before the lock was taken; on success the values
/// they replace are returned, to be dropped after the lock is released.
fn commit<V>(
    slots: &mut Slots<V>,
    copies: &mut [Local<V>],
    values: Vec<Option<V>>,
) -> Result<Vec<Option<V>>, ConcurrentUpdate> {
    let stale: Vec<String> = copies
        .iter()
        .filter(|c| slots.get(&c.key).is_some_and(|s| s.version > c.version))
        .map(|c| c.key.clone())
        .collect();
    if !stale.is_empty() {
        return Err(ConcurrentUpdate::new(stale));
    }
    let mut replaced = Vec::with_capacity(copies.len());
    for (copy, value) in copies.iter_mut().zip(values) {
        copy.version += 1;
        let slot = slots.entry(copy.key.clone()).or_insert(Slot {
            version: 0,
            value: None,
        });
        slot.version = copy.version;
        replaced.push(std::mem::replace(&mut slot.value, value));
    }
    Ok(replaced)
}

/// A local copy of one value of a [`Store`]: Axon's `Value`, from
/// [`Store::usevar`].
///
/// [`set`](Self::set) changes only the copy; [`commit`](Self::commit) writes
/// it to the store if nobody has committed to the key since it was read.
///
/// # Examples
///
/// ```
/// use axon::stm::Store;
///
/// let store = Store::new();
/// let mut greeting = store.usevar("hello");
/// let mut par = store.usevar("hello");
///
/// par.set("Woo");
/// par.commit()?;
///
/// greeting.set("Hello World");
/// assert!(greeting.commit().is_err()); // par got there first
/// assert_eq!(store.usevar("hello").value(), Some(&"Woo"));
/// # Ok::<(), axon::stm::ConcurrentUpdate>(())
/// ```
pub struct Value<V> {
    copy: Local<V>,
    store: Store<V>,
}

impl<V: Clone> Value<V> {
    /// The key this is a copy of.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store: Store<u8> = Store::new();
    /// assert_eq!(store.usevar("colour").key(), "colour");
    /// ```
    pub fn key(&self) -> &str {
        &self.copy.key
    }

    /// The version read, or the version written by this copy's last commit.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut x = store.usevar("x");
    /// assert_eq!(x.version(), 0);
    /// x.set(1);
    /// x.commit()?;
    /// x.set(2);
    /// x.commit()?;
    /// assert_eq!(x.version(), 2);
    /// assert_eq!(store.usevar("x").version(), 2);
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn version(&self) -> u64 {
        self.copy.version
    }

    /// The copy's value: `None` if the key has none (Axon's `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut x = store.usevar("x");
    /// assert_eq!(x.value(), None);
    /// x.set("set");
    /// assert_eq!(x.value(), Some(&"set"));
    /// ```
    pub fn value(&self) -> Option<&V> {
        self.copy.value.as_ref()
    }

    /// Changes the copy's value (not the store's): `value.set(3)`, or
    /// `value.set(None)` to clear it.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut x = store.usevar("x");
    /// x.set(3);
    /// assert_eq!(store.usevar("x").value(), None, "only the copy changed");
    /// x.commit()?;
    /// x.set(None);
    /// x.commit()?;
    /// assert_eq!(store.usevar("x").value(), None, "cleared");
    /// assert_eq!(store.usevar("x").version(), 2);
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn set(&mut self, value: impl Into<Option<V>>) {
        self.copy.value = value.into();
    }

    /// Writes the copy to the store, waiting if another thread holds the
    /// store for a moment. The key's version, and this copy's, becomes the
    /// version read plus one; the copy can be changed and committed again.
    ///
    /// # Errors
    ///
    /// [`ConcurrentUpdate`] if the key was committed to since this copy was
    /// read (or last committed). Nothing is written.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut first = store.usevar("x");
    /// let mut second = store.usevar("x");
    /// first.set(1);
    /// first.commit()?;
    /// second.set(2);
    /// let refused = second.commit().unwrap_err();
    /// assert_eq!(refused.keys(), ["x"]);
    /// assert_eq!(store.usevar("x").value(), Some(&1));
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn commit(&mut self) -> Result<(), ConcurrentUpdate> {
        let values = vec![self.copy.value.clone()];
        let mut slots = self.store.lock();
        let replaced = commit(&mut slots, std::slice::from_mut(&mut self.copy), values);
        drop(slots);
        replaced.map(drop)
    }

    /// As [`commit`](Self::commit), but refuses rather than wait if another
    /// thread holds the store (Axon's `commit`).
    ///
    /// # Errors
    ///
    /// [`TryCommitError::Busy`] if another thread is reading or committing at
    /// that moment (nothing was checked: commit again);
    /// [`TryCommitError::Concurrent`] as for [`commit`](Self::commit).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::{Store, TryCommitError};
    ///
    /// let store = Store::new();
    /// let mut stale = store.usevar("x");
    /// let mut x = store.usevar("x");
    /// x.set(1);
    /// x.try_commit().expect("nobody else holds the store");
    /// stale.set(2);
    /// assert!(matches!(stale.try_commit(), Err(TryCommitError::Concurrent(_))));
    /// assert_eq!(store.usevar("x").value(), Some(&1));
    /// ```
    pub fn try_commit(&mut self) -> Result<(), TryCommitError> {
        let values = vec![self.copy.value.clone()];
        let mut slots = self.store.try_lock()?;
        let replaced = commit(&mut slots, std::slice::from_mut(&mut self.copy), values);
        drop(slots);
        replaced.map(drop).map_err(TryCommitError::from)
    }
}

impl<V: fmt::Debug> fmt::Debug for Value<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.copy.fmt(f)
    }
}

/// Local copies of several values of a [`Store`], read together and committed
/// all or nothing: Axon's `Collection`, from [`Store::using`].
///
/// Index it by key for a copy's value (`collection["fork.1"]` is an
/// `Option<V>`, assignable); [`set`](Self::set) is the same as assigning.
///
/// # Examples
///
/// ```
/// use axon::stm::Store;
///
/// let store = Store::new();
/// let mut pair = store.using(&["a", "b"]);
/// pair["a"] = Some(1);
/// pair.set("b", 2);
/// pair.commit()?;
/// assert_eq!((pair.version("a"), pair["b"]), (1, Some(2)));
/// # Ok::<(), axon::stm::ConcurrentUpdate>(())
/// ```
pub struct Collection<V> {
    copies: Vec<Local<V>>,
    store: Store<V>,
}

impl<V: Clone> Collection<V> {
    /// The keys, in the order first named to [`Store::using`].
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store: Store<u8> = Store::new();
    /// let c = store.using(["b", "a", "b"]);
    /// assert_eq!(c.keys().collect::<Vec<_>>(), ["b", "a"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.copies.iter().map(|c| c.key.as_str())
    }

    /// The copies' values, in the order of [`keys`](Self::keys).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut c = store.using(["a", "b"]);
    /// c.set("b", 7);
    /// assert_eq!(c.values().collect::<Vec<_>>(), [None, Some(&7)]);
    /// ```
    pub fn values(&self) -> impl Iterator<Item = Option<&V>> + '_ {
        self.copies.iter().map(|c| c.value.as_ref())
    }

    /// The value of the copy of `key`: `None` if it has none.
    ///
    /// # Panics
    ///
    /// If `key` is not one of this collection's keys (Axon's `KeyError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut c = store.using(["a", "b"]);
    /// c.set("a", 'x');
    /// assert_eq!(c.value("a"), Some(&'x'));
    /// assert_eq!(c.value("b"), None);
    /// ```
    pub fn value(&self, key: &str) -> Option<&V> {
        self.copy(key).value.as_ref()
    }

    /// The version of the copy of `key`: as read, or as last committed.
    ///
    /// # Panics
    ///
    /// If `key` is not one of this collection's keys.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut c = store.using(["a", "b"]);
    /// c.set("a", 1);
    /// c.commit()?;
    /// assert_eq!((c.version("a"), c.version("b")), (1, 1));
    /// assert_eq!(store.using(["a"]).version("a"), 1);
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn version(&self, key: &str) -> u64 {
        self.copy(key).version
    }

    /// Changes the copy of `key` (not the store): `set("a", 3)`, or
    /// `set("a", None)` to clear it.
    ///
    /// # Panics
    ///
    /// If `key` is not one of this collection's keys.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut c = store.using(["a"]);
    /// c.set("a", 3);
    /// assert_eq!(c["a"], Some(3));
    /// c.set("a", None);
    /// assert_eq!(c["a"], None);
    /// ```
    pub fn set(&mut self, key: &str, value: impl Into<Option<V>>) {
        self.copy_mut(key).value = value.into();
    }

    /// Writes every copy to the store, or none: waiting if another thread
    /// holds the store for a moment, then checking every key's version. If
    /// none was committed to since it was read, each key's version (and its
    /// copy's) becomes the version read plus one; the collection can be
    /// changed and committed again.
    ///
    /// # Errors
    ///
    /// [`ConcurrentUpdate`], naming each key committed to since it was read.
    /// Nothing is written, not even the keys that were not.
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::Store;
    ///
    /// let store = Store::new();
    /// let mut mine = store.using(["a", "b"]);
    /// let mut theirs = store.using(["b"]);
    /// theirs.set("b", 1);
    /// theirs.commit()?;
    /// mine.set("a", 10);
    /// mine.set("b", 20);
    /// assert_eq!(mine.commit().unwrap_err().keys(), ["b"]);
    /// assert_eq!(store.usevar("a").value(), None, "all or nothing");
    /// assert_eq!(store.usevar("b").value(), Some(&1));
    /// # Ok::<(), axon::stm::ConcurrentUpdate>(())
    /// ```
    pub fn commit(&mut self) -> Result<(), ConcurrentUpdate> {
        let values = self.copies.iter().map(|c| c.value.clone()).collect();
        let mut slots = self.store.lock();
        let replaced = commit(&mut slots, &mut self.copies, values);
        drop(slots);
        replaced.map(drop)
    }

    /// As [`commit`](Self::commit), but refuses rather than wait if another
    /// thread holds the store (Axon's `commit`).
    ///
    /// # Errors
    ///
    /// [`TryCommitError::Busy`] if another thread is reading or committing at
    /// that moment (nothing was checked: commit again);
    /// [`TryCommitError::Concurrent`] as for [`commit`](Self::commit).
    ///
    /// # Examples
    ///
    /// ```
    /// use axon::stm::{Store, TryCommitError};
    ///
    /// let store = Store::new();
    /// let mut stale = store.using(["a"]);
    /// let mut c = store.using(["a", "b"]);
    /// c.set("a", 1);
    /// c.set("b", 2);
    /// c.try_commit().expect("nobody else holds the store");
    /// assert_eq!(store.usevar("b").value(), Some(&2));
    /// stale.set("a", 3);
    /// assert!(matches!(stale.try_commit(), Err(TryCommitError::Concurrent(_))));
    /// ```
    pub fn try_commit(&mut self) -> Result<(), TryCommitError> {
        let values = self.copies.iter().map(|c| c.value.clone()).collect();
        let mut slots = self.store.try_lock()?;
        let replaced = commit(&mut slots, &mut self.copies, values);
        drop(slots);
        replaced.map(drop).map_err(TryCommitError::from)
    }

    fn copy(&self, key: &str) -> &Local<V> {
        match self.copies.iter().find(|c| c.key == key) {
            Some(copy) => copy,
            None => self.not_a_key(key),
        }
    }

    fn copy_mut(&mut self, key: &str) -> &mut Local<V> {
        match self.copies.iter().position(|c| c.key == key) {
            Some(at) => &mut self.copies[at],
            None => self.not_a_key(key),
        }
    }

    fn not_a_key(&self, key: &str) -> ! {
        let keys: Vec<&str> = self.keys().collect();
        panic!("{key:?} is not a key of this STM collection (its keys: {keys:?})")
    }
}

impl<V: Clone> Index<&str> for Collection<V> {
    type Output = Option<V>;

    /// The value of the copy of `key`. Panics if `key` is not one of the
    /// collection's keys.
    fn index(&self, key: &str) -> &Option<V> {
        &self.copy(key).value
    }
}

impl<V: Clone> IndexMut<&str> for Collection<V> {
    /// The value of the copy of `key`, to change. Panics if `key` is not one of
    /// the collection's keys.
    fn index_mut(&mut self, key: &str) -> &mut Option<V> {
        &mut self.copy_mut(key).value
    }
}

impl<V: fmt::Debug> fmt::Debug for Collection<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.copies).finish()
    }
}
