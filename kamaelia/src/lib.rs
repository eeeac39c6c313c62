//! Kamaelia components built on [`axon`]: TCP servers and clients where each
//! connection is a component, and the Selector that tells them when their
//! sockets are ready.
//!
//! # Serving
//!
//! A [`ServerCore`] listens on a port and, for each connection, makes a
//! protocol handler component with the factory you give it and wires the
//! connection's bytes to the handler's `inbox` and from its `outbox`.
//! [`SimpleServer`] is the same for handlers that need nothing about the
//! connection. This is the echo server of Kamaelia's documentation:
//!
//! ```no_run
//! use axon::{Component, Cx, Standard};
//! use bytes::Bytes;
//! use kamaelia::SimpleServer;
//!
//! /// Sends back everything it receives, until the client is done.
//! struct EchoProtocol;
//!
//! impl Component for EchoProtocol {
//!     type Boxes = Standard<Bytes, Bytes>;
//!     async fn main(self, cx: Cx<Self::Boxes>) {
//!         while let Some(data) = cx.recv_until_finished().await {
//!             cx.outbox.send(data).await;
//!         }
//!     }
//! }
//!
//! SimpleServer::new(|| EchoProtocol).port(12345).run()?;
//! # std::io::Result::Ok(())
//! ```
//!
//! [`recv_until_finished`](axon::Cx::recv_until_finished) gives the handler
//! each chunk the client sent, sleeping while there is none, and `None` once
//! the client is done (a message on `control`) and every chunk sent before
//! that has been taken, however far behind the handler was. (This is
//! [`EchoProtocol`] itself.)
//!
//! # Where things are
//!
//! The modules are Kamaelia's packages, and every component is also at the
//! crate root:
//!
//! | module | Kamaelia's | holds |
//! |---|---|---|
//! | [`internet`] | `Kamaelia.Internet` | [`Selector`], [`TcpServer`], [`ConnectedSocketAdapter`], [`TcpClient`] |
//! | [`chassis`] | `Kamaelia.Chassis` | [`ServerCore`], [`SimpleServer`] |
//! | [`protocol`] | `Kamaelia.Protocol` | [`EchoProtocol`] |
//! | [`util`] | `Kamaelia.Util` | [`ConsoleReader`], [`ConsoleEchoer`] |
//! | [`ipc`] | `Kamaelia.IPC` | the messages between them |
//! | [`signals`] | | SIGINT and SIGTERM, for an orderly stop |
//!
//! Everything is bounded: each adapter's and handler's inbox has a size
//! limit, so a client that sends faster than its handler works, or reads
//! slower than its handler writes, is held back by TCP rather than growing the
//! server's memory.
//!
//! # Layers
//!
//! The modules stand on each other in layers, and a module imports only from
//! its own layer or a lower one (a unit test, `layers`, checks the `use`
//! lines):
//!
//! | layer | imports of this crate |
//! |---|---|
//! | `chassis` | `internet`, `protocol`, `util`, `signals`, `sys` |
//! | `protocol`, `util` | `internet`, `signals`, `sys` |
//! | `internet` (and its message index `ipc`) | `sys` |
//! | `sys`, `signals` | none: the operating system (`polling`, `socket2`, `signal-hook`) |
//!
//! `sys` is the fence around the operating system: every call into `polling`
//! and `socket2` is there, and the crate's one `unsafe` block (registering a
//! socket with the poller), whose invariant the Selector keeps.
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![cfg(unix)]

pub mod chassis;
pub mod internet;
pub mod ipc;
pub mod protocol;
pub mod signals;
mod sys;
pub mod util;

pub use chassis::{
    ServerCore, ServerCoreBoxes, SimpleServer, DEFAULT_HANDLER_INBOX_SIZE, DEFAULT_PORT,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use internet::{
    ConnectedSocketAdapter, ConnectionOptions, CsaBoxes, ListenOptions, Selector, SelectorBoxes,
    TcpClient, TcpClientBoxes, TcpServer, TcpServerBoxes, DEFAULT_BACKLOG, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_CSA_INBOX_SIZE, DEFAULT_LINGER, DEFAULT_READ_SIZE, SELECTOR_SERVICE,
    SELECTOR_SHUTDOWN_SERVICE,
};
pub use protocol::EchoProtocol;
pub use util::{ConsoleEchoer, ConsoleReader, ConsoleReaderBoxes};

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    /// The modules of this crate that code in `layer` may name: its own layer
    /// and those below (see the crate doc's `# Layers`).
    fn allowed(layer: &str) -> &'static [&'static str] {
        match layer {
            "sys" | "signals" => &[],
            "internet" | "ipc" => &["sys", "internet", "ipc"],
            "protocol" | "util" => &["sys", "signals", "internet", "ipc", "protocol", "util"],
            "chassis" => &[
                "sys", "signals", "internet", "ipc", "protocol", "util", "chassis",
            ],
            other => panic!("{other}: a module the layer rule does not place"),
        }
    }

    /// Every `crate::x` in the code (not the comments) of `file`.
    fn crate_paths(file: &Path) -> Vec<String> {
        let text = fs::read_to_string(file).expect("a source file of this crate");
        let mut found = Vec::new();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                found.push(rest[..end].to_string());
            }
        }
        found
    }

    fn visit(dir: &Path, layer: Option<&str>, broken: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("the source directory")
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a file name")
                .to_string();
            let layer = layer.unwrap_or(&name);
            if path.is_dir() {
                visit(&path, Some(layer), broken);
            } else if name != "lib" {
                for module in crate_paths(&path) {
                    if !allowed(layer).contains(&module.as_str()) {
                        broken.push(format!("{}: crate::{module}", path.display()));
                    }
                }
            }
        }
    }

    /// The layer rule of the crate doc, checked on the `use` lines and paths.
    #[test]
    fn layers() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut broken = Vec::new();
        visit(&src, None, &mut broken);
        assert!(
            broken.is_empty(),
            "imports from a higher layer:\n{}",
            broken.join("\n")
        );
    }
}
