//! `corral audit`: golden outputs for a reviewer, in text and JSON.
//!
//! Set `CORRAL_UPDATE_GOLDEN=1` to rewrite the golden files after an
//! intended change, then review the diff.

use std::path::Path;

/// Runs `corral audit ARGS` and returns stdout with machine-specific paths
/// replaced by placeholders.
fn audit(args: &[&str], root: &Path) -> String {
    let output = crate::support::corral()
        .arg("audit")
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .replace(corral_test_artifacts::GUEST_TOOLS_DIR, "<guest-tools>")
        .replace(&root.display().to_string(), "<tmp>")
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/all/golden")
        .join(name);
    if std::env::var_os("CORRAL_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "golden file {} differs (CORRAL_UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

fn config(root: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::create_dir_all(root.join("out")).unwrap();
    let text = format!(
        r#"[components.escapes]
path = "{escapes}"
dirs = [
  {{ host = "data", guest = "/data", mode = "ro" }},
  {{ host = "out", guest = "/out", mode = "rw" }},
]
env = {{ GREETING = "hello" }}
network = {{ allow = ["127.0.0.1:8080", "api.example.com:443"] }}

[components.calc]
path = "{calc}"
env = {{ UNUSED = "1" }}
dirs = [ {{ host = "data", guest = "/data" }} ]
hints = {{ idempotent = true }}
"#,
        escapes = corral_test_artifacts::escapes().display(),
        calc = corral_test_artifacts::calc().display(),
    );
    let path = root.join("corral.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn audit_text_tells_each_components_reach() {
    let root = tempfile::tempdir().unwrap();
    let config = config(root.path());
    let text = audit(&["--config", config.to_str().unwrap()], root.path());
    golden("audit.txt", &text);
    assert!(text.contains("reads data as /data"));
    assert!(text.contains("reads and writes out as /out"));
    assert!(text.contains("may connect to 127.0.0.1:8080 (sockets)"));
    assert!(text.contains("may send HTTP requests to api.example.com:443"));
    assert!(text.contains(
        "components.calc.dirs is granted but the component does not import wasi:filesystem"
    ));
    assert!(
        !text.contains("hello\""),
        "values of environment variables are never shown"
    );
}

#[test]
fn audit_json_has_the_documented_shape() {
    let root = tempfile::tempdir().unwrap();
    let config = config(root.path());
    let text = audit(
        &["--config", config.to_str().unwrap(), "--format", "json"],
        root.path(),
    );
    golden("audit.json", &text);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["corral_audit"], 1);
    let components = json["components"].as_array().unwrap();
    let calc = components.iter().find(|c| c["name"] == "calc").unwrap();
    assert_eq!(calc["name"], "calc");
    assert_eq!(calc["tools"][0]["annotations"]["idempotent"], true);
    for key in [
        "filesystem",
        "sockets",
        "http",
        "environment",
        "stdio",
        "clocks",
        "random",
        "exit",
        "io",
        "other",
    ] {
        assert!(calc["imports"][key].is_array(), "{key}");
    }
}

#[test]
fn audit_works_on_a_component_without_a_config() {
    let root = tempfile::tempdir().unwrap();
    let text = audit(
        &[corral_test_artifacts::calc().to_str().unwrap()],
        root.path(),
    );
    golden("audit-calc.txt", &text);
    assert!(text.contains("add [read-only]"));
}

#[test]
fn check_shows_the_audits_warnings() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("data")).unwrap();
    let config = format!(
        "[components.calc]\npath = \"{}\"\ndirs = [ {{ host = \"{}\", guest = \"/data\" }} ]\n",
        corral_test_artifacts::calc().display(),
        root.path().join("data").display()
    );
    let (ok, _, stderr) = crate::support::run_corral(&["check"], &config);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("warning: component calc: components.calc.dirs is granted but the component does not import wasi:filesystem"),
        "{stderr}"
    );
}

#[test]
fn check_warns_when_the_descriptor_limit_is_too_low() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nmax_concurrent_calls = 8\n[components.calc]\npath = \"{}\"\n",
            corral_test_artifacts::calc().display()
        ),
    )
    .unwrap();
    let check = |nofile: u32| {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {nofile} && exec \"$0\" check --config \"$1\""
            ))
            .arg(crate::support::CORRAL)
            .arg(&config)
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // 8 calls × 64 descriptors + the server's own do not fit in 256.
    let stderr = check(256);
    assert!(
        stderr.contains("may hold 576 file descriptors at once")
            && stderr.contains("but the process may open 256"),
        "{stderr}"
    );
    assert!(!check(4096).contains("file descriptors"));
}

#[test]
fn audit_says_a_component_may_ask_its_caller() {
    let root = tempfile::tempdir().unwrap();
    let text = audit(
        &[corral_test_artifacts::cleanup().to_str().unwrap()],
        root.path(),
    );
    assert!(text.contains("mcp client"), "{text}");
    assert!(
        text.contains("may ask its caller for input: the user (forms)"),
        "{text}"
    );
    assert!(
        text.contains("waits at most 600000 ms for each answer from its client"),
        "{text}"
    );
    // A component that does not ask says nothing of waiting.
    let calc = audit(
        &[corral_test_artifacts::calc().to_str().unwrap()],
        root.path(),
    );
    assert!(!calc.contains("waits at most"), "{calc}");
    assert!(!calc.contains("may ask its caller"), "{calc}");
    assert!(!calc.contains("as a task"), "{calc}");
}

#[test]
fn audit_says_a_component_may_go_on_as_a_task() {
    let root = tempfile::tempdir().unwrap();
    let text = audit(
        &[corral_test_artifacts::conformance().to_str().unwrap()],
        root.path(),
    );
    assert!(text.contains("mcp task"), "{text}");
    assert!(
        text.contains("may go on in the background as a task its caller polls"),
        "{text}"
    );
    // The cleanup example asks, but never goes on as a task.
    let cleanup = audit(
        &[corral_test_artifacts::cleanup().to_str().unwrap()],
        root.path(),
    );
    assert!(!cleanup.contains("as a task"), "{cleanup}");
}
