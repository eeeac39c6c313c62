//! The STM dining philosophers example (`examples/philosophers.rs`) run to the
//! end: from what it prints, no fork is ever held by two philosophers at once,
//! every philosopher eats all its meals, and it exits 0.

mod util;

use std::collections::HashMap;
use std::process::Stdio;

use util::{assert_exit_ok, Example};

/// Runs the example and checks its whole output.
fn dine(philosophers: usize, meals: usize) {
    let mut example = Example::spawn(
        "philosophers",
        &[
            "--philosophers",
            &philosophers.to_string(),
            "--meals",
            &meals.to_string(),
        ],
        Stdio::null(),
    );
    // Who holds each fork, as the lines say. A philosopher prints that it got
    // its forks after its commit took them, and that it is releasing them
    // before its commit puts them down, so a line saying a held fork was got
    // means two held it at once.
    let mut holders: HashMap<String, usize> = HashMap::new();
    let mut eaten: HashMap<usize, usize> = HashMap::new();
    let mut finished = Vec::new();
    let mut last = String::new();
    while let Some(line) = example.next_stdout_line() {
        let words: Vec<&str> = line.split_whitespace().collect();
        last = line.clone();
        match words.as_slice() {
            ["philosopher", name, "got", "forks", a, b, ..] => {
                let name: usize = name.parse().expect("a philosopher's number");
                for fork in [a, b] {
                    if let Some(other) = holders.insert(fork.to_string(), name) {
                        panic!("{name} got {fork}, which {other} held: {line}");
                    }
                }
                *eaten.entry(name).or_default() += 1;
            }
            ["philosopher", name, "releasing", "forks", a, b] => {
                let name: usize = name.parse().expect("a philosopher's number");
                for fork in [a, b] {
                    assert_eq!(
                        holders.remove(*fork),
                        Some(name),
                        "{name} released {fork}, which it did not hold: {line}"
                    );
                }
            }
            ["philosopher", name, "has", "eaten", ..] => {
                finished.push(name.parse::<usize>().expect("a philosopher's number"));
            }
            ["philosopher", _, "lost", "the", "race", ..] | ["all", ..] => {}
            _ => panic!("an unexpected line: {line:?}"),
        }
    }
    let status = example.wait();
    assert_exit_ok(&example, status);

    assert!(
        holders.is_empty(),
        "forks still held at the end: {holders:?}"
    );
    for name in 1..=philosophers {
        assert_eq!(
            eaten.get(&name).copied().unwrap_or(0),
            meals,
            "philosopher {name}'s meals"
        );
    }
    finished.sort_unstable();
    assert_eq!(finished, (1..=philosophers).collect::<Vec<_>>());
    assert_eq!(
        last.trim_end(),
        format!("all {philosophers} philosophers have eaten {meals} meals each")
    );
}

#[test]
fn five_philosophers_share_their_forks_and_all_eat() {
    dine(5, 20);
}

#[test]
fn two_philosophers_share_both_forks() {
    // Both need the same two forks: only one can eat at a time.
    dine(2, 10);
}
