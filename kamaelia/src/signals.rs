//! Reacting to SIGINT and SIGTERM: shutting a system down in order.

use std::process;
use std::thread;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Calls `first` when the process first gets SIGINT or SIGTERM; on a second
/// one, exits at once with status 130.
///
/// `first` runs on a thread of its own, so it should only hand the news to
/// the components, through [`RemoteSender`](axon::RemoteSender)s (for
/// example, sending `ShutdownMicroprocess` to a server's `control`).
/// [`ServerCore::shutdown_on_signals`](crate::ServerCore::shutdown_on_signals)
/// does this for a server.
pub fn on_termination(first: impl FnOnce() + Send + 'static) {
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => {
            tracing::error!(target: "kamaelia::signals", error = %e, "cannot watch for SIGINT and SIGTERM");
            return;
        }
    };
    let spawned = thread::Builder::new()
        .name("kamaelia-signals".into())
        .spawn(move || {
            let mut first = Some(first);
            for signal in signals.forever() {
                match first.take() {
                    Some(first) => {
                        tracing::info!(target: "kamaelia::signals", signal, "shutting down (send it again to stop at once)");
                        first();
                    }
                    None => process::exit(130),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(target: "kamaelia::signals", error = %e, "cannot start the signal thread");
    }
}
