//! Request limits that mean what they say: a request holds its permit until
//! its answer ends, and what waiting requests hold is bounded in bytes.

use serde_json::json;

use super::{
    Corral, Session, call, config, long_spin, metric, post_stateless, stateless_call, until,
};

#[tokio::test]
async fn the_request_limit_holds_until_the_answer_ends() {
    let server = Corral::http(&long_spin(
        &config(
            "max_concurrent_calls = 4",
            "max_concurrent_requests = 2",
            "",
        ),
        "30s",
    ));
    let session = Session::open(&server.mcp(), None).await;
    // The handshake's requests hold their permits until the handler is
    // done with them too.
    until("the handshake to be handled", || async {
        metric(&server.base(), None, "corral_requests_in_flight").await == Some(0.0)
    })
    .await;
    // Two calls whose answers stream (headers sent, the result pending).
    let mut streaming = Vec::new();
    for id in 1..=2 {
        let response = session.post(&call(id, "spin", json!({}))).await;
        assert_eq!(response.status(), 200);
        streaming.push(response);
    }
    let add = |id| stateless_call(id, "add", json!({"a": 1, "b": 2}));
    let refused = post_stateless(&server.mcp(), &add(3)).await;
    assert_eq!(refused.status(), 503, "{}", server.log());
    assert!(refused.headers().contains_key("retry-after"));
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("server.http.max_concurrent_requests"),
        "{text}"
    );
    // Hanging up is not enough: the calls go on (a session's client may
    // resume their streams) and keep their permits. Ending the session ends
    // them, which frees the permits.
    drop(streaming);
    let ended = session
        .request(reqwest::Method::DELETE)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success());
    until("a call to be admitted again", || async {
        post_stateless(&server.mcp(), &add(4)).await.status() == 200
    })
    .await;
}

/// A `hash` call whose JSON body is about `size` bytes.
fn large_call(id: u64, size: usize) -> Vec<u8> {
    call(
        id,
        "hash",
        json!({"text": "x".repeat(size), "algorithm": "sha256"}),
    )
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn request_bodies_waiting_for_a_call_slot_are_bounded_in_bytes() {
    // Defaults: 4 MiB bodies at most, 8 MiB of bodies in flight at most.
    let server = Corral::http(&long_spin(
        &config("max_concurrent_calls = 1", "", ""),
        "30s",
    ));
    let session = Session::open(&server.mcp(), None).await;
    // The only call slot is busy, so every further call waits, holding its
    // arguments.
    let spin = session.post(&call(1, "spin", json!({}))).await;
    assert_eq!(spin.status(), 200);
    let mut waiting = Vec::new();
    for id in 2..=3 {
        let response = session.post_bytes(large_call(id, 3_500_000)).await;
        assert_eq!(response.status(), 200, "call {id}");
        waiting.push(response);
    }
    let refused = session.post_bytes(large_call(4, 3_500_000)).await;
    assert_eq!(refused.status(), 503, "{}", server.log());
    assert!(refused.headers().contains_key("retry-after"));
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("server.http.max_body_bytes_in_flight"),
        "{text}"
    );
    // A small call still fits beside them.
    let small = session.post(&call(7, "add", json!({"a": 1, "b": 2}))).await;
    assert_eq!(small.status(), 200);
    drop((spin, waiting, small));
}

/// Not a test: measures the server's memory under a flood of large calls
/// while every call slot is busy, for the README's stated bound. Run with
/// `cargo test -p corral --test all front_door::limits::measure -- --ignored --nocapture`;
/// `FLOOD_CALLS` (default 500) sets the number of calls and `FLOOD_BODY`
/// their arguments: `zeros` (default: a list of zeros, the worst case, two
/// bytes of JSON becoming one 32-byte value), `numbers` (seven-digit
/// numbers) or `string` (one long string).
#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn measure_memory_under_a_flood_of_large_calls() {
    const SLOTS: u64 = 4;
    let calls: u64 = std::env::var("FLOOD_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let kind = std::env::var("FLOOD_BODY").unwrap_or_else(|_| "zeros".into());
    let server = Corral::http(&long_spin(
        &config(&format!("max_concurrent_calls = {SLOTS}"), "", ""),
        "60s",
    ));
    let session = Session::open(&server.mcp(), None).await;
    let mut spinners = Vec::new();
    for id in 0..SLOTS {
        let response = session.post(&call(id, "spin", json!({}))).await;
        assert_eq!(response.status(), 200);
        spinners.push(response);
    }
    // Just under the default 4 MiB body limit.
    let arguments = match kind.as_str() {
        "numbers" => {
            json!({"value": (0..450_000).map(|i| 1_000_000 + i % 3).collect::<Vec<u32>>()})
        }
        "string" => json!({"value": "x".repeat(4_000_000)}),
        _ => json!({"value": vec![0u32; 2_000_000]}),
    };
    let tool = if kind == "string" {
        "echo_string"
    } else {
        "echo_list"
    };
    let body = call(1, tool, arguments).to_string();
    let before = server.memory_kib("VmRSS");
    let mut flood = Vec::new();
    for id in 0..calls {
        let session = session.with_token(None);
        let body = body.replacen("\"id\":1", &format!("\"id\":{}", 100 + id), 1);
        flood.push(tokio::spawn(async move {
            session.post_bytes(body.into_bytes()).await
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    let mut admitted = Vec::new();
    for task in flood {
        let response = task.await.unwrap();
        *statuses.entry(response.status().as_u16()).or_insert(0) += 1;
        if response.status() == 200 {
            admitted.push(response);
        }
    }
    let peak_waiting = server.memory_kib("VmHWM");
    drop(spinners);
    for response in admitted {
        let _ = response.text().await;
    }
    let peak = server.memory_kib("VmHWM");
    let after = server.memory_kib("VmRSS");
    println!(
        "{calls} concurrent calls of {} bytes ({kind}) with {SLOTS} call slots busy: \
         statuses {statuses:?}; RSS before {before} KiB, peak while waiting {peak_waiting} KiB, \
         peak {peak} KiB, after {after} KiB",
        body.len()
    );
}
