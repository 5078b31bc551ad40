//! The ticker: the clock that stops a call at its deadline.
//!
//! A thread wakes every [`TICK`] and fires the cancellation of every call
//! whose deadline has passed, whether the guest is running wasm or waiting
//! in a host call: the call's `select!` sees it at the guest's next fuel
//! yield or host-call return (see the executor), or at once when the guest
//! waits. One thread does for every call what a tokio timer per call would
//! do, without re-arming the runtime's timer wheel (and waking a parked
//! worker) on each call.
//!
//! It ticks while calls run and for [`LINGER`] after the last one (so
//! back-to-back calls never pay for waking it), then parks: an idle server
//! does not wake 200 times a second.
//!
//! The deadline follows the clock, not fuel: fuel counts work, and how long
//! a unit of work takes depends on the instruction mix (cache misses,
//! division). Fuel only paces how often a running guest looks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::engine::SandboxError;
use crate::budget::Deadline;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// How late a deadline may fire.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// How long the ticker keeps going after the last call ends.
pub(crate) const LINGER: Duration = Duration::from_millis(100);

/// The ticker thread's handle; dropping it stops the thread.
pub(crate) struct Ticker {
    shared: Arc<Shared>,
    thread: Thread,
}

struct Shared {
    /// The calls in flight.
    calls: Mutex<Calls>,
    /// Ticks so far.
    ticks: AtomicU64,
    /// Whether the thread is parked (idle, not ticking).
    parked: AtomicBool,
    stop: AtomicBool,
}

#[derive(Default)]
struct Calls {
    next_id: u64,
    /// (id, deadline, fired at the deadline), one per call in flight.
    deadlines: Vec<(u64, Deadline, CancellationToken)>,
}

/// One call in flight: keeps the ticker going while it lives and says when
/// the call's deadline has passed.
pub(crate) struct Running<'a> {
    ticker: &'a Ticker,
    id: u64,
    deadline: Deadline,
    expired: CancellationToken,
}

impl Shared {
    fn calls(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Ticker {
    /// Starts the (soon parked) ticker thread.
    pub(crate) fn start() -> Result<Ticker, SandboxError> {
        let shared = Arc::new(Shared {
            calls: Mutex::default(),
            ticks: AtomicU64::new(0),
            parked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let state = shared.clone();
        let handle = std::thread::Builder::new()
            .name("corral-ticker".into())
            .spawn(move || run(&state))
            .map_err(|e| SandboxError::Engine(format!("cannot start the ticker thread: {e}")))?;
        Ok(Ticker {
            shared,
            thread: handle.thread().clone(),
        })
    }

    /// Registers a call that must end by `deadline` (later by the time it
    /// waits for its client), until the returned guard is dropped.
    pub(crate) fn running(&self, deadline: Instant) -> Running<'_> {
        let deadline = Deadline::at(deadline);
        let expired = CancellationToken::new();
        let (id, first) = {
            let mut calls = self.shared.calls();
            let id = calls.next_id;
            calls.next_id += 1;
            let first = calls.deadlines.is_empty();
            calls
                .deadlines
                .push((id, deadline.clone(), expired.clone()));
            (id, first)
        };
        if first {
            self.thread.unpark();
        }
        Running {
            ticker: self,
            id,
            deadline,
            expired,
        }
    }

    /// How many times the thread has ticked.
    #[cfg(test)]
    fn ticks(&self) -> u64 {
        self.shared.ticks.load(Ordering::Relaxed)
    }
}

/// The ticker thread.
fn run(shared: &Shared) {
    let linger = LINGER.as_millis() / TICK.as_millis();
    let mut idle = 0;
    while !shared.stop.load(Ordering::Acquire) {
        let busy = {
            let calls = shared.calls();
            let now = Instant::now();
            for (_, deadline, expired) in &calls.deadlines {
                if deadline.passed(now) {
                    expired.cancel();
                }
            }
            !calls.deadlines.is_empty()
        };
        if busy {
            idle = 0;
        } else if idle < linger {
            idle += 1;
        } else {
            // A call that registers after the check above unparks the
            // thread; an unpark that comes first makes `park` return at
            // once, so no call is missed.
            shared.parked.store(true, Ordering::Release);
            std::thread::park();
            shared.parked.store(false, Ordering::Release);
            idle = 0;
            continue;
        }
        std::thread::sleep(TICK);
        shared.ticks.fetch_add(1, Ordering::Relaxed);
    }
}

impl Running<'_> {
    /// Completes once the call's deadline has passed (within a tick).
    pub(crate) fn expired(&self) -> WaitForCancellationFuture<'_> {
        self.expired.cancelled()
    }

    /// The token fired at the deadline, for checks that cannot await.
    pub(crate) fn token(&self) -> CancellationToken {
        self.expired.clone()
    }

    /// The call's deadline, to pause while it waits for its client.
    pub(crate) fn deadline(&self) -> &Deadline {
        &self.deadline
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut calls = self.ticker.shared.calls();
        if let Some(at) = calls.deadlines.iter().position(|(id, ..)| *id == self.id) {
            calls.deadlines.swap_remove(at);
        }
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
    use super::*;

    fn ticker() -> Ticker {
        Ticker::start().expect("the ticker thread starts")
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    /// Waits (up to a generous bound) until `done` holds.
    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(10), "{what}");
            std::thread::sleep(TICK);
        }
    }

    #[test]
    fn parks_when_no_call_runs_and_ticks_for_each_call() {
        let ticker = ticker();
        let parked = || ticker.shared.parked.load(Ordering::Acquire);
        wait_until("an idle ticker did not park", parked);

        let call = ticker.running(far());
        let start = ticker.ticks();
        wait_until("no tick while a call ran", || ticker.ticks() > start);
        let second = ticker.running(far());
        drop(call);
        let now = ticker.ticks();
        wait_until("no tick while a second call ran", || ticker.ticks() > now);
        drop(second);

        // The ticker lingers, then parks; a new call wakes it.
        wait_until("the ticker did not park after the last call", parked);
        let settled = ticker.ticks();
        let again = ticker.running(far());
        wait_until("no tick after waking up", || ticker.ticks() > settled);
        drop(again);
    }

    #[test]
    fn a_passed_deadline_fires_and_a_far_one_does_not() {
        let ticker = ticker();
        let far = ticker.running(far());
        let soon = ticker.running(Instant::now() + TICK * 2);
        wait_until("a passed deadline did not fire", || {
            soon.expired.is_cancelled()
        });
        assert!(!far.expired.is_cancelled(), "a far deadline fired");
        drop(soon);
        assert_eq!(ticker.shared.calls().deadlines.len(), 1);
        drop(far);
        assert!(ticker.shared.calls().deadlines.is_empty());
    }
}
