//! The floor of the benchmark: the tools of Corral's example components
//! (`add`, `analyze_code`) as native Rust, served by rmcp with no sandbox,
//! over stdio or streamable HTTP. Whatever Corral spends beyond this server
//! is the price of the sandbox.
//!
//! `analyze_code` calls the `code-analysis` crate, the very code the
//! `code-analyzer` component wraps, compiled natively: both servers do the
//! same work and give byte-identical answers, so the heavy-tool comparison
//! is exact.
//!
//! The answers have the shapes Corral gives (see the README, "How WIT types
//! become JSON"): a non-record result is `{"result": …}` in
//! `structuredContent`, a record is sent as it is, and a text block carries
//! the same value.

mod tools;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use clap::Parser;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use tools::NativeServer;

/// Serve the native tools over stdio (default) or streamable HTTP.
#[derive(Parser)]
struct Args {
    /// Serve streamable HTTP at http://ADDR/mcp (and 200 at /healthz)
    /// instead of stdio.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        match args.http {
            Some(addr) => serve_http(addr).await,
            None => serve_stdio().await,
        }
    })
}

async fn serve_stdio() -> anyhow::Result<()> {
    let running = NativeServer
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP session over stdio failed to start")?;
    running
        .waiting()
        .await
        .context("the MCP session over stdio failed")?;
    Ok(())
}

async fn serve_http(addr: SocketAddr) -> anyhow::Result<()> {
    let mcp = StreamableHttpService::new(
        || Ok(NativeServer),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let router = Router::new()
        .nest_service("/mcp", mcp)
        .route("/healthz", get(|| async { "ok\n" }));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?
        // As Corral does: no Nagle delay between a response's segments.
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    // As Corral does: the router's state settled once, not per connection.
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the HTTP server failed")
}
