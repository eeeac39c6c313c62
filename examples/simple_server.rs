//! `cargo run --example simple_server` — then, in two or more terminals,
//! `nc 127.0.0.1 8000` (or `telnet 127.0.0.1 8000`) and type: each line you
//! send reaches every *other* connected client.
//!
//! The chat server of the circuits guide "How to build a Simple Server", built
//! as Kamaelia builds it: a [`Backplane`] called `"chat"`, and a ServerCore
//! whose per-connection protocol is a Pipeline:
//!
//! ```text
//! client bytes → LineSplitter → tag with the sender → PublishTo("chat")
//!                 SubscribeTo("chat"), every line but the client's own → client
//! ```
//!
//! Unlike the guide's server, lines keep their newline (so they do not run
//! together), the whole lines of each read travel together as one message
//! (a client pasting 200 lines is one message to fan out, not 200), their
//! bytes are kept once until every client has taken them, each client being
//! sent slices of them (one system call for a burst of lines, and no copy
//! per client), and a line over [`MAX_LINE`] bytes gets an error and its
//! client is closed. The backplane's flow control does
//! the rest: a client that keeps reading misses no line (the clients sending
//! are slowed to the pace of the slowest reader), and a client that stops
//! reading holds the others back for at most [`GRACE`], and is closed once
//! [`CAP`] bytes wait for it or it has read nothing for [`STALL`]. Ctrl-C
//! shuts down in order.
//!
//! `--schedulers N` runs N schedulers (threads; one per core), each with its
//! own listening socket on the port (the kernel spreads the clients across
//! them) and its own part of the backplane; a [`BackplaneSpan`] joins the
//! parts, so every line still reaches every other client, whichever
//! scheduler each is on.
//!
//! `--backplane redis://HOST:PORT/CHANNEL` bridges the chat to every other
//! server bridged to that channel of that Redis broker, on this machine or
//! others ([`RedisBridge`]): a line said on any reaches the clients of all.
//! A broker that does not answer at the start is an error, unless
//! `--backplane-optional` is given: then the chat is local-only until the
//! broker answers. With `--schedulers N`, each scheduler's backplane is
//! bridged (with a connection pair of its own) instead of spanned.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use axon::ipc::Ipc;
use bytes::{Bytes, BytesMut};
use kamaelia::internet::bind_shared;
use kamaelia::ipc::ConnectionInfo;
use kamaelia::util::{
    Backplane, BackplaneSpan, Encode, Marshall, PlugSplitter, PublishTo, RedisBridge, SubscribeTo,
    Weigh,
};
use kamaelia::{LineSplitter, LineTooLong, Pipeline, PureTransformer, ServerCore};

/// The longest line a client may send, newline included.
const MAX_LINE: usize = 4096;

/// How many bytes of lines may wait for a client that is reading before the
/// clients sending must wait for it.
const PACING: usize = 2 << 20;

/// How many bytes of lines may wait for a client that has stopped reading
/// before it is closed.
const CAP: usize = 8 << 20;

/// How many messages (each the lines of one read) the backplane takes from
/// its publishers in a turn.
const SAID_AT_ONCE: usize = 64;

/// How long a client that has stopped reading holds the others back.
const GRACE: Duration = Duration::from_millis(250);

/// How long a client may read nothing while lines wait for it before it is
/// closed.
const STALL: Duration = Duration::from_secs(3);

/// Whole lines from one client (those of one read), on their way to the
/// others. (Visible to the crate, as `chat` is, for the test that counts
/// what a connection of this server holds: `tests/connection_memory.rs`.)
#[derive(Clone, Debug)]
pub(crate) struct Said {
    from: SocketAddr,
    /// The id of the connection it came from ([`ConnectionInfo::id`]); 0
    /// for lines said on another server (through the Redis bridge), whose
    /// `from` is an address there, which may happen to be a client's here.
    client: u64,
    text: Bytes,
}

impl Said {
    /// Lines from the client `info`, ending in a newline (a client that
    /// closes without one still has its last line delivered whole).
    fn new(info: &ConnectionInfo, text: Bytes) -> Self {
        let text = if text.ends_with(b"\n") {
            text
        } else {
            let mut line = BytesMut::from(&text[..]);
            line.extend_from_slice(b"\n");
            line.freeze()
        };
        Said {
            from: info.peer_addr(),
            client: info.id,
            text,
        }
    }
}

impl Weigh for Said {
    fn weight(&self) -> usize {
        self.text.len()
    }
}

/// To a client: the lines as they were said.
impl Encode for Said {
    fn encode(&self, out: &mut BytesMut) {
        out.extend_from_slice(&self.text);
    }
}

/// On the broker: the sender's address as text, a space, then the lines'
/// bytes as they are.
impl Marshall for Said {
    fn marshall(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.from.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.text);
    }

    fn demarshall(bytes: &[u8]) -> Option<Self> {
        let space = bytes.iter().position(|&b| b == b' ')?;
        let from = std::str::from_utf8(&bytes[..space]).ok()?.parse().ok()?;
        let text = Bytes::copy_from_slice(&bytes[space + 1..]);
        Some(Said {
            from,
            client: 0,
            text,
        })
    }
}

/// What a client hears when its line was too long, before it is closed.
fn goodbye(why: &Ipc) -> Option<Bytes> {
    let too_long = line_too_long(why)?;
    Some(Bytes::from(format!("error: {too_long}; goodbye\n")))
}

/// The [`LineTooLong`] error a message carries, if it does.
fn line_too_long(message: &Ipc) -> Option<&LineTooLong> {
    match message {
        Ipc::ErrorInformation(info) => info.exception.as_ref()?.downcast_ref(),
        _ => None,
    }
}

/// One client's protocol.
pub(crate) fn chat(info: &ConnectionInfo) -> Pipeline<Bytes, Bytes> {
    let (info, me) = (*info, info.id);
    Pipeline![
        LineSplitter::new()
            .max_line_length(MAX_LINE - 1)
            .lines_together(),
        PureTransformer::new(move |text| Some(Said::new(&info, text))),
        // Its `inbox` is the backplane's.
        PublishTo::new("chat"),
        // Every line but the client's own, in slices of the bytes the
        // backplane keeps of them once for every client.
        SubscribeTo::new("chat")
            .encoded_where(move |said: &Said| said.client != me)
            .on_error(goodbye),
    ]
}

fn main() -> std::io::Result<()> {
    let options = support::server_options(
        "simple_server",
        "A telnet chat server: each line a client sends reaches every other client.",
        8000,
        [
            support::Count {
                name: "schedulers",
                help: "schedulers (threads, one per core) sharing the port and the chat",
                value: 1,
            },
            support::max_connections_option(),
        ],
        [support::Text {
            name: "backplane",
            help: "share the chat with other servers through a Redis broker: redis://HOST:PORT/CHANNEL",
            value: String::new(),
        }],
        [support::Flag {
            name: "backplane-optional",
            help: "if the broker does not answer at the start, chat locally until it does",
            value: false,
        }],
    );
    let (args, [schedulers, max_connections], [url], [optional]) =
        (options.args, options.counts, options.texts, options.flags);
    // The broker first: a server that cannot share its chat says so before
    // it listens.
    let bridges: Vec<_> = (0..schedulers.max(1))
        .map(|_| (!url.is_empty()).then(|| bridge(&url, optional)))
        .collect();
    let stats: Vec<_> = bridges.iter().flatten().map(RedisBridge::stats).collect();
    // One listening socket per scheduler on the same port (SO_REUSEPORT),
    // and one chat backplane per scheduler, joined by a span or each bridged.
    let listeners = bind_shared(&args.host, args.port, schedulers.max(1), Default::default())?;
    support::listening("simple_server", listeners[0].local_addr().ok());
    let span = BackplaneSpan::<Said>::new(listeners.len());
    let served = axon::run_schedulers(listeners.into_iter().zip(bridges), |(listener, bridge)| {
        serve(listener, bridge, &span, max_connections)
    });
    for stats in stats {
        tracing::info!("the Redis bridge: {stats:?}");
    }
    served
}

/// The bridge to the broker at `url`, or the end of the program with a
/// message saying why not.
fn bridge(url: &str, optional: bool) -> RedisBridge<Said> {
    let bridge = if optional {
        RedisBridge::connect_optional(url)
    } else {
        RedisBridge::connect(url)
    };
    bridge.unwrap_or_else(|e| {
        eprintln!("simple_server: {e}");
        std::process::exit(1);
    })
}

/// Starts the chat on this thread's scheduler: its part of the backplane
/// (bridged to the broker, or spanning the schedulers), and a server on its
/// listening socket.
fn serve(
    listener: TcpListener,
    bridge: Option<RedisBridge<Said>>,
    span: &BackplaneSpan<Said>,
    max_connections: usize,
) -> std::io::Result<()> {
    let splitter = PlugSplitter::new()
        .pacing_bytes(PACING)
        .max_backlog_messages(PACING / 16)
        .max_backlog_bytes(CAP)
        .stall_grace(GRACE)
        .stall_timeout(STALL)
        .inbox_size(SAID_AT_ONCE);
    let backplane = Backplane::<Said>::with_splitter("chat", splitter);
    let backplane = match bridge {
        Some(bridge) => backplane.bridged(bridge).map_err(std::io::Error::other)?,
        None => backplane.spanning(span).map_err(std::io::Error::other)?,
    };
    let backplane = backplane.activate().map_err(std::io::Error::other)?;
    let server = ServerCore::new(chat)
        .listener(listener)
        .shutdown_on_signals();
    let server = support::limit_connections(server, max_connections).activate()?;
    // When the server has shut down, its signal ends the backplane too.
    backplane
        .link((&server, "signal"), (&backplane, "control"))
        .map_err(std::io::Error::other)?;
    Ok(())
}
