//! The refusals of one call: what the guest tried without a grant.
//!
//! A guest can be refused a million times in one call; the log must not
//! get a million lines, nor the answer a million notes. Each distinct
//! refusal is kept once with a count (at most [`DISTINCT`] of them, the
//! rest only counted), and the executor logs one summary line per distinct
//! refusal when the call ends.

use std::sync::{Arc, Mutex, MutexGuard};

/// Distinct refusals kept per call.
pub(super) const DISTINCT: usize = 16;

/// The refusals of one call; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Denials(Arc<Mutex<Record>>);

#[derive(Debug, Default)]
struct Record {
    distinct: Vec<(String, u64)>,
    others: u64,
}

impl Denials {
    fn record(&self) -> MutexGuard<'_, Record> {
        // A poisoned lock only means a writer panicked mid-update; the
        // counts are still the best record there is.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one refusal, in the words the answer will use.
    pub fn deny(&self, message: String) {
        let mut record = self.record();
        if let Some((_, count)) = record.distinct.iter_mut().find(|(m, _)| *m == message) {
            *count += 1;
        } else if record.distinct.len() < DISTINCT {
            record.distinct.push((message, 1));
        } else {
            record.others += 1;
        }
    }

    /// The distinct refusals, each once, in the order they happened.
    pub fn list(&self) -> Vec<String> {
        self.record()
            .distinct
            .iter()
            .map(|(m, _)| m.clone())
            .collect()
    }

    /// Each distinct refusal with how often it happened, and how many
    /// refusals were past the distinct ones kept.
    pub fn summary(&self) -> (Vec<(String, u64)>, u64) {
        let record = self.record();
        (record.distinct.clone(), record.others)
    }
}

/// The network refusal message, shared by sockets and HTTP.
pub(super) fn network_denied(component: &str, target: &str) -> String {
    format!(
        "network access to {target} denied: not granted to component {component:?} \
         (add it to components.{component}.network.allow)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_not_kept() {
        let denials = Denials::default();
        for _ in 0..1000 {
            denials.deny("same".into());
        }
        for i in 0..100 {
            denials.deny(format!("other {i}"));
        }
        let (distinct, others) = denials.summary();
        assert_eq!(distinct.len(), DISTINCT);
        assert_eq!(distinct[0], ("same".to_owned(), 1000));
        assert_eq!(others, 100 - (DISTINCT as u64 - 1));
    }
}
