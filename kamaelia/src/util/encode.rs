//! [`Encode`]: the bytes a message is written as, on a byte stream.

use bytes::{Bytes, BytesMut};

/// The bytes a message is written as, on a byte stream (a client's
/// connection): what a [`PlugSplitter`](crate::util::PlugSplitter) writes
/// once into its journal, for every sink that takes the bytes of its
/// messages ([`Sink::encoded_where`](crate::util::Sink::encoded_where),
/// [`SubscribeTo::encoded_where`](crate::util::SubscribeTo::encoded_where)).
///
/// Byte types are written as they are, text as its UTF-8.
///
/// # Examples
///
/// A chat line, written as its text:
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use kamaelia::util::Encode;
///
/// struct Said {
///     _by: u64,
///     line: Bytes,
/// }
///
/// impl Encode for Said {
///     fn encode(&self, out: &mut BytesMut) {
///         out.extend_from_slice(&self.line);
///     }
/// }
///
/// let mut out = BytesMut::new();
/// Said { _by: 7, line: Bytes::from_static(b"hello\n") }.encode(&mut out);
/// assert_eq!(&out[..], b"hello\n");
/// ```
pub trait Encode {
    /// Appends this message's bytes to `out`.
    fn encode(&self, out: &mut BytesMut);
}

impl Encode for Bytes {
    fn encode(&self, out: &mut BytesMut) {
        out.extend_from_slice(self);
    }
}

impl Encode for Vec<u8> {
    fn encode(&self, out: &mut BytesMut) {
        out.extend_from_slice(self);
    }
}

impl Encode for String {
    fn encode(&self, out: &mut BytesMut) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl Encode for &'static str {
    fn encode(&self, out: &mut BytesMut) {
        out.extend_from_slice(self.as_bytes());
    }
}
