//! [`Few`]: a keyed set that keeps its first two entries inline.
//!
//! A box's link lists (the boxes linked into it, the linkages that name it)
//! almost always hold one or two entries: an inbox hears one or two
//! senders (a Pipeline stage's `control` hears the stage before it), an
//! outbox leads to one inbox. A `Slab` allocates
//! on its first insert, so every linked box of every connection paid an
//! allocation per list. `Few` allocates only for a third entry; the busy
//! boxes that have thousands of sources (a server's feedback inbox) keep a
//! `Slab`'s constant-time insert and remove.

use slab::Slab;

/// The keys of the inline entries. Slab keys count up from 0, so they never
/// reach these; `usize::MAX` stays free for callers' "no key".
const INLINE: [usize; 2] = [usize::MAX - 2, usize::MAX - 1];

/// A keyed set whose first two entries need no allocation.
pub(crate) struct Few<T> {
    inline: [Option<T>; 2],
    rest: Option<Box<Slab<T>>>,
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Few {
            inline: [None, None],
            rest: None,
        }
    }
}

impl<T> Few<T> {
    /// Adds `value`; returns its key.
    pub(crate) fn insert(&mut self, value: T) -> usize {
        for (slot, key) in self.inline.iter_mut().zip(INLINE) {
            if slot.is_none() {
                *slot = Some(value);
                return key;
            }
        }
        self.rest.get_or_insert_with(Default::default).insert(value)
    }

    /// Removes the entry under `key`, if there is one.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        match INLINE.iter().position(|&k| k == key) {
            Some(i) => self.inline[i].take(),
            None => self.rest.as_mut()?.try_remove(key),
        }
    }

    /// Every entry, inline ones first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.inline.iter().flatten().chain(
            self.rest
                .iter()
                .flat_map(|rest| rest.iter().map(|(_, v)| v)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_valid_across_removals_and_reuse() {
        let mut few = Few::default();
        let keys: Vec<usize> = (0..5).map(|n| few.insert(n)).collect();
        assert_eq!(few.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(few.remove(keys[0]), Some(0));
        assert_eq!(few.remove(keys[3]), Some(3));
        assert_eq!(few.remove(keys[3]), None, "a key is removed once");
        // The freed inline slot is taken first.
        let again = few.insert(5);
        assert_eq!(again, keys[0]);
        assert_eq!(few.iter().copied().collect::<Vec<_>>(), [5, 1, 2, 4]);
        for key in [keys[1], keys[2], keys[4], again] {
            assert!(few.remove(key).is_some());
        }
        assert_eq!(few.iter().count(), 0);
    }

    #[test]
    fn two_entries_take_no_allocation() {
        let mut few = Few::default();
        few.insert(1u8);
        few.insert(2u8);
        assert!(few.rest.is_none());
        few.insert(3u8);
        assert!(few.rest.is_some());
    }

    #[test]
    fn an_unknown_key_removes_nothing() {
        let mut few: Few<u8> = Few::default();
        assert_eq!(few.remove(usize::MAX), None);
        assert_eq!(few.remove(0), None);
        few.insert(7);
        assert_eq!(few.remove(usize::MAX), None);
        assert_eq!(few.iter().count(), 1);
    }
}
