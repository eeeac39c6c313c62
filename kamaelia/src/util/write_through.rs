//! The loop of a component that writes what it receives somewhere blocking
//! (the console, a file) and may pass it on: shared by
//! [`ConsoleEchoer`](crate::ConsoleEchoer) and [`Append`](crate::file::Append).

use std::io;

use axon::ipc::Ipc;
use axon::ThreadBoxes;
use bytes::Bytes;

/// Writes each message that arrived before `control` spoke with `write`, in
/// order, passing it on out of `outbox` if `forwarder`. Returns the control
/// message that ended the input, for the caller to pass on out of `signal`
/// (`None` if the component was stopped or its consumer went away), or the
/// first error `write` returned.
pub(crate) fn write_through(
    boxes: &ThreadBoxes<Bytes, Bytes>,
    forwarder: bool,
    mut write: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<Option<Ipc>> {
    while let Some(data) = boxes.recv_until_finished() {
        write(&data)?;
        if forwarder && boxes.outbox.send(data).is_err() {
            return Ok(None);
        }
    }
    Ok(boxes.control.try_recv())
}
