//! `cargo run --example tcp_client` — connects to 127.0.0.1:8000 (start
//! `cargo run --example simple_server` first), sends each line you type, and
//! prints what comes back.
//!
//! Kamaelia's `Pipeline(ConsoleReader(), TCPClient(host, port), ConsoleEchoer())`,
//! wired by hand. It ends when the server closes the connection, when standard
//! input ends (after sending what was typed), or on Ctrl-C.

mod support;

use std::cell::Cell;
use std::rc::Rc;

use axon::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon::{ComponentRef, Postoffice, Scheduler};
use kamaelia::ipc::SocketShutdown;
use kamaelia::{signals, ConsoleEchoer, ConsoleReader, TcpClient};

fn main() -> std::io::Result<()> {
    let args = support::args(
        "tcp_client",
        "Sends each line of standard input to a TCP server and prints what comes back.",
        8000,
    );
    let reader = ComponentRef::new(ConsoleReader::new());
    let client = ComponentRef::new(TcpClient::new(args.host.clone(), args.port));
    let echoer = ComponentRef::new(ConsoleEchoer::new());
    let wiring = Postoffice::new();
    wiring
        .link((&reader, "outbox"), (&client, "inbox"))
        .and_then(|_| wiring.link((&reader, "signal"), (&client, "control")))
        .and_then(|_| wiring.link((&client, "outbox"), (&echoer, "inbox")))
        .and_then(|_| wiring.link((&client, "signal"), (&echoer, "control")))
        .map_err(std::io::Error::other)?;

    // Tell the user why it ended, if it was an error, and stop reading.
    let failed = Rc::new(Cell::new(false));
    let report = ComponentRef::new(Reporter(failed.clone()));
    wiring
        .link((&echoer, "signal"), (&report, "control"))
        .and_then(|_| wiring.link((&report, "signal"), (&reader, "control")))
        .map_err(std::io::Error::other)?;

    let scheduler = Scheduler::current();
    for component in [&reader, &client, &echoer, &report] {
        component.activate_on(&scheduler);
    }
    // Ctrl-C: close the connection (sending what was typed) and stop reading.
    let client_control = client
        .inbox::<Ipc>("control")
        .map_err(std::io::Error::other)?;
    let reader_control = reader
        .inbox::<Ipc>("control")
        .map_err(std::io::Error::other)?;
    if let (Some(client_control), Some(reader_control)) = (
        client_control.remote_sender(),
        reader_control.remote_sender(),
    ) {
        signals::on_termination(move || {
            client_control.send(ProducerFinished::new().into());
            reader_control.send(ShutdownMicroprocess::new().into());
        });
    }
    scheduler.run()?;
    // Exit now: the reader's thread may still be waiting for a line.
    std::process::exit(if failed.get() { 1 } else { 0 })
}

/// Reports how the connection ended (and whether it failed), then tells the
/// console reader to stop, and ends.
struct Reporter(Rc<Cell<bool>>);

impl axon::Component for Reporter {
    type Boxes = axon::Standard<(), ()>;

    async fn main(self, cx: axon::Cx<Self::Boxes>) {
        let message = cx.control.next().await;
        let reason = message
            .finished_with::<SocketShutdown>()
            .and_then(|s| s.how_died.as_ref().map(|e| e.to_string()));
        if let Some(reason) = reason {
            eprintln!("tcp_client: connection ended: {reason}");
            self.0.set(true);
        }
        cx.signal.send(ShutdownMicroprocess::new().into()).await;
    }
}
