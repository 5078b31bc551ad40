//! A running guest's fuel yields, served where they happen.
//!
//! wasmtime suspends a guest every [`YIELD_FUEL`](super::executor) units of
//! fuel by waking its own task and returning `Pending`. Handed to tokio,
//! each such yield is a trip through the scheduler, which now and then
//! wakes an idle worker to steal the task: measured at about 3.7 µs a yield
//! on a 2-core AMD EPYC VM, 15 % of a heavy call (bench/RESULTS.md).
//!
//! [`InPlace`] polls the guest again at once when it woke itself during the
//! poll. Nothing a yield is for is lost: the store's call hook checks the
//! deadline on every resume, as before; a call whose deadline passed or
//! whose client cancelled is handed back to tokio at its next yield, where
//! the executor's `select!` ends it; so is a host call that used up the
//! task's tokio budget (tokio renews it only between polls of the task);
//! and the worker goes back to tokio at least every [`SLICE`], so the other
//! tasks it holds still run.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;

/// The longest a guest keeps its worker between two returns to tokio.
pub(crate) const SLICE: Duration = Duration::from_millis(1);

/// Not being polled: a wake goes to the task.
const IDLE: u8 = 0;
/// Being polled: a wake is noted, and the poll goes on.
const POLLING: u8 = 1;
/// Woken while being polled.
const WOKEN: u8 = 2;

/// The waker the guest's future sees.
struct Shared {
    state: AtomicU8,
    task: AtomicWaker,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        match self
            .state
            .compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) | Err(WOKEN) => {}
            Err(_) => self.task.wake(),
        }
    }
}

/// `inner`, whose self-wakes (fuel yields) are served in place until
/// `stop` says the call must end or [`SLICE`] has passed.
pub(crate) struct InPlace<F, S> {
    inner: F,
    stop: S,
    shared: Arc<Shared>,
    waker: Waker,
}

impl<F, S> InPlace<F, S> {
    /// Wraps `inner`; `stop` is asked at each yield whether the call must
    /// go back to tokio now (its deadline passed, it was cancelled).
    pub(crate) fn new(inner: F, stop: S) -> InPlace<F, S> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(shared.clone());
        InPlace {
            inner,
            stop,
            shared,
            waker,
        }
    }
}

impl<F: Future + Unpin, S: Fn() -> bool + Unpin> Future for InPlace<F, S> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        this.shared.task.register(cx.waker());
        let mut inner_cx = Context::from_waker(&this.waker);
        let mut started = None;
        loop {
            this.shared.state.store(POLLING, Ordering::Release);
            if let Poll::Ready(output) = Pin::new(&mut this.inner).poll(&mut inner_cx) {
                this.shared.state.store(IDLE, Ordering::Release);
                return Poll::Ready(output);
            }
            if this
                .shared
                .state
                .compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // Waiting for something outside: its wake reaches the task.
                return Poll::Pending;
            }
            // It woke itself: a fuel yield, or a tokio resource whose task
            // has used up its budget (only a return to tokio renews that).
            let since = *started.get_or_insert_with(Instant::now);
            if (this.stop)()
                || !tokio::task::coop::has_budget_remaining()
                || since.elapsed() >= SLICE
            {
                this.shared.state.store(IDLE, Ordering::Release);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Yields (wakes itself and returns `Pending`) `n` times, then is ready.
    struct Yields {
        left: usize,
        polls: Arc<AtomicUsize>,
    }

    impl Future for Yields {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.left == 0 {
                return Poll::Ready(());
            }
            self.left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Counts the task's wakes.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Polls, once, a future that yields 50 times under `stop`: whether it
    /// finished, how often the inner future was polled, how often the task
    /// was woken.
    fn poll_once(stop: fn() -> bool) -> (bool, usize, usize) {
        let polls = Arc::new(AtomicUsize::new(0));
        let inner = Yields {
            left: 50,
            polls: polls.clone(),
        };
        let mut future = InPlace::new(inner, stop);
        let task = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        let ready = Pin::new(&mut future)
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        (
            ready,
            polls.load(Ordering::Relaxed),
            task.0.load(Ordering::Relaxed),
        )
    }

    #[test]
    fn yields_are_served_in_place() {
        let (ready, polls, wakes) = poll_once(|| false);
        assert!(ready);
        assert_eq!(polls, 51);
        assert_eq!(wakes, 0, "no trip through the task");
    }

    #[test]
    fn a_stop_hands_the_call_back_at_the_next_yield() {
        let (ready, polls, wakes) = poll_once(|| true);
        assert!(!ready);
        assert_eq!(polls, 1);
        assert_eq!(wakes, 1, "woken to run again");
    }

    /// Does one unit of tokio-budgeted work a poll and wakes itself, like a
    /// guest that calls the host in a loop; with the task's budget spent it
    /// only wakes itself, as a resource that does not defer its wake.
    struct Spends {
        left: usize,
        polls: Arc<AtomicUsize>,
    }

    impl Future for Spends {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.left == 0 {
                return Poll::Ready(());
            }
            if tokio::task::coop::has_budget_remaining()
                && std::pin::pin!(tokio::task::coop::consume_budget())
                    .poll(cx)
                    .is_ready()
            {
                self.left -= 1;
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_spent_tokio_budget_goes_back_to_tokio_at_once() {
        let polls = Arc::new(AtomicUsize::new(0));
        let inner = Spends {
            left: 1000,
            polls: polls.clone(),
        };
        tokio::spawn(InPlace::new(inner, || false)).await.ok();
        // One poll per unit, and one more each time the budget (128 units)
        // runs out; served in place, a spent budget would be polled again
        // and again for a whole slice.
        assert!(polls.load(Ordering::Relaxed) < 1100, "{polls:?}");
    }

    #[tokio::test]
    async fn a_wake_from_outside_reaches_the_task() {
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let future = InPlace::new(Box::pin(rx), || false);
        let waiting = tokio::spawn(future);
        tokio::task::yield_now().await;
        tx.send(7).ok();
        assert_eq!(waiting.await.ok().and_then(Result::ok), Some(7));
    }
}
