//! [`GaveUp`]: the error a supervisor reports when restarting does not help.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// Why a [`Supervisor`](super::Supervisor) ended: a child failed once more
/// after `restarts` restarts within `within`. It is the `exception` of the
/// [`ErrorInformation`](axon::ipc::ErrorInformation) the supervisor sends on
/// `signal`, so that a parent supervisor or a Graphline hears it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kamaelia::chassis::GaveUp;
///
/// let gave_up = GaveUp {
///     child: "worker".to_string(),
///     reason: "panicked: bad input".to_string(),
///     restarts: 3,
///     within: Duration::from_secs(5),
/// };
/// assert_eq!(
///     gave_up.to_string(),
///     "supervised child \"worker\" failed after 3 restarts within 5s (panicked: bad input): giving up"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaveUp {
    /// The name of the child whose failure was one too many.
    pub child: String,
    /// How it failed, the last time.
    pub reason: String,
    /// The restarts allowed (and made) within the window.
    pub restarts: usize,
    /// The window.
    pub within: Duration,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "supervised child {:?} failed after {} restarts within {:?} ({}): giving up",
            self.child, self.restarts, self.within, self.reason
        )
    }
}

impl Error for GaveUp {}
