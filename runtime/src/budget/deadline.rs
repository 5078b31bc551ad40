//! A call's deadline, which stops while the call waits for its client.
//!
//! A tool that asks its user a question (`corral:mcp/client`) waits for a
//! human: that time is not the tool's. While a [`Paused`] guard lives, the
//! deadline does not pass; when the guard goes, the deadline moves later by
//! the time it was held. The sandbox's ticker reads it on every tick. The
//! wait has its own bound (`limits.input_timeout`), enforced by the waiter.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The deadline of one call; cheap to clone (all clones are one deadline).
#[derive(Debug, Clone)]
pub struct Deadline(Arc<Mutex<State>>);

#[derive(Debug)]
struct State {
    /// When the call must have ended, as of the last resume.
    at: Instant,
    /// Since when it is paused, and by how many guards.
    paused: Option<(Instant, u32)>,
}

/// Holds a deadline still until dropped.
#[derive(Debug)]
#[must_use = "the deadline runs again when the guard is dropped"]
pub struct Paused(Deadline);

impl Deadline {
    /// A deadline at `at`.
    pub fn at(at: Instant) -> Deadline {
        Deadline(Arc::new(Mutex::new(State { at, paused: None })))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the deadline has passed at `now` (never while paused).
    pub fn passed(&self, now: Instant) -> bool {
        let state = self.state();
        state.paused.is_none() && state.at <= now
    }

    /// Stops the deadline until the guard is dropped; guards nest.
    pub fn pause(&self) -> Paused {
        let mut state = self.state();
        state.paused = Some(match state.paused {
            Some((since, depth)) => (since, depth + 1),
            None => (Instant::now(), 1),
        });
        Paused(self.clone())
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let mut state = self.0.state();
        match state.paused {
            Some((since, depth)) if depth > 1 => state.paused = Some((since, depth - 1)),
            Some((since, _)) => {
                state.at += since.elapsed();
                state.paused = None;
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_paused_deadline_does_not_pass_and_moves_by_the_pause() {
        let start = Instant::now();
        let deadline = Deadline::at(start + Duration::from_millis(20));
        let outer = deadline.pause();
        let inner = deadline.pause();
        std::thread::sleep(Duration::from_millis(40));
        assert!(!deadline.passed(Instant::now()), "passed while paused");
        drop(inner);
        assert!(!deadline.passed(Instant::now()), "passed with a guard left");
        drop(outer);
        // At least 40 ms were paused: the deadline is now at least 60 ms
        // after the start, so it has not passed at 45 ms; it runs again.
        assert!(!deadline.passed(start + Duration::from_millis(45)));
        assert!(deadline.passed(Instant::now() + Duration::from_secs(3600)));
    }
}
