//! The HTTP side of the load: one `corral serve --http`, each client in a
//! 2025-11-25 session of its own, reading every message of every answer
//! stream so that a second answer, or one for a cancelled call, is seen.
//!
//! The hang-ups need to know that the guest is running before the client
//! goes: their call is `tcp_connect` to the client's own listener, so the
//! guest's connection is the signal, and the guest's socket closing is the
//! proof that its instance is gone.

use std::collections::HashMap;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::plan::{Call, Kind};
use crate::front_door::{GUARD, Session, post_stateless, sse_messages};

/// One HTTP client: its session and the listener its `tcp_connect` calls
/// reach.
pub(super) struct HttpClient {
    session: Session,
    mcp: String,
    listener: TcpListener,
    address: String,
    /// How many answers each request got.
    pub answers: HashMap<u64, u32>,
    /// Messages on answer streams that answered nothing this client asked.
    pub strays: Vec<Value>,
}

impl HttpClient {
    /// Opens a session at `mcp` (`…/mcp`); `listener` is this client's own.
    pub(super) async fn open(mcp: &str, listener: TcpListener) -> HttpClient {
        let address = listener.local_addr().unwrap().to_string();
        HttpClient {
            session: Session::open(mcp, None).await,
            mcp: mcp.to_owned(),
            listener,
            address,
            answers: HashMap::new(),
            strays: Vec::new(),
        }
    }

    /// Ends the session; returns the listener for the next one.
    pub(super) async fn close(self) -> (TcpListener, HashMap<u64, u32>, Vec<Value>) {
        let response = self
            .session
            .request(reqwest::Method::DELETE)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "ending the session");
        (self.listener, self.answers, self.strays)
    }

    /// Files the messages of an answer stream; returns the answer to `id`.
    fn file(&mut self, id: u64, body: &str) -> Option<Value> {
        let mut answer = None;
        for message in sse_messages(body) {
            match message.get("id").and_then(Value::as_u64) {
                Some(n) if message.get("method").is_none() => {
                    *self.answers.entry(n).or_default() += 1;
                    if n == id {
                        answer = Some(message);
                    } else {
                        self.strays.push(message);
                    }
                }
                _ => self.strays.push(message),
            }
        }
        answer
    }

    /// Runs `call`: its answer, or none for a call that must get none.
    pub(super) async fn run(&mut self, call: &Call) -> Result<Option<Value>, String> {
        let request = call.request(&self.address);
        match call.kind {
            Kind::Cancel => {
                // In a session the answer stream opens at once: the call is
                // in the session, and the cancellation follows it there.
                let response = self.session.post(&request).await;
                expect_status(&response, 200, call)?;
                let cancelled = self
                    .session
                    .post(
                        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                  "params": {"requestId": call.id, "reason": "load test"}}),
                    )
                    .await;
                expect_status(&cancelled, 202, call)?;
                let body = within(call, "the cancelled call's stream to end", response.text())
                    .await?
                    .map_err(|e| format!("call {}: {e}", call.id))?;
                Ok(self.file(call.id, &body))
            }
            Kind::Disconnect => {
                // A 2026-07-28 call on a connection of its own, abandoned
                // once the guest runs: hanging up cancels it.
                let url = self.mcp.clone();
                let message = json!({"jsonrpc": "2.0", "id": call.id, "method": "tools/call",
                    "params": {"name": "tcp_connect", "arguments": request["params"]["arguments"],
                    "_meta": {
                        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                        "io.modelcontextprotocol/clientCapabilities": {},
                        "io.modelcontextprotocol/clientInfo": {"name": "load-test", "version": "1"}}}});
                let post = tokio::spawn(async move { post_stateless(&url, &message).await });
                let guest = self.guest_running(call).await?;
                post.abort();
                let _ = post.await;
                guest_gone(guest, call).await?;
                Ok(None)
            }
            Kind::DropStream => {
                let response = self.session.post(&request).await;
                expect_status(&response, 200, call)?;
                let mut guest = self.guest_running(call).await?;
                drop(response);
                // The client is gone from this call; the guest gets its
                // reply and finishes.
                guest
                    .write_all(b"pong\n")
                    .await
                    .map_err(|e| format!("call {}: cannot answer the guest: {e}", call.id))?;
                guest_gone(guest, call).await?;
                Ok(None)
            }
            _ => {
                let response = self.session.post(&request).await;
                expect_status(&response, 200, call)?;
                let body = within(call, "the answer", response.text())
                    .await?
                    .map_err(|e| format!("call {}: {e}", call.id))?;
                Ok(self.file(call.id, &body))
            }
        }
    }

    /// Waits for the guest of `call` to connect and say "ping".
    async fn guest_running(&self, call: &Call) -> Result<TcpStream, String> {
        let (mut guest, _) = within(call, "the guest to connect", self.listener.accept())
            .await?
            .map_err(|e| format!("call {}: accept: {e}", call.id))?;
        let mut ping = [0u8; 5];
        within(call, "the guest's ping", guest.read_exact(&mut ping))
            .await?
            .map_err(|e| format!("call {}: reading the guest's ping: {e}", call.id))?;
        if &ping != b"ping\n" {
            return Err(format!("call {}: the guest sent {ping:?}", call.id));
        }
        Ok(guest)
    }
}

/// Waits until the guest's end of `guest` closes: its call is over and its
/// instance dropped.
async fn guest_gone(mut guest: TcpStream, call: &Call) -> Result<(), String> {
    let mut rest = Vec::new();
    // A reset is as good as an end: the socket is gone either way.
    let _ = within(
        call,
        "the guest's socket to close",
        guest.read_to_end(&mut rest),
    )
    .await?;
    Ok(())
}

fn expect_status(response: &reqwest::Response, status: u16, call: &Call) -> Result<(), String> {
    if response.status() == status {
        Ok(())
    } else {
        Err(format!(
            "call {} ({}): HTTP {} instead of {status}",
            call.id,
            call.kind,
            response.status()
        ))
    }
}

/// `future`, or an error naming what `call` waited for beyond [`GUARD`].
async fn within<F: Future>(call: &Call, what: &str, future: F) -> Result<F::Output, String> {
    tokio::time::timeout(GUARD, future).await.map_err(|_| {
        format!(
            "call {} ({}): gave up waiting for {what}",
            call.id, call.kind
        )
    })
}
