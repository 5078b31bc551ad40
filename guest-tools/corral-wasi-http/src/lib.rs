//! A blocking HTTP GET for guests, through `wasi:http/outgoing-handler`.
//!
//! Shared by the `http-fetch` tool and the `escapes` test component. Every
//! request goes through the host's outgoing handler, so the host decides
//! whether it is made at all; when it refuses, the error names the wasi:http
//! `error-code` (for example `HttpRequestDenied`) so a caller can tell a
//! denial from a network failure.
//!
//! The URL parsing is deliberately small: `http` and `https` URLs with a host,
//! an optional port, a path and a query. Fragments are dropped, credentials in
//! the URL are refused, and bytes a request line cannot carry (spaces,
//! non-ASCII) are percent-encoded.

use std::fmt;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingRequest, Scheme, http_error_code,
};
use wasip2::io::streams::StreamError;

/// The largest chunk asked of the body stream at once.
const CHUNK: usize = 64 * 1024;

/// The `User-Agent` every request carries.
const USER_AGENT: &[u8] = b"corral-guest/0.1 (wasi:http)";

/// An absolute `http` or `https` URL, split the way `wasi:http` wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// `true` for `https`.
    pub https: bool,
    /// Host and optional port, e.g. `example.com:8080` or `[::1]:80`.
    pub authority: String,
    /// Path and query, always starting with `/`.
    pub path_and_query: String,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL.
    pub fn parse(url: &str) -> Result<Url, String> {
        let trimmed = url.trim();
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(format!(
                "{url:?} is not an absolute URL: write it as http://host/path or https://host/path"
            ));
        };
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => {
                return Err(format!(
                    "unsupported URL scheme {scheme:?} in {url:?}: only http and https are supported"
                ));
            }
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() {
            return Err(format!("{url:?} has no host name"));
        }
        if authority.contains('@') {
            return Err(format!(
                "{url:?} contains credentials (user@host); they are not supported"
            ));
        }
        if let Some(bad) = authority
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '\\' | '"' | '<' | '>'))
        {
            return Err(format!(
                "the host in {url:?} contains an invalid character {bad:?}"
            ));
        }
        check_port(authority).map_err(|problem| format!("{url:?} has {problem}"))?;
        let path_and_query = match path.chars().next() {
            None => "/".to_string(),
            Some('?') => format!("/{}", percent_encode(path)),
            Some(_) => percent_encode(path),
        };
        Ok(Url {
            https,
            authority: authority.to_string(),
            path_and_query,
        })
    }

    /// Resolves `reference` (a `Location` header: absolute, scheme-relative,
    /// absolute-path or relative) against this URL.
    pub fn join(&self, reference: &str) -> Result<Url, String> {
        let reference = reference.trim();
        if reference.contains("://") {
            return Url::parse(reference);
        }
        let scheme = if self.https { "https" } else { "http" };
        if let Some(rest) = reference.strip_prefix("//") {
            return Url::parse(&format!("{scheme}://{rest}"));
        }
        let path = self
            .path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path);
        let joined = if reference.starts_with('/') {
            reference.to_string()
        } else if reference.starts_with('?') {
            format!("{path}{reference}")
        } else if reference.is_empty() {
            self.path_and_query.clone()
        } else {
            let directory = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            format!("{directory}/{reference}")
        };
        Url::parse(&format!("{scheme}://{}{joined}", self.authority))
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority, self.path_and_query)
    }
}

/// Checks the port of `host:port` or `[v6]:port`, if there is one.
fn check_port(authority: &str) -> Result<(), String> {
    let after_host = match authority.rfind(']') {
        Some(end) => &authority[end + 1..],
        None => authority,
    };
    let Some((_, port)) = after_host.rsplit_once(':') else {
        return Ok(());
    };
    match port.parse::<u16>() {
        Ok(1..) => Ok(()),
        _ if port.is_empty() => Err("an empty port after ':'".to_string()),
        _ => Err(format!("an invalid port {port:?} (use 1 to 65535)")),
    }
}

/// Percent-encodes the bytes a request target cannot carry as they are.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte <= b' ' || byte >= 0x7f || matches!(byte, b'"' | b'<' | b'>' | b'`') {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

/// What came back from a GET.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Location` header, if any (redirects).
    pub location: Option<String>,
    /// The body, at most the `max_body` bytes asked for.
    pub body: Vec<u8>,
    /// Whether the body was longer than `max_body` and was cut.
    pub truncated: bool,
}

impl Response {
    /// The body as text: invalid UTF-8 becomes U+FFFD, and a character cut in
    /// half by truncation is dropped rather than replaced.
    pub fn text(&self) -> String {
        let mut body = self.body.as_slice();
        if self.truncated
            && let Err(err) = std::str::from_utf8(body)
            && err.error_len().is_none()
        {
            body = &body[..err.valid_up_to()];
        }
        String::from_utf8_lossy(body).into_owned()
    }
}

/// Sends `GET url` through `wasi:http/outgoing-handler` and reads at most
/// `max_body` bytes of the response body. Redirects are not followed: a 3xx
/// response comes back as it is, with its `location`.
pub fn get(url: &Url, max_body: usize) -> Result<Response, String> {
    let headers = Fields::new();
    for (name, value) in [("user-agent", USER_AGENT), ("accept", b"*/*".as_slice())] {
        headers
            .append(name, value)
            .map_err(|err| format!("cannot set the {name} header: {err:?}"))?;
    }
    let request = OutgoingRequest::new(headers);
    request
        .set_method(&Method::Get)
        .map_err(|()| "the host refused the GET method".to_string())?;
    let scheme = if url.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| format!("the host refused the scheme of {url}"))?;
    request
        .set_authority(Some(&url.authority))
        .map_err(|()| format!("invalid host or port {:?} in {url}", url.authority))?;
    request
        .set_path_with_query(Some(&url.path_and_query))
        .map_err(|()| format!("invalid path {:?} in {url}", url.path_and_query))?;

    let future = outgoing_handler::handle(request, None)
        .map_err(|err| format!("GET {url} failed: {}", describe(&err)))?;
    let response = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(err))) => return Err(format!("GET {url} failed: {}", describe(&err))),
            Some(Err(())) => return Err(format!("GET {url}: the response was already taken")),
            None => future.subscribe().block(),
        }
    };
    drop(future);

    let status = response.status();
    let response_headers = response.headers();
    let header = |name: &str| {
        response_headers
            .get(name)
            .first()
            .map(|value| String::from_utf8_lossy(value).into_owned())
    };
    let content_type = header("content-type");
    let location = header("location");
    drop(response_headers);

    let body = response
        .consume()
        .map_err(|()| format!("GET {url}: the response body was already consumed"))?;
    let (bytes, truncated) = read_body(&body, max_body)
        .map_err(|err| format!("GET {url}: reading the body failed: {err}"))?;
    if !truncated {
        drop(IncomingBody::finish(body));
    }
    Ok(Response {
        status,
        content_type,
        location,
        body: bytes,
        truncated,
    })
}

/// Reads at most `max_body` bytes; the flag says whether more were there.
fn read_body(body: &IncomingBody, max_body: usize) -> Result<(Vec<u8>, bool), String> {
    let stream = body
        .stream()
        .map_err(|()| "the body stream was already taken".to_string())?;
    let mut bytes = Vec::new();
    loop {
        let want = (max_body + 1 - bytes.len()).min(CHUNK);
        match stream.blocking_read(want as u64) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > max_body {
                    bytes.truncate(max_body);
                    return Ok((bytes, true));
                }
            }
            Err(StreamError::Closed) => return Ok((bytes, false)),
            Err(StreamError::LastOperationFailed(err)) => {
                return Err(match http_error_code(&err) {
                    Some(code) => describe(&code),
                    None => err.to_debug_string(),
                });
            }
        }
    }
}

/// A wasi:http error code as text: a short explanation where one helps,
/// always followed by the code's own name, e.g. "the host does not allow this
/// component to make this request (HttpRequestDenied)".
pub fn describe(error: &ErrorCode) -> String {
    let debug = format!("{error:?}");
    let name = debug.strip_prefix("ErrorCode::").unwrap_or(&debug);
    let hint = match error {
        ErrorCode::HttpRequestDenied => {
            Some("the host does not allow this component to make this request")
        }
        ErrorCode::DnsError(payload) => {
            let detail = payload.rcode.as_deref().unwrap_or("no details");
            return format!("the host name could not be resolved (DnsError: {detail})");
        }
        ErrorCode::DnsTimeout => Some("the host name could not be resolved"),
        ErrorCode::DestinationNotFound => Some("the server was not found"),
        ErrorCode::DestinationUnavailable | ErrorCode::ConnectionRefused => {
            Some("the server refused the connection")
        }
        ErrorCode::DestinationIpProhibited => {
            Some("the host does not allow connections to this address")
        }
        ErrorCode::ConnectionTimeout => Some("connecting to the server timed out"),
        ErrorCode::ConnectionReadTimeout => Some("the server stopped sending data"),
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => Some("the TLS (https) handshake failed"),
        ErrorCode::HttpRequestUriInvalid => Some("the host rejected the URL"),
        _ => None,
    };
    match hint {
        Some(hint) => format!("{hint} ({name})"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(https: bool, authority: &str, path: &str) -> Url {
        Url {
            https,
            authority: authority.to_string(),
            path_and_query: path.to_string(),
        }
    }

    #[test]
    fn parses_urls() {
        assert_eq!(
            Url::parse("https://example.com").unwrap(),
            url(true, "example.com", "/")
        );
        assert_eq!(
            Url::parse(" HTTP://127.0.0.1:8080/a/b?c=d#frag ").unwrap(),
            url(false, "127.0.0.1:8080", "/a/b?c=d")
        );
        assert_eq!(
            Url::parse("http://[::1]:80?q").unwrap(),
            url(false, "[::1]:80", "/?q")
        );
        assert_eq!(
            Url::parse("https://h/a b/é").unwrap().path_and_query,
            "/a%20b/%C3%A9"
        );
        assert_eq!(
            Url::parse("https://h/x").unwrap().to_string(),
            "https://h/x"
        );
    }

    #[test]
    fn refuses_what_it_cannot_send() {
        for bad in [
            "example.com",
            "ftp://example.com/",
            "file:///etc/passwd",
            "https:///path",
            "https://user:pw@example.com/",
            "http://exa mple.com/",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:0/",
            "http://example.com:/",
            "http://[::1]:x/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_locations() {
        let base = Url::parse("http://a.example/dir/page?x=1").unwrap();
        let join = |r: &str| base.join(r).unwrap().to_string();
        assert_eq!(join("https://b.example/"), "https://b.example/");
        assert_eq!(join("//c.example/p"), "http://c.example/p");
        assert_eq!(join("/root"), "http://a.example/root");
        assert_eq!(join("other"), "http://a.example/dir/other");
        assert_eq!(join("?y=2"), "http://a.example/dir/page?y=2");
    }

    #[test]
    fn truncated_text_drops_a_split_character() {
        let response = Response {
            status: 200,
            content_type: None,
            location: None,
            body: "aé".as_bytes()[..2].to_vec(),
            truncated: true,
        };
        assert_eq!(response.text(), "a");
    }
}
