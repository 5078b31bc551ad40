//! Start-up refusals: a bad config or a bad component stops the server
//! before it serves, with a message naming what to fix.

use crate::support::run_corral;

#[test]
fn two_tools_with_one_name_refuse_to_start_naming_both_components() {
    let calc = corral_test_artifacts::calc().display().to_string();
    let config = format!(
        "[components.first]\npath = \"{calc}\"\n\n[components.second]\npath = \"{calc}\"\n"
    );
    let (ok, stdout, stderr) = run_corral(&["serve"], &config);
    assert!(!ok);
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    assert!(stderr.contains("two tools are named \"add\""), "{stderr}");
    assert!(
        stderr.contains("first") && stderr.contains("second"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tool_prefix"),
        "says how to fix it: {stderr}"
    );
}

#[test]
fn a_tool_prefix_resolves_a_name_clash() {
    let calc = corral_test_artifacts::calc().display().to_string();
    let config = format!(
        "[components.first]\npath = \"{calc}\"\n\n[components.second]\npath = \"{calc}\"\ntool_prefix = \"b_\"\n"
    );
    let (_, _, stderr) = run_corral(&["serve"], &config);
    assert!(!stderr.contains("two tools"), "{stderr}");
}

#[test]
fn unknown_config_key_names_key_and_line() {
    let (ok, _, stderr) = run_corral(&["serve"], "[server]\nname = \"x\"\nport = 3\n");
    assert!(!ok);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("unknown field `port`"), "{stderr}");
}

#[test]
fn missing_component_file_names_component_and_path() {
    let (ok, _, stderr) = run_corral(
        &["serve"],
        "[components.ghost]\npath = \"/nonexistent/ghost.wasm\"\n",
    );
    assert!(!ok);
    assert!(stderr.contains("\"ghost\""), "{stderr}");
    assert!(stderr.contains("/nonexistent/ghost.wasm"), "{stderr}");
    assert!(stderr.contains("components.ghost.path"), "{stderr}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"not wasm at all").unwrap();
    let config = format!("[components.bogus]\npath = \"{}\"\n", bogus.display());
    let (ok, _, stderr) = run_corral(&["serve"], &config);
    assert!(!ok);
    assert!(
        stderr.contains("not a valid WebAssembly component"),
        "{stderr}"
    );
}

#[test]
fn missing_config_file_says_what_to_pass() {
    let output = crate::support::corral()
        .args(["serve", "--config", "/nonexistent/corral.toml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/corral.toml") && stderr.contains("--config"),
        "{stderr}"
    );
}

#[test]
fn check_validates_everything_and_prints_the_effective_config() {
    let calc = corral_test_artifacts::calc().display().to_string();
    let config = format!(
        "[server]\nmax_concurrent_calls = 8\n\n[components.calc]\npath = \"{calc}\"\nlimits = {{ timeout = \"3s\" }}\n"
    );
    let (ok, stdout, stderr) = run_corral(&["check"], &config);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("max_concurrent_calls = 8"), "{stdout}");
    assert!(stdout.contains("timeout = \"3s\""), "{stdout}");
    assert!(stdout.contains("tools = [\"add\", \"divide\"]"), "{stdout}");
    let bad = "[components.ghost]\npath = \"/nonexistent/ghost.wasm\"\n";
    let (ok, _, stderr) = run_corral(&["check"], bad);
    assert!(
        !ok && stderr.contains("/nonexistent/ghost.wasm"),
        "{stderr}"
    );
}

#[test]
fn corral_environment_variables_and_flags_override_the_server_section() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    let calc = corral_test_artifacts::calc().display().to_string();
    std::fs::write(
        &config,
        format!("[server]\nmax_concurrent_calls = 8\n\n[components.calc]\npath = \"{calc}\"\n"),
    )
    .unwrap();
    let output = crate::support::corral()
        .args(["check", "--name", "from-flag", "--config"])
        .arg(&config)
        .env("CORRAL_MAX_CONCURRENT_CALLS", "3")
        .env("CORRAL_REQUEST_TIMEOUT", "7s")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("name = \"from-flag\""), "{stdout}");
    assert!(stdout.contains("max_concurrent_calls = 3"), "{stdout}");
    assert!(stdout.contains("request_timeout = \"7s\""), "{stdout}");
}
