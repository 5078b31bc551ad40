//! Calling the example tools, and refusing invalid calls before any guest
//! runs.

use serde_json::{Value, json};

use crate::support::{Server, error, ok, text};

#[tokio::test]
async fn calc_adds_and_reports_division_by_zero_as_an_error_answer() {
    let server = Server::standard().await;
    let sum = server
        .call("add", json!({"a": 2147483647, "b": 2147483647}))
        .await;
    assert_eq!(ok(&sum), json!({"result": 4294967294u64}));
    assert_eq!(text(&sum), "4294967294");
    assert_eq!(
        ok(&server
            .call("divide", json!({"dividend": 1, "divisor": 4}))
            .await),
        json!({"result": 0.25})
    );
    let message = error(
        &server
            .call("divide", json!({"dividend": 1, "divisor": 0}))
            .await,
    );
    assert!(message.contains("zero"), "{message}");
}

#[tokio::test]
async fn analyze_code_finds_real_problems() {
    let server = Server::standard().await;
    let code = "import os\n\ndef run(cmd):\n    password = \"hunter2hunter2\"\n    # TODO: validate\n    os.system(cmd)\n    return eval(cmd)\n";
    let analysis = ok(&server
        .call("analyze_code", json!({"code": code, "language": "python"}))
        .await);
    let score = analysis["quality_score"].as_u64().unwrap();
    assert!(score < 100, "{analysis}");
    let rules: Vec<&str> = analysis["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.len() >= 3,
        "eval, os.system and the password: {analysis}"
    );
    let clean = ok(&server
        .call(
            "analyze_code",
            json!({"code": "fn main() {}\n", "language": "rust"}),
        )
        .await);
    assert!(clean["quality_score"].as_u64().unwrap() > score, "{clean}");
    assert_eq!(clean["vulnerabilities"], json!([]));
    assert_eq!(
        ok(&server.call("supported_languages", json!({})).await),
        json!({"result": ["python", "javascript", "rust"]})
    );
}

#[tokio::test]
async fn text_tools_answer() {
    let server = Server::standard().await;
    let stats = ok(&server
        .call("statistics", json!({"text": "One two three. Four!"}))
        .await);
    assert_eq!(stats["words"], 4);
    assert_eq!(stats["sentences"], 2);
    assert_eq!(
        ok(&server
            .call("slugify", json!({"text": "Hello, World: Corral!"}))
            .await),
        json!({"result": "hello-world-corral"})
    );
    let encoded = ok(&server
        .call("base64_encode", json!({"data": "corral"}))
        .await);
    assert_eq!(encoded, json!({"result": "Y29ycmFs"}));
    assert_eq!(
        ok(&server
            .call("base64_decode", json!({"encoded": "Y29ycmFs"}))
            .await),
        json!({"result": "corral"})
    );
    error(
        &server
            .call("base64_decode", json!({"encoded": "not base64!"}))
            .await,
    );
    let found = ok(&server
        .call(
            "regex_find",
            json!({"pattern": "w(or)ld", "text": "Hello WORLD", "options": ["ignore_case"]}),
        )
        .await);
    assert_eq!(found["result"]["matched"], "WORLD");
    let missing = ok(&server
        .call(
            "regex_find",
            json!({"pattern": "xyz", "text": "abc", "options": []}),
        )
        .await);
    assert_eq!(missing, json!({"result": null}));
    let bad = error(
        &server
            .call(
                "regex_find",
                json!({"pattern": "(", "text": "abc", "options": []}),
            )
            .await,
    );
    assert!(!bad.is_empty());
    let hash = ok(&server
        .call("hash", json!({"text": "abc", "algorithm": "sha256"}))
        .await);
    assert_eq!(
        hash["result"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let steps = json!([{"replace": ["world", "corral"]}, "upper"]);
    assert_eq!(
        ok(&server
            .call("transform", json!({"text": "hello world", "steps": steps}))
            .await),
        json!({"result": "HELLO CORRAL"})
    );
}

#[tokio::test]
async fn invalid_calls_are_refused_naming_the_field_and_rule() {
    let server = Server::standard().await;
    let cases: [(&str, Value, &str); 6] = [
        (
            "add",
            json!({"a": 5000000000u64, "b": 1}),
            "a: 5000000000 is out of range for s32",
        ),
        (
            "add",
            json!({"a": 1.5, "b": 1}),
            "a: expected an integer (s32), got 1.5",
        ),
        ("add", json!({"a": 1}), "b: missing required argument"),
        (
            "add",
            json!({"a": 1, "b": 2, "c": 3}),
            "c: unknown argument (expected one of: a, b)",
        ),
        (
            "analyze_code",
            json!({"code": "x", "language": "cobol"}),
            "language: \"cobol\" is not one of: python, javascript, rust",
        ),
        (
            "echo_record",
            json!({"value": {"full_name": "A", "age_in_years": 300, "home_location": {"x_coordinate": 0}}}),
            "value.age_in_years: 300 is out of range for u8",
        ),
    ];
    for (tool, args, expected) in cases {
        let message = error(&server.call(tool, args).await);
        assert!(message.contains(expected), "{tool}: {message}");
        assert!(message.contains("nothing was run"), "{message}");
    }
    let nested = error(&server.call("echo_record", json!({"value": {"full_name": "A", "age_in_years": 3, "home_location": {"x_coordinate": 0}}})).await);
    assert!(
        nested.contains("value.home_location.y_coordinate: missing required field"),
        "{nested}"
    );
    let missing_all = error(&server.call_raw("add", None).await);
    assert!(
        missing_all.contains("a: missing required argument"),
        "{missing_all}"
    );
}

#[tokio::test]
async fn an_invalid_call_never_instantiates_the_guest() {
    let server = Server::standard().await;
    error(&server.call("noisy", json!({"lines": -1})).await);
    ok(&server.call("ok", json!({})).await);
    let stderr = server.stderr();
    assert!(stderr.contains("invalid_arguments"), "{stderr}");
    let noisy_calls = stderr
        .lines()
        .filter(|l| l.contains("call finished") && l.contains("noisy"))
        .count();
    assert_eq!(noisy_calls, 0, "{stderr}");
}
