//! `[server.http]` and `[server.auth]`: the HTTP transport's settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::values::{MemorySize, Positive, Timeout};

/// The largest request body when the config names no limit.
const DEFAULT_MAX_BODY: u64 = 4 * 1024 * 1024;
/// Requests served at once when the config names no limit.
const DEFAULT_MAX_REQUESTS: u32 = 256;
/// Time to the response headers when the config names no limit.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Open connections when the config names no limit.
const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
/// Time a client has to send a request's headers when the config names no limit.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a kept-alive connection may wait for its next request when the
/// config names no limit.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Requests served on one connection when the config names no limit.
const DEFAULT_MAX_REQUESTS_PER_CONNECTION: u32 = 1000;
/// Request bodies in flight, as a multiple of the largest body, when the
/// config names no limit. Parsed, a body takes up to about 40 times its size
/// (a list of zeros, measured): two bodies of the largest size bound what
/// waiting requests hold to about 300 MiB by default.
const DEFAULT_BODY_BYTES_IN_FLIGHT_FACTOR: u64 = 2;
/// Open sessions when the config names no limit.
const DEFAULT_MAX_SESSIONS: u32 = 1024;
/// Time a session may go without a request when the config names no limit.
const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// `[server.http]` and `[server.auth]`.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Serve HTTP on this address instead of stdio.
    pub listen: Option<std::net::SocketAddr>,
    /// The address clients use (`https://mcp.example.com`), when it is not
    /// the bound one: behind a proxy or TLS. It names the protected resource
    /// in the OAuth metadata and `WWW-Authenticate`, is the default JWT
    /// audience, and its host is allowed.
    pub public_url: Option<url::Url>,
    /// Accepted `Host` header values, besides the loopback names.
    pub allowed_hosts: Vec<String>,
    /// Accepted `Origin` values (e.g. `https://app.example.com:443`);
    /// empty means loopback origins only.
    pub allowed_origins: Vec<String>,
    /// The largest request body.
    pub max_body_size: u64,
    /// Requests served at once; more get 503.
    pub max_concurrent_requests: u32,
    /// The longest time a request may take to get its response headers.
    pub request_timeout: Duration,
    /// Open connections at most (each holds a file descriptor). Under
    /// pressure, connections that are not inside a request are closed first.
    pub max_connections: u32,
    /// The time a client has to send a request's headers, counted from its
    /// first byte (or from the connection's opening, for its first request).
    pub header_read_timeout: Duration,
    /// The time a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Requests served on one connection; the last answer closes it.
    pub max_requests_per_connection: u32,
    /// Bytes of request bodies in flight at once, all requests together;
    /// beyond it a request gets 503. At least `max_body_size`.
    pub max_body_bytes_in_flight: u64,
    /// Sessions (2025-11-25 clients) open at once; beyond it a new session
    /// gets 503.
    pub max_sessions: u32,
    /// A session with no request in flight for this long is ended.
    pub session_idle_timeout: Duration,
    /// Serve a non-loopback address without authentication.
    pub allow_unauthenticated: bool,
    /// A file of bearer tokens (see README).
    pub tokens_file: Option<PathBuf>,
    /// An environment variable holding comma-separated bearer tokens.
    pub tokens_env: Option<String>,
    /// Authorization servers advertised in the protected-resource metadata.
    pub authorization_servers: Vec<String>,
    /// JWT bearer tokens, when configured.
    pub jwt: Option<JwtSettings>,
    /// Scope → tools a token with that scope may use (`"*"`: every tool).
    /// Empty: every token may use every tool.
    pub scopes: BTreeMap<String, Vec<String>>,
}

/// `[server.auth.jwt]`: how JWT bearer tokens are verified.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// Required `iss` claim.
    pub issuer: String,
    /// Required `aud` claim; by default the resource's URL
    /// ([`HttpSettings::resource_url`]).
    pub audience: Option<String>,
    /// Environment variable holding the HS256 shared secret.
    pub hs256_secret_env: Option<String>,
    /// A JWKS file with the RS256/ES256 public keys.
    pub jwks_file: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    listen: Option<std::net::SocketAddr>,
    public_url: Option<String>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    max_body_size: Option<MemorySize>,
    max_concurrent_requests: Option<Positive<u32>>,
    request_timeout: Option<Timeout>,
    max_connections: Option<Positive<u32>>,
    header_read_timeout: Option<Timeout>,
    idle_timeout: Option<Timeout>,
    max_requests_per_connection: Option<Positive<u32>>,
    max_body_bytes_in_flight: Option<MemorySize>,
    max_sessions: Option<Positive<u32>>,
    session_idle_timeout: Option<Timeout>,
    #[serde(default)]
    allow_unauthenticated: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    tokens_file: Option<PathBuf>,
    tokens_env: Option<String>,
    #[serde(default)]
    authorization_servers: Vec<String>,
    jwt: Option<JwtSettings>,
    #[serde(default)]
    scopes: BTreeMap<String, Vec<String>>,
}

/// The validated settings; relative paths are resolved against `base`.
/// A setting that contradicts another is an error: the dotted key and what
/// to write instead.
pub(super) fn resolve(
    http: RawHttp,
    auth: RawAuth,
    base: &Path,
) -> Result<HttpSettings, (String, String)> {
    let max_body_size = http.max_body_size.map_or(DEFAULT_MAX_BODY, |m| m.0);
    let max_body_bytes_in_flight = http.max_body_bytes_in_flight.map_or(
        max_body_size.saturating_mul(DEFAULT_BODY_BYTES_IN_FLIGHT_FACTOR),
        |m| m.0,
    );
    if max_body_bytes_in_flight < max_body_size {
        return Err((
            "server.http.max_body_bytes_in_flight".into(),
            format!(
                "{} is smaller than server.http.max_body_size ({}), so the largest request \
                 could never be served: give at least {}",
                bytesize::ByteSize(max_body_bytes_in_flight).display().iec(),
                bytesize::ByteSize(max_body_size).display().iec(),
                as_toml_size(max_body_size),
            ),
        ));
    }
    let public_url = http.public_url.as_deref().map(public_url).transpose()?;
    let mut allowed_hosts = http.allowed_hosts;
    if let Some(host) = public_url.as_ref().and_then(url::Url::host_str) {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            allowed_hosts.push(host.to_owned());
        }
    }
    Ok(HttpSettings {
        listen: http.listen,
        public_url,
        allowed_hosts,
        allowed_origins: http.allowed_origins,
        max_body_size,
        max_concurrent_requests: http
            .max_concurrent_requests
            .map_or(DEFAULT_MAX_REQUESTS, |n| n.0),
        request_timeout: http
            .request_timeout
            .map_or(DEFAULT_REQUEST_TIMEOUT, |t| t.0),
        max_connections: http
            .max_connections
            .map_or(DEFAULT_MAX_CONNECTIONS, |n| n.0),
        header_read_timeout: http
            .header_read_timeout
            .map_or(DEFAULT_HEADER_READ_TIMEOUT, |t| t.0),
        idle_timeout: http.idle_timeout.map_or(DEFAULT_IDLE_TIMEOUT, |t| t.0),
        max_requests_per_connection: http
            .max_requests_per_connection
            .map_or(DEFAULT_MAX_REQUESTS_PER_CONNECTION, |n| n.0),
        max_body_bytes_in_flight,
        max_sessions: http.max_sessions.map_or(DEFAULT_MAX_SESSIONS, |n| n.0),
        session_idle_timeout: http
            .session_idle_timeout
            .map_or(DEFAULT_SESSION_IDLE_TIMEOUT, |t| t.0),
        allow_unauthenticated: http.allow_unauthenticated,
        tokens_file: auth.tokens_file.map(|f| base.join(f)),
        tokens_env: auth.tokens_env,
        authorization_servers: auth.authorization_servers,
        jwt: auth.jwt.map(|jwt| JwtSettings {
            jwks_file: jwt.jwks_file.map(|f| base.join(f)),
            ..jwt
        }),
        scopes: auth.scopes,
    })
}

/// Reads `server.http.public_url`: an absolute `http` or `https` URL of
/// an origin (scheme, host, optional port), which the `/mcp` endpoint and
/// the metadata are served under.
fn public_url(text: &str) -> Result<url::Url, (String, String)> {
    let key = || "server.http.public_url".to_owned();
    let url = url::Url::parse(text).map_err(|e| {
        (
            key(),
            format!("{text:?} is not a URL ({e}): write the address clients use, e.g. \"https://mcp.example.com\""),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err((
            key(),
            format!(
                "{text:?} is not an http or https address: write e.g. \"https://mcp.example.com\""
            ),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err((
            key(),
            "the URL holds credentials (user:password@): give only the scheme, host and port"
                .to_owned(),
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err((
            key(),
            format!(
                "{text:?} has a path, query or fragment: give only the scheme, host and port \
                 (Corral serves /mcp and /.well-known/ under it; a proxy that adds a path prefix \
                 is not supported)"
            ),
        ));
    }
    Ok(url)
}

impl HttpSettings {
    /// The URL clients reach `/mcp` at: under `public_url` when there is
    /// one, else under the bound address `local`. It names the protected
    /// resource (RFC 9728) and is the default JWT audience.
    pub fn resource_url(&self, local: std::net::SocketAddr) -> String {
        format!("{}/mcp", self.origin(local))
    }

    /// Where the protected-resource metadata is served (RFC 9728; the
    /// same document is also served at the path-based location
    /// `/.well-known/oauth-protected-resource/mcp`).
    pub fn metadata_url(&self, local: std::net::SocketAddr) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource",
            self.origin(local)
        )
    }

    /// The JWT audience: the configured one, else the resource's URL.
    pub fn jwt_audience(&self, local: std::net::SocketAddr) -> Option<String> {
        let jwt = self.jwt.as_ref()?;
        Some(
            jwt.audience
                .clone()
                .unwrap_or_else(|| self.resource_url(local)),
        )
    }

    fn origin(&self, local: std::net::SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{local}"),
        }
    }
}

/// `bytes` as a size to write in the config, e.g. `"8MiB"`.
fn as_toml_size(bytes: u64) -> String {
    match bytes {
        b if b % (1 << 20) == 0 => format!("\"{}MiB\"", b >> 20),
        b if b % (1 << 10) == 0 => format!("\"{}KiB\"", b >> 10),
        b => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::config::{Config, ConfigError};

    fn parse(http: &str) -> Result<Config, ConfigError> {
        Config::parse(
            &format!("[server.http]\n{http}\n[components.calc]\npath = \"calc.wasm\"\n"),
            Path::new("/etc/corral/corral.toml"),
        )
    }

    #[test]
    fn the_front_door_has_bounds_by_default() {
        let http = parse("").unwrap().server.http;
        assert_eq!(http.max_connections, 1024);
        assert_eq!(http.header_read_timeout, Duration::from_secs(10));
        assert_eq!(http.idle_timeout, Duration::from_secs(60));
        assert_eq!(http.max_requests_per_connection, 1000);
        assert_eq!(http.max_body_bytes_in_flight, 2 * http.max_body_size);
        assert_eq!(http.max_sessions, 1024);
        assert_eq!(http.session_idle_timeout, Duration::from_secs(300));
    }

    #[test]
    fn the_front_door_bounds_are_read_and_checked() {
        let http = parse(
            "max_connections = 64\nheader_read_timeout = \"2s\"\nidle_timeout = \"5s\"\n\
             max_requests_per_connection = 10\nmax_body_size = \"1MiB\"\n\
             max_body_bytes_in_flight = \"3MiB\"\nmax_sessions = 7\nsession_idle_timeout = \"1m\"",
        )
        .unwrap()
        .server
        .http;
        assert_eq!(http.max_connections, 64);
        assert_eq!(http.header_read_timeout, Duration::from_secs(2));
        assert_eq!(http.idle_timeout, Duration::from_secs(5));
        assert_eq!(http.max_requests_per_connection, 10);
        assert_eq!(http.max_body_bytes_in_flight, 3 << 20);
        assert_eq!(http.max_sessions, 7);
        assert_eq!(http.session_idle_timeout, Duration::from_secs(60));

        let error = parse("max_body_size = \"8MiB\"\nmax_body_bytes_in_flight = \"4MiB\"")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("server.http.max_body_bytes_in_flight"),
            "{error}"
        );
        assert!(error.contains("give at least \"8MiB\""), "{error}");
        assert!(parse("max_connections = 0").is_err());
    }

    #[test]
    fn the_public_url_names_the_resource_and_is_allowed() {
        let local: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let http = parse("").unwrap().server.http;
        assert_eq!(http.resource_url(local), "http://127.0.0.1:8080/mcp");

        let http = parse("public_url = \"https://MCP.example.com\"")
            .unwrap()
            .server
            .http;
        assert_eq!(http.resource_url(local), "https://mcp.example.com/mcp");
        assert_eq!(
            http.metadata_url(local),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(http.allowed_hosts, ["mcp.example.com"]);

        for bad in [
            "mcp.example.com",
            "ftp://mcp.example.com",
            "https://mcp.example.com/corral",
            "https://user:pw@mcp.example.com",
        ] {
            let error = parse(&format!("public_url = {bad:?}"))
                .unwrap_err()
                .to_string();
            assert!(error.contains("server.http.public_url"), "{error}");
            assert!(!error.contains("pw@"), "{error}");
        }
    }
}
