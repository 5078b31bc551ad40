//! The WASI context of one call, built from the component's grants.
//!
//! Deny by default: no directory, environment variable, argument or network
//! unless granted; stdin is empty. Clocks and random numbers are allowed.
//! Guest stdout and stderr go to bounded captures, never to the process's
//! own streams. Every refusal the host sees is recorded as a [`Denials`]
//! entry naming the config key that would grant it, and logged.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::stdio::Capture;
use crate::grants::{DirMode, Grants};

/// The denials of one call, in the words the tool result will use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Denials(Arc<Mutex<Vec<String>>>);

impl Denials {
    /// Records and logs a refusal.
    pub(crate) fn deny(&self, component: &str, message: String) {
        tracing::warn!(component, "capability denied: {message}");
        let mut list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() < 16 && !list.contains(&message) {
            list.push(message);
        }
    }

    /// Everything refused so far.
    pub(crate) fn list(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The network refusal message, shared by sockets and HTTP.
pub(crate) fn network_denied(component: &str, target: &str) -> String {
    format!(
        "network access to {target} denied: not granted to component {component:?} \
         (add it to components.{component}.network.allow)"
    )
}

/// Builds the context of one call of `component`.
pub(crate) fn context(
    component: &str,
    grants: &Arc<Grants>,
    stdout: &Capture,
    stderr: &Capture,
    denials: &Denials,
) -> Result<WasiCtx, String> {
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(stdout.clone()).stderr(stderr.clone());
    for dir in &grants.dirs {
        let perms = match dir.mode {
            DirMode::ReadOnly => FsPerms::ReadOnly,
            DirMode::ReadWrite => FsPerms::ReadWrite,
        };
        builder
            .preopened_dir(&dir.host, &dir.guest, perms)
            .map_err(|e| format!("cannot open granted directory {}: {e}", dir.host.display()))?;
    }
    for (name, value) in grants.env.pairs() {
        builder.env(name, value);
    }
    let network = grants.uses_network();
    builder
        .allow_tcp(network)
        .allow_udp(network)
        .allow_ip_name_lookup(grants.net.grants_names());
    let (grants, denials, component) = (grants.clone(), denials.clone(), component.to_owned());
    builder.socket_addr_check(move |addr: SocketAddr, usage: SocketAddrUse| {
        let allowed = match usage {
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
                grants.net.allows_addr(addr)
            }
            // Binding happens implicitly before a connect or a send: allow
            // only the wildcard address with an ephemeral port.
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                addr.ip().is_unspecified() && addr.port() == 0
            }
            SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
        };
        if !allowed {
            let message = match usage {
                SocketAddrUse::TcpBind
                | SocketAddrUse::UdpBind
                | SocketAddrUse::TcpListen
                | SocketAddrUse::TcpAccept => format!(
                    "binding a socket to {addr} denied: component {component:?} may only make \
                     outgoing connections (listening is never granted)"
                ),
                _ => network_denied(&component, &addr.to_string()),
            };
            denials.deny(&component, message);
        }
        Box::pin(std::future::ready(allowed))
    });
    Ok(builder.build())
}
