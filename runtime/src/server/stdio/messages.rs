//! Turning a line into a message, or into the JSON-RPC error that answers it.
//!
//! A line that is not a message still gets an answer when it looks like a
//! request: the error carries the request's id when one can be found, even
//! in a line that is not valid JSON or UTF-8, so the client learns which of
//! its requests failed. Lines without an id (notifications, responses) that
//! cannot be read are dropped, as JSON-RPC asks.
//!
//! A `tools/call` request, the one a server mostly reads, is read straight
//! into its type; every other line, and any call that this does not read,
//! goes through rmcp's reading of a message, which tries each kind of
//! message and of request in turn.

use std::fmt;

use rmcp::model::{
    CallToolRequest, ClientJsonRpcMessage, ClientRequest, JsonRpcRequest, RequestId,
};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
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
    if let Some(message) = tool_call(line) {
        return Parsed::Message(Box::new(message));
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

/// `line` as a `tools/call` request, read the way rmcp reads it but
/// without trying every other kind of message first; `None` when it is
/// anything else or cannot be read so (rmcp's reading then decides, and
/// words the error).
///
/// rmcp reads a message as a request when its object has `method` and
/// `id` and neither `result` nor `error`, whatever their values; then, for
/// the method `tools/call`, as a [`CallToolRequest`] (no other kind of
/// request accepts that method before it). Both steps are the same here.
fn tool_call(line: &[u8]) -> Option<ClientJsonRpcMessage> {
    let shape = serde_json::Deserializer::from_slice(line)
        .deserialize_map(ShapeVisitor)
        .ok()?;
    if !(shape.is_tool_call && shape.has_id && !shape.has_result_or_error) {
        return None;
    }
    let request = serde_json::from_slice::<JsonRpcRequest<CallToolRequest>>(line).ok()?;
    Some(ClientJsonRpcMessage::Request(JsonRpcRequest {
        jsonrpc: request.jsonrpc,
        id: request.id,
        request: ClientRequest::CallToolRequest(request.request),
    }))
}

/// Which of the keys that tell messages apart a JSON object has.
struct Shape {
    /// `method` is there, and is the string `tools/call`.
    is_tool_call: bool,
    has_id: bool,
    has_result_or_error: bool,
}

/// Reads a [`Shape`], skipping every value but the method's.
struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON-RPC message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut shape = Shape {
            is_tool_call: false,
            has_id: false,
            has_result_or_error: false,
        };
        let mut methods = 0;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Method => {
                    methods += 1;
                    let method = map.next_value::<Key>()?;
                    shape.is_tool_call = methods == 1 && method == Key::ToolsCall;
                    continue;
                }
                Key::Id => shape.has_id = true,
                Key::ResultOrError => shape.has_result_or_error = true,
                Key::ToolsCall | Key::Other => {}
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(shape)
    }
}

/// A string that [`ShapeVisitor`] looks for, read without copying it.
#[derive(PartialEq)]
enum Key {
    Method,
    Id,
    ResultOrError,
    ToolsCall,
    Other,
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(match s {
            "method" => Key::Method,
            "id" => Key::Id,
            "result" | "error" => Key::ResultOrError,
            "tools/call" => Key::ToolsCall,
            _ => Key::Other,
        })
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

    #[test]
    fn tool_calls_read_directly_as_rmcp_reads_them() {
        // Read directly (the call fast path is taken): each must equal
        // rmcp's reading of the same line.
        let direct = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#,
            r#"{"params":{"name":"x"},"method":"tools/call","id":"s","jsonrpc":"2.0","extra":[1,{"result":2}]}"#,
            r#"{"jsonrpc":"2.0","id":-3,"method":"tools/c\u0061ll","params":{"name":"x","arguments":{"f":1.5e300,"u":18446744073709551615,"i":-9223372036854775808,"s":"\ud83d\ude00"},"_meta":{"progressToken":7,"k":[null]}}}"#,
            r#"{"jsonrpc":"2.0","id":4,"meth\u006fd":"tools/call","params":{"name":"x","task":{"ttl":1000}}}"#,
            r#" {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"x","arguments":{}}} "#,
        ];
        for line in direct {
            let fast = tool_call(line.as_bytes()).unwrap_or_else(|| panic!("not direct: {line}"));
            let rmcp: ClientJsonRpcMessage = serde_json::from_slice(line.as_bytes()).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{rmcp:?}"), "{line}");
            assert_eq!(
                serde_json::to_value(&fast).unwrap(),
                serde_json::to_value(&rmcp).unwrap(),
                "{line}"
            );
        }
        // Left to rmcp: other messages, and calls this does not read
        // (whatever rmcp makes of them, even an error).
        let left = [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"result":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"error":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":[]}}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7,"params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}} x"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}]"#,
        ];
        for line in left {
            assert!(
                tool_call(line.as_bytes()).is_none(),
                "read directly: {line}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Keys of a message, spelled plainly and with escapes.
        const KEYS: &[&str] = &[
            "jsonrpc",
            "id",
            "method",
            "params",
            "result",
            "error",
            "extra",
            "_meta",
            r"meth\u006fd",
            r"i\u0064",
            r"p\u0061rams",
        ];
        /// Values for any key: some right for it, most wrong for some key.
        const VALUES: &[&str] = &[
            r#""2.0""#,
            r#""1.0""#,
            "1",
            "-7",
            "1.5",
            "1e400",
            "null",
            "true",
            "{}",
            "[]",
            r#""abc""#,
            r#""tools/call""#,
            r#""tools/c\u0061ll""#,
            r#""ping""#,
            r#""tools/list""#,
            r#"{"name":"add","arguments":{"a":1,"b":2}}"#,
            r#"{"name":"x","_meta":{"progressToken":1}}"#,
            r#"{"name":"x","task":{"ttl":5}}"#,
            r#"{"name":"x","arguments":null}"#,
            r#"{"name":"x","arguments":[1]}"#,
            r#"{"name":"x","name":"y"}"#,
            r#"{"name":"x","_meta":null}"#,
            r#"{"name":1}"#,
            r#"{"arguments":{}}"#,
        ];

        proptest! {
            /// Whatever a line holds, a call read directly is the message
            /// rmcp reads from it: never a line rmcp refuses, never another
            /// message.
            #[test]
            fn a_call_read_directly_is_what_rmcp_reads(
                core in any::<bool>(),
                order in Just([0usize, 1, 2, 3]).prop_shuffle(),
                entries in prop::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..5),
            ) {
                let valid = [
                    r#""jsonrpc":"2.0""#,
                    r#""id":1"#,
                    r#""method":"tools/call""#,
                    r#""params":{"name":"add","arguments":{"a":1}}"#,
                ];
                let mut parts: Vec<String> = Vec::new();
                if core {
                    parts.extend(order.iter().map(|&i| valid[i].to_owned()));
                }
                for (key, value) in entries {
                    parts.push(format!(r#""{}":{}"#, KEYS[key], VALUES[value]));
                }
                let line = format!("{{{}}}", parts.join(","));
                if let Some(fast) = tool_call(line.as_bytes()) {
                    let rmcp = serde_json::from_slice::<ClientJsonRpcMessage>(line.as_bytes());
                    prop_assert!(rmcp.is_ok(), "read directly, refused by rmcp: {line}");
                    let rmcp = rmcp.unwrap();
                    prop_assert_eq!(format!("{fast:?}"), format!("{rmcp:?}"), "{}", line);
                }
            }
        }
    }
}
