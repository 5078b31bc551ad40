//! The stdio transport: JSON-RPC on stdin and stdout.
//!
//! stdout carries only protocol messages: logs go to stderr and guest output
//! is captured by the sandbox, never written here.

use rmcp::ServiceExt;

use super::CorralServer;

/// Failures of the stdio transport.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The MCP session could not start (for example a bad first message).
    #[error("the MCP session over stdio failed to start: {0}")]
    Start(String),
    /// The session ended abnormally.
    #[error("the MCP session over stdio ended abnormally: {0}")]
    Run(String),
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve_stdio(server: CorralServer) -> Result<(), StdioError> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| StdioError::Start(e.to_string()))?;
    running
        .waiting()
        .await
        .map(drop)
        .map_err(|e| StdioError::Run(e.to_string()))
}
