//! Which connections are open and what each is doing, oldest first.
//!
//! A connection is *waiting* (no request in progress: before its first
//! request's headers are complete, idle between requests, or with the next
//! request's headers begun) or *busy* (a request's headers were read and
//! its answer has not ended). A waiting connection has a deadline:
//! `header_read_timeout` from its opening for the first request or from the
//! next request's first byte, `idle_timeout` between requests; its
//! watchdog closes it then. Under pressure the oldest waiting connection is
//! shed; a busy one never is. A shed connection takes no request any more,
//! so a request that arrives as it is shed gets 503 rather than being lost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The connection settings of `[server.http]`.
#[derive(Clone, Copy)]
pub(super) struct Settings {
    /// `max_connections`.
    pub(super) max_connections: usize,
    /// `header_read_timeout`.
    pub(super) header_read_timeout: Duration,
    /// `idle_timeout`.
    pub(super) idle_timeout: Duration,
    /// `max_requests_per_connection`.
    pub(super) max_requests: u32,
}

/// What a connection is doing.
#[derive(Clone, Copy)]
enum Phase {
    /// No request in progress since `since`; `first_byte` is when the next
    /// request's first byte arrived, if it did.
    Waiting {
        since: Instant,
        first_byte: Option<Instant>,
    },
    /// This many requests are being answered.
    Busy(u32),
    /// Closed to make room; it takes no request any more.
    Shed,
}

/// One open connection.
pub(super) struct Conn {
    pub(super) id: u64,
    phase: Mutex<Phase>,
    /// Set while waiting with no byte of the next request yet: the reader
    /// then records the first byte's time.
    awaiting_byte: AtomicBool,
    /// Requests begun on this connection.
    served: AtomicU32,
    /// Woken when the phase changes.
    changed: Notify,
}

/// What the watchdog should do about a connection.
enum Verdict {
    Keep,
    Until(Instant),
    Close,
}

impl Conn {
    fn new(id: u64) -> Conn {
        Conn {
            id,
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                first_byte: None,
            }),
            awaiting_byte: AtomicBool::new(true),
            served: AtomicU32::new(0),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request's headers were read: the connection is busy. `None` if it
    /// was shed; otherwise how many requests it has begun, this one included.
    pub(super) fn begin_request(&self) -> Option<u32> {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Shed => return None,
            Phase::Waiting { .. } => Phase::Busy(1),
            Phase::Busy(n) => Phase::Busy(n.saturating_add(1)),
        };
        self.awaiting_byte.store(false, Ordering::Relaxed);
        Some(
            self.served
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1),
        )
    }

    /// A request's answer ended (or was dropped).
    pub(super) fn end_request(&self) {
        let mut phase = self.phase();
        if let Phase::Busy(n) = *phase {
            *phase = if n > 1 {
                Phase::Busy(n - 1)
            } else {
                self.awaiting_byte.store(true, Ordering::Relaxed);
                Phase::Waiting {
                    since: Instant::now(),
                    first_byte: None,
                }
            };
        }
        drop(phase);
        self.changed.notify_one();
    }

    /// Bytes arrived; the first one after a request begins the header clock.
    pub(super) fn saw_bytes(&self) {
        if !self.awaiting_byte.swap(false, Ordering::Relaxed) {
            return;
        }
        if let Phase::Waiting { first_byte, .. } = &mut *self.phase() {
            first_byte.get_or_insert_with(Instant::now);
        }
        self.changed.notify_one();
    }

    /// Closes the connection to make room, if no request is in progress.
    fn shed(&self) -> bool {
        let mut phase = self.phase();
        if !matches!(*phase, Phase::Waiting { .. }) {
            return false;
        }
        *phase = Phase::Shed;
        drop(phase);
        self.changed.notify_one();
        true
    }

    /// Closes the connection if it has served a request and nothing of the
    /// next one has arrived.
    fn shed_if_idle(&self) {
        let mut phase = self.phase();
        if matches!(
            *phase,
            Phase::Waiting {
                first_byte: None,
                ..
            }
        ) && self.served.load(Ordering::Relaxed) > 0
        {
            *phase = Phase::Shed;
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// What to do about the connection at `now`.
    fn verdict(&self, settings: &Settings, now: Instant) -> Verdict {
        let deadline = match *self.phase() {
            Phase::Shed => return Verdict::Close,
            Phase::Busy(_) => return Verdict::Keep,
            Phase::Waiting {
                first_byte: Some(first),
                ..
            } => first + settings.header_read_timeout,
            Phase::Waiting { since, .. } if self.served.load(Ordering::Relaxed) == 0 => {
                since + settings.header_read_timeout
            }
            Phase::Waiting { since, .. } => since + settings.idle_timeout,
        };
        if deadline <= now {
            Verdict::Close
        } else {
            Verdict::Until(deadline)
        }
    }

    /// Returns when the connection must close: shed, or a timeout passed.
    pub(super) async fn watch(&self, settings: &Settings) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.verdict(settings, Instant::now()) {
                Verdict::Close => return,
                Verdict::Keep => changed.await,
                Verdict::Until(deadline) => {
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
            }
        }
    }
}

/// Ends a request on its connection when the answer ends.
pub(super) struct OnConnection(pub(super) Arc<Conn>);

impl Drop for OnConnection {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// The open connections, oldest first.
#[derive(Default)]
pub(super) struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    /// Woken when a connection closes and frees its descriptor.
    pub(super) closed: Notify,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn add(&self) -> Arc<Conn> {
        let conn = Arc::new(Conn::new(self.next.fetch_add(1, Ordering::Relaxed)));
        self.lock().insert(conn.id, conn.clone());
        conn
    }

    pub(super) fn remove(&self, id: u64) {
        self.lock().remove(&id);
        self.closed.notify_one();
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Sheds the oldest connection not inside a request; false if every
    /// connection is busy.
    pub(super) fn shed_oldest(&self) -> bool {
        self.lock().values().any(|conn| conn.shed())
    }

    /// Sheds every connection not inside a request.
    pub(super) fn shed_all(&self) {
        for conn in self.lock().values() {
            conn.shed();
        }
    }

    /// Sheds every kept-alive connection waiting between requests with no
    /// byte of a next one.
    pub(super) fn shed_idle(&self) {
        for conn in self.lock().values() {
            conn.shed_if_idle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            max_connections: 4,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_requests: 3,
        }
    }

    /// The deadline a verdict names, if any.
    fn deadline(verdict: Verdict) -> Option<Instant> {
        match verdict {
            Verdict::Until(deadline) => Some(deadline),
            Verdict::Keep | Verdict::Close => None,
        }
    }

    #[test]
    fn timeouts_follow_the_phase() {
        let s = settings();
        let before = Instant::now();
        let conn = Conn::new(0);
        // First request: the header timeout from the opening.
        let first = deadline(conn.verdict(&s, before)).unwrap();
        assert!(first >= before + s.header_read_timeout);
        assert!(first <= Instant::now() + s.header_read_timeout);
        assert!(matches!(conn.verdict(&s, first), Verdict::Close));
        // Inside a request: no deadline at all.
        assert_eq!(conn.begin_request(), Some(1));
        assert!(matches!(
            conn.verdict(&s, first + s.idle_timeout),
            Verdict::Keep
        ));
        // Between requests: the idle timeout, until a byte arrives.
        conn.end_request();
        let idle = deadline(conn.verdict(&s, Instant::now())).unwrap();
        assert!(idle >= first - s.header_read_timeout + s.idle_timeout);
        conn.saw_bytes();
        let header = deadline(conn.verdict(&s, Instant::now())).unwrap();
        assert!(
            header < idle,
            "the first byte starts the shorter header clock"
        );
        assert!(matches!(conn.verdict(&s, header), Verdict::Close));
    }

    #[test]
    fn only_connections_outside_a_request_are_shed_oldest_first() {
        let registry = Registry::default();
        let busy = registry.add();
        let idle = registry.add();
        let newest = registry.add();
        assert_eq!(busy.begin_request(), Some(1));
        assert!(registry.shed_oldest());
        assert!(matches!(*idle.phase(), Phase::Shed));
        assert!(matches!(*newest.phase(), Phase::Waiting { .. }));
        assert_eq!(
            idle.begin_request(),
            None,
            "a shed connection takes no request"
        );
        assert!(registry.shed_oldest());
        assert!(!registry.shed_oldest(), "the busy one stays");
        busy.end_request();
        assert!(registry.shed_oldest());
    }
}
