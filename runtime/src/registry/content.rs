//! Answers made of MCP content: functions that return the types of
//! `corral:mcp/types` (`content`, `list<content>`, `tool-result`).
//!
//! A type is recognised by identity, not by shape: the function's result
//! must be the very type the component imports from `corral:mcp/types`, so
//! a tool's own record that happens to look alike is encoded as JSON as
//! before.

use serde_json::Value;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Type, Val};

/// The interface whose types make content answers (any 0.1 version).
const TYPES_INTERFACE: &str = "corral:mcp/types@0.1.";

/// One content block, independent of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Text.
    Text(String),
    /// An image: its bytes and MIME type.
    Image {
        /// The bytes.
        data: Vec<u8>,
        /// The MIME type.
        mime_type: String,
    },
    /// A sound: its bytes and MIME type.
    Audio {
        /// The bytes.
        data: Vec<u8>,
        /// The MIME type.
        mime_type: String,
    },
    /// A resource's contents.
    Resource(ResourceContents),
    /// A link to a resource.
    ResourceLink {
        /// Its URI.
        uri: String,
        /// Its name.
        name: String,
        /// What it is.
        description: Option<String>,
        /// Its MIME type.
        mime_type: Option<String>,
    },
}

/// The contents of one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceContents {
    /// Text.
    Text {
        /// Its URI.
        uri: String,
        /// Its MIME type.
        mime_type: Option<String>,
        /// The text.
        text: String,
    },
    /// Bytes.
    Blob {
        /// Its URI.
        uri: String,
        /// Its MIME type.
        mime_type: Option<String>,
        /// The bytes.
        blob: Vec<u8>,
    },
}

impl Content {
    /// About the bytes it takes on the wire (binary data base64-encoded).
    pub fn wire_size(&self) -> usize {
        let base64 = |n: usize| n.div_ceil(3) * 4;
        match self {
            Content::Text(text) => text.len(),
            Content::Image { data, mime_type } | Content::Audio { data, mime_type } => {
                base64(data.len()) + mime_type.len()
            }
            Content::Resource(contents) => contents.wire_size(),
            Content::ResourceLink {
                uri,
                name,
                description,
                ..
            } => uri.len() + name.len() + description.as_ref().map_or(0, String::len),
        }
    }
}

impl ResourceContents {
    /// About the bytes it takes on the wire (a blob base64-encoded).
    pub fn wire_size(&self) -> usize {
        match self {
            ResourceContents::Text { uri, text, .. } => uri.len() + text.len(),
            ResourceContents::Blob { uri, blob, .. } => uri.len() + blob.len().div_ceil(3) * 4,
        }
    }
}

/// What a content answer carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// The content blocks, in order.
    pub content: Vec<Content>,
    /// The structured value, an object.
    pub structured: Option<Value>,
    /// Whether it reports a failure.
    pub is_error: bool,
}

/// How a function's result holds content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// One `content`.
    One,
    /// A `list<content>`.
    List,
    /// A `tool-result`.
    ToolResult,
}

/// The content types one component imports, if it imports them.
#[derive(Debug, Default)]
pub(crate) struct ContentTypes {
    content: Option<Type>,
    tool_result: Option<Type>,
}

impl ContentTypes {
    /// The types `component` imports from `corral:mcp/types`.
    pub(crate) fn of(component: &Component, engine: &Engine) -> ContentTypes {
        let mut found = ContentTypes::default();
        for (name, item) in component.component_type().imports(engine) {
            let ComponentItem::ComponentInstance(instance) = item.ty else {
                continue;
            };
            if !name.starts_with(TYPES_INTERFACE) {
                continue;
            }
            for (export, item) in instance.exports(engine) {
                let ComponentItem::Type(ty) = item.ty else {
                    continue;
                };
                match export {
                    "content" => found.content = Some(ty),
                    "tool-result" => found.tool_result = Some(ty),
                    _ => {}
                }
            }
        }
        found
    }

    /// How `ty` holds content, if it does.
    pub(crate) fn form(&self, ty: &Type) -> Option<Form> {
        if self.content.as_ref() == Some(ty) {
            return Some(Form::One);
        }
        if self.tool_result.as_ref() == Some(ty) {
            return Some(Form::ToolResult);
        }
        match ty {
            Type::List(list) if self.content.as_ref() == Some(&list.ty()) => Some(Form::List),
            _ => None,
        }
    }
}

/// Reads what a function of form `form` returned. The value was type
/// checked when it was lifted, so a mismatch means a forged component; the
/// error says what is wrong.
pub(crate) fn read(form: Form, val: &Val) -> Result<Reply, String> {
    match form {
        Form::One => Ok(Reply {
            content: vec![one(val)?],
            structured: None,
            is_error: false,
        }),
        Form::List => Ok(Reply {
            content: list(val)?,
            structured: None,
            is_error: false,
        }),
        Form::ToolResult => {
            let fields = record(val)?;
            let structured = match field(fields, "structured")? {
                Val::Option(Some(json)) => Some(structured(string(json)?)?),
                _ => None,
            };
            Ok(Reply {
                content: list(field(fields, "content")?)?,
                structured,
                is_error: matches!(field(fields, "is-error")?, Val::Bool(true)),
            })
        }
    }
}

fn structured(json: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(object)) => Ok(Value::Object(object)),
        Ok(_) => Err("its `structured` value is JSON but not an object; MCP's \
                      structuredContent must be an object (wrap it, e.g. {\"result\": …})"
            .into()),
        Err(e) => Err(format!("its `structured` value is not JSON text: {e}")),
    }
}

fn list(val: &Val) -> Result<Vec<Content>, String> {
    match val {
        Val::List(items) => items.iter().map(one).collect(),
        _ => Err(mismatch("list<content>")),
    }
}

/// Reads one `content` value.
pub(super) fn one(val: &Val) -> Result<Content, String> {
    let Val::Variant(case, Some(payload)) = val else {
        return Err(mismatch("content"));
    };
    Ok(match case.as_str() {
        "text" => Content::Text(string(payload)?.to_owned()),
        "image" | "audio" => {
            let fields = record(payload)?;
            let data = bytes(field(fields, "data")?)?;
            let mime_type = string(field(fields, "mime-type")?)?.to_owned();
            if case == "image" {
                Content::Image { data, mime_type }
            } else {
                Content::Audio { data, mime_type }
            }
        }
        "resource" => Content::Resource(resource(payload)?),
        "resource-link" => {
            let fields = record(payload)?;
            Content::ResourceLink {
                uri: string(field(fields, "uri")?)?.to_owned(),
                name: string(field(fields, "name")?)?.to_owned(),
                description: optional(field(fields, "description")?)?,
                mime_type: optional(field(fields, "mime-type")?)?,
            }
        }
        _ => return Err(mismatch("content")),
    })
}

/// Reads a `resource-contents` value.
pub(crate) fn resource(val: &Val) -> Result<ResourceContents, String> {
    let Val::Variant(case, Some(payload)) = val else {
        return Err(mismatch("resource-contents"));
    };
    let fields = record(payload)?;
    let uri = string(field(fields, "uri")?)?.to_owned();
    let mime_type = optional(field(fields, "mime-type")?)?;
    match case.as_str() {
        "text" => Ok(ResourceContents::Text {
            uri,
            mime_type,
            text: string(field(fields, "text")?)?.to_owned(),
        }),
        "blob" => Ok(ResourceContents::Blob {
            uri,
            mime_type,
            blob: bytes(field(fields, "blob")?)?,
        }),
        _ => Err(mismatch("resource-contents")),
    }
}

pub(super) fn record(val: &Val) -> Result<&[(String, Val)], String> {
    match val {
        Val::Record(fields) => Ok(fields),
        _ => Err(mismatch("a record")),
    }
}

pub(super) fn field<'v>(fields: &'v [(String, Val)], name: &str) -> Result<&'v Val, String> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .ok_or_else(|| mismatch(name))
}

pub(super) fn string(val: &Val) -> Result<&str, String> {
    match val {
        Val::String(s) => Ok(s),
        _ => Err(mismatch("a string")),
    }
}

pub(super) fn optional(val: &Val) -> Result<Option<String>, String> {
    match val {
        Val::Option(None) => Ok(None),
        Val::Option(Some(inner)) => Ok(Some(string(inner)?.to_owned())),
        _ => Err(mismatch("an option")),
    }
}

fn bytes(val: &Val) -> Result<Vec<u8>, String> {
    let Val::List(items) = val else {
        return Err(mismatch("list<u8>"));
    };
    items
        .iter()
        .map(|item| match item {
            Val::U8(b) => Ok(*b),
            _ => Err(mismatch("list<u8>")),
        })
        .collect()
}

/// Says that a value is not of the `corral:mcp` type `what`.
pub(super) fn mismatch(what: &str) -> String {
    format!("the returned value does not have the shape of corral:mcp/types ({what})")
}

/// `fields` as a JSON object, for tests.
#[cfg(test)]
fn object(fields: &[(&str, Value)]) -> serde_json::Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Val {
        Val::Variant("text".into(), Some(Box::new(Val::String(s.into()))))
    }

    fn image(data: &[u8]) -> Val {
        Val::Variant(
            "image".into(),
            Some(Box::new(Val::Record(vec![
                (
                    "data".into(),
                    Val::List(data.iter().map(|b| Val::U8(*b)).collect()),
                ),
                ("mime-type".into(), Val::String("image/png".into())),
            ]))),
        )
    }

    #[test]
    fn a_list_of_content_reads_in_order() {
        let reply = read(Form::List, &Val::List(vec![text("a"), image(&[1, 2, 3])]));
        assert_eq!(
            reply.map(|r| r.content),
            Ok(vec![
                Content::Text("a".into()),
                Content::Image {
                    data: vec![1, 2, 3],
                    mime_type: "image/png".into()
                }
            ])
        );
    }

    #[test]
    fn a_tool_result_carries_its_flag_and_structured_object() {
        let result = |json: &str| {
            Val::Record(vec![
                ("content".into(), Val::List(vec![text("x")])),
                (
                    "structured".into(),
                    Val::Option(Some(Box::new(Val::String(json.into())))),
                ),
                ("is-error".into(), Val::Bool(true)),
            ])
        };
        let reply = read(Form::ToolResult, &result(r#"{"n": 1}"#));
        assert_eq!(
            reply,
            Ok(Reply {
                content: vec![Content::Text("x".into())],
                structured: Some(Value::Object(object(&[("n", 1.into())]))),
                is_error: true,
            })
        );
        let not_object = read(Form::ToolResult, &result("[1]"));
        assert!(not_object.is_err_and(|e| e.contains("not an object")));
        let not_json = read(Form::ToolResult, &result("{"));
        assert!(not_json.is_err_and(|e| e.contains("not JSON")));
    }

    #[test]
    fn a_forged_shape_is_an_error_not_a_panic() {
        assert!(read(Form::One, &Val::String("x".into())).is_err());
        assert!(read(Form::List, &Val::List(vec![Val::U8(1)])).is_err());
        let bad_image = Val::Variant("image".into(), Some(Box::new(Val::Record(vec![]))));
        assert!(read(Form::One, &bad_image).is_err());
    }

    #[test]
    fn binary_sizes_count_as_base64() {
        let image = Content::Image {
            data: vec![0; 3],
            mime_type: String::new(),
        };
        assert_eq!(image.wire_size(), 4);
    }
}
