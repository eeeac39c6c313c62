//! The bridge's frame: what one message is on the broker's channel.
//!
//! ```text
//! offset  size  what
//!      0     2  magic, b"KB"
//!      2     1  version, 1
//!      3    16  origin: the sending bridge's random id
//!     19     8  sequence number, big-endian, from 0 per origin
//!     27     …  payload: the message's Marshall bytes
//! ```

use std::fmt;
use std::io::Read;

/// The first bytes of every frame: a payload that does not start so was not
/// sent by a bridge.
pub(crate) const MAGIC: [u8; 2] = *b"KB";

/// The frame layout's version: a frame of another version is refused rather
/// than misread.
pub(crate) const VERSION: u8 = 1;

/// How many bytes come before the payload.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 1 + 16 + 8;

/// A bridge's random id, in each frame it sends, so that it can recognise
/// its own frames when the broker hands them back and drop them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Origin([u8; 16]);

impl Origin {
    /// A new random id: 128 bits from the system's random source, so two
    /// bridges anywhere are told apart.
    pub(crate) fn random() -> Origin {
        let mut id = [0u8; 16];
        let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut id));
        if read.is_err() {
            // std's hasher keys are random per process; mixed with the time
            // and the process id they still tell bridges apart.
            use std::hash::{BuildHasher, Hasher};
            let state = std::collections::hash_map::RandomState::new();
            for (n, half) in id.chunks_mut(8).enumerate() {
                let mut hasher = state.build_hasher();
                hasher.write_usize(n);
                hasher.write_u32(std::process::id());
                hasher.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |t| t.as_nanos()),
                );
                half.copy_from_slice(&hasher.finish().to_be_bytes());
            }
        }
        Origin(id)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Starts a frame from `origin` numbered `sequence` in `out` (emptied first):
/// the payload is to be appended.
pub(crate) fn start(out: &mut Vec<u8>, origin: Origin, sequence: u64) {
    out.clear();
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&origin.0);
    out.extend_from_slice(&sequence.to_be_bytes());
}

/// A frame read from the broker.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub(crate) origin: Origin,
    pub(crate) sequence: u64,
    pub(crate) payload: &'a [u8],
}

/// Why bytes from the broker are not a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotAFrame {
    /// Too short for the header, or without the magic: not from a bridge.
    Foreign,
    /// From a bridge of another version.
    Version(u8),
}

impl fmt::Display for NotAFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAFrame::Foreign => f.write_str("not a bridge frame"),
            NotAFrame::Version(v) => write!(f, "a frame of version {v}, not {VERSION}"),
        }
    }
}

/// Reads the frame `bytes` hold.
pub(crate) fn read(bytes: &[u8]) -> Result<Frame<'_>, NotAFrame> {
    if bytes.len() < HEADER_LEN || bytes[..2] != MAGIC {
        return Err(NotAFrame::Foreign);
    }
    if bytes[2] != VERSION {
        return Err(NotAFrame::Version(bytes[2]));
    }
    let (origin, rest) = bytes[3..].split_at(16);
    let (sequence, payload) = rest.split_at(8);
    let mut id = [0u8; 16];
    id.copy_from_slice(origin);
    let mut number = [0u8; 8];
    number.copy_from_slice(sequence);
    Ok(Frame {
        origin: Origin(id),
        sequence: u64::from_be_bytes(number),
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_as_written_whatever_its_payload() {
        let origin = Origin::random();
        let mut bytes = Vec::new();
        start(&mut bytes, origin, 7);
        bytes.extend_from_slice(&[0xff, 0, b'\n']);
        assert_eq!(bytes.len(), HEADER_LEN + 3);
        assert_eq!(
            read(&bytes),
            Ok(Frame {
                origin,
                sequence: 7,
                payload: &[0xff, 0, b'\n'],
            })
        );
        assert_eq!(origin.to_string().len(), 32, "{origin}");
    }

    #[test]
    fn two_origins_differ() {
        assert_ne!(Origin::random(), Origin::random());
    }

    #[test]
    fn foreign_short_and_other_version_bytes_are_refused() {
        assert_eq!(read(b"hello"), Err(NotAFrame::Foreign));
        let mut bytes = Vec::new();
        start(&mut bytes, Origin::random(), 0);
        assert!(read(&bytes).is_ok(), "an empty payload is a frame");
        bytes[0] = b'X';
        assert_eq!(read(&bytes), Err(NotAFrame::Foreign));
        bytes[0] = b'K';
        bytes[2] = 9;
        assert_eq!(read(&bytes), Err(NotAFrame::Version(9)));
        assert_eq!(read(&bytes[..HEADER_LEN - 1]), Err(NotAFrame::Foreign));
    }
}
