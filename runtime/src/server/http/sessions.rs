//! Sessions (2025-11-25 clients): each belongs to the principal that opened
//! it, their number is bounded, and an idle one ends.
//!
//! rmcp's `LocalSessionManager` keys sessions by id alone, so anyone who
//! learns an id could act in the session or end it. [`Sessions`] wraps it
//! and keeps a table of who opened each session; the [`guard_sessions`]
//! middleware answers 404, as for an unknown session, to every request that
//! names a session its principal did not open. A session ends once it has
//! had no request in flight for `server.http.session_idle_timeout`, and
//! beyond `server.http.max_sessions` a new one gets 503. Ending a session
//! answers 204: the Python SDK accepts only 200 and 204, every other SDK
//! any 2xx.
//!
//! The idle timeout is Corral's, not rmcp's: rmcp's keep-alive counts only
//! the time since a session's last message, so it ended a session whose
//! call ran (or waited for a call slot) longer than the timeout, and the
//! call's answer was lost. Every request naming a session carries a
//! [`Busy`] mark in its extensions, which rmcp hands to the handler with
//! the request; the session is idle only while no mark is alive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

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

/// One open session.
struct Record {
    owner: Claim,
    /// Requests naming the session that are being served.
    in_flight: usize,
    /// When a request last began or ended (or the session opened).
    last_seen: Instant,
}

impl Record {
    fn new() -> Record {
        Record {
            owner: None,
            in_flight: 0,
            last_seen: Instant::now(),
        }
    }
}

/// The open sessions, their owners and their requests in flight.
pub(crate) struct SessionTable {
    sessions: Mutex<HashMap<Arc<str>, Record>>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Record>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_full(&self) -> bool {
        self.lock().len() >= self.max
    }

    /// Whether `owner` opened session `id`.
    fn owned_by(&self, id: &str, owner: Option<&Arc<str>>) -> bool {
        matches!(self.lock().get(id), Some(Record { owner: Some(o), .. }) if o.as_ref() == owner)
    }

    /// Records `owner` as the opener of the session `id` being opened.
    fn claim(&self, id: &str, owner: Option<Arc<str>>) {
        if let Some(Record {
            owner: claim @ None,
            ..
        }) = self.lock().get_mut(id)
        {
            *claim = Some(owner);
        }
    }

    /// Marks a request of session `id` as in flight until the mark and
    /// every clone of it are dropped.
    fn busy(self: &Arc<Self>, id: &str) -> Busy {
        let id: Arc<str> = id.into();
        if let Some(record) = self.lock().get_mut(&id) {
            record.in_flight += 1;
            record.last_seen = Instant::now();
        }
        Busy {
            _mark: Arc::new(BusyMark {
                table: Arc::downgrade(self),
                id,
            }),
        }
    }

    /// The sessions with no request in flight for `timeout` or longer.
    fn idle(&self, timeout: Duration) -> Vec<Arc<str>> {
        self.lock()
            .iter()
            .filter(|(_, r)| r.in_flight == 0 && r.last_seen.elapsed() >= timeout)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn update_gauge(&self, open: usize) {
        self.server
            .metrics()
            .open
            .sessions
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }
}

/// A request of a session in flight: the session is not idle while this,
/// or a clone of it, lives. It rides in the request's extensions, which
/// rmcp gives the handler with the request, so it lives until the request
/// has its answer (or is cancelled).
#[derive(Clone)]
pub(crate) struct Busy {
    _mark: Arc<BusyMark>,
}

struct BusyMark {
    table: Weak<SessionTable>,
    id: Arc<str>,
}

impl Drop for BusyMark {
    fn drop(&mut self) {
        let Some(table) = self.table.upgrade() else {
            return;
        };
        if let Some(record) = table.lock().get_mut(&self.id) {
            record.in_flight = record.in_flight.saturating_sub(1);
            record.last_seen = Instant::now();
        }
    }
}

/// rmcp's in-memory sessions, bounded and with owners.
pub(crate) struct Sessions {
    inner: LocalSessionManager,
    table: Arc<SessionTable>,
}

impl Sessions {
    /// Sessions recorded in `table`. rmcp's keep-alive is off: it would end
    /// a session with a long call in flight; [`expire_idle`] ends the idle
    /// ones instead.
    ///
    /// rmcp drops a request's stream once it is answered, but keeps the
    /// stream of a cancelled request (about 3 KiB) for `completed_cache_ttl`,
    /// 60 s by default, so that a client could resume it and read that
    /// nothing more comes. A session cancelling calls in a loop then made the
    /// server hold memory in proportion to how fast it cancelled. With no
    /// time to live, the session drops each at its next message.
    pub(crate) fn new(table: Arc<SessionTable>) -> Sessions {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = None;
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
            sessions.insert(id.clone(), Record::new());
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

/// Ends every session that has had no request in flight for `timeout`,
/// checking four times per timeout, until `sessions` is dropped.
pub(crate) async fn expire_idle(sessions: Weak<Sessions>, timeout: Duration) {
    let mut ticks = tokio::time::interval((timeout / 4).max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        for id in sessions.table.idle(timeout) {
            tracing::debug!(session = %id, "ending an idle session");
            if let Err(error) = sessions.close_session(&id).await {
                tracing::warn!(session = %id, "cannot end an idle session: {error}");
            }
        }
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
            request.extensions_mut().insert(table.busy(&id));
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
