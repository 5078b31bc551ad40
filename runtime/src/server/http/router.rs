//! The HTTP application, assembled in one place, read top to bottom.
//!
//! Every route is behind the Host check. `/mcp` is rmcp's
//! `StreamableHttpService` (both protocol generations, Origin checked, body
//! size bounded) behind, in order: the bearer check when tokens are
//! configured, the request limits (count and bytes, held until the answer
//! ends; 503 while draining), the session guard (owners, bound, 204 on
//! DELETE) and the time to a response (504). `/metrics` is behind the same
//! bearer check; `/healthz`, `/readyz` and the RFC 9728 metadata are open.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::combinators::BoxBody;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower::Service;

use super::HttpError;
use super::host::{AllowedHosts, check_host};
use super::limits::{RequestLimits, limit_requests};
use super::sessions::{SessionTable, Sessions, expire_idle, guard_sessions};
use crate::config::HttpSettings;
use crate::server::CorralServer;
use crate::server::auth::{self, Principal, require_token};

/// The application and the handles the server needs to drain it.
pub(crate) struct App {
    /// The routes.
    pub(crate) router: Router,
    /// The `/mcp` limits, idle once every admitted request has its answer.
    pub(crate) limits: Arc<RequestLimits>,
}

/// Where the server is reached and when it stops.
pub(crate) struct Serving {
    /// The bound address.
    pub(crate) local: std::net::SocketAddr,
    /// Cancelled when the drain begins: no new requests.
    pub(crate) draining: CancellationToken,
    /// Cancelled when the drain ends: sessions and their streams close.
    pub(crate) closing: CancellationToken,
}

impl App {
    /// The whole application for `server`, configured by `settings`.
    pub(crate) fn new(
        server: CorralServer,
        settings: &HttpSettings,
        serving: &Serving,
    ) -> Result<App, HttpError> {
        let local = serving.local;
        let auth = auth::load(settings, local).map_err(HttpError::Tokens)?;
        if auth.is_none() && !local.ip().is_loopback() && !settings.allow_unauthenticated {
            return Err(HttpError::Unauthenticated(local));
        }

        let origins: Vec<String> = if settings.allowed_origins.is_empty() {
            ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
                .map(String::from)
                .to_vec()
        } else {
            settings.allowed_origins.clone()
        };
        // Sessions and streamed answers end when the drain is over, not when
        // it begins: answers in flight must still reach their clients.
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(AllowedHosts::names(&settings.allowed_hosts))
            .with_allowed_origins(origins)
            .with_max_request_body_bytes(
                usize::try_from(settings.max_body_size).unwrap_or(usize::MAX),
            )
            .with_cancellation_token(serving.closing.clone());
        let table = Arc::new(SessionTable::new(settings, server.clone()));
        let sessions = Arc::new(Sessions::new(table.clone()));
        tokio::spawn(expire_idle(
            Arc::downgrade(&sessions),
            settings.session_idle_timeout,
        ));
        let mcp_server = server.clone();
        let mcp = SharedMcp(Arc::new(StreamableHttpService::new(
            move || Ok(mcp_server.for_session()),
            sessions,
            config,
        )));
        let limits = Arc::new(RequestLimits::new(
            settings,
            serving.draining.clone(),
            server.clone(),
        ));

        let mut mcp = Router::new()
            .nest_service("/mcp", mcp)
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::GATEWAY_TIMEOUT,
                settings.request_timeout,
            ))
            .layer(middleware::from_fn_with_state(table, guard_sessions))
            .layer(middleware::from_fn_with_state(
                limits.clone(),
                limit_requests,
            ));
        let mut metrics = Router::new().route("/metrics", get(metrics).with_state(server));
        if let Some(auth) = auth {
            let auth = Arc::new(auth);
            mcp = mcp.layer(middleware::from_fn_with_state(auth.clone(), require_token));
            metrics = metrics.layer(middleware::from_fn_with_state(auth, require_token));
        }

        let resource = serde_json::json!({
            "resource": settings.resource_url(local),
            "authorization_servers": settings.authorization_servers,
            "bearer_methods_supported": ["header"],
        });
        let metadata = move || {
            let resource = resource.clone();
            async move { axum::Json(resource) }
        };
        let draining = serving.draining.clone();
        let hosts = Arc::new(AllowedHosts::new(&settings.allowed_hosts));
        let router = Router::new()
            .merge(mcp)
            .merge(metrics)
            .route("/healthz", get(|| async { "ok\n" }))
            // Every component is compiled and loaded before the listener
            // opens, so a server that answers is ready until it drains.
            .route(
                "/readyz",
                get(move || {
                    let draining = draining.is_cancelled();
                    async move {
                        if draining {
                            (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
                        } else {
                            (StatusCode::OK, "ready\n")
                        }
                    }
                }),
            )
            .route(
                "/.well-known/oauth-protected-resource",
                get(metadata.clone()),
            )
            .route("/.well-known/oauth-protected-resource/mcp", get(metadata))
            .layer(middleware::from_fn_with_state(hosts, check_host));
        Ok(App { router, limits })
    }
}

/// rmcp's service behind one `Arc`. Every layer above it clones the
/// service beneath it for each request (axum's middleware and routes do),
/// and rmcp's own clone copies its whole configuration (the allowed hosts
/// and origins, string by string): about 11 000 instructions of a request
/// that this makes an atomic increment (bench/RESULTS.md).
#[derive(Clone)]
struct SharedMcp(Arc<StreamableHttpService<CorralServer, Sessions>>);

impl Service<Request> for SharedMcp {
    type Response = Response<BoxBody<Bytes, Infallible>>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let mcp = self.0.clone();
        Box::pin(async move { Ok(mcp.handle(request).await) })
    }
}

/// `/metrics`, as the request's principal may see it.
async fn metrics(State(server): State<CorralServer>, request: Request) -> Response {
    let principal = request
        .extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        server.metrics().render_for(&principal),
    )
        .into_response()
}
