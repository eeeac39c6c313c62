//! [`Listening`]: where and how a server listens, and the [`TcpServer`] it
//! runs there: what [`ServerCore`](crate::chassis::ServerCore) and
//! [`SingleServer`](super::SingleServer) share.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};

use axon::ipc::{ErrorInformation, Ipc};
use axon::{BoxSet, ComponentRef, Cx, Inbox, Outbox};

use super::inline_protocol::InlineFactory;
use super::limit::ConnectionLimit;
use super::messages::SocketActivity;
use super::options::{ConnectionOptions, ListenOptions, DEFAULT_HOST};
use super::tcp_server::{bind, TcpServer};

/// A server's address, its socket options, and its listening socket once
/// there is one.
pub(crate) struct Listening {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) listen: ListenOptions,
    pub(crate) connection: ConnectionOptions,
    pub(crate) limit: ConnectionLimit,
    /// Bound by [`bind`](Self::bind), or handed in (an error then is the one
    /// making it non-blocking, reported when the server starts).
    listener: Option<io::Result<TcpListener>>,
}

impl Listening {
    /// On the loopback interface ([`DEFAULT_HOST`]), `port`, with the
    /// default options.
    pub(crate) fn new(port: u16) -> Self {
        Listening {
            host: DEFAULT_HOST.to_string(),
            port,
            listen: ListenOptions::default(),
            connection: ConnectionOptions::default(),
            limit: ConnectionLimit::default(),
            listener: None,
        }
    }

    /// Binds now, unless bound or handed a listener already.
    pub(crate) fn bind(&mut self) -> io::Result<()> {
        if self.listener.is_none() {
            self.listener = Some(Ok(bind(&self.host, self.port, self.listen)?));
        }
        Ok(())
    }

    /// Serves on `listener` (made non-blocking here: a listener handed in may
    /// not be).
    pub(crate) fn set_listener(&mut self, listener: TcpListener) {
        self.listener = Some(listener.set_nonblocking(true).map(|()| listener));
    }

    /// The address it listens on, once bound.
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        match &self.listener {
            Some(Ok(listener)) => listener.local_addr().ok(),
            _ => None,
        }
    }

    /// Binds (if not yet bound) and starts a [`TcpServer`] on the listener,
    /// as a child of `cx`'s component, its announcements linked to
    /// `socketactivity` and `serversignal` linked to its `control`, giving
    /// each adapter the protocol `inline` makes, if any. If it cannot, says
    /// why (logged, and `ErrorInformation` out of `signal`) and returns
    /// `None`: the server cannot start.
    pub(crate) async fn start_tcp_server<B: BoxSet>(
        &mut self,
        cx: &Cx<B>,
        socketactivity: &Inbox<SocketActivity>,
        serversignal: &Outbox<Ipc>,
        signal: &Outbox<Ipc>,
        inline: Option<InlineFactory>,
    ) -> Option<ComponentRef> {
        match self.try_start_tcp_server(cx, socketactivity, serversignal, inline) {
            Ok(server) => Some(server),
            Err(e) => {
                tracing::error!(target: "kamaelia::internet", listening = ?self, server = %cx.id(), error = %e, "cannot listen");
                signal.send(ErrorInformation::new(cx.id(), e).into()).await;
                None
            }
        }
    }

    fn try_start_tcp_server<B: BoxSet>(
        &mut self,
        cx: &Cx<B>,
        socketactivity: &Inbox<SocketActivity>,
        serversignal: &Outbox<Ipc>,
        inline: Option<InlineFactory>,
    ) -> io::Result<ComponentRef> {
        let listener = match self.listener.take() {
            Some(listener) => listener?,
            None => bind(&self.host, self.port, self.listen)?,
        };
        if let Ok(address) = listener.local_addr() {
            tracing::info!(target: "kamaelia::internet", %address, "listening");
        }
        let mut server = TcpServer::from_listener(listener)
            .connection_options(self.connection)
            .connection_limit(self.limit.clone());
        if let Some(inline) = inline {
            server = server.inline_factory(inline);
        }
        let server = ComponentRef::new(server);
        cx.link((&server, "protocol_handler_signal"), socketactivity)
            .and_then(|_| cx.link(serversignal, (&server, "control")))
            .map_err(io::Error::other)?;
        cx.add_children([&server]);
        server.activate_on(&cx.scheduler());
        Ok(server)
    }
}

impl fmt::Debug for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listening")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("bound", &self.local_addr())
            .finish_non_exhaustive()
    }
}
