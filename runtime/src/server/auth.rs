//! Bearer-token authentication for the HTTP transport.
//!
//! Static tokens come from a file (one per line, optionally followed by the
//! tools that token may use) or from an environment variable. They are
//! compared in constant time (as SHA-256 digests, so length leaks nothing)
//! and never logged. A missing or wrong token gets 401 with a
//! `WWW-Authenticate` header pointing at the RFC 9728 protected-resource
//! metadata, as MCP asks of an OAuth resource server.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who a request comes from: the tools it may see and call.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// `None`: every tool. `Some`: only these.
    pub tools: Option<Arc<HashSet<String>>>,
}

impl Principal {
    /// Whether this principal may see and call `tool`.
    pub fn allows(&self, tool: &str) -> bool {
        self.tools.as_ref().is_none_or(|t| t.contains(tool))
    }
}

/// A configured token and the tools it may use (`None`: every tool).
pub type TokenEntry = (String, Option<HashSet<String>>);

struct Token {
    digest: [u8; 32],
    principal: Principal,
}

/// The accepted tokens.
pub struct TokenAuth {
    tokens: Vec<Token>,
    metadata_url: String,
}

impl TokenAuth {
    /// Parses a tokens file: one token per line, optionally followed by
    /// whitespace and a comma-separated list of tool names; `#` starts a
    /// comment line.
    pub fn parse_file(text: &str, source: &Path) -> Result<Vec<TokenEntry>, String> {
        let mut tokens = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let token = parts.next().unwrap_or_default().to_owned();
            let tools = parts
                .next()
                .map(|t| t.split(',').map(str::to_owned).collect());
            if parts.next().is_some() || token.len() < 16 {
                return Err(format!(
                    "{} line {}: expected `TOKEN` or `TOKEN tool_a,tool_b`, with a token of at least 16 characters",
                    source.display(),
                    i + 1
                ));
            }
            tokens.push((token, tools));
        }
        Ok(tokens)
    }

    /// Builds the checker; `metadata_url` is advertised in 401 answers.
    pub fn new(tokens: Vec<TokenEntry>, metadata_url: String) -> TokenAuth {
        TokenAuth {
            tokens: tokens
                .into_iter()
                .map(|(token, tools)| Token {
                    digest: Sha256::digest(token.as_bytes()).into(),
                    principal: Principal {
                        tools: tools.map(Arc::new),
                    },
                })
                .collect(),
            metadata_url,
        }
    }

    /// The principal of `token`, comparing against every known token in
    /// constant time.
    fn check(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for known in &self.tokens {
            if bool::from(known.digest.ct_eq(&digest)) {
                found = Some(known.principal.clone());
            }
        }
        found
    }

    fn unauthorized(&self, error: &str) -> Response {
        let challenge = format!(
            "Bearer error=\"invalid_token\", error_description=\"{error}\", resource_metadata=\"{}\"",
            self.metadata_url
        );
        let mut response = (StatusCode::UNAUTHORIZED, format!("{error}\n")).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The axum middleware: lets a request through with its [`Principal`]
/// attached, or answers 401.
pub async fn require_token(
    State(auth): State<Arc<TokenAuth>>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = presented else {
        return auth.unauthorized("a bearer token is required");
    };
    match auth.check(token) {
        Some(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        None => {
            tracing::warn!("refused a request with an unknown bearer token");
            auth.unauthorized("the bearer token is not valid")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_file_lines_and_tool_lists() {
        let parsed = TokenAuth::parse_file(
            "# ops\nAAAAAAAAAAAAAAAAAAAA\nBBBBBBBBBBBBBBBBBBBB add,divide\n",
            Path::new("t"),
        )
        .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].1.as_ref().unwrap().len(), 2);
        assert!(TokenAuth::parse_file("short\n", Path::new("t")).is_err());
        let auth = TokenAuth::new(
            parsed,
            "http://x/.well-known/oauth-protected-resource".into(),
        );
        assert!(
            auth.check("AAAAAAAAAAAAAAAAAAAA")
                .unwrap()
                .allows("anything")
        );
        let limited = auth.check("BBBBBBBBBBBBBBBBBBBB").unwrap();
        assert!(limited.allows("add") && !limited.allows("spin"));
        assert!(auth.check("CCCCCCCCCCCCCCCCCCCC").is_none());
    }
}
