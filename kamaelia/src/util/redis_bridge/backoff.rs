//! [`Backoff`]: how long to wait before each attempt to reach the broker
//! again.

use std::time::Duration;

/// Waits that double from `first` up to `cap`, so a broker that is down for
/// long is tried every `cap`, and one that blinks is back in `first`.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, cap: Duration) -> Backoff {
        let first = first.max(Duration::from_millis(1));
        let cap = cap.max(first);
        Backoff {
            first,
            cap,
            next: first,
        }
    }

    /// The wait before the next attempt; the one after will be twice as long
    /// (at most the cap).
    pub(crate) fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.cap);
        wait
    }

    /// The broker answered: the next outage starts again from `first`.
    pub(crate) fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_start_again_after_a_reset() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(500));
        let waits: Vec<_> = (0..5).map(|_| backoff.next_wait()).collect();
        assert_eq!(waits, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        backoff.reset();
        assert_eq!(backoff.next_wait(), ms(100));
    }
}
