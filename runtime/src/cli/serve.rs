//! `corral serve`: load the config, compile the components, serve MCP.

use std::path::PathBuf;

use anyhow::Context;
use corral::config::Config;
use corral::registry::Registry;
use corral::sandbox::{Sandbox, SandboxSettings};
use corral::server::{CorralServer, serve_stdio};

/// Arguments of `corral serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "corral.toml", env = "CORRAL_CONFIG")]
    config: PathBuf,
}

impl ServeArgs {
    /// Loads everything, then serves until the client hangs up.
    pub fn execute(self) -> anyhow::Result<()> {
        let config = Config::load(&self.config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let sandbox = Sandbox::new(SandboxSettings {
                max_concurrent_calls: config.server.max_concurrent_calls,
                max_memory: config
                    .components
                    .iter()
                    .map(|c| c.limits.memory)
                    .max()
                    .unwrap_or(0),
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
            serve_stdio(server).await?;
            Ok(())
        })
    }
}
