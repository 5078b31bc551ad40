//! Every fault a guest can have comes back as an `isError` result with a
//! plain reason, and the server answers the next call normally.

use serde_json::json;

use crate::support::{Server, error, ok, standard_config, text};

/// After a fault, the same component and another one still answer.
async fn still_serves(server: &Server) {
    assert_eq!(
        ok(&server.call("ok", json!({})).await),
        json!({"result": "still alive"})
    );
    assert_eq!(
        ok(&server.call("add", json!({"a": 1, "b": 2})).await),
        json!({"result": 3})
    );
}

#[tokio::test]
async fn out_of_fuel_is_reported_and_the_server_goes_on() {
    let config = standard_config().replace(
        "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"2s\" }",
        "limits = { fuel = 5_000_000, timeout = \"30s\" }",
    );
    let server = Server::start(&config).await;
    let message = error(&server.call("spin", json!({})).await);
    assert!(message.starts_with("out of fuel"), "{message}");
    assert!(
        message.contains("components.faults.limits.fuel"),
        "{message}"
    );
    still_serves(&server).await;
}

#[tokio::test]
async fn deadline_stops_a_spinning_guest() {
    let config = standard_config().replace(
        "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"2s\" }",
        "limits = { fuel = 18_000_000_000_000_000_000, timeout = \"1s\" }",
    );
    let server = Server::start(&config).await;
    let message = error(&server.call("spin", json!({})).await);
    assert!(message.starts_with("deadline exceeded"), "{message}");
    assert!(message.contains("1s"), "{message}");
    still_serves(&server).await;
}

/// Each call starts from the component's original memory, even when the
/// pool reuses a slot whose memory an earlier call wrote all over.
#[tokio::test]
async fn no_state_survives_a_call() {
    let server = Server::standard().await;
    for _ in 0..3 {
        assert_eq!(
            ok(&server.call("remember", json!({})).await),
            json!({"result": 1})
        );
        ok(&server.call("allocate", json!({"mebibytes": 8})).await);
    }
    assert_eq!(
        ok(&server.call("remember", json!({})).await),
        json!({"result": 1})
    );
}

/// The deadline also holds while the guest runs no wasm at all: here it
/// waits in a host call (`sleep`, 2 × 50 ms) past a 20 ms deadline.
#[tokio::test]
async fn deadline_stops_a_guest_waiting_in_a_host_call() {
    let config = format!(
        "[components.conformance]\npath = \"{}\"\nlimits = {{ timeout = \"20ms\" }}\n",
        corral_test_artifacts::conformance().display()
    );
    let server = Server::start(&config).await;
    let message = error(&server.call("test_tool_with_progress", json!({})).await);
    assert!(message.starts_with("deadline exceeded"), "{message}");
    assert_eq!(
        text(&server.call("test_simple_text", json!({})).await),
        "This is a simple text response for testing."
    );
}

/// One `memory.fill` over 16 MiB is a single instruction; fuel is charged
/// by the byte, so a loop of them exhausts the budget as fast as the bytes
/// are written, long before the (generous) deadline.
#[tokio::test]
async fn bulk_memory_instructions_pay_fuel_by_the_byte() {
    let config = standard_config().replace("timeout = \"2s\" }", "timeout = \"60s\" }");
    let server = Server::start(&config).await;
    let call = server.call("fill_forever", json!({"mebibytes": 16}));
    let result = tokio::time::timeout(std::time::Duration::from_secs(30), call)
        .await
        .expect("500 million fuel did not stop a memory.fill loop within 30 s");
    let message = error(&result);
    assert!(message.starts_with("out of fuel"), "{message}");
    still_serves(&server).await;
}

#[tokio::test]
async fn a_spinning_guest_does_not_block_other_calls() {
    let config = standard_config().replace(
        "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"2s\" }",
        "limits = { fuel = 18_000_000_000_000_000_000, timeout = \"20s\" }",
    );
    let server = Server::start(&config).await;
    let spin = server.call("spin", json!({}));
    let quick = async {
        for i in 0..20 {
            assert_eq!(
                ok(&server.call("add", json!({"a": i, "b": 1})).await),
                json!({"result": i + 1})
            );
        }
    };
    tokio::select! {
        result = spin => panic!("spin ended before the other calls: {}", text(&result)),
        () = quick => {}
    }
}

#[tokio::test]
async fn memory_limit_is_told_apart_from_a_panic() {
    let server = Server::standard().await;
    let message = error(&server.call("allocate", json!({"mebibytes": 256})).await);
    assert!(message.starts_with("memory limit reached"), "{message}");
    assert!(message.contains("32.0 MiB"), "{message}");
    assert!(
        message.contains("components.faults.limits.memory"),
        "{message}"
    );
    // Within the limit, allocation works.
    ok(&server.call("allocate", json!({"mebibytes": 4})).await);
    still_serves(&server).await;
}

#[tokio::test]
async fn a_panic_reports_the_tail_of_stderr() {
    let server = Server::standard().await;
    let message = error(&server.call("panic", json!({"message": "boom"})).await);
    assert!(message.starts_with("the tool panicked"), "{message}");
    assert!(message.contains("about to panic: boom"), "{message}");
    still_serves(&server).await;
}

#[tokio::test]
async fn unbounded_recursion_is_a_stack_overflow() {
    let server = Server::standard().await;
    let message = error(&server.call("recurse", json!({"depth": u64::MAX})).await);
    assert!(message.starts_with("stack overflow"), "{message}");
    still_serves(&server).await;
}

#[tokio::test]
async fn a_huge_result_is_refused_not_sent() {
    let server = Server::standard().await;
    let message = error(&server.call("huge_string", json!({"mebibytes": 8})).await);
    assert!(message.contains("too large"), "{message}");
    // A moderate one goes through whole.
    let result = ok(&server.call("huge_string", json!({"mebibytes": 1})).await);
    assert_eq!(result["result"].as_str().unwrap().len(), 1024 * 1024);
    still_serves(&server).await;
}

#[tokio::test]
async fn guest_output_is_bounded_and_logged_under_the_tool_name() {
    // 100,000 writes take well under the standard 2 s on an idle machine;
    // this test is about bounding output, not time, so a loaded one (CI
    // runs the load tests beside it) gets room.
    let limits = "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"2s\" }";
    let config = standard_config();
    assert!(config.contains(limits), "the standard config changed");
    let server = Server::start(&config.replace(
        limits,
        "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"60s\" }",
    ))
    .await;
    let result = ok(&server.call("noisy", json!({"lines": 100000})).await);
    assert_eq!(result, json!({"result": 100000}));
    let stderr = server.stderr();
    assert!(
        stderr.contains("tool=\"noisy\"") || stderr.contains("tool=noisy"),
        "{stderr}"
    );
    assert!(stderr.contains("dropped_bytes"), "{stderr}");
    assert!(
        stderr.len() < 1024 * 1024,
        "guest output is bounded, got {} bytes of log",
        stderr.len()
    );
}

#[tokio::test]
async fn calls_beyond_the_slots_wait_then_get_server_busy() {
    let config = standard_config()
        .replace(
            "name = \"corral-test\"",
            "name = \"corral-test\"\nmax_concurrent_calls = 1\nqueue_timeout = \"300ms\"",
        )
        .replace(
            "limits = { memory = \"32MiB\", fuel = 500_000_000, timeout = \"2s\" }",
            "limits = { fuel = 18_000_000_000_000_000_000, timeout = \"3s\" }",
        );
    let server = Server::start(&config).await;
    // Two calls for one slot: whichever runs spins to its deadline (3 s),
    // the other waits its queue timeout (300 ms) and is turned away.
    let (first, second) = tokio::join!(
        server.call("spin", json!({})),
        server.call("spin", json!({}))
    );
    let (first, second) = (error(&first), error(&second));
    let (spun, message) = if first.starts_with("deadline exceeded") {
        (first, second)
    } else {
        (second, first)
    };
    assert!(spun.starts_with("deadline exceeded"), "{spun}");
    assert!(
        message.starts_with("server busy: all 1 call slots"),
        "{message}"
    );
    assert!(message.contains("server.max_concurrent_calls"), "{message}");
    still_serves(&server).await;
}
