//! The front door under abuse: hostile and broken clients against the real
//! `corral` binary, over HTTP and stdio, and what happens on SIGTERM.
//!
//! Each module proves one point of the front door: connection hygiene
//! (`connections`), request limits that hold until the answer ends
//! (`limits`), the operational endpoints (`endpoints`), sessions
//! (`sessions`), stdio (`stdio`) and a lossless shutdown (`shutdown`). The
//! helpers here start `corral serve` on port 0 and read the bound address
//! from its log, so tests never race for a port; they wait for events the
//! server reports, never for the clock.

mod connections;
mod endpoints;
mod limits;
mod sessions;
mod shutdown;
mod stdio;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{CORRAL, standard_config};

/// A token that may use every tool.
pub(crate) const FULL_TOKEN: &str = "full-access-token-0123456789";
/// A second token that may use every tool.
pub(crate) const OTHER_TOKEN: &str = "other-access-token-0123456789";
/// A token that may use only `add` and `divide`.
pub(crate) const CALC_TOKEN: &str = "calc-only-token-0123456789";

/// How long anything a test waits for may take before the test fails: a
/// guard against hanging forever, never a measurement.
pub(crate) const GUARD: Duration = Duration::from_secs(60);

/// The standard config with `server` keys added to `[server]`, `http` keys
/// in `[server.http]` and `auth` keys in `[server.auth]`. `TOKENS_FILE` in
/// `auth` names a file holding [`FULL_TOKEN`], [`OTHER_TOKEN`] and
/// [`CALC_TOKEN`] (limited to `add` and `divide`).
pub(crate) fn config(server: &str, http: &str, auth: &str) -> String {
    standard_config().replace(
        "name = \"corral-test\"\n",
        &format!(
            "name = \"corral-test\"\n{server}\n[server.http]\n{http}\n[server.auth]\n{auth}\n"
        ),
    )
}

/// `config` with the `faults` component's budgets raised so that `spin`
/// runs until `timeout` (e.g. `"30s"`) passes or its call is cancelled.
pub(crate) fn long_spin(config: &str, timeout: &str) -> String {
    let limits = "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"2s\" }";
    assert!(config.contains(limits), "the standard config changed");
    config.replace(
        limits,
        &format!("limits = {{ memory = \"32MiB\", fuel = 1_000_000_000_000_000, timeout = \"{timeout}\" }}"),
    )
}

/// A running `corral serve`, killed on drop.
pub(crate) struct Corral {
    child: Child,
    /// The HTTP address, when serving HTTP.
    pub addr: Option<SocketAddr>,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Drop for Corral {
    /// Asks the server to stop (SIGTERM) and kills it if it has not within
    /// a few seconds: a server that exits normally writes its coverage
    /// profile (see `scripts/coverage`).
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How to start the server.
#[derive(Default)]
pub(crate) struct Start<'a> {
    /// The config file's text (`TOKENS_FILE` is replaced by the tokens file).
    pub config: &'a str,
    /// Serve HTTP on a port of the system's choosing.
    pub http: bool,
    /// Start under `ulimit -n` of this many descriptors.
    pub nofile: Option<u32>,
    /// Extra variables in the server's environment (these win over the
    /// default `RUST_LOG=info`).
    pub env: &'a [(&'a str, &'a str)],
}

impl Corral {
    /// Starts `corral serve --http 127.0.0.1:0` on `config` and waits until
    /// it logs its address.
    pub(crate) fn http(config: &str) -> Corral {
        Corral::start(Start {
            config,
            http: true,
            ..Start::default()
        })
    }

    /// Starts `corral serve` as `how` says. Over HTTP, returns once the
    /// server logs the address it serves; over stdio, at once, with stdin
    /// and stdout piped.
    pub(crate) fn start(how: Start<'_>) -> Corral {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::write(
            &tokens,
            format!("{FULL_TOKEN}\n{OTHER_TOKEN}\n{CALC_TOKEN} add,divide\n"),
        )
        .unwrap();
        let path = dir.path().join("corral.toml");
        std::fs::write(
            &path,
            how.config
                .replace("TOKENS_FILE", &tokens.display().to_string()),
        )
        .unwrap();
        let mut args: Vec<String> = vec!["serve".into(), "--config".into()];
        args.push(path.display().to_string());
        if how.http {
            args.extend(["--http".into(), "127.0.0.1:0".into()]);
        }
        let mut command = match how.nofile {
            Some(n) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(CORRAL)
                    .args(&args);
                command
            }
            None => {
                let mut command = Command::new(CORRAL);
                command.args(&args);
                command
            }
        };
        command
            .env("RUST_LOG", "info")
            .envs(how.env.iter().copied())
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(if how.http {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("serving MCP over HTTP at http://").nth(1)
                        && let Some(addr) = rest.split('/').next()
                        && let Ok(addr) = addr.parse::<SocketAddr>()
                    {
                        let _ = address_tx.send(addr);
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let addr = how.http.then(|| {
            address_rx.recv_timeout(GUARD).unwrap_or_else(|_| {
                panic!(
                    "corral did not start serving HTTP:\n{}",
                    log.lock().unwrap()
                )
            })
        });
        Corral {
            child,
            addr,
            log,
            _dir: dir,
        }
    }

    /// `http://ADDR`.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr.expect("serving HTTP"))
    }

    /// `http://ADDR/mcp`.
    pub(crate) fn mcp(&self) -> String {
        format!("{}/mcp", self.base())
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child process (for its stdin and stdout over stdio).
    pub(crate) fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Sends `signal` (`TERM`, `INT`, …) to the server.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the server to exit ([`GUARD`] at most).
    pub(crate) fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + GUARD;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "corral did not exit within {GUARD:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server logged so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// A resident-set figure from `/proc/PID/status`, in KiB: `VmRSS` now,
    /// or `VmHWM` the peak.
    pub(crate) fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"))
    }
}

/// Waits, polling, until `check` holds ([`GUARD`] at most); `what` says what
/// was awaited when it never does.
pub(crate) async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + GUARD;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One sample of the server's `/metrics` (`name` with its labels, as
/// written), when present.
pub(crate) async fn metric(base: &str, token: Option<&str>, series: &str) -> Option<f64> {
    let mut request = reqwest::Client::new().get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let text = request.send().await.ok()?.text().await.ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A JSON-RPC `tools/call` request.
pub(crate) fn call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

/// A 2026-07-28 (stateless) `tools/call`: it needs no session, and hanging
/// up on its answer cancels the call.
pub(crate) fn stateless_call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "front-door-test", "version": "1"}}}})
}

/// POSTs a stateless `message` to `url` on a connection of its own; returns
/// when the answer's headers arrive.
pub(crate) async fn post_stateless(url: &str, message: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", message["method"].as_str().unwrap_or_default())
        .header(
            "Mcp-Name",
            message["params"]["name"].as_str().unwrap_or_default(),
        )
        .body(message.to_string())
        .send()
        .await
        .unwrap()
}

/// A 2025-11-25 MCP session over raw HTTP requests.
pub(crate) struct Session {
    /// The session id the server issued.
    pub id: String,
    url: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Session {
    /// Opens a session at `url` (`…/mcp`), with `token` as bearer token.
    pub(crate) async fn open(url: &str, token: Option<&str>) -> Session {
        Session::open_on(reqwest::Client::new(), url, token).await
    }

    /// Opens a session at `url` through `client` (and its connections).
    pub(crate) async fn open_on(
        client: reqwest::Client,
        url: &str,
        token: Option<&str>,
    ) -> Session {
        let mut request = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "front-door-test", "version": "1"}}})
                .to_string(),
            );
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "initialize: {response:?}");
        let id = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let _ = response.text().await;
        let session = Session {
            id,
            url: url.to_owned(),
            token: token.map(str::to_owned),
            client,
        };
        let initialized = session
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(initialized.status(), 202);
        session
    }

    /// A request carrying this session's id and token.
    pub(crate) fn request(&self, method: reqwest::Method) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .request(method, &self.url)
            .header("Accept", "application/json, text/event-stream")
            .header("Mcp-Session-Id", &self.id)
            .header("MCP-Protocol-Version", "2025-11-25");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// POSTs `message` in this session.
    pub(crate) async fn post(&self, message: &Value) -> reqwest::Response {
        self.post_bytes(message.to_string().into_bytes()).await
    }

    /// POSTs `body` (JSON text) in this session.
    pub(crate) async fn post_bytes(&self, body: Vec<u8>) -> reqwest::Response {
        self.request(reqwest::Method::POST)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// The same session as seen with another token (or none).
    pub(crate) fn with_token(&self, token: Option<&str>) -> Session {
        Session {
            id: self.id.clone(),
            url: self.url.clone(),
            token: token.map(str::to_owned),
            client: reqwest::Client::new(),
        }
    }
}

/// The JSON-RPC messages of an SSE response body.
pub(crate) fn sse_messages(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

/// The answer to request `id` in an SSE response body.
pub(crate) fn answer(body: &str, id: u64) -> Value {
    sse_messages(body)
        .into_iter()
        .find(|m| m["id"] == json!(id))
        .unwrap_or_else(|| panic!("no answer to request {id} in:\n{body}"))
}
