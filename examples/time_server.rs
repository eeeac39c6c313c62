//! `cargo run --example time_server` — then `nc 127.0.0.1 1500` (from as many
//! terminals as you like): each client is sent the time, once a second.
//!
//! Port of the time server of Kamaelia's cookbook
//! (`Website/markdown/Cookbook/Backplanes.md`, "Serving to multiple
//! clients"): one clock publishes to a [`Backplane`] called `TIME`, and the
//! server's protocol for each connection is nothing but a subscription to it:
//!
//! ```text
//! Pipeline![PeriodicTick, PureTransformer(the time now), PublishTo("TIME")]
//! SimpleServer(protocol = || SubscribeTo("TIME"))
//! ```
//!
//! However many clients connect, there is one clock, and each tick is one
//! message shared by all of them. Where the cookbook's `TimeTick` is a
//! threaded component polling `time.asctime()`, this clock is a
//! [`PeriodicTick`] (every `--interval-ms`), whose ticks a PureTransformer
//! turns into the time, as `asctime` writes it, in UTC. Ctrl-C shuts the
//! server down, and the server's end stops the clock and the backplane.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axon::{ComponentRef, Postoffice};
use bytes::Bytes;
use kamaelia::{
    Backplane, PeriodicTick, Pipeline, PublishTo, PureTransformer, SimpleServer, SubscribeTo,
};

/// The time now, as C's `asctime` writes it (`Sun Mar 24 12:00:01 2024`),
/// in UTC, with a newline.
fn asctime_utc(now: SystemTime) -> Bytes {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    // 1970-01-01 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let (year, month, day) = civil_from_days(days);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][month as usize - 1];
    Bytes::from(format!(
        "{weekday} {month} {day:2} {hour:02}:{minute:02}:{second:02} {year}\n"
    ))
}

/// The (year, month, day) of a count of days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for days after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn main() -> std::io::Result<()> {
    let (args, [interval_ms]) = support::args_and_counts(
        "time_server",
        "Sends every client the time, from one clock, through a backplane.",
        1500,
        [support::Count {
            name: "interval-ms",
            help: "milliseconds between times sent",
            value: 1000,
        }],
    );
    let backplane = Backplane::<Bytes>::new("TIME")
        .activate()
        .map_err(std::io::Error::other)?;
    let clock = ComponentRef::new(Pipeline![
        PeriodicTick::new(Duration::from_millis(interval_ms.max(1) as u64)),
        PureTransformer::new(|_tick: bool| Some(asctime_utc(SystemTime::now()))),
        PublishTo::new("TIME"),
    ]);
    let server = SimpleServer::new(|| SubscribeTo::<Bytes>::new("TIME"))
        .host(args.host)
        .port(args.port)
        .shutdown_on_signals()
        .bind()?;
    support::listening("time_server", server.local_addr());
    let server = server.activate()?;
    // The server's end stops the clock, and the clock's end the backplane.
    let wiring = Postoffice::new();
    wiring
        .link((&server, "signal"), (&clock, "control"))
        .and_then(|_| wiring.link((&clock, "signal"), (&backplane, "control")))
        .map_err(std::io::Error::other)?;
    clock.activate();
    axon::Scheduler::current().run()
}
