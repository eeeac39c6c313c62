//! Examples, system tests and benchmarks for axon and kamaelia live in this package; it has no library code of its own.
