//! [`SimpleReader`]: a file read out as a stream of `Bytes`.

use std::fs::File;
use std::future::{poll_fn, Future};
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::pin::pin;
use std::task::Poll;

use axon::ipc::{ErrorInformation, Ipc, ProducerFinished};
use axon::{
    Component, ComponentId, Cx, Standard, ThreadCx, ThreadOutbox, Threaded, ThreadedComponent,
};
use bytes::Bytes;

/// The most a [`SimpleReader`] sends as one message: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// How many messages the reading thread may read ahead of what has gone
/// out of `outbox`.
const READ_AHEAD: usize = 16;

/// Reads a file and sends its contents out of `outbox`, then
/// `ProducerFinished` out of `signal`: Kamaelia's `SimpleReader`.
///
/// By default the contents come in chunks of up to [`DEFAULT_CHUNK_SIZE`]
/// bytes (see [`chunk_size`](Self::chunk_size)); with [`lines`](Self::lines)
/// they come a line at a time, newline kept, as the original sends them (a
/// line longer than the chunk size comes in pieces).
///
/// Reading blocks, so it happens on a thread of its own (a
/// [`ThreadedComponent`]), at most 16 messages ahead of what has gone out of
/// `outbox`: a big file is read at the pace of whatever consumes it, and
/// memory stays bounded.
///
/// A file that cannot be opened or read is not a panic: the error is
/// logged, sent out of `signal` as `Ipc::ErrorInformation` (an
/// [`io::Error`] naming the path), and the reader ends. What was read before
/// a read error has been sent.
///
/// # Inboxes
///
/// * `inbox`: not read.
/// * `control` ([`Ipc`]): any message stops it; the message is passed on out
///   of `signal`.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): the contents.
/// * `signal` ([`Ipc`]): `ProducerFinished` at the end of the file,
///   `ErrorInformation` on an error, or the message that stopped it.
///
/// # Examples
///
/// Kamaelia's `Files/SimpleReading.py`, reading a file line by line:
///
/// ```
/// use axon::Background;
/// use kamaelia::SimpleReader;
///
/// let path = std::env::temp_dir().join(format!("simple-reader-doc-{}", std::process::id()));
/// std::fs::write(&path, "first\nsecond\n")?;
/// let background = Background::start()?;
/// let reader = background.handle({
///     let path = path.clone();
///     move || SimpleReader::new(path).lines()
/// });
/// assert_eq!(reader.get().as_deref(), Some(&b"first\n"[..]));
/// assert_eq!(reader.get().as_deref(), Some(&b"second\n"[..]));
/// assert_eq!(reader.get(), None);
/// background.join()?;
/// std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug)]
pub struct SimpleReader {
    path: PathBuf,
    chunk_size: usize,
    lines: bool,
}

impl SimpleReader {
    /// A reader of the file at `path`, sending chunks.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SimpleReader {
            path: path.into(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            lines: false,
        }
    }

    /// Sends at most `bytes` bytes a message (at least 1).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Sends a line a message, newline kept.
    pub fn lines(mut self) -> Self {
        self.lines = true;
        self
    }
}

impl Component for SimpleReader {
    type Boxes = Standard<(), Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        // The thread may be blocked sending; `control` is watched here, and
        // a message ends the threaded body (its thread's next send fails).
        let control = cx.control.clone();
        let signal = cx.signal.clone();
        let body = ReadFile {
            id: cx.id(),
            reader: self,
        };
        let mut threaded = pin!(Threaded::new(body).queue_length(READ_AHEAD).main(cx));
        let stop = poll_fn(|task| {
            if threaded.as_mut().poll(task).is_ready() {
                return Poll::Ready(None);
            }
            match control.recv() {
                Some(message) => Poll::Ready(Some(message)),
                None => Poll::Pending,
            }
        })
        .await;
        if let Some(message) = stop {
            signal.send(message).await;
        }
    }
}

/// The thread of a [`SimpleReader`].
struct ReadFile {
    id: ComponentId,
    reader: SimpleReader,
}

/// The sending stopped: the component has ended.
struct Stopped;

impl ReadFile {
    /// Sends the file out of `outbox`.
    fn send_all(&self, outbox: &ThreadOutbox<Bytes>) -> io::Result<Result<(), Stopped>> {
        let file = File::open(&self.reader.path)?;
        let size = self.reader.chunk_size;
        let mut input = BufReader::with_capacity(size, file);
        loop {
            let mut chunk = Vec::new();
            let read = if self.reader.lines {
                input
                    .by_ref()
                    .take(size as u64)
                    .read_until(b'\n', &mut chunk)?
            } else {
                input.by_ref().take(size as u64).read_to_end(&mut chunk)?
            };
            if read == 0 {
                return Ok(Ok(()));
            }
            // Waits while the queue to `outbox` is full: the pacing.
            if outbox.send(Bytes::from(chunk)).is_err() {
                return Ok(Err(Stopped));
            }
        }
    }
}

impl ThreadedComponent for ReadFile {
    type Boxes = Standard<(), Bytes>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let (Ok(outbox), Ok(signal)) = (cx.outbox::<Bytes>("outbox"), cx.outbox::<Ipc>("signal"))
        else {
            return;
        };
        let end: Ipc = match self.send_all(&outbox) {
            Ok(Ok(())) => ProducerFinished::from(self.id).into(),
            Ok(Err(Stopped)) => return,
            Err(e) => {
                let path = self.reader.path.display();
                let error = io::Error::new(e.kind(), format!("reading {path}: {e}"));
                tracing::warn!(target: "kamaelia::file", component = %self.id, %error, "ending");
                ErrorInformation::new(self.id, error).into()
            }
        };
        let _ = signal.send(end);
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::ShutdownMicroprocess;

    use super::*;
    use crate::file::test_file;
    use crate::util::rig::Rig;

    #[test]
    fn a_file_comes_in_chunks_then_producer_finished() {
        let file = test_file("chunks");
        let contents: Vec<u8> = (0..10_000u32).map(|n| n as u8).collect();
        std::fs::write(&file, &contents).unwrap();
        let rig = Rig::<(), Bytes>::new(SimpleReader::new(&file).chunk_size(4096));
        rig.run();
        let chunks = rig.take();
        assert_eq!(
            chunks.iter().map(Bytes::len).collect::<Vec<_>>(),
            [4096, 4096, 1808]
        );
        assert_eq!(chunks.concat(), contents);
        assert!(matches!(rig.signals()[..], [Ipc::ProducerFinished(_)]));
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn lines_keep_their_newline_and_a_long_one_comes_in_pieces() {
        let file = test_file("lines");
        std::fs::write(&file, "a\nbcdefg\nlast").unwrap();
        let rig = Rig::<(), Bytes>::new(SimpleReader::new(&file).lines().chunk_size(4));
        rig.run();
        assert_eq!(rig.take(), ["a\n", "bcde", "fg\n", "last"]);
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn a_missing_file_is_an_error_on_signal_not_a_panic() {
        let file = test_file("missing");
        let rig = Rig::<(), Bytes>::new(SimpleReader::new(&file));
        rig.run();
        assert!(rig.take().is_empty());
        match &rig.signals()[..] {
            [Ipc::ErrorInformation(info)] => {
                let error = info.exception.as_ref().expect("the error").to_string();
                assert!(error.contains(&file.display().to_string()), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_control_message_stops_a_reader_held_back_by_its_consumer() {
        let file = test_file("stopped");
        std::fs::write(&file, vec![b'x'; 1000]).unwrap();
        // A byte a message, and nobody taking them: the thread waits.
        let rig = Rig::<(), Bytes>::new(SimpleReader::new(&file).chunk_size(1));
        rig.bound_output(4);
        rig.cycle_until(|rig| rig.waiting() == 4);
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert_eq!(rig.take().len(), 4, "no more than the consumer took");
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
        std::fs::remove_file(file).unwrap();
    }
}
