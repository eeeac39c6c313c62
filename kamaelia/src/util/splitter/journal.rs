//! The journal: each message's bytes, written once for every sink that
//! takes bytes ([`Sink::encoded_where`](super::Sink::encoded_where)), which
//! are then given slices of it.
//!
//! Why: a sink that writes each message's bytes itself
//! ([`Sink::encode`](super::Sink::encode)) copies every message once per
//! sink, and in a chat of 50 clients that copy was the largest single cost
//! of a delivery. The journal copies a message once, as it is appended to
//! the log; a sink's delivery is then a test of its filter and, for a run of
//! messages that lie one after another in the journal, one slice (a
//! refcount) for the whole run.
//!
//! The bytes are written into an open buffer, and *sealed* into a block (a
//! frozen `Bytes`) before any feeder slices them; the splitter alone writes,
//! and a feeder seals at the start of its round, so each block holds the
//! messages of one turn of the splitter or so. Blocks leave the front with
//! the log's slots; a slice a sink still holds keeps its block's memory, and
//! nothing else of the journal, alive.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// The room the journal takes at a time for the bytes it writes: blocks are
/// slices of buffers this large (or of one message's size, if larger), so
/// that a burst's bytes lie one after another.
pub(crate) const JOURNAL_ROOM: usize = 64 * 1024;

/// Where the journal holds one message's bytes: offsets into everything it
/// has ever written. Empty for a message it holds no bytes of (a control
/// message, or one appended before any sink took bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl Span {
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Bytes lying one after another in one block of the journal: what a sink
/// is sent as one slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    /// The block's number (counted from the first block ever sealed).
    block: u64,
    start: u64,
    end: u64,
    /// Where the block ends: a run grows no further.
    block_end: u64,
}

impl Run {
    /// Grows the run by `span` if it follows on in the same block.
    #[inline]
    pub(crate) fn extend(&mut self, span: Span) -> bool {
        let follows = self.end == span.start && span.end <= self.block_end;
        if follows {
            self.end = span.end;
        }
        follows
    }
}

#[derive(Default)]
pub(crate) struct Journal {
    /// The bytes written since the last seal.
    open: BytesMut,
    /// Sealed blocks, oldest first, each with the offset it ends at.
    blocks: VecDeque<(u64, Bytes)>,
    /// The number of `blocks[0]`.
    first_block: u64,
    /// Everything sealed: the offset of `open`'s first byte.
    sealed: u64,
}

impl Journal {
    /// The offset of the next byte written.
    pub(crate) fn end(&self) -> u64 {
        self.sealed + self.open.len() as u64
    }

    /// Writes one message's bytes with `write`; `hint` is the size expected
    /// (its weight), so that room is taken once for a burst, not grown a
    /// message at a time.
    pub(crate) fn write(&mut self, hint: usize, write: impl FnOnce(&mut BytesMut)) -> Span {
        if self.open.capacity() - self.open.len() < hint {
            // Room for many more like it: a new buffer if the last one's
            // blocks are still held, the same one if they are all gone.
            self.open.reserve(JOURNAL_ROOM.max(hint));
        }
        let start = self.end();
        write(&mut self.open);
        Span {
            start,
            end: self.end(),
        }
    }

    /// Gives back the room it keeps for what it will write, if it holds
    /// nothing not yet sealed: no sink takes bytes any more.
    pub(crate) fn rest(&mut self) {
        if self.open.is_empty() {
            self.open = BytesMut::new();
        }
    }

    /// Seals what was written since the last seal into a block, so that it
    /// can be sliced.
    pub(crate) fn seal(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let block = self.open.split().freeze();
        self.sealed += block.len() as u64;
        self.blocks.push_back((self.sealed, block));
    }

    /// Drops the blocks that end at or before `from`: no message still in
    /// the log has bytes in them.
    pub(crate) fn trim(&mut self, from: u64) {
        while self.blocks.front().is_some_and(|(end, _)| *end <= from) {
            self.blocks.pop_front();
            self.first_block += 1;
        }
    }

    /// A run of the sealed bytes `span` (not empty), to grow with the
    /// messages after it.
    pub(crate) fn run(&self, span: Span) -> Run {
        let at = self.blocks.partition_point(|(end, _)| *end <= span.start);
        let block_end = self.blocks.get(at).map_or(span.end, |(end, _)| *end);
        debug_assert!(span.end <= block_end, "a span not sealed, or across blocks");
        Run {
            block: self.first_block + at as u64,
            start: span.start,
            end: span.end,
            block_end,
        }
    }

    /// The bytes of `run`, a slice of its block: no copy.
    pub(crate) fn slice(&self, run: Run) -> Bytes {
        let at = (run.block - self.first_block) as usize;
        let (end, block) = &self.blocks[at];
        let start = end - block.len() as u64;
        block.slice((run.start - start) as usize..(run.end - start) as usize)
    }

    /// The bytes it keeps: its sealed blocks and what is not sealed yet.
    #[cfg(test)]
    pub(crate) fn held(&self) -> u64 {
        self.end()
            - self
                .blocks
                .front()
                .map_or(self.sealed, |(end, b)| end - b.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(journal: &mut Journal, bytes: &[u8]) -> Span {
        journal.write(bytes.len(), |out| out.extend_from_slice(bytes))
    }

    /// Messages written one after another are one run, within a block, and
    /// a slice of it holds their bytes; a run stops at a block's end.
    #[test]
    fn runs_follow_on_within_a_block_and_slice_without_copying() {
        let mut journal = Journal::default();
        let a = write(&mut journal, b"one\n");
        let b = write(&mut journal, b"two\n");
        journal.seal();
        let c = write(&mut journal, b"three\n");
        journal.seal();
        let mut run = journal.run(a);
        assert!(run.extend(b));
        assert!(!run.extend(c), "c is in the next block");
        let slice = journal.slice(run);
        assert_eq!(&slice[..], b"one\ntwo\n");
        let next = journal.run(c);
        assert_eq!(&journal.slice(next)[..], b"three\n");
        // The two blocks share one buffer: the slices point into it.
        assert_eq!(
            slice.as_ptr() as usize + slice.len(),
            journal.slice(next).as_ptr() as usize
        );
    }

    /// A run grows only by the bytes that come straight after it: a message
    /// skipped between breaks it.
    #[test]
    fn a_skipped_message_breaks_a_run() {
        let mut journal = Journal::default();
        let spans: Vec<Span> = [b"a\n", b"b\n", b"c\n"]
            .iter()
            .map(|m| write(&mut journal, *m))
            .collect();
        journal.seal();
        let mut run = journal.run(spans[0]);
        assert!(!run.extend(spans[2]));
        assert_eq!(&journal.slice(run)[..], b"a\n");
    }

    /// Trimming drops the blocks before a point, and only those; a slice
    /// taken before stays whole.
    #[test]
    fn trimmed_blocks_leave_and_slices_taken_stay_whole() {
        let mut journal = Journal::default();
        let a = write(&mut journal, b"first\n");
        journal.seal();
        let b = write(&mut journal, b"second\n");
        journal.seal();
        let kept = journal.slice(journal.run(a));
        journal.trim(b.start);
        assert_eq!(journal.held(), 7, "only the second block is left");
        assert_eq!(&journal.slice(journal.run(b))[..], b"second\n");
        assert_eq!(&kept[..], b"first\n");
        journal.trim(journal.end());
        assert_eq!(journal.held(), 0);
    }
}
