//! Parameters mirrored into HTTP headers (SEP-2243 `x-mcp-header`): a
//! tool's WIT doc comment may end with lines
//!
//! ```text
//! mcp-header: region Region
//! ```
//!
//! naming a parameter (as in WIT) and the header's name. The parameter's
//! property in the input schema then carries `"x-mcp-header": "Region"`: a
//! client on streamable HTTP sends its value in an `Mcp-Param-Region`
//! header too (so a gateway can route on it), and the server refuses a
//! request whose header and argument disagree. The lines are taken out of
//! the tool's description. A wrong line (an unknown parameter, one that is
//! not a string, integer or boolean, a name that is not an HTTP token or is
//! used twice) stops the start, naming the tool.

use serde_json::{Map, Value};

use crate::wit_json::json_name;

/// The start of a header line in a doc comment.
const PREFIX: &str = "mcp-header:";

/// `docs` without its header lines, and the (parameter, header) pairs they
/// name. A line that does not name both is an error.
pub(super) fn take(docs: &str) -> Result<(String, Vec<(String, String)>), String> {
    let mut pairs = Vec::new();
    let mut kept = Vec::new();
    for line in docs.lines() {
        let Some(rest) = line.trim().strip_prefix(PREFIX) else {
            kept.push(line);
            continue;
        };
        let mut words = rest.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(param), Some(header), None) => pairs.push((param.to_owned(), header.to_owned())),
            _ => {
                return Err(format!(
                    "the doc line {:?} must be `{PREFIX} PARAMETER HEADER-NAME`",
                    line.trim()
                ));
            }
        }
    }
    let description = kept.join("\n").trim_end().to_owned();
    Ok((description, pairs))
}

/// Annotates the properties of `schema` (a tool's input schema) with the
/// headers `pairs` names; why not, when a pair cannot be.
pub(super) fn annotate(
    schema: &mut Map<String, Value>,
    pairs: &[(String, String)],
) -> Result<(), String> {
    let mut seen: Vec<String> = Vec::new();
    for (param, header) in pairs {
        if header.is_empty() || !header.bytes().all(is_token_byte) {
            return Err(format!(
                "the header name {header:?} is not an HTTP token (letters, digits and \
                 !#$%&'*+-.^_`|~)"
            ));
        }
        let lower = header.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(format!("the header {header:?} is named twice"));
        }
        seen.push(lower);
        let property = schema
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .and_then(|properties| properties.get_mut(&json_name(param)))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("the tool has no parameter {param:?} to send as {header:?}"))?;
        let primitive = matches!(
            property.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "boolean")
        );
        if !primitive {
            return Err(format!(
                "the parameter {param:?} cannot be sent as a header: only a string, an integer \
                 or a boolean can"
            ));
        }
        property.insert("x-mcp-header".to_owned(), Value::String(header.clone()));
    }
    Ok(())
}

/// An RFC 9110 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Map<String, Value> {
        let value = json!({"type": "object", "properties": {
            "region": {"type": "string"}, "max_count": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}}}});
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn header_lines_leave_the_description_and_annotate_their_parameter() {
        let docs = "Finds things.\n\nmcp-header: region Region\n";
        let (description, pairs) = take(docs).unwrap_or_default();
        assert_eq!(description, "Finds things.");
        let mut schema = schema();
        assert!(annotate(&mut schema, &pairs).is_ok());
        assert_eq!(schema["properties"]["region"]["x-mcp-header"], "Region");
    }

    #[test]
    fn wrong_header_lines_are_refused() {
        assert!(take("mcp-header: region").is_err());
        let mut schema = schema();
        let one = |p: &str, h: &str| vec![(p.to_owned(), h.to_owned())];
        assert!(annotate(&mut schema, &one("nowhere", "X")).is_err());
        assert!(annotate(&mut schema, &one("tags", "Tags")).is_err());
        assert!(annotate(&mut schema, &one("region", "Bad Name")).is_err());
        let twice = [one("region", "Same"), one("max-count", "same")].concat();
        assert!(annotate(&mut schema, &twice).is_err());
    }
}
