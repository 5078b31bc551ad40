//! `corral serve`: load the config, compile the components, serve MCP over
//! stdio (the default) or streamable HTTP.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use corral::config::Config;
use corral::registry::Registry;
use corral::server::{CorralServer, serve_http, serve_stdio};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::overrides::ServerOverrides;

/// How long the runtime may take to stop its last tasks once serving ended.
const RUNTIME_STOP: Duration = Duration::from_secs(1);

/// Arguments of `corral serve`.
#[derive(Debug, clap::Args)]
pub(super) struct ServeArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "corral.toml", env = "CORRAL_CONFIG")]
    config: PathBuf,
    #[command(flatten)]
    overrides: ServerOverrides,
}

impl ServeArgs {
    /// Loads everything, then serves until the client hangs up (stdio) or a
    /// shutdown signal arrives; a signal drains: no new work, every request
    /// in flight answered (within `server.shutdown_timeout`), exit 0.
    pub(super) fn execute(self) -> anyhow::Result<()> {
        let mut config = Config::load(&self.config)?;
        self.overrides.apply(&mut config.server)?;
        // As many descriptors as the process may have, and a warning when
        // the configuration may need more.
        if let Some(shortfall) = corral::budget::raise_descriptor_limit()
            .and_then(|limit| config.descriptor_needs().shortfall(limit))
        {
            tracing::warn!("{shortfall}");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let result = runtime.block_on(async {
            let sandbox = super::sandbox(&config, config.server.max_concurrent_calls)?;
            let started = std::time::Instant::now();
            let mut registry = Registry::load(&config, &sandbox)?;
            registry.load_served().await?;
            tracing::info!(
                components = config.components.len(),
                tools = registry.tools().len(),
                resources = registry.catalog().resources().count(),
                prompts = registry.catalog().prompts().count(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "loaded"
            );
            // What loading freed goes back to the system before serving.
            corral::budget::release_free_memory();
            let server = CorralServer::new(registry, &config.server);
            let shutdown = CancellationToken::new();
            // Watched before serving starts: a signal sent as soon as the
            // server says it listens must drain it, not kill it.
            tokio::spawn(on_signals(Signals::watch(), shutdown.clone()));
            let serving = async {
                match config.server.http.listen {
                    None => serve_stdio(server, &config.server, shutdown.clone())
                        .await
                        .map_err(anyhow::Error::from),
                    Some(addr) => serve_http(server, &config.server.http, addr, shutdown.clone())
                        .await
                        .map_err(anyhow::Error::from),
                }
            };
            tokio::pin!(serving);
            let grace = config.server.shutdown_timeout;
            tokio::select! {
                result = &mut serving => result?,
                () = shutdown.cancelled() => {
                    if tokio::time::timeout(grace, &mut serving).await.is_err() {
                        anyhow::bail!(
                            "requests in flight were still unanswered {} after the shutdown signal; \
                             exiting without them (raise server.shutdown_timeout to wait longer)",
                            humantime::format_duration(grace)
                        );
                    }
                }
            }
            tracing::info!("shut down");
            Ok(())
        });
        // Threads blocked on stdin, or guests' blocking file I/O, must not
        // keep the process alive once serving is over.
        runtime.shutdown_timeout(RUNTIME_STOP);
        result
    }
}

/// The shutdown signals, registered with the OS when watched.
struct Signals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl Signals {
    /// Registers SIGINT and SIGTERM now (a signal that cannot be watched is
    /// reported and never arrives).
    fn watch() -> Self {
        let watch = |kind: SignalKind, name: &str| {
            signal(kind)
                .inspect_err(|e| tracing::warn!("cannot watch for {name}: {e}"))
                .ok()
        };
        Self {
            interrupt: watch(SignalKind::interrupt(), "SIGINT"),
            terminate: watch(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// The next SIGINT or SIGTERM.
    async fn next(&mut self) {
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
        }
    }
}

/// Begins the drain on the first SIGINT or SIGTERM; exits at once, with a
/// failure, on the second.
async fn on_signals(mut signals: Signals, shutdown: CancellationToken) {
    signals.next().await;
    tracing::info!(
        "shutdown signal received: answering the requests in flight, taking no new ones \
         (a second signal exits at once)"
    );
    shutdown.cancel();
    signals.next().await;
    tracing::warn!("second signal: exiting at once, without waiting for the requests in flight");
    std::process::exit(1);
}

/// The next delivery of `signal`; never, if it could not be watched.
async fn next(signal: &mut Option<Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
