//! What components serve besides tools: resources, prompts and completions
//! (the `corral:mcp` exports `resources`, `prompts` and `completion`).
//!
//! At start each serving component is asked for its lists (a call each,
//! within its budgets); two components offering one URI, one URI template
//! or one prompt name stop the start naming both. Afterwards every read,
//! prompt and completion is a call of its own, in a fresh instance, with the
//! same budgets and grants as a tool call.

mod decode;
mod template;
mod types;

pub use types::{Prompt, PromptMessages, Reference, Resource, ResourceTemplate, Role, ServeError};

use std::collections::HashMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{ComponentExportIndex, Val};

use self::decode::{decode_list, prompt, prompt_messages, resource, template};
use self::template::fits;
use super::LoadError;
use super::content::{self, ResourceContents, mismatch, string};
use crate::capabilities::client::ClientLink;
use crate::sandbox::{CallError, Program};

/// Exported interfaces (any 0.1 version) that are served, never tools.
const RESOURCES: &str = "corral:mcp/resources@0.1.";
const PROMPTS: &str = "corral:mcp/prompts@0.1.";
const COMPLETION: &str = "corral:mcp/completion@0.1.";

/// Suggestions one completion sends at most (the protocol's limit).
const MAX_COMPLETIONS: usize = 100;

/// Whether the exported instance `name` is served rather than a set of tools.
pub(crate) fn is_served(name: &str) -> bool {
    [RESOURCES, PROMPTS, COMPLETION]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// The exported functions of one component's served interfaces.
struct Exports {
    program: Arc<Program>,
    resources: Option<[ComponentExportIndex; 3]>,
    prompts: Option<[ComponentExportIndex; 2]>,
    completion: Option<ComponentExportIndex>,
}

/// Finds the served interfaces `program` exports, if any.
pub(crate) fn exports_of(program: &Arc<Program>, engine: &Engine) -> Option<ServedBy> {
    let component = program.component();
    let mut exports = Exports {
        program: program.clone(),
        resources: None,
        prompts: None,
        completion: None,
    };
    for (name, item) in component.component_type().exports(engine) {
        let ComponentItem::ComponentInstance(_) = item.ty else {
            continue;
        };
        let Some(instance) = component.get_export_index(None, name) else {
            continue;
        };
        let func = |f: &str| component.get_export_index(Some(&instance), f);
        let found = if name.starts_with(RESOURCES) {
            [func("list"), func("templates"), func("read")]
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .and_then(|f| f.try_into().ok())
                .map(|f| exports.resources = Some(f))
        } else if name.starts_with(PROMPTS) {
            [func("list"), func("get")]
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .and_then(|f| f.try_into().ok())
                .map(|f| exports.prompts = Some(f))
        } else if name.starts_with(COMPLETION) {
            func("complete").map(|f| exports.completion = Some(f))
        } else {
            Some(())
        };
        if found.is_none() {
            tracing::warn!(
                component = %program.name(),
                export = name,
                "not served: the component exports this corral:mcp interface without all of its \
                 functions (build it against wit/ of corral:mcp 0.1)"
            );
        }
    }
    let serves =
        exports.resources.is_some() || exports.prompts.is_some() || exports.completion.is_some();
    serves.then_some(ServedBy(exports))
}

/// What one component serves, before its lists are read.
pub struct ServedBy(Exports);

impl ServedBy {
    /// What it serves, in plain words for a reviewer.
    pub fn describe(&self) -> Vec<String> {
        let exports = &self.0;
        let mut lines = Vec::new();
        if exports.resources.is_some() {
            lines.push(
                "serves resources to clients (corral:mcp/resources: listed once at start, each \
                 read runs like a tool call, within these limits and grants)"
                    .to_owned(),
            );
        }
        if exports.prompts.is_some() {
            lines.push(
                "serves prompts to clients (corral:mcp/prompts: listed once at start, each get \
                 runs like a tool call)"
                    .to_owned(),
            );
        }
        if exports.completion.is_some() {
            lines.push(
                "completes prompt and resource-template arguments (corral:mcp/completion)"
                    .to_owned(),
            );
        }
        lines
    }
}

/// Everything the components serve, by URI and name.
#[derive(Default)]
pub struct Catalog {
    servers: Vec<Exports>,
    resources: Vec<(Resource, usize)>,
    templates: Vec<(ResourceTemplate, usize)>,
    prompts: Vec<(Prompt, usize)>,
    completes: bool,
}

impl Catalog {
    /// Reads the lists of every serving component; a URI, template or
    /// prompt name offered twice is an error naming both components.
    pub async fn load(served: Vec<ServedBy>) -> Result<Catalog, LoadError> {
        let mut catalog = Catalog::default();
        let mut owners: HashMap<(&'static str, String), usize> = HashMap::new();
        for (index, ServedBy(exports)) in served.into_iter().enumerate() {
            let failed = |what: &str, message: String| LoadError::Serve {
                component: exports.program.name().to_owned(),
                message: format!("{what}: {message}"),
            };
            let mut claim =
                |kind: &'static str, key: String| match owners.insert((kind, key.clone()), index) {
                    Some(first) => Err((kind, key, first)),
                    None => Ok(()),
                };
            let mut clashes = Vec::new();
            if let Some([list, templates, _]) = &exports.resources {
                let val = invoke(&exports.program, list, &[]).await;
                let val = val.map_err(|e| failed("listing its resources", e.to_string()))?;
                for resource in
                    decode_list(&val, resource).map_err(|e| failed("its resource list", e))?
                {
                    clashes.extend(claim("resource", resource.uri.clone()).err());
                    catalog.resources.push((resource, index));
                }
                let val = invoke(&exports.program, templates, &[]).await;
                let val =
                    val.map_err(|e| failed("listing its resource templates", e.to_string()))?;
                for template in
                    decode_list(&val, template).map_err(|e| failed("its template list", e))?
                {
                    clashes.extend(claim("resource template", template.uri_template.clone()).err());
                    catalog.templates.push((template, index));
                }
            }
            if let Some([list, _]) = &exports.prompts {
                let val = invoke(&exports.program, list, &[]).await;
                let val = val.map_err(|e| failed("listing its prompts", e.to_string()))?;
                for prompt in decode_list(&val, prompt).map_err(|e| failed("its prompt list", e))? {
                    clashes.extend(claim("prompt", prompt.name.clone()).err());
                    catalog.prompts.push((prompt, index));
                }
            }
            if let Some((kind, key, first)) = clashes.into_iter().next() {
                let first = catalog.servers.get(first).map_or_else(
                    || exports.program.name().to_owned(),
                    |s| s.program.name().to_owned(),
                );
                return Err(LoadError::ServedTwice {
                    kind,
                    key,
                    first,
                    second: exports.program.name().to_owned(),
                });
            }
            catalog.completes |= exports.completion.is_some();
            catalog.servers.push(exports);
        }
        Ok(catalog)
    }

    /// The resources served, in config order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().map(|(r, _)| r)
    }

    /// The resource templates served, in config order.
    pub fn templates(&self) -> impl Iterator<Item = &ResourceTemplate> {
        self.templates.iter().map(|(t, _)| t)
    }

    /// The prompts served, in config order.
    pub fn prompts(&self) -> impl Iterator<Item = &Prompt> {
        self.prompts.iter().map(|(p, _)| p)
    }

    /// Whether some component serves resources (a list, templates or both).
    pub fn serves_resources(&self) -> bool {
        self.servers.iter().any(|s| s.resources.is_some())
    }

    /// Whether some component serves prompts.
    pub fn serves_prompts(&self) -> bool {
        self.servers.iter().any(|s| s.prompts.is_some())
    }

    /// Whether some component completes arguments.
    pub fn completes(&self) -> bool {
        self.completes
    }

    /// The component that serves the resource `uri`: the one that lists it
    /// or whose template it fits.
    fn reader(&self, uri: &str) -> Option<&Exports> {
        self.resources
            .iter()
            .find(|(r, _)| r.uri == uri)
            .map(|(_, i)| *i)
            .or_else(|| {
                self.templates
                    .iter()
                    .find(|(t, _)| fits(&t.uri_template, uri))
                    .map(|(_, i)| *i)
            })
            .and_then(|i| self.servers.get(i))
    }

    /// The component that serves the resource `uri`, if any.
    pub fn reader_of(&self, uri: &str) -> Option<&Program> {
        self.reader(uri).map(|s| s.program.as_ref())
    }

    /// The component that serves the prompt `name`, if any.
    pub fn prompter_of(&self, name: &str) -> Option<&Program> {
        self.prompts
            .iter()
            .find(|(p, _)| p.name == name)
            .and_then(|(_, i)| self.servers.get(*i))
            .map(|s| s.program.as_ref())
    }

    /// Reads the resource `uri` from the component that serves it, which
    /// talks to its client through `link` (if it may).
    pub async fn read(
        &self,
        uri: &str,
        link: Option<ClientLink>,
        cancel: &CancellationToken,
    ) -> Result<Vec<ResourceContents>, ServeError> {
        let not_found = || ServeError::NotFound(format!("no resource has the URI {uri:?}"));
        let server = self.reader(uri).ok_or_else(not_found)?;
        let Some([_, _, read]) = &server.resources else {
            return Err(not_found());
        };
        let val = call(server, read, &[Val::String(uri.into())], link, cancel).await?;
        match val {
            Val::Result(Ok(Some(list))) => decode_list(&list, content::resource).map_err(failed),
            Val::Result(Err(Some(error))) => match error.as_ref() {
                Val::Variant(case, _) if case == "not-found" => Err(not_found()),
                Val::Variant(_, Some(message)) => match message.as_ref() {
                    Val::String(message) => Err(ServeError::Failed(format!(
                        "reading {uri:?} failed: {}",
                        server.program.redact(message)
                    ))),
                    _ => Err(failed(mismatch("read-error"))),
                },
                _ => Err(failed(mismatch("read-error"))),
            },
            _ => Err(failed(mismatch("result"))),
        }
    }

    /// The prompt `name` filled in with `arguments` by the component that
    /// serves it, which talks to its client through `link` (if it may).
    pub async fn prompt(
        &self,
        name: &str,
        arguments: Vec<(String, String)>,
        link: Option<ClientLink>,
        cancel: &CancellationToken,
    ) -> Result<PromptMessages, ServeError> {
        let not_found = || {
            ServeError::NotFound(format!(
                "no prompt is named {name:?}: prompts/list names the prompts this server offers"
            ))
        };
        let (prompt, owner) = self
            .prompts
            .iter()
            .find(|(p, _)| p.name == name)
            .ok_or_else(not_found)?;
        let missing: Vec<&str> = prompt
            .arguments
            .iter()
            .filter(|(arg, _, required)| *required && !arguments.iter().any(|(a, _)| a == arg))
            .map(|(arg, _, _)| arg.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(ServeError::Invalid(format!(
                "prompt {name:?} needs the argument(s) {}",
                missing.join(", ")
            )));
        }
        let server = self.servers.get(*owner).ok_or_else(not_found)?;
        let Some([_, get]) = &server.prompts else {
            return Err(not_found());
        };
        let args = [Val::String(name.into()), pairs(arguments)];
        match call(server, get, &args, link, cancel).await? {
            Val::Result(Ok(Some(filled))) => prompt_messages(&filled).map_err(failed),
            Val::Result(Err(Some(message))) => match message.as_ref() {
                Val::String(message) => Err(ServeError::Invalid(server.program.redact(message))),
                _ => Err(failed(mismatch("string"))),
            },
            _ => Err(failed(mismatch("result"))),
        }
    }

    /// Suggestions for `argument` of `target`, from the component that
    /// serves the prompt or template; none when it does not complete.
    pub async fn complete(
        &self,
        target: Reference,
        argument: &str,
        value: &str,
        context: Vec<(String, String)>,
        cancel: &CancellationToken,
    ) -> Result<Vec<String>, ServeError> {
        let owner = match &target {
            Reference::Prompt(name) => self
                .prompts
                .iter()
                .find(|(p, _)| &p.name == name)
                .map(|(_, i)| *i),
            Reference::Template(uri) => self
                .templates
                .iter()
                .find(|(t, _)| &t.uri_template == uri)
                .map(|(_, i)| *i),
        };
        let Some(server) = owner.and_then(|i| self.servers.get(i)) else {
            return Err(ServeError::Invalid(match target {
                Reference::Prompt(name) => format!("no prompt is named {name:?}"),
                Reference::Template(uri) => format!("no resource template is {uri:?}"),
            }));
        };
        let Some(complete) = &server.completion else {
            return Ok(Vec::new());
        };
        let reference = match target {
            Reference::Prompt(name) => {
                Val::Variant("prompt".into(), Some(Box::new(Val::String(name))))
            }
            Reference::Template(uri) => {
                Val::Variant("resource-template".into(), Some(Box::new(Val::String(uri))))
            }
        };
        let args = [
            reference,
            Val::String(argument.into()),
            Val::String(value.into()),
            pairs(context),
        ];
        let val = call(server, complete, &args, None, cancel).await?;
        let mut values = decode_list(&val, |v| string(v).map(str::to_owned)).map_err(failed)?;
        values.truncate(MAX_COMPLETIONS);
        Ok(values)
    }
}

/// One call of a served function, as a request of its own.
async fn call(
    server: &Exports,
    export: &ComponentExportIndex,
    args: &[Val],
    link: Option<ClientLink>,
    cancel: &CancellationToken,
) -> Result<Val, ServeError> {
    let program = &server.program;
    let slot = program
        .reserve(cancel)
        .await
        .map_err(|e| ServeError::Failed(e.to_string()))?;
    let report = program.call(slot, export, args, true, link, cancel).await;
    match report.outcome {
        Ok(Some(val)) => Ok(val),
        Ok(None) => Err(failed(mismatch("a value"))),
        Err(error) => Err(ServeError::Failed(program.redact(&error.to_string()))),
    }
}

/// A call at start, with nothing to cancel it.
async fn invoke(
    program: &Arc<Program>,
    export: &ComponentExportIndex,
    args: &[Val],
) -> Result<Val, CallError> {
    let cancel = CancellationToken::new();
    let slot = program.reserve(&cancel).await?;
    match program
        .call(slot, export, args, true, None, &cancel)
        .await
        .outcome?
    {
        Some(val) => Ok(val),
        None => Err(CallError::Host("the function returned nothing".into())),
    }
}

fn pairs(pairs: Vec<(String, String)>) -> Val {
    Val::List(
        pairs
            .into_iter()
            .map(|(k, v)| Val::Tuple(vec![Val::String(k), Val::String(v)]))
            .collect(),
    )
}

fn failed(message: String) -> ServeError {
    ServeError::Failed(format!(
        "the component's answer cannot be sent: {message} (a bug in the component)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_interfaces_are_not_tools() {
        assert!(is_served("corral:mcp/resources@0.1.0"));
        assert!(is_served("corral:mcp/completion@0.1.3"));
        assert!(!is_served("corral:mcp/log@0.1.0"));
        assert!(!is_served("corral:text-tools/text@0.1.0"));
    }
}
