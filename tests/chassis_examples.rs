//! The ports of Kamaelia's chassis, console and file examples
//! (`UsingChassis/`, `Files/`, `CommandLineEchoExample.py`) run to their end
//! and do what the originals do.

mod util;

use std::path::PathBuf;

use util::run_example;

/// A file in the temporary directory no other test uses, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("chassis-examples-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("write a temporary file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where `line` is in `out`, panicking if it is not there exactly once.
fn position(out: &str, line: &str) -> usize {
    let found: Vec<usize> = out
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == line)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(found.len(), 1, "{line:?} should be there once in:\n{out}");
    found[0]
}

#[test]
fn console_echo_writes_back_each_line_and_ends_at_end_of_input() {
    let input = "hello\nworld\n\nlast line without newline";
    let (status, out, err) = run_example("console_echo", &[], input.as_bytes());
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    assert_eq!(out, input);
}

/// The options that make the shutdown examples quick.
const QUICK: [&str; 4] = ["--delay-ms", "0", "--whinge-ms", "20"];

#[test]
fn graphline_demo_shutdown_copies_the_shutdown_to_every_waiter() {
    let (status, out, err) = run_example("graphline_demo_shutdown", &QUICK, b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    for n in 1..=3 {
        let waiting = position(&out, &format!("WAITER TO_SHUTDOWN{n} waiting"));
        let done = position(
            &out,
            &format!("WAITER TO_SHUTDOWN{n} shutting down having received: producerFinished"),
        );
        assert!(waiting < done, "{out}");
    }
    // The Graphline's own ProducerFinished reached the Whinger.
    assert_eq!(out.lines().filter(|l| *l == "WHINGER: shutdown").count(), 1);
    position(&out, "PINGER: sent producerFinished");
}

#[test]
fn graphline_linked_shutdown_passes_the_shutdown_along_the_chain_in_order() {
    let (status, out, err) = run_example("graphline_linked_shutdown", &QUICK, b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let done: Vec<usize> = (1..=3)
        .map(|n| {
            position(
                &out,
                &format!("WAITER TO_SHUTDOWN{n} shutting down having received: producerFinished"),
            )
        })
        .collect();
    assert!(done[0] < done[1] && done[1] < done[2], "{out}");
    position(&out, "WHINGER: shutdown");
}

#[test]
fn graphline_fail_shutdown_leaves_the_second_waiter_and_the_whinger_running() {
    let args = [&QUICK[..], &["--give-up-ms", "50"]].concat();
    let (status, out, err) = run_example("graphline_fail_shutdown", &args, b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let first = position(
        &out,
        "WAITER TO_SHUTDOWN1 shutting down having received: producerFinished",
    );
    let seen = position(
        &out,
        "WATCHDOG: producerFinished came out of TO_SHUTDOWN1; giving the rest 50ms",
    );
    let report = position(
        &out,
        "WATCHDOG: still running: TO_SHUTDOWN2, Graphline, Whinger, Pipeline",
    );
    assert!(first < seen && seen < report, "{out}");
    assert!(!out.contains("TO_SHUTDOWN2 shutting down"), "{out}");
    assert!(!out.contains("WHINGER: shutdown"), "{out}");
    assert!(out.contains("WHINGER: waiting for shutdown"), "{out}");
}

#[test]
fn par_shutdown_waits_for_every_nested_component_to_shut_down_slowly() {
    let args = ["--ttl-ms", "30", "--tick-ms", "10"];
    let (status, out, err) = run_example("par_shutdown", &args, b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    for n in 1..=9 {
        let slowly = format!("ChattySlowShutdown_{n} Shutting down slowly");
        assert_eq!(
            out.lines().filter(|l| *l == slowly).count(),
            3,
            "{slowly:?} three times in:\n{out}"
        );
    }
    assert_eq!(out.lines().last(), Some("PAR shutdown"), "{out}");
    assert!(!err.contains("ERROR"), "stderr:\n{err}");
}

/// The next generation of an L-system model, by `B → BTL`, `L → B`.
fn grow(model: &str) -> String {
    model
        .chars()
        .map(|atom| match atom {
            'B' => "BTL".to_string(),
            'L' => "B".to_string(),
            other => other.to_string(),
        })
        .collect()
}

/// Whether `part` is `whole` with some atoms taken out.
fn is_damaged_from(part: &str, whole: &str) -> bool {
    let mut atoms = whole.chars();
    part.chars().all(|p| atoms.any(|w| w == p))
}

/// Undoes [`grow`]: `L` only ever comes as the end of a `BTL` (from a `B`),
/// and any other `B` came from an `L`.
fn ungrow(model: &str) -> Option<String> {
    let mut old = String::new();
    let mut rest = model;
    while let Some(atom) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("BTL") {
            old.push('B');
            rest = after;
        } else {
            match atom {
                'B' => old.push('L'),
                'T' => old.push('T'),
                _ => return None,
            }
            rest = &rest[1..];
        }
    }
    Some(old)
}

#[test]
fn feedback_grows_each_generation_from_the_damaged_one_before() {
    let args = ["--generations", "30", "--delay-ms", "0", "--seed", "7"];
    let (status, out, err) = run_example("feedback", &args, b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    // The echoer's tag is a newline before each model.
    assert!(out.starts_with("\nB\n"), "{out:?}");
    let models: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(models.len(), 30, "{out}");
    for pair in models.windows(2) {
        let grown_from = ungrow(pair[1]).unwrap_or_else(|| panic!("{:?} is no growth", pair[1]));
        assert!(
            is_damaged_from(&grown_from, pair[0]),
            "{:?} does not grow from a damaged {:?}",
            pair[1],
            pair[0]
        );
        assert_eq!(grow(&grown_from), pair[1]);
    }
    // Undamaged, generation 30 would be over half a million atoms long.
    let longest = models.iter().map(|m| m.len()).max().unwrap_or(0);
    assert!(
        longest < 400,
        "the damage did not hold the model back: {longest}"
    );
    // The same seed, the same run.
    let (_, again, _) = run_example("feedback", &args, b"");
    assert_eq!(again, out);
}

#[test]
fn simple_reading_writes_the_file_with_and_without_a_rate_limit() {
    let contents = "first line\nsecond line\n\nlast, without a newline";
    let file = TempFile::new("simple-reading", contents);
    for extra in [&[][..], &["--rate", "200"][..]] {
        let args = [&["--path", file.path()][..], extra].concat();
        let (status, out, err) = run_example("simple_reading", &args, b"");
        assert!(status.success(), "{args:?}: exit {status}; stderr:\n{err}");
        assert_eq!(out, contents, "{args:?}");
    }
}

#[test]
fn simple_reading_reads_its_own_source_by_default() {
    let (status, out, err) = run_example("simple_reading", &[], b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let source = include_str!("../examples/simple_reading.rs");
    assert_eq!(out, source);
}

#[test]
fn simple_reading_of_a_missing_file_fails_clearly() {
    let missing = std::env::temp_dir().join("chassis-examples-no-such-file");
    let path = missing.to_str().expect("UTF-8");
    let (status, out, err) = run_example("simple_reading", &["--path", path], b"");
    assert_eq!(status.code(), Some(1), "stdout:\n{out}");
    assert!(
        err.contains(&format!("cannot read {path}")),
        "stderr:\n{err}"
    );
}

#[test]
fn demo_append_appends_each_line_to_the_file_and_echoes_it() {
    let file = TempFile::new("demo-append", "already here\n");
    let input = "one\ntwo\nthree\n";
    let (status, out, err) = run_example("demo_append", &["--path", file.path()], input.as_bytes());
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    assert_eq!(out, input);
    let written = std::fs::read_to_string(file.path()).expect("read the file back");
    assert_eq!(written, format!("already here\n{input}"));
}

#[test]
fn seq_and_carousel_write_the_files_in_turn_each_heading_in_its_place() {
    let a = TempFile::new("seq-a", "a1\na2\n");
    let b = TempFile::new("seq-b", "b1\nb2\nb3\n");
    let (status, out, err) = run_example("seq_and_carousel", &[a.path(), b.path()], b"");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    let expected = format!(
        "=== Seq: the files one after another\n\
         --- {}\na1\na2\n--- {}\nb1\nb2\nb3\n\
         === Carousel: the same files, each reader made when the last has ended\n\
         a1\na2\nb1\nb2\nb3\n=== done\n",
        a.path(),
        b.path()
    );
    assert_eq!(out, expected);
}

#[test]
fn seq_and_carousel_refuses_a_missing_file() {
    let (status, _, err) = run_example("seq_and_carousel", &["/no/such/file"], b"");
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("cannot read /no/such/file"), "stderr:\n{err}");
}

#[test]
fn supervised_worker_answers_after_its_worker_panics_and_is_restarted() {
    let (status, out, err) = run_example("supervised_worker", &[], b"4\n0\n5\nfive\n");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    assert_eq!(
        out,
        "divider 1: 100 / 4 = 25\n\
         divider 2: 100 / 5 = 20\n\
         divider 2: \"five\" is not a number\n"
    );
    let restart = err
        .lines()
        .find(|l| l.contains("restarting a supervised child"))
        .unwrap_or_else(|| panic!("no restart logged; stderr:\n{err}"));
    assert!(
        restart.contains("divider") && restart.contains("divide by zero"),
        "{restart}"
    );
}

#[test]
fn supervised_worker_gives_up_after_three_restarts() {
    let (status, out, err) = run_example("supervised_worker", &[], b"0\n0\n0\n0\n7\n");
    assert!(status.success(), "exit {status}; stderr:\n{err}");
    assert_eq!(out, "", "nothing is answered: every Divider failed");
    assert_eq!(
        err.matches("restarting a supervised child").count(),
        3,
        "{err}"
    );
    assert!(err.contains("a Supervisor gave up"), "{err}");
}
