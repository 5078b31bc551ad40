//! Tools that ask their client (`corral:mcp/client`), through the official
//! Python SDK (`tests/clients/python/ask.py`) and the TypeScript client v2
//! (`tests/clients/node/ask-v2.mjs`) against the real binary, over
//! stdio and streamable HTTP, in both protocol generations: 2025-11-25
//! clients answer server-to-client requests while the tool waits; 2026-07-28
//! clients get an input-required result and retry. The tool is the
//! `cleanup` example (`delete_files` deletes only what the user confirms in
//! a form), and the conformance component's sampling and roots tools.

use std::path::Path;

use serde_json::{Value, json};

use crate::clients::{Client, Transport, run_client_with};

/// A config serving `cleanup` with `scratch` as its read-write `/scratch`,
/// and `calc`; `limits` is the cleanup component's limits table.
fn cleanup_config(scratch: &Path, limits: &str) -> String {
    format!(
        "[components.cleanup]\npath = \"{}\"\n\
         dirs = [ {{ host = \"{}\", guest = \"/scratch\", mode = \"rw\" }} ]\n\
         limits = {limits}\n\
         [components.calc]\npath = \"{}\"\n",
        corral_test_artifacts::cleanup().display(),
        scratch.display(),
        corral_test_artifacts::calc().display(),
    )
}

/// Runs the Python ask driver with `extra` arguments in `mode` over HTTP or
/// stdio.
fn ask(config: &str, mode: &str, http: bool, extra: &[&str]) -> Value {
    ask_with(Client::PythonAsk, config, mode, http, extra)
}

/// Runs the ask driver `client` with `extra` arguments.
fn ask_with(client: Client, config: &str, mode: &str, http: bool, extra: &[&str]) -> Value {
    let run = if http {
        let server = crate::front_door::Corral::http(config);
        run_client_with(client, mode, extra, &Transport::Http { url: &server.mcp() })
    } else {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corral.toml");
        std::fs::write(&path, config).unwrap();
        run_client_with(client, mode, extra, &Transport::Stdio { config: &path })
    };
    let output = run.output(&format!("ask {extra:?} in mode {mode}"));
    let protocol = if mode == "legacy" { "2025-11-25" } else { mode };
    assert_eq!(output["protocol"], json!(protocol), "{output}");
    output
}

/// A scratch folder with two files.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.log"), "12345").unwrap();
    std::fs::write(dir.path().join("keep.txt"), "keep").unwrap();
    dir
}

const DELETE_OLD: &str = r#"{"paths": ["old.log"]}"#;

#[test]
fn a_tool_deletes_only_what_the_user_confirms_in_both_generations() {
    for (mode, http) in [
        ("legacy", false),
        ("legacy", true),
        ("2026-07-28", false),
        ("2026-07-28", true),
    ] {
        let context = format!("mode {mode}, http {http}");
        // Declined: nothing deleted, a tool error that says so.
        let dir = scratch();
        let config = cleanup_config(dir.path(), "{}");
        let out = ask(
            &config,
            mode,
            http,
            &["--form", "decline", "--call", "delete_files", DELETE_OLD],
        );
        assert_eq!(out["calls"][0]["is_error"], json!(true), "{context}: {out}");
        let text = out["calls"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("not_confirmed"), "{context}: {out}");
        assert!(
            dir.path().join("old.log").exists(),
            "{context}: deleted though declined"
        );
        let form = out["forms"][0].as_str().unwrap_or_default();
        assert!(
            form.contains("old.log (5 bytes)"),
            "{context}: the form does not list the file: {out}"
        );

        // Accepted: deleted, the other file kept.
        let out = ask(
            &config,
            mode,
            http,
            &["--form", "accept", "--call", "delete_files", DELETE_OLD],
        );
        assert_eq!(
            out["calls"][0]["structured"],
            json!({"files": ["old.log"], "bytes": 5}),
            "{context}: {out}"
        );
        assert!(
            !dir.path().join("old.log").exists(),
            "{context}: not deleted"
        );
        assert!(dir.path().join("keep.txt").exists(), "{context}");
        // One form, even where the tool ran twice (2026: ask, then act).
        assert_eq!(
            out["forms"].as_array().map(Vec::len),
            Some(1),
            "{context}: {out}"
        );
    }
}

#[test]
fn a_client_that_shows_no_forms_is_never_asked() {
    for mode in ["legacy", "2026-07-28"] {
        let dir = scratch();
        let config = cleanup_config(dir.path(), "{}");
        let out = ask(
            &config,
            mode,
            false,
            &["--form", "none", "--call", "delete_files", DELETE_OLD],
        );
        let text = out["calls"][0]["text"].as_str().unwrap_or_default();
        assert_eq!(out["calls"][0]["is_error"], json!(true), "{mode}: {out}");
        assert!(text.contains("shows no forms"), "{mode}: {out}");
        assert!(dir.path().join("old.log").exists());
    }
}

/// Waiting for the user does not count against the tool's deadline, and a
/// user who never answers ends the wait at `input_timeout` with a tool
/// error: the server goes on serving.
#[test]
fn waiting_for_the_user_has_its_own_bound() {
    let dir = scratch();
    // Answers take 0.8 s; the tool's own deadline is 0.5 s.
    let config = cleanup_config(
        dir.path(),
        r#"{ timeout = "500ms", input_timeout = "30s" }"#,
    );
    let out = ask(
        &config,
        "legacy",
        false,
        &["--delay", "0.8", "--call", "delete_files", DELETE_OLD],
    );
    assert_eq!(out["calls"][0]["is_error"], json!(false), "{out}");
    assert!(!dir.path().join("old.log").exists(), "{out}");

    // Never answered: the wait ends at input_timeout; the next call works.
    let dir = scratch();
    let config = cleanup_config(dir.path(), r#"{ timeout = "500ms", input_timeout = "2s" }"#);
    let out = ask(
        &config,
        "legacy",
        true,
        &[
            "--form",
            "never",
            "--call",
            "delete_files",
            DELETE_OLD,
            "--call",
            "add",
            r#"{"a": 2, "b": 3}"#,
        ],
    );
    let text = out["calls"][0]["text"].as_str().unwrap_or_default();
    assert_eq!(out["calls"][0]["is_error"], json!(true), "{out}");
    assert!(text.contains("no answer came in time"), "{out}");
    assert!(dir.path().join("old.log").exists());
    assert_eq!(out["calls"][1]["structured"], json!({"result": 5}), "{out}");
}

fn conformance_config() -> String {
    format!(
        "[components.conformance]\npath = \"{}\"\n",
        corral_test_artifacts::conformance().display()
    )
}

/// Sampling and roots, three questions in one `ask`, two rounds, and a
/// required capability the client lacks, in both generations.
#[test]
fn a_tool_samples_lists_roots_and_asks_in_rounds() {
    for (mode, http) in [("legacy", false), ("2026-07-28", true)] {
        let context = format!("mode {mode}");
        let out = ask(
            &conformance_config(),
            mode,
            http,
            &[
                "--sample",
                "Paris",
                "--roots",
                "file:///home/ada/project",
                "--call",
                "test_sampling",
                r#"{"prompt": "Capital of France?"}"#,
                "--call",
                "test_input_required_result_list_roots",
                "{}",
                "--call",
                "test_input_required_result_multiple_inputs",
                "{}",
                "--call",
                "test_input_required_result_multi_round",
                "{}",
            ],
        );
        let text = |i: usize| {
            out["calls"][i]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        for i in 0..4 {
            assert_eq!(
                out["calls"][i]["is_error"],
                json!(false),
                "{context}: {out}"
            );
        }
        assert_eq!(text(0), "LLM response: Paris", "{context}: {out}");
        assert!(
            text(1).contains("file:///home/ada/project"),
            "{context}: {out}"
        );
        let multiple = text(2);
        assert!(
            multiple.contains("Paris") && multiple.contains("file:///home/ada/project"),
            "{context}: {out}"
        );
        assert!(text(3).contains("favorite color"), "{context}: {out}");
        assert_eq!(
            out["samples"][0],
            json!("Capital of France?"),
            "{context}: {out}"
        );

        // Without sampling: the call ends at `require`, naming it.
        let out = ask(
            &conformance_config(),
            mode,
            http,
            &["--call", "test_missing_capability", "{}"],
        );
        let call = &out["calls"][0];
        if mode == "legacy" {
            assert_eq!(call["is_error"], json!(true), "{context}: {out}");
            let text = call["text"].as_str().unwrap_or_default();
            assert!(text.contains("capabilities sampling"), "{context}: {out}");
        } else {
            assert_eq!(call["error"]["code"], json!(-32021), "{context}: {out}");
            assert_eq!(
                call["error"]["data"]["requiredCapabilities"],
                json!({"sampling": {}}),
                "{context}: {out}"
            );
        }
    }
}

/// The TypeScript client v2 answers a form in both generations.
#[test]
fn the_typescript_client_answers_a_form_in_both_generations() {
    for (mode, http) in [("legacy", true), ("2026-07-28", false)] {
        let context = format!("mode {mode}");
        let dir = scratch();
        let config = cleanup_config(dir.path(), "{}");
        let out = ask_with(
            Client::TsAsk,
            &config,
            mode,
            http,
            &["--form", "decline", "--call", "delete_files", DELETE_OLD],
        );
        assert_eq!(out["calls"][0]["is_error"], json!(true), "{context}: {out}");
        assert!(dir.path().join("old.log").exists(), "{context}");
        let out = ask_with(
            Client::TsAsk,
            &config,
            mode,
            http,
            &["--form", "accept", "--call", "delete_files", DELETE_OLD],
        );
        assert_eq!(
            out["calls"][0]["structured"],
            json!({"files": ["old.log"], "bytes": 5}),
            "{context}: {out}"
        );
        assert!(!dir.path().join("old.log").exists(), "{context}");
    }
}
