//! Kamaelia components built on [`axon`].
//!
//! The networking stack (Selector, TCPServer, ConnectedSocketAdapter, TCPClient,
//! ServerCore, SimpleServer) and the chassis arrive here next.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
