//! [`Lent`]: an inline protocol lent by its sleeping adapter to the code
//! that sees its connection's bytes arrive (the Selector's poll on epoll,
//! the ring's completions with the `io-uring` feature), which answers with
//! it, without resuming the adapter, until the adapter takes it back.
//!
//! An adapter lends its protocol only when it is about to sleep with
//! nothing queued to send, and takes it back at the start of its next turn,
//! before anything else: what was answered for it went out before anything
//! it sends itself, and what could not go out (an answer sent whole, the
//! rest of one the socket did not take) is handed back to it, in order.

use std::collections::VecDeque;
use std::io;

use axon::ComponentRef;
use bytes::Bytes;

use super::inline_protocol::{self, InlineProtocol};

/// A lent protocol, in the entry of its connection (with the Selector, or
/// in the ring's table): 24 bytes while nothing is lent.
#[derive(Default)]
pub(crate) struct Lent {
    protocol: Option<Box<dyn InlineProtocol>>,
    /// What the adapter must see to (it has been woken to): set once an
    /// answer leaves something to send, the protocol finishes, or the
    /// connection fails; nothing is answered here after that.
    // Boxed: 8 bytes in every entry, for what only the unusual answer needs.
    handed_back: Option<Box<HandedBack>>,
}

/// What answers left for the adapter.
#[derive(Default)]
struct HandedBack {
    /// To be sent before anything else, in order.
    queued: VecDeque<Bytes>,
    /// The error that ends the connection (the protocol panicked, or a
    /// read or a write failed).
    error: Option<io::Error>,
}

/// A lent protocol, as it comes back to its adapter.
#[derive(Default)]
pub(crate) struct TakenBack {
    /// The protocol; `None` if it finished (or panicked) meanwhile.
    pub(crate) protocol: Option<Box<dyn InlineProtocol>>,
    /// What its answers queued that is still to be sent, in order.
    pub(crate) queued: VecDeque<Bytes>,
    /// What ended the connection meanwhile, if something did.
    pub(crate) error: Option<io::Error>,
}

/// One call's answer, between the call and its sending (apart, so that the
/// bytes it answered, which may be borrowed from where they were received,
/// are let go before the answer is sent).
pub(crate) struct Answer {
    finished: bool,
    queued: VecDeque<Bytes>,
}

impl Lent {
    /// Lends `protocol`.
    pub(crate) fn lend(&mut self, protocol: Box<dyn InlineProtocol>) {
        self.protocol = Some(protocol);
    }

    /// Takes back what is lent, with what its answers left.
    pub(crate) fn take_back(&mut self) -> TakenBack {
        let handed_back = self.handed_back.take().map(|h| *h).unwrap_or_default();
        TakenBack {
            protocol: self.protocol.take(),
            queued: handed_back.queued,
            error: handed_back.error,
        }
    }

    /// Whether a protocol is lent, and may answer what comes: nothing has
    /// been handed back for the adapter to see to first.
    pub(crate) fn may_answer(&self) -> bool {
        self.protocol.is_some() && self.handed_back.is_none()
    }

    /// Hands `error` to the adapter: nothing more is answered here.
    pub(crate) fn fail(&mut self, error: io::Error) {
        self.protocol = None;
        self.handed_back.get_or_insert_with(Box::default).error = Some(error);
    }

    /// Calls the protocol with `data`, inside `adapter`'s span, gathering
    /// its answer in `out`. Its panic (logged) is handed to the adapter as
    /// the error that closes the connection: then `None`.
    pub(crate) fn call(
        &mut self,
        adapter: &ComponentRef,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<Answer> {
        let protocol = self.protocol.as_deref_mut()?;
        let mut queued = VecDeque::new();
        let called = adapter.in_span(|| {
            inline_protocol::answer(protocol, out, &mut queued, |protocol, reply| {
                protocol.on_data(data, reply)
            })
        });
        match called {
            Ok(finished) => Some(Answer { finished, queued }),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// Sends `answer`: what was gathered in `out` goes to `write` (which
    /// sends what the socket takes of it, and says how much) unless the
    /// call also queued something, which must go first; what is left is
    /// handed back. Whether the adapter must be woken to see to something.
    pub(crate) fn send(
        &mut self,
        answer: Answer,
        out: &mut Vec<u8>,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<usize>,
    ) -> bool {
        let Answer {
            finished,
            mut queued,
        } = answer;
        if queued.is_empty() && !out.is_empty() {
            let len = out.len();
            match write(out) {
                Ok(written) if written < len => {
                    queued.push_back(Bytes::copy_from_slice(&out[written..]));
                }
                Ok(_) => {}
                Err(e) => {
                    self.fail(e);
                    return true;
                }
            }
        } else if !out.is_empty() {
            queued.push_back(Bytes::from(std::mem::take(out)));
        }
        if finished {
            self.protocol = None;
        }
        if finished || !queued.is_empty() {
            self.handed_back.get_or_insert_with(Box::default).queued = queued;
            return true;
        }
        if queued.capacity() == 0 {
            // Nothing to free, and its drop would cost a tenth of the rest
            // of an echo's answer (callgrind).
            std::mem::forget(queued);
        }
        false
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::internet::Reply;

    /// Answers "<data>", sending `data` whole (not copied) if it holds a
    /// `!`; finishes at "bye", panics at "panic"; counts its calls. (The
    /// adapter's tests use it too.)
    #[derive(Default)]
    pub(crate) struct Brackets(pub(crate) Rc<Cell<u64>>);

    impl InlineProtocol for Brackets {
        fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
            self.0.set(self.0.get() + 1);
            reply.send(b"<");
            if data.contains(&b'!') {
                reply.send_bytes(Bytes::copy_from_slice(data));
            } else {
                reply.send(data);
            }
            reply.send(b">");
            if data == b"bye" {
                reply.finish();
            }
            if data == b"panic" {
                panic!("asked to");
            }
        }
    }

    fn adapter() -> ComponentRef {
        struct Nothing;
        impl axon::Component for Nothing {
            type Boxes = axon::Standard<(), ()>;
            async fn main(self, _cx: axon::Cx<Self::Boxes>) {}
        }
        ComponentRef::new(Nothing)
    }

    /// Answers `data` with `lent`, the socket taking at most `takes` bytes:
    /// what was written, and whether the adapter is to be woken.
    fn answer(lent: &mut Lent, data: &[u8], takes: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let Some(answer) = lent.call(&adapter(), data, &mut out) else {
            return (Vec::new(), true);
        };
        let mut written = Vec::new();
        let wake = lent.send(answer, &mut out, |out| {
            let n = out.len().min(takes);
            written.extend_from_slice(&out[..n]);
            Ok(n)
        });
        (written, wake)
    }

    fn lent() -> Lent {
        let mut lent = Lent::default();
        lent.lend(Box::new(Brackets::default()));
        lent
    }

    #[test]
    fn an_answer_the_socket_takes_wakes_no_one() {
        let mut lent = lent();
        assert_eq!(answer(&mut lent, b"hi", 100), (b"<hi>".to_vec(), false));
        assert!(lent.may_answer());
        let back = lent.take_back();
        assert!(back.protocol.is_some() && back.queued.is_empty() && back.error.is_none());
    }

    #[test]
    fn what_the_socket_does_not_take_is_handed_back() {
        let mut lent = lent();
        assert_eq!(answer(&mut lent, b"hello", 3), (b"<he".to_vec(), true));
        assert!(
            !lent.may_answer(),
            "answered on before the adapter saw to it"
        );
        let back = lent.take_back();
        assert_eq!(back.queued, [Bytes::from_static(b"llo>")]);
        assert!(back.protocol.is_some());
        assert!(lent.take_back().protocol.is_none(), "taken back once");
    }

    #[test]
    fn an_answer_with_a_part_sent_whole_is_all_handed_back_in_order() {
        let mut lent = lent();
        assert_eq!(answer(&mut lent, b"a!", 100), (Vec::new(), true));
        let queued: Vec<u8> = lent.take_back().queued.iter().flatten().copied().collect();
        assert_eq!(queued, b"<a!>");
    }

    #[test]
    fn a_protocol_that_finishes_is_not_given_back() {
        let mut lent = lent();
        assert_eq!(answer(&mut lent, b"bye", 100), (b"<bye>".to_vec(), true));
        let back = lent.take_back();
        assert!(back.protocol.is_none() && back.queued.is_empty() && back.error.is_none());
    }

    #[test]
    fn a_panic_is_handed_back_as_the_error_and_nothing_of_its_answer_is_sent() {
        let mut lent = lent();
        assert_eq!(answer(&mut lent, b"panic", 100), (Vec::new(), true));
        let back = lent.take_back();
        assert!(back.protocol.is_none() && back.queued.is_empty());
        let error = back.error.expect("the panic, as an error").to_string();
        assert!(error.contains("asked to"), "{error}");
    }

    #[test]
    fn a_failed_write_is_handed_back_as_the_error() {
        let mut lent = lent();
        let mut out = Vec::new();
        let answer = lent.call(&adapter(), b"hi", &mut out).expect("answered");
        assert!(lent.send(answer, &mut out, |_| Err(io::ErrorKind::BrokenPipe.into())));
        let back = lent.take_back();
        assert_eq!(
            back.error.map(|e| e.kind()),
            Some(io::ErrorKind::BrokenPipe)
        );
        assert!(back.protocol.is_none());
    }
}
