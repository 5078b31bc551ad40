//! The operational endpoints: `/metrics` behind the bearer tokens when they
//! are configured, and every endpoint behind the Host check, so that
//! neither a client without a token nor a web page through DNS rebinding
//! reads what the server does.

use serde_json::json;

use super::{CALC_TOKEN, Corral, FULL_TOKEN, Session, call, config};

async fn get(url: &str, token: Option<&str>, host: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(host) = host {
        request = request.header("Host", host);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn metrics_need_a_token_and_show_only_its_tools() {
    let server = Corral::http(&config("", "", "tokens_file = \"TOKENS_FILE\""));
    let full = Session::open(&server.mcp(), Some(FULL_TOKEN)).await;
    let answer = full
        .post(&call(
            1,
            "hash",
            json!({"text": "x", "algorithm": "sha256"}),
        ))
        .await;
    assert_eq!(answer.status(), 200);
    let _ = answer.text().await;
    let calc = Session::open(&server.mcp(), Some(CALC_TOKEN)).await;
    let answer = calc.post(&call(1, "add", json!({"a": 1, "b": 2}))).await;
    let _ = answer.text().await;

    let metrics = format!("{}/metrics", server.base());
    let anonymous = get(&metrics, None, None).await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(
        get(&metrics, Some("wrong-token-0123456789"), None)
            .await
            .status(),
        401
    );

    let everything = get(&metrics, Some(FULL_TOKEN), None).await;
    assert_eq!(everything.status(), 200);
    let everything = everything.text().await.unwrap();
    assert!(everything.contains("tool=\"hash\""), "{everything}");
    assert!(everything.contains("tool=\"add\""), "{everything}");

    let limited = get(&metrics, Some(CALC_TOKEN), None).await;
    assert_eq!(limited.status(), 200);
    let limited = limited.text().await.unwrap();
    assert!(limited.contains("tool=\"add\""), "{limited}");
    assert!(!limited.contains("tool=\"hash\""), "{limited}");
}

#[tokio::test]
async fn every_endpoint_checks_the_host() {
    let server = Corral::http(&config("", "", ""));
    let port = server.addr.unwrap().port();
    for path in [
        "/metrics",
        "/healthz",
        "/readyz",
        "/.well-known/oauth-protected-resource",
    ] {
        let url = format!("{}{path}", server.base());
        for host in ["evil.example", "evil.example:80", "attacker.test:1234"] {
            let response = get(&url, None, Some(host)).await;
            assert_eq!(response.status(), 403, "{path} with Host {host}");
        }
        let response = get(&url, None, Some(&format!("localhost:{port}"))).await;
        assert_eq!(response.status(), 200, "{path} with Host localhost");
    }
}

#[tokio::test]
async fn health_and_readiness_stay_open_when_tokens_are_configured() {
    let server = Corral::http(&config("", "", "tokens_file = \"TOKENS_FILE\""));
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/oauth-protected-resource",
    ] {
        let response = get(&format!("{}{path}", server.base()), None, None).await;
        assert_eq!(response.status(), 200, "{path}");
    }
}
