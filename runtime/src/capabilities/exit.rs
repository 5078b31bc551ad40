//! Exit: a guest may end its call early with `wasi:cli/exit`; the client
//! gets an error answer with the status.

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::cli::exit;

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The exit capability.
pub struct Exit;

/// Nothing to grant: exiting ends only the guest's own call.
#[derive(Debug)]
struct ExitGrant;

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
        Ok(Arc::new(ExitGrant))
    }
}

impl Grant for ExitGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        _section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(ExitGrant))
    }

    fn granted(&self) -> bool {
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        exit::add_to_linker::<CallState, WasiCli>(linker, CallState::cli)
    }

    fn prepare(&self, _call: &mut CallSetup) -> Result<(), String> {
        Ok(())
    }

    fn audit(&self, imports: &Imports, _key: &str) -> AuditPart {
        let mut part = AuditPart::default();
        if imports.has("exit") {
            part.reach
                .push("may exit early: reported to the client as an error".into());
        }
        part
    }

    fn effects(&self) -> Effects {
        Effects::default()
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
