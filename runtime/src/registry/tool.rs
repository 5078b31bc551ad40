//! One tool: a component's exported function, with its schemas.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use wasmtime::component::{ComponentExportIndex, Type, Val};

use super::content::{self, Content, Form};
use crate::capabilities::ToolHints;
use crate::sandbox::Program;
use crate::wit_json::{self, ArgError, Direction, Limit, TooLarge};

/// Everything needed to list a tool and to run a call of it.
pub struct ToolSpec {
    /// The tool name clients call.
    pub name: String,
    /// The function's WIT doc comment, if the component embeds one.
    pub description: Option<String>,
    /// Where the function lives, e.g. `corral:text-tools/text#slugify`.
    pub wit_path: String,
    /// The compiled component.
    pub program: Arc<Program>,
    /// Where to find the function in a fresh instance.
    pub(crate) export: ComponentExportIndex,
    /// How to decode the arguments, planned from the WIT parameters.
    pub(crate) arguments: wit_json::Arguments,
    /// How results are shaped.
    pub(crate) output: Output,
    /// JSON Schema of the arguments object.
    pub input_schema: Arc<Map<String, Value>>,
    /// JSON Schema of `structuredContent`, when the function returns a value.
    pub output_schema: Option<Arc<Map<String, Value>>>,
    /// Annotation hints, from the component's grants and config.
    pub hints: ToolHints,
}

/// The shape of a function's result.
pub(crate) enum Output {
    /// No result.
    Nothing,
    /// A value.
    Value(Payload),
    /// A WIT `result`: `ok` is the value, `err` becomes an error answer.
    Fallible {
        ok: Option<Payload>,
        err: Option<Type>,
    },
}

/// How a returned value becomes an answer.
pub(crate) enum Payload {
    /// Encoded as JSON: `structuredContent` and its text.
    Json(Shaped),
    /// `corral:mcp/types` content, sent as content blocks.
    Content(Form),
}

impl Payload {
    /// The JSON Schema of `structuredContent`, when it has a fixed one.
    pub(crate) fn schema(&self) -> Result<Option<Value>, wit_json::Unsupported> {
        match self {
            Payload::Json(shaped) => shaped.schema().map(Some),
            Payload::Content(_) => Ok(None),
        }
    }

    fn answer(&self, val: &Val, limit: &Limit<'_>) -> Result<Answer, TooLarge> {
        match self {
            Payload::Json(shaped) => Ok(success(Some(shaped.structured(val, limit)?))),
            Payload::Content(form) => Ok(match content::read(*form, val) {
                Ok(reply) => Answer {
                    structured: reply.structured,
                    text: String::new(),
                    content: Some(reply.content),
                    is_error: reply.is_error,
                    denials: Vec::new(),
                },
                Err(message) => Answer::error(format!(
                    "the tool's answer cannot be sent: {message} (a bug in the tool)"
                )),
            }),
        }
    }
}

/// A value type and whether it is wrapped as `{"result": …}` (everything
/// but a record, since `structuredContent` must be an object).
pub(crate) struct Shaped {
    ty: Type,
    wrapped: bool,
}

impl Shaped {
    pub(crate) fn new(ty: Type) -> Shaped {
        let wrapped = !matches!(ty, Type::Record(_));
        Shaped { ty, wrapped }
    }

    pub(crate) fn schema(&self) -> Result<Value, wit_json::Unsupported> {
        let schema = wit_json::schema(&self.ty, Direction::Output)?;
        Ok(if self.wrapped {
            json!({
                "type": "object",
                "properties": { "result": schema },
                "required": ["result"],
                "additionalProperties": false,
            })
        } else {
            schema
        })
    }

    fn structured(&self, val: &Val, limit: &Limit<'_>) -> Result<Value, TooLarge> {
        let value = wit_json::encode_within(val, &self.ty, limit)?;
        Ok(if self.wrapped {
            json!({ "result": value })
        } else {
            value
        })
    }
}

/// A call's answer, independent of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Validates against the tool's output schema (absent for errors and
    /// for functions without a value).
    pub structured: Option<Value>,
    /// The human- and model-readable rendering (when `content` is `None`).
    pub text: String,
    /// Content blocks the tool returned itself (`corral:mcp/types`),
    /// sent instead of `text`.
    pub content: Option<Vec<Content>>,
    /// Whether this answer reports a failure.
    pub is_error: bool,
    /// Capabilities the guest was refused during the call, each naming the
    /// config key that grants it.
    pub denials: Vec<String>,
}

impl Answer {
    /// A failure, told in `text`.
    pub fn error(text: impl Into<String>) -> Answer {
        Answer {
            structured: None,
            text: text.into(),
            content: None,
            is_error: true,
            denials: Vec::new(),
        }
    }

    /// About the bytes its text or content takes on the wire.
    pub fn size(&self) -> usize {
        match &self.content {
            Some(content) => content.iter().map(Content::wire_size).sum(),
            None => self.text.len(),
        }
    }
}

impl ToolSpec {
    /// Decodes and checks a call's arguments; nothing runs on failure.
    pub fn arguments(&self, args: Option<&Map<String, Value>>) -> Result<Vec<Val>, Vec<ArgError>> {
        self.arguments.decode(args)
    }

    /// Whether the function returns a value.
    pub(crate) fn has_result(&self) -> bool {
        !matches!(self.output, Output::Nothing)
    }

    /// Renders what the guest returned, within `limit`: a result too large
    /// to encode within it is refused while it is being built.
    pub fn answer(&self, value: Option<&Val>, limit: &Limit<'_>) -> Result<Answer, TooLarge> {
        Ok(match (&self.output, value) {
            (Output::Value(payload), Some(val)) => payload.answer(val, limit)?,
            (Output::Fallible { ok, .. }, Some(Val::Result(Ok(value)))) => {
                match ok.as_ref().zip(value.as_deref()) {
                    Some((payload, val)) => payload.answer(val, limit)?,
                    None => success(None),
                }
            }
            (Output::Fallible { err, .. }, Some(Val::Result(Err(payload)))) => {
                let detail = match (err, payload.as_deref()) {
                    (Some(ty), Some(v)) => text_of(&wit_json::encode_within(v, ty, limit)?),
                    _ => "the tool reported an error without details".into(),
                };
                Answer::error(detail)
            }
            _ => success(None),
        })
    }
}

fn success(structured: Option<Value>) -> Answer {
    let text = match &structured {
        // A wrapped string reads better bare than as JSON.
        Some(Value::Object(o)) if o.len() == 1 && o.contains_key("result") => text_of(&o["result"]),
        Some(v) => v.to_string(),
        None => "done".into(),
    };
    Answer {
        structured,
        text,
        content: None,
        is_error: false,
        denials: Vec::new(),
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
