//! The layout as a rule: no import cycle among the modules of the library or of the
//! command line, and each folder of the library imports only what its role allows
//! (`format/` and `signature/` nothing above them, `check/`, `report/` and `posture/` no
//! I/O, `store/` nothing of the run).
//!
//! Imports are read from the sources: every `crate::` and `super::` path outside comments
//! and test modules, and every use of a child module by a module file, is an edge to the
//! longest module that path names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`run::walk`; the crate root is "") to its file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            // Test modules in files of their own are tests, not layout.
            if parts.iter().any(|p| p == "tests" || p == "properties") {
                continue;
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The source without comments and without its trailing test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::`/`super::` paths in `code`, as written (`crate::a::b`, `super::{`…).
fn paths(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    for (start, _) in code
        .match_indices("crate")
        .chain(code.match_indices("super"))
    {
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let is_crate = code[start..].starts_with("crate");
        let mut rest = &code[start + 5..];
        let mut segments = Vec::new();
        while let Some(next) = rest.strip_prefix("::") {
            let name: String = next
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                break;
            }
            rest = &next[name.len()..];
            segments.push(name);
        }
        // `path::{a, b::c}`: each item inside the braces (one level).
        let inside = rest
            .strip_prefix("::{")
            .and_then(|r| r.split_once('}'))
            .map(|(items, _)| items);
        match inside {
            Some(items) => {
                for item in items.split(',') {
                    let mut path = segments.clone();
                    path.extend(
                        item.split("::")
                            .map(|s| s.split_whitespace().next().unwrap_or_default())
                            .filter(|s| !s.is_empty() && *s != "self")
                            .map(str::to_owned),
                    );
                    out.push((is_crate, path));
                }
            }
            None if !segments.is_empty() => out.push((is_crate, segments)),
            None => {}
        }
    }
    out
}

/// The longest module `path` names.
fn resolve(mods: &BTreeMap<String, PathBuf>, path: &[String]) -> Option<String> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| mods.contains_key(m))
}

/// Each module's imports of other modules.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let mut edges = BTreeMap::new();
    for (module, file) in &mods {
        let code = code(file);
        let here: Vec<String> = module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut out = BTreeSet::new();
        for (is_crate, segments) in paths(&code) {
            let base = if is_crate {
                Vec::new()
            } else {
                here[..here.len().saturating_sub(1)].to_vec()
            };
            let full: Vec<String> = base.into_iter().chain(segments).collect();
            out.extend(resolve(&mods, &full));
        }
        // A module file using a child module by its own name.
        let is_module_file = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        for line in code.lines().filter(|_| is_module_file) {
            let line = line.trim();
            let Some(child) = line
                .strip_suffix(';')
                .and_then(|l| l.rsplit_once("mod "))
                .map(|(_, c)| c.trim())
            else {
                continue;
            };
            let full = if module.is_empty() {
                child.to_owned()
            } else {
                format!("{module}::{child}")
            };
            if mods.contains_key(&full) && code.contains(&format!(" {child}::")) {
                out.insert(full);
            }
        }
        out.remove(module);
        edges.insert(module.clone(), out);
    }
    edges
}

/// A cycle of imports, if there is one.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut found = path[at..].to_vec();
            found.push(m.to_owned());
            return Some(found);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|m| visit(m, edges, &mut Vec::new(), &mut done))
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .join("src")
}

#[test]
fn no_import_cycle_in_the_library_or_the_command_line() {
    for krate in ["cloudtrail-digest", "cloudtrail-digest-cli"] {
        let edges = imports(&crate_src(krate));
        assert!(edges.len() > 10, "{krate}: {} modules", edges.len());
        assert_eq!(cycle(&edges), None, "{krate}: an import cycle");
    }
}

#[test]
fn each_folder_imports_only_what_its_role_allows() {
    let edges = imports(&crate_src("cloudtrail-digest"));
    // (folder, the modules it may import, beside its own)
    let rules: &[(&str, &[&str])] = &[
        ("format", &[]),
        ("signature", &["format"]),
        ("report", &["format", "store::object"]),
        (
            "check",
            &[
                "format",
                "signature",
                "report",
                "store::object",
                "store::body",
            ],
        ),
        ("store", &["format"]),
        ("posture", &["format", "report"]),
    ];
    let mut broken = Vec::new();
    for (module, imports) in &edges {
        let folder = module.split("::").next().unwrap_or_default();
        let Some((_, allowed)) = rules.iter().find(|(f, _)| *f == folder) else {
            continue;
        };
        for import in imports {
            let ok = import.split("::").next() == Some(folder)
                || allowed
                    .iter()
                    .any(|a| import == a || import.starts_with(&format!("{a}::")));
            if !ok {
                broken.push(format!("{module} imports {import}"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_owned(), to.iter().map(|t| (*t).to_owned()).collect()))
    .collect();
    assert_eq!(
        cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let code = "use super::{x, y::Z};\nuse crate::run::walk::Listed;\n// crate::ignored\n";
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let uncommented: String = code.lines().filter(|l| !l.starts_with("//")).collect();
    assert_eq!(
        paths(&uncommented),
        [
            (true, owned(&["run", "walk", "Listed"])),
            (false, owned(&["x"])),
            (false, owned(&["y", "Z"])),
        ]
    );
}
