//! Sessions: each belongs to the principal that opened it, their number is
//! bounded, an idle one ends, and ending one answers as the SDKs expect.

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::json;

use super::{
    Corral, FULL_TOKEN, OTHER_TOKEN, Session, answer, call, config, long_spin, metric, until,
};

fn tools_list(id: u64) -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
}

#[tokio::test]
async fn a_session_belongs_to_the_token_that_opened_it() {
    let server = Corral::http(&config("", "", "tokens_file = \"TOKENS_FILE\""));
    let owner = Session::open(&server.mcp(), Some(FULL_TOKEN)).await;
    let intruder = owner.with_token(Some(OTHER_TOKEN));

    let posted = intruder.post(&tools_list(1)).await;
    assert_eq!(posted.status(), 404, "another token posted in the session");
    let read = intruder.request(Method::GET).send().await.unwrap().status();
    assert_eq!(read, 404, "another token read the session's stream");
    let ended = intruder
        .request(Method::DELETE)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(ended, 404, "another token ended the session");

    let listed = owner.post(&tools_list(2)).await;
    assert_eq!(listed.status(), 200);
    let body = listed.text().await.unwrap();
    assert!(answer(&body, 2)["result"]["tools"].is_array(), "{body}");
}

#[tokio::test]
async fn sessions_are_bounded() {
    let server = Corral::http(&config("", "max_sessions = 3", ""));
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(Session::open(&server.mcp(), None).await);
    }
    let refused = reqwest::Client::new()
        .post(server.mcp())
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "one-too-many", "version": "1"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503, "{}", server.log());
    assert!(refused.headers().contains_key("retry-after"));
    let text = refused.text().await.unwrap();
    assert!(text.contains("server.http.max_sessions"), "{text}");
    // The open sessions still work, and ending one makes room.
    let listed = sessions[0].post(&tools_list(1)).await;
    assert_eq!(listed.status(), 200);
    let ended = sessions[1]
        .request(Method::DELETE)
        .send()
        .await
        .unwrap()
        .status();
    assert!(ended.is_success());
    Session::open(&server.mcp(), None).await;
}

#[tokio::test]
async fn an_idle_session_ends() {
    let server = Corral::http(&config("", "session_idle_timeout = \"1s\"", ""));
    let session = Session::open(&server.mcp(), None).await;
    // Any request in the session would keep it alive: watch the gauge.
    until("the idle session to end", || async {
        metric(&server.base(), None, "corral_http_sessions").await == Some(0.0)
    })
    .await;
    assert_eq!(session.post(&tools_list(1)).await.status(), 404);
    // A new session starts as usual.
    let fresh = Session::open(&server.mcp(), None).await;
    let answer = fresh.post(&call(1, "add", json!({"a": 1, "b": 2}))).await;
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn ending_a_session_answers_as_the_sdks_expect() {
    let server = Corral::http(&config("", "", ""));
    let session = Session::open(&server.mcp(), None).await;
    let ended = session
        .request(Method::DELETE)
        .send()
        .await
        .unwrap()
        .status();
    // The Python SDK accepts 200 and 204 (and logs "Session termination
    // failed" for anything else); the TypeScript SDKs and rmcp any 2xx.
    assert_eq!(ended, 204);
    assert_eq!(session.post(&tools_list(1)).await.status(), 404);
    assert_eq!(
        session
            .request(Method::DELETE)
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "an ended session is unknown"
    );

    // The Python SDK itself, which ends its session when it closes.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = repo.join(".venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is not installed: run scripts/install-test-clients"
    );
    let output = Command::new(python)
        .arg(repo.join("tests/clients/python/client.py"))
        .args(["--mode", "legacy", "http", &server.mcp()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("Session termination failed"),
        "the Python SDK did not accept the answer to its DELETE:\n{stderr}"
    );
}

/// Not a test: measures the memory each open session holds, for the
/// README. Run with
/// `cargo test -p corral --test all front_door::sessions::measure -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn measure_memory_per_session() {
    const SESSIONS: u64 = 1000;
    let server = Corral::http(&config("", "max_sessions = 2000", ""));
    // One client (one kept-alive connection) for every session, and one
    // session first, so that one-time allocations are not counted.
    let client = reqwest::Client::new();
    let mut sessions = vec![Session::open_on(client.clone(), &server.mcp(), None).await];
    let before = server.memory_kib("VmRSS");
    for _ in 0..SESSIONS {
        sessions.push(Session::open_on(client.clone(), &server.mcp(), None).await);
    }
    let after = server.memory_kib("VmRSS");
    println!(
        "{SESSIONS} sessions: RSS {before} KiB before, {after} KiB after: {:.1} KiB per session",
        (after - before) as f64 / SESSIONS as f64
    );
}

/// rmcp keeps the stream of a cancelled request for late resumption, and
/// by default for 60 s: about 3 KiB each, so a session cancelling calls in
/// a loop made the server hold memory in proportion to how fast it
/// cancelled. Corral keeps none.
/// Opens a session and starts a `spin` call in it that takes the server's
/// only call slot; returns once the call runs. The session and the response
/// must be kept for as long as the slot is to stay taken.
async fn hold_the_only_slot(server: &Corral) -> (Session, reqwest::Response) {
    let holder = Session::open(&server.mcp(), None).await;
    let blocker = holder.post(&call(0, "spin", json!({}))).await;
    assert_eq!(blocker.status(), 200);
    until("the blocking call to run", || async {
        metric(&server.base(), None, "corral_tool_calls_running").await == Some(1.0)
    })
    .await;
    (holder, blocker)
}

#[tokio::test]
async fn a_session_keeps_nothing_for_its_cancelled_calls() {
    const CANCELS: u64 = 4000;
    const CLIENTS: u64 = 16;
    let server = Corral::http(&long_spin(
        &config("max_concurrent_calls = 1\nqueue_timeout = \"1h\"", "", ""),
        "1h",
    ));
    // A call that holds the only call slot: every later call waits for
    // it, so each one is in flight when it is cancelled, and costs no CPU.
    let (holder, blocker) = hold_the_only_slot(&server).await;
    let session = Session::open(&server.mcp(), None).await;
    let cancel = |from: u64, to: u64| {
        let session = &session;
        futures::future::join_all((0..CLIENTS).map(move |client| async move {
            for id in (from..to).filter(|id| id % CLIENTS == client) {
                let waiting = session
                    .post(&call(id, "add", json!({"a": 1, "b": 1})))
                    .await;
                assert_eq!(waiting.status(), 200);
                let cancelled = session
                    .post(
                        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                  "params": {"requestId": id, "reason": "test"}}),
                    )
                    .await;
                assert_eq!(cancelled.status(), 202);
                let body = waiting.text().await.unwrap();
                assert!(
                    !body.contains("\"result\""),
                    "a cancelled call answered: {body}"
                );
            }
        }))
    };
    cancel(1, 1 + CANCELS / 10).await;
    let before = server.memory_kib("VmRSS");
    cancel(1 + CANCELS / 10, 1 + CANCELS + CANCELS / 10).await;
    let after = server.memory_kib("VmRSS");
    let growth = after.saturating_sub(before);
    assert!(
        growth < 4096,
        "{CANCELS} cancelled calls in an open session grew the server by {growth} KiB \
         ({before} → {after})"
    );
    // The session goes on.
    let answered = session.post(&call(1_000_000, "ok", json!({}))).await;
    holder
        .post(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                      "params": {"requestId": 0, "reason": "test"}}),
        )
        .await;
    drop(blocker);
    let body = answered.text().await.unwrap();
    assert_eq!(
        answer(&body, 1_000_000)["result"]["structuredContent"],
        json!({"result": "still alive"})
    );
}

/// A session with a call in flight is not idle. rmcp's keep-alive counted
/// only the time since a session's last message, so a call that ran (or
/// waited for a slot) longer than `session_idle_timeout` ended its session
/// and lost its answer.
#[tokio::test]
async fn a_call_longer_than_the_idle_timeout_keeps_its_session() {
    let server = Corral::http(&long_spin(
        &config(
            "max_concurrent_calls = 1\nqueue_timeout = \"1h\"",
            "session_idle_timeout = \"1s\"",
            "",
        ),
        "1h",
    ));
    let base = server.base();
    let sessions = || metric(&base, None, "corral_http_sessions");
    // A call that holds the only call slot until it is cancelled, and one
    // that waits for the slot.
    let (holder, blocker) = hold_the_only_slot(&server).await;
    let waiter = Session::open(&server.mcp(), None).await;
    let waiting = waiter.post(&call(1, "add", json!({"a": 1, "b": 2}))).await;
    assert_eq!(waiting.status(), 200);
    until("the second call to wait for the slot", || async {
        metric(&base, None, "corral_tool_calls_waiting").await == Some(1.0)
    })
    .await;
    // A session opened after both calls, and left idle: once it has ended,
    // the two sessions above have been silent for longer than the timeout.
    let _clock = Session::open(&server.mcp(), None).await;
    assert_eq!(sessions().await, Some(3.0));
    until("the idle session to end", || async {
        sessions().await.is_some_and(|n| n < 3.0)
    })
    .await;
    assert_eq!(sessions().await, Some(2.0), "{}", server.log());
    let cancelled = holder
        .post(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                      "params": {"requestId": 0, "reason": "test"}}),
        )
        .await;
    assert_eq!(cancelled.status(), 202, "the holder's session ended");
    let body = waiting.text().await.unwrap();
    assert_eq!(
        answer(&body, 1)["result"]["structuredContent"],
        json!({"result": 3}),
        "{body}"
    );
    drop(blocker);
    // Idle again, both end.
    until("the sessions to end once idle", || async {
        sessions().await == Some(0.0)
    })
    .await;
}
