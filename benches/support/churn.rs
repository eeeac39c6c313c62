//! Connection churn, shared by the accept and chat benches: client threads
//! opening and closing connections as fast as the server takes them.

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crate::support::{pin, CLIENT_CPU};

/// Opens and closes `connections` connections to `address` from `clients`
/// threads pinned to [`CLIENT_CPU`], each connecting, shutting its sending
/// side and reading until the server closes, then connecting again; returns
/// connections per second.
pub(crate) fn churn(address: SocketAddr, connections: usize, clients: usize) -> f64 {
    let left = Arc::new(AtomicUsize::new(connections));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let left = left.clone();
            thread::spawn(move || {
                pin(CLIENT_CPU);
                let mut sink = [0u8; 64];
                while left
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let mut stream = TcpStream::connect(address).expect("connect");
                    stream.shutdown(Shutdown::Write).expect("shutdown");
                    while stream.read(&mut sink).expect("read") > 0 {}
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no panic");
    }
    connections as f64 / started.elapsed().as_secs_f64()
}
