//! I/O plumbing: `wasi:io` streams, polling and errors, which the other
//! capabilities' objects are read, written and waited on through. It
//! reaches nothing by itself.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi_io::bindings::wasi::io::{error, poll, streams};

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The I/O capability.
pub struct Io;

/// Nothing to grant: streams exist only where another capability made one.
#[derive(Debug)]
struct IoGrant;

/// `wasi:io`'s host state is the resource table itself.
struct Table;

impl HasData for Table {
    type Data<'a> = &'a mut ResourceTable;
}

impl Capability for Io {
    fn name(&self) -> &'static str {
        "io"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "io",
            names: &["wasi:io/"],
        }]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(IoGrant))
    }
}

impl Grant for IoGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        _section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(IoGrant))
    }

    fn granted(&self) -> bool {
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        fn table(s: &mut CallState) -> &mut ResourceTable {
            &mut s.table
        }
        error::add_to_linker::<CallState, Table>(linker, table)?;
        poll::add_to_linker::<CallState, Table>(linker, table)?;
        streams::add_to_linker::<CallState, Table>(linker, table)?;
        Ok(())
    }

    fn prepare(&self, _call: &mut CallSetup) -> Result<(), String> {
        Ok(())
    }

    fn audit(&self, _imports: &Imports, _key: &str) -> AuditPart {
        AuditPart::default()
    }

    fn effects(&self) -> Effects {
        Effects::default()
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
