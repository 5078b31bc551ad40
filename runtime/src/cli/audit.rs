//! `corral audit`: what each component asks for and what it gets.

use std::path::PathBuf;

use anyhow::bail;
use clap::ValueEnum;
use corral::audit::{audit_component, render_json, render_text};
use corral::config::{
    ComponentConfig, Config, DEFAULT_CACHE_MAX_SIZE, DEFAULT_MEMORY, PoolShare, default_cache_dir,
};
use corral::sandbox::{Sandbox, SandboxSettings};

/// Arguments of `corral audit`.
#[derive(Debug, clap::Args)]
pub(super) struct AuditArgs {
    /// Audit every component of this configuration file.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Component files to audit on their own (nothing granted).
    components: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

impl AuditArgs {
    /// Prints the audit to stdout.
    pub(super) fn execute(self) -> anyhow::Result<()> {
        let (mut components, server) = match &self.config {
            Some(path) => {
                let config = Config::load(path)?;
                (config.components, Some(config.server))
            }
            None => (Vec::new(), None),
        };
        components.extend(
            self.components
                .iter()
                .map(|p| ComponentConfig::standalone(p)),
        );
        if components.is_empty() {
            bail!("nothing to audit: give --config FILE, or the path of a component .wasm");
        }
        let sandbox = Sandbox::new(SandboxSettings {
            max_concurrent_calls: 1,
            max_memory: components
                .iter()
                .map(|c| c.limits.memory)
                .max()
                .unwrap_or(DEFAULT_MEMORY),
            cache_dir: server
                .as_ref()
                .map_or_else(default_cache_dir, |s| s.cache_dir.clone()),
            cache_max_size: server
                .as_ref()
                .map_or(DEFAULT_CACHE_MAX_SIZE, |s| s.cache_max_size),
            queue_timeout: std::time::Duration::from_secs(1),
            share: server.as_ref().map_or_else(PoolShare::default, |s| s.pool),
        })?;
        let audits: Vec<_> = components
            .iter()
            .map(|c| audit_component(c, &sandbox))
            .collect();
        match self.format {
            Format::Text => print!("{}", render_text(&audits)),
            Format::Json => println!("{}", serde_json::to_string_pretty(&render_json(&audits))?),
        }
        Ok(())
    }
}
