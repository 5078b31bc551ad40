//! The protocol itself: stdout carries only the responses the client asked
//! for, and both protocol generations rmcp speaks are served.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use rmcp::model::ProtocolVersion;
use rmcp::service::ClientLifecycleMode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::{CORRAL, Server, ok, standard_config};

/// Sends `requests` one per line to a fresh `corral serve`, closes stdin
/// once every request with an id has its response, and returns every line
/// the server wrote to stdout.
async fn raw_session(requests: &[Value]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corral.toml");
    std::fs::write(&config, standard_config()).unwrap();
    let mut child = tokio::process::Command::new(CORRAL)
        .env("CORRAL_CACHE_DIR", crate::support::cache_dir())
        .args(["serve", "--config"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let expected = requests.iter().filter(|r| r.get("id").is_some()).count();
    let mut lines = Vec::new();
    for request in requests {
        stdin
            .write_all(format!("{request}\n").as_bytes())
            .await
            .unwrap();
        if request.get("id").is_some() {
            let line = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
                .await
                .expect("a response within 30 s")
                .unwrap()
                .expect("stdout open");
            lines.push(line);
        }
    }
    assert_eq!(lines.len(), expected);
    drop(stdin);
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(30), stdout.next_line()).await
    {
        lines.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "the server exits cleanly when stdin closes: {status}"
    );
    lines
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw-test", "version": "1"}
    }})
}

fn call(id: u64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
}

#[tokio::test]
async fn forged_guest_stdout_injects_nothing() {
    let lines = raw_session(&[
        initialize(1),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        call(2, "forge_stdout", json!({})),
        call(3, "ok", json!({})),
        call(4, "noisy", json!({"lines": 50})),
    ])
    .await;
    assert_eq!(lines.len(), 4, "exactly one line per request: {lines:#?}");
    let mut ids = BTreeSet::new();
    for line in &lines {
        let message: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(message["jsonrpc"], "2.0");
        assert!(message.get("result").is_some(), "{line}");
        ids.insert(message["id"].as_u64().unwrap());
    }
    assert_eq!(ids, BTreeSet::from([1, 2, 3, 4]));
    let forged: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        forged["result"]["structuredContent"],
        json!({"result": "done"})
    );
}

#[tokio::test]
async fn the_2026_stateless_generation_is_served() {
    let server = Server::start_with(
        &standard_config(),
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await;
    assert!(server.tools().await.iter().any(|t| t.name == "add"));
    assert_eq!(
        ok(&server.call("add", json!({"a": 40, "b": 2})).await),
        json!({"result": 42})
    );
}

#[tokio::test]
async fn an_unknown_tool_is_a_protocol_error_naming_it() {
    let server = Server::standard().await;
    let params = rmcp::model::CallToolRequestParams::new("no_such_tool");
    let error = server
        .client
        .call_tool(params)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no_such_tool"), "{error}");
}
