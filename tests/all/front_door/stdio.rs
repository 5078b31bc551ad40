//! stdio under abuse: oversize lines, invalid UTF-8 and malformed JSON,
//! floods of requests, duplicate ids and a client that stops reading. Each
//! gets a JSON-RPC error or bounded buffering, and the server keeps serving.

use std::io::{BufRead, BufReader, Write};
use std::process::ChildStdin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Corral, GUARD, Start, call, config, long_spin};

/// `corral serve` over stdio, with an initialized MCP session.
pub(super) struct StdioClient {
    /// The server.
    pub server: Corral,
    stdin: Option<ChildStdin>,
    messages: mpsc::Receiver<Value>,
}

impl StdioClient {
    /// Starts the server on `config` and completes the `initialize`
    /// handshake.
    pub(super) fn start(config: &str) -> StdioClient {
        let mut server = Corral::start(Start {
            config,
            ..Start::default()
        });
        let stdin = server.child().stdin.take();
        let stdout = server.child().stdout.take().unwrap();
        // A rendezvous channel: the thread reads a line only when the test
        // asks for one, so a test that stops asking stops reading stdout.
        let (tx, messages) = mpsc::sync_channel(0);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let message = serde_json::from_str(&line).unwrap_or_else(|e| {
                    panic!("the server wrote a line that is not JSON ({e}): {line}")
                });
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = StdioClient {
            server,
            stdin,
            messages,
        };
        client.send(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "front-door-test", "version": "1"}}}),
        );
        assert!(client.answer(json!(0))["result"].is_object());
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        client
    }

    /// Writes `line` and a line break.
    pub(super) fn send_line(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Writes `message` as one line.
    pub(super) fn send(&mut self, message: &Value) {
        self.send_line(message.to_string().as_bytes());
    }

    /// The next message the server writes ([`GUARD`] at most).
    pub(super) fn next(&self) -> Value {
        self.messages
            .recv_timeout(GUARD)
            .unwrap_or_else(|_| panic!("no message from the server:\n{}", self.server.log()))
    }

    /// The next message answering request `id` (other messages are skipped).
    pub(super) fn answer(&self, id: Value) -> Value {
        loop {
            let message = self.next();
            if message.get("id") == Some(&id) && message.get("method").is_none() {
                return message;
            }
        }
    }

    /// The next error answer that names no request (the server could not
    /// read one).
    pub(super) fn error_without_id(&self) -> Value {
        loop {
            let message = self.next();
            if message.get("error").is_some() && message.get("id").is_none_or(Value::is_null) {
                return message;
            }
        }
    }

    /// Closes stdin: end of input for the server.
    pub(super) fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Takes stdin, to write from another thread.
    pub(super) fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin is open")
    }
}

/// The error code and message of a JSON-RPC error answer.
fn error_of(message: &Value) -> (i64, String) {
    let error = message
        .get("error")
        .unwrap_or_else(|| panic!("expected a JSON-RPC error, got {message}"));
    (
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap().to_owned(),
    )
}

/// Checks that the server still answers a request.
fn still_serving(client: &mut StdioClient, id: u64) {
    client.send(&call(id, "add", json!({"a": 2, "b": 3})));
    let answer = client.answer(json!(id));
    assert_eq!(
        answer["result"]["structuredContent"],
        json!({"result": 5}),
        "{answer}"
    );
}

#[test]
fn an_oversize_line_gets_an_error_and_the_server_keeps_serving() {
    // The line limit is server.http.max_body_size (4 MiB by default).
    let mut client = StdioClient::start(&config("", "", ""));
    let oversize = call(
        7,
        "hash",
        json!({"text": "x".repeat(5 << 20), "algorithm": "sha256"}),
    );
    client.send(&oversize);
    let (code, message) = error_of(&client.answer(json!(7)));
    assert_eq!(code, -32600, "{message}");
    assert!(message.contains("server.http.max_body_size"), "{message}");
    still_serving(&mut client, 8);
}

#[test]
fn invalid_utf8_and_malformed_json_get_errors() {
    let mut client = StdioClient::start(&config("", "", ""));
    client.send_line(
        b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo_string\",\"arguments\":{\"value\":\"\xff\xfe\"}}}",
    );
    let (code, message) = error_of(&client.answer(json!(3)));
    assert_eq!(code, -32700, "{message}");
    assert!(message.contains("UTF-8"), "{message}");

    client.send_line(b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/li");
    let (code, _) = error_of(&client.answer(json!(4)));
    assert_eq!(code, -32700);

    client.send_line(b"this is not JSON");
    let (code, _) = error_of(&client.error_without_id());
    assert_eq!(code, -32700);

    client.send(&json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": "nonsense"}));
    let (code, _) = error_of(&client.answer(json!(5)));
    assert_eq!(code, -32600);

    still_serving(&mut client, 6);
}

#[test]
fn requests_beyond_the_in_flight_bound_get_busy_errors() {
    let mut client = StdioClient::start(&long_spin(
        &config(
            "max_concurrent_calls = 1",
            "max_concurrent_requests = 4",
            "",
        ),
        "30s",
    ));
    for id in 1..=10 {
        client.send(&call(id, "spin", json!({})));
    }
    // The first four are in flight (one spins, three wait for its slot);
    // the other six are refused at once.
    for id in 5..=10 {
        let (code, message) = error_of(&client.answer(json!(id)));
        assert_eq!(code, -32000, "{message}");
        assert!(message.contains("max_concurrent_requests"), "{message}");
    }
    for id in 1..=4 {
        client.send(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": id, "reason": "test"}}),
        );
    }
    still_serving(&mut client, 11);
}

#[test]
fn a_duplicate_id_in_flight_gets_an_error() {
    let mut client = StdioClient::start(&long_spin(
        &config("max_concurrent_calls = 1", "", ""),
        "30s",
    ));
    client.send(&call(1, "spin", json!({})));
    client.send(&call(1, "add", json!({"a": 1, "b": 1})));
    let (code, message) = error_of(&client.answer(json!(1)));
    assert_eq!(code, -32600, "{message}");
    assert!(message.contains("already in use"), "{message}");
    client.send(
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 1, "reason": "test"}}),
    );
    still_serving(&mut client, 2);
}

#[test]
fn a_client_that_stops_reading_does_not_grow_the_server() {
    const CALLS: usize = 300;
    let mut client = StdioClient::start(&config(
        "max_concurrent_calls = 2",
        "max_concurrent_requests = 8",
        "",
    ));
    let before = client.server.memory_kib("VmRSS");
    // Each answer carries 1 MiB twice (text and structured content); the
    // client sends every request and reads nothing (beyond the line its
    // reader thread holds) until it is done or the server stops taking
    // requests.
    let mut stdin = client.take_stdin();
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let written = written.clone();
        std::thread::spawn(move || {
            for id in 1..=CALLS {
                let line = call(id as u64, "huge_string", json!({"mebibytes": 1})).to_string();
                if stdin.write_all(format!("{line}\n").as_bytes()).is_err() {
                    return;
                }
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let mut last = (0, Instant::now());
    loop {
        let now = written.load(Ordering::SeqCst);
        if now == CALLS {
            break;
        }
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(2) {
            break; // the server stopped taking requests: it is full
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let peak_while_not_reading = client.server.memory_kib("VmHWM");
    // Now read: every request gets exactly one answer, a result or busy.
    let mut answered = vec![0u32; CALLS + 1];
    for _ in 0..CALLS {
        let message = client.next();
        let id = message["id"].as_u64().unwrap() as usize;
        answered[id] += 1;
    }
    writer.join().unwrap();
    assert!(answered[1..].iter().all(|&n| n == 1), "{answered:?}");
    let growth_mib = (peak_while_not_reading.saturating_sub(before)) / 1024;
    assert!(
        growth_mib < 150,
        "the server grew by {growth_mib} MiB while its client did not read"
    );
}

#[test]
fn a_client_that_exits_mid_call_leaves_no_server_behind() {
    // A client that exits closes all three pipes at once: stdin (end of
    // input), stdout (answers cannot be written) and stderr (logs cannot
    // be written). The call in flight ends at its deadline, and the server
    // must exit rather than wait forever for an answer that logging lost.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corral.toml");
    std::fs::write(&path, config("", "", "")).unwrap();
    let mut child = std::process::Command::new(crate::support::CORRAL)
        .args(["serve", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut send = |message: Value| {
        stdin.write_all(format!("{message}\n").as_bytes()).unwrap();
    };
    send(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "front-door-test", "version": "1"}}}),
    );
    stdout.read_line(&mut line).unwrap();
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(call(1, "spin", json!({})));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}));
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("\"id\":2"), "{line}");
    drop((stdin, stdout));
    let deadline = Instant::now() + GUARD;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("corral kept running after its client exited");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
