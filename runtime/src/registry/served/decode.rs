//! The `corral:mcp` values a serving component returns (resources,
//! templates, prompts, filled-in prompts) read from wasmtime values. The
//! values were type checked when lifted, so a mismatch means a forged
//! component; the error says what is wrong.

use wasmtime::component::Val;

use super::super::content::{self, field, mismatch, optional, record, string};
use super::{Prompt, PromptMessages, Resource, ResourceTemplate, Role};

pub(super) fn decode_list<T>(
    val: &Val,
    item: impl Fn(&Val) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match val {
        Val::List(items) => items.iter().map(item).collect(),
        _ => Err(mismatch("a list")),
    }
}

pub(super) fn resource(val: &Val) -> Result<Resource, String> {
    let fields = record(val)?;
    Ok(Resource {
        uri: string(field(fields, "uri")?)?.to_owned(),
        name: string(field(fields, "name")?)?.to_owned(),
        title: optional(field(fields, "title")?)?,
        description: optional(field(fields, "description")?)?,
        mime_type: optional(field(fields, "mime-type")?)?,
        size: match field(fields, "size")? {
            Val::Option(Some(size)) => match size.as_ref() {
                Val::U64(n) => Some(*n),
                _ => return Err(mismatch("u64")),
            },
            _ => None,
        },
    })
}

pub(super) fn template(val: &Val) -> Result<ResourceTemplate, String> {
    let fields = record(val)?;
    Ok(ResourceTemplate {
        uri_template: string(field(fields, "uri-template")?)?.to_owned(),
        name: string(field(fields, "name")?)?.to_owned(),
        title: optional(field(fields, "title")?)?,
        description: optional(field(fields, "description")?)?,
        mime_type: optional(field(fields, "mime-type")?)?,
    })
}

pub(super) fn prompt(val: &Val) -> Result<Prompt, String> {
    let fields = record(val)?;
    let arguments = decode_list(field(fields, "arguments")?, |arg| {
        let fields = record(arg)?;
        Ok((
            string(field(fields, "name")?)?.to_owned(),
            optional(field(fields, "description")?)?,
            matches!(field(fields, "required")?, Val::Bool(true)),
        ))
    })?;
    Ok(Prompt {
        name: string(field(fields, "name")?)?.to_owned(),
        title: optional(field(fields, "title")?)?,
        description: optional(field(fields, "description")?)?,
        arguments,
    })
}

pub(super) fn prompt_messages(val: &Val) -> Result<PromptMessages, String> {
    let fields = record(val)?;
    let messages = decode_list(field(fields, "messages")?, |message| {
        let fields = record(message)?;
        let role = match field(fields, "role")? {
            Val::Enum(role) if role == "assistant" => Role::Assistant,
            Val::Enum(role) if role == "user" => Role::User,
            _ => return Err(mismatch("role")),
        };
        Ok((role, content::one(field(fields, "content")?)?))
    })?;
    Ok(PromptMessages {
        description: optional(field(fields, "description")?)?,
        messages,
    })
}
