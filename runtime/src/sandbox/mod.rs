//! The sandbox: compiles components once and runs every call in a fresh,
//! budgeted instance.
//!
//! ```text
//! Sandbox (engine, linker, epoch ticker, call permits)
//!   └─ Program (one compiled component: InstancePre + limits)
//!        └─ call → fresh Store { WASI context from grants, limiter,
//!                                captured stdio } → CallReport | CallError
//! ```
//!
//! The executor knows nothing of MCP or JSON: it takes `Val`s and gives back
//! `Val`s, or a [`CallError`] saying in plain words why the guest stopped.

mod cache;
mod engine;
mod error;
mod executor;
mod http;
mod limiter;
mod stdio;
mod ticker;
mod wasi;

pub use cache::{ArtifactCache, Origin};
pub use engine::{Program, Sandbox, SandboxError, SandboxSettings};
pub use error::CallError;
pub use executor::CallReport;
pub use stdio::Captured;
