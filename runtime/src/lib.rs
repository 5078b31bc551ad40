//! Corral: serve WebAssembly components as sandboxed MCP tools.
//!
//! One call travels down these modules and back up once:
//!
//! ```text
//! server        (MCP handler; stdio and HTTP)     tools/list, tools/call
//!   ▼
//! registry      (tool name → ToolSpec)            which export, which schema
//!   ▼
//! wit_json      (JSON ⇄ wasmtime Val, schemas)    arguments checked here
//!   ▼
//! sandbox       (fresh instance per call)         fuel, deadline, the pool
//!   ▼
//! capabilities  (one unit per capability)         what the guest can reach:
//!   ▼                                             linked, prepared, audited
//! budget        (per-call host resources)         memory, host memory,
//!                                                 handles, descriptors
//! ```
//!
//! `config` turns `corral.toml` into settings, asking each capability to
//! read its own keys; `audit` describes a component's imports and grants
//! for a reviewer, from the same capability list. Each layer uses only the
//! layers below it: the sandbox knows nothing of MCP, the transport
//! nothing of wasmtime.
//!
//! The capabilities, and how to add one, are described in [`capabilities`].

pub mod server;

pub mod audit;

pub mod registry;

pub mod wit_json;

pub mod sandbox;

pub mod config;

pub mod capabilities;

pub mod budget;
