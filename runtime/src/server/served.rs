//! What the components serve besides tools, over MCP: `resources/*`,
//! `prompts/*` and `completion/complete`, from the registry's
//! [`Catalog`](crate::registry::Catalog); and the content blocks of the
//! protocol, shared with tool answers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, PromptArgument, PromptMessage, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Reference as WireReference, Resource,
    ResourceContents as WireContents, ResourceTemplate, Role as WireRole,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use crate::registry::{Content, Reference, ResourceContents, Role, ServeError};

use super::handler::{CorralServer, principal};
use super::talk::{Asked, Talk};

impl CorralServer {
    /// `resources/list`: every served resource.
    pub(super) fn served_resources(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> ListResourcesResult {
        if !principal(context).allows_all() {
            return ListResourcesResult::with_all_items(Vec::new());
        }
        let resources = self
            .shared
            .catalog
            .resources()
            .map(|r| {
                let mut resource = Resource::new(&r.uri, &r.name);
                resource.title.clone_from(&r.title);
                resource.description.clone_from(&r.description);
                resource.mime_type.clone_from(&r.mime_type);
                resource.size = r.size;
                resource
            })
            .collect();
        ListResourcesResult::with_all_items(resources)
    }

    /// `resources/templates/list`: every served URI template.
    pub(super) fn served_templates(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> ListResourceTemplatesResult {
        if !principal(context).allows_all() {
            return ListResourceTemplatesResult::with_all_items(Vec::new());
        }
        let templates = self
            .shared
            .catalog
            .templates()
            .map(|t| {
                let mut template = ResourceTemplate::new(&t.uri_template, &t.name);
                template.title.clone_from(&t.title);
                template.description.clone_from(&t.description);
                template.mime_type.clone_from(&t.mime_type);
                template
            })
            .collect();
        ListResourceTemplatesResult::with_all_items(templates)
    }

    /// `resources/read`: a call of the component serving the URI.
    pub(super) async fn read_served(
        &self,
        request: ReadResourceRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.as_str();
        if !principal(context).allows_all() {
            return Err(serve_error(
                ServeError::NotFound(format!("no resource has the URI {uri:?}")),
                Some((uri, context)),
            ));
        }
        let catalog = &self.shared.catalog;
        let asked = Asked {
            method: "resources/read",
            name: uri,
            arguments: None,
            state: request.request_state.as_deref(),
            responses: request.input_responses.as_ref(),
        };
        let mut talk = Talk::open(&self.shared.rounds, catalog.reader_of(uri), context, &asked)?;
        let (read, attended) = talk
            .run(context, &self.level, None, |link| {
                catalog.read(uri, link, &context.ct)
            })
            .await;
        if attended.ended_call() {
            return Ok(talk.end(attended, &format!("resource {uri:?}"))?.into());
        }
        let contents = read.map_err(|e| serve_error(e, Some((uri, context))))?;
        let size = contents.iter().map(ResourceContents::wire_size).sum();
        within_result_size(self.shared.max_result_size, "the resource", size)?;
        Ok(ReadResourceResult::new(contents.into_iter().map(wire_contents).collect()).into())
    }

    /// `prompts/list`: every served prompt.
    pub(super) fn served_prompts(&self, context: &RequestContext<RoleServer>) -> ListPromptsResult {
        if !principal(context).allows_all() {
            return ListPromptsResult::with_all_items(Vec::new());
        }
        let prompts = self
            .shared
            .catalog
            .prompts()
            .map(|p| {
                let arguments = p
                    .arguments
                    .iter()
                    .map(|(name, description, required)| {
                        let mut argument = PromptArgument::new(name);
                        argument.description.clone_from(description);
                        argument.required = Some(*required);
                        argument
                    })
                    .collect();
                let mut prompt =
                    rmcp::model::Prompt::new(&p.name, p.description.as_ref(), Some(arguments));
                prompt.title.clone_from(&p.title);
                prompt
            })
            .collect();
        ListPromptsResult::with_all_items(prompts)
    }

    /// `prompts/get`: a call of the component serving the prompt.
    pub(super) async fn fill_prompt(
        &self,
        request: GetPromptRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if !principal(context).allows_all() {
            return Err(serve_error(
                ServeError::NotFound(format!("no prompt is named {:?}", request.name)),
                None,
            ));
        }
        let catalog = &self.shared.catalog;
        let name = &request.name;
        let asked = Asked {
            method: "prompts/get",
            name,
            arguments: request.arguments.as_ref(),
            state: request.request_state.as_deref(),
            responses: request.input_responses.as_ref(),
        };
        let mut talk = Talk::open(
            &self.shared.rounds,
            catalog.prompter_of(name),
            context,
            &asked,
        )?;
        let arguments = string_pairs(request.arguments.clone());
        let (filled, attended) = talk
            .run(context, &self.level, None, |link| {
                catalog.prompt(name, arguments, link, &context.ct)
            })
            .await;
        if attended.ended_call() {
            return Ok(talk.end(attended, &format!("prompt {name:?}"))?.into());
        }
        let filled = filled.map_err(|e| serve_error(e, None))?;
        let size = filled.messages.iter().map(|(_, c)| c.wire_size()).sum();
        within_result_size(self.shared.max_result_size, "the prompt", size)?;
        let messages = filled
            .messages
            .into_iter()
            .map(|(role, content)| {
                let role = match role {
                    Role::User => WireRole::User,
                    Role::Assistant => WireRole::Assistant,
                };
                PromptMessage::new(role, wire(content))
            })
            .collect();
        let mut result = GetPromptResult::new(messages);
        result.description = filled.description;
        Ok(result.into())
    }

    /// `completion/complete`: a call of the component serving the prompt
    /// or template, if it completes.
    pub(super) async fn complete_served(
        &self,
        request: CompleteRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let target = match request.r#ref {
            WireReference::Prompt(prompt) => Reference::Prompt(prompt.name),
            WireReference::Resource(template) => Reference::Template(template.uri),
            _ => return Err(ErrorData::invalid_params("unknown reference type", None)),
        };
        if !principal(context).allows_all() {
            return Err(ErrorData::invalid_params("nothing to complete", None));
        }
        let context_args: Vec<(String, String)> = request
            .context
            .and_then(|c| c.arguments)
            .map(|a| a.into_iter().collect())
            .unwrap_or_default();
        let values = self
            .shared
            .catalog
            .complete(
                target,
                &request.argument.name,
                &request.argument.value,
                context_args,
                &context.ct,
            )
            .await
            .map_err(|e| serve_error(e, None))?;
        within_result_size(
            self.shared.max_result_size,
            "the completion",
            values.iter().map(String::len).sum(),
        )?;
        let info = CompletionInfo::new(values).map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }
}

/// One content block as the protocol writes it.
pub(super) fn wire(content: Content) -> ContentBlock {
    match content {
        Content::Text(text) => ContentBlock::text(text),
        Content::Image { data, mime_type } => ContentBlock::image(BASE64.encode(data), mime_type),
        Content::Audio { data, mime_type } => ContentBlock::audio(BASE64.encode(data), mime_type),
        Content::Resource(contents) => ContentBlock::resource(wire_contents(contents)),
        Content::ResourceLink {
            uri,
            name,
            description,
            mime_type,
        } => {
            let mut resource = Resource::new(uri, name);
            resource.description = description;
            resource.mime_type = mime_type;
            ContentBlock::resource_link(resource)
        }
    }
}

/// A resource's contents as the protocol writes them.
fn wire_contents(contents: ResourceContents) -> WireContents {
    match contents {
        ResourceContents::Text {
            uri,
            mime_type,
            text,
        } => WireContents::TextResourceContents {
            uri,
            mime_type,
            text,
            meta: None,
        },
        ResourceContents::Blob {
            uri,
            mime_type,
            blob,
        } => WireContents::BlobResourceContents {
            uri,
            mime_type,
            blob: BASE64.encode(blob),
            meta: None,
        },
    }
}

/// A served request's failure as the protocol's error. A resource not
/// found carries its URI: as -32002 up to 2025-11-25, as invalid params
/// (-32602) from 2026-07-28 on (SEP-2164).
fn serve_error(error: ServeError, uri: Option<(&str, &RequestContext<RoleServer>)>) -> ErrorData {
    match error {
        ServeError::NotFound(message) => match uri {
            Some((uri, context)) => {
                let data = Some(serde_json::json!({ "uri": uri }));
                if super::talk::stateless(context) {
                    ErrorData::invalid_params(message, data)
                } else {
                    ErrorData::resource_not_found(message, data)
                }
            }
            None => ErrorData::invalid_params(message, None),
        },
        ServeError::Invalid(message) => ErrorData::invalid_params(message, None),
        ServeError::Failed(message) => ErrorData::internal_error(message, None),
    }
}

/// Refuses an answer of `size` bytes over the server's `max_result_size`,
/// as tool results are refused.
fn within_result_size(max: u64, what: &str, size: usize) -> Result<(), ErrorData> {
    if u64::try_from(size).unwrap_or(u64::MAX) <= max {
        return Ok(());
    }
    let show = |bytes: u64| bytesize::ByteSize(bytes).display().iec().to_string();
    Err(ErrorData::internal_error(
        format!(
            "{what} is too large to send: {} of content, and this server sends at most {} \
             (raise server.max_result_size)",
            show(size as u64),
            show(max)
        ),
        None,
    ))
}

/// String values of a JSON object (prompt arguments); other values are
/// written as JSON text.
fn string_pairs(
    object: Option<serde_json::Map<String, serde_json::Value>>,
) -> Vec<(String, String)> {
    object
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}
