//! Sessions (2025-11-25 clients): each belongs to the principal that opened
//! it, their number is bounded, and an idle one ends.
//!
//! rmcp's `LocalSessionManager` keys sessions by id alone, so anyone who
//! learns an id could act in the session or end it. [`Sessions`] wraps it
//! and keeps a table of who opened each session; the [`guard_sessions`]
//! middleware answers 404, as for an unknown session, to every request that
//! names a session its principal did not open. A session that gets no
//! request for `server.http.session_idle_timeout` ends (rmcp's keep-alive),
//! and beyond `server.http.max_sessions` a new one gets 503. Ending a
//! session answers 204: the Python SDK accepts only 200 and 204, every
//! other SDK any 2xx.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{ServerSseMessage, SessionId};

use super::limits::busy;
use crate::config::HttpSettings;
use crate::server::CorralServer;
use crate::server::auth::Principal;

/// The header that names a session.
const SESSION_HEADER: &str = "mcp-session-id";

/// Who opened a session: `None` while it is being opened; inside, the
/// principal's owner name (`None` without authentication).
type Claim = Option<Option<Arc<str>>>;

/// The open sessions and their owners.
pub(crate) struct SessionTable {
    sessions: Mutex<HashMap<Arc<str>, Claim>>,
    max: usize,
    max_body: u64,
    server: CorralServer,
}

impl SessionTable {
    /// An empty table bounded as `settings` say.
    pub(crate) fn new(settings: &HttpSettings, server: CorralServer) -> SessionTable {
        SessionTable {
            sessions: Mutex::new(HashMap::new()),
            max: settings.max_sessions as usize,
            max_body: settings.max_body_size,
            server,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Claim>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_full(&self) -> bool {
        self.lock().len() >= self.max
    }

    /// Whether `owner` opened session `id`.
    fn owned_by(&self, id: &str, owner: Option<&Arc<str>>) -> bool {
        matches!(self.lock().get(id), Some(Some(o)) if o.as_ref() == owner)
    }

    /// Records `owner` as the opener of the session `id` being opened.
    fn claim(&self, id: &str, owner: Option<Arc<str>>) {
        if let Some(claim @ None) = self.lock().get_mut(id) {
            *claim = Some(owner);
        }
    }

    fn update_gauge(&self, open: usize) {
        self.server
            .metrics()
            .open
            .sessions
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }
}

/// rmcp's in-memory sessions, bounded and with owners.
pub(crate) struct Sessions {
    inner: LocalSessionManager,
    table: Arc<SessionTable>,
}

impl Sessions {
    /// Sessions that end after `settings.session_idle_timeout` without a
    /// request, recorded in `table`.
    ///
    /// rmcp drops a request's stream once it is answered, but keeps the
    /// stream of a cancelled request (about 3 KiB) for `completed_cache_ttl`,
    /// 60 s by default, so that a client could resume it and read that
    /// nothing more comes. A session cancelling calls in a loop then made the
    /// server hold memory in proportion to how fast it cancelled. With no
    /// time to live, the session drops each at its next message.
    pub(crate) fn new(settings: &HttpSettings, table: Arc<SessionTable>) -> Sessions {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = Some(settings.session_idle_timeout);
        inner.session_config.completed_cache_ttl = Duration::ZERO;
        Sessions { inner, table }
    }
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionsError {
    /// `server.http.max_sessions` sessions are open.
    #[error(
        "too many sessions are open ({0}): retry later, end unused sessions, \
         or raise server.http.max_sessions"
    )]
    Full(usize),
    /// rmcp's session manager failed.
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

impl SessionManager for Sessions {
    type Error = SessionsError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), SessionsError> {
        if self.table.is_full() {
            self.table.server.metrics().refused("sessions");
            return Err(SessionsError::Full(self.table.max));
        }
        let (id, transport) = self.inner.create_session().await?;
        let open = {
            let mut sessions = self.table.lock();
            sessions.insert(id.clone(), None);
            sessions.len()
        };
        self.table.update_gauge(open);
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, SessionsError> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, SessionsError> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), SessionsError> {
        let open = {
            let mut sessions = self.table.lock();
            sessions.remove(id);
            sessions.len()
        };
        self.table.update_gauge(open);
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, SessionsError> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), SessionsError> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, SessionsError> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, SessionsError> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }
}

/// 404, as for a session that does not exist: a principal learns nothing
/// about sessions it did not open.
fn unknown_session() -> Response {
    (
        StatusCode::NOT_FOUND,
        "Not Found: no such session (it ended, expired, or was opened with other credentials); \
         start a new one with initialize\n",
    )
        .into_response()
}

/// Whether `body` is a JSON-RPC `initialize` request (the one request that
/// opens a session).
fn is_initialize(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Peek {
        method: Option<String>,
    }
    serde_json::from_slice::<Peek>(body).is_ok_and(|p| p.method.as_deref() == Some("initialize"))
}

/// The middleware: only a session's owner reaches it; a new session past
/// the bound gets 503; a new session is recorded as its opener's.
pub(crate) async fn guard_sessions(
    State(table): State<Arc<SessionTable>>,
    mut request: Request,
    next: Next,
) -> Response {
    let owner = request
        .extensions()
        .get::<Principal>()
        .and_then(|p| p.owner().cloned());
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .map(|v| v.to_str().map(str::to_owned));
    match session {
        Some(Ok(id)) => {
            if !table.owned_by(&id, owner.as_ref()) {
                return unknown_session();
            }
            let ending = request.method() == Method::DELETE;
            let mut response = next.run(request).await;
            if ending && response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::NO_CONTENT;
            }
            return response;
        }
        Some(Err(_)) => return unknown_session(),
        None => {}
    }
    if request.method() == Method::POST && table.is_full() {
        // Only an `initialize` opens a session: look before refusing, so
        // that stateless requests still pass.
        let (parts, body) = request.into_parts();
        let limit = usize::try_from(table.max_body).unwrap_or(usize::MAX);
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than server.http.max_body_size\n",
            )
                .into_response();
        };
        if is_initialize(&bytes) {
            table.server.metrics().refused("sessions");
            return busy(&format!(
                "too many sessions are open ({}): retry later, end unused sessions, \
                 or raise server.http.max_sessions",
                table.max
            ));
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let response = next.run(request).await;
    if let Some(id) = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        table.claim(id, owner);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_initialize_opens_a_session() {
        assert!(is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(!is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        ));
        assert!(!is_initialize(b"not json"));
    }
}
