//! The splitter's shared log: every message once, with counts of the sinks'
//! cursors that point at it.
//!
//! A message is appended once, whatever the number of sinks. Each sink's
//! feeder keeps a cursor (a sequence number) into the log and takes the
//! messages from its cursor on. Each slot counts the cursors pointing at it
//! (the sinks whose next message it is), so a round of delivery, however
//! many messages it takes, moves one count from one slot to another; the
//! slots before the first cursor leave the front. So the log holds exactly
//! what the slowest sink has still to take.
//!
//! Two tiers of sinks (see the splitter's docs for the policy):
//! * *pacing* sinks hold the publishers back: each slot counts the pacing
//!   cursors at it too, and the *pacing head* is the first pacing cursor.
//!   The splitter takes more only while the backlog from the pacing head is
//!   under the pacing bound.
//! * *stalled* sinks do not: their backlog grows, and the one with the oldest
//!   cursor (the longest backlog; a stalled sink's cursor does not move) is
//!   evicted once its backlog is over the byte cap. They are kept ordered by
//!   cursor, so an append looks at one of them, not at all.
//!
//! Turning a sink stalled, or a sink leaving, moves one count. Turning it
//! pacing again may move the pacing head back over its backlog, which the
//! head then crosses again as the sinks take it. Every slot records the
//! bytes appended before it, so any backlog's weight is one subtraction.
//!
//! Wake rules, so that no step looks at all the sinks:
//! * a feeder that has caught up parks itself here; an append wakes the parked
//!   feeders (each then delivers: the wake is paid for by the delivery);
//! * the splitter, finding no room, asks to be woken; the pacing head moving
//!   on wakes it;
//! * an evicted feeder is woken alone, to say why and leave.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use axon::ipc::Ipc;
use axon::{ComponentId, ComponentRef};
use bytes::BytesMut;

use super::journal::{Journal, Span};

/// The log's room for slots, kept however few it holds (a burst's lines).
const MIN_ROOM: usize = 4096;

/// What a slot holds: a message for the sinks' data boxes, or a control
/// message for their control boxes, in the order they reached the splitter.
pub(crate) enum Entry<T> {
    Data(T),
    Control(Ipc),
}

/// The splitter's bounds, as the log applies them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    /// The pacing bound, in messages.
    pub(crate) pacing_messages: usize,
    /// The pacing bound, in bytes (below `max_bytes`).
    pub(crate) pacing_bytes: usize,
    /// A stalled sink's backlog over this many bytes evicts it.
    pub(crate) max_bytes: usize,
}

/// How much one sink has still to take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Backlog {
    pub(crate) messages: u64,
    pub(crate) bytes: u64,
}

/// Set by the log when it evicts a sink: the backlog it had. The feeder finds
/// it on waking; its share of the log is already released.
pub(crate) type Eviction = Rc<Cell<Option<Backlog>>>;

/// How a message's bytes are written into the journal (its type's
/// [`Encode`](crate::util::Encode)).
pub(crate) type Encoder<T> = fn(&T, &mut BytesMut);

/// The size of a slot holding a `T`.
pub(crate) const fn slot_bytes<T>() -> usize {
    std::mem::size_of::<Slot<T>>()
}

struct Slot<T> {
    entry: Entry<T>,
    /// Where the journal holds its bytes.
    bytes: Span,
    /// The bytes appended before it: a backlog's weight by subtraction.
    offset: u64,
    /// The cursors pointing at it.
    cursors: Cursors,
}

/// How many sinks' cursors point at one place in the log, and how many of
/// those sinks are pacing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cursors {
    all: u32,
    pacing: u32,
}

struct Stalled {
    feeder: ComponentRef,
    eviction: Eviction,
    /// It takes bytes: evicting it may end the journal's writing.
    takes_bytes: bool,
}

pub(crate) struct Log<T> {
    slots: VecDeque<Slot<T>>,
    /// The sequence number of `slots[0]`.
    base: u64,
    /// The weight of everything ever appended: the offset of the next slot.
    appended: u64,
    /// The cursors at the end: sinks that have taken everything. The next
    /// slot appended is theirs.
    at_end: Cursors,
    /// The first pacing cursor (or the end): where the backlog the
    /// splitter bounds begins. Never before `base`.
    pacing_head: u64,
    /// Stalled sinks by (cursor, feeder): the first has the longest backlog.
    stalled: BTreeMap<(u64, ComponentId), Stalled>,
    bounds: Bounds,
    /// Feeders that have caught up, to wake at the next append.
    parked: Vec<ComponentRef>,
    /// The splitter, woken when room appears if it asked.
    splitter: Option<ComponentRef>,
    wants_room: bool,
    /// Each message's bytes, while a sink takes bytes.
    journal: Journal,
    encoder: Option<Encoder<T>>,
    /// The live sinks that take bytes: the journal is written while any do.
    byte_sinks: usize,
}

impl<T: Clone> Log<T> {
    pub(crate) fn new(bounds: Bounds) -> Self {
        Log {
            slots: VecDeque::new(),
            base: 0,
            appended: 0,
            at_end: Cursors::default(),
            pacing_head: 0,
            stalled: BTreeMap::new(),
            bounds,
            parked: Vec::new(),
            splitter: None,
            wants_room: false,
            journal: Journal::default(),
            encoder: None,
            byte_sinks: 0,
        }
    }

    /// A sink taking bytes is joining: from now on, until the last such
    /// sink has left, each message's bytes are written into the journal, as
    /// `encoder` writes them. (A sink joins at the end, so it needs no
    /// message appended before.)
    pub(crate) fn write_bytes(&mut self, encoder: Encoder<T>) {
        self.encoder = Some(encoder);
        self.byte_sinks += 1;
    }

    /// A sink taking bytes has gone: with the last, the journal is no
    /// longer written, and gives back its room.
    fn byte_sink_gone(&mut self) {
        self.byte_sinks -= 1;
        if self.byte_sinks == 0 {
            self.encoder = None;
            self.journal.rest();
        }
    }

    /// Seals what the journal has written, ready to slice.
    pub(crate) fn seal_journal(&mut self) {
        self.journal.seal();
    }

    /// The journal: sliced only as far as it is sealed.
    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The sequence number the next append gets: where a new sink starts.
    pub(crate) fn end(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    /// Every slot still held, for any sink.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The weight of every slot still held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.backlog(self.base).bytes
    }

    /// The count of the cursors at `seq` (a slot, or the end).
    fn cursors_at(&mut self, seq: u64) -> &mut Cursors {
        debug_assert!(
            seq >= self.base && seq <= self.end(),
            "a cursor outside the log"
        );
        match self.slots.get_mut((seq - self.base) as usize) {
            Some(slot) => &mut slot.cursors,
            None => &mut self.at_end,
        }
    }

    /// What a sink whose cursor is `from` has still to take.
    pub(crate) fn backlog(&self, from: u64) -> Backlog {
        let from = from.max(self.base);
        let offset = self
            .slots
            .get((from - self.base) as usize)
            .map_or(self.appended, |s| s.offset);
        Backlog {
            messages: self.end() - from,
            bytes: self.appended - offset,
        }
    }

    fn at_pacing_bound(&self, backlog: Backlog) -> bool {
        backlog.messages >= self.bounds.pacing_messages as u64
            || backlog.bytes >= self.bounds.pacing_bytes as u64
    }

    /// Whether a sink whose cursor is `from` is at the pacing bound.
    pub(crate) fn is_at_pacing_bound(&self, from: u64) -> bool {
        self.at_pacing_bound(self.backlog(from))
    }

    /// Whether the splitter may take another message: no pacing sink is at
    /// the pacing bound.
    pub(crate) fn has_room(&self) -> bool {
        !self.at_pacing_bound(self.backlog(self.pacing_head))
    }

    pub(crate) fn bounds(&self) -> Bounds {
        self.bounds
    }

    pub(crate) fn set_splitter(&mut self, splitter: Option<ComponentRef>) {
        self.splitter = splitter;
    }

    /// A sink joins at [`end`](Self::end), pacing.
    pub(crate) fn join(&mut self) -> u64 {
        self.at_end.all += 1;
        self.at_end.pacing += 1;
        self.end()
    }

    /// Takes away the cursor of one sink at `from` (pacing or not).
    fn withdraw(&mut self, from: u64, pacing: bool) {
        let here = self.cursors_at(from);
        here.all -= 1;
        if pacing {
            here.pacing -= 1;
        }
    }

    /// The sink whose cursor is `from` leaves: it will take none of the
    /// slots from `from` on. `stalled` is the key it was stalled under, if
    /// it is stalled; `takes_bytes`, whether it joined with
    /// [`write_bytes`](Self::write_bytes). Not for an evicted sink (already
    /// gone).
    pub(crate) fn leave(
        &mut self,
        from: u64,
        stalled: Option<(u64, ComponentId)>,
        takes_bytes: bool,
    ) {
        if let Some(key) = stalled {
            self.stalled.remove(&key);
        }
        self.withdraw(from, stalled.is_none());
        if takes_bytes {
            self.byte_sink_gone();
        }
        self.advance_pacing_head();
        self.trim();
    }

    /// What the log holds for each message besides the message's own
    /// weight: its slot. Counted against the bounds with the weight, so that
    /// a byte cap bounds the memory a backlog really takes, small messages
    /// included (a chat line's slot outweighs its text).
    pub(crate) const SLOT_BYTES: usize = slot_bytes::<T>();

    /// Appends a message for every live sink, then evicts any stalled sink
    /// whose backlog it takes over the byte cap. A slot weighs the message's
    /// weight, the slot itself and the bytes the journal holds for it.
    pub(crate) fn push(&mut self, entry: Entry<T>, weight: usize) {
        let bytes = match (&entry, self.encoder) {
            (Entry::Data(message), Some(encode)) => {
                self.journal.write(weight, |out| encode(message, out))
            }
            _ => {
                let at = self.journal.end();
                Span { start: at, end: at }
            }
        };
        self.slots.push_back(Slot {
            entry,
            bytes,
            offset: self.appended,
            // The cursors at the end now point at it.
            cursors: std::mem::take(&mut self.at_end),
        });
        self.appended += (weight + Self::SLOT_BYTES) as u64 + (bytes.end - bytes.start);
        self.evict_over_cap();
        self.advance_pacing_head();
        self.trim();
    }

    /// The entries from `seq` on, before `upto` (or the end), in order, each
    /// with where the journal holds its bytes: a feeder's round walks them
    /// without looking each one up.
    pub(crate) fn entries(&self, seq: u64, upto: u64) -> impl Iterator<Item = (&Entry<T>, Span)> {
        let index = |seq: u64| {
            seq.checked_sub(self.base)
                .map_or(0, |at| usize::try_from(at).unwrap_or(usize::MAX))
                .min(self.slots.len())
        };
        let (first, last) = (index(seq), index(upto));
        self.slots
            .range(first..last.max(first))
            .map(|s| (&s.entry, s.bytes))
    }

    /// One sink (pacing or not) has taken the entries `from..to`: its
    /// cursor moves from `from` to `to`.
    ///
    /// Called once per delivery round, not once per entry, and costs the
    /// same however many entries the round took: a feeder delivers a burst
    /// in one round (a chat's lines, hundreds at a time).
    pub(crate) fn release(&mut self, from: u64, to: u64, pacing: bool) {
        if from >= to {
            return;
        }
        self.withdraw(from, pacing);
        let there = self.cursors_at(to);
        there.all += 1;
        if pacing {
            there.pacing += 1;
        }
        if pacing && from == self.pacing_head {
            self.advance_pacing_head();
        }
        if from == self.base {
            self.trim();
        }
    }

    /// The sink whose cursor is `from` stops pacing: the publishers no longer
    /// wait for it. Evicted at once if already over the byte cap.
    pub(crate) fn stall(
        &mut self,
        from: u64,
        feeder: ComponentRef,
        eviction: Eviction,
        takes_bytes: bool,
    ) {
        self.cursors_at(from).pacing -= 1;
        self.stalled.insert(
            (from, feeder.id()),
            Stalled {
                feeder,
                eviction,
                takes_bytes,
            },
        );
        self.evict_over_cap();
        self.advance_pacing_head();
        self.trim();
    }

    /// The sink stalled under `key` has taken something: it paces the
    /// publishers again from its cursor `from` on.
    pub(crate) fn unstall(&mut self, key: (u64, ComponentId), from: u64) {
        if self.stalled.remove(&key).is_none() {
            return;
        }
        self.cursors_at(from).pacing += 1;
        self.pacing_head = self.pacing_head.min(from);
        // Its backlog may be past the pacing bound: the splitter waits for it
        // to come back under, which a reading sink does.
        self.advance_pacing_head();
    }

    /// Evicts the stalled sinks whose backlog is over the byte cap, oldest
    /// first; stops at the first that is not (the others have less).
    fn evict_over_cap(&mut self) {
        while let Some((&(from, id), _)) = self.stalled.first_key_value() {
            let backlog = self.backlog(from);
            if backlog.bytes <= self.bounds.max_bytes as u64 {
                break;
            }
            if let Some(gone) = self.stalled.remove(&(from, id)) {
                self.withdraw(from, false);
                if gone.takes_bytes {
                    self.byte_sink_gone();
                }
                gone.eviction.set(Some(backlog));
                gone.feeder.unpause();
            }
        }
    }

    /// Moves the pacing head on to the first pacing cursor, waking the
    /// splitter if it was waiting for room.
    fn advance_pacing_head(&mut self) {
        let start = self.pacing_head;
        let end = self.end();
        while self.pacing_head < end {
            let at = (self.pacing_head - self.base) as usize;
            if self.slots.get(at).is_some_and(|s| s.cursors.pacing > 0) {
                break;
            }
            self.pacing_head += 1;
        }
        if self.pacing_head != start && self.wants_room && self.has_room() {
            self.wants_room = false;
            if let Some(splitter) = &self.splitter {
                splitter.unpause();
            }
        }
    }

    /// Drops the slots every sink has taken: those before the first cursor.
    fn trim(&mut self) {
        let mut trimmed = false;
        while self.slots.front().is_some_and(|s| s.cursors.all == 0) {
            self.slots.pop_front();
            self.base += 1;
            trimmed = true;
        }
        if trimmed {
            let from = self
                .slots
                .front()
                .map_or(self.journal.end(), |s| s.bytes.start);
            self.journal.trim(from);
            // A stalled sink's backlog grew the log to hold it; once the log
            // is down to a quarter of its room, the rest goes back (the copy
            // of what is left is paid for by the slots trimmed since the
            // room was last filled).
            let room = self.slots.capacity();
            if room > MIN_ROOM && self.slots.len() < room / 4 {
                self.slots.shrink_to((self.slots.len() * 2).max(MIN_ROOM));
            }
        }
        // Only slots no pacing sink needs left: the head is never behind.
        self.pacing_head = self.pacing_head.max(self.base);
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
        self.stalled.clear();
        self.splitter = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::PassThrough;

    /// What one message of the tests weighs in the log: its 8 bytes and
    /// its slot.
    const W: usize = 8 + Log::<u64>::SLOT_BYTES;

    const BOUNDS: Bounds = Bounds {
        pacing_messages: 4,
        pacing_bytes: 1000 * W,
        max_bytes: 10 * W,
    };

    fn push(log: &mut Log<u64>, n: u64) {
        log.push(Entry::Data(n), 8);
    }

    fn feeder() -> ComponentRef {
        ComponentRef::new(PassThrough::<u64>::new())
    }

    #[test]
    fn only_pacing_sinks_hold_the_splitter_back() {
        let mut log = Log::new(BOUNDS);
        let (fast, slow) = (log.join(), log.join());
        for n in 0..4 {
            push(&mut log, n);
        }
        assert!(!log.has_room(), "both sinks are at the pacing bound");
        log.release(fast, 4, true);
        assert!(!log.has_room(), "the slow sink still paces");
        let f = feeder();
        log.stall(slow, f.clone(), Eviction::default(), false);
        assert!(log.has_room(), "a stalled sink does not pace");
        assert_eq!(log.len(), 4, "but its backlog is kept for it");
        push(&mut log, 4);
        assert_eq!(
            log.backlog(slow),
            Backlog {
                messages: 5,
                bytes: 5 * W as u64
            }
        );
        assert_eq!(
            log.backlog(4),
            Backlog {
                messages: 1,
                bytes: W as u64
            }
        );
        log.leave(slow, Some((slow, f.id())), false);
        assert_eq!(log.len(), 1, "its backlog is released when it leaves");
    }

    #[test]
    fn a_stalled_sink_over_the_byte_cap_is_evicted_and_its_backlog_freed() {
        let mut log = Log::new(BOUNDS);
        let (fast, slow) = (log.join(), log.join());
        let eviction = Eviction::default();
        log.stall(slow, feeder(), eviction.clone(), false);
        for seq in fast..fast + 10 {
            push(&mut log, seq);
            log.release(seq, seq + 1, true);
        }
        assert_eq!(
            eviction.get(),
            None,
            "10 messages are at the cap, not over it"
        );
        push(&mut log, 10);
        assert_eq!(
            eviction.get(),
            Some(Backlog {
                messages: 11,
                bytes: 11 * W as u64
            })
        );
        assert_eq!(log.len(), 1, "only what the pacing sink has to take");
        assert!(log.has_room());
    }

    #[test]
    fn a_sink_that_reads_again_paces_again_from_its_cursor() {
        let mut log = Log::new(BOUNDS);
        let (fast, slow) = (log.join(), log.join());
        let f = feeder();
        log.stall(slow, f.clone(), Eviction::default(), false);
        for seq in fast..fast + 6 {
            push(&mut log, seq);
            log.release(seq, seq + 1, true);
        }
        assert!(log.has_room());
        log.release(slow, slow + 1, false);
        log.unstall((slow, f.id()), slow + 1);
        assert!(!log.has_room(), "5 waiting for it: over the pacing bound");
        log.release(slow + 1, slow + 2, true);
        assert!(!log.has_room(), "4 waiting: at the bound");
        log.release(slow + 2, slow + 3, true);
        assert!(log.has_room(), "under the bound again");
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn the_byte_bound_paces_too() {
        let mut log = Log::new(Bounds {
            pacing_messages: 100,
            pacing_bytes: 2 * W + W / 2,
            max_bytes: 5 * W,
        });
        let sink = log.join();
        for n in 0..3 {
            assert!(log.has_room());
            push(&mut log, n);
        }
        assert!(
            !log.has_room(),
            "three messages waiting, bound two and a half"
        );
        log.release(sink, sink + 1, true);
        assert!(log.has_room());
        assert_eq!(log.bytes(), 2 * W as u64);
    }

    fn encode(n: &u64, out: &mut BytesMut) {
        out.extend_from_slice(&n.to_le_bytes());
    }

    /// The journal is written while a sink that takes bytes is live: from
    /// the first joining to the last leaving, or being evicted.
    #[test]
    fn the_journal_is_written_only_while_a_sink_takes_bytes() {
        let mut log = Log::new(BOUNDS);
        let plain = log.join();
        push(&mut log, 0);
        assert_eq!(log.journal().end(), 0, "no sink takes bytes yet");
        let (a, b) = (log.join(), log.join());
        log.write_bytes(encode);
        log.write_bytes(encode);
        push(&mut log, 1);
        assert_eq!(log.journal().end(), 8);
        log.leave(a, None, true);
        push(&mut log, 2);
        assert_eq!(log.journal().end(), 16, "one still takes bytes");
        // The last is evicted: it stalls, and its backlog passes the cap.
        let eviction = Eviction::default();
        log.stall(b, feeder(), eviction.clone(), true);
        log.release(plain, 3, true);
        for n in 3..13 {
            push(&mut log, n);
            log.release(n, n + 1, true);
        }
        assert!(eviction.get().is_some(), "evicted");
        let end = log.journal().end();
        push(&mut log, 13);
        assert_eq!(log.journal().end(), end, "no sink takes bytes any more");
    }

    /// A backlog weighs what the log holds for it: the message, its slot
    /// and, while a sink takes bytes, the journal's bytes of it.
    #[test]
    fn a_backlog_weighs_its_slots_and_the_journals_bytes() {
        let mut log = Log::new(BOUNDS);
        let sink = log.join();
        push(&mut log, 0);
        assert_eq!(log.backlog(sink).bytes, W as u64);
        log.write_bytes(encode);
        push(&mut log, 1);
        assert_eq!(log.backlog(sink).bytes, (W + W + 8) as u64);
    }

    /// The room a long backlog took goes back once the log is trimmed: a
    /// stalled sink's backlog does not stay with the log after it.
    #[test]
    fn the_room_a_long_backlog_took_goes_back() {
        let mut log = Log::new(Bounds {
            pacing_messages: usize::MAX,
            pacing_bytes: usize::MAX - 1,
            max_bytes: usize::MAX,
        });
        let sink = log.join();
        for n in 0..100_000 {
            push(&mut log, n);
        }
        assert!(log.slots.capacity() >= 100_000);
        log.release(sink, 99_000, true);
        assert_eq!(log.len(), 1_000);
        assert!(
            log.slots.capacity() < 2 * MIN_ROOM,
            "room for {} slots kept",
            log.slots.capacity()
        );
        // A burst's room is kept however few the log holds.
        log.release(99_000, 100_000, true);
        assert!(log.slots.capacity() >= MIN_ROOM);
    }

    /// A round's release, `from..to` at once, moves one cursor: every place
    /// in the log then counts the cursors at it, and the front and the
    /// pacing head are the first cursor and the first pacing cursor.
    #[test]
    fn releasing_a_range_moves_one_cursor_and_the_head_and_front_follow() {
        let bounds = Bounds {
            pacing_messages: 6,
            pacing_bytes: 1000 * W,
            max_bytes: 1000 * W,
        };
        // Three sinks: `a` and `b` pacing, `c` stalled. `b` has taken the
        // first two; `a` takes `from..to`, having taken what comes before.
        for (from, to) in [(0, 1), (0, 3), (0, 8), (2, 5), (3, 8), (5, 6)] {
            for c_takes_all in [false, true] {
                let mut log = Log::new(bounds);
                let (a, b, c) = (log.join(), log.join(), log.join());
                log.stall(c, feeder(), Eviction::default(), false);
                for n in 0..8 {
                    push(&mut log, n);
                }
                if c_takes_all {
                    log.release(c, 8, false);
                }
                log.release(b, 2, true);
                log.release(a, from, true);
                log.release(from, to, true);
                // Where each cursor is, worked out apart: (place, pacing).
                let c_at = if c_takes_all { 8 } else { 0 };
                let cursors = [(to, true), (2, true), (c_at, false)];
                let counts = |seq: u64| Cursors {
                    all: cursors.iter().filter(|(at, _)| *at == seq).count() as u32,
                    pacing: cursors.iter().filter(|&&(at, p)| at == seq && p).count() as u32,
                };
                let what = format!("released {from}..{to}, c took all: {c_takes_all}");
                let base = cursors.iter().map(|(at, _)| *at).min().unwrap();
                let head = cursors
                    .iter()
                    .filter(|(_, p)| *p)
                    .map(|(at, _)| *at)
                    .min()
                    .unwrap();
                assert_eq!(log.base, base, "{what}: the front");
                assert_eq!(log.pacing_head, head, "{what}: the pacing head");
                for seq in base..8 {
                    let slot = &log.slots[(seq - base) as usize];
                    assert_eq!(slot.cursors, counts(seq), "{what}: slot {seq}");
                }
                assert_eq!(log.at_end, counts(8), "{what}: the end");
            }
        }
    }
}
