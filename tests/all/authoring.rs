//! Tool descriptions for components from any toolchain: `corral docs
//! embed` writes a WIT folder's doc comments into a built component, and
//! `wit = "DIR"` in the config reads them at start, refusing a folder that
//! does not describe the component.

use std::path::Path;

use serde_json::json;

use crate::support::{Server, corral, ok, run_corral};

const NEW_DOC: &str = "Adds two whole numbers: described by a WIT folder outside the build.";

/// A copy of the calc tool's WIT folder in `dir`, with a new doc comment
/// on `add` (so the test sees which docs a server used), or without the
/// `divide` function when `complete` is false.
fn calc_wit(dir: &Path, complete: bool) -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-tools/calc/wit/calc.wit");
    let mut wit = std::fs::read_to_string(source).unwrap();
    let add = wit.find("    /// Adds two whole numbers").unwrap();
    let end = wit[add..].find("    export add").unwrap() + add;
    wit.replace_range(add..end, &format!("    /// {NEW_DOC}\n"));
    if !complete {
        let divide = wit.find("    /// Divides").unwrap();
        let end = wit.rfind('}').unwrap();
        wit.replace_range(divide..end, "");
    }
    let folder = dir.join(if complete { "wit" } else { "partial-wit" });
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("calc.wit"), wit).unwrap();
    folder
}

async fn description_of_add(component: impl AsRef<Path>, extra: &str) -> Option<String> {
    let server = Server::start(&format!(
        "[components.calc]\npath = {:?}\n{extra}",
        component.as_ref().display().to_string()
    ))
    .await;
    assert_eq!(
        ok(&server.call("add", json!({"a": 2, "b": 3})).await),
        json!({"result": 5})
    );
    server
        .tools()
        .await
        .into_iter()
        .find(|t| t.name == "add")
        .and_then(|t| t.description.map(|d| d.into_owned()))
}

#[tokio::test]
async fn docs_embed_writes_the_descriptions_a_server_reads() {
    let dir = tempfile::tempdir().unwrap();
    let wit = calc_wit(dir.path(), true);
    let out = dir.path().join("calc.wasm");
    let output = corral()
        .args(["docs", "embed", "--wit"])
        .arg(&wit)
        .arg(corral_test_artifacts::calc())
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("corral:calc@0.1.0 (2 described functions)"),
        "{stderr}"
    );
    assert_eq!(description_of_add(&out, "").await.as_deref(), Some(NEW_DOC));

    // A core module is refused with what to do.
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, wat::parse_str("(module)").unwrap()).unwrap();
    let output = corral()
        .args(["docs", "embed", "--wit"])
        .arg(&wit)
        .arg(&core)
        .arg("-o")
        .arg(dir.path().join("never.wasm"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("not a component: build it for wasm32-wasip2"),
        "{stderr}"
    );
    assert!(!dir.path().join("never.wasm").exists());
}

#[tokio::test]
async fn a_wit_folder_in_the_config_describes_the_component() {
    let dir = tempfile::tempdir().unwrap();
    let wit = calc_wit(dir.path(), true);
    let extra = format!("wit = {:?}\n", wit.display().to_string());
    assert_eq!(
        description_of_add(corral_test_artifacts::calc(), &extra)
            .await
            .as_deref(),
        Some(NEW_DOC)
    );
}

/// `corral check` of the calc tool with `wit = "{wit}"`: (success, stdout,
/// stderr).
fn check_calc_with_wit(wit: &Path) -> (bool, String, String) {
    let config = format!(
        "[components.calc]\npath = {:?}\nwit = {:?}\n",
        corral_test_artifacts::calc().display().to_string(),
        wit.display().to_string()
    );
    run_corral(&["check"], &config)
}

#[test]
fn a_wit_folder_that_does_not_describe_the_component_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let partial = calc_wit(dir.path(), false);
    let (success, _, stderr) = check_calc_with_wit(&partial);
    assert!(!success);
    assert!(
        stderr.contains("exports divide, which the WIT package corral:calc@0.1.0 given by components.calc.wit does not declare"),
        "{stderr}"
    );

    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("x.wit"),
        "package a:b;\nworld w { export f: func( }\n",
    )
    .unwrap();
    let (success, _, stderr) = check_calc_with_wit(&broken);
    assert!(!success);
    assert!(
        stderr.contains("components.calc.wit (config line 3)"),
        "{stderr}"
    );
    assert!(stderr.contains("found '}'"), "{stderr}");
}

// --- `corral new`: a scaffold per language, built, served and called ------

/// The repository root.
fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `command` in `dir`, failing the test with its output.
fn run_in(dir: &Path, command: &mut std::process::Command) {
    let output = command
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `corral new demo-tool --lang LANG` in a fresh folder, built with the
/// language's own toolchain by the command the project's README gives,
/// checked, served and called through the official Python SDK: the tool
/// counts, refuses empty text with its own message, and logs through
/// `corral:mcp`.
fn scaffold_builds_and_serves(lang: &str) {
    let parent = tempfile::tempdir().unwrap();
    let project = parent.path().join("demo-tool");
    let created = corral()
        .args(["new", "demo-tool", "--lang", lang, "--dir"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    match lang {
        "rust" => {
            // One target folder for every run of this test: the first
            // build compiles wit-bindgen, later ones only the tool.
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corral-new-rust");
            assert!(readme.contains("cargo build --release --target wasm32-wasip2"));
            run_in(
                &project,
                std::process::Command::new(env!("CARGO"))
                    .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
                    .env("CARGO_TARGET_DIR", &target),
            );
            let built = project.join("target/wasm32-wasip2/release");
            std::fs::create_dir_all(&built).unwrap();
            std::fs::copy(
                target.join("wasm32-wasip2/release/demo_tool.wasm"),
                built.join("demo_tool.wasm"),
            )
            .unwrap();
        }
        "python" => {
            let build = "componentize-py -d wit -w demo-tool componentize app -o demo_tool.wasm";
            assert!(readme.contains(build), "{readme}");
            run_in(
                &project,
                std::process::Command::new(repo().join(".venv/bin/componentize-py"))
                    .args(build.split(' ').skip(1)),
            );
        }
        "js" => {
            let manifest = std::fs::read_to_string(project.join("package.json")).unwrap();
            let build = "jco componentize app.js --wit wit --world-name demo-tool --disable all --out demo_tool.wasm";
            assert!(manifest.contains(build), "{manifest}");
            // The repository's jco (scripts/install-test-clients), the same
            // versions the project's package.json pins.
            let jco = repo().join("guest-tools/js-csv-stats/node_modules/.bin/jco");
            run_in(
                &project,
                std::process::Command::new(jco).args(build.split(' ').skip(1)),
            );
        }
        other => panic!("no such language {other}"),
    }
    let (checked, stdout, stderr) = {
        let output = corral()
            .args(["check", "-c"])
            .arg(project.join("corral.toml"))
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert!(checked, "{stdout}\n{stderr}");
    assert!(stdout.contains(r#"tools = ["count_words"]"#), "{stdout}");

    let config = project.join("corral.toml");
    let call = |text: &str| {
        crate::clients::call_once(&config, "count_words", &json!({ "text": text }).to_string())
    };
    let counted = call("one two\nthree");
    assert_eq!(counted["is_error"], json!(false), "{counted}");
    let description = counted["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("Counts the words, lines and characters of `text`"),
        "the WIT doc comment is the description: {counted}"
    );
    assert_eq!(
        counted["content"][0]["text"],
        json!(r#"{"characters":13,"lines":2,"words":3}"#),
        "{counted}"
    );
    assert_eq!(
        counted["logs"],
        json!([{"level": "debug", "data": "counted 3 words", "logger": "demo-tool"}]),
        "{counted}"
    );
    let refused = call("");
    assert_eq!(refused["is_error"], json!(true), "{refused}");
    assert_eq!(
        refused["content"][0]["text"],
        json!("the text is empty: give the text to count"),
        "{refused}"
    );
}

#[test]
fn corral_new_rust_builds_serves_and_logs() {
    scaffold_builds_and_serves("rust");
}

#[test]
fn corral_new_python_builds_serves_and_logs() {
    scaffold_builds_and_serves("python");
}

#[test]
fn corral_new_js_builds_serves_and_logs() {
    scaffold_builds_and_serves("js");
}

#[test]
fn corral_new_refuses_a_bad_name_and_an_existing_folder() {
    let parent = tempfile::tempdir().unwrap();
    let bad = corral()
        .args(["new", "Not_A_Name", "--dir"])
        .arg(parent.path().join("x"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("lowercase letters, digits and single dashes")
    );
    let existing = corral()
        .args(["new", "tool", "--dir"])
        .arg(parent.path())
        .output()
        .unwrap();
    assert!(!existing.status.success());
    assert!(String::from_utf8_lossy(&existing.stderr).contains("already exists"));
}

/// `corral call` runs one call through the real MCP path: the structured
/// answer on stdout, log messages and progress on stderr, an error answer
/// as a failure with the tool's own message.
#[test]
fn corral_call_runs_one_call_and_shows_logs_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[components.calc]\npath = {:?}\n[components.conformance]\npath = {:?}\n",
            corral_test_artifacts::calc().display().to_string(),
            corral_test_artifacts::conformance().display().to_string(),
        ),
    )
    .unwrap();
    let call = |args: &[&str]| {
        let output = corral()
            .args(["call", "-c"])
            .arg(&config)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, stdout, _) = call(&["add", r#"{"a": 2, "b": 3}"#]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout).ok(),
        Some(json!({"result": 5}))
    );
    let (ok, _, stderr) = call(&["divide", r#"{"dividend": 1, "divisor": 0}"#]);
    assert!(!ok);
    assert!(
        stderr.contains("the tool answered with an error"),
        "{stderr}"
    );
    let (ok, _, stderr) = call(&["test_tool_with_logging"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("log info: Tool execution started"),
        "{stderr}"
    );
    let (ok, _, stderr) = call(&["test_tool_with_progress"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("progress 100/100"), "{stderr}");
    let (ok, _, stderr) = call(&["no_such_tool"]);
    assert!(!ok);
    assert!(
        stderr.contains("no tool is named \"no_such_tool\""),
        "{stderr}"
    );
    let (ok, _, stderr) = call(&["add", "not json"]);
    assert!(!ok);
    assert!(stderr.contains("the arguments are not JSON"), "{stderr}");
}

/// The Rust scaffold built by `cargo component build` (cargo-component
/// 0.21.1, which `scripts/install-test-clients` installs), served with its
/// descriptions and called.
#[test]
fn corral_new_rust_builds_with_cargo_component() {
    let version = std::process::Command::new(env!("CARGO"))
        .args(["component", "--version"])
        .output();
    assert!(
        version.is_ok_and(|v| v.status.success()),
        "cargo-component is not installed: run scripts/install-test-clients (it installs \
         cargo-component 0.21.1), or scripts/test, which runs it"
    );
    let parent = tempfile::tempdir().unwrap();
    let project = parent.path().join("demo-tool");
    let created = corral()
        .args(["new", "demo-tool", "--lang", "rust", "--dir"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corral-new-cargo-component");
    run_in(
        &project,
        std::process::Command::new(env!("CARGO"))
            .args(["component", "build", "--quiet", "--release"])
            .env("CARGO_TARGET_DIR", &target),
    );
    let wasm = target.join("wasm32-wasip1/release/demo_tool.wasm");
    let config = std::fs::read_to_string(project.join("corral.toml"))
        .unwrap()
        .replace(
            "target/wasm32-wasip2/release/demo_tool.wasm",
            &wasm.display().to_string(),
        );
    std::fs::write(project.join("corral.toml"), config).unwrap();
    let out = crate::clients::call_once(
        &project.join("corral.toml"),
        "count_words",
        r#"{"text": "a b"}"#,
    );
    assert!(
        out["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Counts the words")),
        "{out}"
    );
    assert_eq!(
        out["content"][0]["text"],
        json!(r#"{"characters":3,"lines":1,"words":2}"#),
        "{out}"
    );
}

/// The calc tool's WIT folder in `dir` with `line` appended to the doc
/// comment of `add`.
fn calc_wit_with_doc_line(dir: &Path, line: &str) -> std::path::PathBuf {
    let folder = calc_wit(dir, true);
    let file = folder.join("calc.wit");
    let wit = std::fs::read_to_string(&file).unwrap();
    let wit = wit.replace(
        &format!("    /// {NEW_DOC}\n"),
        &format!("    /// {NEW_DOC}\n    ///\n    /// {line}\n"),
    );
    std::fs::write(&file, wit).unwrap();
    folder
}

#[tokio::test]
async fn an_mcp_header_doc_line_marks_the_parameter_and_a_wrong_one_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let wit = calc_wit_with_doc_line(dir.path(), "mcp-header: a First-Number");
    let server = Server::start(&format!(
        "[components.calc]\npath = {:?}\nwit = {:?}\n",
        corral_test_artifacts::calc().display().to_string(),
        wit.display().to_string()
    ))
    .await;
    let add = server.tools().await.into_iter().find(|t| t.name == "add");
    let add = add.unwrap_or_else(|| panic!("no add"));
    assert_eq!(
        add.input_schema["properties"]["a"]["x-mcp-header"],
        json!("First-Number")
    );
    // The line is the schema's, not the model's.
    assert_eq!(add.description.as_deref(), Some(NEW_DOC));

    for (line, why) in [
        ("mcp-header: c C", "no parameter \"c\""),
        ("mcp-header: a Bad:Name", "not an HTTP token"),
        (
            "mcp-header: a",
            "must be `mcp-header: PARAMETER HEADER-NAME`",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (ok, _, stderr) = check_calc_with_wit(&calc_wit_with_doc_line(dir.path(), line));
        assert!(!ok, "{line}");
        assert!(stderr.contains(why), "{line}: {stderr}");
        assert!(stderr.contains("tool \"add\""), "{stderr}");
    }
}
