//! The live system as a picture: [`snapshot`] takes one from code, the
//! [`Introspector`] component sends them, and [`Snapshot::to_dot`] renders
//! one as a Graphviz graph. Kamaelia's `Kamaelia.Util.Introspector`, which
//! fed the topology visualiser.
//!
//! A snapshot holds every component the scheduler runs (paused or not), its
//! boxes and how many messages wait in each inbox, which component is whose
//! child, and every linkage made by those components' postoffices. A linkage
//! recorded by a postoffice that belongs to no running component (a bare
//! [`Postoffice`](axon::Postoffice), or a component never activated) is not
//! seen, though the boxes it joins are.
//!
//! Taking one costs time linear in the size of the system (plus sorting, for
//! a stable order): meant for debugging and monitoring, not a hot path.

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::time::{Duration, Instant};

use axon::{Component, ComponentId, ComponentRef, Cx, Passthrough, Scheduler, Standard};

/// One box of a component, in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxState {
    /// Its name.
    pub name: String,
    /// The type of message it carries.
    pub type_name: &'static str,
    /// Messages waiting in it (always 0 for an outbox, and for an inbox
    /// linked onward, whose deliveries go straight to the final inbox).
    pub queued: usize,
    /// Messages the inbox has dropped under its overflow policy since it was
    /// made (see [`axon::OverflowPolicy`]; always 0 for an outbox).
    pub dropped: u64,
}

/// One component, in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentState {
    /// The component.
    pub id: ComponentId,
    /// The component it is a child of, if any (the one with the lowest id, if
    /// several).
    pub parent: Option<ComponentId>,
    /// True if it was asleep, waiting to be woken.
    pub paused: bool,
    /// Its inboxes, declared ones first.
    pub inboxes: Vec<BoxState>,
    /// Its outboxes, declared ones first.
    pub outboxes: Vec<BoxState>,
}

/// One linkage, in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    /// The component and box it links from.
    pub source: (ComponentId, String),
    /// The component and box it links to.
    pub sink: (ComponentId, String),
    /// Normal, or a passthrough (inbox to inbox, outbox to outbox).
    pub passthrough: Passthrough,
}

/// The components of a running system and the linkages between them, at
/// one moment. Made by [`snapshot`]; rendered by [`to_dot`](Self::to_dot).
///
/// Components are in order of id, linkages in order of their source then
/// sink, so two snapshots of the same system compare and render the same.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every live component, by id.
    pub components: Vec<ComponentState>,
    /// Every linkage their postoffices hold, by source then sink.
    pub linkages: Vec<LinkState>,
}

/// Takes a [`Snapshot`] of the components `scheduler` runs: from plain code,
/// or from a component's body with `snapshot(&cx.scheduler())`.
///
/// # Examples
///
/// ```
/// use axon::{from_fn, ComponentRef, Cx, Scheduler, Standard};
/// use kamaelia::util::introspector::snapshot;
///
/// let scheduler = Scheduler::new();
/// let quiet = || from_fn(|cx: Cx<Standard<u8, u8>>| async move { cx.idle().await });
/// let a = ComponentRef::new(quiet());
/// let b = ComponentRef::new(quiet());
/// a.link((&a, "outbox"), (&b, "inbox"))?;
/// a.activate_on(&scheduler);
/// b.activate_on(&scheduler);
/// scheduler.run_cycle();
///
/// let now = snapshot(&scheduler);
/// assert_eq!(now.components.len(), 2);
/// assert_eq!(now.linkages[0].source, (a.id(), "outbox".to_string()));
/// assert!(now.to_dot().contains(&format!("\"{}.o.outbox\" -> \"{}.i.inbox\";", a.id().number(), b.id().number())));
/// # Ok::<(), axon::LinkError>(())
/// ```
pub fn snapshot(scheduler: &Scheduler) -> Snapshot {
    let mut live = scheduler.list_all();
    live.sort_by_key(ComponentRef::id);
    // Visited in order of id, so a child's first parent seen is its lowest.
    let mut parents: HashMap<ComponentId, ComponentId> = HashMap::new();
    for component in &live {
        for child in component.child_components() {
            parents.entry(child.id()).or_insert(component.id());
        }
    }
    let components = live
        .iter()
        .map(|component| ComponentState {
            id: component.id(),
            parent: parents.get(&component.id()).copied(),
            paused: component.is_paused(),
            inboxes: component
                .inboxes()
                .into_iter()
                .map(|info| BoxState {
                    queued: component.inbox_len(&info.name).unwrap_or(0),
                    dropped: component.inbox_dropped(&info.name).unwrap_or(0),
                    name: info.name,
                    type_name: info.type_name,
                })
                .collect(),
            outboxes: component
                .outboxes()
                .into_iter()
                .map(|info| BoxState {
                    name: info.name,
                    type_name: info.type_name,
                    queued: 0,
                    dropped: 0,
                })
                .collect(),
        })
        .collect();
    let mut linkages: Vec<LinkState> = live
        .iter()
        .flat_map(ComponentRef::linkages)
        .map(|linkage| {
            let (source, source_box) = linkage.source_pair();
            let (sink, sink_box) = linkage.sink_pair();
            LinkState {
                source: (source, source_box.to_string()),
                sink: (sink, sink_box.to_string()),
                passthrough: linkage.passthrough(),
            }
        })
        .collect();
    linkages.sort_by(|a, b| (&a.source, &a.sink).cmp(&(&b.source, &b.sink)));
    Snapshot {
        components,
        linkages,
    }
}

impl Snapshot {
    /// The snapshot as a Graphviz `digraph`, for `dot -Tsvg`.
    ///
    /// Each component is a cluster labelled with its id (`Kind#n`), holding
    /// a node per box: inboxes as ellipses labelled with how many messages
    /// wait in them (and how many they have dropped, if any, under their
    /// overflow policy), outboxes as boxes. A child's cluster sits inside its
    /// parent's. A box's node is named `"n.i.name"` (inbox) or `"n.o.name"`
    /// (outbox), `n` the component's number. A linkage is an edge; a
    /// passthrough linkage is dashed. Names are quoted and escaped, so any box
    /// name makes valid DOT.
    ///
    /// ```
    /// use kamaelia::util::introspector::Snapshot;
    ///
    /// assert_eq!(Snapshot::default().to_dot(), "digraph axon {\n  graph [rankdir=LR];\n  node [fontsize=10];\n}\n");
    /// ```
    pub fn to_dot(&self) -> String {
        let mut dot =
            String::from("digraph axon {\n  graph [rankdir=LR];\n  node [fontsize=10];\n");
        self.write_clusters(&mut dot);
        for link in &self.linkages {
            let source_dir = match link.passthrough {
                Passthrough::Inbox => 'i',
                Passthrough::Normal | Passthrough::Outbox => 'o',
            };
            let sink_dir = match link.passthrough {
                Passthrough::Outbox => 'o',
                Passthrough::Normal | Passthrough::Inbox => 'i',
            };
            let style = match link.passthrough {
                Passthrough::Normal => "",
                Passthrough::Inbox | Passthrough::Outbox => " [style=dashed]",
            };
            let _ = writeln!(
                dot,
                "  {} -> {}{style};",
                BoxNode(link.source.0, source_dir, &link.source.1),
                BoxNode(link.sink.0, sink_dir, &link.sink.1),
            );
        }
        dot.push_str("}\n");
        dot
    }

    /// Writes the components as nested clusters, walking the parent/child
    /// tree with a stack of its own (a deep tree cannot overflow the call
    /// stack).
    fn write_clusters(&self, dot: &mut String) {
        let mut children: HashMap<ComponentId, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (index, component) in self.components.iter().enumerate() {
            match component.parent {
                Some(parent) => children.entry(parent).or_default().push(index),
                None => roots.push(index),
            }
        }
        // `Some(index)`: open that component's cluster; `None`: close one.
        let mut stack: Vec<Option<usize>> = roots.into_iter().rev().map(Some).collect();
        let mut depth = 1;
        while let Some(step) = stack.pop() {
            let Some(index) = step else {
                depth -= 1;
                let _ = writeln!(dot, "{:indent$}}}", "", indent = indent(depth));
                continue;
            };
            let component = &self.components[index];
            let pad = indent(depth);
            let number = component.id.number();
            let _ = writeln!(dot, "{:pad$}subgraph \"cluster_{number}\" {{", "");
            let _ = writeln!(
                dot,
                "{:pad$}  label={};",
                "",
                Quoted(&component.id.to_string())
            );
            for inbox in &component.inboxes {
                let label = match inbox.dropped {
                    0 => format!("{} ({})", inbox.name, inbox.queued),
                    dropped => format!("{} ({}, {dropped} dropped)", inbox.name, inbox.queued),
                };
                let node = BoxNode(component.id, 'i', &inbox.name);
                let _ = writeln!(
                    dot,
                    "{:pad$}  {node} [label={}, shape=ellipse];",
                    "",
                    Quoted(&label)
                );
            }
            for outbox in &component.outboxes {
                let node = BoxNode(component.id, 'o', &outbox.name);
                let _ = writeln!(
                    dot,
                    "{:pad$}  {node} [label={}, shape=box];",
                    "",
                    Quoted(&outbox.name)
                );
            }
            if component.inboxes.is_empty() && component.outboxes.is_empty() {
                // An empty cluster is not drawn: a node keeps it visible.
                let _ = writeln!(dot, "{:pad$}  \"{number}\" [label=\"\", shape=point];", "");
            }
            depth += 1;
            stack.push(None);
            if let Some(kids) = children.get(&component.id) {
                stack.extend(kids.iter().rev().map(|&k| Some(k)));
            }
        }
    }
}

/// How far a line at `depth` is indented: two spaces a level, up to a limit,
/// so a deep tree's text stays linear in its size.
fn indent(depth: usize) -> usize {
    2 * depth.min(MAX_INDENT)
}

/// The deepest level indented further than the one above it.
const MAX_INDENT: usize = 16;

/// A DOT quoted string: `"` and `\` escaped, line breaks as `\n`.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => {}
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// The DOT name of a box's node: `"n.i.name"` or `"n.o.name"`.
struct BoxNode<'a>(ComponentId, char, &'a str);

impl fmt::Display for BoxNode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format!("{}.{}.{}", self.0.number(), self.1, self.2);
        Quoted(&name).fmt(f)
    }
}

/// Sends the live system as Graphviz DOT (see [`Snapshot::to_dot`]):
/// Kamaelia's `Introspector`.
///
/// It sends one snapshot as it starts, and another for every message on
/// `inbox`. With [`every`](Self::every) it also looks every so often, and
/// sends a snapshot when the system has changed since the last one sent.
/// The snapshot includes the introspector itself.
///
/// **Where it differs from Kamaelia's**: the original sends the topology as
/// a stream of add/delete commands for its visualiser, every timeslice; this
/// one sends whole DOT graphs, on request or on a timer.
///
/// # Inboxes
///
/// * `inbox` (`()`): each message asks for a snapshot.
/// * `control` ([`Ipc`](axon::ipc::Ipc)): any message ends it.
///
/// # Outboxes
///
/// * `outbox` (`String`): DOT graphs.
/// * `signal` ([`Ipc`](axon::ipc::Ipc)): the message that ended it.
///
/// # Examples
///
/// ```
/// use axon::Background;
///
/// let background = Background::start()?;
/// let introspector = background.handle(kamaelia::Introspector::new);
/// let dot = introspector.get().expect("a first snapshot");
/// assert!(dot.starts_with("digraph axon {") && dot.contains("label=\"Introspector#"));
/// introspector.put(()); // another, please
/// assert!(introspector.get().is_some());
/// introspector.finish();
/// background.join()?;
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Introspector {
    every: Option<Duration>,
}

impl Introspector {
    /// An introspector that sends a snapshot when asked.
    pub fn new() -> Self {
        Introspector::default()
    }

    /// Also looks every `interval`, sending a snapshot if the system changed.
    pub fn every(mut self, interval: Duration) -> Self {
        self.every = Some(interval);
        self
    }
}

impl Component for Introspector {
    type Boxes = Standard<(), String>;

    async fn main(self, cx: Cx<Self::Boxes>) {
        let scheduler = cx.scheduler();
        let mut last = snapshot(&scheduler).to_dot();
        cx.outbox.send(last.clone()).await;
        let mut next = self.every.map(|every| Instant::now() + every);
        if let Some(next) = next {
            cx.wake_at(next);
        }
        loop {
            if let Some(stop) = cx.control.recv() {
                cx.signal.send(stop).await;
                return;
            }
            let asked = cx.inbox.drain().count() > 0;
            let due = next.is_some_and(|next| Instant::now() >= next);
            if asked || due {
                let dot = snapshot(&scheduler).to_dot();
                if asked || dot != last {
                    cx.outbox.send(dot.clone()).await;
                    last = dot;
                }
            }
            if let (true, Some(every)) = (due, self.every) {
                let at = Instant::now() + every;
                cx.wake_at(at);
                next = Some(at);
            }
            if cx.inbox.is_empty() && cx.control.is_empty() {
                cx.idle().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    use axon::ipc::{Ipc, ShutdownMicroprocess};

    use super::*;
    use crate::util::rig::Rig;

    /// A component that waits for ever, doing nothing.
    macro_rules! idler {
        ($name:ident) => {
            struct $name;
            impl Component for $name {
                type Boxes = Standard<u8, u8>;
                async fn main(self, cx: Cx<Self::Boxes>) {
                    loop {
                        cx.idle().await;
                    }
                }
            }
        };
    }
    idler!(Source);
    idler!(Wrapper);
    idler!(Sink);

    /// `Source -> Wrapper[ Sink ]`, the wrapper handing its input to its
    /// child by a passthrough; two messages waiting in the sink.
    fn small_system() -> (Scheduler, [ComponentRef; 3]) {
        let scheduler = Scheduler::new();
        let source = ComponentRef::new(Source);
        let wrapper = ComponentRef::new(Wrapper);
        let sink = ComponentRef::new(Sink);
        wrapper.add_children([&sink]);
        wrapper.link((&wrapper, "inbox"), (&sink, "inbox")).unwrap();
        source
            .link((&source, "outbox"), (&wrapper, "inbox"))
            .unwrap();
        for c in [&source, &wrapper, &sink] {
            c.activate_on(&scheduler);
        }
        let outbox = source.outbox::<u8>("outbox").unwrap();
        outbox.try_send(1).unwrap();
        outbox.try_send(2).unwrap();
        scheduler.run_cycle();
        scheduler.run_cycle();
        (scheduler, [source, wrapper, sink])
    }

    #[test]
    fn a_small_system_renders_exactly() {
        let (scheduler, [source, wrapper, sink]) = small_system();
        let (s, w, k) = (source.id(), wrapper.id(), sink.id());
        let (sn, wn, kn) = (s.number(), w.number(), k.number());
        let boxes = |n: u64, inbox: usize, pad: &str| {
            format!(
                "{pad}  \"{n}.i.inbox\" [label=\"inbox ({inbox})\", shape=ellipse];\n\
                 {pad}  \"{n}.i.control\" [label=\"control (0)\", shape=ellipse];\n\
                 {pad}  \"{n}.o.outbox\" [label=\"outbox\", shape=box];\n\
                 {pad}  \"{n}.o.signal\" [label=\"signal\", shape=box];\n"
            )
        };
        let expected = format!(
            "digraph axon {{\n  graph [rankdir=LR];\n  node [fontsize=10];\n\
             \x20 subgraph \"cluster_{sn}\" {{\n    label=\"{s}\";\n{}  }}\n\
             \x20 subgraph \"cluster_{wn}\" {{\n    label=\"{w}\";\n{}\
             \x20   subgraph \"cluster_{kn}\" {{\n      label=\"{k}\";\n{}    }}\n  }}\n\
             \x20 \"{sn}.o.outbox\" -> \"{wn}.i.inbox\";\n\
             \x20 \"{wn}.i.inbox\" -> \"{kn}.i.inbox\" [style=dashed];\n}}\n",
            boxes(sn, 0, "  "),
            boxes(wn, 0, "  "),
            boxes(kn, 2, "    "),
        );
        let now = snapshot(&scheduler);
        assert_eq!(now.to_dot(), expected);
        assert_eq!(now.components[2].parent, Some(w));
        assert_eq!(now.linkages.len(), 2);
        assert_eq!(now.linkages[1].passthrough, Passthrough::Inbox);
        // Nothing changed: the same again.
        assert_eq!(snapshot(&scheduler), now);
    }

    #[test]
    fn an_inbox_that_dropped_messages_says_how_many() {
        let (scheduler, [_, _, sink]) = small_system();
        let inbox = sink.inbox::<u8>("inbox").unwrap();
        inbox.set_size(Some(2));
        inbox.set_overflow(axon::OverflowPolicy::DropOldest);
        for n in 3..6 {
            inbox.deliver(n).unwrap();
        }
        let now = snapshot(&scheduler);
        let state = &now.components[2].inboxes[0];
        assert_eq!((state.queued, state.dropped), (2, 3));
        assert_eq!(now.components[2].inboxes[1].dropped, 0, "control");
        let n = sink.id().number();
        assert!(now
            .to_dot()
            .contains(&format!("\"{n}.i.inbox\" [label=\"inbox (2, 3 dropped)\"")));
    }

    #[test]
    fn names_are_quoted_and_escaped() {
        assert_eq!(
            Quoted("a \"b\" \\ c\nd").to_string(),
            "\"a \\\"b\\\" \\\\ c\\nd\""
        );
    }

    #[test]
    fn the_dot_is_valid_for_graphviz_if_it_is_installed() {
        let (scheduler, _) = small_system();
        let dot = snapshot(&scheduler).to_dot();
        let child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            // CI installs graphviz, so there the test must run.
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI: cannot run `dot`: {e}"),
            Err(_) => {
                eprintln!("graphviz's `dot` is not installed: skipped");
                return;
            }
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(dot.as_bytes())
            .expect("written");
        let output = child.wait_with_output().expect("dot ran");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("<svg"));
    }

    #[test]
    fn ten_thousand_components_in_a_chain_under_one_parent() {
        const N: usize = 10_000;
        let scheduler = Scheduler::new();
        let root = ComponentRef::new(Wrapper);
        let members: Vec<ComponentRef> = (0..N).map(|_| ComponentRef::new(Sink)).collect();
        root.add_children(&members);
        for pair in members.windows(2) {
            pair[0]
                .link((&pair[0], "outbox"), (&pair[1], "inbox"))
                .unwrap();
        }
        root.activate_on(&scheduler);
        for m in &members {
            m.activate_on(&scheduler);
        }
        scheduler.run_cycle();
        let now = snapshot(&scheduler);
        assert_eq!(now.components.len(), N + 1);
        assert_eq!(now.linkages.len(), N - 1);
        assert!(now.components[1..]
            .iter()
            .all(|c| c.parent == Some(root.id())));
        let dot = now.to_dot();
        assert_eq!(dot.matches("subgraph").count(), N + 1);
        assert_eq!(dot.matches(" -> ").count(), N - 1);
    }

    #[test]
    fn ten_thousand_levels_of_nesting_do_not_overflow_the_stack() {
        const N: usize = 10_000;
        let scheduler = Scheduler::new();
        let levels: Vec<ComponentRef> = (0..N).map(|_| ComponentRef::new(Wrapper)).collect();
        for pair in levels.windows(2) {
            pair[0].add_children([&pair[1]]);
        }
        for l in &levels {
            l.activate_on(&scheduler);
        }
        scheduler.run_cycle();
        let dot = snapshot(&scheduler).to_dot();
        assert_eq!(dot.matches("subgraph").count(), N);
        assert!(dot.ends_with("  }\n}\n"));
    }

    #[test]
    fn the_component_sends_on_start_on_request_and_on_change() {
        let rig = Rig::<(), String>::new(Introspector::new().every(Duration::from_millis(1)));
        rig.cycle_until(|rig| rig.waiting() == 1);
        let first = rig.take().remove(0);
        assert!(first.contains(&format!("label=\"{}\"", rig.component.id())));
        // Asked: sent even though nothing changed.
        rig.put(());
        rig.cycle_until(|rig| rig.waiting() == 1);
        assert_eq!(rig.take(), std::slice::from_ref(&first));
        // A new component: the timer notices.
        let newcomer = ComponentRef::new(Sink);
        newcomer.activate_on(&rig.scheduler);
        rig.cycle_until(|rig| rig.waiting() >= 1);
        let changed = rig.take();
        assert!(changed[0].contains(&format!("label=\"{}\"", newcomer.id())));
        newcomer.stop();
        rig.control(ShutdownMicroprocess::new().into());
        rig.run();
        assert!(matches!(rig.signals()[..], [Ipc::ShutdownMicroprocess(_)]));
    }
}
