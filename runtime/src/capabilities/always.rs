//! The grant of a capability no config key controls: given to every
//! component that imports its interfaces, with nothing to check at start,
//! nothing to prepare per call and nothing of the host to name. Such a
//! capability says only how it links and what it lets a component reach.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::{AuditPart, CallSetup, CallState, Effects, Grant, GrantError, Host, Imports, Section};

/// A grant that is always given.
#[derive(Debug, Clone, Copy)]
pub(super) struct Always {
    /// Links the capability's host interfaces.
    pub link: fn(&mut Linker<CallState>) -> wasmtime::Result<()>,
    /// What a component with these imports reaches, for the audit.
    pub reach: fn(&Imports) -> Vec<String>,
    /// Whether the host functions talk to the call's client.
    pub talks_to_client: bool,
}

impl Always {
    /// The grant, as the capability's `parse` returns it.
    pub(super) fn grant(self) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(self))
    }
}

impl Grant for Always {
    fn validate(
        &self,
        _section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        self.grant()
    }

    fn granted(&self) -> bool {
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        (self.link)(linker)
    }

    fn prepare(&self, _call: &mut CallSetup) -> Result<(), String> {
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        self.talks_to_client
    }

    fn audit(&self, imports: &Imports, _key: &str) -> AuditPart {
        AuditPart {
            reach: (self.reach)(imports),
            ..AuditPart::default()
        }
    }

    fn effects(&self) -> Effects {
        Effects::default()
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn held_descriptors(&self) -> u64 {
        0
    }
}
