//! [`Append`]: a log file as a component.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

use axon::ipc::ErrorInformation;
use axon::{Component, ComponentId, Cx, Standard, ThreadCx, Threaded, ThreadedComponent};
use bytes::Bytes;

use crate::util::write_through::write_through;

/// How many messages the writing thread takes ahead of its writing.
const WRITE_AHEAD: usize = 16;

/// Appends everything it receives to the end of a file, and passes it on:
/// Kamaelia's `Append` (think logging).
///
/// Each message is written and flushed before it is passed on out of
/// `outbox` (unless [`forwarder(false)`](Self::forwarder)), so what has come
/// out has reached the file. The file is created if missing, and emptied
/// first if [`truncate`](Self::truncate) is set (the original's
/// `blat_file`); it is held open throughout (its `hold_open=True`).
///
/// Any message on `control` ends it, once everything that arrived on
/// `inbox` before it has been written; the file is then closed and the
/// message passed on out of `signal`. Writes block, so they are done on a
/// thread of its own ([`ThreadedComponent`]), which takes at most 16
/// messages ahead of its writing.
///
/// A file that cannot be opened or written is not a panic: the error is
/// logged, sent out of `signal` as `Ipc::ErrorInformation` (an
/// [`io::Error`] naming the path), and it ends.
///
/// # Inboxes
///
/// * `inbox` ([`Bytes`]): what to append.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it, once `inbox` is written.
///
/// # Outboxes
///
/// * `outbox` ([`Bytes`]): what it appended.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): the message that ended it, or `ErrorInformation`.
///
/// # Examples
///
/// Kamaelia's `Files/DemoAppend.py`, fed from code rather than the console:
///
/// ```
/// use axon::Background;
/// use bytes::Bytes;
/// use kamaelia::Append;
///
/// let path = std::env::temp_dir().join(format!("append-doc-{}", std::process::id()));
/// let background = Background::start()?;
/// let log = background.handle({
///     let path = path.clone();
///     move || Append::new(path).truncate()
/// });
/// log.put(Bytes::from_static(b"one\n"));
/// log.put(Bytes::from_static(b"two\n"));
/// log.finish();
/// assert_eq!(std::iter::from_fn(|| log.get()).count(), 2); // passed on
/// background.join()?;
/// assert_eq!(std::fs::read_to_string(&path)?, "one\ntwo\n");
/// std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug)]
pub struct Append {
    path: PathBuf,
    forwarder: bool,
    truncate: bool,
}

impl Append {
    /// Appends to the file at `path`, passing each message on.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Append {
            path: path.into(),
            forwarder: true,
            truncate: false,
        }
    }

    /// Whether to pass each message on out of `outbox` once written (the
    /// default) or not.
    pub fn forwarder(mut self, forwarder: bool) -> Self {
        self.forwarder = forwarder;
        self
    }

    /// Empties the file when starting: Kamaelia's `blat_file`.
    pub fn truncate(mut self) -> Self {
        self.truncate = true;
        self
    }

    fn open(&self) -> io::Result<File> {
        let mut options = OpenOptions::new();
        if self.truncate {
            options.write(true).truncate(true);
        } else {
            options.append(true);
        }
        options.create(true).open(&self.path)
    }
}

impl Component for Append {
    type Boxes = Standard<Bytes, Bytes>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let body = AppendFile {
            id: cx.id(),
            append: self,
        };
        Threaded::new(body).queue_length(WRITE_AHEAD).main(cx).await;
    }
}

/// The thread of an [`Append`]: it does the blocking writes.
struct AppendFile {
    id: ComponentId,
    append: Append,
}

impl ThreadedComponent for AppendFile {
    type Boxes = Standard<Bytes, Bytes>;

    fn main(self, cx: ThreadCx<Self::Boxes>) {
        let Ok(boxes) = cx.boxes() else {
            return;
        };
        let written = self.append.open().and_then(|mut file| {
            write_through(&boxes, self.append.forwarder, |data| {
                file.write_all(data)?;
                file.flush()
            })
        });
        let end = written.unwrap_or_else(|e| {
            let path = self.append.path.display();
            let error = io::Error::new(e.kind(), format!("appending to {path}: {e}"));
            tracing::warn!(target: "kamaelia::file", component = %self.id, %error, "ending");
            Some(ErrorInformation::new(self.id, error).into())
        });
        if let Some(message) = end {
            let _ = boxes.signal.send(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use axon::ipc::{Ipc, ProducerFinished};

    use super::*;
    use crate::file::test_file;
    use crate::util::rig::Rig;

    #[test]
    fn appends_everything_before_producer_finished_and_passes_it_on() {
        let file = test_file("append");
        std::fs::write(&file, "before\n").unwrap();
        let rig = Rig::<Bytes, Bytes>::new(Append::new(&file));
        for n in 0..100 {
            rig.put(Bytes::from(format!("{n}\n")));
        }
        rig.control(ProducerFinished::new().into());
        rig.run();
        let expected: String = (0..100).map(|n| format!("{n}\n")).collect();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("before\n{expected}")
        );
        assert_eq!(rig.take().concat(), expected.as_bytes());
        assert!(matches!(rig.signals()[..], [Ipc::ProducerFinished(_)]));
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn truncating_without_forwarding() {
        let file = test_file("truncate");
        std::fs::write(&file, "old contents\n").unwrap();
        let rig = Rig::<Bytes, Bytes>::new(Append::new(&file).truncate().forwarder(false));
        rig.put(Bytes::from_static(b"new\n"));
        rig.control(ProducerFinished::new().into());
        rig.run();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
        assert!(rig.take().is_empty());
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_an_error_on_signal() {
        let dir = test_file("no-such-dir");
        let rig = Rig::<Bytes, Bytes>::new(Append::new(dir.join("log")));
        rig.put(Bytes::from_static(b"lost\n"));
        rig.run();
        match &rig.signals()[..] {
            [Ipc::ErrorInformation(info)] => {
                let error = info.exception.as_ref().expect("the error").to_string();
                assert!(error.starts_with("appending to "), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }
}
