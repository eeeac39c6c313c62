//! [`Marshall`]: how a message becomes bytes for the broker and back
//! (Kamaelia's `Marshalling`, whose classes had `marshall` and `demarshall`).

use bytes::Bytes;

/// A message that can cross a [`RedisBridge`](super::RedisBridge): written as
/// bytes for the broker, and read back from them in another process.
///
/// The bytes are the payload of a bridge frame (after its header, see
/// [`redis_bridge`](super)); they need no length or framing of their own.
/// Implemented for `Bytes`, `Vec<u8>` (any bytes, unchanged) and `String`
/// (its UTF-8: bytes from the broker that are not UTF-8 are refused, as a
/// `String` cannot hold them).
///
/// # Examples
///
/// A message type of one's own: a score, as text.
///
/// ```
/// use kamaelia::util::Marshall;
///
/// #[derive(Debug, PartialEq)]
/// struct Score(u32);
///
/// impl Marshall for Score {
///     fn marshall(&self, out: &mut Vec<u8>) {
///         out.extend_from_slice(self.0.to_string().as_bytes());
///     }
///
///     fn demarshall(bytes: &[u8]) -> Option<Self> {
///         std::str::from_utf8(bytes).ok()?.parse().ok().map(Score)
///     }
/// }
///
/// let mut bytes = Vec::new();
/// Score(42).marshall(&mut bytes);
/// assert_eq!(bytes, b"42");
/// assert_eq!(Score::demarshall(&bytes), Some(Score(42)));
/// assert_eq!(Score::demarshall(b"forty-two"), None);
/// ```
pub trait Marshall: Sized {
    /// Appends the message's bytes to `out`.
    fn marshall(&self, out: &mut Vec<u8>);

    /// The message `bytes` hold, or `None` if they hold none (the bridge
    /// logs and counts such a payload, and delivers nothing).
    fn demarshall(bytes: &[u8]) -> Option<Self>;
}

impl Marshall for Bytes {
    fn marshall(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }

    fn demarshall(bytes: &[u8]) -> Option<Self> {
        Some(Bytes::copy_from_slice(bytes))
    }
}

impl Marshall for Vec<u8> {
    fn marshall(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }

    fn demarshall(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

impl Marshall for String {
    fn marshall(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }

    fn demarshall(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Marshall>(message: &T) -> Option<T> {
        let mut bytes = Vec::new();
        message.marshall(&mut bytes);
        T::demarshall(&bytes)
    }

    #[test]
    fn bytes_that_are_not_utf8_survive_as_bytes_but_not_as_a_string() {
        let raw = vec![0xff, 0x00, b'\n', 0xc3, 0x28];
        assert_eq!(round_trip(&raw), Some(raw.clone()));
        assert_eq!(
            round_trip(&Bytes::from(raw.clone())),
            Some(Bytes::from(raw.clone()))
        );
        assert_eq!(String::demarshall(&raw), None);
        assert_eq!(round_trip(&"héllo".to_string()).as_deref(), Some("héllo"));
    }
}
