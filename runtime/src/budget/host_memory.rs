//! Host memory held for a call, counted by the process's allocator.
//!
//! A guest can make the host allocate through any interface it is linked
//! to: a `wasi:http` header map, a buffered stream, a copy of a string it
//! passes, the values its result lifts into. None of it lives in the
//! guest's linear memory, so no `ResourceLimiter` sees it. Rather than
//! bound each interface's objects one by one (and miss the next one), the
//! [`CountingAllocator`] charges every allocation made while a call's
//! future is being polled to that call's [`HostMemory`]: the guest's wasm
//! and the host functions it calls run inside that poll, on that thread.
//! Frees made there are credited back. The store checks the account each
//! time a host function returns to the guest, so a call that went over is
//! stopped right after the host function that allocated returns.
//!
//! What runs elsewhere (a blocking file read on tokio's blocking pool, an
//! HTTP connection's own task) is not charged here; those buffers are
//! bounded by the streams that own them.
//!
//! The allocator only counts when the binary installs it
//! (`#[global_allocator]`); without it (unit tests, embedders) every count
//! stays zero and the budget never trips. It allocates through mimalloc,
//! set up for a long-running server (see [`CountingAllocator`]).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use mimalloc::MiMalloc;

thread_local! {
    /// The account charged by allocations on this thread, or null.
    static CHARGED: Cell<*const HostMemory> = const { Cell::new(std::ptr::null()) };
}

/// mimalloc, counting what calls allocate.
///
/// mimalloc rather than the C library's allocator: a call's allocations are
/// made on one tokio worker and often freed on another, which glibc's
/// per-thread arenas serve slowly (about 16 % of the server's CPU under
/// concurrent HTTP calls went to `malloc`, `free` and `malloc_consolidate`;
/// bench/RESULTS.md).
///
/// Install it in a binary with
/// `#[global_allocator] static ALLOC: CountingAllocator = CountingAllocator;`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

fn charge(delta: i64) {
    // `try_with` never fails for a const-initialised cell without a
    // destructor, and the allocator must never panic.
    let _ = CHARGED.try_with(|cell| {
        let account = cell.get();
        if !account.is_null() {
            // SAFETY: the pointer is set only by `Charging`, which holds a
            // reference to the account for as long as it is set.
            let account = unsafe { &*account };
            let before = account.used.fetch_add(delta, Ordering::Relaxed);
            // The peak is kept to the mebibyte: one more atomic operation
            // only when the count crosses a mebibyte boundary.
            let after = before.saturating_add(delta);
            if delta > 0 && (after >> 20) != (before >> 20) {
                account.peak.fetch_max(after, Ordering::Relaxed);
            }
        }
    });
}

fn signed(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

/// mimalloc 3's `mi_option_arena_eager_commit` (`mimalloc.h`; the crate
/// exports no constant for it).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Whether [`configure`] has run.
static CONFIGURED: AtomicBool = AtomicBool::new(false);

/// Sets mimalloc up for a long-running server before its first
/// allocation, which happens before `main`: arenas are committed as they
/// are used rather than whole, so that what the server frees leaves its
/// resident memory (with eager commit an idle server with 20 components
/// stayed at 57 MiB resident, against 25 MiB; bench/RESULTS.md).
#[inline]
fn configure() {
    if !CONFIGURED.load(Ordering::Relaxed) {
        configure_now();
    }
}

/// The first allocation's part of [`configure`].
#[cold]
fn configure_now() {
    // SAFETY: `mi_option_set` only records the option (setting it twice,
    // from two threads, is harmless); mimalloc reads it when it reserves
    // an arena.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
    CONFIGURED.store(true, Ordering::Relaxed);
}

// SAFETY: every method forwards to `MiMalloc` with the same arguments and
// only adds a counter update that neither allocates nor panics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        configure();
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { MiMalloc.alloc(layout) };
        if !ptr.is_null() {
            charge(signed(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        configure();
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !ptr.is_null() {
            charge(signed(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { MiMalloc.dealloc(ptr, layout) };
        charge(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        configure();
        // SAFETY: forwarded unchanged.
        let new = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            charge(signed(new_size) - signed(layout.size()));
        }
        new
    }
}

/// The host memory one call holds, and its limit.
pub struct HostMemory {
    used: AtomicI64,
    peak: AtomicI64,
    limit: u64,
}

impl std::fmt::Debug for HostMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostMemory")
            .field("used", &self.used())
            .field("limit", &self.limit)
            .finish()
    }
}

impl HostMemory {
    /// An empty account allowing `limit` bytes.
    pub fn new(limit: u64) -> HostMemory {
        HostMemory {
            used: AtomicI64::new(0),
            peak: AtomicI64::new(0),
            limit,
        }
    }

    /// Bytes charged so far (allocations minus frees, never below zero).
    pub fn used(&self) -> u64 {
        u64::try_from(self.used.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// The budget in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether the call holds more than its budget.
    pub fn exceeded(&self) -> bool {
        self.used() > self.limit
    }

    /// The most bytes the call held at once (sampled when it went over a
    /// mebibyte boundary).
    pub fn peak(&self) -> u64 {
        u64::try_from(self.peak.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Runs `work` on this thread, charging what it allocates to this
    /// account (for host work done for the call after it returned, such as
    /// encoding its result).
    pub fn charge_while<R>(&self, work: impl FnOnce() -> R) -> R {
        let _charging = Charging::enter(self);
        work()
    }
}

/// Host memory a call must have held for [`return_to_system`] to trim.
const TRIM_AFTER: u64 = 4 * 1024 * 1024;

/// Gives memory freed after a call that held a lot of it back to the
/// system: the allocator keeps freed blocks for reuse, so without this a
/// call that held its whole budget for a moment would leave the server's
/// resident size that much larger for good. `peak` is the call's
/// [`HostMemory::peak`]; small calls cost nothing here.
pub fn return_to_system(peak: u64) {
    if peak >= TRIM_AFTER {
        release_free_memory();
    }
}

/// Returns the memory the allocator holds free to the system now, rather
/// than when later allocations get round to it: after loading (compiling
/// and reading components frees tens of MiB that an idle server would
/// otherwise keep resident) and after a call that held a lot.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` only returns free memory to the system; it has
    // no preconditions.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Sets the thread's charged account for as long as it lives, and restores
/// the previous one after (polls can nest: a call polled inside another
/// task's poll charges only the innermost call).
struct Charging {
    previous: *const HostMemory,
}

impl Charging {
    fn enter(account: &HostMemory) -> Charging {
        let previous = CHARGED.with(|cell| cell.replace(account));
        Charging { previous }
    }
}

impl Drop for Charging {
    fn drop(&mut self) {
        CHARGED.with(|cell| cell.set(self.previous));
    }
}

/// Runs `future`, charging what it allocates while polled to `account`.
pub async fn charged<F: Future>(account: &HostMemory, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let _charging = Charging::enter(account);
        future.as_mut().poll(cx)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_charged_only_while_polled() {
        let account = HostMemory::new(10);
        assert_eq!(account.used(), 0);
        // Without the counting allocator installed, nothing is charged,
        // and the guard still restores the thread's previous account.
        let kept = futures::executor::block_on(charged(&account, async { vec![0u8; 1024] }));
        assert_eq!(kept.len(), 1024);
        assert!(CHARGED.with(Cell::get).is_null());
        charge(64);
        assert_eq!(account.used(), 0, "no account is set outside a poll");
        {
            let _charging = Charging::enter(&account);
            charge(64);
            charge(-16);
        }
        assert_eq!(account.used(), 48);
        assert!(account.exceeded());
    }
}
