//! The streamable HTTP transport, for operators.
//!
//! The router reads top to bottom: `/mcp` is rmcp's `StreamableHttpService`
//! (both protocol generations, Host and Origin checked, body size bounded)
//! behind the request limit and, when tokens are configured, the bearer
//! check; beside it `/healthz`, `/readyz`, `/metrics` and the RFC 9728
//! protected-resource metadata. Safe by default: loopback only unless
//! authentication is configured or explicitly waived.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::CorralServer;
use super::auth::{JwtVerifier, TokenAuth, TokenEntry, require_token};
use crate::config::HttpSettings;

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

/// Serves MCP over HTTP on `addr` until `shutdown` is cancelled, then lets
/// in-flight requests finish.
pub async fn serve_http(
    server: CorralServer,
    settings: &HttpSettings,
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> Result<(), HttpError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(HttpError::Serve)?;
    let router = router(server, settings, local, shutdown.clone())?;
    tracing::info!(address = %local, "serving MCP over HTTP at http://{local}/mcp");
    // Without TCP_NODELAY, a response written in two segments (headers,
    // then the event-stream body) waits for the client's delayed ACK:
    // about 40 ms per call on a kept-alive connection.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
        }
    });
    // `into_make_service` settles the router's state once; serving the
    // `Router` itself would rebuild every route for each connection, and
    // clients that open a connection per call (rmcp's own does) pay for it.
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .map_err(HttpError::Serve)
}

/// The whole HTTP application.
pub fn router(
    server: CorralServer,
    settings: &HttpSettings,
    local: SocketAddr,
    shutdown: CancellationToken,
) -> Result<Router, HttpError> {
    let tokens = load_tokens(settings)?;
    let jwt = settings
        .jwt
        .as_ref()
        .map(|jwt| JwtVerifier::new(jwt, settings.scopes.clone()))
        .transpose()
        .map_err(HttpError::Tokens)?;
    let authenticated = !tokens.is_empty() || jwt.is_some();
    if !authenticated && !local.ip().is_loopback() && !settings.allow_unauthenticated {
        return Err(HttpError::Unauthenticated(local));
    }
    let metadata_url = format!("http://{local}/.well-known/oauth-protected-resource");

    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    hosts.extend(settings.allowed_hosts.iter().cloned());
    let origins: Vec<String> = if settings.allowed_origins.is_empty() {
        ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
            .map(String::from)
            .to_vec()
    } else {
        settings.allowed_origins.clone()
    };
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(usize::try_from(settings.max_body_size).unwrap_or(usize::MAX))
        .with_cancellation_token(shutdown.child_token());
    let metrics_server = server.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );

    let mut mcp = Router::new().nest_service("/mcp", mcp);
    if authenticated {
        let auth = Arc::new(TokenAuth::new(tokens, jwt, metadata_url.clone()));
        mcp = mcp.layer(middleware::from_fn_with_state(auth, require_token));
    }
    let limit = Arc::new(Semaphore::new(settings.max_concurrent_requests as usize));
    mcp = mcp
        .layer(middleware::from_fn_with_state(limit, limit_requests))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            settings.request_timeout,
        ));

    let resource = serde_json::json!({
        "resource": format!("http://{local}/mcp"),
        "authorization_servers": settings.authorization_servers,
        "bearer_methods_supported": ["header"],
    });
    let metadata = move || {
        let resource = resource.clone();
        async move { axum::Json(resource) }
    };
    Ok(Router::new()
        .merge(mcp)
        .route("/healthz", get(|| async { "ok\n" }))
        // Every component is compiled and loaded before the listener opens,
        // so a server that answers is ready: there is no "tool not found" window.
        .route("/readyz", get(|| async { "ready\n" }))
        .route("/metrics", get(metrics).with_state(metrics_server))
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata.clone()),
        )
        .route("/.well-known/oauth-protected-resource/mcp", get(metadata)))
}

async fn metrics(State(server): State<CorralServer>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        server.metrics().render(),
    )
        .into_response()
}

/// Refuses a request with 503 when the server already serves its limit.
async fn limit_requests(
    State(limit): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    match limit.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "server busy: too many requests in flight (retry, or raise server.http.max_concurrent_requests)\n",
        )
            .into_response(),
    }
}

fn load_tokens(settings: &HttpSettings) -> Result<Vec<TokenEntry>, HttpError> {
    let mut tokens = Vec::new();
    if let Some(path) = &settings.tokens_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| HttpError::Tokens(format!("cannot read {}: {e}", path.display())))?;
        tokens.extend(TokenAuth::parse_file(&text, path).map_err(HttpError::Tokens)?);
    }
    if let Some(name) = &settings.tokens_env {
        let value = std::env::var(name).map_err(|_| {
            HttpError::Tokens(format!(
                "the environment variable {name} (server.auth.tokens_env) is not set"
            ))
        })?;
        tokens.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| (t.to_owned(), None)),
        );
    }
    Ok(tokens)
}
