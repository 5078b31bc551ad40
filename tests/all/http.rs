//! The streamable HTTP transport through a real client: both protocol
//! generations, Origin and Host checks, bearer tokens with tool
//! allowlists, health, metrics, limits and graceful shutdown.

use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

use crate::front_door::{CALC_TOKEN, Corral, FULL_TOKEN, Start};
use crate::support::standard_config;

/// A `corral serve --http` on a port of the system's choosing, killed on
/// drop.
struct HttpServer {
    corral: Corral,
    base: String,
}

impl HttpServer {
    /// Starts the standard config over HTTP, with `extra` TOML appended to
    /// it (`TOKENS_FILE` names a file of [`FULL_TOKEN`] and [`CALC_TOKEN`],
    /// limited to `add` and `divide`); returns once it serves.
    async fn start(extra: &str) -> HttpServer {
        HttpServer::start_with_env(extra, &[]).await
    }

    /// Like [`HttpServer::start`], with extra variables in the server's
    /// environment.
    async fn start_with_env(extra: &str, env: &[(&str, &str)]) -> HttpServer {
        let config = format!(
            "{extra}\n{}",
            standard_config().replace("[server]\nname = \"corral-test\"", "")
        );
        let corral = Corral::start(Start {
            config: &config,
            http: true,
            env,
            ..Start::default()
        });
        let base = corral.base();
        HttpServer { corral, base }
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
    server.corral.signal("TERM");
    assert!(server.corral.wait().success());
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

#[tokio::test]
async fn the_public_url_names_the_resource_and_is_the_default_audience() {
    let config = r#"[server.http]
public_url = "https://mcp.example.test"
[server.auth]
[server.auth.jwt]
issuer = "https://auth.test"
hs256_secret_env = "CORRAL_TEST_JWT_SECRET"
"#;
    let server =
        HttpServer::start_with_env(config, &[("CORRAL_TEST_JWT_SECRET", JWT_SECRET)]).await;
    let url = format!("{}/mcp", server.base);
    let resource = "https://mcp.example.test/mcp";

    // The challenge and the metadata name the public address, not the
    // bound one.
    let refused = post(&url, &[]).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(
            "resource_metadata=\"https://mcp.example.test/.well-known/oauth-protected-resource\""
        ),
        "{challenge}"
    );
    let metadata: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        server.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(metadata["resource"], resource);

    // The default audience is the public resource; the bound address is
    // not an audience. The public host is allowed.
    let now = jsonwebtoken::get_current_timestamp();
    let token = |aud: &str| {
        format!(
            "Bearer {}",
            jwt(json!({"iss": "https://auth.test", "aud": aud, "exp": now + 600}))
        )
    };
    let accepted = post(
        &url,
        &[
            ("Authorization", &token(resource)),
            ("Host", "mcp.example.test"),
        ],
    )
    .await;
    assert_eq!(accepted.status(), 200);
    let bound = format!("{}/mcp", server.base);
    assert_eq!(
        post(&url, &[("Authorization", &token(&bound))])
            .await
            .status(),
        401
    );
    assert_eq!(
        post(
            &url,
            &[("Authorization", &token(resource)), ("Host", "evil.test")]
        )
        .await
        .status(),
        403
    );
}

#[test]
fn check_loads_every_credential_and_warns_on_unknown_tools() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("{CALC_TOKEN} add,dvide\n")).unwrap();
    let calc = format!(
        "[components.calc]\npath = \"{}\"\n",
        corral_test_artifacts::calc().display()
    );
    let config = format!(
        "[server.auth]\ntokens_file = \"{}\"\n[server.auth.scopes]\n\"tools:x\" = [\"add\", \"nope\"]\n\
         [server.auth.jwt]\nissuer = \"i\"\nhs256_secret_env = \"CORRAL_TEST_JWT_SECRET\"\n{calc}",
        tokens.display()
    );
    let (ok, _, stderr) = crate::support::run_corral_with_env(
        &["check"],
        &config,
        &[("CORRAL_TEST_JWT_SECRET", JWT_SECRET)],
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("lists tools no component offers: dvide"),
        "{stderr}"
    );
    assert!(
        stderr.contains("server.auth.scopes.tools:x names tools no component offers: nope"),
        "{stderr}"
    );
    assert!(!stderr.contains(CALC_TOKEN), "{stderr}");

    // What `serve` would refuse, `check` refuses: the secret's variable
    // unset, the tokens file missing.
    let (ok, _, stderr) = crate::support::run_corral(&["check"], &config);
    assert!(!ok);
    assert!(stderr.contains("CORRAL_TEST_JWT_SECRET"), "{stderr}");
    std::fs::remove_file(&tokens).unwrap();
    let (ok, _, stderr) = crate::support::run_corral_with_env(
        &["check"],
        &config,
        &[("CORRAL_TEST_JWT_SECRET", JWT_SECRET)],
    );
    assert!(!ok);
    assert!(stderr.contains("server.auth.tokens_file"), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}
