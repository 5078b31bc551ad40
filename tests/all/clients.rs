//! Real third-party MCP clients against the real `corral` binary, over stdio
//! and over streamable HTTP: the official Python SDK (`mcp`), the TypeScript
//! SDK v1 (`@modelcontextprotocol/sdk`) and v2 (`@modelcontextprotocol/client`),
//! and the MCP Inspector CLI. Each client is a small driver in
//! `tests/clients/` that lists the tools, calls `add` and `divide` by zero and
//! prints one JSON object, which these tests check.
//!
//! The clients come from the package registries through
//! `scripts/install-test-clients`; a test whose client is missing fails and
//! says to run it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{CORRAL, standard_config};

/// How long one client run may take (the Inspector starts three processes).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

const INSTALL_HINT: &str = "run scripts/install-test-clients";

/// The repository root (`runtime/` is one level below it).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Client {
    /// `tests/clients/python/client.py`, the official Python SDK.
    Python,
    /// `tests/clients/python/features.py`: the official Python SDK on the
    /// `corral:mcp` features of the conformance component.
    PythonFeatures,
    /// `tests/clients/python/ask.py`: the official Python SDK answering a
    /// tool's questions (forms, sampling, roots).
    PythonAsk,
    /// `tests/clients/node/features-v2.mjs`: `@modelcontextprotocol/client`
    /// 2.x on the `corral:mcp` features of the conformance component.
    TsFeatures,
    /// `tests/clients/node/ask-v2.mjs`: `@modelcontextprotocol/client` 2.x
    /// answering a tool's questions (forms, sampling).
    TsAsk,
    /// `tests/clients/node/client-sdk.mjs`, `@modelcontextprotocol/sdk` 1.x.
    TsSdk,
    /// `tests/clients/node/client-v2.mjs`, `@modelcontextprotocol/client` 2.x.
    TsClientV2,
    /// `tests/clients/node/client-inspector.mjs`, the Inspector CLI 2.x.
    Inspector,
}

impl Client {
    /// The interpreter, the driver script, and a file of the installed
    /// client library that must exist.
    fn files(self) -> (PathBuf, PathBuf, PathBuf) {
        let repo = repo();
        let node_dir = repo.join("tests/clients/node");
        let node = node_dir.join("node_modules/.bin/node");
        let module = |name: &str| {
            node_dir
                .join("node_modules")
                .join(name)
                .join("package.json")
        };
        match self {
            Client::Python | Client::PythonFeatures | Client::PythonAsk => {
                let python = repo.join(".venv/bin/python");
                let file = match self {
                    Client::PythonFeatures => "features.py",
                    Client::PythonAsk => "ask.py",
                    _ => "client.py",
                };
                let script = repo.join("tests/clients/python").join(file);
                (python.clone(), script, python)
            }
            Client::TsSdk => (
                node,
                node_dir.join("client-sdk.mjs"),
                module("@modelcontextprotocol/sdk"),
            ),
            Client::TsClientV2 => (
                node,
                node_dir.join("client-v2.mjs"),
                module("@modelcontextprotocol/client"),
            ),
            Client::TsFeatures => (
                node,
                node_dir.join("features-v2.mjs"),
                module("@modelcontextprotocol/client"),
            ),
            Client::TsAsk => (
                node,
                node_dir.join("ask-v2.mjs"),
                module("@modelcontextprotocol/client"),
            ),
            Client::Inspector => (
                node,
                node_dir.join("client-inspector.mjs"),
                module("@modelcontextprotocol/inspector"),
            ),
        }
    }

    /// Panics, saying how to install it, when the client is missing.
    fn ensure_installed(self) {
        let (interpreter, script, library) = self.files();
        for path in [&interpreter, &script, &library] {
            assert!(
                path.exists(),
                "the {self:?} MCP client is not installed ({} is missing): {INSTALL_HINT}",
                path.display()
            );
        }
    }

    /// The command running this client's driver in `mode`.
    fn command(self, mode: &str) -> Command {
        self.ensure_installed();
        let (interpreter, script, _) = self.files();
        let mut command = Command::new(interpreter);
        command.arg(script).args(["--mode", mode]);
        command
    }
}

/// Where the client finds the server.
pub(crate) enum Transport<'a> {
    /// The client spawns `corral serve --config CONFIG` itself.
    Stdio { config: &'a Path },
    /// A running `corral serve --http`.
    Http { url: &'a str },
}

/// What a client printed and how it ended.
pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// The JSON object the driver printed last, after checking that it
    /// exited successfully; `what` names the run in a failure's message.
    pub(crate) fn output(&self, what: &str) -> Value {
        let context = format!("{what}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert!(
            self.status.success(),
            "exited with {}: {context}",
            self.status
        );
        self.stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("no JSON object on stdout: {context}"))
    }
}

/// One call of `tool` with `arguments` (JSON text) through the official
/// Python SDK, on `corral serve` over stdio with `config`: the features
/// driver's `--call` output (the tool's description, content, logs,
/// progress).
pub(crate) fn call_once(config: &Path, tool: &str, arguments: &str) -> Value {
    run_client_with(
        Client::PythonFeatures,
        "legacy",
        &["--call", tool, arguments],
        &Transport::Stdio { config },
    )
    .output(&format!("calling {tool} with {arguments}"))
}

/// Runs `client` against the server, killing it after [`CLIENT_TIMEOUT`].
pub(crate) fn run_client(client: Client, mode: &str, transport: &Transport<'_>) -> Run {
    run_client_with(client, mode, &[], transport)
}

/// [`run_client`] with `extra` driver arguments before the transport.
pub(crate) fn run_client_with(
    client: Client,
    mode: &str,
    extra: &[&str],
    transport: &Transport<'_>,
) -> Run {
    let mut command = client.command(mode);
    command.args(extra);
    match transport {
        Transport::Stdio { config } => {
            // SDKs pass a child only a few environment variables, so the
            // test cache is given as a flag.
            command
                .args(["stdio", "--", CORRAL, "serve", "--cache-dir"])
                .arg(crate::support::cache_dir())
                .arg("--config")
                .arg(config);
        }
        Transport::Http { url } => {
            command.args(["http", url]);
        }
    }
    command
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the {client:?} client ({command:?}): {e}"));
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let status = wait_or_kill(&mut child, CLIENT_TIMEOUT);
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let Some(status) = status else {
        panic!(
            "the {client:?} client did not finish within {CLIENT_TIMEOUT:?}\n\
             stdout:\n{stdout}\nstderr:\n{stderr}"
        );
    };
    Run {
        status,
        stdout,
        stderr,
    }
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Waits for `child` up to `timeout`; kills it and returns `None` after that.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `client` and checks the JSON it printed: the standard config's tools,
/// `add` 2 + 3 as `{"result": 5}` and "5", `divide` by zero as an error. When
/// `protocol` is given, the client must report having negotiated it.
fn check_client(client: Client, mode: &str, transport: &Transport<'_>, protocol: Option<&str>) {
    let run = run_client(client, mode, transport);
    let context = format!(
        "{client:?} client, mode {mode}\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let output = run.output(&format!("{client:?} client, mode {mode}"));

    let tools: Vec<&str> = output["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools array: {context}"))
        .iter()
        .map(|tool| tool.as_str().expect("tool names are strings"))
        .collect();
    for expected in [
        "add",
        "divide",
        "analyze_code",
        "slugify",
        "echo_record",
        "spin",
    ] {
        assert!(
            tools.contains(&expected),
            "{expected} is not among {tools:?}: {context}"
        );
    }
    let mut unique = tools.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), tools.len(), "duplicate tool names: {context}");

    assert_eq!(output["add"], json!({"result": 5}), "{context}");
    assert_eq!(output["add_text"], json!("5"), "{context}");
    assert_eq!(output["divide_is_error"], json!(true), "{context}");
    if let Some(protocol) = protocol {
        assert!(
            run.stderr.contains(&format!("protocol {protocol}")),
            "expected protocol {protocol} to be negotiated: {context}"
        );
    }
}

/// Runs `client` over stdio: it spawns `corral serve` on the standard config.
fn over_stdio(client: Client, mode: &str, protocol: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, standard_config()).unwrap();
    check_client(
        client,
        mode,
        &Transport::Stdio { config: &config },
        protocol,
    );
}

/// Runs `client` over streamable HTTP against its own `corral serve --http`.
fn over_http(client: Client, mode: &str, protocol: Option<&str>) {
    client.ensure_installed();
    let server = crate::front_door::Corral::http(&standard_config());
    check_client(
        client,
        mode,
        &Transport::Http { url: &server.mcp() },
        protocol,
    );
}

// --- The official Python SDK (`mcp`) --------------------------------------

#[test]
fn python_sdk_over_stdio() {
    // `auto` (the SDK's default) tries `server/discover` first.
    over_stdio(Client::Python, "auto", Some("2026-07-28"));
}

#[test]
fn python_sdk_over_stdio_with_initialize() {
    over_stdio(Client::Python, "legacy", Some("2025-11-25"));
}

#[test]
fn python_sdk_over_http() {
    over_http(Client::Python, "auto", Some("2026-07-28"));
}

#[test]
fn python_sdk_over_http_with_initialize() {
    over_http(Client::Python, "legacy", Some("2025-11-25"));
}

// --- The TypeScript SDK v1 (`@modelcontextprotocol/sdk`, initialize only) --

#[test]
fn typescript_sdk_v1_over_stdio() {
    over_stdio(Client::TsSdk, "legacy", None);
}

#[test]
fn typescript_sdk_v1_over_http() {
    over_http(Client::TsSdk, "legacy", None);
}

// --- The TypeScript SDK v2 client (`@modelcontextprotocol/client`) ----------

#[test]
fn typescript_client_v2_over_stdio() {
    over_stdio(Client::TsClientV2, "auto", Some("2026-07-28"));
}

#[test]
fn typescript_client_v2_over_stdio_with_initialize() {
    over_stdio(Client::TsClientV2, "legacy", Some("2025-11-25"));
}

#[test]
fn typescript_client_v2_over_http() {
    over_http(Client::TsClientV2, "auto", Some("2026-07-28"));
}

#[test]
fn typescript_client_v2_over_http_with_initialize() {
    over_http(Client::TsClientV2, "legacy", Some("2025-11-25"));
}

// --- The MCP Inspector CLI 2.x (`@modelcontextprotocol/inspector --cli`) ----

#[test]
fn inspector_cli_over_stdio() {
    over_stdio(Client::Inspector, "legacy", None);
}

#[test]
fn inspector_cli_over_stdio_stateless() {
    over_stdio(Client::Inspector, "2026-07-28", None);
}

#[test]
fn inspector_cli_over_http() {
    over_http(Client::Inspector, "legacy", None);
}

#[test]
fn inspector_cli_over_http_stateless() {
    over_http(Client::Inspector, "2026-07-28", None);
}
