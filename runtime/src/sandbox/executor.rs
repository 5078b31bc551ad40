//! One call: a fresh store and instance, the budgets, and the verdict.
//!
//! Nothing survives a call: the store, the instance, its memory, its WASI
//! context and its captured output are all new each time, so no state leaks
//! between calls or clients.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use wasmtime::component::{ComponentExportIndex, ResourceTable, Val};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::engine::Program;
use super::error::CallError;
use super::http::HttpPolicy;
use super::limiter::CallLimiter;
use super::stdio::{Capture, Captured};
use super::wasi::{self, Denials};

/// The data of one call's store.
pub(crate) struct CallState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_policy: HttpPolicy,
    table: ResourceTable,
    limiter: CallLimiter,
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

/// What happened during one call.
#[derive(Debug)]
pub struct CallReport {
    /// The returned value (`None` for a function without result), or why
    /// there is none.
    pub outcome: Result<Option<Val>, CallError>,
    /// What the guest wrote to stdout.
    pub stdout: Captured,
    /// What the guest wrote to stderr.
    pub stderr: Captured,
    /// Fuel the call consumed.
    pub fuel_used: u64,
    /// The most linear memory the instance held, in bytes.
    pub peak_memory: u64,
    /// Wall-clock time from the start of instantiation to the end.
    pub duration: Duration,
    /// Capabilities the guest tried to use without a grant, each saying
    /// which config key would grant it.
    pub denials: Vec<String>,
}

enum Failure {
    Instantiate(wasmtime::Error),
    Call(wasmtime::Error),
    Missing,
}

impl Program {
    /// Calls the exported function `export` with `args` in a fresh instance.
    ///
    /// Waits for a free call slot first. The call stops when it returns, when
    /// it exhausts a budget (fuel, memory, deadline) or when `cancel` fires.
    pub async fn call(
        &self,
        export: &ComponentExportIndex,
        args: &[Val],
        has_result: bool,
        cancel: &CancellationToken,
    ) -> CallReport {
        let queue =
            tokio::time::timeout(self.sandbox.queue_timeout, self.sandbox.permits.acquire());
        let _permit = tokio::select! {
            permit = queue => match permit {
                Ok(permit) => permit.ok(),
                Err(_) => return CallReport::failed(CallError::Busy {
                    slots: self.sandbox.slots,
                    waited: self.sandbox.queue_timeout,
                }),
            },
            () = cancel.cancelled() => return CallReport::failed(CallError::Cancelled),
        };
        let started = Instant::now();
        let limits = self.limits;
        let running = self.sandbox.ticker.running(started + limits.timeout);
        let (stdout, stderr) = (Capture::default(), Capture::default());
        let denials = Denials::default();
        let wasi = match wasi::context(&self.name, &self.grants, &stdout, &stderr, &denials) {
            Ok(wasi) => wasi,
            Err(message) => return CallReport::failed(CallError::Instantiate(message)),
        };
        let state = CallState {
            wasi,
            http: WasiHttpCtx::new(),
            http_policy: HttpPolicy {
                component: self.name.clone(),
                grants: self.grants.clone(),
                denials: denials.clone(),
            },
            table: ResourceTable::new(),
            limiter: CallLimiter::new(limits.memory),
        };
        let mut store = Store::new(&self.sandbox.engine, state);
        store.limiter(|state| &mut state.limiter);
        if let Err(e) = store.set_fuel(limits.fuel) {
            return CallReport::failed(CallError::Host(format!("cannot set fuel: {e:#}")));
        }
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));

        let outcome = {
            let run = self.run(&mut store, export, args, has_result);
            tokio::select! {
                result = run => result.map_err(Some),
                () = running.expired() => Err(None),
                () = cancel.cancelled() => return CallReport::failed(CallError::Cancelled),
            }
        };
        let (stdout, stderr) = (stdout.captured(), stderr.captured());
        let outcome = outcome.map_err(|failure| match failure {
            None => CallError::Deadline {
                component: self.name.clone(),
                timeout: limits.timeout,
            },
            Some(Failure::Missing) => {
                CallError::Host("the export disappeared from the instance".into())
            }
            Some(Failure::Instantiate(e)) if e.downcast_ref::<wasmtime::Trap>().is_none() => {
                CallError::Instantiate(format!("{e:#}"))
            }
            Some(Failure::Instantiate(e) | Failure::Call(e)) => CallError::from_trap(
                &e,
                &self.name,
                limits.fuel,
                limits.memory,
                store.data().limiter.refused(),
                &stderr,
            ),
        });
        CallReport {
            outcome,
            stdout,
            stderr,
            fuel_used: limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
            peak_memory: store.data().limiter.peak() as u64,
            duration: started.elapsed(),
            denials: denials.list(),
        }
    }

    async fn run(
        &self,
        store: &mut Store<CallState>,
        export: &ComponentExportIndex,
        args: &[Val],
        has_result: bool,
    ) -> Result<Option<Val>, Failure> {
        let instance = self
            .pre
            .instantiate_async(&mut *store)
            .await
            .map_err(Failure::Instantiate)?;
        let func = instance
            .get_func(&mut *store, export)
            .ok_or(Failure::Missing)?;
        let mut results = vec![Val::Bool(false); usize::from(has_result)];
        func.call_async(&mut *store, args, &mut results)
            .await
            .map_err(Failure::Call)?;
        Ok(results.pop())
    }
}

impl CallReport {
    fn failed(error: CallError) -> CallReport {
        CallReport {
            outcome: Err(error),
            stdout: Captured::default(),
            stderr: Captured::default(),
            fuel_used: 0,
            peak_memory: 0,
            duration: Duration::ZERO,
            denials: Vec::new(),
        }
    }
}
