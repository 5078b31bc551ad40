//! Call slots, taken before a call's arguments are decoded.
//!
//! The sandbox runs at most `server.max_concurrent_calls` calls at once and
//! makes the others wait. Decoding arguments into WIT values before waiting
//! would let every waiting call hold its decoded arguments (several times
//! the size of its JSON) for as long as it waits; taking a slot here first
//! means a waiting call holds only the request it came in. There are as
//! many slots here as in the sandbox, so a call that holds one finds the
//! sandbox's free at once.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::metrics::{Held, OpenGauges};
use crate::sandbox::CallError;

/// The call slots of one server.
pub(crate) struct CallSlots {
    permits: Semaphore,
    slots: u32,
    queue_timeout: Duration,
}

/// A slot held by one call, until dropped.
pub(crate) struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
    _running: Held,
}

impl CallSlots {
    /// `slots` slots; a call waits at most `queue_timeout` for one.
    pub(crate) fn new(slots: u32, queue_timeout: Duration) -> CallSlots {
        let slots = slots.max(1);
        CallSlots {
            permits: Semaphore::new(slots as usize),
            slots,
            queue_timeout,
        }
    }

    /// Waits for a free slot: fails as busy after the queue timeout, or as
    /// cancelled when `cancel` fires first.
    pub(crate) async fn acquire(
        &self,
        cancel: &CancellationToken,
        gauges: &OpenGauges,
    ) -> Result<Slot<'_>, CallError> {
        let waiting = Held::new(&gauges.calls_waiting);
        let permit = tokio::select! {
            permit = tokio::time::timeout(self.queue_timeout, self.permits.acquire()) => match permit {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) | Err(_) => {
                    return Err(CallError::Busy {
                        slots: self.slots,
                        waited: self.queue_timeout,
                    });
                }
            },
            () = cancel.cancelled() => return Err(CallError::Cancelled),
        };
        drop(waiting);
        Ok(Slot {
            _permit: permit,
            _running: Held::new(&gauges.calls_running),
        })
    }
}
