//! The engine every component shares, and compiled components ([`Program`]).
//!
//! Compiling and linking happen once, at load; a call only instantiates a
//! ready `InstancePre` out of the pooling allocator. The [`Ticker`] fires
//! each call's deadline, and a running guest yields to tokio every so much
//! fuel (see the executor): that is what lets a deadline or a cancellation
//! stop a guest that spins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, InstancePre};
use wasmtime::{Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::cache::{ArtifactCache, Origin};
use super::pool;
use super::ticker::Ticker;
use crate::capabilities::{self, CallState, Grant, Grants};
use crate::config::{Limits, PoolShare};

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
    /// The most bytes the cache may hold.
    pub cache_max_size: u64,
    /// How long a call waits for a free slot before it is refused as busy.
    pub queue_timeout: Duration,
    /// What one call may take of the instance pool.
    pub share: PoolShare,
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
    /// One instance of the component needs more of the instance pool than
    /// a call may take, so it could starve other components' calls.
    #[error(
        "component {component:?} cannot run within one call's share of the instance pool: \
         an instance needs {needs} {what}, and a call may use {share} (raise {key}; every call \
         slot reserves that many)"
    )]
    Share {
        /// The component's name in the config.
        component: String,
        /// What it needs too many of.
        what: &'static str,
        /// How many one instance needs.
        needs: u64,
        /// How many a call may use.
        share: u64,
        /// The config key that raises the share.
        key: &'static str,
    },
    /// wasmtime found the component too large for the instance pool.
    #[error(
        "component {component:?} does not fit in one call's share of the instance pool: \
         {message} (raise the matching key of [server.pool])"
    )]
    Pool {
        /// The component's name in the config.
        component: String,
        /// wasmtime's explanation.
        message: String,
    },
    /// The component's memory at start is larger than its limit.
    #[error(
        "component {component:?} needs {initial} bytes of linear memory at start, more than its \
         limit of {limit} (raise components.{component}.limits.memory)"
    )]
    InitialMemory {
        /// The component's name in the config.
        component: String,
        /// Bytes its largest memory starts with.
        initial: u64,
        /// Its memory limit.
        limit: u64,
    },
}

/// The shared engine and call slots.
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
    share: PoolShare,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) slots: u32,
    pub(crate) queue_timeout: Duration,
    pub(crate) ticker: Ticker,
    /// Calls that may wait for their clients' answers at once: half the
    /// slots, so that clients that never answer cannot hold them all.
    pub(crate) waiting_for_input: Arc<Semaphore>,
}

impl Sandbox {
    /// Creates the engine (fuel, pooling allocator) and starts the deadline
    /// ticker.
    ///
    /// The pool holds, for each call slot, one call's share of instances,
    /// memories and tables, and no instance may take more than that share:
    /// however many calls run, and whatever they instantiate, every slot
    /// can always be served.
    pub fn new(settings: SandboxSettings) -> Result<Sandbox, SandboxError> {
        let slots = settings.max_concurrent_calls.max(1);
        let settings = &settings;
        let share = settings.share;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_stacks(slots)
            .max_core_instances_per_component(share.core_instances)
            .max_memories_per_component(share.memories)
            .max_tables_per_component(share.tables)
            .max_memories_per_module(share.memories)
            .max_tables_per_module(share.tables)
            .total_core_instances(slots.saturating_mul(share.core_instances))
            .total_memories(slots.saturating_mul(share.memories))
            .total_tables(slots.saturating_mul(share.tables))
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
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // For tool authors: `perf` names the guest's own functions when
        // CORRAL_PERF_MAP is set (wasmtime writes /tmp/perf-PID.map).
        if std::env::var_os("CORRAL_PERF_MAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(|e| SandboxError::Engine(format!("{e:#}")))?;

        let cache = settings.cache_dir.as_deref().and_then(|dir| {
            match ArtifactCache::open(dir, settings.cache_max_size) {
                Ok(cache) => Some(cache),
                Err(e) => {
                    tracing::warn!(
                        "compiling without a cache: the cache directory cannot be used: {e}"
                    );
                    None
                }
            }
        });
        let ticker = Ticker::start()?;
        Ok(Sandbox {
            inner: Arc::new(Inner {
                engine,
                compiled: Compiled::default(),
                cache,
                share,
                permits: Arc::new(Semaphore::new(slots as usize)),
                slots,
                queue_timeout: settings.queue_timeout,
                ticker,
                waiting_for_input: Arc::new(Semaphore::new((slots as usize / 2).max(1))),
            }),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Compiles and links a component; the result is ready for calls.
    ///
    /// Its linker holds exactly what it imports: the interfaces it is
    /// granted, linked for real, and the others as refusals.
    pub fn compile(
        &self,
        name: &str,
        bytes: &[u8],
        limits: Limits,
        grants: &Grants,
    ) -> Result<Program, SandboxError> {
        self.check_share(name, bytes)?;
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
            .map_err(|message| {
                if message.contains("pooling allocator") {
                    SandboxError::Pool {
                        component: name.to_owned(),
                        message,
                    }
                } else {
                    SandboxError::Compile {
                        component: name.to_owned(),
                        message,
                    }
                }
            })?;
        self.check_initial_memory(name, &component, limits)?;
        let link_error = |message: String| SandboxError::Link {
            component: name.to_owned(),
            message,
        };
        let linked = capabilities::link(&self.inner.engine, &component, grants)
            .map_err(|e| link_error(e.to_string()))?;
        let pre = linked
            .linker
            .instantiate_pre(&component)
            .map_err(|e| link_error(format!("{e:#}")))?;
        Ok(Program {
            name: Arc::from(name),
            component,
            pre,
            limits,
            grants: grants.clone(),
            talks_to_client: linked.talks_to_client(),
            may_go_on_as_task: linked.may_go_on_as_task,
            linked: linked.grants,
            sandbox: self.inner.clone(),
        })
    }

    /// Checks, before compiling, that one instance of the component fits
    /// in a call's share of the pool, so that it fails here, at start, with
    /// the key to raise, and not at its first call.
    fn check_share(&self, name: &str, bytes: &[u8]) -> Result<(), SandboxError> {
        let share = self.inner.share;
        let needs = pool::needs(bytes);
        let checks = [
            (
                "memories",
                needs.memories,
                share.memories,
                "server.pool.memories",
            ),
            ("tables", needs.tables, share.tables, "server.pool.tables"),
            (
                "core instances",
                needs.instances,
                share.core_instances,
                "server.pool.core_instances",
            ),
        ];
        for (what, needs, share, key) in checks {
            if needs > u64::from(share) {
                return Err(SandboxError::Share {
                    component: name.to_owned(),
                    what,
                    needs,
                    share: u64::from(share),
                    key,
                });
            }
        }
        Ok(())
    }

    /// Checks that the compiled component's memories start within its
    /// memory limit.
    fn check_initial_memory(
        &self,
        name: &str,
        component: &Component,
        limits: Limits,
    ) -> Result<(), SandboxError> {
        let initial = component
            .resources_required()
            .and_then(|needs| needs.max_initial_memory_size)
            .unwrap_or(0);
        if initial > limits.memory {
            return Err(SandboxError::InitialMemory {
                component: name.to_owned(),
                initial,
                limit: limits.memory,
            });
        }
        Ok(())
    }
}

/// One compiled and linked component, ready to be called.
pub struct Program {
    pub(crate) name: Arc<str>,
    pub(crate) component: Component,
    pub(crate) pre: InstancePre<CallState>,
    pub(crate) limits: Limits,
    pub(crate) grants: Grants,
    /// The grants linked for real: each prepares its part of every call.
    pub(crate) linked: Vec<Arc<dyn Grant>>,
    /// Whether a linked grant talks to the call's client.
    pub(crate) talks_to_client: bool,
    /// Whether the component imports `corral:mcp/task`.
    pub(crate) may_go_on_as_task: bool,
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

    /// Whether the component imports an interface that talks to its
    /// caller (log messages, progress): its calls then take a
    /// [`ClientLink`](crate::capabilities::client::ClientLink).
    pub fn talks_to_client(&self) -> bool {
        self.talks_to_client
    }

    /// Whether its tool calls may go on as tasks (it imports
    /// `corral:mcp/task`).
    pub fn may_go_on_as_task(&self) -> bool {
        self.may_go_on_as_task
    }

    /// `text` with every host name the grants know (a granted directory's
    /// host path) replaced by the guest's name for it: an answer never
    /// tells a client where things are on the host.
    pub fn redact(&self, text: &str) -> String {
        self.grants.redact(text)
    }
}
