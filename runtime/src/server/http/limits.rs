//! What `/mcp` requests may hold at once: a count and a byte budget, both
//! held until the answer ends, and no new work while the server drains.
//!
//! A request takes one of `server.http.max_concurrent_requests` permits and
//! reserves its body's size (its `Content-Length`, or the largest body
//! allowed when it names none) from `server.http.max_body_bytes_in_flight`.
//! Both stay taken until the response body ends (a streamed answer's last
//! event), not until its headers leave, and until the MCP handler is done
//! with the request: the admission rides in the request's extensions, which
//! rmcp hands to the handler, so a client that hangs up on a session's
//! streamed answer (the call goes on, for a later resume) does not free
//! them early. Beyond either bound, the request gets 503 with `Retry-After`
//! before its body is read. GET streams (a session's notification channel)
//! and DELETE (ending a session) take neither: they do no work, and
//! sessions bound them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::body::Guarded;
use crate::config::HttpSettings;
use crate::server::CorralServer;
use crate::server::metrics::Held;

/// The budget is counted in KiB so that it fits a semaphore's `u32`
/// acquisitions for any configurable size.
const UNIT: u64 = 1024;

/// The shared limits of the `/mcp` endpoint.
pub(crate) struct RequestLimits {
    requests: Arc<Semaphore>,
    max_requests: u32,
    bytes: Arc<Semaphore>,
    max_bytes: u64,
    max_body: u64,
    draining: CancellationToken,
    server: CorralServer,
}

/// What one admitted request holds until its answer ends.
struct Admission {
    _request: OwnedSemaphorePermit,
    _bytes: OwnedSemaphorePermit,
    _gauge: Held,
}

/// A request's admission, shared by its answer's body and by the request
/// itself (its extensions reach the MCP handler): released when both are
/// done.
#[derive(Clone)]
struct Admitted {
    _held: Arc<Admission>,
}

impl RequestLimits {
    /// Limits from `settings`; `draining` refuses new work once cancelled.
    pub(crate) fn new(
        settings: &HttpSettings,
        draining: CancellationToken,
        server: CorralServer,
    ) -> RequestLimits {
        let units = settings.max_body_bytes_in_flight.div_ceil(UNIT);
        RequestLimits {
            requests: Arc::new(Semaphore::new(settings.max_concurrent_requests as usize)),
            max_requests: settings.max_concurrent_requests,
            bytes: Arc::new(Semaphore::new(
                usize::try_from(units).unwrap_or(Semaphore::MAX_PERMITS),
            )),
            max_bytes: settings.max_body_bytes_in_flight,
            max_body: settings.max_body_size,
            draining,
            server,
        }
    }

    /// Waits until no request holds a permit (every answer has ended).
    pub(crate) async fn idle(&self) {
        if let Ok(all) = self.requests.acquire_many(self.max_requests).await {
            drop(all);
        }
    }

    /// The bytes a request reserves: its declared length, else the most it
    /// may send.
    fn reservation(&self, request: &Request) -> u64 {
        request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(self.max_body, |length| length.min(self.max_body))
            .div_ceil(UNIT)
            .max(1)
    }

    fn admit(&self, request: &Request) -> Result<Admission, Refusal> {
        if self.draining.is_cancelled() {
            return Err(Refusal::Draining);
        }
        let request_permit = self
            .requests
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Requests)?;
        let units = u32::try_from(self.reservation(request)).unwrap_or(u32::MAX);
        let bytes = self
            .bytes
            .clone()
            .try_acquire_many_owned(units)
            .map_err(|_| Refusal::Bytes)?;
        Ok(Admission {
            _request: request_permit,
            _bytes: bytes,
            _gauge: Held::new(&self.server.metrics().open.requests),
        })
    }

    /// The 503 answering `refusal`, counted in the metrics.
    fn refuse(&self, refusal: Refusal) -> Response {
        let (reason, message) = match refusal {
            Refusal::Draining => (
                "draining",
                "the server is shutting down: it finishes the requests in flight and takes no new ones \
                 (retry against another instance, or once it is back)"
                    .to_owned(),
            ),
            Refusal::Requests => (
                "requests",
                format!(
                    "server busy: {} requests are in flight (retry later, or raise \
                     server.http.max_concurrent_requests)",
                    self.max_requests
                ),
            ),
            Refusal::Bytes => (
                "body_bytes",
                format!(
                    "server busy: the request bodies in flight already take most of the {} allowed \
                     (retry later, send smaller requests, or raise server.http.max_body_bytes_in_flight)",
                    bytesize::ByteSize(self.max_bytes).display().iec()
                ),
            ),
        };
        self.server.metrics().refused(reason);
        busy(&message)
    }
}

/// Why a request was not admitted.
enum Refusal {
    /// The server drains.
    Draining,
    /// `max_concurrent_requests` are in flight.
    Requests,
    /// The bodies in flight leave no room for this one.
    Bytes,
}

/// A 503 with `Retry-After` and a message saying what to do. It closes the
/// connection: the refused request's body was never read, so the
/// connection cannot carry another request (a client that reused it would
/// see its next request fail as an incomplete message).
pub(crate) fn busy(message: &str) -> Response {
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, format!("{message}\n")).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The middleware: admits a request or answers 503; an admitted request's
/// answer carries its permits until it ends.
pub(crate) async fn limit_requests(
    State(limits): State<Arc<RequestLimits>>,
    mut request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::DELETE) {
        if limits.draining.is_cancelled() {
            return limits.refuse(Refusal::Draining);
        }
        return next.run(request).await;
    }
    match limits.admit(&request) {
        Ok(admission) => {
            let admitted = Admitted {
                _held: Arc::new(admission),
            };
            request.extensions_mut().insert(admitted.clone());
            next.run(request)
                .await
                .map(|body| Guarded::body(body, admitted))
        }
        Err(refusal) => limits.refuse(refusal),
    }
}
