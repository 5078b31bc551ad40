//! The streamable HTTP transport, for operators: built to face networks.
//!
//! ```text
//! connections  accept, bound, time out, shed under pressure   (connections.rs,
//!                                                                registry.rs)
//!   ▼
//! router       Host check → bearer tokens → request limits →  (router.rs, host.rs,
//!              session guard → rmcp's StreamableHttpService    limits.rs, sessions.rs)
//!   ▼
//! answer       its body holds the request's permits and its    (body.rs)
//!              connection's busy mark until it ends
//! ```
//!
//! Safe by default: loopback only unless authentication is configured or
//! explicitly waived. A shutdown drains: new requests get 503, every request
//! in flight is answered, then sessions and connections close.

mod body;
mod connections;
mod host;
mod limits;
mod registry;
mod router;
mod sessions;

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

use super::CorralServer;
use crate::config::HttpSettings;
use connections::Connections;
use router::{App, Serving};

/// Why the HTTP transport could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Binding a public address without authentication.
    #[error(
        "refusing to serve {0} without authentication: anyone who can reach it could call every tool. \
         Configure tokens ([server.auth] tokens_file or tokens_env), bind a loopback address \
         (--http 127.0.0.1:PORT), or pass --allow-unauthenticated if a proxy in front authenticates"
    )]
    Unauthenticated(SocketAddr),
    /// The tokens could not be read.
    #[error("cannot load bearer tokens: {0}")]
    Tokens(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// Serves MCP over HTTP on `addr`. When `shutdown` is cancelled, drains:
/// refuses new requests with 503, lets every request in flight finish its
/// answer, then closes sessions and connections and returns.
pub async fn serve_http(
    server: CorralServer,
    settings: &HttpSettings,
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> Result<(), HttpError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let serving = Serving {
        local: listener.local_addr().map_err(HttpError::Serve)?,
        draining: shutdown,
        closing: CancellationToken::new(),
    };
    let App { router, limits } = App::new(server.clone(), settings, &serving)?;
    let local = serving.local;
    tracing::info!(address = %local, "serving MCP over HTTP at http://{local}/mcp");
    let connections = Connections::new(settings, serving.draining.clone(), server);
    let stop = CancellationToken::new();
    // `with_state` settles the router's state once; every connection then
    // serves a clone of it rather than rebuilding its routes.
    let accepting = tokio::spawn(connections.clone().accept(
        listener,
        router.with_state(()),
        stop.clone(),
    ));
    serving.draining.cancelled().await;
    tracing::info!("draining: answering the requests in flight, refusing new ones");
    connections.drain();
    limits.idle().await;
    serving.closing.cancel();
    stop.cancel();
    let _ = accepting.await;
    connections.close().await;
    tracing::info!("every request in flight was answered");
    Ok(())
}
