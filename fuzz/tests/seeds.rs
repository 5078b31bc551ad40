//! Replays the checked-in seeds of every fuzz target through its function:
//! the inputs that once found a bug and a few that reach deep, run as a
//! plain `cargo test` on any toolchain.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    paths.sort();
    assert!(!paths.is_empty(), "no seeds in {}", dir.display());
    for path in &paths {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{target}: {}", path.display());
        run(&data);
    }
}

#[test]
fn wit_json_seeds_pass() {
    replay("wit_json", corral_fuzz::wit_json);
}

#[test]
fn config_seeds_pass() {
    replay("config", corral_fuzz::config);
}

#[test]
fn component_seeds_pass() {
    replay("component", corral_fuzz::component);
}
