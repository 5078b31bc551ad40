//! Clocks and random numbers: the wall clock, the monotonic clock and
//! random bytes, given to every component that imports them.

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::p2::bindings::{clocks, random};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

use super::{
    CallState, Capability, Grant, GrantError, Imports, Interfaces, Section, always::Always,
};

/// The clocks-and-random capability.
pub struct ClocksAndRandom;

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
        Always {
            link,
            reach,
            talks_to_client: false,
        }
        .grant()
    }
}

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    let clock = CallState::clocks;
    clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(linker, clock)?;
    clocks::monotonic_clock::add_to_linker::<CallState, WasiClocks>(linker, clock)?;
    let rng = CallState::random;
    random::random::add_to_linker::<CallState, WasiRandom>(linker, rng)?;
    random::insecure::add_to_linker::<CallState, WasiRandom>(linker, rng)?;
    random::insecure_seed::add_to_linker::<CallState, WasiRandom>(linker, rng)?;
    Ok(())
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("clocks") {
        reach.push("reads the wall clock and the monotonic clock".into());
    }
    if imports.has("random") {
        reach.push("reads random numbers".into());
    }
    reach
}
