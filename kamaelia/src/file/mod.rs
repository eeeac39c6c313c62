//! Files as components: Kamaelia's `Kamaelia.File` package.
//!
//! * [`SimpleReader`]: a file's contents, in chunks or lines.
//! * [`Append`]: everything received, appended to a file.
//!
//! File I/O blocks, so both do theirs on a thread of their own
//! ([`axon::ThreadedComponent`]): the scheduler's thread never waits on a
//! disk. This layer stands on `axon` alone, as `util` does.

mod append;
mod reader;

pub use append::Append;
pub use reader::{SimpleReader, DEFAULT_CHUNK_SIZE};

/// A path in the temporary directory no other test uses.
#[cfg(test)]
fn test_file(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("kamaelia-file-{}-{n}-{name}", std::process::id()))
}
