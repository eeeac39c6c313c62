//! The splitter's shared log: every message once, with a count of the sinks
//! still to take it.
//!
//! A message is appended once, whatever the number of sinks. Each sink's
//! feeder keeps a cursor (a sequence number) into the log and takes the
//! messages from its cursor on; taking one decrements that slot's count, and
//! slots that every sink has taken leave the front. So the log holds exactly
//! what the slowest sink has still to take, and its length and weight are the
//! backlog the splitter bounds.
//!
//! Wake rules, so that no step looks at all the sinks:
//! * a feeder that has caught up parks itself here; an append wakes the parked
//!   feeders (each then delivers: the wake is paid for by the delivery);
//! * the splitter, finding the log full, asks to be woken; the release that
//!   frees the front wakes it.

use std::collections::VecDeque;

use axon::ipc::Ipc;
use axon::ComponentRef;

/// What a slot holds: a message for the sinks' data boxes, or a control
/// message for their control boxes, in the order they reached the splitter.
pub(crate) enum Entry<T> {
    Data(T),
    Control(Ipc),
}

impl<T: Clone> Entry<T> {
    fn cloned(&self) -> Entry<T> {
        match self {
            Entry::Data(m) => Entry::Data(m.clone()),
            Entry::Control(c) => Entry::Control(c.clone()),
        }
    }
}

struct Slot<T> {
    entry: Entry<T>,
    weight: usize,
    /// Sinks that have still to take it.
    remaining: usize,
}

pub(crate) struct Log<T> {
    slots: VecDeque<Slot<T>>,
    /// The sequence number of `slots[0]`.
    base: u64,
    /// The total weight of `slots`.
    bytes: usize,
    /// Live sinks: each new slot waits for this many.
    sinks: usize,
    /// Feeders that have caught up, to wake at the next append.
    parked: Vec<ComponentRef>,
    /// The splitter, woken by the release that frees room when it asked.
    splitter: Option<ComponentRef>,
    wants_room: bool,
}

impl<T: Clone> Log<T> {
    pub(crate) fn new() -> Self {
        Log {
            slots: VecDeque::new(),
            base: 0,
            bytes: 0,
            sinks: 0,
            parked: Vec::new(),
            splitter: None,
            wants_room: false,
        }
    }

    /// The sequence number the next append gets: where a new sink starts.
    pub(crate) fn end(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn set_splitter(&mut self, splitter: Option<ComponentRef>) {
        self.splitter = splitter;
    }

    /// A sink joins at [`end`](Self::end).
    pub(crate) fn join(&mut self) -> u64 {
        self.sinks += 1;
        self.end()
    }

    /// The sink whose cursor is `from` leaves: it will take none of the
    /// slots from `from` on. Costs the length of its backlog, once.
    pub(crate) fn leave(&mut self, from: u64) {
        let first = from.max(self.base);
        for seq in first..self.end() {
            if let Some(slot) = self.slots.get_mut((seq - self.base) as usize) {
                slot.remaining -= 1;
            }
        }
        self.sinks -= 1;
        self.trim();
    }

    /// Appends a message for every live sink.
    pub(crate) fn push(&mut self, entry: Entry<T>, weight: usize) {
        self.bytes += weight;
        self.slots.push_back(Slot {
            entry,
            weight,
            remaining: self.sinks,
        });
        self.trim();
    }

    /// A copy of the entry at `seq` (a refcount for `Bytes`), if appended.
    pub(crate) fn get(&self, seq: u64) -> Option<Entry<T>> {
        let at = seq.checked_sub(self.base)?;
        self.slots.get(at as usize).map(|s| s.entry.cloned())
    }

    /// One sink has taken the entry at `seq`.
    pub(crate) fn release(&mut self, seq: u64) {
        if let Some(at) = seq.checked_sub(self.base) {
            if let Some(slot) = self.slots.get_mut(at as usize) {
                slot.remaining -= 1;
                if at == 0 {
                    self.trim();
                }
            }
        }
    }

    /// Drops the slots every sink has taken, waking the splitter if it was
    /// waiting for room.
    fn trim(&mut self) {
        let mut freed = false;
        while self.slots.front().is_some_and(|s| s.remaining == 0) {
            if let Some(slot) = self.slots.pop_front() {
                self.bytes -= slot.weight;
                self.base += 1;
                freed = true;
            }
        }
        if freed && self.wants_room {
            self.wants_room = false;
            if let Some(splitter) = &self.splitter {
                splitter.unpause();
            }
        }
    }

    pub(crate) fn want_room(&mut self) {
        self.wants_room = true;
    }

    pub(crate) fn park(&mut self, feeder: ComponentRef) {
        self.parked.push(feeder);
    }

    /// Wakes every parked feeder: called after appending.
    pub(crate) fn wake_parked(&mut self) {
        for feeder in self.parked.drain(..) {
            feeder.unpause();
        }
    }

    /// Forgets every component it holds, so that no cycle outlives the
    /// splitter.
    pub(crate) fn clear_components(&mut self) {
        self.parked.clear();
        self.splitter = None;
    }
}
