//! `corral:mcp/types`: the content types a tool may return (text, images,
//! sounds, resources, links). The interface holds only types, so nothing is
//! linked and nothing is reachable through it; a function returning them
//! is answered with content blocks (see `registry::content`).

use std::sync::Arc;

use wasmtime::component::Linker;

use super::{
    CallState, Capability, Grant, GrantError, Imports, Interfaces, Section, always::Always,
};

/// The content-types unit.
pub struct McpTypes;

impl Capability for McpTypes {
    fn name(&self) -> &'static str {
        "mcp-types"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "mcp types",
            names: &["corral:mcp/types"],
        }]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Always {
            link,
            reach,
            talks_to_client: false,
        }
        .grant()
    }
}

fn link(_linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    // An interface of types only needs no definition in the linker.
    Ok(())
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("mcp types") {
        reach.push(
            "returns MCP content (text, images, sounds, resources): types only, no access".into(),
        );
    }
    reach
}
