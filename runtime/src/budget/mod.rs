//! Per-call budgets: everything a guest can make the host hold for it.
//!
//! Fuel and the deadline bound a call's work and time (see the sandbox).
//! The budgets here bound what a call can hold, including what the host
//! allocates or opens on the guest's behalf, which wasmtime's own limits do
//! not see:
//!
//! | budget | what it bounds | config key (`components.NAME.limits.…`) | enforced by |
//! |---|---|---|---|
//! | memory | the guest's linear memories, together | `memory` | [`MemoryLimiter`] (refuses `memory.grow`) |
//! | host memory | bytes the host allocates while the guest runs: WASI objects, buffers, copies of guest data, the lifted result | `host_memory` | [`CountingAllocator`] counts, the store's call hook stops the guest |
//! | handles | WASI resources held at once (files, sockets, streams, pollables, HTTP objects) | `handles` | the resource table's capacity |
//! | descriptors | files and sockets open at once | `descriptors` | [`Descriptors`], checked at every open |
//!
//! Exceeding one traps the guest with [`Exceeded`], which the executor
//! turns into an answer naming the budget and its key. Nothing a budget
//! counts is shared between calls: every count starts at zero with the call
//! and is gone with its store.

mod deadline;
mod descriptors;
mod host_memory;
mod memory;
mod process;

use std::fmt;

pub use deadline::{Deadline, Paused};
pub use descriptors::{DescriptorKind, Descriptors};
pub use host_memory::{
    CountingAllocator, HostMemory, charged, release_free_memory, return_to_system,
};
pub use memory::MemoryLimiter;
pub use process::{DescriptorNeeds, raise_descriptor_limit};

/// A budget a call can exceed on the host's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Host memory held for the call.
    HostMemory,
    /// WASI resources held at once.
    Handles,
    /// Files and sockets open at once.
    Descriptors,
}

impl Budget {
    /// The `limits` key that raises this budget.
    pub fn key(self) -> &'static str {
        match self {
            Budget::HostMemory => "host_memory",
            Budget::Handles => "handles",
            Budget::Descriptors => "descriptors",
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Budget::HostMemory => "host memory",
            Budget::Handles => "handles",
            Budget::Descriptors => "open files and sockets",
        })
    }
}

/// A call went over one of its budgets; the guest is stopped with this as
/// its trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the call exceeded its {budget} budget of {limit}")]
pub struct Exceeded {
    /// Which budget.
    pub budget: Budget,
    /// Its limit (bytes for host memory, a count for the others).
    pub limit: u64,
}
