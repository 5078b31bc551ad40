//! The streamable HTTP transport through a real client: both protocol
//! generations, Origin and Host checks, bearer tokens with tool
//! allowlists, health, metrics, limits and graceful shutdown.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

use crate::support::{CORRAL, standard_config};

const FULL_TOKEN: &str = "full-access-token-0123456789";
const CALC_TOKEN: &str = "calc-only-token-0123456789";

/// A `corral serve --http` child, killed on drop.
struct HttpServer {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl HttpServer {
    /// Starts the standard config over HTTP, with `extra` TOML appended to
    /// it, and waits for `/healthz`.
    async fn start(extra: &str) -> HttpServer {
        HttpServer::start_with_env(extra, &[]).await
    }

    /// Like [`HttpServer::start`], with extra variables in the server's
    /// environment.
    async fn start_with_env(extra: &str, env: &[(&str, &str)]) -> HttpServer {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::write(
            &tokens,
            format!("# test tokens\n{FULL_TOKEN}\n{CALC_TOKEN} add,divide\n"),
        )
        .unwrap();
        let config = dir.path().join("corral.toml");
        let extra = extra.replace("TOKENS_FILE", &tokens.display().to_string());
        std::fs::write(
            &config,
            format!(
                "{extra}\n{}",
                standard_config().replace("[server]\nname = \"corral-test\"", "")
            ),
        )
        .unwrap();
        let port = free_port();
        #[expect(
            clippy::zombie_processes,
            reason = "HttpServer's Drop kills and waits for it"
        )]
        let child = Command::new(CORRAL)
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--http", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
                && r.status().is_success()
            {
                return HttpServer {
                    child,
                    base,
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("corral did not answer /healthz within 30 s");
    }

    async fn client(
        &self,
        token: Option<&str>,
        mode: ClientLifecycleMode,
    ) -> RunningService<RoleClient, ()> {
        let mut config =
            StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", self.base));
        if let Some(token) = token {
            config = config.auth_header(token);
        }
        let transport = StreamableHttpClientTransport::from_config(config);
        ().serve_with_lifecycle(transport, mode).await.unwrap()
    }
}

/// The names of the tools `client` sees, sorted.
async fn sorted_tool_names(client: &RunningService<RoleClient, ()>) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into())
        .collect();
    names.sort();
    names
}

fn initialize_body() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

async fn post(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(initialize_body().to_string());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn both_protocol_generations_list_and_call_over_http() {
    let server = HttpServer::start("").await;
    for mode in [
        ClientLifecycleMode::Initialize,
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    ] {
        let client = server.client(None, mode).await;
        let tools = client.list_all_tools().await.unwrap();
        assert!(tools.iter().any(|t| t.name == "analyze_code"));
        let mut params = CallToolRequestParams::new("add");
        params = params.with_arguments(json!({"a": 20, "b": 22}).as_object().unwrap().clone());
        let result = client.call_tool(params).await.unwrap();
        assert_eq!(result.structured_content, Some(json!({"result": 42})));
    }
}

#[tokio::test]
async fn a_foreign_origin_gets_403_and_a_loopback_origin_passes() {
    let server = HttpServer::start("").await;
    let url = format!("{}/mcp", server.base);
    assert_eq!(
        post(&url, &[("Origin", "https://evil.example")])
            .await
            .status(),
        403
    );
    assert_eq!(
        post(&url, &[("Origin", "http://localhost:3000")])
            .await
            .status(),
        200
    );
    assert_eq!(post(&url, &[("Host", "evil.example")]).await.status(), 403);
}

#[tokio::test]
async fn tokens_are_required_and_limit_the_tools() {
    let server = HttpServer::start("[server.auth]\ntokens_file = \"TOKENS_FILE\"\n").await;
    let url = format!("{}/mcp", server.base);
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong-token-0123456789")],
    ] {
        let response = post(&url, &headers).await;
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains(&format!(
                "resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
                server.base
            )),
            "{challenge}"
        );
    }
    let metadata: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource",
        server.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(metadata["resource"], format!("{}/mcp", server.base));

    let full = server
        .client(Some(FULL_TOKEN), ClientLifecycleMode::Initialize)
        .await;
    assert!(full.list_all_tools().await.unwrap().len() > 10);

    let limited = server
        .client(Some(CALC_TOKEN), ClientLifecycleMode::Initialize)
        .await;
    assert_eq!(sorted_tool_names(&limited).await, ["add", "divide"]);
    let forbidden = CallToolRequestParams::new("analyze_code").with_arguments(
        json!({"code": "x", "language": "python"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let error = limited.call_tool(forbidden).await.unwrap_err().to_string();
    assert!(error.contains("unknown tool"), "{error}");
}

#[tokio::test]
async fn metrics_count_calls_per_tool() {
    let server = HttpServer::start("").await;
    let client = server.client(None, ClientLifecycleMode::Initialize).await;
    for i in 0..3 {
        let params = CallToolRequestParams::new("add")
            .with_arguments(json!({"a": i, "b": 1}).as_object().unwrap().clone());
        client.call_tool(params).await.unwrap();
    }
    let bad = CallToolRequestParams::new("add")
        .with_arguments(json!({"a": "x"}).as_object().unwrap().clone());
    client.call_tool(bad).await.unwrap();
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("corral_tool_calls_total{tool=\"add\",outcome=\"ok\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("corral_tool_calls_total{tool=\"add\",outcome=\"invalid_arguments\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("corral_tool_call_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        text.contains("corral_tool_fuel_used_total{tool=\"add\"}"),
        "{text}"
    );
    assert_eq!(
        reqwest::get(format!("{}/readyz", server.base))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = HttpServer::start("").await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = server.child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(status.expect("exited within 10 s").success());
}

#[test]
fn a_public_address_without_auth_is_refused() {
    let (ok, _, stderr) = crate::support::run_corral(
        &["serve", "--http", "0.0.0.0:0"],
        &format!(
            "[components.calc]\npath = \"{}\"\n",
            corral_test_artifacts::calc().display()
        ),
    );
    assert!(!ok);
    assert!(
        stderr.contains("without authentication") && stderr.contains("--allow-unauthenticated"),
        "{stderr}"
    );
}

const JWT_SECRET: &str = "a-shared-secret-of-at-least-32-bytes!!";

fn jwt(claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn jwts_are_checked_and_their_scopes_limit_the_tools() {
    let config = r#"[server.auth]
[server.auth.jwt]
issuer = "https://auth.test"
audience = "corral"
hs256_secret_env = "CORRAL_TEST_JWT_SECRET"
[server.auth.scopes]
"tools:calc" = ["add", "divide"]
"tools:all" = ["*"]
"#;
    let server =
        HttpServer::start_with_env(config, &[("CORRAL_TEST_JWT_SECRET", JWT_SECRET)]).await;
    let now = jsonwebtoken::get_current_timestamp();
    let good = |scope: &str| json!({"iss": "https://auth.test", "aud": "corral", "exp": now + 600, "scope": scope});

    let calc = server
        .client(
            Some(&jwt(good("tools:calc"))),
            ClientLifecycleMode::Initialize,
        )
        .await;
    assert_eq!(sorted_tool_names(&calc).await, ["add", "divide"]);
    let all = server
        .client(
            Some(&jwt(good("openid tools:all"))),
            ClientLifecycleMode::Initialize,
        )
        .await;
    assert!(all.list_all_tools().await.unwrap().len() > 10);

    let url = format!("{}/mcp", server.base);
    let refused = [
        json!({"iss": "https://auth.test", "aud": "corral", "exp": now - 600, "scope": "tools:all"}),
        json!({"iss": "https://evil.test", "aud": "corral", "exp": now + 600, "scope": "tools:all"}),
        json!({"iss": "https://auth.test", "aud": "other", "exp": now + 600, "scope": "tools:all"}),
        json!({"iss": "https://auth.test", "aud": "corral", "scope": "tools:all"}),
    ];
    for claims in refused {
        let bearer = format!("Bearer {}", jwt(claims.clone()));
        assert_eq!(
            post(&url, &[("Authorization", &bearer)]).await.status(),
            401,
            "{claims}"
        );
    }
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &good("tools:all"),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!!!"),
    )
    .unwrap();
    assert_eq!(
        post(&url, &[("Authorization", &format!("Bearer {forged}"))])
            .await
            .status(),
        401
    );
}
