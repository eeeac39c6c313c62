//! The chat protocol of Kamaelia's introspection tutorial
//! (`Introspection/IntrospectionTutorial/ChatServer.py`), shared by the
//! `introspection_chat_server` and `chat_graph` examples.

use axon::ComponentRef;
use bytes::{Bytes, BytesMut};
use kamaelia::ipc::ConnectionInfo;
use kamaelia::{Backplane, LineSplitter, Pipeline, PublishTo, PureTransformer, SubscribeTo};

/// The backplane every connection publishes to and subscribes to.
pub(crate) const CHAT: &str = "CHAT_ONE";

/// The longest line a client may send, before its newline. A longer one ends
/// that client's splitter (bounding what a client can make the server hold).
pub(crate) const MAX_LINE: usize = 4096;

/// Starts the `CHAT_ONE` backplane on the current scheduler.
pub(crate) fn backplane() -> std::io::Result<ComponentRef> {
    Backplane::<Bytes>::new(CHAT)
        .activate()
        .map_err(std::io::Error::other)
}

/// One connection's protocol: the client's bytes cut into lines, each line
/// prefixed with who said it, published to the backplane; and everything
/// published there (this client's own lines too) sent back to the client.
///
/// The `PublishTo` passes its input straight to the backplane and sends
/// nothing on; the `SubscribeTo` after it in the Pipeline only hears, through
/// its `control`, when the publisher has finished, so that the connection
/// closes once the client has gone.
pub(crate) fn protocol(info: &ConnectionInfo) -> Pipeline<Bytes, Bytes> {
    let prefix = format!("{}:{} says ", info.peer, info.peer_port);
    Pipeline![
        LineSplitter::new().max_line_length(MAX_LINE),
        PureTransformer::new(move |line: Bytes| Some(said(&prefix, &line))),
        PublishTo::new(CHAT),
        SubscribeTo::new(CHAT),
    ]
}

/// `line`, prefixed with `prefix`: bytes, not text, so that whatever a client
/// sends reaches the others unchanged.
fn said(prefix: &str, line: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(prefix.len() + line.len());
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(line);
    out.freeze()
}
