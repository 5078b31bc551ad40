//! The stdio transport: JSON-RPC on stdin and stdout, one message a line.
//!
//! stdout carries only protocol messages: logs go to stderr and guest output
//! is captured by the sandbox, never written here.
//!
//! stdin and stdout are read and written on two threads of their own, not
//! on tokio's blocking pool: guests' file I/O runs on that pool, and a
//! client that stops reading would otherwise hold one of its threads.
//!
//! ```text
//! stdin ─▶ reader thread: bounded lines (server.http.max_body_size),
//!          │  parse; unreadable lines, duplicate ids and requests beyond
//!          │  server.http.max_concurrent_requests answered with errors
//!          ▼
//!          rmcp service (the MCP handler)
//!          ▼
//! stdout ◀─ writer thread, fed through a short queue: a client that stops
//!           reading stops the server from taking requests, nothing grows
//! ```
//!
//! On end of input or a shutdown signal, no new request is taken; every
//! request in flight is answered and written before the server returns.

mod lines;
mod messages;
mod transport;

use std::io::Write;
use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::model::ClientJsonRpcMessage;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::CorralServer;
use crate::config::ServerSettings;
use lines::{Line, LineReader};
use messages::{INVALID_REQUEST, Parsed, SERVER_BUSY, error_line, find_id, id_value, parse};
use transport::{InFlight, Output, Refusal, StdioTransport, cancelled};

/// Admitted messages waiting for the MCP handler.
const INPUT_QUEUE: usize = 16;
/// Lines waiting for the writer thread.
const OUTPUT_QUEUE: usize = 16;

/// Failures of the stdio transport.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The MCP session could not start (for example a bad first message).
    #[error("the MCP session over stdio failed to start: {0}")]
    Start(String),
    /// The session ended abnormally.
    #[error("the MCP session over stdio ended abnormally: {0}")]
    Run(String),
}

/// Serves MCP on stdin/stdout until the client closes stdin or `shutdown`
/// is cancelled; then answers the requests in flight and returns.
pub async fn serve_stdio(
    server: CorralServer,
    settings: &ServerSettings,
    shutdown: CancellationToken,
) -> Result<(), StdioError> {
    let max_line = usize::try_from(settings.http.max_body_size).unwrap_or(usize::MAX);
    let in_flight = Arc::new(InFlight::new(
        settings.http.max_concurrent_requests as usize,
        server.metrics().open.requests.clone(),
    ));
    let (to_server, from_client) = mpsc::channel(INPUT_QUEUE);
    let (to_client, from_server) = mpsc::channel(OUTPUT_QUEUE);
    let output_closed = CancellationToken::new();
    {
        let in_flight = in_flight.clone();
        let to_client = to_client.clone();
        std::thread::Builder::new()
            .name("corral-stdin".into())
            .spawn(move || read(max_line, &in_flight, &to_server, &to_client))
            .map_err(|e| StdioError::Start(format!("cannot start the stdin thread: {e}")))?;
    }
    {
        let output_closed = output_closed.clone();
        std::thread::Builder::new()
            .name("corral-stdout".into())
            .spawn(move || {
                write(from_server);
                output_closed.cancel();
            })
            .map_err(|e| StdioError::Start(format!("cannot start the stdout thread: {e}")))?;
    }
    let transport = StdioTransport {
        from_client,
        to_client: to_client.clone(),
        in_flight,
        shutdown,
        output_closed: output_closed.clone(),
        input_ended: false,
        drain_timeout: settings.shutdown_timeout,
        drain_deadline: None,
    };
    let result = match server.serve(transport).await {
        Ok(running) => running
            .waiting()
            .await
            .map(drop)
            .map_err(|e| StdioError::Run(e.to_string())),
        Err(e) => Err(StdioError::Start(e.to_string())),
    };
    // Every answer is queued; wait until it is written.
    if to_client.send(Output::End).await.is_ok() {
        output_closed.cancelled().await;
    }
    result
}

/// The reader thread: lines from stdin to the handler, or error answers.
fn read(
    max_line: usize,
    in_flight: &InFlight,
    to_server: &mpsc::Sender<ClientJsonRpcMessage>,
    to_client: &mpsc::Sender<Output>,
) {
    let mut lines = LineReader::new(std::io::stdin().lock(), max_line);
    let answer = |line: Vec<u8>| to_client.blocking_send(Output::Line(line)).is_ok();
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!("cannot read stdin: {error}");
                return;
            }
        };
        let parsed = match line {
            Line::Complete(line) => parse(&line),
            Line::Oversize(head) => Parsed::Error(error_line(
                find_id(&head),
                INVALID_REQUEST,
                &format!(
                    "the message is larger than {max_line} bytes, the most this server reads \
                     (send smaller arguments, or raise server.http.max_body_size)"
                ),
            )),
        };
        let message = match parsed {
            Parsed::Message(message) => *message,
            Parsed::Error(line) => {
                if answer(line) {
                    continue;
                }
                return;
            }
            Parsed::Nothing => continue,
        };
        let admitted = match &message {
            ClientJsonRpcMessage::Request(request) => in_flight
                .admit(&request.id)
                .map_err(|refusal| (refusal, &request.id)),
            _ if in_flight.is_stopped() => return,
            _ => {
                if let Some(id) = cancelled(&message) {
                    in_flight.finish(id);
                }
                Ok(())
            }
        };
        match admitted {
            Ok(()) => {
                if to_server.blocking_send(message).is_err() {
                    return;
                }
            }
            Err((Refusal::Stopped, _)) => return,
            Err((Refusal::Busy(max), id)) => {
                let line = error_line(
                    id_value(id),
                    SERVER_BUSY,
                    &format!(
                        "server busy: {max} requests are in flight; wait for their answers before \
                         sending more (server.http.max_concurrent_requests bounds them over stdio too)"
                    ),
                );
                if !answer(line) {
                    return;
                }
            }
            Err((Refusal::Duplicate, id)) => {
                let line = error_line(
                    id_value(id),
                    INVALID_REQUEST,
                    &format!(
                        "request id {id} is already in use by a request in flight: give every \
                         request its own id"
                    ),
                );
                if !answer(line) {
                    return;
                }
            }
        }
    }
}

/// The writer thread: lines to stdout until the end, or until stdout fails.
fn write(mut from_server: mpsc::Receiver<Output>) {
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    while let Some(output) = from_server.blocking_recv() {
        let Output::Line(line) = output else { break };
        let written = stdout.write_all(&line).and_then(|()| {
            if from_server.is_empty() {
                stdout.flush()
            } else {
                Ok(())
            }
        });
        if let Err(error) = written {
            tracing::info!("stdout is closed ({error}): stopping");
            return;
        }
    }
    if let Err(error) = stdout.flush() {
        tracing::info!("cannot flush stdout: {error}");
    }
}
