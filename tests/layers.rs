//! The layer rules written at the top of `axon/src/lib.rs` and
//! `kamaelia/src/lib.rs`, checked on the code: a module names (`crate::x`)
//! only modules of its own layer or of the layers below.
//!
//! Doc comments may link anywhere, and a file's `#[cfg(test)]` module (its
//! last part, by convention) may use the whole crate, so both are skipped.

use std::fs;
use std::path::Path;

/// The modules code in `layer` of axon may name.
fn axon_allowed(layer: &str) -> Option<&'static [&'static str]> {
    const LEAVES: &[&str] = &["epoch", "error", "id", "ipc", "stm"];
    const BOXES: &[&str] = &["epoch", "error", "id", "ipc", "boxes"];
    const TASK: &[&str] = &["epoch", "error", "id", "ipc", "boxes", "task"];
    const RUNTIME: &[&str] = &["epoch", "error", "id", "ipc", "boxes", "task", "runtime"];
    Some(match layer {
        "epoch" | "error" | "id" | "ipc" | "stm" => LEAVES,
        "boxes" => BOXES,
        "task" => TASK,
        "runtime" => RUNTIME,
        // The public API stands on everything.
        "component" | "component_ref" | "fn_component" | "handle" | "postoffice" | "threaded"
        | "tracker" | "yields" => return None,
        other => panic!("axon/src/{other}: a module the layer rule does not place"),
    })
}

/// The modules code in `layer` of kamaelia may name.
fn kamaelia_allowed(layer: &str) -> Option<&'static [&'static str]> {
    Some(match layer {
        "sys" | "signals" => &[],
        "internet" | "ipc" => &["sys", "internet", "ipc"],
        "protocol" | "util" | "file" => &[
            "sys", "signals", "internet", "ipc", "protocol", "util", "file",
        ],
        "chassis" => &[
            "sys", "signals", "internet", "ipc", "protocol", "util", "file", "chassis",
        ],
        other => panic!("kamaelia/src/{other}: a module the layer rule does not place"),
    })
}

/// Every `crate::x` in the code of `file` (not its comments, not its test
/// module, not a macro's `$crate::`), with `use crate::{a, b}` counted as
/// naming `a` and `b`.
fn crate_paths(file: &Path) -> Vec<String> {
    let text = fs::read_to_string(file).expect("a source file");
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            if line[..at].ends_with('$') {
                continue;
            }
            let rest = &line[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split(['}', ';'])
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")],
            };
            found.extend(
                names
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .map(String::from),
            );
        }
    }
    found
}

/// Checks every file below `dir`, whose layer is its top-level module.
fn visit(
    dir: &Path,
    layer: Option<&str>,
    allowed: fn(&str) -> Option<&'static [&'static str]>,
    broken: &mut Vec<String>,
) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("a source directory")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
            .to_string();
        let layer = layer.unwrap_or(&name);
        if path.is_dir() {
            visit(&path, Some(layer), allowed, broken);
        } else if name != "lib" {
            let Some(allowed) = allowed(layer) else {
                continue;
            };
            for module in crate_paths(&path) {
                if !allowed.contains(&module.as_str()) {
                    broken.push(format!("{}: crate::{module}", path.display()));
                }
            }
        }
    }
}

fn check(krate: &str, allowed: fn(&str) -> Option<&'static [&'static str]>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(krate)
        .join("src");
    let mut broken = Vec::new();
    visit(&src, None, allowed, &mut broken);
    assert!(
        broken.is_empty(),
        "imports from a higher layer:\n{}",
        broken.join("\n")
    );
}

#[test]
fn axon_modules_import_only_from_their_layer_or_below() {
    check("axon", axon_allowed);
}

#[test]
fn kamaelia_modules_import_only_from_their_layer_or_below() {
    check("kamaelia", kamaelia_allowed);
}

#[test]
fn a_grouped_or_upward_import_is_seen() {
    let dir = std::env::temp_dir().join(format!("layers-test-{}", std::process::id()));
    fs::create_dir_all(dir.join("boxes")).unwrap();
    fs::write(
        dir.join("boxes").join("inbox.rs"),
        "use crate::{id::Direction, task::TaskDyn};\n",
    )
    .unwrap();
    let mut broken = Vec::new();
    visit(&dir, None, axon_allowed, &mut broken);
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(broken[0].ends_with("crate::task"), "{broken:?}");
}
