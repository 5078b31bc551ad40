//! I/O plumbing: `wasi:io` streams, polling and errors, which the other
//! capabilities' objects are read, written and waited on through. It
//! reaches nothing by itself.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi_io::bindings::wasi::io::{error, poll, streams};

use super::{
    CallState, Capability, Grant, GrantError, Imports, Interfaces, Section, always::Always,
};

/// The I/O capability.
pub struct Io;

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
        Always {
            link,
            reach,
            talks_to_client: false,
        }
        .grant()
    }
}

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    fn table(s: &mut CallState) -> &mut ResourceTable {
        &mut s.table
    }
    error::add_to_linker::<CallState, Table>(linker, table)?;
    poll::add_to_linker::<CallState, Table>(linker, table)?;
    streams::add_to_linker::<CallState, Table>(linker, table)?;
    Ok(())
}

/// Streams reach only what another capability opened: nothing to say.
fn reach(_imports: &Imports) -> Vec<String> {
    Vec::new()
}
