//! `corral call`: one call of one tool, locally, for a tool author. The
//! configured server runs in this process and an MCP client talks to it
//! through an in-memory pipe, so the call takes exactly the path a real
//! client's does (argument checks, sandbox, answer rendering); the guest's
//! log messages and progress reports are printed to stderr as they arrive.

// Logging is deprecated by SEP-2577, yet clients of both generations use it.
#![allow(deprecated)]

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use rmcp::model::{
    CallToolRequestParams, LoggingLevel, LoggingMessageNotificationParam,
    ProgressNotificationParam, ProgressToken, RequestMetaObject, SetLevelRequestParams,
};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient, ServiceExt};

use corral::config::Config;
use corral::registry::Registry;
use corral::server::CorralServer;

use super::overrides::ServerOverrides;

/// Arguments of `corral call`.
#[derive(Debug, clap::Args)]
pub(super) struct CallArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "corral.toml", env = "CORRAL_CONFIG")]
    config: PathBuf,
    /// The tool to call.
    tool: String,
    /// Its arguments, a JSON object (default: `{}`).
    arguments: Option<String>,
    #[command(flatten)]
    overrides: ServerOverrides,
}

/// Prints what the server sends during the call.
struct Printer;

impl ClientHandler for Printer {
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let data = match params.data {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        };
        let logger = params.logger.map(|l| format!(" {l}")).unwrap_or_default();
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "log {level}{logger}: {data}");
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let total = params.total.map(|t| format!("/{t}")).unwrap_or_default();
        let message = params.message.map(|m| format!(" {m}")).unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "progress {}{total}{message}",
            params.progress
        );
    }
}

impl CallArgs {
    /// Loads the configuration, calls the tool once and prints its answer:
    /// the structured value as JSON when there is one, else each content
    /// block (text as it is, other blocks as JSON). Fails (exit 1) when the
    /// answer is an error.
    pub(super) fn execute(self) -> anyhow::Result<()> {
        let mut config = Config::load(&self.config)?;
        self.overrides.apply(&mut config.server)?;
        let arguments = match &self.arguments {
            None => serde_json::Map::new(),
            Some(text) => match serde_json::from_str(text) {
                Ok(serde_json::Value::Object(object)) => object,
                Ok(_) => bail!("the arguments must be a JSON object, e.g. '{{\"text\": \"hi\"}}'"),
                Err(e) => bail!(
                    "the arguments are not JSON ({e}): give a JSON object, e.g. '{{\"text\": \"hi\"}}'"
                ),
            },
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let result = runtime.block_on(async {
            let sandbox = super::sandbox(&config, 1)?;
            let mut registry = Registry::load(&config, &sandbox)?;
            registry.load_served().await?;
            if registry.get(&self.tool).is_none() {
                let names: Vec<&str> = registry.tools().iter().map(|t| t.name.as_str()).collect();
                bail!(
                    "no tool is named {:?}; the configuration offers: {}",
                    self.tool,
                    names.join(", ")
                );
            }
            let server = CorralServer::new(registry, &config.server);
            let (client_end, server_end) = tokio::io::duplex(1 << 16);
            let serving = tokio::spawn(async move {
                let running = server.serve(tokio::io::split(server_end)).await?;
                running.waiting().await?;
                anyhow::Ok(())
            });
            let client = Printer
                .serve(tokio::io::split(client_end))
                .await
                .context("the in-process MCP session did not start")?;
            client
                .peer()
                .set_level(SetLevelRequestParams::new(LoggingLevel::Debug))
                .await
                .context("cannot ask for log messages")?;
            let mut params =
                CallToolRequestParams::new(self.tool.clone()).with_arguments(arguments);
            params.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(
                rmcp::model::NumberOrString::Number(1),
            )));
            let result = client.peer().call_tool(params).await;
            let _ = client.cancel().await;
            let _ = serving.await;
            Ok(result?)
        });
        let result = result?;
        if result.is_error == Some(true) {
            let text: Vec<&str> = result
                .content
                .iter()
                .filter_map(|b| b.as_text().map(|t| t.text.as_str()))
                .collect();
            bail!("the tool answered with an error: {}", text.join("\n"));
        }
        let mut out = std::io::stdout();
        match &result.structured_content {
            Some(value) => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(value).unwrap_or_default()
                );
            }
            None => {
                for block in &result.content {
                    match block.as_text() {
                        Some(text) => {
                            let _ = writeln!(out, "{}", text.text);
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "{}",
                                serde_json::to_string(block).unwrap_or_default()
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
