//! Connection hygiene: peers that never finish their headers, idle
//! kept-alive connections, floods of connections and a low descriptor limit
//! cannot keep a client that sends a whole request from being served.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use serde_json::json;

use super::{Corral, GUARD, Session, Start, call, config, long_spin, until};

/// A raw HTTP/1.1 response: status, lower-cased header lines, body.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response with a `Content-Length` body from `stream`.
async fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed before a whole response");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed inside a body");
        body.extend_from_slice(&chunk[..n]);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Sends `GET path` on `stream`, keeping the connection alive.
async fn get(stream: &mut TcpStream, path: &str) -> RawResponse {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream).await
}

/// Waits until the server closes `stream` (end of file or reset).
async fn closed_by_server(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(GUARD, stream.read(&mut byte))
        .await
        .expect("the server never closed the connection");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected the connection to close, read {read:?}"
    );
}

/// A connection that sent part of a request's headers and stops.
async fn slow_peer(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// A whole request on a fresh connection, answered within [`GUARD`].
async fn whole_request(addr: SocketAddr) -> RawResponse {
    tokio::time::timeout(GUARD, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        get(&mut stream, "/healthz").await
    })
    .await
    .expect("a whole request was not answered: the server is locked out")
}

#[tokio::test]
async fn a_whole_request_is_served_while_slow_peers_exhaust_the_descriptors() {
    // 256 descriptors, the default max_connections (1024) above it, and
    // header timeouts that never fire during the test: only shedding the
    // slow peers (oldest first) can make room.
    let server = Corral::start(Start {
        config: &config("", "header_read_timeout = \"1h\"", ""),
        http: true,
        nofile: Some(256),
        ..Start::default()
    });
    let addr = server.addr.unwrap();
    let mut slow = Vec::new();
    for _ in 0..400 {
        slow.push(slow_peer(addr).await);
    }
    let response = whole_request(addr).await;
    assert_eq!(response.status, 200, "{}", server.log());
    assert_eq!(response.body, b"ok\n");
    // A second one too: the server keeps accepting.
    assert_eq!(whole_request(addr).await.status, 200);
}

#[tokio::test]
async fn past_max_connections_slow_and_idle_peers_make_room() {
    let server = Corral::http(&config(
        "",
        "max_connections = 16\nheader_read_timeout = \"1h\"\nidle_timeout = \"1h\"",
        "",
    ));
    let addr = server.addr.unwrap();
    let mut peers = Vec::new();
    for _ in 0..8 {
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert_eq!(get(&mut idle, "/healthz").await.status, 200);
        peers.push(idle);
    }
    for _ in 0..40 {
        peers.push(slow_peer(addr).await);
    }
    for _ in 0..3 {
        assert_eq!(whole_request(addr).await.status, 200);
    }
}

#[tokio::test]
async fn when_every_connection_is_inside_a_request_a_new_one_gets_503() {
    let server = Corral::http(&long_spin(
        &config("max_concurrent_calls = 4", "max_connections = 2", ""),
        "30s",
    ));
    let addr = server.addr.unwrap();
    // Two sessions, each on its own connection with a call in flight whose
    // answer streams: both connections are inside a request.
    let mut spinning = Vec::new();
    for _ in 0..2 {
        let session = Session::open(&server.mcp(), None).await;
        let response = session.post(&call(1, "spin", json!({}))).await;
        assert_eq!(response.status(), 200);
        spinning.push((session, response));
    }
    let refused = whole_request(addr).await;
    assert_eq!(refused.status, 503, "{}", server.log());
    assert!(refused.header("retry-after").is_some());
    assert_eq!(refused.header("connection"), Some("close"));
    // Once the clients hang up, their connections close and the server
    // serves again.
    drop(spinning);
    until("a request to be served again", || async {
        whole_request(addr).await.status == 200
    })
    .await;
}

#[tokio::test]
async fn a_peer_that_never_finishes_its_headers_is_disconnected() {
    let server = Corral::http(&config(
        "",
        "header_read_timeout = \"1s\"\nidle_timeout = \"1h\"",
        "",
    ));
    let addr = server.addr.unwrap();
    // Silent from the start.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // Headers begun and never finished.
    let mut slow = slow_peer(addr).await;
    // A kept-alive connection that begins a second request and stalls.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    assert_eq!(get(&mut stalled, "/healthz").await.status, 200);
    stalled.write_all(b"GET /healthz HTT").await.unwrap();
    closed_by_server(&mut silent).await;
    closed_by_server(&mut slow).await;
    closed_by_server(&mut stalled).await;
    assert_eq!(whole_request(addr).await.status, 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let server = Corral::http(&config(
        "",
        "idle_timeout = \"1s\"\nheader_read_timeout = \"1h\"",
        "",
    ));
    let addr = server.addr.unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert_eq!(get(&mut idle, "/healthz").await.status, 200);
    closed_by_server(&mut idle).await;
}

#[tokio::test]
async fn a_connection_serves_at_most_max_requests_per_connection() {
    let server = Corral::http(&config("", "max_requests_per_connection = 3", ""));
    let addr = server.addr.unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        let response = get(&mut stream, "/healthz").await;
        assert_eq!(response.status, 200);
        assert_ne!(response.header("connection"), Some("close"));
    }
    let last = get(&mut stream, "/healthz").await;
    assert_eq!(last.status, 200);
    assert_eq!(last.header("connection"), Some("close"));
    closed_by_server(&mut stream).await;
}
