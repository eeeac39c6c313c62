//! What the examples share: their command line (`--host`, `--port`, `--help`,
//! or whole-number options such as `--meals 5`) and logging (`RUST_LOG`, default `info`).

use std::net::SocketAddr;

use lexopt::ValueExt;

#[allow(dead_code)] // only the chat examples use it
pub(crate) mod chat;

/// Where an example listens or connects.
pub(crate) struct Args {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// Reads `--host` and `--port` (defaulting to `host` and `port`), or prints
/// the usage for `--help` and exits. Also starts logging to stderr.
#[allow(dead_code)] // not every example listens
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
    parse(name, &usage, |long, parser| {
        match long {
            "host" => args.host = parser.value()?.string()?,
            "port" => args.port = parser.value()?.parse()?,
            other => return Err(lexopt::Arg::Long(other).unexpected()),
        }
        Ok(())
    });
    args
}

/// Reads `--host` and `--port` as [`args`] does, and the whole-number options
/// `counts` as [`counts`] does, for a server example with knobs (such as
/// `--rate 2`).
#[allow(dead_code)] // not every example listens and counts
pub(crate) fn args_and_counts<const N: usize>(
    name: &str,
    about: &str,
    host: &str,
    port: u16,
    mut counts: [Count; N],
) -> (Args, [usize; N]) {
    init_logging();
    let mut usage =
        format!("{about}\n\nUsage: cargo run --example {name} -- [--host HOST] [--port PORT]");
    for count in &counts {
        usage.push_str(&format!(" [--{} N]", count.name));
    }
    let width = counts
        .iter()
        .map(|c| c.name.len() + 4)
        .max()
        .unwrap_or(0)
        .max(11);
    usage.push_str(&format!(
        "\n\nOptions:\n  {:width$}  address to use [default: {host}]\n  {:width$}  port to use [default: {port}]\n",
        "--host HOST", "--port PORT"
    ));
    for count in &counts {
        let option = format!("--{} N", count.name);
        usage.push_str(&format!(
            "  {option:width$}  {} [default: {}]\n",
            count.help, count.value
        ));
    }
    usage.push_str(&format!("  {:width$}  print this help", "-h, --help"));
    let mut args = Args {
        host: host.to_string(),
        port,
    };
    parse(name, &usage, |long, parser| {
        match long {
            "host" => args.host = parser.value()?.string()?,
            "port" => args.port = parser.value()?.parse()?,
            other => match counts.iter_mut().find(|c| c.name == other) {
                Some(count) => count.value = parser.value()?.parse()?,
                None => return Err(lexopt::Arg::Long(other).unexpected()),
            },
        }
        Ok(())
    });
    (args, counts.map(|c| c.value))
}

/// A whole-number option, such as `--meals 5`.
#[allow(dead_code)] // not every example counts
pub(crate) struct Count {
    /// Its name, without the dashes.
    pub(crate) name: &'static str,
    /// What it counts, for `--help`.
    pub(crate) help: &'static str,
    /// Its default; then its value.
    pub(crate) value: usize,
}

/// Reads the whole-number options `counts` (each `--NAME N`), or prints the
/// usage for `--help` and exits. Also starts logging to stderr.
#[allow(dead_code)] // not every example counts
pub(crate) fn counts<const N: usize>(
    name: &str,
    about: &str,
    mut counts: [Count; N],
) -> [usize; N] {
    init_logging();
    let mut usage = format!("{about}\n\nUsage: cargo run --example {name} --");
    for count in &counts {
        usage.push_str(&format!(" [--{} N]", count.name));
    }
    usage.push_str("\n\nOptions:\n");
    let width = counts.iter().map(|c| c.name.len() + 4).max().unwrap_or(0);
    for count in &counts {
        let option = format!("--{} N", count.name);
        usage.push_str(&format!(
            "  {option:width$}  {} [default: {}]\n",
            count.help, count.value
        ));
    }
    usage.push_str(&format!("  {:width$}  print this help", "-h, --help"));
    parse(name, &usage, |long, parser| {
        match counts.iter_mut().find(|c| c.name == long) {
            Some(count) => count.value = parser.value()?.parse()?,
            None => return Err(lexopt::Arg::Long(long).unexpected()),
        }
        Ok(())
    });
    counts.map(|c| c.value)
}

/// Parses the command line, handing the name of every long option but
/// `--help` to `option` (which reads its value from the parser); prints
/// `usage` and exits 0 for help, or exits 2 on an error.
fn parse(
    name: &str,
    usage: &str,
    mut option: impl FnMut(&str, &mut lexopt::Parser) -> Result<(), lexopt::Error>,
) {
    let mut parser = lexopt::Parser::from_env();
    let result: Result<(), lexopt::Error> = (|| {
        while let Some(arg) = parser.next()? {
            match arg {
                lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                lexopt::Arg::Long(long) => {
                    let long = long.to_string();
                    option(&long, &mut parser)?;
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
