//! [`RingLink`] without the `io-uring` feature: a type with no values, so
//! that a connection's ring is always `None` and the code that uses one
//! compiles (and is dropped as unreachable) without a `cfg` at each use.

use std::io::{self, IoSlice};
use std::net::TcpStream;
use std::rc::Rc;

use axon::ComponentRef;

use super::core::SelectorCore;

use crate::internet::inline_protocol::InlineProtocol;
use crate::internet::lent_protocol::TakenBack;

/// A connection's place on a ring: none can be made without the `io-uring`
/// feature.
#[derive(Debug)]
pub(crate) enum RingLink {}

/// Never a place on a ring: this build has none.
pub(super) fn ring_link(
    _core: &Rc<SelectorCore>,
    _adapter: ComponentRef,
    _socket: &Rc<TcpStream>,
) -> Option<RingLink> {
    None
}

// The same calls as the ring's own `RingLink` (`ring.rs`), each unreachable.
impl RingLink {
    pub(crate) fn take_received(&self, _into: &mut Vec<u8>) -> Option<(usize, bool)> {
        match *self {}
    }

    pub(crate) fn receive_on(
        &self,
        _socket: &Rc<TcpStream>,
        _most: usize,
        _room: bool,
    ) -> io::Result<bool> {
        match *self {}
    }

    pub(crate) fn wait_for_send(&self) -> bool {
        match *self {}
    }

    pub(crate) fn lend(
        &self,
        _protocol: Box<dyn InlineProtocol>,
    ) -> Result<(), Box<dyn InlineProtocol>> {
        match *self {}
    }

    pub(crate) fn take_back(&self) -> TakenBack {
        match *self {}
    }

    pub(crate) fn send(&self, _socket: &Rc<TcpStream>, _slices: &[IoSlice<'_>]) -> bool {
        match *self {}
    }

    pub(crate) fn send_bytes(&self, _socket: &Rc<TcpStream>, _bytes: bytes::Bytes) -> bool {
        match *self {}
    }
}
