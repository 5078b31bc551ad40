//! Corral: serve WebAssembly components as sandboxed MCP tools.
//!
//! One call travels down these modules and back up once:
//!
//! ```text
//! server    (MCP handler, stdio transport)       tools/list, tools/call
//!   ▼
//! registry  (tool name → ToolSpec)               which export, which schema
//!   ▼
//! wit_json  (JSON ⇄ wasmtime Val, JSON Schema)   arguments checked here
//!   ▼
//! sandbox   (fresh instance per call, budgets)   fuel, memory, deadline
//!   ▼
//! config    (corral.toml → Config)               what each component gets
//! ```
//!
//! Each layer uses only the layers below it: the sandbox knows nothing of
//! MCP, the transport nothing of wasmtime.

pub mod server;

pub mod audit;

pub mod registry;

pub mod wit_json;

pub mod sandbox;

pub mod config;

pub mod grants;
