//! Flags (and `CORRAL_*` environment variables) that override the
//! `[server]` section of the config, shared by `serve` and `check`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use corral::config::ServerSettings;

/// Overrides of the server section; each flag also reads its `CORRAL_*`
/// environment variable.
#[derive(Debug, clap::Args)]
pub(super) struct ServerOverrides {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (server.http.listen).
    #[arg(long, value_name = "ADDR", env = "CORRAL_HTTP")]
    http: Option<SocketAddr>,
    /// Allow serving a non-loopback address without authentication
    /// (for a trusted proxy that authenticates in front of corral).
    #[arg(long, env = "CORRAL_ALLOW_UNAUTHENTICATED")]
    allow_unauthenticated: bool,
    /// server.name
    #[arg(long, env = "CORRAL_NAME")]
    name: Option<String>,
    /// server.max_concurrent_calls
    #[arg(long, env = "CORRAL_MAX_CONCURRENT_CALLS")]
    max_concurrent_calls: Option<u32>,
    /// server.queue_timeout (e.g. "30s")
    #[arg(long, env = "CORRAL_QUEUE_TIMEOUT", value_parser = humantime::parse_duration)]
    queue_timeout: Option<Duration>,
    /// server.http.max_concurrent_requests
    #[arg(long, env = "CORRAL_MAX_CONCURRENT_REQUESTS")]
    max_concurrent_requests: Option<u32>,
    /// server.http.max_connections
    #[arg(long, env = "CORRAL_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
    /// server.http.request_timeout (e.g. "60s")
    #[arg(long, env = "CORRAL_REQUEST_TIMEOUT", value_parser = humantime::parse_duration)]
    request_timeout: Option<Duration>,
    /// server.auth.tokens_file
    #[arg(long, env = "CORRAL_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// server.cache_dir
    #[arg(long, env = "CORRAL_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every component at start, without the cache.
    #[arg(long, env = "CORRAL_NO_CACHE")]
    no_cache: bool,
}

impl ServerOverrides {
    /// Applies the given flags to `server`.
    pub(super) fn apply(&self, server: &mut ServerSettings) -> anyhow::Result<()> {
        if self.max_concurrent_calls == Some(0)
            || self.max_concurrent_requests == Some(0)
            || self.max_connections == Some(0)
        {
            anyhow::bail!(
                "--max-concurrent-calls, --max-concurrent-requests and --max-connections must be at least 1"
            );
        }
        if let Some(addr) = self.http {
            server.http.listen = Some(addr);
        }
        server.http.allow_unauthenticated |= self.allow_unauthenticated;
        if let Some(name) = &self.name {
            server.name.clone_from(name);
        }
        if let Some(n) = self.max_concurrent_calls {
            server.max_concurrent_calls = n;
        }
        if let Some(t) = self.queue_timeout {
            server.queue_timeout = t;
        }
        if let Some(n) = self.max_concurrent_requests {
            server.http.max_concurrent_requests = n;
        }
        if let Some(n) = self.max_connections {
            server.http.max_connections = n;
        }
        if let Some(t) = self.request_timeout {
            server.http.request_timeout = t;
        }
        if let Some(f) = &self.tokens_file {
            server.http.tokens_file = Some(f.clone());
        }
        if let Some(d) = &self.cache_dir {
            server.cache_dir = Some(d.clone());
        }
        if self.no_cache {
            server.cache_dir = None;
        }
        Ok(())
    }
}
