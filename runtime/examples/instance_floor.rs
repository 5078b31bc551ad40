//! What a fresh instance per call costs, in CPU time, with no MCP around it.
//!
//! Issue 15 asks for `add` within 1.10× native server CPU per call. The
//! native floor answers a whole MCP call (reading the line, rmcp, the tool,
//! the answer) in about 120 µs of CPU on the benchmark machine; Corral must
//! also give every call a fresh WebAssembly instance. This measures that
//! part alone, in one thread, for one component export:
//!
//! - `wasmtime`: the least a fresh instance can cost with wasmtime: the
//!   pooling allocator set up as Corral sets it up, no fuel, synchronous
//!   calls, a default WASI context; instantiate from an `InstancePre`, call,
//!   drop the store;
//! - `fuel`: the same with what Corral's budgets need from wasmtime: fuel
//!   consumed and yielding every 200 000 units (Corral's interval), so
//!   async instantiation and calls on a fiber, driven by a current-thread
//!   tokio runtime;
//! - `corral`: Corral's own call path (`Program::reserve` and
//!   `Program::call`: the grants' per-call state, fuel with yields, the
//!   deadline, memory and host-memory budgets, the captured output), on a
//!   current-thread tokio runtime, with Corral's counting allocator.
//!
//! Run it from the repository's root, after building the guest tools:
//!
//! ```text
//! cargo run --release -p corral --example instance_floor -- \
//!     [guest-tools/target/wasm32-wasip2/release/calc.wasm] [add] [calls] [wasmtime|fuel|corral]
//! ```
//!
//! Naming one path runs only that one, once (for `perf` or callgrind).
//!
//! The export must take two `s32` (as `calc`'s `add` does). Each path runs
//! the calls after a warm-up, and the thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) is divided by the calls; three rounds each,
//! alternating, and every round is printed.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use corral::budget::CountingAllocator;
use corral::capabilities::Grants;
use corral::config::{Limits, PoolShare};
use corral::sandbox::{Sandbox, SandboxSettings};
use tokio_util::sync::CancellationToken;
use wasmtime::component::{
    Component, ComponentExportIndex, InstancePre, Linker, ResourceTable, Val,
};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

const WARM_UP: u32 = 500;
const ROUNDS: u32 = 3;

/// The CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through the pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is unavailable");
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// µs of this thread's CPU per run of `once`, over `calls` runs.
fn per_call(calls: u32, mut once: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..WARM_UP {
        once()?;
    }
    let before = thread_cpu();
    for _ in 0..calls {
        once()?;
    }
    Ok((thread_cpu() - before).as_secs_f64() * 1e6 / f64::from(calls))
}

/// A store's state for the bare-wasmtime path.
struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl Bare {
    fn new() -> Bare {
        Bare {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A component ready to instantiate on a wasmtime engine of its own.
struct Ready {
    engine: Engine,
    pre: InstancePre<Bare>,
    index: ComponentExportIndex,
}

/// Compiles and links `bytes` with the WASI linker, synchronous or, with
/// fuel consumed, asynchronous.
fn ready(bytes: &[u8], export: &str, fueled: bool) -> Result<Ready> {
    let mut config = Config::new();
    config
        .consume_fuel(fueled)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool()?));
    let engine = Engine::new(&config)?;
    let component = Component::new(&engine, bytes)?;
    let mut linker = Linker::<Bare>::new(&engine);
    if fueled {
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    } else {
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    }
    let pre = linker.instantiate_pre(&component)?;
    let index = component
        .get_export_index(None, export)
        .with_context(|| format!("the component exports no {export:?}"))?;
    Ok(Ready { engine, pre, index })
}

/// The bare-wasmtime path: a closure that makes one call.
fn bare(bytes: &[u8], export: &str) -> Result<impl FnMut() -> Result<()>> {
    let Ready { engine, pre, index } = ready(bytes, export, false)?;
    Ok(move || {
        let mut store = Store::new(&engine, Bare::new());
        let instance = pre.instantiate(&mut store)?;
        let func = instance
            .get_func(&mut store, index)
            .context("the export is not a function")?;
        let mut results = [Val::Bool(false)];
        func.call(&mut store, &[Val::S32(20), Val::S32(22)], &mut results)?;
        Ok(())
    })
}

/// The pool as Corral sets it up for one call slot (`sandbox/engine.rs`).
fn pool() -> Result<PoolingAllocationConfig> {
    let share = PoolShare::default();
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(1)
        .total_stacks(1)
        .max_core_instances_per_component(share.core_instances)
        .max_memories_per_component(share.memories)
        .max_tables_per_component(share.tables)
        .total_core_instances(share.core_instances)
        .total_memories(share.memories)
        .total_tables(share.tables)
        .max_memory_size(usize::try_from(Limits::default().memory)?)
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);
    Ok(pool)
}

/// The bare path with fuel and async calls: a closure that makes one call.
fn fuel(bytes: &[u8], export: &str) -> Result<impl FnMut() -> Result<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let Ready { engine, pre, index } = ready(bytes, export, true)?;
    Ok(move || {
        runtime.block_on(async {
            let mut store = Store::new(&engine, Bare::new());
            store.set_fuel(Limits::default().fuel)?;
            store.fuel_async_yield_interval(Some(200_000))?;
            let instance = pre.instantiate_async(&mut store).await?;
            let func = instance
                .get_func(&mut store, index)
                .context("the export is not a function")?;
            let mut results = [Val::Bool(false)];
            func.call_async(&mut store, &[Val::S32(20), Val::S32(22)], &mut results)
                .await?;
            Ok(())
        })
    })
}

/// Corral's call path: a closure that makes one call.
fn corral(bytes: &[u8], export: &str) -> Result<impl FnMut() -> Result<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sandbox = {
        let _entered = runtime.enter();
        Sandbox::new(SandboxSettings {
            max_concurrent_calls: 1,
            max_memory: Limits::default().memory,
            cache_dir: None,
            cache_max_size: 0,
            queue_timeout: Duration::from_secs(10),
            share: PoolShare::default(),
        })?
    };
    let program = sandbox.compile("floor", bytes, Limits::default(), &Grants::none())?;
    let index = program
        .component()
        .get_export_index(None, export)
        .with_context(|| format!("the component exports no {export:?}"))?;
    let cancel = CancellationToken::new();
    let args = [Val::S32(20), Val::S32(22)];
    Ok(move || {
        runtime.block_on(async {
            let slot = program.reserve(&cancel).await?;
            let report = program.call(slot, &index, &args, true, None, &cancel).await;
            match report.outcome {
                Ok(Some(_)) => Ok(()),
                Ok(None) => bail!("the call returned nothing"),
                Err(e) => bail!("the call failed: {e}"),
            }
        })
    })
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "guest-tools/target/wasm32-wasip2/release/calc.wasm".into());
    let export = args.next().unwrap_or_else(|| "add".into());
    let calls: u32 = match args.next() {
        Some(n) => n.parse().context("calls: a whole number")?,
        None => 20_000,
    };
    let bytes = std::fs::read(&path).with_context(|| {
        format!("cannot read {path}: build the guest tools first (see the README)")
    })?;
    if let Some(path) = args.next() {
        // One path alone, for a profiler (`valgrind --tool=callgrind`
        // reserves too little address space for three pools).
        let mut once: Box<dyn FnMut() -> Result<()>> = match path.as_str() {
            "wasmtime" => Box::new(bare(&bytes, &export)?),
            "fuel" => Box::new(fuel(&bytes, &export)?),
            "corral" => Box::new(corral(&bytes, &export)?),
            other => bail!("no path {other:?}: wasmtime, fuel or corral"),
        };
        let cpu = per_call(calls, &mut once)?;
        println!("{path}: {cpu:.1} µs of thread CPU per call of {export}");
        return Ok(());
    }
    let mut wasmtime = bare(&bytes, &export)?;
    let mut fueled = fuel(&bytes, &export)?;
    let mut corral = corral(&bytes, &export)?;
    println!(
        "{export} in {path}, {calls} calls a round after {WARM_UP}; µs of thread CPU per call"
    );
    println!("| round | wasmtime, sync, no fuel | wasmtime, async, fuel | Corral's call path |");
    println!("|---:|---:|---:|---:|");
    for round in 1..=ROUNDS {
        let bare = per_call(calls, &mut wasmtime)?;
        let fueled = per_call(calls, &mut fueled)?;
        let ours = per_call(calls, &mut corral)?;
        println!("| {round} | {bare:.1} | {fueled:.1} | {ours:.1} |");
    }
    Ok(())
}
