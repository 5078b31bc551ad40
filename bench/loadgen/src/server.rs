//! Starting a server under test as its own process and connecting MCP
//! clients to it, over stdio (one session on the child's stdin/stdout) or
//! streamable HTTP (independent sessions on a loopback port).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{Peer, RoleClient};
use tokio::process::{Child, Command};

/// One MCP session.
pub type Session = RunningService<RoleClient, ()>;

/// A server binary and the arguments that make it serve the benchmark tools.
#[derive(Clone)]
pub struct Target {
    /// "corral" or "native", for the report.
    pub name: &'static str,
    pub program: PathBuf,
    /// Arguments before `--http ADDR`.
    pub args: Vec<String>,
    /// Where Corral keeps its compiled-component cache (`XDG_CACHE_HOME`).
    pub cache_home: PathBuf,
}

impl Target {
    /// Corral serving `config`.
    pub fn corral(program: &Path, config: &Path, cache_home: &Path) -> Target {
        Target {
            name: "corral",
            program: program.to_owned(),
            args: vec![
                "serve".into(),
                "--config".into(),
                config.display().to_string(),
            ],
            cache_home: cache_home.to_owned(),
        }
    }

    /// The native floor.
    pub fn native(program: &Path, cache_home: &Path) -> Target {
        Target {
            name: "native",
            program: program.to_owned(),
            args: Vec::new(),
            cache_home: cache_home.to_owned(),
        }
    }

    /// The same target with its compiled-component cache in `cache_home`.
    pub fn with_cache_home(&self, cache_home: &Path) -> Target {
        Target {
            cache_home: cache_home.to_owned(),
            ..self.clone()
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env("XDG_CACHE_HOME", &self.cache_home)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        command
    }
}

/// A server serving one session over its stdin/stdout.
pub struct StdioServer {
    pub session: Session,
    pub pid: u32,
}

impl StdioServer {
    pub async fn start(target: &Target) -> anyhow::Result<StdioServer> {
        let (transport, _) = TokioChildProcess::builder(target.command())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", target.program.display()))?;
        let pid = transport.id().context("the server exited at once")?;
        let session = ()
            .serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
            .await
            .with_context(|| format!("{} over stdio: the MCP handshake failed", target.name))?;
        Ok(StdioServer { session, pid })
    }

    /// Every tool the server lists (all pages of `tools/list`).
    pub async fn tools(&self) -> anyhow::Result<Vec<rmcp::model::Tool>> {
        self.session
            .list_all_tools()
            .await
            .context("tools/list failed")
    }

    pub async fn stop(self) {
        let _ = self.session.cancel().await;
    }
}

/// A server serving streamable HTTP on a loopback port; killed on drop.
pub struct HttpServer {
    child: Child,
    pub pid: u32,
    base: String,
}

impl HttpServer {
    pub async fn start(target: &Target) -> anyhow::Result<HttpServer> {
        let port = free_port()?;
        let mut command = target.command();
        command.args(["--http", &format!("127.0.0.1:{port}")]);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", target.program.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let base = format!("http://127.0.0.1:{port}");
        let health = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = health.get(format!("{base}/healthz")).send().await
                && response.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("{} did not answer {base}/healthz within 120 s", target.name);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(HttpServer { child, pid, base })
    }

    /// A new, independent MCP session (its own HTTP client and connections).
    pub async fn session(&self) -> anyhow::Result<Session> {
        let url = format!("{}/mcp", self.base);
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.clone()),
        );
        ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
            .await
            .with_context(|| format!("cannot open an MCP session at {url}"))
    }

    /// The server's Prometheus metrics, if it serves them (Corral does).
    pub async fn metrics(&self) -> Option<String> {
        let response = reqwest::get(format!("{}/metrics", self.base)).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `n` sessions, opened one after another.
pub async fn sessions(server: &HttpServer, n: usize) -> anyhow::Result<Vec<Session>> {
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        sessions.push(server.session().await?);
    }
    Ok(sessions)
}

/// The peers to call through: `callers` clones of one stdio session's
/// peer, or the first `callers` HTTP sessions.
pub fn peers(sessions: &[Session], callers: usize, shared: bool) -> Vec<Peer<RoleClient>> {
    if shared {
        vec![sessions[0].peer().clone(); callers]
    } else {
        sessions[..callers]
            .iter()
            .map(|s| s.peer().clone())
            .collect()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .context("cannot find a free loopback port")?
        .local_addr()?
        .port())
}
