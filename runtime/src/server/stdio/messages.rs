//! Turning a line into a message, or into the JSON-RPC error that answers it.
//!
//! A line that is not a message still gets an answer when it looks like a
//! request: the error carries the request's id when one can be found, even
//! in a line that is not valid JSON or UTF-8, so the client learns which of
//! its requests failed. Lines without an id (notifications, responses) that
//! cannot be read are dropped, as JSON-RPC asks.

use rmcp::model::{ClientJsonRpcMessage, RequestId};
use serde_json::{Value, json};

/// JSON-RPC: the line is not JSON (or not UTF-8).
pub(super) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: the message is not a valid request.
pub(super) const INVALID_REQUEST: i64 = -32600;
/// Implementation-defined server error: too many requests in flight.
pub(super) const SERVER_BUSY: i64 = -32000;

/// What a line is.
pub(super) enum Parsed {
    /// A message for the server.
    Message(Box<ClientJsonRpcMessage>),
    /// An error answer to write back.
    Error(Vec<u8>),
    /// Nothing to do (a blank line, or an unreadable notification).
    Nothing,
}

/// A JSON-RPC error answer, as a line; `id` is omitted when unknown.
pub(super) fn error_line(id: Option<Value>, code: i64, message: &str) -> Vec<u8> {
    let mut error = json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}});
    if let Some(id) = id {
        error["id"] = id;
    }
    let mut line = error.to_string().into_bytes();
    line.push(b'\n');
    line
}

/// `id` as JSON.
pub(super) fn id_value(id: &RequestId) -> Option<Value> {
    serde_json::to_value(id).ok()
}

/// Reads one line.
pub(super) fn parse(line: &[u8]) -> Parsed {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Parsed::Nothing;
    }
    if let Err(error) = std::str::from_utf8(line) {
        return Parsed::Error(error_line(
            find_id(line),
            PARSE_ERROR,
            &format!(
                "the message is not valid UTF-8 (bad byte at offset {}): send UTF-8 JSON, one message per line",
                error.valid_up_to()
            ),
        ));
    }
    let error = match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
        Ok(message) => return Parsed::Message(Box::new(message)),
        Err(error) => error,
    };
    match serde_json::from_slice::<Value>(line) {
        Err(_) => Parsed::Error(error_line(
            find_id(line),
            PARSE_ERROR,
            &format!("the message is not valid JSON ({error}): send one JSON-RPC message per line"),
        )),
        Ok(Value::Array(_)) => Parsed::Error(error_line(
            None,
            INVALID_REQUEST,
            "batches are not supported: send one JSON-RPC message per line",
        )),
        Ok(value) => match value
            .get("id")
            .filter(|id| id.is_number() || id.is_string())
        {
            Some(id) if value.get("method").is_some() => Parsed::Error(error_line(
                Some(id.clone()),
                INVALID_REQUEST,
                &format!("not a valid MCP request: {error}"),
            )),
            _ => {
                tracing::debug!("dropped an unreadable message without a request id: {error}");
                Parsed::Nothing
            }
        },
    }
}

/// The top-level `"id"` of a JSON object in `bytes`, which may be cut
/// short or hold invalid UTF-8 elsewhere: a number or a string.
pub(super) fn find_id(bytes: &[u8]) -> Option<Value> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                if depth == 1 && &bytes[i + 1..end - 1] == b"id" {
                    let mut j = end;
                    while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b':') {
                        return id_at(bytes, j + 1);
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just past the string starting at `start` (a quote).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The id value starting at `start` (after its colon), if it is whole.
fn id_at(bytes: &[u8], start: usize) -> Option<Value> {
    let mut i = start;
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    let end = match bytes.get(i)? {
        b'"' => string_end(bytes, i)?,
        b'-' | b'0'..=b'9' => {
            let mut end = i + 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            // A number cut off at the end of the input may be incomplete.
            if end == bytes.len() {
                return None;
            }
            end
        }
        _ => return None,
    };
    let value: Value = serde_json::from_slice(&bytes[i..end]).ok()?;
    (value.is_string() || value.is_i64()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_level_id_is_found_in_broken_lines() {
        assert_eq!(
            find_id(br#"{"jsonrpc":"2.0","id":42,"method":"x"#),
            Some(json!(42))
        );
        assert_eq!(
            find_id(br#"{"params":{"id":1},"id": "abc","#),
            Some(json!("abc"))
        );
        assert_eq!(find_id(b"{\"id\":7,\"x\":\"\xff\xfe\"}"), Some(json!(7)));
        assert_eq!(find_id(br#"{"method":"x","params":{"id":1}}"#), None);
        assert_eq!(find_id(br#"{"id":12"#), None, "a number cut short");
        assert_eq!(
            find_id(br#"{"key":"has \"id\": 3","id":-4}"#),
            Some(json!(-4))
        );
        assert_eq!(find_id(b"not json"), None);
    }

    fn error_of(parsed: Parsed) -> Value {
        match parsed {
            Parsed::Error(line) => serde_json::from_slice(&line).unwrap(),
            _ => panic!("expected an error"),
        }
    }

    #[test]
    fn unreadable_lines_get_errors_with_their_ids() {
        let e = error_of(parse(
            b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"x\":\"\xff\"}",
        ));
        assert_eq!(
            (e["id"].clone(), e["error"]["code"].clone()),
            (json!(3), json!(PARSE_ERROR))
        );
        let e = error_of(parse(br#"{"jsonrpc":"2.0","id":"a","method":"tools/li"#));
        assert_eq!(
            (e["id"].clone(), e["error"]["code"].clone()),
            (json!("a"), json!(PARSE_ERROR))
        );
        let e = error_of(parse(b"not json"));
        assert!(e.get("id").is_none());
        let e = error_of(parse(
            br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":"x"}"#,
        ));
        assert_eq!(
            (e["id"].clone(), e["error"]["code"].clone()),
            (json!(5), json!(INVALID_REQUEST))
        );
        assert!(matches!(parse(b"  "), Parsed::Nothing));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/unknown","params":7}"#),
            Parsed::Nothing | Parsed::Message(_)
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Parsed::Message(_)
        ));
    }
}
