//! A component file → its tools.
//!
//! Every exported function is a tool, whether the world exports it directly
//! or inside an exported interface. Functions whose types have no JSON form
//! (resources, streams, futures) and component-model async functions are
//! skipped with a warning naming them; exports of `wasi:` interfaces are
//! entry points for hosts, not tools, and are skipped quietly.

use std::sync::Arc;

use serde_json::Value;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{ComponentExportIndex, Type};

use super::LoadError;
use super::docs::PackageDocs;
use super::tool::{Output, Shaped, ToolSpec};
use crate::config::ComponentConfig;
use crate::sandbox::{Program, Sandbox};
use crate::wit_json::{self, Direction, Unsupported, json_name};

/// Reads, compiles and inspects one component.
pub fn load_component(
    config: &ComponentConfig,
    sandbox: &Sandbox,
) -> Result<Vec<ToolSpec>, LoadError> {
    let bytes = std::fs::read(&config.path).map_err(|error| LoadError::Read {
        component: config.name.clone(),
        path: config.path.clone(),
        line: config.path_line,
        error,
    })?;
    let docs = match PackageDocs::from_component(&bytes) {
        Ok(Some(docs)) => docs,
        Ok(None) => {
            tracing::warn!(
                component = %config.name,
                "the component has no package-docs section, so its tools have no descriptions; \
                 embed its WIT doc comments at build time (see \"Write your first tool\" in the README)"
            );
            PackageDocs::default()
        }
        Err(message) => {
            tracing::warn!(component = %config.name, "ignoring its doc comments: {message}");
            PackageDocs::default()
        }
    };
    let program = Arc::new(sandbox.compile(&config.name, &bytes, config.limits, &config.grants)?);
    let loader = Loader {
        config,
        program: &program,
        docs: &docs,
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
            ComponentItem::ComponentInstance(instance) if export.starts_with("wasi:") => {
                tracing::debug!(component = %config.name, export, "skipping WASI export");
                drop(instance);
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
    if tools.is_empty() {
        tracing::warn!(component = %config.name, "the component exports no function usable as a tool");
    }
    Ok(tools)
}

struct Loader<'a> {
    config: &'a ComponentConfig,
    program: &'a Arc<Program>,
    docs: &'a PackageDocs,
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
        let output = match func.results().next() {
            None => Output::Nothing,
            Some(Type::Result(result)) => Output::Fallible {
                ok: result.ok().map(Shaped::new),
                err: result.err(),
            },
            Some(ty) => Output::Value(Shaped::new(ty)),
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
        let description = self
            .docs
            .function(interface_name, func_name)
            .map(str::to_owned);
        if description.is_none() {
            tracing::warn!(
                component = %self.config.name,
                tool = %name,
                "the tool has no description: give `{func_name}` a /// doc comment in its WIT and embed the docs"
            );
        }
        Ok(Some(ToolSpec {
            name,
            description,
            wit_path,
            program: self.program.clone(),
            export,
            params,
            output,
            input_schema: Arc::new(into_object(input)),
            output_schema: output_schema.map(|s| Arc::new(into_object(s))),
            hints: self.config.hints,
        }))
    }
}

fn output_schema(output: &Output) -> Result<Option<Value>, Unsupported> {
    match output {
        Output::Nothing => Ok(None),
        Output::Value(shaped) => shaped.schema().map(Some),
        Output::Fallible { ok, err } => {
            if let Some(err) = err {
                wit_json::schema(err, Direction::Output)?;
            }
            ok.as_ref().map(Shaped::schema).transpose()
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
fn plain_interface_name(export: &str) -> &str {
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
