//! The guest's linear memory (and table) limiter.
//!
//! wasmtime's own `StoreLimits` refuses a `memory.grow` silently, and a Rust
//! guest then aborts with the same trap as a panic. This limiter records the
//! refusal, so the executor can say "memory limit reached" instead.

use wasmtime::ResourceLimiter;

/// Table elements a call may hold (function references; generous for any
/// real guest, small enough to bound host memory).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Counts the linear memory of one store against its limit.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
    used: usize,
    peak: usize,
    refused: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes of linear memory, all memories together.
    pub fn new(limit: u64) -> Self {
        MemoryLimiter {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            used: 0,
            peak: 0,
            refused: false,
        }
    }

    /// Whether a growth was refused because of the limit.
    pub fn refused(&self) -> bool {
        self.refused
    }

    /// The most linear memory the call held at once, in bytes.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_sub(current).saturating_add(desired);
        if total > self.limit {
            self.refused = true;
            return Ok(false);
        }
        self.used = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_beyond_the_limit_is_refused_and_remembered() {
        let mut limiter = MemoryLimiter::new(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.memory_growing(0, 30, None).unwrap());
        assert!(!limiter.refused());
        assert!(!limiter.memory_growing(60, 80, None).unwrap());
        assert!(limiter.refused());
        assert_eq!(limiter.peak(), 90);
    }
}
