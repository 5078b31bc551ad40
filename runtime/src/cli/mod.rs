//! Command-line interface: one file per subcommand, each small, each
//! delegating to the library.

mod audit;
mod call;
mod check;
mod docs;
mod new;
mod overrides;
mod serve;

use std::io::IsTerminal;

use clap::{Parser, Subcommand, ValueEnum};

/// Serve WebAssembly components as sandboxed MCP tools.
#[derive(Debug, Parser)]
#[command(name = "corral", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    pub log: LogArgs,
}

/// How logs are written (always to stderr).
#[derive(Debug, clap::Args)]
pub(crate) struct LogArgs {
    /// Log line format. The filter comes from RUST_LOG (default: info,rmcp=warn).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, env = "CORRAL_LOG_FORMAT")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the configured components as MCP tools (stdio).
    Serve(serve::ServeArgs),
    /// Show, per component, its WIT imports, its grants and what it can reach.
    Audit(audit::AuditArgs),
    /// Validate a configuration (components compile, grants exist) and print the effective settings.
    Check(check::CheckArgs),
    /// Tool descriptions: write a WIT folder's doc comments into a component.
    Docs(docs::DocsArgs),
    /// Create a tool project (Rust, Python or JavaScript) in a new folder.
    New(new::NewArgs),
    /// Call one tool once, locally, through the MCP path a client uses; logs and progress go to stderr.
    Call(call::CallArgs),
}

/// The sandbox a configuration asks for, with `max_calls` call slots.
pub(crate) fn sandbox(
    config: &corral::config::Config,
    max_calls: u32,
) -> Result<corral::sandbox::Sandbox, corral::sandbox::SandboxError> {
    corral::sandbox::Sandbox::new(corral::sandbox::SandboxSettings {
        max_concurrent_calls: max_calls,
        max_memory: config
            .components
            .iter()
            .map(|c| c.limits.memory)
            .max()
            .unwrap_or(0),
        cache_dir: config.server.cache_dir.clone(),
        cache_max_size: config.server.cache_max_size,
        queue_timeout: config.server.queue_timeout,
        share: config.server.pool,
    })
}

/// The log filter when RUST_LOG is unset: Corral's own events, and only
/// rmcp's warnings. rmcp's info level adds a span around every request
/// (entered on every poll), which measured about 24 µs of CPU per HTTP call
/// (bench/RESULTS.md), for lines about sessions starting and notifications
/// arriving. `RUST_LOG=info` brings them back.
pub(crate) const DEFAULT_LOG_FILTER: &str = "info,rmcp=warn";

/// Sends logs to stderr: on stdio, stdout is the protocol.
pub(crate) fn init_logging(args: &LogArgs) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    // A client that closes stderr (an MCP client that exits while a call
    // runs) must not make logging panic: tracing-subscriber reports a failed
    // write with `eprintln!`, which panics when stderr is gone, and a
    // panicking call never answers.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false);
    match args.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs the chosen subcommand.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => args.execute(),
        Command::Audit(args) => args.execute(),
        Command::Check(args) => args.execute(),
        Command::Docs(args) => args.execute(),
        Command::New(args) => args.execute(),
        Command::Call(args) => args.execute(),
    }
}
