//! Builds the `guest-tools` workspace for `wasm32-wasip2`, and the example
//! tools in other languages with `guest-tools/scripts/build-other-languages`
//! (componentize-py, jco), and writes `$OUT_DIR/gen.rs`, which gives each
//! component's path to the tests.
//!
//! The guests are built into `guest-tools/target`, the same directory a
//! developer's `cargo build` there uses, so the example config and the tests
//! share one build; it is not the outer target directory, so the nested cargo
//! never waits on the outer build's lock. The Python and JavaScript tools go
//! to `guest-tools/target/other-languages`, built by the script while cargo
//! builds the Rust ones. A failed guest build does not fail this crate: it
//! becomes a warning here and a panic, with the build's output and the
//! command to reproduce, in each test that asks for a component.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `(function name, cargo package name)` of every component the tests use.
const COMPONENTS: &[(&str, &str)] = &[
    ("calc", "calc"),
    ("code_analyzer", "code-analyzer"),
    ("text_tools", "text-tools"),
    ("fs_tools", "fs-tools"),
    ("docs_server", "docs-server"),
    ("cleanup", "cleanup"),
    ("http_fetch", "http-fetch"),
    ("issue_links", "issue-links"),
    ("faults", "faults"),
    ("type_echo", "type-echo"),
    ("escapes", "escapes"),
    ("hostile", "hostile"),
    ("conformance", "conformance"),
];

/// `(function name, file name)` of every component that
/// `guest-tools/scripts/build-other-languages` builds.
const OTHER_LANGUAGES: &[(&str, &str)] = &[
    ("py_units", "py_units.wasm"),
    ("js_csv_stats", "js_csv_stats.wasm"),
];

/// The script that builds [`OTHER_LANGUAGES`], relative to `guest-tools`.
const OTHER_LANGUAGES_SCRIPT: &str = "scripts/build-other-languages";

/// The toolchains the script runs, relative to the repository: a change
/// (an install by `scripts/install-test-clients`) reruns this build script.
const OTHER_LANGUAGES_TOOLS: &[&str] = &[
    ".venv/bin/componentize-py",
    "guest-tools/js-csv-stats/node_modules/.bin/jco",
];

const TARGET: &str = "wasm32-wasip2";

/// How much of cargo's stderr a failure message quotes.
const STDERR_TAIL_LINES: usize = 40;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("tests/artifacts is two levels below the repository root");
    let guest_tools = repo.join("guest-tools");
    let manifest = guest_tools.join("Cargo.toml");

    print_rerun_if_changed(&guest_tools);
    println!(
        "cargo:rerun-if-changed={}",
        repo.join("rust-toolchain.toml").display()
    );
    for tool in OTHER_LANGUAGES_TOOLS {
        println!("cargo:rerun-if-changed={}", repo.join(tool).display());
    }

    // The other languages' build runs beside cargo's: neither waits on the
    // other, and on two cores the wasm-opt and wizer steps fill the gaps of
    // cargo's linking.
    let other_out = guest_tools.join("target").join("other-languages");
    let script = guest_tools.join(OTHER_LANGUAGES_SCRIPT);
    let other_reproduce = format!("{} {}", script.display(), other_out.display());
    let other_build = Command::new("bash")
        .arg(&script)
        .arg(&other_out)
        .current_dir(repo)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();

    let cargo = env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let args = [
        "build",
        "--release",
        "--target",
        TARGET,
        "--manifest-path",
        manifest.to_str().expect("the repository path is UTF-8"),
    ];
    let reproduce = format!("cd {} && cargo {}", repo.display(), args.join(" "));

    let mut command = Command::new(&cargo);
    command.args(args).current_dir(repo);
    clean_environment(&mut command);
    let failure = match command.output() {
        Ok(output) if output.status.success() => None,
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let summary = stderr
                .lines()
                .rfind(|line| line.starts_with("error"))
                .unwrap_or("no error line");
            println!(
                "cargo:warning=guest components not built ({}): {summary}; \
                 reproduce with: {reproduce}",
                output.status
            );
            Some(format!(
                "the guest build failed ({}); the end of its output:\n{}",
                output.status,
                tail(&stderr, STDERR_TAIL_LINES)
            ))
        }
        Err(err) => {
            println!(
                "cargo:warning=guest components not built: cannot run {}: {err}",
                cargo.display()
            );
            Some(format!("cannot run {}: {err}", cargo.display()))
        }
    };

    let release_dir = guest_tools.join("target").join(TARGET).join("release");
    let mut generated = format!(
        "/// The `guest-tools` workspace the components are built from.\n\
         pub const GUEST_TOOLS_DIR: &str = {:?};\n",
        path_str(&guest_tools)
    );
    for (function, package) in COMPONENTS {
        let path = release_dir.join(format!("{}.wasm", package.replace('-', "_")));
        let body = match (&failure, path.is_file()) {
            (None, true) => format!("Path::new({:?})", path_str(&path)),
            (Some(failure), _) => panic_body(package, failure, &reproduce),
            (None, false) => panic_body(
                package,
                &format!(
                    "the guest build succeeded but did not write {}",
                    path.display()
                ),
                &reproduce,
            ),
        };
        writeln!(
            generated,
            "\n/// The `{package}` component (`{}`).\n///\n/// # Panics\n///\n\
             /// Panics, quoting cargo's output, if the guest build failed.\n\
             pub fn {function}() -> &'static Path {{\n    {body}\n}}",
            path.display()
        )
        .expect("writing to a String cannot fail");
    }

    let other_failure = match other_build.and_then(std::process::Child::wait_with_output) {
        Ok(output) if output.status.success() => None,
        Ok(output) => {
            let log = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let summary = log.lines().last().unwrap_or("no output");
            println!(
                "cargo:warning=Python/JavaScript components not built ({}): {summary}; \
                 reproduce with: {other_reproduce}",
                output.status
            );
            Some(format!(
                "the build of the other languages' tools failed ({}); the end of its output:\n{}",
                output.status,
                tail(&log, STDERR_TAIL_LINES)
            ))
        }
        Err(err) => {
            println!(
                "cargo:warning=Python/JavaScript components not built: cannot run bash: {err}"
            );
            Some(format!("cannot run bash {}: {err}", script.display()))
        }
    };
    for (function, file) in OTHER_LANGUAGES {
        let path = other_out.join(file);
        let body = match (&other_failure, path.is_file()) {
            (None, true) => format!("Path::new({:?})", path_str(&path)),
            (Some(failure), _) => panic_body(file, failure, &other_reproduce),
            (None, false) => panic_body(
                file,
                &format!("the build succeeded but did not write {}", path.display()),
                &other_reproduce,
            ),
        };
        writeln!(
            generated,
            "\n/// The `{file}` component (`{}`), built by `guest-tools/{OTHER_LANGUAGES_SCRIPT}`, \
             without doc comments.\n///\n/// # Panics\n///\n\
             /// Panics, quoting the build's output, if it failed.\n\
             pub fn {function}() -> &'static Path {{\n    {body}\n}}",
            path.display()
        )
        .expect("writing to a String cannot fail");
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out_dir.join("gen.rs"), generated).expect("cannot write gen.rs");
}

fn panic_body(package: &str, failure: &str, reproduce: &str) -> String {
    let message = format!(
        "the `{package}` guest component is not available: {failure}\n\
         Reproduce with: {reproduce}"
    );
    format!("panic!(\"{{}}\", {message:?})")
}

/// Lets the nested cargo behave as it would in a developer's shell: drops
/// what the outer cargo set for this build script (target, profile, flags,
/// paths of this package) and what would redirect the build (target dir,
/// wrappers), and keeps the toolchain choice, the home directories, the
/// jobserver (`CARGO_MAKEFLAGS`, so both builds share the machine's cores)
/// and the user's network and registry settings.
fn clean_environment(command: &mut Command) {
    const KEEP: &[&str] = &["CARGO_HOME", "CARGO_MAKEFLAGS"];
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    const REMOVE: &[&str] = &[
        "RUSTC",
        "RUSTDOC",
        "RUSTC_LINKER",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_BOOTSTRAP",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "NUM_JOBS",
        "DOCS_RS",
    ];
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else {
            continue;
        };
        let cargo_setting = name.starts_with("CARGO")
            && !KEEP.contains(&name)
            && !KEEP_PREFIXES.iter().any(|prefix| name.starts_with(prefix));
        if cargo_setting || name.starts_with("DEP_") || REMOVE.contains(&name) {
            command.env_remove(name);
        }
    }
}

/// Prints `rerun-if-changed` for every input of the guest builds: the
/// workspace's `Cargo.toml` and `Cargo.lock`, the top-level `wit/`, and each crate's `Cargo.toml`,
/// `build.rs`, `src/` and `wit/` (cargo scans a directory's files, so a new
/// file counts too); the other languages' sources, pins and build script.
/// `target/` and `node_modules/` are never walked.
fn print_rerun_if_changed(guest_tools: &Path) {
    println!(
        "cargo:rerun-if-changed={}",
        guest_tools.join("Cargo.lock").display()
    );
    // The `corral:mcp` package the guests use through `wit/deps` links.
    if let Some(repo) = guest_tools.parent() {
        println!("cargo:rerun-if-changed={}", repo.join("wit").display());
    }
    let mut pending = vec![guest_tools.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                match name {
                    "target" | ".git" | "node_modules" => {}
                    "src" | "wit" | "scripts" => {
                        println!("cargo:rerun-if-changed={}", path.display());
                    }
                    _ => pending.push(path),
                }
            } else if matches!(
                name,
                "Cargo.toml"
                    | "build.rs"
                    | "app.py"
                    | "app.js"
                    | "requirements.txt"
                    | "package.json"
                    | "package-lock.json"
            ) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("the repository path is UTF-8")
}
