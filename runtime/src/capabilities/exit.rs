//! Exit: a guest may end its call early with `wasi:cli/exit`; the client
//! gets an error answer with the status.

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::cli::exit;

use super::{
    CallState, Capability, Grant, GrantError, Imports, Interfaces, Section, always::Always,
};

/// The exit capability.
pub struct Exit;

impl Capability for Exit {
    fn name(&self) -> &'static str {
        "exit"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "exit",
            names: &["wasi:cli/exit"],
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

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    exit::add_to_linker::<CallState, WasiCli>(linker, CallState::cli)
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("exit") {
        reach.push("may exit early: reported to the client as an error".into());
    }
    reach
}
