//! The stdio side of the load: one `corral serve` on stdio, its one MCP
//! session shared by every client (as an agent's tool calls share it), each
//! client sending one call at a time and waiting for its answer.
//!
//! A reader thread files every line the server writes under the request id
//! it answers, so an answer that comes twice, or for a call that was
//! cancelled, is counted, not just ignored.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

use super::plan::{Call, Kind};
use crate::front_door::{Corral, GUARD, Start};

/// What the server wrote, by request.
#[derive(Default)]
struct Book {
    /// Callers waiting for the answer to an id.
    waiting: HashMap<u64, oneshot::Sender<Value>>,
    /// How many answers each id got.
    answers: HashMap<u64, u32>,
    /// Lines that answer no numeric id, or are not JSON-RPC answers.
    strays: Vec<String>,
}

/// `corral serve` on stdio with an initialized session.
pub(super) struct StdioServer {
    /// The server process.
    pub server: Corral,
    stdin: tokio::sync::Mutex<tokio::process::ChildStdin>,
    book: Arc<Mutex<Book>>,
}

impl StdioServer {
    /// Starts the server on `config` and completes the `initialize`
    /// handshake (request id 0).
    pub(super) async fn start(config: &str) -> StdioServer {
        // Successful calls log their line at debug (`corral::calls`); the
        // settle step counts every call's line, so this server logs them all.
        let mut server = Corral::start(Start {
            config,
            env: &[("RUST_LOG", "info,corral::calls=debug")],
            ..Start::default()
        });
        let stdin = server.child().stdin.take().unwrap();
        let stdout = server.child().stdout.take().unwrap();
        let book = Arc::new(Mutex::new(Book::default()));
        {
            let book = book.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    file(&book, line);
                }
            });
        }
        let stdio = StdioServer {
            server,
            stdin: tokio::sync::Mutex::new(tokio::process::ChildStdin::from_std(stdin).unwrap()),
            book,
        };
        let answer = stdio
            .ask(
                0,
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "load-test", "version": "1"}}}),
            )
            .await
            .unwrap();
        assert!(answer["result"].is_object(), "{answer}");
        stdio
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        stdio
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        lock(&self.book)
    }

    async fn send(&self, message: &Value) {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        let mut stdin = self.stdin.lock().await;
        stdin.write_all(&line).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Sends `message`, a request with id `id`, and waits for its answer.
    pub(super) async fn ask(&self, id: u64, message: &Value) -> Result<Value, String> {
        let (tx, rx) = oneshot::channel();
        self.book().waiting.insert(id, tx);
        self.send(message).await;
        match tokio::time::timeout(GUARD, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => Err(format!("stdio: no answer to request {id} within {GUARD:?}")),
        }
    }

    /// Runs `call`: its answer for a call that gets one, none for a
    /// cancelled one (its request and the cancellation are written one
    /// after the other; lines are read in order, so the cancellation always
    /// finds the call in flight).
    pub(super) async fn run(&self, call: &Call) -> Result<Option<Value>, String> {
        match call.kind {
            Kind::Cancel => {
                self.send(&call.request("")).await;
                self.send(
                    &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": call.id, "reason": "load test"}}),
                )
                .await;
                Ok(None)
            }
            kind if kind.answered() => self.ask(call.id, &call.request("")).await.map(Some),
            kind => panic!("{kind} is not a stdio call"),
        }
    }

    /// How many answers each request got, by id.
    pub(super) fn answers(&self) -> HashMap<u64, u32> {
        self.book().answers.clone()
    }

    /// Lines that answered nothing this test asked.
    pub(super) fn strays(&self) -> Vec<String> {
        self.book().strays.clone()
    }
}

fn lock(book: &Mutex<Book>) -> MutexGuard<'_, Book> {
    book.lock().unwrap_or_else(|e| e.into_inner())
}

/// Files one line the server wrote.
fn file(book: &Mutex<Book>, line: String) {
    let message: Value = match serde_json::from_str(&line) {
        Ok(message) => message,
        Err(_) => {
            lock(book).strays.push(line);
            return;
        }
    };
    let id = message
        .get("id")
        .and_then(Value::as_u64)
        .filter(|_| message.get("method").is_none());
    let mut book = lock(book);
    let Some(id) = id else {
        book.strays.push(line);
        return;
    };
    *book.answers.entry(id).or_default() += 1;
    if let Some(waiter) = book.waiting.remove(&id) {
        let _ = waiter.send(message);
    }
}
