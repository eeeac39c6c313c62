//! Names the I/O backend the build selects, so that the source says
//! `#[cfg(epoll)]` or `#[cfg(uring)]` rather than repeating, at each use,
//! the target and features that select it:
//!
//! * `epoll`: Linux without the `portable-poller` feature (the Selector's
//!   own epoll poller, `src/sys/epoll.rs`);
//! * `uring`: that, and the `io-uring` feature (`src/sys/uring.rs`).

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(epoll, uring)");
    println!("cargo::rerun-if-changed=build.rs");
    let linux = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let feature = |name: &str| env::var_os(format!("CARGO_FEATURE_{name}")).is_some();
    if linux && !feature("PORTABLE_POLLER") {
        println!("cargo::rustc-cfg=epoll");
        if feature("IO_URING") {
            println!("cargo::rustc-cfg=uring");
        }
    }
}
