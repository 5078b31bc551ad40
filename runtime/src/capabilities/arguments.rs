//! Arguments and stdin: never granted. A guest gets no command-line
//! arguments and reads an empty stdin, whatever the config says; the audit
//! says so for every component.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The arguments capability, which no component is ever granted.
pub struct Arguments;

/// Always empty.
#[derive(Debug)]
struct NoArguments;

impl Capability for Arguments {
    fn name(&self) -> &'static str {
        "arguments"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        // The arguments are read through `wasi:cli/environment` and stdin
        // through the stdio interfaces: those capabilities link them empty.
        &[]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(NoArguments))
    }
}

impl Grant for NoArguments {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        _section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(NoArguments))
    }

    fn granted(&self) -> bool {
        false
    }

    fn link(&self, _linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        Ok(())
    }

    fn prepare(&self, _call: &mut CallSetup) -> Result<(), String> {
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, _imports: &Imports, _key: &str) -> AuditPart {
        AuditPart {
            reach: vec!["gets no command-line arguments and an empty stdin".into()],
            ..AuditPart::default()
        }
    }

    fn effects(&self) -> Effects {
        Effects::default()
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
