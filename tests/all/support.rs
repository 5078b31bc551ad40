//! Starting the real `corral` binary and talking to it with rmcp's client.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use rmcp::transport::TokioChildProcess;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The path of the binary under test.
pub(crate) const CORRAL: &str = env!("CARGO_BIN_EXE_corral");

/// The compiled-component cache every test's server uses: private to the
/// test run, never the user's own cache directory.
pub(crate) fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("corral-cache")
}

/// `corral` as a command, with the test run's cache directory.
pub(crate) fn corral() -> std::process::Command {
    let mut command = std::process::Command::new(CORRAL);
    command.env("CORRAL_CACHE_DIR", cache_dir());
    command
}

/// What `/proc` says of a process's memory and descriptors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcessUse {
    /// Resident memory now, in KiB.
    pub rss_kib: u64,
    /// The most resident memory so far, in KiB.
    pub peak_rss_kib: u64,
    /// Open file descriptors.
    pub descriptors: usize,
}

/// The memory and descriptors of process `pid`.
pub(crate) fn process_use(pid: u32) -> ProcessUse {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    ProcessUse {
        rss_kib: field("VmRSS:"),
        peak_rss_kib: field("VmHWM:"),
        descriptors: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0),
    }
}

/// A config holding the components most tests use, with tight limits for
/// the fault component so its tests are quick.
pub(crate) fn standard_config() -> String {
    format!(
        r#"
[server]
name = "corral-test"

[components.calc]
path = "{calc}"

[components.analyzer]
path = "{analyzer}"

[components.text]
path = "{text}"

[components.faults]
path = "{faults}"
limits = {{ memory = "32MiB", fuel = 500_000_000, timeout = "2s" }}

[components.echo]
path = "{echo}"
"#,
        calc = corral_test_artifacts::calc().display(),
        analyzer = corral_test_artifacts::code_analyzer().display(),
        text = corral_test_artifacts::text_tools().display(),
        faults = corral_test_artifacts::faults().display(),
        echo = corral_test_artifacts::type_echo().display(),
    )
}

/// A running `corral serve` with an MCP client attached.
pub(crate) struct Server {
    pub client: RunningService<RoleClient, ()>,
    /// The server's process id.
    pub pid: u32,
    stderr: Arc<Mutex<String>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    /// Asks the server to stop (SIGTERM) and waits a few seconds for it to
    /// exit before the client's transport kills it: a server that exits
    /// normally writes its coverage profile (see `scripts/coverage`).
    fn drop(&mut self) {
        let pid = self.pid.to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
        let stat = format!("/proc/{pid}/stat");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            // Gone, or a zombie (state `Z`, after the command in parentheses).
            let exited = std::fs::read_to_string(&stat).map_or(true, |s| {
                s.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('Z'))
            });
            if exited {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Server {
    /// Starts `corral serve` on `config` (TOML text), connecting with the
    /// 2025-11-25 `initialize` handshake.
    pub(crate) async fn start(config: &str) -> Server {
        Server::start_with(config, ClientLifecycleMode::Initialize).await
    }

    /// Starts `corral serve` on `config`, connecting in `mode`.
    pub(crate) async fn start_with(config: &str, mode: ClientLifecycleMode) -> Server {
        Server::start_full(config, mode, &[]).await
    }

    /// Starts `corral serve` on `config` with extra environment variables
    /// in the server's own environment.
    pub(crate) async fn start_full(
        config: &str,
        mode: ClientLifecycleMode,
        env: &[(&str, &str)],
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corral.toml");
        std::fs::write(&path, config).unwrap();
        let mut command = Command::new(CORRAL);
        command
            .arg("serve")
            .arg("--config")
            .arg(&path)
            .env("CORRAL_CACHE_DIR", cache_dir())
            .envs(env.iter().copied());
        let mut server = Server::start_command(command, mode).await;
        server._dir = Some(dir);
        server
    }

    /// Starts `command`, which must run `corral serve` on stdio, and
    /// connects in `mode`.
    pub(crate) async fn start_command(mut command: Command, mode: ClientLifecycleMode) -> Server {
        // Every call's line too, successes included (see the handler).
        command.env("RUST_LOG", "info,corral::calls=debug");
        let (transport, stderr) = TokioChildProcess::builder(command)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = transport.id().expect("the server process has an id");
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = stderr {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let client =
            ().serve_with_lifecycle(transport, mode)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "client could not connect: {e}\nserver stderr:\n{}",
                        log.lock().unwrap()
                    )
                });
        Server {
            client,
            pid,
            stderr: log,
            _dir: None,
        }
    }

    /// Starts the server on [`standard_config`].
    pub(crate) async fn standard() -> Server {
        Server::start(&standard_config()).await
    }

    /// Every tool, by name.
    pub(crate) async fn tools(&self) -> Vec<Tool> {
        self.client.list_all_tools().await.unwrap()
    }

    /// Calls `tool` with `args` (a JSON object).
    pub(crate) async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        self.call_raw(tool, Some(args)).await
    }

    /// Calls `tool` with exactly the given arguments object, or none.
    pub(crate) async fn call_raw(
        &self,
        tool: &str,
        args: Option<Map<String, Value>>,
    ) -> CallToolResult {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Some(args) = args {
            params = params.with_arguments(args);
        }
        tokio::time::timeout(Duration::from_secs(60), self.client.call_tool(params))
            .await
            .unwrap_or_else(|_| panic!("{tool} did not answer within 60 s"))
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
    }

    /// The server's memory and descriptors now.
    pub(crate) fn usage(&self) -> ProcessUse {
        process_use(self.pid)
    }

    /// What the server wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// The text of a result's first content block.
pub(crate) fn text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// The text of every content block of a result, joined by newlines.
pub(crate) fn all_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that `result` succeeded and returns its structured content.
pub(crate) fn ok(result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "expected success, got error: {}",
        text(result)
    );
    result.structured_content.clone().unwrap_or(Value::Null)
}

/// Asserts that `result` is an error answer and returns its text.
pub(crate) fn error(result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected an error, got {result:?}"
    );
    text(result)
}

/// Runs `corral` with `args` and a config file holding `config`; returns
/// (exit success, stdout, stderr). For start-up failures.
pub(crate) fn run_corral(args: &[&str], config: &str) -> (bool, String, String) {
    run_corral_with_env(args, config, &[])
}

/// Like [`run_corral`], with extra variables in corral's environment.
pub(crate) fn run_corral_with_env(
    args: &[&str],
    config: &str,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corral.toml");
    std::fs::write(&path, config).unwrap();
    let output = corral()
        .envs(env.iter().copied())
        .args(args)
        .arg("--config")
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
