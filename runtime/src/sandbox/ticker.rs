//! The epoch ticker: the clock that lets a deadline stop a running guest.
//!
//! Compiled guests check the engine's epoch at function entries and loop
//! heads; each store yields to tokio when the epoch passes its deadline, and
//! the deadline itself is a tokio timer. A thread advances the epoch every
//! [`EPOCH_TICK`] while calls run and for [`LINGER`] after the last one
//! (so back-to-back calls never pay for waking it), then parks: an idle
//! server does not wake 200 times a second.
//!
//! Epochs, not fuel, bound a call's time: fuel counts work, and how long a
//! unit of work takes depends on the instruction mix (cache misses, division),
//! while the epoch follows the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::Engine;

use super::engine::SandboxError;

/// How often a running guest yields to the async runtime.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// How long the ticker keeps going after the last call ends.
pub(crate) const LINGER: Duration = Duration::from_millis(100);

/// The ticker thread's handle; dropping it stops the thread.
pub(crate) struct Ticker {
    shared: Arc<Shared>,
    thread: Thread,
}

struct Shared {
    /// Calls in flight.
    running: AtomicUsize,
    /// Epoch increments so far.
    ticks: AtomicU64,
    stop: AtomicBool,
}

/// Keeps the ticker going while it lives; one per call in flight.
pub(crate) struct Running<'a>(&'a Ticker);

impl Ticker {
    /// Starts the (parked) ticker thread for `engine`.
    pub(crate) fn start(engine: Engine) -> Result<Ticker, SandboxError> {
        let shared = Arc::new(Shared {
            running: AtomicUsize::new(0),
            ticks: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let state = shared.clone();
        let handle = std::thread::Builder::new()
            .name("corral-epoch".into())
            .spawn(move || {
                let linger = LINGER.as_millis() / EPOCH_TICK.as_millis();
                let mut idle = 0;
                while !state.stop.load(Ordering::Acquire) {
                    if state.running.load(Ordering::Acquire) > 0 {
                        idle = 0;
                    } else if idle < linger {
                        idle += 1;
                    } else {
                        // A call that starts after the check above unparks
                        // the thread; an unpark that comes first makes
                        // `park` return at once, so no start is missed.
                        std::thread::park();
                        idle = 0;
                        continue;
                    }
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                    state.ticks.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|e| SandboxError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(Ticker {
            shared,
            thread: handle.thread().clone(),
        })
    }

    /// Marks a call as running until the returned guard is dropped.
    pub(crate) fn running(&self) -> Running<'_> {
        if self.shared.running.fetch_add(1, Ordering::AcqRel) == 0 {
            self.thread.unpark();
        }
        Running(self)
    }

    /// How many times the epoch has advanced.
    #[cfg(test)]
    fn ticks(&self) -> u64 {
        self.shared.ticks.load(Ordering::Relaxed)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.shared.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn ticker() -> Ticker {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).expect("an engine with epochs");
        Ticker::start(engine).expect("the ticker thread starts")
    }

    /// Waits (up to a generous bound) until the ticker has advanced.
    fn wait_for_tick(ticker: &Ticker, after: u64) {
        let started = Instant::now();
        while ticker.ticks() <= after {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the epoch did not advance while a call was running"
            );
            std::thread::sleep(EPOCH_TICK);
        }
    }

    #[test]
    fn ticks_only_while_calls_run_and_shortly_after() {
        let ticker = ticker();
        std::thread::sleep(LINGER + EPOCH_TICK * 4);
        let start = ticker.ticks();
        std::thread::sleep(EPOCH_TICK * 6);
        assert_eq!(ticker.ticks(), start, "an idle ticker advanced the epoch");

        let call = ticker.running();
        wait_for_tick(&ticker, start);
        let second = ticker.running();
        drop(call);
        let now = ticker.ticks();
        wait_for_tick(&ticker, now);
        drop(second);

        // The ticker lingers, then parks.
        std::thread::sleep(LINGER + EPOCH_TICK * 4);
        let settled = ticker.ticks();
        std::thread::sleep(EPOCH_TICK * 6);
        assert_eq!(ticker.ticks(), settled, "the epoch advanced with no call");

        let again = ticker.running();
        wait_for_tick(&ticker, settled);
        drop(again);
    }
}
