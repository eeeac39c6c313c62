//! The ports of Axon's own examples (`Axon/Examples/`) run to their end and
//! print what the originals print.

mod util;

use util::run_example;

#[test]
fn simple_producer_consumer_passes_thirty_greetings_in_order() {
    let (status, out, err) = run_example("simple_producer_consumer", &[], b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let received: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once("received -->  ").map(|(_, m)| m))
        .collect();
    let expected: Vec<String> = (0..30).rev().map(|i| format!("hello{i}")).collect();
    // The consumer looks on thirty cycles, starting one cycle late: it sees
    // all but the greetings sent on its last cycles, in order.
    assert!(received.len() >= 28, "received {received:?}");
    assert_eq!(received, expected[..received.len()], "out of order:\n{out}");
    assert!(
        out.contains("Producer has finished production !!!"),
        "{out}"
    );
    assert!(
        out.contains("Consumer has finished consumption !!!"),
        "{out}"
    );
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "consumer finished with result: {} !",
            received[received.len() - 1]
        )
    );
}

#[test]
fn system_shutdown_ticks_then_stops_the_eternal_component() {
    let (status, out, err) = run_example("system_shutdown", &[], b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "tick",
            "tick",
            "tick",
            "tick",
            "tick",
            "stopped",
            "Urgent shutdown here, honest gov!"
        ],
    );
}

#[test]
fn synchronous_links_never_lets_the_producer_run_ahead() {
    let (status, out, err) = run_example("synchronous_links", &[], b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    // Sent and got, in order; a message is sent only once the one before it
    // has been taken (the inbox holds one).
    let mut sent = 0;
    let mut got = 0;
    for line in out.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("P: sent: hello") {
            assert_eq!(m, sent.to_string());
            assert!(sent <= got + 1, "hello{sent} sent with {got} taken:\n{out}");
            sent += 1;
        } else if let Some(m) = line.strip_prefix("C: got: hello") {
            assert_eq!(m, format!("{got} {got}"));
            got += 1;
        }
    }
    assert_eq!((sent, got), (10, 10), "{out}");
    assert!(out.contains("P: fail: hello"), "never refused:\n{out}");
    assert!(out.contains("Producer has finished production !!!"));
    assert!(out.contains("Consumer has finished consumption !"));
}

#[test]
fn crashers_end_one_by_one_and_the_scheduler_runs_on() {
    let (status, out, err) = run_example("crasher", &["--crashers", "20", "--seed", "7"], b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let returned = out.matches("Returning Normally").count();
    let raised = out.matches("Raising Exception").count();
    assert_eq!(returned + raised, 20, "{out}");
    assert!(raised > 0 && returned > 0, "seed 7 gives both: {out}");
    assert!(
        out.ends_with("all crashers have ended; the scheduler ran on\n"),
        "{out}"
    );
    // Each panic was reported, naming the component.
    assert_eq!(err.matches("raised myException").count(), raised, "{err}");
}

#[test]
fn a_mortal_scheduler_stops_at_the_first_crash() {
    let (status, out, err) = run_example(
        "crasher",
        &["--crashers", "20", "--seed", "7", "--mortal", "1"],
        b"",
    );
    // The panic comes out of `run` and ends the program, as an uncaught
    // exception ended Axon's.
    assert_eq!(status.code(), Some(101), "{out}");
    assert_eq!(out.matches("Raising Exception").count(), 1, "{out}");
    assert!(!out.contains("all crashers have ended"), "{out}");
    assert!(err.contains("raised myException"), "{err}");
}

#[test]
fn reverser_reverses_each_line_through_a_handle() {
    let (status, out, err) = run_example("reverser", &[], b"hello\nkamaelia  \n\nabc");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    assert_eq!(out, "olleh\naileamak\n\ncba\n");
}
