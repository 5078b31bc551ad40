//! The state of one call's store: each capability's per-call part, and the
//! budgets every capability charges.
//!
//! A [`CallSetup`] collects what the linked capabilities prepare for a
//! call (WASI context settings, captures, policies); [`CallSetup::finish`]
//! turns it into the [`CallState`] the store owns. Nothing here outlives the
//! call.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::client::ClientLink;
use super::config_store::CallConfig;
use super::denials::Denials;
use super::files::Preopen;
use super::http::HttpPolicy;
use super::network::NetGrant;
use super::stdio::{Capture, Captured};
use crate::budget::{Descriptors, HostMemory, MemoryLimiter};

/// The budgets of one call, as numbers.
#[derive(Debug, Clone, Copy)]
pub struct CallBudgets {
    /// Bytes of linear memory.
    pub memory: u64,
    /// Bytes of host memory.
    pub host_memory: u64,
    /// WASI resources held at once.
    pub handles: u32,
    /// Files and sockets open at once.
    pub descriptors: u32,
}

/// What the capabilities prepare for one call.
pub struct CallSetup {
    /// The component's name, for messages.
    pub component: Arc<str>,
    /// The WASI context being built.
    pub wasi: WasiCtxBuilder,
    /// Refusals of this call.
    pub denials: Denials,
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    pub(crate) preopens: Arc<[Preopen]>,
    pub(crate) http: Option<HttpPolicy>,
    pub(crate) config: CallConfig,
    pub(crate) net: Option<Arc<NetGrant>>,
    pub(crate) client: Option<ClientLink>,
}

impl CallSetup {
    /// An empty setup for a call of `component` whose client is reached
    /// through `client` (none: messages for the client go nowhere).
    pub fn new(component: Arc<str>, client: Option<ClientLink>) -> CallSetup {
        CallSetup {
            component,
            wasi: WasiCtxBuilder::new(),
            denials: Denials::default(),
            stdout: Capture::default(),
            stderr: Capture::default(),
            preopens: Arc::new([]),
            http: None,
            config: CallConfig::default(),
            net: None,
            client,
        }
    }

    /// The store's state, with `budgets` applied.
    pub fn finish(mut self, budgets: CallBudgets) -> CallState {
        let mut table = ResourceTable::new();
        table.set_max_capacity(budgets.handles as usize);
        CallState {
            wasi: self.wasi.build(),
            table,
            preopens: self.preopens,
            http: WasiHttpCtx::new(),
            http_policy: self
                .http
                .unwrap_or_else(|| HttpPolicy::denied(&self.component)),
            config: self.config,
            stdout: self.stdout,
            stderr: self.stderr,
            denials: self.denials,
            net: self.net,
            client: self.client,
            component: self.component,
            descriptors: Descriptors::new(budgets.descriptors),
            host_memory: Arc::new(HostMemory::new(budgets.host_memory)),
            memory: MemoryLimiter::new(budgets.memory),
        }
    }
}

/// The data of one call's store.
pub struct CallState {
    pub(crate) table: ResourceTable,
    pub(crate) wasi: WasiCtx,
    pub(crate) preopens: Arc<[Preopen]>,
    pub(crate) http: WasiHttpCtx,
    pub(crate) http_policy: HttpPolicy,
    pub(crate) config: CallConfig,
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    pub(crate) denials: Denials,
    pub(crate) net: Option<Arc<NetGrant>>,
    pub(crate) client: Option<ClientLink>,
    pub(crate) component: Arc<str>,
    pub(crate) descriptors: Descriptors,
    pub(crate) host_memory: Arc<HostMemory>,
    pub(crate) memory: MemoryLimiter,
}

impl CallState {
    /// The guest's linear-memory limiter.
    pub fn memory(&mut self) -> &mut MemoryLimiter {
        &mut self.memory
    }

    /// The linear-memory limiter, read-only.
    pub fn memory_limiter(&self) -> &MemoryLimiter {
        &self.memory
    }

    /// The host memory this call holds.
    pub fn host_memory(&self) -> &Arc<HostMemory> {
        &self.host_memory
    }

    /// The name of the component called, for refusal messages.
    pub(crate) fn denials_component(&self) -> Arc<str> {
        self.component.clone()
    }

    /// The refusals of this call.
    pub fn denials(&self) -> &Denials {
        &self.denials
    }

    /// What the guest wrote to stdout and stderr.
    pub fn output(&self) -> (Captured, Captured) {
        (self.stdout.captured(), self.stderr.captured())
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_policy,
        }
    }
}
