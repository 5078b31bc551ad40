//! `corral:mcp/log`: a guest sends log messages to the client of its call
//! (MCP `notifications/message`), at the levels the client asked for and
//! within the caps of [`client`](super::client). Given to every component
//! that imports it: a message reaches only the caller, never the host.

use std::sync::Arc;

use wasmtime::component::{Linker, Val};

use super::client::{Level, MAX_LOG_BYTES, MAX_LOGS};
use super::{
    CallState, Capability, Grant, GrantError, Imports, Interfaces, Section, always::Always,
};

/// The interface, as the linker names it.
const INTERFACE: &str = "corral:mcp/log@0.1.0";

/// The client-logging capability.
pub struct McpLog;

impl Capability for McpLog {
    fn name(&self) -> &'static str {
        "mcp-log"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "mcp log",
            names: &["corral:mcp/log"],
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
        .func_new("log", |mut store, _ty, params, _results| {
            let (level, logger, text) = match params {
                [Val::Enum(level), logger, Val::String(text)] => {
                    (Level::named(level), optional_string(logger), text)
                }
                _ => (None, None, &String::new()),
            };
            let Some(level) = level else {
                wasmtime::bail!(
                    "{INTERFACE}#log was called with arguments of other types than its WIT declares"
                );
            };
            if let Some(link) = store.data_mut().client.as_mut() {
                link.log(level, logger.map(String::as_str), text);
            }
            Ok(())
        })
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("mcp log") {
        reach.push(format!(
            "may send log messages to its caller (at most {MAX_LOGS} a call, {} each)",
            bytesize::ByteSize(MAX_LOG_BYTES as u64).display().iec()
        ));
    }
    reach
}

/// The string in a WIT `option<string>` value.
pub(super) fn optional_string(val: &Val) -> Option<&String> {
    match val {
        Val::Option(Some(inner)) => match inner.as_ref() {
            Val::String(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}
