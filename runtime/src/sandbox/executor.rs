//! One call: a fresh store and instance, the budgets, and the verdict.
//!
//! Nothing survives a call: the store, the instance, its memory, its WASI
//! context, its handles and its captured output are all new each time, so
//! no state leaks between calls or clients. Every budget is set on the
//! store before the guest runs: fuel, the deadline (the ticker), linear
//! memory (the limiter), handles (the resource table's capacity),
//! descriptors (counted by the capabilities that open them) and host memory
//! (counted while the call is polled, checked each time a host function
//! returns to the guest).
//!
//! How a deadline stops a guest: while it waits in a host call, the call's
//! future is simply dropped when the ticker fires. While it runs wasm, it
//! yields every [`YIELD_FUEL`] units of fuel, and every return from a host
//! function (fuel yields included) checks the deadline: a guest that loops
//! on host calls that never wait is stopped at its next return. A yield is
//! served in place ([`InPlace`]) unless the call must end, which then goes
//! back to tokio and the same `select!` that ends a waiting call. Compiled
//! code carries only the fuel check it needs anyway; no epoch check at every
//! loop head and function entry (bench/RESULTS.md has what that saves).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use wasmtime::component::{ComponentExportIndex, Val};
use wasmtime::{CallHook, Store};

use super::engine::Program;
use super::error::CallError;
use super::yields::InPlace;
use crate::budget::{Budget, Exceeded, HostMemory, charged};
use crate::capabilities::asking::Waiting;
use crate::capabilities::client::ClientLink;
use crate::capabilities::{CallBudgets, CallSetup, CallState, Captured};

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
    /// Capabilities the guest tried to use without a grant, each once,
    /// saying which config key would grant it.
    pub denials: Vec<String>,
    /// The host memory the call holds (its result included); work done for
    /// the call after it returned (encoding the result) is charged here too.
    pub host_memory: Arc<HostMemory>,
}

/// Fuel a running guest burns between two yields, each of which checks the
/// call's deadline and cancellation.
///
/// Bulk memory instructions pay fuel by the byte (wasmtime's default cost
/// table, proved by the `faults` tests), and every host call returns through
/// the deadline check, so the time between checks is this much fuel of
/// plain instructions. The slowest kind measured, a chain of loads that each
/// miss the cache and the TLB (`guest-tools/test-components/wat/chase.wat`),
/// ran at about 3.5 ns per unit here: 0.7 ms between checks, well inside the
/// ticker's own 5 ms. Served in place (see `yields.rs`), a yield is a
/// fiber switch and a few atomics, not a trip through tokio's scheduler.
pub(crate) const YIELD_FUEL: u64 = 200_000;

/// The error that stops a guest whose deadline has passed.
#[derive(Debug)]
struct DeadlinePassed;

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call's deadline has passed")
    }
}

impl std::error::Error for DeadlinePassed {}

enum Failure {
    Instantiate(wasmtime::Error),
    Call(wasmtime::Error),
    Missing,
    Cancelled,
}

/// Stops the guest when its call holds more host memory than its budget.
fn check_host_memory(account: &HostMemory) -> wasmtime::Result<()> {
    if account.exceeded() {
        return Err(Exceeded {
            budget: Budget::HostMemory,
            limit: account.limit(),
        }
        .into());
    }
    Ok(())
}

/// One of the sandbox's call slots, held from before a call's arguments
/// are decoded until its instance is gone.
#[derive(Debug)]
pub struct CallSlot {
    _permit: OwnedSemaphorePermit,
}

impl Program {
    /// Waits for a free call slot: fails as busy after the queue timeout,
    /// or as cancelled when `cancel` fires first. Taking the slot before
    /// decoding a call's arguments means a waiting call holds only its
    /// request, never its decoded arguments.
    pub async fn reserve(&self, cancel: &CancellationToken) -> Result<CallSlot, CallError> {
        if cancel.is_cancelled() {
            return Err(CallError::Cancelled);
        }
        // A free slot is taken at once, with no timer and no waiter to
        // register (tokio's semaphore hands released permits to the
        // waiters first, so this never jumps the queue).
        if let Ok(permit) = self.sandbox.permits.clone().try_acquire_owned() {
            return Ok(CallSlot { _permit: permit });
        }
        let queue = tokio::time::timeout(
            self.sandbox.queue_timeout,
            self.sandbox.permits.clone().acquire_owned(),
        );
        tokio::select! {
            permit = queue => match permit {
                Ok(Ok(permit)) => Ok(CallSlot { _permit: permit }),
                Ok(Err(_)) | Err(_) => Err(CallError::Busy {
                    slots: self.sandbox.slots,
                    waited: self.sandbox.queue_timeout,
                }),
            },
            () = cancel.cancelled() => Err(CallError::Cancelled),
        }
    }

    /// Calls the exported function `export` with `args` in a fresh
    /// instance, in the call slot `slot` (see [`Program::reserve`]); what
    /// the guest sends its caller goes through `client` (dropped when the
    /// call ends, which ends the caller's side of the link).
    ///
    /// The call stops when it returns, when it exhausts a budget (fuel,
    /// memory, host resources, deadline) or when `cancel` fires.
    pub async fn call(
        &self,
        slot: CallSlot,
        export: &ComponentExportIndex,
        args: &[Val],
        has_result: bool,
        client: Option<ClientLink>,
        cancel: &CancellationToken,
    ) -> CallReport {
        let _slot = slot;
        let started = Instant::now();
        let limits = self.limits;
        let running = self.sandbox.ticker.running(started + limits.timeout);
        let mut client = client;
        if let Some(link) = client.as_mut() {
            link.asker().bind(Waiting {
                deadline: running.deadline().clone(),
                timeout: limits.input_timeout,
                permits: self.sandbox.waiting_for_input.clone(),
            });
        }
        let mut setup = CallSetup::new(self.name.clone(), client);
        for grant in &self.linked {
            if let Err(message) = grant.prepare(&mut setup) {
                return CallReport::failed(CallError::Instantiate(message));
            }
        }
        let state = setup.finish(CallBudgets {
            memory: limits.memory,
            host_memory: limits.host_memory,
            handles: limits.handles,
            descriptors: limits.descriptors,
        });
        let account: Arc<HostMemory> = state.host_memory().clone();
        let mut store = Store::new(&self.sandbox.engine, state);
        store.limiter(|state| state.memory());
        if let Err(e) = store.set_fuel(limits.fuel) {
            return CallReport::failed(CallError::Host(format!("cannot set fuel: {e:#}")));
        }
        // What one transfer from the guest (a host call's arguments, the
        // result) may make the host allocate, in wasmtime's units: it
        // charges one `Val` per value, and a lifted record or variant
        // allocates about four times that (its field names, its vector), so
        // a quarter of the budget keeps a transfer within it.
        store.set_hostcall_fuel(usize::try_from(limits.host_memory / 4).unwrap_or(usize::MAX));
        if let Err(e) = store.fuel_async_yield_interval(Some(YIELD_FUEL)) {
            return CallReport::failed(CallError::Host(format!("cannot set fuel yields: {e:#}")));
        }
        // Right after every host function (and every fuel yield) returns to
        // the guest: its host memory, and its deadline.
        let expired = running.token();
        store.call_hook(move |ctx, hook| {
            if let CallHook::ReturningFromHost = hook {
                check_host_memory(ctx.data().host_memory())?;
                if expired.is_cancelled() {
                    return Err(DeadlinePassed.into());
                }
            }
            Ok(())
        });

        let outcome = {
            // Boxed: the instance's futures (wasmtime's instantiation and
            // call) are large, and every future that holds this call, up to
            // the one rmcp boxes per request, would otherwise carry them
            // and be copied whole.
            let run = InPlace::new(
                Box::pin(charged(
                    &account,
                    self.run(&mut store, export, args, has_result),
                )),
                {
                    let expired = running.token();
                    let cancel = cancel.clone();
                    move || expired.is_cancelled() || cancel.is_cancelled()
                },
            );
            // The call first: one that ends in its first poll (most do)
            // never registers as a waiter on the deadline or the
            // cancellation.
            tokio::select! {
                biased;
                result = run => result.map_err(|failure| match failure {
                    Failure::Instantiate(e) | Failure::Call(e)
                        if e.downcast_ref::<DeadlinePassed>().is_some() => None,
                    failure => Some(failure),
                }),
                () = running.expired() => Err(None),
                () = cancel.cancelled() => Err(Some(Failure::Cancelled)),
            }
        };
        let state = store.data();
        let (stdout, stderr) = state.output();
        let outcome = match outcome {
            // The lifted result counts too: a call that returned over its
            // budget is refused like one stopped on the way.
            Ok(_) if account.exceeded() => Err(CallError::budget(
                &self.name,
                Exceeded {
                    budget: Budget::HostMemory,
                    limit: account.limit(),
                },
            )),
            Ok(value) => Ok(value),
            Err(None) => Err(CallError::Deadline {
                component: self.name.to_string(),
                timeout: limits.timeout,
            }),
            Err(Some(Failure::Cancelled)) => Err(CallError::Cancelled),
            Err(Some(Failure::Missing)) => Err(CallError::Host(
                "the export disappeared from the instance".into(),
            )),
            Err(Some(Failure::Instantiate(e))) if !CallError::is_guest_failure(&e) => {
                Err(CallError::Instantiate(format!("{e:#}")))
            }
            Err(Some(Failure::Instantiate(e) | Failure::Call(e))) => Err(CallError::from_trap(
                &e,
                &self.name,
                &limits,
                state.memory_limiter().refused(),
                &stderr,
            )),
        };
        let denials = state.denials().clone();
        log_denials(&self.name, &denials);
        CallReport {
            outcome,
            stdout,
            stderr,
            fuel_used: limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
            peak_memory: store.data().memory_limiter().peak() as u64,
            duration: started.elapsed(),
            denials: denials.list(),
            host_memory: account,
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

/// One log line per distinct refusal of the call, with its count: a guest
/// refused a million times writes a handful of lines.
fn log_denials(component: &str, denials: &crate::capabilities::Denials) {
    let (distinct, others) = denials.summary();
    for (message, count) in distinct {
        tracing::warn!(component, count, denial = ?message, "capability denied");
    }
    if others > 0 {
        tracing::warn!(
            component,
            count = others,
            "capability denied: more refusals, of other kinds"
        );
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
            host_memory: Arc::new(HostMemory::new(u64::MAX)),
        }
    }
}
