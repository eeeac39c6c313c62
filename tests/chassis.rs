//! A Pipeline of Graphlines as a ServerCore's per-connection protocol
//! handler, talked to by a real TCP client on 127.0.0.1: the chassis nest,
//! the bytes come back transformed by every stage, and the client's
//! half-close shuts the whole handler down so the connection closes.

mod util;

use axon::{Component, Cx, Standard};
use bytes::Bytes;
use kamaelia::chassis::ChassisError;
use kamaelia::ipc::ConnectionInfo;
use kamaelia::{Graphline, Pipeline, ServerCore};
use util::{Client, InProcessServer};

/// Applies `f` to each chunk until told to stop, then passes the stop on.
struct Map(fn(&[u8]) -> Vec<u8>);

impl Component for Map {
    type Boxes = Standard<Bytes, Bytes>;
    async fn main(self, cx: Cx<Self::Boxes>) {
        while let Some(chunk) = cx.recv_until_finished().await {
            cx.outbox.send(Bytes::from((self.0)(&chunk))).await;
        }
        for msg in cx.control.drain() {
            cx.signal.send(msg).await;
        }
    }
}

/// A Graphline wrapping one `Map`, with all four of its boxes passed
/// through.
fn wrapped(f: fn(&[u8]) -> Vec<u8>) -> Result<Graphline<Bytes, Bytes>, ChassisError> {
    kamaelia::Graphline! {
        MAP: Map(f);
        ("self", "inbox") => ("MAP", "inbox"),
        ("self", "control") => ("MAP", "control"),
        ("MAP", "outbox") => ("self", "outbox"),
        ("MAP", "signal") => ("self", "signal"),
    }
}

fn upper(chunk: &[u8]) -> Vec<u8> {
    chunk.to_ascii_uppercase()
}

fn exclaim(chunk: &[u8]) -> Vec<u8> {
    chunk
        .iter()
        .map(|&b| if b == b'\n' { b'!' } else { b })
        .collect()
}

#[test]
fn a_pipeline_of_graphlines_serves_each_connection() {
    let server = InProcessServer::start(|| {
        ServerCore::new(|_: &ConnectionInfo| {
            let first = wrapped(upper).expect("a Graphline of one Map builds");
            let second = wrapped(exclaim).expect("a Graphline of one Map builds");
            Pipeline![first, second]
        })
    });
    let mut client = Client::named(server.addr, "client");
    client.send(b"hello\n");
    assert_eq!(client.read_exact_n(6), b"HELLO!");
    client.send(b"again\n");
    assert_eq!(client.read_exact_n(6), b"AGAIN!");
    // The half-close reaches the first Map's control through both chassis;
    // its signal runs down the Pipeline and closes the connection.
    client.shutdown_write();
    assert_eq!(client.read_to_end(), b"");
    server.shutdown();
    server.expect_finished_signal();
}
