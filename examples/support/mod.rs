//! What the examples share: their command line (`--host`, `--port`, `--help`,
//! whole-number options such as `--meals 5`, text options such as
//! `--path FILE`, flags such as `--backplane-optional`, plain arguments) and
//! logging (`RUST_LOG`, default `info`).

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

use lexopt::ValueExt;

#[allow(dead_code)] // only the chat examples use it
pub(crate) mod chat;

/// Where an example listens or connects.
pub(crate) struct Args {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// Where every example listens (or connects) unless `--host` says
/// otherwise: the loopback interface only, so that trying an example opens no
/// port to the network.
const DEFAULT_HOST: &str = kamaelia::DEFAULT_HOST;

/// Reads `--host` (default [`DEFAULT_HOST`]) and `--port` (default `port`),
/// or prints the usage for `--help` and exits. Also starts logging to stderr.
#[allow(dead_code)] // not every example listens
pub(crate) fn args(name: &str, about: &str, port: u16) -> Args {
    args_and_counts(name, about, port, []).0
}

/// [`args`], and the whole-number options `counts` (each `--NAME N`).
#[allow(dead_code)] // not every example listens and counts
pub(crate) fn args_and_counts<const N: usize>(
    name: &str,
    about: &str,
    port: u16,
    counts: [Count; N],
) -> (Args, [usize; N]) {
    let options = server_options(name, about, port, counts, [], []);
    (options.args, options.counts)
}

/// What [`server_options`] read.
#[allow(dead_code)] // not every example listens
pub(crate) struct ServerOptions<const N: usize, const M: usize, const K: usize> {
    /// `--host` and `--port`.
    pub(crate) args: Args,
    /// The whole-number options' values, in the order given.
    pub(crate) counts: [usize; N],
    /// The text options' values, in the order given.
    pub(crate) texts: [String; M],
    /// The flags' values, in the order given.
    pub(crate) flags: [bool; K],
}

/// [`args`], the whole-number options `counts` (each `--NAME N`), the text
/// options `texts` (each `--NAME TEXT`) and the flags `flags` (each
/// `--NAME`).
#[allow(dead_code)] // not every example listens
pub(crate) fn server_options<const N: usize, const M: usize, const K: usize>(
    name: &str,
    about: &str,
    port: u16,
    mut counts: [Count; N],
    mut texts: [Text; M],
    mut flags: [Flag; K],
) -> ServerOptions<N, M, K> {
    let host = DEFAULT_HOST;
    init_logging();
    let mut usage =
        format!("{about}\n\nUsage: cargo run --example {name} -- [--host HOST] [--port PORT]");
    let mut lines = vec![
        (
            "--host HOST".to_string(),
            "address to use (0.0.0.0: every interface)",
            Some(host.to_string()),
        ),
        (
            "--port PORT".to_string(),
            "port to use",
            Some(port.to_string()),
        ),
    ];
    for count in &counts {
        usage.push_str(&format!(" [--{} N]", count.name));
        let default = Some(count.value.to_string());
        lines.push((format!("--{} N", count.name), count.help, default));
    }
    for text in &texts {
        let option = format!("--{} {}", text.name, text.name.to_uppercase());
        usage.push_str(&format!(" [{option}]"));
        let default = (!text.value.is_empty()).then(|| text.value.clone());
        lines.push((option, text.help, default));
    }
    for flag in &flags {
        usage.push_str(&format!(" [--{}]", flag.name));
        lines.push((format!("--{}", flag.name), flag.help, None));
    }
    let width = lines.iter().map(|l| l.0.len()).max().unwrap_or(0).max(11);
    usage.push_str("\n\nOptions:\n");
    for (option, help, default) in &lines {
        match default {
            Some(default) => {
                usage.push_str(&format!("  {option:width$}  {help} [default: {default}]\n"))
            }
            None => usage.push_str(&format!("  {option:width$}  {help}\n")),
        }
    }
    usage.push_str(&format!("  {:width$}  print this help", "-h, --help"));
    let mut args = Args {
        host: host.to_string(),
        port,
    };
    parse(name, &usage, |arg, parser| {
        match arg {
            lexopt::Arg::Long("host") => args.host = parser.value()?.string()?,
            lexopt::Arg::Long("port") => args.port = parser.value()?.parse()?,
            lexopt::Arg::Long(long) if counts.iter().any(|c| c.name == long) => {
                if let Some(count) = counts.iter_mut().find(|c| c.name == long) {
                    count.value = parser.value()?.parse()?;
                }
            }
            lexopt::Arg::Long(long) if texts.iter().any(|t| t.name == long) => {
                if let Some(text) = texts.iter_mut().find(|t| t.name == long) {
                    text.value = parser.value()?.string()?;
                }
            }
            lexopt::Arg::Long(long) if flags.iter().any(|f| f.name == long) => {
                if let Some(flag) = flags.iter_mut().find(|f| f.name == long) {
                    flag.value = true;
                }
            }
            other => return Err(other.unexpected()),
        }
        Ok(())
    });
    ServerOptions {
        args,
        counts: counts.map(|c| c.value),
        texts: texts.map(|t| t.value),
        flags: flags.map(|f| f.value),
    }
}

/// A yes-or-no option, such as `--backplane-optional`: off unless given.
#[allow(dead_code)] // not every example has flags
pub(crate) struct Flag {
    /// Its name, without the dashes.
    pub(crate) name: &'static str,
    /// What it does, for `--help`.
    pub(crate) help: &'static str,
    /// Whether it was given.
    pub(crate) value: bool,
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
pub(crate) fn counts<const N: usize>(name: &str, about: &str, counts: [Count; N]) -> [usize; N] {
    options(name, about, counts, [], None).counts
}

/// The `--max-connections N` option of the servers that take it.
#[allow(dead_code)] // not every example serves
pub(crate) fn max_connections_option() -> Count {
    Count {
        name: "max-connections",
        help: "most clients served at once; more are refused (0: no limit)",
        value: 0,
    }
}

/// `server` limited to `max` connections at once, as `--max-connections`
/// asks (0: no limit).
#[allow(dead_code)] // not every example serves
pub(crate) fn limit_connections(server: kamaelia::ServerCore, max: usize) -> kamaelia::ServerCore {
    match max {
        0 => server,
        max => server.max_connections(max),
    }
}

/// A text option, such as `--path FILE`.
#[allow(dead_code)] // not every example takes text
pub(crate) struct Text {
    /// Its name, without the dashes.
    pub(crate) name: &'static str,
    /// What it is, for `--help`.
    pub(crate) help: &'static str,
    /// Its default; then its value.
    pub(crate) value: String,
}

/// What [`options`] read.
#[allow(dead_code)] // not every example takes text
pub(crate) struct Options<const N: usize, const M: usize> {
    /// The whole-number options' values, in the order given.
    pub(crate) counts: [usize; N],
    /// The text options' values, in the order given.
    pub(crate) texts: [String; M],
    /// The plain arguments (not options), in order.
    pub(crate) rest: Vec<String>,
}

/// Reads the whole-number options `counts` (each `--NAME N`), the text
/// options `texts` (each `--NAME TEXT`) and, if `rest` names them for the
/// usage (such as `"[FILE]..."`), plain arguments; or prints the usage for
/// `--help` and exits. Also starts logging to stderr.
#[allow(dead_code)] // not every example takes text
pub(crate) fn options<const N: usize, const M: usize>(
    name: &str,
    about: &str,
    mut counts: [Count; N],
    mut texts: [Text; M],
    rest: Option<&str>,
) -> Options<N, M> {
    init_logging();
    let mut usage = format!("{about}\n\nUsage: cargo run --example {name} --");
    let mut lines = Vec::new();
    for count in &counts {
        usage.push_str(&format!(" [--{} N]", count.name));
        let default = count.value.to_string();
        lines.push((format!("--{} N", count.name), count.help, default));
    }
    for text in &texts {
        let upper = text.name.to_uppercase();
        usage.push_str(&format!(" [--{} {upper}]", text.name));
        let option = format!("--{} {upper}", text.name);
        lines.push((option, text.help, text.value.clone()));
    }
    if let Some(rest) = rest {
        usage.push_str(&format!(" {rest}"));
    }
    usage.push_str("\n\nOptions:\n");
    let width = lines.iter().map(|l| l.0.len()).max().unwrap_or(0).max(10);
    for (option, help, default) in &lines {
        usage.push_str(&format!("  {option:width$}  {help} [default: {default}]\n"));
    }
    usage.push_str(&format!("  {:width$}  print this help", "-h, --help"));
    let mut plain = Vec::new();
    parse(name, &usage, |arg, parser| {
        match arg {
            lexopt::Arg::Long(long) => {
                if let Some(count) = counts.iter_mut().find(|c| c.name == long) {
                    count.value = parser.value()?.parse()?;
                } else if let Some(text) = texts.iter_mut().find(|t| t.name == long) {
                    text.value = parser.value()?.string()?;
                } else {
                    return Err(lexopt::Arg::Long(long).unexpected());
                }
            }
            lexopt::Arg::Value(value) if rest.is_some() => plain.push(value.string()?),
            other => return Err(other.unexpected()),
        }
        Ok(())
    });
    Options {
        counts: counts.map(|c| c.value),
        texts: texts.map(|t| t.value),
        rest: plain,
    }
}

/// Parses the command line, handing every argument but `--help` to
/// `option` (which reads an option's value from the parser); prints `usage`
/// and exits 0 for help, or exits 2 on an error.
fn parse(
    name: &str,
    usage: &str,
    mut option: impl FnMut(lexopt::Arg<'_>, &mut lexopt::Parser) -> Result<(), lexopt::Error>,
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
                    option(lexopt::Arg::Long(&long), &mut parser)?;
                }
                lexopt::Arg::Short(short) => option(lexopt::Arg::Short(short), &mut parser)?,
                lexopt::Arg::Value(value) => option(lexopt::Arg::Value(value), &mut parser)?,
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

/// Seeded dice (xorshift), so that a run can be repeated: Python's
/// `random.randint(0, 100)`. Clones share one sequence.
#[allow(dead_code)] // not every example rolls dice
#[derive(Clone)]
pub(crate) struct Dice(Rc<Cell<u64>>);

#[allow(dead_code)]
impl Dice {
    /// Dice seeded with `seed` (0 counts as 1: xorshift needs a bit set).
    pub(crate) fn new(seed: usize) -> Dice {
        Dice(Rc::new(Cell::new((seed as u64).max(1))))
    }

    /// A number from 0 to 100, both included.
    pub(crate) fn randint_0_100(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.set(x);
        x % 101
    }
}

/// Logs to stderr at `RUST_LOG`'s levels (`info` by default).
///
/// Plain directives (`info`, `kamaelia::internet=debug,warn`) are read as a
/// [`Targets`](tracing_subscriber::filter::Targets) filter, which looks only
/// at where an event comes from. `EnvFilter`, needed only for directives
/// that name spans or fields (`[component{name=...}]=debug`), also follows
/// every span a component enters and leaves: with it, each resume costs
/// 60-90 instructions more (callgrind, `echo_server --inline` at `info`:
/// 1,541-1,545 against 1,453-1,485 per round trip).
fn init_logging() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::EnvFilter;

    let directives = std::env::var("RUST_LOG").unwrap_or_default();
    let directives = if directives.trim().is_empty() {
        "info"
    } else {
        directives.as_str()
    };
    let to_stderr = || {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour_logs())
    };
    let logs = tracing_subscriber::registry().with(to_stderr());
    // `Targets` would take `[span]` for a target's name.
    let plain = !directives.contains(['[', '{']);
    let _ = match directives.parse::<Targets>() {
        Ok(targets) if plain => logs.with(targets).try_init(),
        _ => logs
            .with(EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info")))
            .try_init(),
    };
}

/// Whether logs get ANSI colours: only on a terminal, as escape codes in a
/// file or a pipe are noise to whoever reads or greps them, and never when
/// `NO_COLOR` is set to anything (<https://no-color.org>).
fn colour_logs() -> bool {
    use std::io::IsTerminal;

    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}
