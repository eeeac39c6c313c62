//! [`Delivery`]: how a feeder hands its sink each message of the log — a
//! copy, what the sink's [`filter_map`](super::Sink::filter_map) makes of
//! it, its bytes, gathered by the sink's [`encode`](super::Sink::encode), or
//! slices of the journal's bytes ([`encoded_where`](super::Sink::encoded_where)).

use std::rc::Rc;

use axon::Outbox;
use bytes::{Bytes, BytesMut};

use super::journal::{Journal, Run, Span};

/// How much an [`Encoded`] delivery gathers before it sends: a bound on
/// what one message to the sink holds, and so, with the size limit of the
/// sink's box, on what waits for the sink outside the log.
pub(crate) const ENCODE_BATCH: usize = 16 * 1024;

/// How a feeder hands its sink the messages of the log, through the outbox
/// linked to the sink's data box.
pub(crate) trait Delivery<T>: 'static {
    /// What the sink's data box takes.
    type Out: 'static;

    /// Whether it takes the journal's bytes (its sink joined the log with
    /// [`write_bytes`](super::log::Log::write_bytes)).
    const TAKES_BYTES: bool = false;

    /// Called before a round's first [`offer`](Self::offer): false if the
    /// sink has no room yet for what was kept from the last round (the
    /// round then takes nothing).
    fn begin(&mut self, _outbox: &Outbox<Self::Out>) -> bool {
        true
    }

    /// Hands the sink `message`, whose bytes the journal holds at `bytes`:
    /// false, having taken nothing, if the sink has no room for it.
    fn offer(
        &mut self,
        message: &T,
        bytes: Span,
        journal: &Journal,
        outbox: &Outbox<Self::Out>,
    ) -> bool;

    /// Sends what it has taken and not yet sent: false if the sink has no
    /// room for it (it is kept, to send first next time). Nothing of the
    /// journal is kept past it: the log may let go of what was taken.
    fn flush(&mut self, journal: &Journal, outbox: &Outbox<Self::Out>) -> bool;

    /// True while it keeps memory for the next round.
    fn keeps_room(&self) -> bool {
        false
    }

    /// Gives back the memory it keeps for the next round, if it holds
    /// nothing not yet sent.
    fn rest(&mut self) {}
}

/// Each message as `f` makes it: one message to the sink per message kept.
pub(crate) struct Mapped<F>(pub(crate) Rc<F>);

impl<T, U, F> Delivery<T> for Mapped<F>
where
    U: 'static,
    F: Fn(&T) -> Option<U> + 'static,
{
    type Out = U;

    fn offer(&mut self, message: &T, _: Span, _: &Journal, outbox: &Outbox<U>) -> bool {
        (self.0)(message).is_none_or(|out| outbox.try_send(out).is_ok())
    }

    fn flush(&mut self, _: &Journal, _: &Outbox<U>) -> bool {
        true
    }
}

/// What a sink without a [`filter_map`](super::Sink::filter_map) is given of
/// each message: a clone.
pub(crate) fn copy<T: Clone>(message: &T) -> Option<T> {
    Some(message.clone())
}

/// Each message's bytes, as `f` writes them, gathered: one message to the
/// sink per round of the feeder (or per [`ENCODE_BATCH`]), not one per
/// message.
pub(crate) struct Encoded<F> {
    f: Rc<F>,
    batch: BytesMut,
    /// A batch the sink had no room for.
    held: Option<Bytes>,
}

impl<F> Encoded<F> {
    pub(crate) fn new(f: Rc<F>) -> Self {
        Encoded {
            f,
            batch: BytesMut::new(),
            held: None,
        }
    }
}

/// Sends `batch`, or keeps it in `held` if the sink has no room: false then.
fn send_or_hold(held: &mut Option<Bytes>, batch: Bytes, outbox: &Outbox<Bytes>) -> bool {
    match outbox.try_send(batch) {
        Ok(()) => true,
        Err(full) => {
            *held = Some(full.into_inner());
            false
        }
    }
}

/// Sends what `held` holds, if anything: false if the sink still has no room.
///
/// Tried again rather than refused outright: only a refused send has the
/// sink's box wake the feeder when it has room.
#[inline(always)]
fn retry(held: &mut Option<Bytes>, outbox: &Outbox<Bytes>) -> bool {
    // Asked before anything is moved: on the path of every message.
    held.is_none() || retry_held(held, outbox)
}

#[cold]
fn retry_held(held: &mut Option<Bytes>, outbox: &Outbox<Bytes>) -> bool {
    match held.take() {
        Some(batch) => send_or_hold(held, batch, outbox),
        None => true,
    }
}

impl<T, F> Delivery<T> for Encoded<F>
where
    F: Fn(&T, &mut BytesMut) + 'static,
{
    type Out = Bytes;

    // Called once per message delivered, from one place: inlined there.
    #[inline(always)]
    fn offer(&mut self, message: &T, _: Span, _: &Journal, outbox: &Outbox<Bytes>) -> bool {
        if !retry(&mut self.held, outbox) {
            return false;
        }
        (self.f)(message, &mut self.batch);
        if self.batch.len() >= ENCODE_BATCH {
            let batch = self.batch.split().freeze();
            // Taken either way: a batch the sink has no room for is held,
            // and nothing more is taken until it has gone.
            send_or_hold(&mut self.held, batch, outbox);
        }
        true
    }

    fn flush(&mut self, _: &Journal, outbox: &Outbox<Bytes>) -> bool {
        if !retry(&mut self.held, outbox) {
            return false;
        }
        if self.batch.is_empty() {
            return true;
        }
        // The buffer's room to spare stays, for the next round: once what
        // was sent from it has been written, the next batch takes it back
        // whole. (A new buffer each round, given away whole, cost the chat's
        // server about 40% more system time, and more instructions.) The
        // feeder has it given back once nothing new has come for a while
        // (`rest`).
        let batch = self.batch.split().freeze();
        send_or_hold(&mut self.held, batch, outbox)
    }

    fn keeps_room(&self) -> bool {
        self.batch.capacity() > 0
    }

    fn rest(&mut self) {
        if self.batch.is_empty() {
            self.batch = BytesMut::new();
        }
    }
}

/// The journal's bytes of each message `keep` keeps, as slices: one
/// message to the sink per run of kept messages lying one after another in
/// the journal, with no copy.
pub(crate) struct Sliced<F> {
    keep: Rc<F>,
    /// The run being grown, within this round.
    run: Option<Run>,
    /// A slice the sink had no room for. While one is held, no run is open.
    held: Option<Bytes>,
}

impl<F> Sliced<F> {
    pub(crate) fn new(keep: Rc<F>) -> Self {
        Sliced {
            keep,
            run: None,
            held: None,
        }
    }
}

impl<T, F> Delivery<T> for Sliced<F>
where
    F: Fn(&T) -> bool + 'static,
{
    type Out = Bytes;

    const TAKES_BYTES: bool = true;

    fn begin(&mut self, outbox: &Outbox<Bytes>) -> bool {
        retry(&mut self.held, outbox)
    }

    // Called once per message delivered, from one place: inlined there.
    // Nothing is held here: `begin` sent what was, and a slice refused in
    // this round ends it.
    #[inline(always)]
    fn offer(
        &mut self,
        message: &T,
        bytes: Span,
        journal: &Journal,
        outbox: &Outbox<Bytes>,
    ) -> bool {
        if !(self.keep)(message) {
            return true;
        }
        // The common case first: the message follows the run (a message
        // with no bytes adds nothing).
        if let Some(run) = &mut self.run {
            if run.extend(bytes) {
                return true;
            }
        }
        if bytes.is_empty() {
            return true;
        }
        if let Some(run) = self.run.take() {
            if !send_or_hold(&mut self.held, journal.slice(run), outbox) {
                // Not taken: offered again once the held slice has gone.
                return false;
            }
        }
        self.run = Some(journal.run(bytes));
        true
    }

    fn flush(&mut self, journal: &Journal, outbox: &Outbox<Bytes>) -> bool {
        if !retry(&mut self.held, outbox) {
            return false;
        }
        match self.run.take() {
            Some(run) => send_or_hold(&mut self.held, journal.slice(run), outbox),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An encoding delivery keeps the room its last batch left, and gives
    /// it back when told to rest, unless it still has bytes to send.
    #[test]
    fn an_encoded_delivery_gives_back_its_room_at_rest() {
        let mut delivery = Encoded::new(Rc::new(|_: &u8, _: &mut BytesMut| {}));
        assert!(!Delivery::<u8>::keeps_room(&delivery));
        // As a batch grows, its buffer has room beyond it.
        delivery.batch.reserve(1024);
        delivery.batch.extend_from_slice(&[1; 100]);
        let sent = delivery.batch.split().freeze();
        assert!(
            Delivery::<u8>::keeps_room(&delivery),
            "the room after the batch"
        );
        delivery.batch.extend_from_slice(&[2; 10]);
        Delivery::<u8>::rest(&mut delivery);
        assert_eq!(&delivery.batch[..], &[2; 10], "bytes not yet sent are kept");
        delivery.batch.clear();
        Delivery::<u8>::rest(&mut delivery);
        assert!(!Delivery::<u8>::keeps_room(&delivery));
        assert_eq!(sent.len(), 100);
    }
}
