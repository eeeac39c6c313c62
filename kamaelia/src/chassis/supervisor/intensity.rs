//! The restart intensity: how many restarts a supervisor allows in how long
//! before it decides that restarting does not help.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// OTP's default `intensity`: at most this many restarts ...
pub const DEFAULT_MAX_RESTARTS: usize = 3;

/// ... within this long (OTP's default `period`, 5 s).
pub const DEFAULT_RESTART_WINDOW: Duration = Duration::from_secs(5);

/// The restarts made within the last `within`, oldest first: never more than
/// `max` of them, however many children fail.
#[derive(Debug)]
pub(super) struct Intensity {
    max: usize,
    within: Duration,
    recent: VecDeque<Instant>,
}

impl Intensity {
    pub(super) fn new(max: usize, within: Duration) -> Self {
        Intensity {
            max,
            within,
            recent: VecDeque::new(),
        }
    }

    /// Records a restart at `now` and says true, or says false if `max`
    /// restarts have already been made within the window ending at `now`.
    pub(super) fn allow(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.recent.front() {
            if now.saturating_duration_since(oldest) < self.within {
                break;
            }
            self.recent.pop_front();
        }
        if self.recent.len() >= self.max {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    pub(super) fn max(&self) -> usize {
        self.max
    }

    pub(super) fn within(&self) -> Duration {
        self.within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_restarts_in_the_window_and_again_once_it_has_passed() {
        let start = Instant::now();
        let mut intensity = Intensity::new(3, Duration::from_secs(5));
        assert!(intensity.allow(start));
        assert!(intensity.allow(start + Duration::from_secs(1)));
        assert!(intensity.allow(start + Duration::from_secs(2)));
        assert!(!intensity.allow(start + Duration::from_secs(3)));
        // The first restart has left the window: one more is allowed.
        assert!(intensity.allow(start + Duration::from_secs(5)));
        assert!(!intensity.allow(start + Duration::from_secs(5)));
    }

    #[test]
    fn none_allowed_means_the_first_failure_gives_up() {
        assert!(!Intensity::new(0, Duration::from_secs(5)).allow(Instant::now()));
    }
}
