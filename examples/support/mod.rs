//! What the examples share: their command line (`--host`, `--port`, `--help`)
//! and logging (`RUST_LOG`, default `info`).

use std::net::SocketAddr;

use lexopt::ValueExt;

/// Where an example listens or connects.
pub(crate) struct Args {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// Reads `--host` and `--port` (defaulting to `host` and `port`), or prints
/// the usage for `--help` and exits. Also starts logging to stderr.
pub(crate) fn args(name: &str, about: &str, host: &str, port: u16) -> Args {
    init_logging();
    let usage = format!(
        "{about}\n\nUsage: cargo run --example {name} -- [--host HOST] [--port PORT]\n\n\
         Options:\n  --host HOST  address to use [default: {host}]\n  \
         --port PORT  port to use [default: {port}]\n  -h, --help   print this help"
    );
    let mut args = Args {
        host: host.to_string(),
        port,
    };
    let mut parser = lexopt::Parser::from_env();
    let result: Result<(), lexopt::Error> = (|| {
        while let Some(arg) = parser.next()? {
            match arg {
                lexopt::Arg::Long("host") => args.host = parser.value()?.string()?,
                lexopt::Arg::Long("port") => args.port = parser.value()?.parse()?,
                lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                other => return Err(other.unexpected()),
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("{name}: {e}\n\n{usage}");
        std::process::exit(2);
    }
    args
}

/// Says where the example listens, on stdout: the first line the tests read.
#[allow(dead_code)] // not every example listens
pub(crate) fn listening(name: &str, address: Option<SocketAddr>) {
    match address {
        Some(address) => println!("{name} listening on {address}"),
        None => println!("{name} listening"),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
