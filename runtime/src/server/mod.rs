//! The MCP side: the protocol handler and the transports that carry it.
//!
//! The handler turns `tools/list` and `tools/call` into registry lookups and
//! sandbox calls; the transports (stdio here) only move JSON-RPC messages.

mod handler;
mod stdio;

pub use handler::CorralServer;
pub use stdio::serve_stdio;
