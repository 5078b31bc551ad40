//! Accepting and keeping connections: bounded, timed out, and shed under
//! pressure so that a client that sends a whole request is served.
//!
//! `axum::serve` runs hyper without a timer and without a bound: a peer
//! that sends half a request holds its connection forever, and a few
//! hundred of them stop the server from accepting anyone. Here every
//! connection is registered (`registry.rs`) with its phase, waiting or
//! busy, and a watchdog closes a waiting one when its time is up:
//! `server.http.header_read_timeout` from the opening for the first request
//! and from the first byte for the next ones, `server.http.idle_timeout`
//! between requests. The answer to the last of
//! `server.http.max_requests_per_connection` requests says
//! `Connection: close`. Under pressure (`server.http.max_connections` open,
//! or accepting fails for want of descriptors) the oldest waiting
//! connection is closed to make room; a busy one never is. When every
//! connection is busy, a new one gets 503 with `Retry-After` and is closed.
//! The watchdog enforces both timeouts because hyper's own header timer
//! starts when a connection turns idle, which would make the idle time and
//! the header time one.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::Service;

use super::body::Guarded;
use super::limits::busy;
use super::registry::{Conn, OnConnection, Registry, Settings};
use crate::config::HttpSettings;
use crate::server::CorralServer;
use crate::server::metrics::Held;

/// Connections answered with 503 at once, beyond `max_connections`, when
/// every connection is busy; more are closed without an answer.
const MAX_REFUSALS: usize = 64;
/// How long a refused connection may take to send the request it gets 503 for.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a closed connection to free its descriptor before
/// accepting again.
const PRESSURE_PAUSE: Duration = Duration::from_millis(100);
/// How long a connection that ended with an answer keeps reading what its
/// client still sends (see [`linger`]).
const LINGER: Duration = Duration::from_secs(2);
/// The most a lingering connection reads before it closes anyway.
const LINGER_BYTES: usize = 1 << 20;
/// hyper's read buffer per connection (its default is about 400 KiB):
/// room for a request's headers, and what one connection can make the
/// server hold of a body nobody reads (a refused request's).
const READ_BUFFER: usize = 64 * 1024;

/// The connection side of the HTTP server.
pub(crate) struct Connections {
    settings: Settings,
    registry: Registry,
    draining: CancellationToken,
    server: CorralServer,
    refusals: AtomicUsize,
}

impl Connections {
    /// Connections as `settings` say; once `draining` is cancelled, every
    /// answer closes its connection.
    pub(crate) fn new(
        settings: &HttpSettings,
        draining: CancellationToken,
        server: CorralServer,
    ) -> Arc<Connections> {
        Arc::new(Connections {
            settings: Settings {
                max_connections: settings.max_connections as usize,
                header_read_timeout: settings.header_read_timeout,
                idle_timeout: settings.idle_timeout,
                max_requests: settings.max_requests_per_connection,
            },
            registry: Registry::default(),
            draining,
            server,
            refusals: AtomicUsize::new(0),
        })
    }

    /// Accepts connections on `listener` and serves `app` on them until
    /// `stop` is cancelled.
    pub(crate) async fn accept(
        self: Arc<Self>,
        listener: TcpListener,
        app: Router,
        stop: CancellationToken,
    ) {
        // A descriptor kept in reserve: when none is left, releasing it
        // lets the server accept one waiting client and close it cleanly
        // rather than leave it hanging.
        let mut spare = spare_descriptor();
        // Warn once per stretch of exhaustion, not at every retry.
        let mut warned = false;
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = stop.cancelled() => return,
            };
            match accepted {
                Ok((stream, _)) => {
                    warned = false;
                    self.admit(stream, &app);
                }
                Err(error) if is_out_of_resources(&error) => {
                    let closed = self.registry.closed.notified();
                    tokio::pin!(closed);
                    closed.as_mut().enable();
                    if self.registry.shed_oldest() {
                        self.server.metrics().refused("shed");
                    } else {
                        if !warned {
                            warned = true;
                            tracing::warn!(
                                "cannot accept a connection ({error}) and every connection is inside a \
                                 request: closing waiting clients unanswered (raise the descriptor limit, \
                                 `ulimit -n`, or lower server.http.max_connections)"
                            );
                        }
                        drop(spare.take());
                        if let Ok(Ok((stream, _))) =
                            tokio::time::timeout(PRESSURE_PAUSE, listener.accept()).await
                        {
                            self.server.metrics().refused("descriptors");
                            drop(stream);
                        }
                        spare = spare_descriptor();
                    }
                    tokio::select! {
                        () = closed => {}
                        () = tokio::time::sleep(PRESSURE_PAUSE) => {}
                        () = stop.cancelled() => return,
                    }
                }
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    tracing::warn!("cannot accept a connection: {error}");
                    tokio::select! {
                        () = tokio::time::sleep(PRESSURE_PAUSE) => {}
                        () = stop.cancelled() => return,
                    }
                }
            }
        }
    }

    /// Serves a new connection, making room for it or refusing it.
    fn admit(self: &Arc<Self>, stream: TcpStream, app: &Router) {
        // Without TCP_NODELAY, a response written in two segments (headers,
        // then the event-stream body) waits for the client's delayed ACK:
        // about 40 ms per call on a kept-alive connection.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
        }
        if self.registry.len() >= self.settings.max_connections {
            if self.registry.shed_oldest() {
                self.server.metrics().refused("shed");
            } else {
                self.refuse(stream);
                return;
            }
        }
        let conn = self.registry.add();
        tokio::spawn(self.clone().serve(stream, conn, app.clone()));
    }

    /// Serves one connection until it ends, times out or is shed.
    async fn serve(self: Arc<Self>, stream: TcpStream, conn: Arc<Conn>, app: Router) {
        let _open = Held::new(&self.server.metrics().open.connections);
        let io = TokioIo::new(Watched {
            stream,
            conn: conn.clone(),
            closed_by_client: false,
        });
        let service = ConnService {
            app,
            conn: conn.clone(),
            connections: self.clone(),
        };
        // Boxed, like the linger buffer below: this task's future is moved
        // whole when it is spawned, once per connection.
        let mut connection = Box::new(
            http1::Builder::new()
                .keep_alive(true)
                .max_buf_size(READ_BUFFER)
                .serve_connection(io, service),
        );
        let ended = tokio::select! {
            result = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => result,
            () = conn.watch(&self.settings) => {
                self.registry.remove(conn.id);
                return;
            }
        };
        match ended {
            // A client that closed its side has nothing left to send: close.
            Ok(()) => {
                let watched = (*connection).into_parts().io.into_inner();
                if !watched.closed_by_client {
                    tokio::select! {
                        () = linger(watched.stream, LINGER) => {}
                        () = conn.watch(&self.settings) => {}
                    }
                }
            }
            Err(error) => tracing::debug!("connection ended: {error}"),
        }
        self.registry.remove(conn.id);
    }

    /// Answers a connection that finds every connection busy with 503 and
    /// closes it; beyond [`MAX_REFUSALS`] at once, closes it unanswered.
    fn refuse(self: &Arc<Self>, stream: TcpStream) {
        self.server.metrics().refused("connections");
        if self.refusals.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSALS {
            self.refusals.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let connections = self.clone();
        let max = self.settings.max_connections;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |_request: Request<Incoming>| async move {
                    let mut response = busy(&format!(
                        "server busy: all {max} connections are inside a request (retry later, or raise \
                     server.http.max_connections)"
                    ));
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    Ok::<_, Infallible>(response)
                },
            );
            let answered = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(REFUSAL_TIMEOUT)
                .keep_alive(false)
                .max_buf_size(READ_BUFFER)
                .serve_connection(TokioIo::new(stream), service)
                .without_shutdown()
                .await;
            match answered {
                Ok(parts) => linger(parts.io.into_inner(), REFUSAL_TIMEOUT).await,
                Err(error) => tracing::debug!("refused connection ended: {error}"),
            }
            connections.refusals.fetch_sub(1, Ordering::Relaxed);
        });
    }

    /// When the drain begins: closes the kept-alive connections that wait
    /// for a next request. The others get `Connection: close` on their
    /// answers (a new request, 503), then close.
    pub(crate) fn drain(&self) {
        self.registry.shed_idle();
    }

    /// After the drain: closes every connection not inside a request and
    /// waits until the others have finished their answers.
    pub(crate) async fn close(&self) {
        loop {
            let closed = self.registry.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            self.registry.shed_all();
            if self.registry.len() == 0 {
                return;
            }
            closed.await;
        }
    }
}

/// The service hyper calls for each request on one connection.
struct ConnService {
    app: Router,
    conn: Arc<Conn>,
    connections: Arc<Connections>,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let Some(served) = self.conn.begin_request() else {
            // Shed while its request arrived: tell the client to retry.
            let mut response =
                busy("server busy: this connection was closed to make room (retry on a new one)");
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Box::pin(std::future::ready(Ok(response)));
        };
        let on_connection = OnConnection(self.conn.clone());
        let last = served >= self.connections.settings.max_requests;
        let draining = self.connections.draining.clone();
        let mut app = self.app.clone();
        Box::pin(async move {
            let Ok(mut response) = app.call(request).await;
            if last || draining.is_cancelled() {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| Guarded::body(body, on_connection)))
        })
    }
}

/// A TCP stream that tells its connection when bytes arrive, and remembers
/// when its client closed its side.
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
    closed_by_client: bool,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) {
            if buf.filled().len() > before {
                this.conn.saw_bytes();
            } else if room {
                this.closed_by_client = true;
            }
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Closes a connection whose last answer is written without losing that
/// answer: stops writing, then reads and discards what the client still
/// sends (the rest of a refused request's body) for up to `time`. Closing a
/// socket with unread data would reset the connection, and a client whose
/// connection is reset may never read the answer (a 503 saying to retry).
async fn linger(mut stream: TcpStream, time: Duration) {
    if stream.shutdown().await.is_err() {
        return;
    }
    // On the heap, not in this function's state: the connection task's
    // future would carry 8 KiB, which tokio copies at every spawn.
    let mut buffer = vec![0u8; 8192];
    let mut left = LINGER_BYTES;
    let _ = tokio::time::timeout(time, async {
        while left > 0 {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// A descriptor held in reserve (see [`Connections::accept`]).
fn spare_descriptor() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

/// Accepting failed for want of descriptors or memory: room must be made.
fn is_out_of_resources(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Accepting failed for reasons of one connection only (it was reset or
/// aborted before it was accepted).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
