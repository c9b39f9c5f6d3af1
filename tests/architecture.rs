//! The crate map in ARCHITECTURE.md matches `cargo metadata`'s dependency graph, and its layers
//! point one way (every crate depends only on crates listed before it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The `crate-map` block of ARCHITECTURE.md, in order.
fn documented(root: &Path) -> Vec<(String, BTreeSet<String>)> {
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let block = doc
        .split("```crate-map\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```crate-map block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (name, deps) = line
                .split_once("->")
                .unwrap_or_else(|| panic!("crate-map line without `->`: {line}"));
            let deps = deps
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(String::from)
                .collect();
            (name.trim().to_string(), deps)
        })
        .collect()
}

/// Every workspace package and its normal dependencies on burnish crates.
fn metadata(root: &Path) -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: BTreeSet<String> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .filter(|d| names.contains(d))
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

#[test]
fn crate_map_matches_cargo_metadata_and_points_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = documented(root);
    let mut seen = BTreeSet::new();
    for (name, deps) in &doc {
        let upward: Vec<&String> = deps.iter().filter(|d| !seen.contains(*d)).collect();
        assert!(
            upward.is_empty(),
            "`{name}` depends on {upward:?}, listed after it (or not at all)"
        );
        seen.insert(name.clone());
    }
    let doc: Graph = doc.into_iter().collect();
    let actual = metadata(root);
    let missing: Vec<&String> = actual.keys().filter(|k| !doc.contains_key(*k)).collect();
    let extra: Vec<&String> = doc.keys().filter(|k| !actual.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "crates not in the map: {missing:?}; in the map but not in the workspace: {extra:?}"
    );
    for (name, deps) in &actual {
        assert_eq!(
            &doc[name], deps,
            "dependencies of `{name}` (map vs Cargo.toml)"
        );
    }
}
