//! [`Weigh`]: how many bytes a message holds, for bounds counted in bytes.

use bytes::Bytes;

/// How much memory a message pins while it waits: the weight a
/// [`PlugSplitter`](crate::util::PlugSplitter) counts against its byte bound
/// (with its own record of the message,
/// [`RECORD_BYTES`](crate::util::PlugSplitter::RECORD_BYTES)).
///
/// The default is the message's own size (`size_of_val`), right for plain
/// values, so a user type needs one line: `impl Weigh for MyMessage {}`. Types
/// that own a buffer weigh its length; a shared buffer ([`Bytes`]) weighs its
/// length once per message, however many subscribers share it.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use kamaelia::util::Weigh;
///
/// #[derive(Clone)]
/// struct Reading {
///     _celsius: f64,
/// }
/// impl Weigh for Reading {}
///
/// assert_eq!(Reading { _celsius: 1.5 }.weight(), 8);
/// assert_eq!(Bytes::from_static(b"hello").weight(), 5);
/// assert_eq!(String::from("hi").weight(), 2);
/// ```
pub trait Weigh {
    /// The bytes this message holds.
    fn weight(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

impl Weigh for Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for Vec<u8> {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for &'static str {
    fn weight(&self) -> usize {
        self.len()
    }
}

macro_rules! weigh_by_size {
    ($($t:ty),*) => {$( impl Weigh for $t {} )*};
}

weigh_by_size!(
    u8,
    u16,
    u32,
    u64,
    usize,
    i8,
    i16,
    i32,
    i64,
    isize,
    f32,
    f64,
    bool,
    char,
    ()
);
