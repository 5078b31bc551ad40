//! Stdio: the guest's stdout and stderr, captured and bounded; stdin is
//! empty and no stream is a terminal.
//!
//! On stdio transports the process's stdout is the protocol, so guest output
//! must never reach it. Each call gets two fresh captures; what a guest
//! writes beyond the bound is counted and dropped (never a trap: a chatty
//! tool still answers). The executor logs what was kept, escaped, under the
//! tool's name.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime::component::Linker;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::cli::{
    stderr, stdin, stdout, terminal_input, terminal_output, terminal_stderr, terminal_stdin,
    terminal_stdout,
};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use super::{
    AuditPart, CallSetup, CallState, Capability, Effects, Grant, GrantError, Host, Imports,
    Interfaces, Section,
};

/// The stdio capability.
pub struct Stdio;

/// Stdio is the same for every component: there is nothing to grant.
#[derive(Debug)]
struct StdioGrant;

impl Capability for Stdio {
    fn name(&self) -> &'static str {
        "stdio"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "stdio",
            names: &[
                "wasi:cli/stdin",
                "wasi:cli/stdout",
                "wasi:cli/stderr",
                "wasi:cli/terminal-input",
                "wasi:cli/terminal-output",
                "wasi:cli/terminal-stdin",
                "wasi:cli/terminal-stdout",
                "wasi:cli/terminal-stderr",
            ],
        }]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(StdioGrant))
    }
}

impl Grant for StdioGrant {
    fn held_descriptors(&self) -> u64 {
        0
    }

    fn validate(
        &self,
        _section: &Section<'_>,
        _host: &Host<'_>,
    ) -> Result<Arc<dyn Grant>, GrantError> {
        Ok(Arc::new(StdioGrant))
    }

    fn granted(&self) -> bool {
        true
    }

    fn link(&self, linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
        let cli = CallState::cli;
        stdin::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        stdout::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        stderr::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        terminal_input::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        terminal_output::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        terminal_stdin::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        terminal_stdout::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        terminal_stderr::add_to_linker::<CallState, WasiCli>(linker, cli)?;
        Ok(())
    }

    fn prepare(&self, call: &mut CallSetup) -> Result<(), String> {
        call.wasi
            .stdout(call.stdout.clone())
            .stderr(call.stderr.clone());
        Ok(())
    }

    fn talks_to_client(&self) -> bool {
        false
    }

    fn audit(&self, imports: &Imports, _key: &str) -> AuditPart {
        let mut part = AuditPart::default();
        if imports.has("stdio") {
            part.reach.push(format!(
                "writes to stdout and stderr: captured ({} KiB each per call) and logged, \
                 never sent to the client",
                CAPTURE_LIMIT / 1024
            ));
        }
        part
    }

    fn effects(&self) -> Effects {
        Effects::default()
    }

    fn host_names(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// Bytes kept of each stream of each call.
pub const CAPTURE_LIMIT: usize = 64 * 1024;

/// One captured stream; clones share the buffer.
#[derive(Clone, Debug, Default)]
pub struct Capture(Arc<Mutex<Buffer>>);

#[derive(Debug, Default)]
struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
}

/// What a guest wrote to one stream during a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The first [`CAPTURE_LIMIT`] bytes, lossily decoded as UTF-8.
    pub text: String,
    /// Bytes written beyond the limit and dropped.
    pub dropped: u64,
}

impl Captured {
    /// The last `max` characters, for error messages.
    pub fn tail(&self, max: usize) -> &str {
        let text = self.text.trim_end();
        let start = text
            .char_indices()
            .rev()
            .nth(max.saturating_sub(1))
            .map_or(0, |(i, _)| i);
        &text[start..]
    }
}

impl Capture {
    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        // A poisoned lock only means a writer panicked mid-append; the bytes
        // are still the best record we have.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.buffer();
        let room = CAPTURE_LIMIT.saturating_sub(buffer.kept.len());
        let kept = bytes.len().min(room);
        buffer.kept.extend_from_slice(&bytes[..kept]);
        buffer.dropped += (bytes.len() - kept) as u64;
    }

    /// What was written so far.
    pub(crate) fn captured(&self) -> Captured {
        let buffer = self.buffer();
        Captured {
            text: String::from_utf8_lossy(&buffer.kept).into_owned(),
            dropped: buffer.dropped,
        }
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(CAPTURE_LIMIT)
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_beyond_the_limit_is_counted_not_kept() {
        let capture = Capture::default();
        capture.append(&vec![b'a'; CAPTURE_LIMIT - 1]);
        capture.append(b"bcd");
        let captured = capture.captured();
        assert_eq!(captured.text.len(), CAPTURE_LIMIT);
        assert!(captured.text.ends_with('b'));
        assert_eq!(captured.dropped, 2);
    }

    #[test]
    fn tail_keeps_the_last_characters() {
        let captured = Captured {
            text: "first line\nlast line é\n".into(),
            dropped: 0,
        };
        assert_eq!(captured.tail(11), "last line é");
        assert_eq!(captured.tail(1000), "first line\nlast line é");
    }
}
