//! The sandbox: compiles components once and runs every call in a fresh,
//! budgeted instance.
//!
//! ```text
//! Sandbox (engine, instance pool, deadline ticker, call permits)
//!   └─ Program (one compiled component: its own linker's InstancePre,
//!               limits, the grants it links)
//!        └─ call → fresh Store { per-call state the capabilities prepare,
//!                                budgets } → CallReport | CallError
//! ```
//!
//! The executor knows nothing of MCP or JSON: it takes `Val`s and gives back
//! `Val`s, or a [`CallError`] saying in plain words why the guest stopped.

mod cache;
mod engine;
mod error;
mod executor;
mod pool;
mod ticker;
mod yields;

pub use cache::{ArtifactCache, Origin};
pub use engine::{Program, Sandbox, SandboxError, SandboxSettings};
pub use error::CallError;
pub use executor::{CallReport, CallSlot};
