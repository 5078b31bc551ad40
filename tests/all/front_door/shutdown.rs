//! A shutdown that loses nothing: on SIGTERM the server stops taking new
//! work (new HTTP requests get 503), answers every call in flight, then
//! exits 0; a second signal makes it exit at once.

use serde_json::json;

use super::stdio::StdioClient;
use super::{
    Corral, Session, answer, call, config, long_spin, metric, post_stateless, stateless_call, until,
};

const IN_FLIGHT: &str = "corral_requests_in_flight";

async fn status(url: &str) -> Option<u16> {
    Some(reqwest::get(url).await.ok()?.status().as_u16())
}

#[tokio::test]
async fn sigterm_answers_every_call_in_flight_over_http() {
    const CALLS: u64 = 50;
    let mut server = Corral::http(&long_spin(
        &config("max_concurrent_calls = 1\nqueue_timeout = \"5m\"", "", ""),
        "30s",
    ));
    let base = server.base();
    let session = Session::open(&server.mcp(), None).await;
    // A stateless call that holds the only call slot until its client hangs
    // up (its answer's headers wait for its result), and 50 calls waiting
    // behind it.
    let blocker = {
        let url = server.mcp();
        tokio::spawn(
            async move { post_stateless(&url, &stateless_call(0, "spin", json!({}))).await },
        )
    };
    until("the blocking call alone to be in flight", || async {
        metric(&base, None, "corral_tool_calls_running").await == Some(1.0)
            && metric(&base, None, IN_FLIGHT).await == Some(1.0)
    })
    .await;
    let mut calls = Vec::new();
    for id in 1..=CALLS {
        let session = session.with_token(None);
        calls.push(tokio::spawn(async move {
            let response = session
                .post(&call(id, "add", json!({"a": id, "b": 1})))
                .await;
            assert_eq!(response.status(), 200);
            (id, response.text().await.unwrap())
        }));
    }
    until("51 requests in flight", || async {
        metric(&base, None, IN_FLIGHT).await == Some((CALLS + 1) as f64)
    })
    .await;

    server.signal("TERM");
    until("the server to report that it drains", || async {
        status(&format!("{base}/readyz")).await == Some(503)
    })
    .await;
    let refused = session
        .with_token(None)
        .request(reqwest::Method::POST)
        .header("Content-Type", "application/json")
        .body(call(100, "add", json!({"a": 1, "b": 1})).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}:\n{}", server.log()));
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(status(&format!("{base}/healthz")).await, Some(200));

    // The blocker's client hangs up, which cancels it; the 50 waiting calls
    // then run.
    blocker.abort();
    for task in calls {
        let (id, body) = task.await.unwrap();
        let answer = answer(&body, id);
        assert_eq!(
            answer["result"]["structuredContent"],
            json!({"result": id + 1}),
            "{answer}"
        );
    }
    let exit = server.wait();
    assert!(exit.success(), "{exit}:\n{}", server.log());
}

#[tokio::test]
async fn a_second_signal_forces_the_exit() {
    let mut server = Corral::http(&long_spin(&config("", "", ""), "1h"));
    let base = server.base();
    let session = Session::open(&server.mcp(), None).await;
    let blocker = session.post(&call(0, "spin", json!({}))).await;
    assert_eq!(blocker.status(), 200);
    until("the call to be in flight", || async {
        metric(&base, None, IN_FLIGHT).await == Some(1.0)
    })
    .await;
    server.signal("TERM");
    until("the server to report that it drains", || async {
        status(&format!("{base}/readyz")).await == Some(503)
    })
    .await;
    server.signal("TERM");
    let exit = server.wait();
    assert!(!exit.success(), "a forced exit reports failure: {exit}");
    assert!(server.log().contains("second signal"), "{}", server.log());
    drop(blocker);
}

#[test]
fn sigterm_over_stdio_answers_the_calls_in_flight_and_exits_0() {
    let mut client = StdioClient::start(&long_spin(&config("", "", ""), "5s"));
    for id in 1..=5 {
        client.send(&call(id, "spin", json!({})));
    }
    // Lines are read in order: once the ping is answered, the five calls
    // are in flight.
    client.send(&json!({"jsonrpc": "2.0", "id": 99, "method": "ping"}));
    client.answer(json!(99));
    client.server.signal("TERM");
    let mut answered = Vec::new();
    for _ in 1..=5 {
        let answer = client.next();
        assert_eq!(answer["result"]["isError"], json!(true), "{answer}");
        let text = answer["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.starts_with("deadline exceeded"), "{text}");
        answered.push(answer["id"].as_u64().unwrap());
    }
    answered.sort_unstable();
    assert_eq!(answered, [1, 2, 3, 4, 5]);
    let exit = client.server.wait();
    assert!(exit.success(), "{exit}:\n{}", client.server.log());
}

#[test]
fn end_of_input_over_stdio_answers_the_calls_in_flight_and_exits_0() {
    let mut client = StdioClient::start(&long_spin(&config("", "", ""), "2s"));
    client.send(&call(1, "spin", json!({})));
    client.send(&call(2, "add", json!({"a": 1, "b": 2})));
    client.close_stdin();
    let mut answered: Vec<u64> = (0..2)
        .map(|_| client.next()["id"].as_u64().unwrap())
        .collect();
    answered.sort_unstable();
    assert_eq!(answered, [1, 2]);
    let exit = client.server.wait();
    assert!(exit.success(), "{exit}:\n{}", client.server.log());
}
