//! The Host check, for every endpoint.
//!
//! A web page reached through DNS rebinding talks to the server under the
//! attacker's host name; refusing every `Host` that is neither a loopback
//! name nor one the operator allowed keeps such a page from reading
//! `/metrics` or the health endpoints, not only from calling tools.
//! rmcp checks `/mcp` the same way; this layer covers the whole router.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host names (and optional ports) requests may be addressed to.
pub(crate) struct AllowedHosts {
    allowed: Vec<(String, Option<u16>)>,
}

impl AllowedHosts {
    /// The loopback names plus `extra` (`name` or `name:port`, as in
    /// `server.http.allowed_hosts`).
    pub(crate) fn new(extra: &[String]) -> AllowedHosts {
        let allowed = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|h| (*h).to_owned())
            .chain(extra.iter().cloned())
            .filter_map(|entry| {
                let entry = entry.trim();
                match entry.parse::<axum::http::uri::Authority>() {
                    Ok(authority) => Some((normalize(authority.host()), authority.port_u16())),
                    Err(_) if !entry.is_empty() => Some((normalize(entry), None)),
                    Err(_) => None,
                }
            })
            .collect();
        AllowedHosts { allowed }
    }

    /// The names the `/mcp` service (rmcp) is configured with.
    pub(crate) fn names(extra: &[String]) -> Vec<String> {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        names.extend(extra.iter().cloned());
        names
    }

    /// Whether a request for `authority` (a `Host` value) is allowed.
    fn allows(&self, authority: &str) -> bool {
        let Ok(authority) = authority.parse::<axum::http::uri::Authority>() else {
            return false;
        };
        let host = normalize(authority.host());
        let port = authority.port_u16();
        self.allowed.iter().any(|(name, allowed_port)| {
            *name == host && allowed_port.is_none_or(|p| Some(p) == port)
        })
    }
}

fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// The `Host` of a request: its header, or the URI's authority.
fn authority(request: &Request) -> Option<&str> {
    match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok(),
        None => request.uri().authority().map(|a| a.as_str()),
    }
}

/// The middleware: 403 for a request addressed to a host not allowed.
pub(crate) async fn check_host(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    if authority(&request).is_some_and(|a| hosts.allows(a)) {
        return next.run(request).await;
    }
    tracing::warn!(
        "refused a request for a host this server does not answer to (possible DNS rebinding)"
    );
    (
        StatusCode::FORBIDDEN,
        "Forbidden: this server does not answer to that Host \
         (server.http.allowed_hosts lists the names it answers to besides loopback)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_hosts_with_their_ports() {
        let hosts = AllowedHosts::new(&["mcp.example.com".into(), "api.example.com:8443".into()]);
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:9",
            "MCP.example.com",
            "mcp.example.com:443",
            "api.example.com:8443",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "api.example.com",
            "api.example.com:443",
            "localhost.evil.example",
            "",
            "a b",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }
}
