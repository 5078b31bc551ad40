//! The process's descriptor limit against what the configuration may hold
//! open at once.
//!
//! Each call may open up to its component's `limits.descriptors`, each HTTP
//! connection holds one, and the server keeps some for itself (listener,
//! preopened directories, cache, logs). When those together can exceed the
//! process's limit, one hostile tool in many parallel calls could take the
//! descriptors other calls and new connections need. At start the soft
//! limit is raised to the hard one, and what is left short is reported.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors the server keeps for itself besides preopened directories:
/// the listener, the runtime's own, the cache, logs and slack.
const RESERVE: u64 = 64;

/// What a configuration may hold open at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DescriptorNeeds {
    /// `server.max_concurrent_calls`.
    pub calls: u64,
    /// The largest `limits.descriptors` of any component.
    pub per_call: u64,
    /// Directories opened at start and held for the process's life.
    pub preopens: u64,
    /// `server.http.max_connections`, or 0 over stdio.
    pub connections: u64,
}

impl DescriptorNeeds {
    /// Descriptors needed at most, the server's reserve included.
    pub fn total(&self) -> u64 {
        self.calls
            .saturating_mul(self.per_call)
            .saturating_add(self.preopens)
            .saturating_add(self.connections)
            .saturating_add(RESERVE)
    }

    /// When `limit` may be too low, what to change, in words an operator
    /// acts on; `None` when everything fits.
    pub fn shortfall(&self, limit: u64) -> Option<String> {
        let total = self.total();
        (total > limit).then(|| {
            format!(
                "this configuration may hold {total} file descriptors at once \
                 ({} calls × {} descriptors, {} connections, {} directories, {RESERVE} for the server) \
                 but the process may open {limit}: raise `ulimit -n` (the hard limit), or lower \
                 server.max_concurrent_calls, limits.descriptors or server.http.max_connections; \
                 until then a tool that opens many files can make other calls fail",
                self.calls, self.per_call, self.connections, self.preopens
            )
        })
    }
}

/// Raises the soft descriptor limit to the hard one; returns the limit in
/// force afterwards (`None` when it is unlimited or cannot be read).
pub fn raise_descriptor_limit() -> Option<u64> {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    if current != maximum
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: maximum,
                maximum,
            },
        )
        .is_ok()
    {
        return maximum;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_needs_add_up_and_a_shortfall_names_the_keys() {
        let needs = DescriptorNeeds {
            calls: 64,
            per_call: 64,
            preopens: 2,
            connections: 1024,
        };
        assert_eq!(needs.total(), 64 * 64 + 2 + 1024 + RESERVE);
        assert!(needs.shortfall(1 << 20).is_none());
        let message = needs.shortfall(1024).unwrap();
        assert!(message.contains("ulimit -n"), "{message}");
        assert!(message.contains("server.max_concurrent_calls"), "{message}");
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let limit = raise_descriptor_limit();
        let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
        assert_eq!(current, maximum);
        assert_eq!(limit, current);
    }
}
