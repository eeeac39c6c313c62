//! [`LineSplitter`]: a byte stream cut into lines, with a bound on how long a
//! line may be.

use std::error::Error;
use std::fmt;
use std::future::Future;

use axon::ipc::ErrorInformation;
use axon::{Component, Cx, Standard};
use bytes::{Bytes, BytesMut};

/// The longest line a [`LineSplitter`] accepts unless told otherwise: 64 KiB.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 64 * 1024;

/// Cuts a stream of bytes (`Bytes` chunks cut anywhere, as a socket delivers
/// them) into lines, and sends each line on.
///
/// A line ends with `\n`; a `\r\n` ending is a `\n` ending whose line ends in
/// `\r`. Lines keep their ending unless [`strip_newline`](Self::strip_newline)
/// is set, when both `\n` and `\r\n` are removed. A line wholly inside one
/// chunk is sent as a slice of that chunk (no copy); only a line spread
/// across chunks is copied together.
///
/// # Bounded memory
///
/// A line may be at most [`max_line_length`](Self::max_line_length) bytes
/// long, counting everything before its `\n` (a `\r` included). The splitter
/// never holds more than that of an unfinished line, whatever a peer sends: a
/// longer line is an error. The lines before it are sent, the error
/// ([`LineTooLong`]) is logged and sent out of `signal` as
/// `Ipc::ErrorInformation`, and the component ends (the rest of the stream
/// cannot be split reliably).
///
/// # Ending
///
/// Any message on `control` ends it, once every chunk that arrived before it
/// has been split. On `ProducerFinished` a last line without a newline is sent
/// too (a stream need not end with one); on anything else it is dropped. The
/// control message is then passed on out of `signal`.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): the stream, in chunks cut anywhere.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it (see above).
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): one message a line (or, with
///   [`lines_together`](Self::lines_together), the whole lines of a chunk).
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): the control message that ended it, or
///   `ErrorInformation` carrying a [`LineTooLong`].
///
/// # Examples
///
/// ```
/// use axon::Background;
/// use bytes::Bytes;
/// use kamaelia::LineSplitter;
///
/// let background = Background::start()?;
/// let splitter = background.handle(|| LineSplitter::new().strip_newline());
/// splitter.put(Bytes::from_static(b"GET / HTTP/1.0\r\nHost: exa"));
/// splitter.put(Bytes::from_static(b"mple.org\r\n\r\nbody"));
/// splitter.finish(); // `ProducerFinished`: the last line comes too
/// let lines: Vec<Bytes> = std::iter::from_fn(|| splitter.get()).collect();
/// assert_eq!(lines, ["GET / HTTP/1.0", "Host: example.org", "", "body"]);
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug)]
pub struct LineSplitter {
    max_line_length: usize,
    strip_newline: bool,
    together: bool,
}

impl Default for LineSplitter {
    fn default() -> Self {
        LineSplitter {
            max_line_length: DEFAULT_MAX_LINE_LENGTH,
            strip_newline: false,
            together: false,
        }
    }
}

impl LineSplitter {
    /// A splitter keeping each line's ending, accepting lines up to
    /// [`DEFAULT_MAX_LINE_LENGTH`].
    pub fn new() -> Self {
        LineSplitter::default()
    }

    /// Accepts lines of at most `bytes` bytes before their `\n`.
    ///
    /// ```
    /// let splitter = kamaelia::LineSplitter::new().max_line_length(80);
    /// # let _ = splitter;
    /// ```
    pub fn max_line_length(mut self, bytes: usize) -> Self {
        self.max_line_length = bytes;
        self
    }

    /// Removes each line's `\n` or `\r\n`.
    pub fn strip_newline(mut self) -> Self {
        self.strip_newline = true;
        self
    }

    /// Sends the whole lines that lie together in a chunk as one message: a
    /// slice of the chunk holding one or more lines, each with its ending
    /// (which is what tells them apart, so [`strip_newline`](Self::strip_newline)
    /// does not apply). A line spread across chunks is still copied together
    /// and sent by itself, and a last line without a newline comes alone at
    /// `ProducerFinished`; every line is still checked against
    /// [`max_line_length`](Self::max_line_length).
    ///
    /// For a consumer that passes lines on rather than looking at each one:
    /// a chat's server, say, where every message then costs each client's
    /// delivery once for all the lines a read brought, not once per line
    /// (a client pasting 200 lines, read in one chunk, is one message to
    /// fan out, not 200).
    ///
    /// ```
    /// use axon::Background;
    /// use bytes::Bytes;
    /// use kamaelia::LineSplitter;
    ///
    /// let background = Background::start()?;
    /// let splitter = background.handle(|| LineSplitter::new().lines_together());
    /// splitter.put(Bytes::from_static(b"one\ntwo\nthr"));
    /// splitter.put(Bytes::from_static(b"ee\nfour\nfive\n"));
    /// splitter.finish();
    /// let messages: Vec<Bytes> = std::iter::from_fn(|| splitter.get()).collect();
    /// assert_eq!(messages, ["one\ntwo\n", "three\n", "four\nfive\n"]);
    /// background.join()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn lines_together(mut self) -> Self {
        self.together = true;
        self
    }
}

/// A line longer than a [`LineSplitter`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineTooLong {
    /// The longest line accepted.
    pub max_line_length: usize,
    /// How much of the line had arrived when it was refused (more than
    /// `max_line_length`; the line may be longer still).
    pub seen: usize,
}

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line longer than the {} bytes allowed ({} bytes without a newline)",
            self.max_line_length, self.seen
        )
    }
}

impl Error for LineTooLong {}

/// The splitting itself, apart from the component.
#[derive(Debug)]
struct Splitter {
    max_line_length: usize,
    strip_newline: bool,
    together: bool,
    /// The start of a line whose `\n` has not arrived: never longer than
    /// `max_line_length`.
    partial: BytesMut,
}

impl Splitter {
    fn new(config: &LineSplitter) -> Self {
        Splitter {
            max_line_length: config.max_line_length,
            strip_newline: config.strip_newline && !config.together,
            together: config.together,
            partial: BytesMut::new(),
        }
    }

    /// Adds the lines `chunk` completes to `lines` (together, those lying
    /// whole in it as one), and keeps its unfinished end. On error, `lines`
    /// holds the lines before the one too long.
    fn push(&mut self, chunk: Bytes, lines: &mut Vec<Bytes>) -> Result<(), LineTooLong> {
        let mut start = 0;
        loop {
            // Together, the whole lines that fit go as one slice; what is
            // left is no `\n` at all, or the line too long, which the steps
            // below keep or refuse as for a line by itself.
            if self.together && self.partial.is_empty() {
                let fit = self.whole_lines_that_fit(&chunk, start);
                if fit > start {
                    lines.push(chunk.slice(start..fit));
                    start = fit;
                }
            }
            let Some(at) = memchr::memchr(b'\n', &chunk[start..]) else {
                break;
            };
            // Checked before copying anything: `partial` stays bounded.
            self.check(self.partial.len() + at)?;
            let end = start + at + 1;
            let line = if self.partial.is_empty() {
                chunk.slice(start..end)
            } else {
                self.partial.extend_from_slice(&chunk[start..end]);
                self.partial.split().freeze()
            };
            lines.push(self.trim(line));
            start = end;
        }
        let rest = &chunk[start..];
        self.check(self.partial.len() + rest.len())?;
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// Where the whole lines from `start` that are no longer than allowed
    /// end, as far as it is quick to tell; the line there (if any) is for
    /// the caller to split and check by itself.
    ///
    /// Why: together, the lines are not cut apart, only checked against the
    /// maximum, and finding each `\n` costs a search per line (a chat
    /// line is some 60 bytes, where the search's setup costs as much as
    /// its scan). Every line from a line's start fits if a `\n` lies within
    /// the next `max + 1` bytes, so one backward search per window of that
    /// size steps over all the lines ending in it.
    fn whole_lines_that_fit(&self, chunk: &[u8], start: usize) -> usize {
        let Some(last) = memchr::memrchr(b'\n', &chunk[start..]) else {
            return start;
        };
        let whole = start + last + 1;
        let window = self.max_line_length.saturating_add(1);
        let mut from = start;
        while whole - from > window {
            // The window lies wholly before `whole`: each line it ends fits.
            match memchr::memrchr(b'\n', &chunk[from..from + window]) {
                Some(at) => from += at + 1,
                // The line at `from` is too long.
                None => return from,
            }
        }
        // What is left ends with a `\n` and is no longer than a window.
        whole
    }

    /// The unfinished last line, if there is one: at the end of the stream.
    fn finish(&mut self) -> Option<Bytes> {
        (!self.partial.is_empty()).then(|| self.partial.split().freeze())
    }

    fn check(&self, length: usize) -> Result<(), LineTooLong> {
        if length > self.max_line_length {
            return Err(LineTooLong {
                max_line_length: self.max_line_length,
                seen: length,
            });
        }
        Ok(())
    }

    fn trim(&self, mut line: Bytes) -> Bytes {
        if self.strip_newline {
            let ending = if line.ends_with(b"\r\n") { 2 } else { 1 };
            line.truncate(line.len() - ending);
        }
        line
    }
}

impl Component for LineSplitter {
    type Boxes = Standard<Bytes, Bytes>;

    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments twice in its frame (rust-lang/rust#62958), and a component
    // made for each connection carries its frame for as long as it lives.
    #[allow(clippy::manual_async_fn)]
    fn main(self, cx: Cx<Self::Boxes>) -> impl Future<Output = ()> + 'static {
        async move {
            let mut splitter = Splitter::new(&self);
            let mut lines = Vec::new();
            while let Some(chunk) = cx.recv_until_finished().await {
                let split = splitter.push(chunk, &mut lines);
                // `let … else`, not `for`: the loop's `Option` would stay
                // in the frame beside the send.
                let mut drain = lines.drain(..);
                loop {
                    let Some(line) = drain.next() else { break };
                    cx.outbox.send(line).await;
                }
                drop(drain);
                if let Err(too_long) = split {
                    tracing::warn!(target: "kamaelia::line_splitter", component = %cx.id(), error = %too_long, "ending");
                    let error = ErrorInformation::new(cx.id(), too_long);
                    // Boxed, as the ending below: sent once.
                    Box::pin(cx.signal.send(error.into())).await;
                    return;
                }
            }
            Box::pin(finish(&cx, splitter)).await;
        }
    }
}

/// Ends a LineSplitter told by `control` (if it was) to stop: after the
/// end of the data, the unfinished last line goes out first.
async fn finish(cx: &Cx<Standard<Bytes, Bytes>>, mut splitter: Splitter) {
    let Some(message) = cx.control.recv() else {
        return;
    };
    if message.is_producer_finished() {
        if let Some(last) = splitter.finish() {
            cx.outbox.send(last).await;
        }
    }
    cx.signal.send(message).await;
}

#[cfg(test)]
mod tests {
    use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
    use proptest::prelude::*;

    use super::*;
    use crate::util::rig::Rig;

    /// Splits `chunks` with `config`, returning the lines and the unfinished
    /// end, or the error.
    fn split(config: &LineSplitter, chunks: &[&[u8]]) -> Result<Vec<Bytes>, LineTooLong> {
        let mut splitter = Splitter::new(config);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(Bytes::copy_from_slice(chunk), &mut lines)?;
        }
        lines.extend(splitter.finish());
        Ok(lines)
    }

    #[test]
    fn many_lines_in_one_chunk_keep_their_endings() {
        let lines = split(&LineSplitter::new(), &[b"one\ntwo\r\n\nthree"]).unwrap();
        assert_eq!(lines, ["one\n", "two\r\n", "\n", "three"]);
    }

    #[test]
    fn stripping_removes_both_endings_even_split_between_chunks() {
        let config = LineSplitter::new().strip_newline();
        let lines = split(&config, &[b"one\r", b"\ntwo\n", b"\r\n"]).unwrap();
        assert_eq!(lines, ["one", "two", ""]);
    }

    #[test]
    fn a_line_across_many_chunks_comes_whole() {
        let lines = split(
            &LineSplitter::new(),
            &[b"he", b"l", b"", b"lo\nwor", b"ld\n"],
        )
        .unwrap();
        assert_eq!(lines, ["hello\n", "world\n"]);
    }

    #[test]
    fn a_line_inside_one_chunk_shares_its_buffer() {
        let chunk = Bytes::from_static(b"abc\ndef\n");
        let mut splitter = Splitter::new(&LineSplitter::new());
        let mut lines = Vec::new();
        splitter.push(chunk.clone(), &mut lines).unwrap();
        assert_eq!(lines[1].as_ptr(), chunk[4..].as_ptr());
    }

    #[test]
    fn a_line_of_exactly_the_maximum_passes_and_one_more_byte_fails() {
        let config = LineSplitter::new().max_line_length(4);
        assert_eq!(
            split(&config, &[b"abcd\n", b"ab", b"cd"]).unwrap(),
            ["abcd\n", "abcd"]
        );
        let err = split(&config, &[b"ab", b"cde\n"]).unwrap_err();
        assert_eq!(
            err,
            LineTooLong {
                max_line_length: 4,
                seen: 5
            }
        );
        // Without any newline at all: refused as soon as it is too long.
        let err = split(&config, &[b"abc", b"de"]).unwrap_err();
        assert_eq!(err.seen, 5);
    }

    #[test]
    fn memory_stays_bounded_whatever_is_sent() {
        let config = LineSplitter::new().max_line_length(16);
        let mut splitter = Splitter::new(&config);
        let mut lines = Vec::new();
        let mut refused = false;
        for _ in 0..1000 {
            if splitter
                .push(Bytes::from_static(b"xxxxxxx"), &mut lines)
                .is_err()
            {
                refused = true;
                break;
            }
            assert!(splitter.partial.len() <= 16);
        }
        assert!(refused);
    }

    /// What the splitter should make of `input`, whatever its chunking: the
    /// lines of the whole, each with its ending (a final one without), and
    /// the text length of the first line longer than `max` if there is one,
    /// with only the lines before it.
    fn lines_of(input: &[u8], max: usize) -> (Vec<&[u8]>, Option<usize>) {
        let mut lines = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let (line, text) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..=at], at),
                None => (rest, rest.len()),
            };
            if text > max {
                return (lines, Some(text));
            }
            lines.push(line);
            rest = &rest[line.len()..];
        }
        (lines, None)
    }

    /// `input` and where to cut it: bytes from a small alphabet heavy in
    /// line endings, so that lines are short, long, empty and `\r\n`-ended.
    fn cut_input() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
        let byte = prop_oneof![
            3 => Just(b'x'),
            1 => Just(b'\n'),
            1 => Just(b'\r'),
            1 => any::<u8>(),
        ];
        (
            proptest::collection::vec(byte, 0..200),
            proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
        )
            .prop_map(|(input, cuts)| {
                let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
                at.sort_unstable();
                (input, at)
            })
    }

    proptest! {
        // No regression files: a failure prints its shrunk input, to be made
        // a test of its own.
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        // Lines out are the lines of the concatenation, however the stream is
        // cut; an over-long line ends it after the lines before it; a last
        // line without a newline comes at the end; the unfinished line held
        // never passes the maximum; and nothing panics.
        #[test]
        fn any_chunking_gives_the_lines_of_the_whole(
            (input, cuts) in cut_input(),
            max in 0usize..40,
            strip in any::<bool>(),
            together in any::<bool>(),
        ) {
            let mut config = LineSplitter::new().max_line_length(max);
            if strip {
                config = config.strip_newline();
            }
            if together {
                config = config.lines_together();
            }
            // Together, endings are kept whatever `strip` says.
            let strip = strip && !together;
            let mut splitter = Splitter::new(&config);
            let mut lines = Vec::new();
            let mut outcome = Ok(());
            let mut from = 0;
            for to in cuts.into_iter().chain([input.len()]) {
                let chunk = Bytes::copy_from_slice(&input[from..to]);
                from = to;
                outcome = splitter.push(chunk, &mut lines);
                prop_assert!(splitter.partial.len() <= max, "holds {} > {max}", splitter.partial.len());
                if outcome.is_err() {
                    break;
                }
            }
            let (expected, too_long) = lines_of(&input, max);
            let mut last = None;
            match (outcome, too_long) {
                (Ok(()), None) => last = splitter.finish(),
                (Err(e), Some(text)) => {
                    prop_assert_eq!(e.max_line_length, max);
                    // Refused as soon as more than the maximum had arrived.
                    prop_assert!(e.seen > max && e.seen <= text, "seen {} of {}", e.seen, text);
                }
                (outcome, too_long) => {
                    prop_assert!(false, "got {:?}, a line of {:?} was too long", outcome, too_long);
                }
            }
            let expected: Vec<&[u8]> = expected
                .into_iter()
                .map(|line| match strip {
                    // A `\r` last in a line's text reads as a `\r\n` ending:
                    // the two cannot be told apart.
                    true => line
                        .strip_suffix(b"\r\n")
                        .or_else(|| line.strip_suffix(b"\n"))
                        .unwrap_or(line),
                    false => line,
                })
                .collect();
            if together {
                // Each message is whole lines, the last unfinished one
                // alone; the lines are those of the whole, in order.
                for message in &lines {
                    prop_assert!(message.ends_with(b"\n"), "{:?} is not whole lines", message);
                }
                lines.extend(last);
                prop_assert_eq!(lines.concat(), expected.concat());
            } else {
                lines.extend(last);
                prop_assert_eq!(lines, expected);
            }
        }
    }

    #[test]
    fn together_the_lines_lying_whole_in_a_chunk_are_one_slice_of_it() {
        let config = LineSplitter::new().lines_together();
        let mut splitter = Splitter::new(&config);
        let mut lines = Vec::new();
        splitter
            .push(Bytes::from_static(b"a\nb"), &mut lines)
            .unwrap();
        let chunk = Bytes::from_static(b"c\nd\r\ne\n\nf");
        splitter.push(chunk.clone(), &mut lines).unwrap();
        // The line spread across the two chunks, then the rest as one.
        assert_eq!(lines, ["a\n", "bc\n", "d\r\ne\n\n"]);
        assert_eq!(lines[2].as_ptr(), chunk[2..].as_ptr(), "no copy");
        assert_eq!(splitter.finish().unwrap(), "f");
    }

    #[test]
    fn together_the_lines_before_one_too_long_are_sent_and_it_is_refused() {
        let config = LineSplitter::new().lines_together().max_line_length(3);
        let err = split(&config, &[b"ab\nabc\nabcd\nab\n"]).unwrap_err();
        assert_eq!(err.seen, 4);
        let mut splitter = Splitter::new(&config);
        let mut lines = Vec::new();
        let outcome = splitter.push(Bytes::from_static(b"ab\nabc\nabcd\nab\n"), &mut lines);
        assert!(outcome.is_err());
        assert_eq!(lines, ["ab\nabc\n"]);
        // An unfinished end too long, after whole lines.
        let mut splitter = Splitter::new(&config);
        let mut lines = Vec::new();
        let outcome = splitter.push(Bytes::from_static(b"a\nb\nxyzw"), &mut lines);
        assert_eq!(outcome.unwrap_err().seen, 4);
        assert_eq!(lines, ["a\nb\n"]);
    }

    #[test]
    fn together_a_long_chunk_of_short_lines_is_checked_in_windows_and_is_one_slice() {
        // 1,000 lines of 65 bytes against a maximum of 100: windows of 101
        // bytes step over them; the line of 101 bytes after them is refused.
        let config = LineSplitter::new().lines_together().max_line_length(100);
        let line = |n: usize| format!("line {n:06} {}\n", "x".repeat(52));
        let short: String = (0..1000).map(line).collect();
        let mut input = short.clone().into_bytes();
        input.extend_from_slice(&[b'y'; 101]);
        input.extend_from_slice(b"\nafter\n");
        let chunk = Bytes::from(input);
        let mut splitter = Splitter::new(&config);
        let mut lines = Vec::new();
        let err = splitter.push(chunk.clone(), &mut lines).unwrap_err();
        assert_eq!(err.seen, 101);
        assert_eq!(lines, [short.as_bytes()]);
        assert_eq!(lines[0].as_ptr(), chunk.as_ptr(), "no copy");
        // A line of exactly the maximum is whole lines like the others.
        let mut splitter = Splitter::new(&config);
        let mut lines = Vec::new();
        let mut input = short.clone().into_bytes();
        input.extend_from_slice(&[b'z'; 100]);
        input.extend_from_slice(b"\n");
        splitter
            .push(Bytes::from(input.clone()), &mut lines)
            .unwrap();
        assert_eq!(lines, [&input[..]]);
    }

    #[test]
    fn the_component_sends_the_last_line_at_producer_finished_and_passes_it_on() {
        let rig = Rig::<Bytes, Bytes>::new(LineSplitter::new());
        rig.put(Bytes::from_static(b"a\nb"));
        rig.put(Bytes::from_static(b"c\nd"));
        rig.control(ProducerFinished::new().into());
        rig.run();
        assert_eq!(rig.take(), ["a\n", "bc\n", "d"]);
        assert!(matches!(rig.signals()[..], [Ipc::ProducerFinished(_)]));
    }

    #[test]
    fn the_component_drops_an_unfinished_line_when_shut_down() {
        let rig = Rig::<Bytes, Bytes>::new(LineSplitter::new());
        rig.put(Bytes::from_static(b"a\nb"));
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert_eq!(rig.take(), ["a\n"]);
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
    }

    #[test]
    fn the_component_ends_with_an_error_on_a_line_too_long() {
        let rig = Rig::<Bytes, Bytes>::new(LineSplitter::new().max_line_length(3));
        rig.put(Bytes::from_static(b"ok\ntoo long\nnever\n"));
        rig.run();
        assert_eq!(rig.take(), ["ok\n"]);
        match &rig.signals()[..] {
            [Ipc::ErrorInformation(info)] => {
                assert_eq!(info.caller, rig.component.id());
                let error = info.exception.as_ref().expect("the error");
                assert_eq!(
                    error.to_string(),
                    "line longer than the 3 bytes allowed (8 bytes without a newline)"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
