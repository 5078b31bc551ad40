//! `corral:mcp/task`: a guest asks that the rest of its call go on in the
//! background, as a task its client polls (the MCP tasks extension). Given
//! to every component that imports it; only a tool call whose client
//! declared the extension becomes a task, and a task keeps every budget of
//! the call. Whether it does is the server's ([`asking`](super::asking)
//! carries the request; the MCP handler answers it).

use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use super::always::Always;
use super::asking::ClientLacks;
use super::client::ClientLink;
use super::{CallState, Capability, Grant, GrantError, Imports, Interfaces, Section};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        inline: "
            package corral:host;
            world task-host {
                import corral:mcp/task@0.1.0;
            }
        ",
        imports: { default: async | trappable },
    });
}

use bindings::corral::mcp::task as generated;

/// The capability of going on in the background.
pub struct McpTask;

impl Capability for McpTask {
    fn name(&self) -> &'static str {
        "mcp-task"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "mcp task",
            names: &["corral:mcp/task"],
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

/// The call's link, as the generated host function sees it.
struct Tasker<'a>(Option<&'a mut ClientLink>);

struct HasTasker;

impl HasData for HasTasker {
    type Data<'a> = Tasker<'a>;
}

impl generated::Host for Tasker<'_> {
    async fn background(&mut self, required: bool) -> wasmtime::Result<bool> {
        match self.0.as_deref_mut() {
            Some(link) => link.asker().background(required).await,
            // A call with no client (a list at start): nothing to answer.
            None if required => Err(ClientLacks.into()),
            None => Ok(false),
        }
    }
}

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    generated::add_to_linker::<CallState, HasTasker>(linker, |state| Tasker(state.client.as_mut()))
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("mcp task") {
        reach.push(
            "may go on in the background as a task its caller polls (MCP tasks extension), \
             within the same limits as the call"
                .to_owned(),
        );
    }
    reach
}
