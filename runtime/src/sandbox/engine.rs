//! The engine every component shares, and compiled components ([`Program`]).
//!
//! Compiling and linking happen once, at load; a call only instantiates a
//! ready `InstancePre` out of the pooling allocator. The [`Ticker`]
//! advances the engine's epoch while calls run, so a running guest
//! regularly yields to tokio, and fires each call's deadline: that is what
//! lets a deadline or a cancellation stop a guest that spins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::cache::{ArtifactCache, Origin};
use super::executor::CallState;
use super::ticker::Ticker;
use crate::config::Limits;
use crate::grants::Grants;

/// Linear memory kept resident in a pool slot between calls.
const KEEP_RESIDENT: usize = 2 * 1024 * 1024;

/// What the sandbox needs to size itself.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// Calls that may run at once; later calls wait for a free slot.
    pub max_concurrent_calls: u32,
    /// The largest memory limit of any component.
    pub max_memory: u64,
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_dir: Option<std::path::PathBuf>,
    /// How long a call waits for a free slot before it is refused as busy.
    pub queue_timeout: Duration,
}

/// Failures to set up the sandbox or a component in it.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The wasmtime engine could not be built.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The file is not a valid WebAssembly component.
    #[error(
        "component {component:?} is not a valid WebAssembly component: {message} \
         (build it with `cargo build --target wasm32-wasip2` or `cargo component build`)"
    )]
    Compile {
        /// The component's name in the config.
        component: String,
        /// wasmtime's explanation.
        message: String,
    },
    /// The component imports something Corral does not provide.
    #[error(
        "component {component:?} cannot be linked: {message} (Corral provides WASI preview 2 \
         interfaces; an import outside them cannot be satisfied)"
    )]
    Link {
        /// The component's name in the config.
        component: String,
        /// wasmtime's explanation, naming the missing import.
        message: String,
    },
}

/// The shared engine, linker and call slots.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

/// Compiled components by the SHA-256 of their bytes, shared by the config
/// entries that name the same file.
type Compiled = Mutex<HashMap<[u8; 32], Arc<OnceLock<Result<Component, String>>>>>;

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    compiled: Compiled,
    cache: Option<ArtifactCache>,
    linker: Linker<CallState>,
    pub(crate) permits: Semaphore,
    pub(crate) slots: u32,
    pub(crate) queue_timeout: Duration,
    pub(crate) ticker: Ticker,
}

impl Sandbox {
    /// Creates the engine (fuel, epochs, pooling allocator) and the linker
    /// holding the WASI interfaces, and starts the epoch ticker.
    pub fn new(settings: SandboxSettings) -> Result<Sandbox, SandboxError> {
        let slots = settings.max_concurrent_calls.max(1);
        let settings = &settings;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_stacks(slots)
            .total_core_instances(slots.saturating_mul(32))
            .total_memories(slots.saturating_mul(4))
            .total_tables(slots.saturating_mul(16))
            .max_memory_size(usize::try_from(settings.max_memory).unwrap_or(usize::MAX))
            // Keep a Rust guest's initial memory (≈ 1.1 MiB) and tables
            // resident between calls: decommitting and faulting them in
            // again per call costs TLB shootdowns (measured: bench/RESULTS.md).
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(64 * 1024)
            // Reset only the pages a call dirtied (Linux 6.7+), instead of
            // zeroing all of the kept-resident bytes after every call.
            .pagemap_scan(Enabled::Auto);

        let mut config = wasmtime::Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| SandboxError::Engine(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker))
            .map_err(|e| SandboxError::Engine(format!("{e:#}")))?;

        let cache = settings.cache_dir.as_deref().and_then(|dir| match ArtifactCache::open(dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "compiling without a cache: cannot use the cache directory: {e}");
                None
            }
        });
        let ticker = Ticker::start(engine.clone())?;
        Ok(Sandbox {
            inner: Arc::new(Inner {
                engine,
                compiled: Compiled::default(),
                cache,
                linker,
                permits: Semaphore::new(slots as usize),
                slots,
                queue_timeout: settings.queue_timeout,
                ticker,
            }),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Compiles and links a component; the result is ready for calls.
    pub fn compile(
        &self,
        name: &str,
        bytes: &[u8],
        limits: Limits,
        grants: Arc<Grants>,
    ) -> Result<Program, SandboxError> {
        // One compilation per distinct file, even when several config
        // entries (or parallel loaders) name the same bytes.
        let slot = {
            let digest: [u8; 32] = Sha256::digest(bytes).into();
            let mut compiled = self
                .inner
                .compiled
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            compiled.entry(digest).or_default().clone()
        };
        let component = slot
            .get_or_init(|| {
                let engine = &self.inner.engine;
                let compile = || Component::new(engine, bytes);
                let compiled = match &self.inner.cache {
                    Some(cache) => cache.get_or_compile(engine, bytes, compile),
                    None => compile().map(|c| (c, Origin::Compiled)),
                };
                compiled
                    .map(|(component, origin)| {
                        tracing::debug!(component = name, ?origin, "component ready");
                        component
                    })
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(|message| SandboxError::Compile {
                component: name.to_owned(),
                message,
            })?;
        let pre =
            self.inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| SandboxError::Link {
                    component: name.to_owned(),
                    message: format!("{e:#}"),
                })?;
        Ok(Program {
            name: name.to_owned(),
            component,
            pre,
            limits,
            grants,
            sandbox: self.inner.clone(),
        })
    }
}

/// One compiled and linked component, ready to be called.
pub struct Program {
    pub(crate) name: String,
    pub(crate) component: Component,
    pub(crate) pre: InstancePre<CallState>,
    pub(crate) limits: Limits,
    pub(crate) grants: Arc<Grants>,
    pub(crate) sandbox: Arc<Inner>,
}

impl Program {
    /// The component's name in the config.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compiled component, for reading its types and exports.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The budget of each call.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// What each call may reach.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }
}
