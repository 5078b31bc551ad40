//! The WASI context of one call: what the guest may reach.
//!
//! Deny by default: no directory, no environment variable, no argument, no
//! network, stdin empty. Clocks and random numbers are allowed. Guest stdout
//! and stderr go to bounded captures, never to the process's own streams.

use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

use super::stdio::Capture;

/// Builds the context of one call, writing guest output to the captures.
pub(crate) fn context(stdout: &Capture, stderr: &Capture) -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    builder.build()
}
