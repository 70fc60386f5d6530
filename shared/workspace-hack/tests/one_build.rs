//! The demo and the tests share one build: every dependency the demo compiles is compiled with
//! the same features as in `cargo test --workspace`, so `./scripts/test` after `./scripts/demo`
//! compiles only what the demo did not need (test-only crates and the workspace's own test
//! targets), never a second copy of a crate. Cargo compiles a crate again whenever its enabled
//! features differ, and dev-dependencies add features only to builds that compile tests.
//!
//! The demo's package selection is read from `scripts/demo-flow.sh` itself. When this fails, add
//! the crate it names to this crate's `Cargo.toml` with the features it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("shared/workspace-hack sits two levels below the repository")
        .to_path_buf()
}

/// `cargo tree` as "name version" → "[features]", with the build's feature resolution: with
/// `dev` edges, as a build of tests resolves them; without, as `cargo build` does.
fn features(selection: &[&str], edges: &str) -> BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "--locked", "-e", edges])
        .args(selection)
        .args(["--prefix", "none", "--format", "{p} [{f}]"])
        .current_dir(repo())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {selection:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|line| {
            let line = line.trim_end_matches(" (*)");
            let (package, features) = line.rsplit_once(" [")?;
            // "name vX.Y.Z", without a path or "(proc-macro)" after it.
            let package: Vec<&str> = package.split_whitespace().take(2).collect();
            Some((package.join(" "), format!("[{features}")))
        })
        .collect()
}

/// The `-p PACKAGE` arguments of the demo's `cargo build` line.
fn demo_selection() -> Vec<String> {
    let flow = repo().join("scripts/demo-flow.sh");
    let text = std::fs::read_to_string(&flow).expect("scripts/demo-flow.sh is readable");
    let build: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo build "))
        .collect();
    assert_eq!(
        build.len(),
        1,
        "expected one `cargo build` line in {}, found {build:?}",
        flow.display()
    );
    let words: Vec<&str> = build[0].split_whitespace().collect();
    assert!(
        words.contains(&"--locked"),
        "the demo builds with --locked, like the tests: {}",
        build[0]
    );
    let mut selection = Vec::new();
    for pair in words.windows(2) {
        if pair[0] == "-p" || pair[0] == "--package" {
            selection.extend(["-p".to_string(), pair[1].to_string()]);
        }
    }
    assert!(
        !selection.is_empty(),
        "no -p PACKAGE in the demo's build: {}",
        build[0]
    );
    selection
}

#[test]
fn the_demo_compiles_every_dependency_with_the_features_the_tests_use() {
    let selection = demo_selection();
    let selection: Vec<&str> = selection.iter().map(String::as_str).collect();
    let demo = features(&selection, "normal,build");
    let tests = features(&["--workspace"], "normal,build,dev");
    assert!(
        demo.len() > 100 && demo.contains_key("billwatch-core v0.1.0"),
        "unexpected tree for {selection:?}: {demo:?}"
    );
    let differ: Vec<String> = demo
        .iter()
        .filter_map(|(package, features)| match tests.get(package) {
            Some(t) if t == features => None,
            Some(t) => Some(format!("{package}: demo {features}, tests {t}")),
            None => Some(format!("{package}: in the demo's build only")),
        })
        .collect();
    assert!(
        differ.is_empty(),
        "these would be compiled twice, once for ./scripts/demo and again for ./scripts/test; \
         give them the tests' features in shared/workspace-hack/Cargo.toml:\n{}",
        differ.join("\n")
    );
}
