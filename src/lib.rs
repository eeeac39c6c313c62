//! The examples, system tests and benchmarks of axon and kamaelia live in this
//! package; it has no library code of its own. Its documentation is the
//! project's README, whose Rust snippets are compiled and run as doc tests.
#![doc = include_str!("../README.md")]
