//! The rmcp transport over the reader and writer threads, and the book of
//! requests in flight.
//!
//! The reader thread admits a request only while fewer than the bound are
//! in flight and its id is not already in use; otherwise it answers with
//! an error itself. A request stays in flight until its answer is queued
//! for the writer, or until the reader reads its cancellation (rmcp then
//! drops the answer): lines are accounted in the order they are read.
//! When input ends or a shutdown begins, no request is admitted any more,
//! and `receive` reports the end only once every request in flight has its
//! answer queued, so nothing admitted is lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::metrics::gauge::Gauge;
use rmcp::RoleServer;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, JsonRpcMessage, RequestId, ServerJsonRpcMessage,
};
use rmcp::transport::Transport;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

/// What goes to the writer thread.
pub(super) enum Output {
    /// One line, line break included.
    Line(Vec<u8>),
    /// Everything is written: flush and stop.
    End,
}

/// Why a request was not admitted.
pub(super) enum Refusal {
    /// The bound of requests in flight is reached.
    Busy(usize),
    /// A request with this id is in flight.
    Duplicate,
    /// Input ended or a shutdown began.
    Stopped,
}

struct Book {
    ids: HashSet<RequestId>,
    stopped: bool,
}

/// The requests in flight.
pub(super) struct InFlight {
    book: Mutex<Book>,
    emptied: Notify,
    max: usize,
    gauge: Gauge,
}

impl InFlight {
    /// At most `max` requests in flight, counted in `gauge`.
    pub(super) fn new(max: usize, gauge: Gauge) -> InFlight {
        InFlight {
            book: Mutex::new(Book {
                ids: HashSet::new(),
                stopped: false,
            }),
            emptied: Notify::new(),
            max: max.max(1),
            gauge,
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, book: &Book) {
        self.gauge
            .set(i64::try_from(book.ids.len()).unwrap_or(i64::MAX));
        if book.ids.is_empty() {
            self.emptied.notify_waiters();
        }
    }

    /// Admits request `id`, or says why not.
    pub(super) fn admit(&self, id: &RequestId) -> Result<(), Refusal> {
        let mut book = self.book();
        if book.stopped {
            return Err(Refusal::Stopped);
        }
        if book.ids.contains(id) {
            return Err(Refusal::Duplicate);
        }
        if book.ids.len() >= self.max {
            return Err(Refusal::Busy(self.max));
        }
        book.ids.insert(id.clone());
        self.count(&book);
        Ok(())
    }

    /// Whether requests are still admitted.
    pub(super) fn is_stopped(&self) -> bool {
        self.book().stopped
    }

    /// Request `id` has its answer (or was cancelled).
    pub(super) fn finish(&self, id: &RequestId) {
        let mut book = self.book();
        if book.ids.remove(id) {
            self.count(&book);
        }
    }

    /// Admits no more requests.
    fn stop(&self) {
        self.book().stopped = true;
    }

    /// Returns once no request is in flight.
    async fn empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.book().ids.is_empty() {
                return;
            }
            emptied.await;
        }
    }
}

/// stdout is gone: the client stopped reading or closed it.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to stdout: the client closed it")]
pub(crate) struct OutputClosed;

/// The transport rmcp serves on.
pub(super) struct StdioTransport {
    /// Admitted messages from the reader thread; closed at end of input.
    pub(super) from_client: mpsc::Receiver<ClientJsonRpcMessage>,
    /// Lines for the writer thread.
    pub(super) to_client: mpsc::Sender<Output>,
    /// The requests in flight.
    pub(super) in_flight: Arc<InFlight>,
    /// Cancelled when a shutdown begins.
    pub(super) shutdown: CancellationToken,
    /// Cancelled when the writer thread stops.
    pub(super) output_closed: CancellationToken,
    /// Whether the reader thread has stopped.
    pub(super) input_ended: bool,
    /// How long the requests in flight may take once input has ended.
    pub(super) drain_timeout: std::time::Duration,
    /// When the requests in flight stop being waited for, once input ended.
    pub(super) drain_deadline: Option<tokio::time::Instant>,
}

/// The request a cancellation names: rmcp sends no answer to a cancelled
/// request, so it is no longer in flight once the cancellation is read.
pub(super) fn cancelled(message: &ClientJsonRpcMessage) -> Option<&RequestId> {
    match message {
        JsonRpcMessage::Notification(notification) => match &notification.notification {
            ClientNotification::CancelledNotification(cancelled) => {
                cancelled.params.request_id.as_ref()
            }
            _ => None,
        },
        _ => None,
    }
}

impl Transport<RoleServer> for StdioTransport {
    type Error = OutputClosed;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), OutputClosed>> + Send + 'static {
        let to_client = self.to_client.clone();
        let in_flight = self.in_flight.clone();
        async move {
            let answered = match &item {
                JsonRpcMessage::Response(response) => Some(response.id.clone()),
                JsonRpcMessage::Error(error) => error.id.clone(),
                _ => None,
            };
            let line = serde_json::to_vec(&item).map(|mut line| {
                line.push(b'\n');
                line
            });
            drop(item);
            let sent = match line {
                Ok(line) => to_client
                    .send(Output::Line(line))
                    .await
                    .map_err(|_| OutputClosed),
                Err(error) => {
                    tracing::error!("cannot encode an answer: {error}");
                    Ok(())
                }
            };
            if let Some(id) = answered {
                in_flight.finish(&id);
            }
            sent
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            let stopping = self.input_ended || self.shutdown.is_cancelled();
            if stopping {
                self.in_flight.stop();
            }
            // After a shutdown signal the caller bounds the wait; after the
            // end of input, this does, so that an answer that never comes
            // cannot keep the process alive.
            let deadline = self
                .drain_deadline
                .unwrap_or_else(|| tokio::time::Instant::now() + self.drain_timeout);
            tokio::select! {
                message = self.from_client.recv(), if !self.input_ended => match message {
                    Some(message) => return Some(message),
                    None => {
                        self.input_ended = true;
                        self.drain_deadline = Some(deadline);
                    }
                },
                () = self.in_flight.empty(), if stopping => return None,
                () = tokio::time::sleep_until(deadline), if self.drain_deadline.is_some() => {
                    tracing::warn!(
                        "requests in flight were still unanswered {} after the end of input; stopping \
                         without them (server.shutdown_timeout)",
                        humantime::format_duration(self.drain_timeout)
                    );
                    return None;
                }
                () = self.shutdown.cancelled(), if !stopping => {}
                () = self.output_closed.cancelled() => return None,
            }
        }
    }

    async fn close(&mut self) -> Result<(), OutputClosed> {
        Ok(())
    }
}
