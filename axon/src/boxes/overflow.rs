//! [`OverflowPolicy`]: what a full inbox does with one more message.

use crate::error::BoxLabel;

/// What a full inbox does with a message it has no room for: chosen per inbox
/// with [`Inbox::set_overflow`](crate::Inbox::set_overflow), next to its size
/// limit ([`Inbox::set_size`](crate::Inbox::set_size)).
///
/// * [`Refuse`](Self::Refuse), the default, is Axon's: the send fails with
///   [`NoSpaceInBox`](crate::NoSpaceInBox), which hands the message back, and
///   `outbox.send(x).await` waits for room.
/// * [`DropNewest`](Self::DropNewest) drops the message that found the inbox
///   full; the send succeeds.
/// * [`DropOldest`](Self::DropOldest) drops the oldest queued message to make
///   room for the new one; the send succeeds.
///
/// With either drop policy a send never fails for want of room, so
/// `outbox.send(x).await` never waits: the producer runs at its own pace and
/// the consumer sees at most the inbox's size of it. That suits messages whose
/// newest (or oldest) value is all that matters (readings, progress, status);
/// a stream in which each message counts wants `Refuse`, which holds the
/// producer back instead.
///
/// Each drop is counted ([`Inbox::dropped`](crate::Inbox::dropped)) and
/// logged at `DEBUG` (target `axon::inbox`) when the count reaches a power of
/// two.
///
/// As the size limit, the policy is that of the *final* inbox of a chain: an
/// inbox linked onward to another has no room of its own, so its policy has no
/// effect until the link is removed.
///
/// # Examples
///
/// ```
/// use axon::{Component, ComponentRef, Cx, OverflowPolicy, Standard};
///
/// struct Quiet;
/// impl Component for Quiet {
///     type Boxes = Standard<u32, ()>;
///     async fn main(self, _cx: Cx<Self::Boxes>) {}
/// }
///
/// let quiet = ComponentRef::new(Quiet);
/// let inbox = quiet.inbox::<u32>("inbox")?;
/// inbox.set_size(Some(2));
/// inbox.set_overflow(OverflowPolicy::DropOldest);
/// for n in 1..=5 {
///     inbox.deliver(n)?; // never refused
/// }
/// assert_eq!(inbox.drain().collect::<Vec<_>>(), [4, 5]); // the newest two
/// assert_eq!(inbox.dropped(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Refuse the new message, handing it back to the sender (Axon's
    /// `noSpaceInBox`). The default.
    #[default]
    Refuse,
    /// Drop the new message; the queued ones stay.
    DropNewest,
    /// Drop the oldest queued message to make room for the new one.
    DropOldest,
}

/// Logs that an inbox has dropped messages, going from `before` to `after`
/// drops in all.
///
/// Only when the count reaches a power of two (the 1st, 2nd, 4th, 8th…
/// drop): a flood of a million drops writes twenty lines, not a million, yet
/// the log still shows that dropping began, that it goes on, and roughly how
/// much. A rate limit would say the same but read a clock on every drop and
/// keep a timestamp per inbox; the count is kept anyway.
#[cold]
pub(crate) fn log_drops(label: &BoxLabel, policy: OverflowPolicy, before: u64, after: u64) {
    if passes_a_power_of_two(before, after) {
        tracing::debug!(
            target: "axon::inbox",
            inbox = %label,
            ?policy,
            dropped = after,
            "inbox full: message dropped"
        );
    }
}

/// True if some power of two lies in `before + 1 ..= after`: the count went
/// through a 1st, 2nd, 4th, 8th… drop.
fn passes_a_power_of_two(before: u64, after: u64) -> bool {
    after > before && after.leading_zeros() < before.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::passes_a_power_of_two;

    #[test]
    fn a_flood_of_drops_is_logged_at_each_power_of_two() {
        let logged: Vec<u64> = (1..=1000u64)
            .filter(|&n| passes_a_power_of_two(n - 1, n))
            .collect();
        assert_eq!(logged, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        // Several drops at once (a lowered limit) log once if they pass one.
        assert!(passes_a_power_of_two(5, 9));
        assert!(!passes_a_power_of_two(9, 15));
        assert!(!passes_a_power_of_two(3, 3));
    }
}
