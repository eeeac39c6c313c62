//! [`InlineProtocol`]: a protocol handler that is a plain value, run inside
//! its connection's adapter, and the [`Reply`] it answers through.

use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

use bytes::Bytes;

use super::messages::ConnectionInfo;

/// A protocol handler that is a plain value, not a component: its
/// connection's [`ConnectedSocketAdapter`](super::ConnectedSocketAdapter)
/// calls it with each chunk it reads, and writes what it answers in the same
/// turn.
///
/// A [`ServerCore`](crate::ServerCore) made with
/// [`ServerCore::inline`](crate::ServerCore::inline) runs one per connection.
/// Each connection is then one component, not two: no handler task,
/// generator or boxes, and no linkages between adapter and handler. A round
/// trip resumes the adapter once (for the Selector's notice) instead of
/// three times, and an idle connection takes about a third of the heap (see
/// `docs/PERFORMANCE.md`).
///
/// What it gives up is what a component has: it cannot wait (for a timer, a
/// service, another component), make children, or send anywhere but back to
/// its client. A handler that needs any of that is a component, as in
/// Kamaelia; one that only answers what its client sends, as most line
/// protocols do, can be inline.
///
/// # What the adapter does with it
///
/// * [`on_data`](Self::on_data) is called with the bytes of each read, in
///   order. What it sends is written to the client when it returns, after
///   what it sent before; an echo round trip allocates nothing.
/// * The adapter stops reading while as many chunks wait to be written as
///   its `inbox` size limit ([`ConnectionOptions::csa_inbox_size`](super::ConnectionOptions::csa_inbox_size))
///   allows: a client that does not read its answers is held back by TCP,
///   and the memory per connection stays bounded by what one call sends.
/// * When the client closes its side, [`on_peer_closed`](Self::on_peer_closed)
///   is called once; then the connection sends what is queued and closes.
/// * [`Reply::finish`] ends the protocol: nothing more is passed to it, and
///   the connection sends what is queued, shuts its sending side, and closes
///   once the client closes too (or its linger runs out).
/// * When the server shuts down, the connection sends what is queued and
///   closes, as a component handler's does once it finishes.
/// * An adapter asleep with nothing queued lends its protocol to what sees
///   its connection's bytes arrive: the Selector's poll, which reads the
///   socket when it is readable, or with the `io-uring` feature the
///   thread's ring, as each receive completes (the bytes where the kernel
///   put them). Either calls it and sends its answer at once: a request
///   and its answer then cost the adapter no turn at all. The calls are the
///   same, in the same order, inside the adapter's `tracing` span; the
///   adapter takes the protocol back whenever it has anything else to do
///   (an answer the socket did not take at once, or one sent whole, the
///   end of the input, an error, a message of its own).
///
/// # Examples
///
/// Kamaelia's echo server, with the echo inline ([`EchoProtocol`](crate::EchoProtocol)
/// is both a component and an inline protocol):
///
/// ```no_run
/// use kamaelia::internet::{InlineProtocol, Reply};
/// use kamaelia::SimpleServer;
///
/// /// Sends back everything it receives.
/// struct Echo;
///
/// impl InlineProtocol for Echo {
///     fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
///         reply.send(data);
///     }
/// }
///
/// SimpleServer::inline(|| Echo).port(12345).run()?;
/// # std::io::Result::Ok(())
/// ```
///
/// A server on a background scheduler, a client talking to it, and an
/// orderly shutdown:
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpStream;
///
/// use axon::ipc::Ipc;
/// use axon::Background;
/// use kamaelia::internet::{InlineProtocol, Reply};
/// use kamaelia::ipc::server_shutdown;
/// use kamaelia::SimpleServer;
///
/// /// Answers each read in capitals.
/// struct Shout;
///
/// impl InlineProtocol for Shout {
///     fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>) {
///         reply.send(&data.to_ascii_uppercase());
///     }
/// }
///
/// let background = Background::start()?;
/// let (address, control) = background.run_on(|| {
///     let server = SimpleServer::inline(|| Shout).port(0).bind()?;
///     let address = server.local_addr().expect("bound");
///     let server = server.activate()?;
///     let control = server.inbox::<Ipc>("control").map_err(std::io::Error::other)?;
///     std::io::Result::Ok((address, control.remote_sender().expect("activated")))
/// })?;
///
/// let mut client = TcpStream::connect(address)?;
/// client.write_all(b"hello\n")?;
/// let mut answer = [0; 6];
/// client.read_exact(&mut answer)?;
/// assert_eq!(&answer, b"HELLO\n");
///
/// control.send(server_shutdown());
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
pub trait InlineProtocol: 'static {
    /// The client sent `data` (the bytes of one read: a line protocol
    /// splits lines itself, keeping a partial line for the next call). What
    /// it sends with `reply` goes back to the client.
    fn on_data(&mut self, data: &[u8], reply: &mut Reply<'_>);

    /// The client has closed its sending side: nothing more will come.
    /// What it sends with `reply` is the last the client gets; then the
    /// connection closes. By default it sends nothing.
    fn on_peer_closed(&mut self, reply: &mut Reply<'_>) {
        let _ = reply;
    }
}

/// Makes the inline protocol for a connection: what a
/// [`TcpServer`](super::TcpServer) is given to run one in each adapter.
pub(crate) type InlineFactory = Rc<dyn Fn(&ConnectionInfo) -> Box<dyn InlineProtocol>>;

/// The [`InlineFactory`] that makes each connection's protocol with
/// `protocol`.
pub(crate) fn inline_factory<F, P>(protocol: F) -> InlineFactory
where
    F: Fn(&ConnectionInfo) -> P + 'static,
    P: InlineProtocol,
{
    Rc::new(move |info: &ConnectionInfo| Box::new(protocol(info)) as Box<dyn InlineProtocol>)
}

/// What an [`InlineProtocol`] answers through: the bytes it sends go to its
/// client, after everything it sent before.
///
/// What one call sends is written once it returns, in one system call,
/// straight from a buffer the thread's adapters share: an answer the socket
/// takes at once costs no allocation. Only what the socket does not take is
/// kept, in a chunk of its own.
pub struct Reply<'a> {
    /// This call's bytes, copied (a buffer shared by the thread's adapters).
    out: &'a mut Vec<u8>,
    /// The connection's queue, for [`send_bytes`](Self::send_bytes).
    queue: &'a mut VecDeque<Bytes>,
    finished: bool,
}

impl<'a> Reply<'a> {
    /// A reply gathering into `out`, with `queue` for what is sent whole.
    fn new(out: &'a mut Vec<u8>, queue: &'a mut VecDeque<Bytes>) -> Self {
        Reply {
            out,
            queue,
            finished: false,
        }
    }

    /// Sends `data` to the client (copied: it is gathered with the rest of
    /// this call's answer).
    pub fn send(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
    }

    /// Sends `data` to the client without copying it: for a large answer
    /// already in [`Bytes`] (a file's contents, say).
    pub fn send_bytes(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        self.spill();
        self.queue.push_back(data);
    }

    /// Ends the protocol: the connection sends what is queued and closes,
    /// and is passed nothing more.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// True once [`finish`](Self::finish) has been called.
    fn is_finished(&self) -> bool {
        self.finished
    }

    /// Queues what has been gathered, so that what is queued next goes
    /// after it.
    fn spill(&mut self) {
        if !self.out.is_empty() {
            self.queue.push_back(Bytes::copy_from_slice(self.out));
            self.out.clear();
        }
    }
}

/// Calls `protocol` through `call` with a [`Reply`] that gathers into `out`
/// and queues what it sends whole on `queue`: whether the protocol
/// finished. Its panic is turned into an error that closes its connection
/// alone, logged (in the span current now) with the panic's message: left
/// to unwind, it would end the adapter (or the Selector that answers for
/// it) without closing the socket or telling the server.
pub(crate) fn answer(
    protocol: &mut dyn InlineProtocol,
    out: &mut Vec<u8>,
    queue: &mut VecDeque<Bytes>,
    call: impl FnOnce(&mut dyn InlineProtocol, &mut Reply<'_>),
) -> io::Result<bool> {
    let mut reply = Reply::new(out, queue);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(protocol, &mut reply)))
        .map_err(|payload| {
            let panic = axon::panic_message(&*payload);
            tracing::error!(target: "kamaelia::csa", %panic, "inline protocol panicked; closing its connection");
            io::Error::other(format!("the inline protocol panicked: {panic}"))
        })?;
    Ok(reply.is_finished())
}

impl std::fmt::Debug for Reply<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("gathered", &self.out.len())
            .field("queued", &self.queue.len())
            .field("finished", &self.finished)
            .finish()
    }
}
