//! Bearer-token authentication for the HTTP transport.
//!
//! Static tokens come from a file (one per line, optionally followed by the
//! tools that token may use) or from an environment variable. They are
//! compared in constant time (as SHA-256 digests, so length leaks nothing)
//! and never logged. JWTs are verified (HS256 with a shared secret, or
//! RS256/ES256 with keys from a JWKS file) with issuer, audience and expiry
//! checked; their `scope` claim maps to tool allowlists. A missing or wrong token gets 401 with a
//! `WWW-Authenticate` header pointing at the RFC 9728 protected-resource
//! metadata, as MCP asks of an OAuth resource server.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{HttpSettings, JwtSettings};

/// Who a request comes from: the tools it may see and call, and who owns
/// what it opens.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// `None`: every tool. `Some`: only these.
    pub tools: Option<Arc<HashSet<String>>>,
    /// Who this is, for ownership (sessions): a static token's digest, or a
    /// JWT's issuer and subject. `None` without authentication.
    owner: Option<Arc<str>>,
}

impl Principal {
    /// Whether this principal may see and call `tool`.
    pub fn allows(&self, tool: &str) -> bool {
        self.tools.as_ref().is_none_or(|t| t.contains(tool))
    }

    /// Whether this principal may use everything the server offers: a
    /// token limited to some tools sees no resources or prompts (they
    /// are not tools, so its list cannot name them).
    pub fn allows_all(&self) -> bool {
        self.tools.is_none()
    }

    /// Who owns what this principal opens; equal for the same token (or
    /// the same JWT subject), never a secret.
    pub(crate) fn owner(&self) -> Option<&Arc<str>> {
        self.owner.as_ref()
    }

    /// A principal that may use only `tools`, for tests.
    #[cfg(test)]
    pub(crate) fn limited<'a>(tools: impl IntoIterator<Item = &'a str>) -> Principal {
        Principal {
            tools: Some(Arc::new(tools.into_iter().map(str::to_owned).collect())),
            owner: Some("test".into()),
        }
    }
}

/// A short, stable name for a token, derived from its digest: it tells
/// tokens apart without revealing them.
fn digest_name(kind: &str, digest: &[u8]) -> Arc<str> {
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{kind}:{hex}").into()
}

/// A configured token and the tools it may use (`None`: every tool).
pub(super) type TokenEntry = (String, Option<HashSet<String>>);

struct Token {
    digest: [u8; 32],
    principal: Principal,
}

/// The accepted tokens.
pub(super) struct TokenAuth {
    tokens: Vec<Token>,
    jwt: Option<JwtVerifier>,
    metadata_url: String,
}

/// Verifies JWT bearer tokens and maps their scopes to tools.
pub(super) struct JwtVerifier {
    /// Each key with its id and the checks a token signed by it must pass
    /// (built once, at start).
    keys: Vec<(Option<String>, DecodingKey, Validation)>,
    /// Scope → tools; `"*"` means every tool. Empty: every tool.
    scopes: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct Claims {
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
}

impl JwtVerifier {
    /// Loads the keys named by `settings`; tokens must name `audience`.
    pub(super) fn new(
        settings: &JwtSettings,
        audience: &str,
        scopes: BTreeMap<String, Vec<String>>,
    ) -> Result<JwtVerifier, String> {
        let mut keys = Vec::new();
        if let Some(name) = &settings.hs256_secret_env {
            let secret = std::env::var(name).map_err(|_| {
                format!(
                    "server.auth.jwt.hs256_secret_env: the environment variable {name} is not set"
                )
            })?;
            if secret.len() < 32 {
                return Err(format!(
                    "the HS256 secret in {name} is shorter than 32 bytes: use a longer random secret"
                ));
            }
            keys.push((
                None,
                Algorithm::HS256,
                DecodingKey::from_secret(secret.as_bytes()),
            ));
        }
        if let Some(path) = &settings.jwks_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read JWKS {}: {e}", path.display()))?;
            let set: JwkSet = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a JWKS document: {e}", path.display()))?;
            for jwk in &set.keys {
                let algorithm = match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => continue,
                };
                let key = DecodingKey::from_jwk(jwk)
                    .map_err(|e| format!("unusable key in {}: {e}", path.display()))?;
                keys.push((jwk.common.key_id.clone(), algorithm, key));
            }
        }
        if keys.is_empty() {
            return Err(
                "server.auth.jwt needs hs256_secret_env or a jwks_file with RS256/ES256 keys"
                    .into(),
            );
        }
        let keys = keys
            .into_iter()
            .map(|(kid, algorithm, key)| {
                let mut validation = Validation::new(algorithm);
                validation.set_issuer(&[&settings.issuer]);
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                (kid, key, validation)
            })
            .collect();
        Ok(JwtVerifier { keys, scopes })
    }

    fn verify(&self, token: &str) -> Option<Principal> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let claims = self
            .keys
            .iter()
            .filter(|(kid, _, validation)| {
                validation.algorithms.contains(&header.alg)
                    && (header.kid.is_none() || kid.is_none() || *kid == header.kid)
            })
            .find_map(|(_, key, validation)| {
                jsonwebtoken::decode::<Claims>(token, key, validation).ok()
            })?
            .claims;
        // A refreshed token of the same subject is the same owner; a token
        // without a subject owns only what it opened itself.
        let owner = match (&claims.iss, &claims.sub) {
            (Some(iss), Some(sub)) => format!("jwt:{iss} {sub}").into(),
            _ => digest_name("jwt", &Sha256::digest(token.as_bytes())),
        };
        let everything = Principal {
            tools: None,
            owner: Some(owner.clone()),
        };
        if self.scopes.is_empty() {
            return Some(everything);
        }
        let mut tools = HashSet::new();
        for scope in claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
        {
            for tool in self.scopes.get(scope).into_iter().flatten() {
                if tool == "*" {
                    return Some(everything);
                }
                tools.insert(tool.clone());
            }
        }
        Some(Principal {
            tools: Some(Arc::new(tools)),
            owner: Some(owner),
        })
    }
}

/// What `corral check` verifies of authentication: every credential
/// loads as `serve` would load it, on `settings.listen` (or a loopback
/// address when the server would serve stdio). The warnings name tokens
/// and scopes that list tools no component offers (`tools`).
pub fn check(settings: &HttpSettings, tools: &[&str]) -> Result<Vec<String>, String> {
    let local = settings
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let offered: HashSet<&str> = tools.iter().copied().collect();
    Ok(load(settings, local)?
        .map(|auth| auth.unknown_tools(&offered))
        .unwrap_or_default())
}

/// Loads every credential `settings` name (the tokens file, the tokens
/// variable, the JWT keys), as the server bound to `local` checks them;
/// `None` when none is configured. The error says which one failed.
pub(super) fn load(
    settings: &HttpSettings,
    local: SocketAddr,
) -> Result<Option<TokenAuth>, String> {
    let mut tokens = Vec::new();
    if let Some(path) = &settings.tokens_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "server.auth.tokens_file: cannot read {}: {e}",
                path.display()
            )
        })?;
        tokens.extend(TokenAuth::parse_file(&text, path)?);
    }
    if let Some(name) = &settings.tokens_env {
        let value = std::env::var(name).map_err(|_| {
            format!("the environment variable {name} (server.auth.tokens_env) is not set")
        })?;
        tokens.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| (t.to_owned(), None)),
        );
    }
    let jwt = match (&settings.jwt, settings.jwt_audience(local)) {
        (Some(jwt), Some(audience)) => {
            Some(JwtVerifier::new(jwt, &audience, settings.scopes.clone())?)
        }
        _ => None,
    };
    if tokens.is_empty() && jwt.is_none() {
        return Ok(None);
    }
    Ok(Some(TokenAuth::new(
        tokens,
        jwt,
        settings.metadata_url(local),
    )))
}

impl TokenAuth {
    /// What names a tool that no component offers (`tools` are the names
    /// offered): a token's list (the token shown by its digest name, never
    /// itself) or a scope. Such an entry grants nothing; it is most likely
    /// a typo or a tool that was renamed.
    pub(super) fn unknown_tools(&self, tools: &HashSet<&str>) -> Vec<String> {
        let mut warnings = Vec::new();
        for token in &self.tokens {
            let Some(allowed) = &token.principal.tools else {
                continue;
            };
            let mut unknown: Vec<&str> = allowed
                .iter()
                .map(String::as_str)
                .filter(|t| !tools.contains(t))
                .collect();
            unknown.sort_unstable();
            if !unknown.is_empty() {
                let owner = token.principal.owner.as_deref().unwrap_or("a token");
                warnings.push(format!(
                    "tokens_file: {owner} lists tools no component offers: {}",
                    unknown.join(", ")
                ));
            }
        }
        if let Some(jwt) = &self.jwt {
            for (scope, names) in &jwt.scopes {
                let unknown: Vec<&str> = names
                    .iter()
                    .map(String::as_str)
                    .filter(|t| *t != "*" && !tools.contains(t))
                    .collect();
                if !unknown.is_empty() {
                    warnings.push(format!(
                        "server.auth.scopes.{scope} names tools no component offers: {}",
                        unknown.join(", ")
                    ));
                }
            }
        }
        warnings
    }

    /// Parses a tokens file: one token per line, optionally followed by
    /// whitespace and a comma-separated list of tool names; `#` starts a
    /// comment line.
    pub(super) fn parse_file(text: &str, source: &Path) -> Result<Vec<TokenEntry>, String> {
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
    pub(super) fn new(
        tokens: Vec<TokenEntry>,
        jwt: Option<JwtVerifier>,
        metadata_url: String,
    ) -> TokenAuth {
        TokenAuth {
            jwt,
            tokens: tokens
                .into_iter()
                .map(|(token, tools)| {
                    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
                    Token {
                        digest,
                        principal: Principal {
                            tools: tools.map(Arc::new),
                            owner: Some(digest_name("token", &digest)),
                        },
                    }
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
        found.or_else(|| self.jwt.as_ref().and_then(|jwt| jwt.verify(token)))
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
pub(super) async fn require_token(
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
            None,
            "http://x/.well-known/oauth-protected-resource".into(),
        );
        assert!(
            auth.check("AAAAAAAAAAAAAAAAAAAA")
                .unwrap()
                .allows("anything")
        );
        let limited = auth.check("BBBBBBBBBBBBBBBBBBBB").unwrap();
        assert!(limited.allows("add") && !limited.allows("spin"));
        // Each token owns what it opens; the owner name never holds it.
        let owner = |t: &str| auth.check(t).unwrap().owner().cloned().unwrap();
        assert_eq!(owner("AAAAAAAAAAAAAAAAAAAA"), owner("AAAAAAAAAAAAAAAAAAAA"));
        assert_ne!(owner("AAAAAAAAAAAAAAAAAAAA"), owner("BBBBBBBBBBBBBBBBBBBB"));
        assert!(!owner("AAAAAAAAAAAAAAAAAAAA").contains("AAAA"));
        assert!(auth.check("CCCCCCCCCCCCCCCCCCCC").is_none());

        let offered: HashSet<&str> = ["add"].into();
        let warnings = auth.unknown_tools(&offered);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("divide"), "{warnings:?}");
        assert!(!warnings[0].contains("BBBB"), "{warnings:?}");
    }
}
