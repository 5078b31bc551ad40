//! `corral serve`: load the config, compile the components, serve MCP over
//! stdio (the default) or streamable HTTP.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use corral::config::Config;
use corral::registry::Registry;
use corral::sandbox::{Sandbox, SandboxSettings};
use corral::server::{CorralServer, serve_http, serve_stdio};
use tokio_util::sync::CancellationToken;

use super::overrides::ServerOverrides;

/// How long in-flight HTTP requests may take to finish after SIGTERM/SIGINT.
const GRACE: Duration = Duration::from_secs(30);

/// Arguments of `corral serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "corral.toml", env = "CORRAL_CONFIG")]
    config: PathBuf,
    #[command(flatten)]
    overrides: ServerOverrides,
}

impl ServeArgs {
    /// Loads everything, then serves until the client hangs up (stdio) or a
    /// shutdown signal arrives (HTTP).
    pub fn execute(self) -> anyhow::Result<()> {
        let mut config = Config::load(&self.config)?;
        self.overrides.apply(&mut config.server)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let sandbox = Sandbox::new(SandboxSettings {
                max_concurrent_calls: config.server.max_concurrent_calls,
                max_memory: config.components.iter().map(|c| c.limits.memory).max().unwrap_or(0),
                cache_dir: config.server.cache_dir.clone(),
                cache_max_size: config.server.cache_max_size,
                queue_timeout: config.server.queue_timeout,
                share: config.server.pool,
            })?;
            let started = std::time::Instant::now();
            let registry = Registry::load(&config, &sandbox)?;
            tracing::info!(
                components = config.components.len(),
                tools = registry.tools().len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "loaded"
            );
            let server = CorralServer::new(registry, &config.server);
            match config.server.http.listen {
                None => serve_stdio(server).await?,
                Some(addr) => {
                    let shutdown = CancellationToken::new();
                    tokio::spawn(cancel_on_signal(shutdown.clone()));
                    let serving = serve_http(server, &config.server.http, addr, shutdown.clone());
                    tokio::pin!(serving);
                    tokio::select! {
                        result = &mut serving => result?,
                        () = shutdown.cancelled() => {
                            match tokio::time::timeout(GRACE, serving).await {
                                Ok(result) => result?,
                                Err(_) => tracing::warn!("in-flight requests did not finish within {GRACE:?}; exiting"),
                            }
                        }
                    }
                    tracing::info!("shut down");
                }
            }
            Ok(())
        })
    }
}

/// Cancels `token` on SIGINT or SIGTERM.
async fn cancel_on_signal(token: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
    token.cancel();
}
