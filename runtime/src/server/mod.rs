//! The MCP side: the protocol handler and the transports that carry it.
//!
//! The handler turns `tools/list` and `tools/call` into registry lookups and
//! sandbox calls; the transports (stdio, streamable HTTP) only move
//! JSON-RPC messages, and HTTP adds what operators need (auth, limits,
//! health, metrics).

mod auth;
mod handler;
mod http;
mod metrics;
mod notices;
mod questions;
mod rounds;
mod served;
mod stdio;
mod talk;
mod tasks;

pub use auth::{Principal, check as check_auth};
pub use handler::CorralServer;
pub use http::{HttpError, serve_http};
pub use metrics::Metrics;
pub use stdio::serve_stdio;
