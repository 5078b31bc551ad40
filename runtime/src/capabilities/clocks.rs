//! Clocks and random numbers: the wall clock, the monotonic clock and
//! random bytes, given to every component that imports them.

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::p2::bindings::{clocks, random};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The clocks-and-random capability.
pub struct ClocksAndRandom;

/// Nothing to grant: every component may read clocks and random numbers.
#[derive(Debug)]
struct ClocksGrant;

impl Capability for ClocksAndRandom {
    fn name(&self) -> &'static str {
        "clocks"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[
            Interfaces {
                label: "clocks",
                names: &["wasi:clocks/"],
            },
            Interfaces {
                label: "random",
                names: &["wasi:random/"],
            },
        ]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(ClocksGrant))
    }
}

impl Grant for ClocksGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        _section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(ClocksGrant))
    }

    fn granted(&self) -> bool {
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        let clock = CallState::clocks;
        clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(linker, clock)?;
        clocks::monotonic_clock::add_to_linker::<CallState, WasiClocks>(linker, clock)?;
        let rng = CallState::random;
        random::random::add_to_linker::<CallState, WasiRandom>(linker, rng)?;
        random::insecure::add_to_linker::<CallState, WasiRandom>(linker, rng)?;
        random::insecure_seed::add_to_linker::<CallState, WasiRandom>(linker, rng)?;
        Ok(())
    }

    fn prepare(&self, _call: &mut CallSetup) -> Result<(), String> {
        Ok(())
    }

    fn audit(&self, imports: &Imports, _key: &str) -> AuditPart {
        let mut part = AuditPart::default();
        if imports.has("clocks") {
            part.reach
                .push("reads the wall clock and the monotonic clock".into());
        }
        if imports.has("random") {
            part.reach.push("reads random numbers".into());
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
