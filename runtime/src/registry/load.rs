//! A component file → its tools.
//!
//! Every exported function is a tool, whether the world exports it directly
//! or inside an exported interface. Functions whose types have no JSON form
//! (resources, streams, futures) and component-model async functions are
//! skipped with a warning naming them; exports of `wasi:` interfaces are
//! entry points for hosts, not tools, and are skipped quietly, and so are
//! the entry points a toolchain leaves for itself ([`TOOLCHAIN_EXPORTS`]).

use std::sync::Arc;

use serde_json::Value;
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentInstance, ComponentItem};
use wasmtime::component::{ComponentExportIndex, Type};

use super::LoadError;
use super::content::ContentTypes;
use super::docs::PackageDocs;
use super::served::{self, ServedBy};
use super::tool::{Output, Payload, Shaped, ToolSpec};
use super::wit_source::WitSource;
use crate::config::ComponentConfig;
use crate::sandbox::{Program, Sandbox};
use crate::wit_json::{self, Direction, Unsupported, json_name};

/// Exported instances that a language toolchain adds for its own use, by
/// name and function names: componentize-py leaves `exports` with one
/// function, `init`, the entry point it pre-initialises the interpreter
/// through at build time. Calling it would only re-run that step.
const TOOLCHAIN_EXPORTS: &[(&str, &[&str])] = &[("exports", &["init"])];

/// Whether the exported instance `name` is one of [`TOOLCHAIN_EXPORTS`]:
/// its name and exactly its functions (types aside).
fn is_toolchain_export(name: &str, instance: &ComponentInstance, engine: &Engine) -> bool {
    TOOLCHAIN_EXPORTS.iter().any(|(export, functions)| {
        *export == name
            && instance
                .exports(engine)
                .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                .map(|(function, _)| function)
                .eq(functions.iter().copied())
    })
}

/// One component's tools, and what it serves besides them.
pub struct Loaded {
    /// Its tools.
    pub tools: Vec<ToolSpec>,
    /// Its resources, prompts and completions, when it serves any.
    pub served: Option<ServedBy>,
}

/// Reads, compiles and inspects one component.
pub fn load_component(config: &ComponentConfig, sandbox: &Sandbox) -> Result<Loaded, LoadError> {
    let bytes = std::fs::read(&config.path).map_err(|error| LoadError::Read {
        component: config.name.clone(),
        path: config.path.clone(),
        line: config.path_line,
        error,
    })?;
    let (docs, wit) = match &config.wit {
        Some((dir, line)) => {
            let wit = WitSource::read(dir).map_err(|message| LoadError::Wit {
                component: config.name.clone(),
                line: *line,
                message,
            })?;
            let docs = wit.docs().map_err(|message| LoadError::Wit {
                component: config.name.clone(),
                line: *line,
                message,
            })?;
            (docs, Some(wit))
        }
        None => (embedded_docs(config, &bytes), None),
    };
    let program = Arc::new(sandbox.compile(&config.name, &bytes, config.limits, &config.grants)?);
    let loader = Loader {
        config,
        program: &program,
        docs: &docs,
        wit: wit.as_ref(),
        content: ContentTypes::of(program.component(), sandbox.engine()),
    };

    let mut tools = Vec::new();
    let component = program.component();
    let engine = sandbox.engine();
    for (export, item) in component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(func) => {
                let Some(index) = component.get_export_index(None, export) else {
                    continue;
                };
                tools.extend(loader.tool(None, export, &func, index)?);
            }
            ComponentItem::ComponentInstance(_) if served::is_served(export) => {
                tracing::debug!(component = %config.name, export, "served, not tools");
            }
            ComponentItem::ComponentInstance(instance) if export.starts_with("wasi:") => {
                tracing::debug!(component = %config.name, export, "skipping WASI export");
                drop(instance);
            }
            ComponentItem::ComponentInstance(instance)
                if is_toolchain_export(export, &instance, engine) =>
            {
                tracing::debug!(component = %config.name, export, "skipping a toolchain's own export");
            }
            ComponentItem::ComponentInstance(instance) => {
                let Some(interface) = component.get_export_index(None, export) else {
                    continue;
                };
                for (name, item) in instance.exports(engine) {
                    let ComponentItem::ComponentFunc(func) = item.ty else {
                        continue;
                    };
                    let Some(index) = component.get_export_index(Some(&interface), name) else {
                        continue;
                    };
                    tools.extend(loader.tool(Some(export), name, &func, index)?);
                }
            }
            _ => {}
        }
    }
    let served = served::exports_of(&program, engine);
    if tools.is_empty() && served.is_none() {
        tracing::warn!(component = %config.name, "the component exports no function usable as a tool");
    }
    Ok(Loaded { tools, served })
}

/// The doc comments embedded in the component, if any.
fn embedded_docs(config: &ComponentConfig, bytes: &[u8]) -> PackageDocs {
    match PackageDocs::from_component(bytes) {
        Ok(Some(docs)) => docs,
        Ok(None) => {
            tracing::warn!(
                component = %config.name,
                "the component carries no WIT doc comments (no package-docs section: plain cargo, \
                 cargo component, componentize-py and jco builds do not write one), so its tools \
                 have no descriptions; give `wit = \"DIR\"` (its WIT folder) in its config, or \
                 write them in with `corral docs embed --wit DIR`"
            );
            PackageDocs::default()
        }
        Err(message) => {
            tracing::warn!(component = %config.name, "ignoring its doc comments: {message}");
            PackageDocs::default()
        }
    }
}

struct Loader<'a> {
    config: &'a ComponentConfig,
    /// The WIT source the config names, which must describe every function.
    wit: Option<&'a WitSource>,
    program: &'a Arc<Program>,
    docs: &'a PackageDocs,
    /// The `corral:mcp` content types the component imports.
    content: ContentTypes,
}

impl Loader<'_> {
    /// The tool of one exported function, or `None` when it cannot be one.
    fn tool(
        &self,
        interface: Option<&str>,
        func_name: &str,
        func: &ComponentFunc,
        export: ComponentExportIndex,
    ) -> Result<Option<ToolSpec>, LoadError> {
        let wit_path = match interface {
            Some(i) => format!("{i}#{func_name}"),
            None => func_name.to_owned(),
        };
        if let Some(wit) = self.wit
            && !wit.describes(interface.map(plain_interface_name), func_name)
        {
            return Err(LoadError::WitMismatch {
                component: self.config.name.clone(),
                function: wit_path,
                package: wit.name().to_owned(),
            });
        }
        let skip = |why: &str| {
            tracing::warn!(
                component = %self.config.name,
                function = %wit_path,
                "skipping function: {why}"
            );
            Ok(None)
        };
        if func_name.starts_with('[') {
            return skip(
                "it is a resource constructor or method, and resources cannot be passed as JSON",
            );
        }
        if func.async_() {
            return skip("component-model async functions are not supported yet");
        }
        let params: Vec<(String, Type)> = func.params().map(|(n, t)| (n.to_owned(), t)).collect();
        let input = match wit_json::object(
            params.iter().map(|(n, t)| (n.as_str(), t.clone())),
            Direction::Input,
        ) {
            Ok(schema) => schema,
            Err(Unsupported(what)) => {
                return skip(&format!(
                    "a parameter is {what}, which cannot be passed as JSON"
                ));
            }
        };
        let payload = |ty: Type| match self.content.form(&ty) {
            Some(form) => Payload::Content(form),
            None => Payload::Json(Shaped::new(ty)),
        };
        let output = match func.results().next() {
            None => Output::Nothing,
            Some(Type::Result(result)) => Output::Fallible {
                ok: result.ok().map(payload),
                err: result.err(),
            },
            Some(ty) => Output::Value(payload(ty)),
        };
        let output_schema = match output_schema(&output) {
            Ok(schema) => schema,
            Err(Unsupported(what)) => {
                return skip(&format!(
                    "it returns {what}, which cannot be passed as JSON"
                ));
            }
        };

        let name = format!("{}{}", self.config.tool_prefix, json_name(func_name));
        if !is_tool_name(&name) {
            return Err(LoadError::BadName {
                component: self.config.name.clone(),
                name,
            });
        }
        let interface_name = interface.map(plain_interface_name);
        let header_error = |message: String| LoadError::Header {
            component: self.config.name.clone(),
            tool: name.clone(),
            message,
        };
        let (description, headers) = match self.docs.function(interface_name, func_name) {
            Some(docs) => {
                let (description, headers) = super::headers::take(docs).map_err(header_error)?;
                (Some(description), headers)
            }
            None => (None, Vec::new()),
        };
        let mut input_schema = into_object(input);
        super::headers::annotate(&mut input_schema, &headers).map_err(header_error)?;
        // Without any doc comment in the component, the warning about the
        // missing section said it all (a toolchain that does not embed
        // them, like cargo component, is the usual cause); this one is for
        // a function that really has none.
        if description.is_none() && self.docs.described() > 0 {
            tracing::warn!(
                component = %self.config.name,
                tool = %name,
                "the tool has no description: its WIT has no /// doc comment on `{func_name}`; \
                 add one and embed the docs again"
            );
        }
        Ok(Some(ToolSpec {
            name,
            description,
            wit_path,
            program: self.program.clone(),
            export,
            arguments: wit_json::Arguments::new(&params),
            output,
            input_schema: Arc::new(input_schema),
            output_schema: output_schema.map(|s| Arc::new(into_object(s))),
            hints: self.config.hints,
        }))
    }
}

fn output_schema(output: &Output) -> Result<Option<Value>, Unsupported> {
    match output {
        Output::Nothing => Ok(None),
        Output::Value(payload) => payload.schema(),
        Output::Fallible { ok, err } => {
            if let Some(err) = err {
                wit_json::schema(err, Direction::Output)?;
            }
            Ok(ok.as_ref().map(Payload::schema).transpose()?.flatten())
        }
    }
}

fn into_object(schema: Value) -> serde_json::Map<String, Value> {
    match schema {
        Value::Object(o) => o,
        _ => serde_json::Map::new(),
    }
}

/// `corral:text-tools/text@0.1.0` → `text`.
pub(super) fn plain_interface_name(export: &str) -> &str {
    let name = export.rsplit_once('/').map_or(export, |(_, n)| n);
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// What the major model APIs accept as a tool name.
fn is_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_lose_package_and_version() {
        assert_eq!(plain_interface_name("corral:text-tools/text@0.1.0"), "text");
        assert_eq!(plain_interface_name("corral:x/y"), "y");
        assert_eq!(plain_interface_name("local"), "local");
    }

    #[test]
    fn tool_names_follow_the_model_apis() {
        assert!(is_tool_name("analyze_code"));
        assert!(is_tool_name("a-b_C9"));
        assert!(!is_tool_name(""));
        assert!(!is_tool_name("has space"));
        assert!(!is_tool_name(&"x".repeat(65)));
    }
}
