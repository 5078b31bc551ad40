//! `corral:mcp/progress`: a guest reports its progress to the client of its
//! call (MCP `notifications/progress`), when the request carried a progress
//! token; a no-op otherwise. Reports that do not go forward are dropped and
//! the latest report wins between two sends (see [`client`](super::client)).

use std::sync::Arc;

use wasmtime::component::{Linker, Val};

use super::client::PROGRESS_INTERVAL;
use super::mcp_log::optional_string;
use super::{
    CallState, Capability, Grant, GrantError, Imports, Interfaces, Section, always::Always,
};

/// The interface, as the linker names it.
const INTERFACE: &str = "corral:mcp/progress@0.1.0";

/// The progress-reporting capability.
pub struct McpProgress;

impl Capability for McpProgress {
    fn name(&self) -> &'static str {
        "mcp-progress"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "mcp progress",
            names: &["corral:mcp/progress"],
        }]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Always {
            link,
            reach,
            talks_to_client: true,
        }
        .grant()
    }
}

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker
        .instance(INTERFACE)?
        .func_new("report", |mut store, _ty, params, _results| {
            let [Val::Float64(progress), total, message] = params else {
                wasmtime::bail!("{INTERFACE}#report was called with arguments of other types than its WIT declares");
            };
            let total = match total {
                Val::Option(Some(t)) => match t.as_ref() {
                    Val::Float64(t) => Some(*t),
                    _ => None,
                },
                _ => None,
            };
            if let Some(link) = store.data_mut().client.as_mut() {
                link.progress(*progress, total, optional_string(message).map(String::as_str));
            }
            Ok(())
        })
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("mcp progress") {
        reach.push(format!(
            "may report progress to its caller (at most one report each {} ms)",
            PROGRESS_INTERVAL.as_millis()
        ));
    }
    reach
}
